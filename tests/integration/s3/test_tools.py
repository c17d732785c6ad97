"""Third-party S3 clients from Debian: s3cmd (SigV4 and SigV2) and rclone (provider Other),
their basic use against the server: make a bucket, put (single and multipart), list, get back
the same bytes, sync a small tree both ways, delete, remove the bucket."""
import filecmp
import json
import os
import shutil
import subprocess
import urllib.request

import pytest

pytestmark = pytest.mark.skipif(not (shutil.which("s3cmd") and shutil.which("rclone")),
                                reason="s3cmd and rclone come from tools/deps.sh")


def clean_env():
    # AWS_* (AWS_CA_BUNDLE in particular: rclone's SDK refuses a CA bundle on plain http)
    # and the user's own tool configs must not leak into the run
    return {k: v for k, v in os.environ.items()
            if not k.startswith(("AWS_", "RCLONE_", "S3CMD_"))}


def make_tree(root):
    files = {"top.txt": b"top level\n", "a/one.bin": os.urandom(70000),
             "a/b/two.txt": b"x" * 1000, "a/b/c/empty": b"",
             "with space/n\u00e4me.txt": b"unicode name\n"}
    for rel, data in files.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(data)
    return files


def same_tree(a, b):
    cmp = filecmp.dircmp(a, b)

    def walk(c):
        assert not c.left_only and not c.right_only and not c.diff_files, (
            c.left_only, c.right_only, c.diff_files)
        for sub in c.subdirs.values():
            walk(sub)
    walk(cmp)


# ---------------------------------------------------------------- s3cmd

@pytest.mark.parametrize("sigv2", [False, True])
def test_s3cmd(nimbus, tmp_path, sigv2):
    cfg = tmp_path / "s3cfg"
    hostport = "%s:%d" % (nimbus.host, nimbus.port)
    cfg.write_text("\n".join([
        "[default]", "access_key = test", "secret_key = test",
        "host_base = " + hostport, "host_bucket = " + hostport,
        "use_https = False", "signature_v2 = %s" % sigv2, "bucket_location = us-east-1",
        "multipart_chunk_size_mb = 5", "progress_meter = False", ""]))
    env = clean_env()
    env["HOME"] = str(tmp_path)

    def s3cmd(*args, check=True):
        p = subprocess.run(["s3cmd", "-c", str(cfg)] + list(args), capture_output=True,
                           text=True, env=env, timeout=300)
        if check:
            assert p.returncode == 0, (args, p.stdout, p.stderr)
        return p

    b = "s3cmd-v2" if sigv2 else "s3cmd-v4"
    s3cmd("mb", "s3://" + b)
    assert "s3://" + b in s3cmd("ls").stdout
    small = tmp_path / "small.txt"
    small.write_bytes(b"hello from s3cmd\n")
    big = tmp_path / "big.bin"
    big.write_bytes(os.urandom(12 << 20))  # 3 parts of 5 MiB
    s3cmd("put", str(small), "s3://%s/docs/small.txt" % b)
    s3cmd("put", str(big), "s3://%s/big.bin" % b)
    out = s3cmd("ls", "-r", "s3://" + b).stdout
    assert "s3://%s/docs/small.txt" % b in out and "s3://%s/big.bin" % b in out
    assert str(12 << 20) in out
    # directory-style listing: common prefixes
    assert "DIR" in s3cmd("ls", "s3://%s/" % b).stdout
    info = s3cmd("info", "s3://%s/big.bin" % b).stdout
    assert "File size: %d" % (12 << 20) in info
    got = tmp_path / "got.bin"
    s3cmd("get", "s3://%s/big.bin" % b, str(got))
    assert got.read_bytes() == big.read_bytes()
    s3cmd("get", "s3://%s/docs/small.txt" % b, str(tmp_path / "small.back"))
    assert (tmp_path / "small.back").read_bytes() == small.read_bytes()

    tree = tmp_path / "tree"
    make_tree(tree)
    s3cmd("sync", str(tree) + "/", "s3://%s/tree/" % b)
    down = tmp_path / "down"
    s3cmd("sync", "s3://%s/tree/" % b, str(down) + "/")
    same_tree(tree, down)
    # a change syncs, a deletion with --delete-removed too
    (tree / "top.txt").write_bytes(b"changed\n")
    (tree / "a" / "one.bin").unlink()
    s3cmd("sync", "--delete-removed", str(tree) + "/", "s3://%s/tree/" % b)
    out = s3cmd("ls", "-r", "s3://%s/tree/" % b).stdout
    assert "a/one.bin" not in out
    s3cmd("get", "--force", "s3://%s/tree/top.txt" % b, str(tmp_path / "top.back"))
    assert (tmp_path / "top.back").read_bytes() == b"changed\n"

    # server-side copy and move, usage, metadata change, a presigned URL
    s3cmd("cp", "s3://%s/docs/small.txt" % b, "s3://%s/docs/copy.txt" % b)
    s3cmd("mv", "s3://%s/docs/copy.txt" % b, "s3://%s/docs/moved.txt" % b)
    out = s3cmd("ls", "s3://%s/docs/" % b).stdout
    assert "moved.txt" in out and "copy.txt" not in out
    sizes = [int(line.split()[2]) for line in s3cmd("ls", "-r", "s3://" + b).stdout.splitlines()]
    assert s3cmd("du", "s3://" + b).stdout.split()[:3] == [str(sum(sizes)), str(len(sizes)),
                                                            "objects"]
    s3cmd("modify", "--add-header=Cache-Control: max-age=3", "s3://%s/docs/moved.txt" % b)
    url = s3cmd("signurl", "s3://%s/docs/moved.txt" % b, "+120").stdout.strip().splitlines()[-1]
    with urllib.request.urlopen(url, timeout=30) as r:
        assert r.read() == small.read_bytes()
        assert r.headers["Cache-Control"] == "max-age=3"

    s3cmd("del", "s3://%s/big.bin" % b)
    assert "big.bin" not in s3cmd("ls", "-r", "s3://" + b).stdout
    p = s3cmd("rb", "s3://" + b, check=False)
    assert p.returncode != 0 and "BucketNotEmpty" in p.stderr
    s3cmd("del", "--recursive", "--force", "s3://" + b)
    s3cmd("rb", "s3://" + b)
    assert "s3://" + b not in s3cmd("ls").stdout


# ---------------------------------------------------------------- rclone

def test_rclone(nimbus, tmp_path):
    env = clean_env()
    env.update({"RCLONE_CONFIG": str(tmp_path / "rclone.conf"),
                "RCLONE_CONFIG_NB_TYPE": "s3", "RCLONE_CONFIG_NB_PROVIDER": "Other",
                "RCLONE_CONFIG_NB_ENDPOINT": nimbus.endpoint,
                "RCLONE_CONFIG_NB_ACCESS_KEY_ID": "test",
                "RCLONE_CONFIG_NB_SECRET_ACCESS_KEY": "test",
                "RCLONE_CONFIG_NB_REGION": "us-east-1",
                # multipart from 5 MiB, so the 12 MiB file goes up in parts
                "RCLONE_CONFIG_NB_UPLOAD_CUTOFF": "5M", "RCLONE_CONFIG_NB_CHUNK_SIZE": "5M",
                "HOME": str(tmp_path)})
    (tmp_path / "rclone.conf").write_text("")

    def rclone(*args, check=True):
        p = subprocess.run(["rclone"] + list(args), capture_output=True, text=True, env=env,
                           timeout=300)
        if check:
            assert p.returncode == 0, (args, p.stdout, p.stderr)
        return p

    rclone("mkdir", "nb:rclone-b")
    assert "rclone-b" in rclone("lsd", "nb:").stdout
    big = tmp_path / "big.bin"
    big.write_bytes(os.urandom(12 << 20))
    rclone("copyto", str(big), "nb:rclone-b/dir/big.bin")
    out = rclone("ls", "nb:rclone-b").stdout
    assert "%d dir/big.bin" % (12 << 20) in out
    back = tmp_path / "back.bin"
    rclone("copyto", "nb:rclone-b/dir/big.bin", str(back))
    assert back.read_bytes() == big.read_bytes()
    # rclone verifies multipart uploads by its own md5 metadata; check it sees it
    assert rclone("md5sum", "nb:rclone-b/dir/big.bin").stdout.split()[0] == \
        __import__("hashlib").md5(big.read_bytes()).hexdigest()

    tree = tmp_path / "tree"
    make_tree(tree)
    rclone("sync", str(tree), "nb:rclone-b/tree")
    down = tmp_path / "down"
    rclone("sync", "nb:rclone-b/tree", str(down))
    # rclone does not make empty directories on object stores; every file must be there
    same_tree(tree, down)
    chk = rclone("check", str(tree), "nb:rclone-b/tree")
    assert "0 differences found" in chk.stderr
    (tree / "a" / "b" / "two.txt").unlink()
    rclone("sync", str(tree), "nb:rclone-b/tree")
    assert "two.txt" not in rclone("ls", "nb:rclone-b/tree").stdout

    # server-side copy and move, listing as JSON, cat, a check that downloads
    rclone("copyto", "nb:rclone-b/tree/top.txt", "nb:rclone-b/copy.txt")
    rclone("moveto", "nb:rclone-b/copy.txt", "nb:rclone-b/moved.txt")
    listed = {e["Path"]: e for e in json.loads(rclone("lsjson", "-R", "nb:rclone-b").stdout)}
    assert "moved.txt" in listed and "copy.txt" not in listed
    assert listed["dir/big.bin"]["Size"] == 12 << 20
    assert rclone("cat", "nb:rclone-b/moved.txt").stdout == "top level\n"
    assert "0 differences found" in rclone("check", "--download", str(tree),
                                           "nb:rclone-b/tree").stderr

    rclone("delete", "nb:rclone-b/dir/big.bin")
    assert "big.bin" not in rclone("ls", "nb:rclone-b").stdout
    rclone("purge", "nb:rclone-b")
    assert "rclone-b" not in rclone("lsd", "nb:").stdout
