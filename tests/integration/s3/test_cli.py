"""The aws CLI: s3 cp up and down (multipart for large files), sync of a tree both ways,
s3api calls, presign."""
import hashlib
import os
import subprocess
import urllib.request

import pytest

from conftest import LONG, run_aws


def sha(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for b in iter(lambda: f.read(1 << 20), b""):
            h.update(b)
    return h.hexdigest()


def test_cp_multipart_roundtrip(nimbus, tmp_path):
    size = (1 << 30) if LONG else (40 << 20)
    src = tmp_path / "big.bin"
    with open(src, "wb") as f:
        left = size
        while left:
            n = min(left, 8 << 20)
            f.write(os.urandom(n))
            left -= n
    run_aws(nimbus, "s3", "mb", "s3://clibucket", parse=False)
    run_aws(nimbus, "s3", "cp", str(src), "s3://clibucket/big.bin", parse=False)
    head = run_aws(nimbus, "s3api", "head-object", "--bucket", "clibucket", "--key", "big.bin")
    assert head["ContentLength"] == size
    assert head["ETag"].endswith('-%d"' % ((size + (8 << 20) - 1) // (8 << 20)))
    dst = tmp_path / "back.bin"
    run_aws(nimbus, "s3", "cp", "s3://clibucket/big.bin", str(dst), parse=False)
    assert sha(src) == sha(dst)


def test_sync_tree_both_ways(nimbus, tmp_path):
    n = 1000 if LONG else 120
    up = tmp_path / "up"
    for i in range(n):
        d = up / ("dir%02d" % (i % 10))
        d.mkdir(parents=True, exist_ok=True)
        (d / ("file%04d.txt" % i)).write_bytes(os.urandom(i % 3000))
    run_aws(nimbus, "s3", "mb", "s3://syncb", parse=False)
    run_aws(nimbus, "s3", "sync", str(up), "s3://syncb/tree", parse=False)
    listed = run_aws(nimbus, "s3api", "list-objects-v2", "--bucket", "syncb", "--prefix", "tree/")
    assert len(listed.get("Contents", [])) == n  # the CLI merges pages and drops KeyCount
    down = tmp_path / "down"
    run_aws(nimbus, "s3", "sync", "s3://syncb/tree", str(down), parse=False)
    for p in up.rglob("*.txt"):
        q = down / p.relative_to(up)
        assert q.read_bytes() == p.read_bytes()
    # a second sync transfers nothing
    p = run_aws(nimbus, "s3", "sync", str(up), "s3://syncb/tree", parse=False)
    assert p.stdout.strip() == ""


def test_s3api_and_ls_rm(nimbus, tmp_path):
    run_aws(nimbus, "s3api", "create-bucket", "--bucket", "apib")
    f = tmp_path / "x.txt"
    f.write_text("hello cli")
    run_aws(nimbus, "s3api", "put-object", "--bucket", "apib", "--key", "dir/x.txt", "--body", str(f))
    p = run_aws(nimbus, "s3", "ls", "s3://apib/dir/", parse=False)
    assert "x.txt" in p.stdout
    run_aws(nimbus, "s3", "rm", "s3://apib/dir/x.txt", parse=False)
    r = run_aws(nimbus, "s3api", "list-objects-v2", "--bucket", "apib")
    assert r.get("KeyCount", 0) == 0
    run_aws(nimbus, "s3", "rb", "s3://apib", parse=False)


def test_presign(nimbus):
    run_aws(nimbus, "s3", "mb", "s3://presb", parse=False)
    run_aws(nimbus, "s3", "cp", "-", "s3://presb/p.txt", parse=False, input="presigned!")
    p = run_aws(nimbus, "s3", "presign", "s3://presb/p.txt", "--expires-in", "60", parse=False)
    with urllib.request.urlopen(p.stdout.strip(), timeout=10) as r:
        assert r.read() == b"presigned!"
