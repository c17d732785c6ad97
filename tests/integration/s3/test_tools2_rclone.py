"""rclone beyond basic use: lsjson --metadata, md5sum, check --checksum/--download over awkward
key names, cat --offset/--count (range GETs), multipart upload with a small cutoff and chunk
size, multipart server-side copy between buckets, settier, GLACIER and backend restore on the
region clock, mkdir/rmdir, versions on a versioned bucket (--s3-versions, backend versioning,
cleanup-hidden), pending multipart uploads (backend list-multipart-uploads/cleanup), and
virtual-hosted style through a forward proxy."""
import hashlib
import json
import os
import time

import pytest

from conftest import client
from toolutil import AWKWARD, Rclone, advance_clock, make_tree, need_tools, read_tree
from toolutil import vhost_proxy  # noqa: F401 (fixture)

pytestmark = need_tools
MiB = 1 << 20


def lsjson(rclone, *args):
    return {e["Path"]: e for e in json.loads(rclone("lsjson", *args).stdout)}


def test_rclone_checks_ranges_multipart_tiers(nimbus, tmp_path):
    s3 = client(nimbus, "s3")
    rclone = Rclone(nimbus, tmp_path)
    rclone("mkdir", "nb:rc-a")
    rclone("mkdir", "nb:rc-b")
    tree = tmp_path / "tree"
    files = make_tree(tree)
    rclone("copy", str(tree), "nb:rc-a/t")
    listed = lsjson(rclone, "-R", "--files-only", "--metadata", "nb:rc-a/t")
    assert sorted(listed) == sorted(AWKWARD)
    e = listed[AWKWARD[0]]
    assert e["Size"] == len(files[AWKWARD[0]]) and e["Tier"] == "STANDARD"
    assert e["Metadata"]["content-type"] == "text/plain; charset=utf-8"
    mtime = os.stat(tree / AWKWARD[0]).st_mtime
    # the local mtime went up as x-amz-meta-mtime and comes back as rclone's metadata
    assert e["Metadata"]["mtime"].startswith(time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(mtime)))
    assert e["ModTime"] == e["Metadata"]["mtime"]
    sums = dict(line.split("  ", 1)[::-1] for line in
                rclone("md5sum", "nb:rc-a/t").stdout.splitlines())
    assert sums == {k: hashlib.md5(v).hexdigest() for k, v in files.items()}
    for mode in ("--checksum", "--download"):
        out = rclone("check", mode, str(tree), "nb:rc-a/t").stderr
        assert "0 differences found" in out and "%d matching files" % len(files) in out
    # a changed byte is found by both
    name = AWKWARD[3]
    s3.put_object(Bucket="rc-a", Key="t/" + name, Body=files[name].upper())
    for mode in ("--checksum", "--download"):
        r = rclone("check", mode, str(tree), "nb:rc-a/t", check=False)
        assert r.returncode != 0 and "1 differences found" in r.stderr
    s3.put_object(Bucket="rc-a", Key="t/" + name, Body=files[name])

    # range GETs
    s3.put_object(Bucket="rc-a", Key="r.txt", Body=b"0123456789abcdefghij")
    assert rclone("cat", "--offset", "5", "--count", "4", "nb:rc-a/r.txt").stdout == "5678"
    assert rclone("cat", "--offset", "15", "nb:rc-a/r.txt").stdout == "fghij"
    assert rclone("cat", "--count", "3", "nb:rc-a/r.txt").stdout == "012"
    assert rclone("cat", "--offset", "-4", "nb:rc-a/r.txt").stdout == "ghij"

    # multipart upload in 5 MiB chunks: a -2 ETag, and rclone's own md5 in metadata
    big = tmp_path / "big.bin"
    big.write_bytes(os.urandom(6 * MiB))
    md5 = hashlib.md5(big.read_bytes()).hexdigest()
    rclone("copyto", "--s3-upload-cutoff", "5M", "--s3-chunk-size", "5M", str(big),
           "nb:rc-a/big.bin")
    h = s3.head_object(Bucket="rc-a", Key="big.bin")
    assert h["ETag"].endswith('-2"') and h["ContentLength"] == 6 * MiB
    assert rclone("md5sum", "nb:rc-a/big.bin").stdout.split()[0] == md5
    # server-side multipart copy to the other bucket (UploadPartCopy)
    rclone("copyto", "--s3-copy-cutoff", "5M", "nb:rc-a/big.bin", "nb:rc-b/big.bin")
    h2 = s3.head_object(Bucket="rc-b", Key="big.bin")
    assert h2["ETag"].endswith('-2"') and h2["Metadata"] == h["Metadata"]
    assert rclone("md5sum", "--download", "nb:rc-b/big.bin").stdout.split()[0] == md5
    rclone("copy", "nb:rc-a/t", "nb:rc-b/t")  # small: CopyObject each
    assert "0 differences found" in rclone("check", "nb:rc-a", "nb:rc-b", "--exclude",
                                           "r.txt").stderr
    rclone("moveto", "nb:rc-b/big.bin", "nb:rc-b/moved.bin")
    assert sorted(lsjson(rclone, "nb:rc-b")) == ["moved.bin", "t"]

    # storage tiers: settier is a copy onto itself; GLACIER needs a restore to be read
    rclone("settier", "STANDARD_IA", "nb:rc-a/r.txt")
    assert s3.head_object(Bucket="rc-a", Key="r.txt")["StorageClass"] == "STANDARD_IA"
    assert lsjson(rclone, "nb:rc-a/r.txt")["r.txt"]["Tier"] == "STANDARD_IA"
    rclone("settier", "GLACIER", "nb:rc-a/r.txt")
    r = rclone("cat", "nb:rc-a/r.txt", check=False)
    assert r.returncode != 0 and "Object in GLACIER, restore first" in r.stderr
    out = rclone("backend", "restore", "nb:rc-a", "--include", "r.txt", "-o",
                 "priority=Expedited", "-o", "lifetime=1").stdout
    assert json.loads(out) == [{"Status": "OK", "Remote": "r.txt"}]
    advance_clock(nimbus, "6m")
    assert rclone("cat", "nb:rc-a/r.txt").stdout == "0123456789abcdefghij"

    # directories: rmdir of a bucket with objects fails, of an empty one works; purge
    r = rclone("rmdir", "nb:rc-b", check=False)
    assert r.returncode != 0 and "BucketNotEmpty" in r.stderr
    rclone("delete", "nb:rc-b")
    assert s3.list_objects_v2(Bucket="rc-b")["KeyCount"] == 0
    rclone("rmdir", "nb:rc-b")
    rclone("purge", "nb:rc-a")
    assert s3.list_buckets()["Buckets"] == []


def test_rclone_versions_and_pending_uploads(nimbus, tmp_path):
    s3 = client(nimbus, "s3")
    rclone = Rclone(nimbus, tmp_path)
    rclone("mkdir", "nb:rc-ver")
    assert rclone("backend", "versioning", "nb:rc-ver").stdout.strip() == "Unversioned"
    assert rclone("backend", "versioning", "nb:rc-ver", "Enabled").stdout.strip() == "Enabled"
    assert s3.get_bucket_versioning(Bucket="rc-ver")["Status"] == "Enabled"
    f = tmp_path / "v.txt"
    for body in (b"one\n", b"second\n"):
        f.write_bytes(body)
        rclone("copyto", str(f), "nb:rc-ver/v.txt")
    rclone("copyto", str(f), "nb:rc-ver/gone.txt")
    rclone("deletefile", "nb:rc-ver/gone.txt")
    assert sorted(lsjson(rclone, "nb:rc-ver")) == ["v.txt"]
    # --s3-versions shows the older versions as name-v<time>.ext beside the current ones
    vers = lsjson(rclone, "--s3-versions", "nb:rc-ver")
    old_v = [p for p in vers if p.startswith("v-v")]
    old_gone = [p for p in vers if p.startswith("gone-v")]
    assert "v.txt" in vers and len(old_v) == 1 and len(old_gone) == 1, vers
    assert vers["v.txt"]["Size"] == 7 and vers[old_v[0]]["Size"] == 4
    assert rclone("cat", "--s3-versions", "nb:rc-ver/" + old_v[0]).stdout == "one\n"
    assert rclone("cat", "--s3-versions", "nb:rc-ver/" + old_gone[0]).stdout == "second\n"
    # an old version copied back server-side (x-amz-copy-source ...?versionId=), whole and in
    # parts (UploadPartCopy of a version)
    rclone("copyto", "--s3-versions", "nb:rc-ver/" + old_v[0], "nb:rc-ver/restored.txt")
    assert s3.get_object(Bucket="rc-ver", Key="restored.txt")["Body"].read() == b"one\n"
    big = tmp_path / "big.bin"
    big.write_bytes(os.urandom(6 * MiB))
    rclone("copyto", "--s3-upload-cutoff", "5M", "--s3-chunk-size", "5M", str(big),
           "nb:rc-ver/big.bin")
    s3.put_object(Bucket="rc-ver", Key="big.bin", Body=b"small now")
    old_big = [p for p in lsjson(rclone, "--s3-versions", "nb:rc-ver") if p.startswith("big-v")]
    rclone("copyto", "--s3-versions", "--s3-copy-cutoff", "5M", "nb:rc-ver/" + old_big[0],
           "nb:rc-ver/big-restored.bin")
    got = s3.get_object(Bucket="rc-ver", Key="big-restored.bin")
    assert got["ETag"].endswith('-2"') and got["Body"].read() == big.read_bytes()
    for k in ("restored.txt", "big.bin", "big-restored.bin"):
        s3.delete_object(Bucket="rc-ver", Key=k)
    # cleanup-hidden deletes every non-current version (and the delete marker)
    rclone("backend", "cleanup-hidden", "nb:rc-ver")
    assert sorted(lsjson(rclone, "--s3-versions", "nb:rc-ver")) == ["v.txt"]
    r = s3.list_object_versions(Bucket="rc-ver")
    assert [v["Key"] for v in r.get("Versions", [])] == ["v.txt"]
    assert r.get("DeleteMarkers", []) == []

    # pending multipart uploads: listed, then aborted by cleanup
    up = s3.create_multipart_upload(Bucket="rc-ver", Key="pending/x")["UploadId"]
    got = json.loads(rclone("backend", "list-multipart-uploads", "nb:rc-ver").stdout)
    assert [(u["Key"], u["UploadId"]) for u in got["rc-ver"]] == [("pending/x", up)]
    rclone("backend", "cleanup", "-o", "max-age=0s", "nb:rc-ver")
    assert s3.list_multipart_uploads(Bucket="rc-ver").get("Uploads", []) == []

    # purge of a versioned bucket deletes every version by id, then the bucket
    f.write_bytes(b"third\n")
    rclone("copyto", str(f), "nb:rc-ver/v.txt")
    assert len(s3.list_object_versions(Bucket="rc-ver")["Versions"]) == 2
    rclone("purge", "nb:rc-ver")
    assert s3.list_buckets()["Buckets"] == []


def test_rclone_virtual_hosted(nimbus, tmp_path, vhost_proxy):
    s3 = client(nimbus, "s3")
    rclone = Rclone(nimbus, tmp_path, vhost_proxy=vhost_proxy)
    rclone("mkdir", "nb:rc-vh")
    tree = tmp_path / "tree"
    files = make_tree(tree)
    rclone("sync", str(tree), "nb:rc-vh/t")
    assert ("GET", "rc-vh.localhost:%d" % nimbus.port) in vhost_proxy.requests
    assert sorted(o["Key"] for o in s3.list_objects_v2(Bucket="rc-vh")["Contents"]) == sorted(
        "t/" + k for k in files)
    assert "0 differences found" in rclone("check", "--checksum", str(tree), "nb:rc-vh/t").stderr
    down = tmp_path / "down"
    rclone("sync", "nb:rc-vh/t", str(down))
    assert read_tree(down) == files
    big = tmp_path / "big.bin"
    big.write_bytes(os.urandom(6 * MiB))
    rclone("copyto", "--s3-upload-cutoff", "5M", "--s3-chunk-size", "5M", str(big),
           "nb:rc-vh/big.bin")
    rclone("copyto", "--s3-copy-cutoff", "5M", "nb:rc-vh/big.bin", "nb:rc-vh/copy.bin")
    assert s3.get_object(Bucket="rc-vh", Key="copy.bin")["Body"].read() == big.read_bytes()
    rclone("purge", "nb:rc-vh")
    assert s3.list_buckets()["Buckets"] == []


def test_rclone_presigned_put(nimbus, tmp_path):
    # --s3-use-presigned-request (what rclone before 1.59 always did for single-part uploads)
    # sends "content-length" twice, Go's own header and rclone's signed one, with one value
    s3 = client(nimbus, "s3")
    rclone = Rclone(nimbus, tmp_path)
    rclone("mkdir", "nb:rc-pre")
    f = tmp_path / "f.txt"
    f.write_bytes(b"presigned put\n")
    rclone("copyto", "--s3-use-presigned-request", "--retries", "1", "--low-level-retries", "1",
           str(f), "nb:rc-pre/f.txt")
    assert s3.get_object(Bucket="rc-pre", Key="f.txt")["Body"].read() == b"presigned put\n"
