"""The aws CLI's high-level s3 commands beyond basic use: multipart thresholds from the config
file (upload, and multipart copy between buckets keeping metadata), mv across buckets, sync
modes (--size-only, --exact-timestamps, bucket to bucket with --delete) over awkward key names,
ls of a prefix with and without its slash, stdin/stdout, SSE-C, GLACIER objects (skipped,
then read after a restore on the region clock), presign --expires-in, rb --force."""
import hashlib
import os
import time
import urllib.parse

from conftest import client
from toolutil import AWKWARD, Aws, advance_clock, anon_get, make_tree, read_tree
from toolutil import vhost_proxy  # noqa: F401 (fixture)

MiB = 1 << 20
# Each aws run costs a second or more of CPU: setup and checks go through boto3 instead.


def keys(s3, bucket, prefix=""):
    r = s3.list_objects_v2(Bucket=bucket, Prefix=prefix)
    return sorted(o["Key"] for o in r.get("Contents", []))


def test_multipart_threshold_upload_and_copy(nimbus, tmp_path):
    aws = Aws(nimbus, tmp_path)
    # what `aws configure set default.s3.multipart_threshold 5MB` (and _chunksize) writes
    (tmp_path / "aws-config").write_text(
        "[default]\ns3 =\n    multipart_threshold = 5MB\n    multipart_chunksize = 5MB\n")
    s3 = client(nimbus, "s3")
    big = tmp_path / "big.bin"
    big.write_bytes(os.urandom(9 * MiB))  # parts of 5 and 4 MiB
    s3.create_bucket(Bucket="mp-src")
    s3.create_bucket(Bucket="mp-dst")
    aws("s3", "cp", "--no-progress", str(big), "s3://mp-src/dir/big.bin", "--metadata",
        "owner=me,n=1", "--content-type", "application/x-test", "--cache-control", "max-age=9",
        "--content-disposition", "attachment", "--expires", "2031-02-03T04:05:06Z")
    h = s3.head_object(Bucket="mp-src", Key="dir/big.bin")
    assert h["ETag"].endswith('-2"') and h["ContentLength"] == 9 * MiB
    # over the threshold the copy is CreateMultipartUpload + UploadPartCopy: the CLI carries
    # what HeadObject says over to the new upload
    aws("s3", "cp", "--no-progress", "s3://mp-src/dir/big.bin", "s3://mp-dst/copy.bin")
    c = s3.head_object(Bucket="mp-dst", Key="copy.bin")
    assert c["ETag"].endswith('-2"') and c["ContentLength"] == 9 * MiB
    assert c["Metadata"] == {"owner": "me", "n": "1"}
    assert (c["ContentType"], c["CacheControl"], c["ContentDisposition"]) == (
        "application/x-test", "max-age=9", "attachment")
    assert c["Expires"].isoformat() == "2031-02-03T04:05:06+00:00"
    out = aws("s3", "cp", "--no-progress", "s3://mp-dst/copy.bin", "-", text=False).stdout
    assert hashlib.md5(out).digest() == hashlib.md5(big.read_bytes()).digest()
    # the part ETags of a copy are those of the bytes copied: the whole ETag matches the upload's
    assert c["ETag"] == h["ETag"]
    # mv across buckets: copied then deleted
    aws("s3", "mv", "--no-progress", "s3://mp-src/dir/big.bin", "s3://mp-dst/moved.bin")
    assert keys(s3, "mp-src") == []
    assert keys(s3, "mp-dst") == ["copy.bin", "moved.bin"]
    # under the threshold: a single PutObject, a plain MD5 ETag
    small = tmp_path / "small.bin"
    small.write_bytes(os.urandom(MiB))
    aws("s3", "cp", "--no-progress", str(small), "s3://mp-dst/small.bin")
    h = s3.head_object(Bucket="mp-dst", Key="small.bin")
    assert h["ETag"] == '"%s"' % hashlib.md5(small.read_bytes()).hexdigest()


def test_sync_modes_awkward_names(nimbus, tmp_path):
    aws = Aws(nimbus, tmp_path)
    s3 = client(nimbus, "s3")
    src = tmp_path / "src"
    files = make_tree(src)
    # an hour old: the CLI compares a local mtime with LastModified, which is whole seconds,
    # so a file written in the second of its upload would look newer than its copy
    past = time.time() - 3600
    for k in files:
        os.utime(src / k, (past, past))
    s3.create_bucket(Bucket="sync-a")
    s3.create_bucket(Bucket="sync-b")
    aws("s3", "sync", "--no-progress", str(src), "s3://sync-a/t")
    assert keys(s3, "sync-a") == sorted("t/" + k for k in AWKWARD)
    # a same-size change: --size-only sees nothing to do, a plain sync (newer mtime) uploads it
    name = AWKWARD[0]
    (src / name).write_bytes(files[name].upper())
    later = time.time() + 10
    os.utime(src / name, (later, later))
    assert aws("s3", "sync", "--no-progress", "--size-only", str(src), "s3://sync-a/t").stdout == ""
    out = aws("s3", "sync", "--no-progress", str(src), "s3://sync-a/t").stdout
    assert out.startswith("upload: ") and out.count("\n") == 1
    assert out.strip().endswith("src/%s to s3://sync-a/t/%s" % (name, name))
    files[name] = files[name].upper()
    # down: every name comes back with its bytes
    down = tmp_path / "down"
    aws("s3", "sync", "--no-progress", "s3://sync-a/t", str(down))
    assert read_tree(down) == files
    # a local file of the same size but an older mtime stays unless --exact-timestamps
    victim = down / AWKWARD[1]
    victim.write_bytes(b"X" * len(files[AWKWARD[1]]))
    os.utime(victim, (1e9, 1e9))
    assert aws("s3", "sync", "--no-progress", "s3://sync-a/t", str(down)).stdout == ""
    assert victim.read_bytes() != files[AWKWARD[1]]
    aws("s3", "sync", "--no-progress", "--exact-timestamps", "s3://sync-a/t", str(down))
    assert victim.read_bytes() == files[AWKWARD[1]]
    # bucket to bucket: server-side copies; --delete removes what the source does not have
    s3.put_object(Bucket="sync-b", Key="t/stale.txt", Body=b"stale")
    out = aws("s3", "sync", "--no-progress", "--delete", "s3://sync-a/t", "s3://sync-b/t").stdout
    assert "delete: s3://sync-b/t/stale.txt" in out
    assert out.count("copy: ") == len(AWKWARD)
    assert keys(s3, "sync-b") == keys(s3, "sync-a")
    for k, data in files.items():
        assert s3.get_object(Bucket="sync-b", Key="t/" + k)["Body"].read() == data

    # ls of a prefix: without the slash it is the directory itself, with it its contents
    out = aws("s3", "ls", "s3://sync-a/t").stdout
    assert out.split() == ["PRE", "t/"]
    out = aws("s3", "ls", "s3://sync-a/t/").stdout
    lines = out.splitlines()
    assert "PRE dir with space/" in [ln.strip() for ln in lines]
    assert any(ln.endswith(" two  spaces.txt") for ln in lines)
    out = aws("s3", "ls", "--recursive", "--human-readable", "--summarize",
              "s3://sync-a/t/dir ").stdout
    assert "t/dir with space/\u65e5\u672c.txt" in out and "Total Objects: 1" in out


def test_stdio_ssec_presign(nimbus, tmp_path):
    aws = Aws(nimbus, tmp_path)
    s3 = client(nimbus, "s3")
    s3.create_bucket(Bucket="stdio")
    aws("s3", "cp", "-", "s3://stdio/in.txt", "--content-type", "text/x-stdin",
        input="from stdin\n")
    assert aws("s3", "cp", "s3://stdio/in.txt", "-").stdout == "from stdin\n"
    h = s3.head_object(Bucket="stdio", Key="in.txt")
    assert h["ContentType"] == "text/x-stdin" and h["ContentLength"] == 11

    # SSE-C over the multipart threshold: parts up with the key, ranged GETs down, a copy
    # re-keyed to SSE-C and one decrypted to plain with UploadPartCopy
    (tmp_path / "aws-config").write_text(
        "[default]\ns3 =\n    multipart_threshold = 5MB\n    multipart_chunksize = 5MB\n")
    key = "0123456789abcdef0123456789abcdef"
    f = tmp_path / "secret.bin"
    f.write_bytes(os.urandom(6 * MiB))
    ssec = ["--sse-c", "AES256", "--sse-c-key", key]
    aws("s3", "cp", "--no-progress", str(f), "s3://stdio/sc.bin", *ssec)
    assert s3.head_object(Bucket="stdio", Key="sc.bin", SSECustomerAlgorithm="AES256",
                          SSECustomerKey=key)["ETag"].endswith('-2"')
    aws("s3", "cp", "--no-progress", "s3://stdio/sc.bin", str(tmp_path / "sc.back"), *ssec)
    assert (tmp_path / "sc.back").read_bytes() == f.read_bytes()
    src_key = ["--sse-c-copy-source", "AES256", "--sse-c-copy-source-key", key]
    aws("s3", "cp", "--no-progress", "s3://stdio/sc.bin", "s3://stdio/sc2.bin", *ssec, *src_key)
    aws("s3", "cp", "--no-progress", "s3://stdio/sc.bin", "s3://stdio/plain.bin", *src_key)
    for k in ("sc.bin", "sc2.bin"):
        assert s3.head_object(Bucket="stdio", Key=k, SSECustomerAlgorithm="AES256",
                              SSECustomerKey=key)["SSECustomerAlgorithm"] == "AES256"
        assert s3.get_object(Bucket="stdio", Key=k, SSECustomerAlgorithm="AES256",
                             SSECustomerKey=key)["Body"].read() == f.read_bytes()
    plain = s3.head_object(Bucket="stdio", Key="plain.bin")
    assert "SSECustomerAlgorithm" not in plain and plain["ETag"].endswith('-2"')
    assert s3.get_object(Bucket="stdio", Key="plain.bin")["Body"].read() == f.read_bytes()

    # presign: the expiry asked for is in the URL, and the URL reads the object
    url = aws("s3", "presign", "s3://stdio/in.txt", "--expires-in", "321").stdout.strip()
    q = urllib.parse.parse_qs(urllib.parse.urlsplit(url).query)
    assert q["X-Amz-Expires"] == ["321"]
    assert anon_get(url) == (200, b"from stdin\n")
    assert anon_get(nimbus.endpoint + "/stdio/in.txt")[0] == 403
    # rb --force empties the bucket first
    aws("s3", "rb", "--force", "s3://stdio")
    assert s3.list_buckets()["Buckets"] == []


def test_glacier_skip_then_restore(nimbus, tmp_path):
    aws = Aws(nimbus, tmp_path)
    s3 = client(nimbus, "s3")
    s3.create_bucket(Bucket="cold")
    aws("s3", "cp", "-", "s3://cold/g/a.txt", "--storage-class", "GLACIER", input="frozen")
    s3.put_object(Bucket="cold", Key="g/b.txt", Body=b"warm")
    down = tmp_path / "down"
    # a recursive download skips the GLACIER object with the CLI's warning (rc 2), the rest
    # comes down; forcing the transfer meets GetObject's 403 InvalidObjectState
    r = aws("s3", "cp", "--no-progress", "--recursive", "s3://cold/g", str(down), check=False)
    assert r.returncode == 2 and "Object is of storage class GLACIER" in r.stderr
    assert read_tree(down) == {"b.txt": b"warm"}
    r = aws("s3", "cp", "--no-progress", "--recursive", "--force-glacier-transfer",
            "s3://cold/g", str(down), check=False)
    assert r.returncode == 1 and "InvalidObjectState" in r.stderr
    s3.restore_object(Bucket="cold", Key="g/a.txt", RestoreRequest={
        "Days": 1, "GlacierJobParameters": {"Tier": "Expedited"}})
    advance_clock(nimbus, "6m")  # Expedited takes up to 5 minutes
    h = s3.head_object(Bucket="cold", Key="g/a.txt")
    assert h["StorageClass"] == "GLACIER" and 'ongoing-request="false"' in h["Restore"]
    aws("s3", "cp", "--no-progress", "--recursive", "--force-glacier-transfer", "s3://cold/g",
        str(down))
    assert read_tree(down) == {"a.txt": b"frozen", "b.txt": b"warm"}


def test_virtual_hosted_style(nimbus, tmp_path, vhost_proxy):
    # addressing_style = virtual: the bucket goes in the host name, reached through the proxy
    aws = Aws(nimbus, tmp_path, endpoint="http://localhost:%d" % nimbus.port)
    (tmp_path / "aws-config").write_text(
        "[default]\ns3 =\n    addressing_style = virtual\n    multipart_threshold = 5MB\n"
        "    multipart_chunksize = 5MB\n")
    aws.env["HTTP_PROXY"] = "http://127.0.0.1:%d" % vhost_proxy.port
    s3 = client(nimbus, "s3")
    s3.create_bucket(Bucket="vhost-cli")
    src = tmp_path / "src"
    files = make_tree(src)
    big = src / "big.bin"
    big.write_bytes(os.urandom(6 * MiB))
    files["big.bin"] = big.read_bytes()
    aws("s3", "sync", "--no-progress", str(src), "s3://vhost-cli/t")
    assert ("PUT", "vhost-cli.localhost:%d" % nimbus.port) in vhost_proxy.requests
    assert s3.head_object(Bucket="vhost-cli", Key="t/big.bin")["ETag"].endswith('-2"')
    aws("s3", "sync", "--no-progress", "s3://vhost-cli/t",
        "s3://vhost-cli/copy")
    for k, data in files.items():
        assert s3.get_object(Bucket="vhost-cli", Key="copy/" + k)["Body"].read() == data
    url = aws("s3", "presign", "s3://vhost-cli/copy/" + AWKWARD[7],
              "--expires-in", "60").stdout.strip()
    assert url.startswith("http://vhost-cli.localhost:%d/copy/" % nimbus.port)
    assert anon_get(url, proxy="http://127.0.0.1:%d" % vhost_proxy.port) == (
        200, files[AWKWARD[7]])
