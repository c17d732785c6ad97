"""Durability and integrity: data survives restarts (including kill -9 after acknowledgement),
orphan files are collected at start, and a flipped byte on disk is a 500 + log line, never
wrong data."""
import os
import signal
import time

import pytest
from botocore.exceptions import ClientError

from conftest import client
from s3util import bucket, err, s3  # noqa: F401 (fixtures)


def blob_files(data_dir):
    out = []
    for root, _, files in os.walk(os.path.join(data_dir, "s3", "blobs")):
        out += [os.path.join(root, f) for f in files]
    return out


def flip_byte(path, at, mask):
    """Flip bits of one byte of a content file in place, as a damaged disk would."""
    with open(path, "r+b") as f:
        f.seek(at)
        c = f.read(1)
        f.seek(at)
        f.write(bytes([c[0] ^ mask]))


def read_or_none(s3, **kw):
    """The body of a GET, or None when it was refused (a 500, or a connection cut short)."""
    try:
        return s3.get_object(**kw)["Body"].read()
    except Exception:
        return None


def test_survives_kill9(nimbus_factory):
    srv = nimbus_factory()
    s3 = client(srv, "s3")
    s3.create_bucket(Bucket="durable")
    bodies = {"k%d" % i: os.urandom(100 + i * 1000) for i in range(20)}
    for k, b in bodies.items():
        s3.put_object(Bucket="durable", Key=k, Body=b)
    srv.kill()  # SIGKILL: no clean shutdown
    srv2 = nimbus_factory(data_dir=srv.data_dir)
    s3 = client(srv2, "s3")
    for k, b in bodies.items():
        assert s3.get_object(Bucket="durable", Key=k)["Body"].read() == b


# Objects up to 64 KiB are stored inline in the metadata database; larger ones in files.
INLINE_MAX = 64 * 1024


def test_flipped_byte_is_refused(nimbus_factory):
    srv = nimbus_factory()
    s3 = client(srv, "s3")
    s3.create_bucket(Bucket="integrity")
    body = b"precious data " * 10000
    s3.put_object(Bucket="integrity", Key="k", Body=body)
    (path,) = blob_files(srv.data_dir)
    flip_byte(path, 500, 0x01)
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket="integrity", Key="k")
    assert err(e) == (500, "InternalError")
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket="integrity", Key="k", Range="bytes=0-10")
    assert err(e) == (500, "InternalError")
    assert "checksum mismatch" in srv.read_log()


def test_flipped_byte_inline_object(nimbus_factory):
    """A small object lives in SQLite (table object_data); a byte flipped there is refused too."""
    srv = nimbus_factory()
    s3 = client(srv, "s3")
    s3.create_bucket(Bucket="integrity")
    body = b"<<inline-marker-" + os.urandom(8).hex().encode() + b">>" + b"z" * 3000
    s3.put_object(Bucket="integrity", Key="k", Body=body)
    assert blob_files(srv.data_dir) == []  # inline: no content file
    assert s3.get_object(Bucket="integrity", Key="k")["Body"].read() == body
    srv.stop()  # the server's page cache would serve the good copy; read the disk afresh
    flipped = 0
    for name in ("s3.db", "s3.db-wal"):
        path = os.path.join(srv.data_dir, "s3", name)
        if not os.path.exists(path):
            continue
        with open(path, "r+b") as f:
            data = f.read()
            at = data.find(body[:40])
            while at >= 0:  # every copy (WAL frames may hold several)
                f.seek(at + 100)
                f.write(bytes([data[at + 100] ^ 0x01]))
                flipped += 1
                at = data.find(body[:40], at + 1)
    assert flipped
    srv2 = nimbus_factory(data_dir=srv.data_dir)
    s3 = client(srv2, "s3")
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket="integrity", Key="k")
    assert err(e) == (500, "InternalError")
    assert "checksum mismatch" in srv2.read_log()


def test_flipped_byte_large_object(nimbus_factory):
    srv = nimbus_factory()
    s3 = client(srv, "s3")
    s3.create_bucket(Bucket="integrity")
    body = os.urandom(12 * 1024 * 1024)
    s3.put_object(Bucket="integrity", Key="big", Body=body)
    (path,) = blob_files(srv.data_dir)
    flip_byte(path, 11 * 1024 * 1024 + 5, 0x80)
    got = read_or_none(s3, Bucket="integrity", Key="big")
    assert got is None or got != body and len(got) < len(body)
    # a range that avoids the damaged block is still served
    assert s3.get_object(Bucket="integrity", Key="big", Range="bytes=0-99")["Body"].read() == body[:100]


def test_flipped_byte_after_cached_reads(nimbus_factory):
    """Blocks checked in memory are not checked again while they stay there unchanged
    (verified.c); a write to the file afterwards must still be caught on the next read."""
    srv = nimbus_factory()
    s3 = client(srv, "s3")
    s3.create_bucket(Bucket="integrity")
    body = os.urandom(12 * 1024 * 1024)
    s3.put_object(Bucket="integrity", Key="big", Body=body)
    for _ in range(2):  # the second read finds the blocks checked
        assert s3.get_object(Bucket="integrity", Key="big")["Body"].read() == body
    (path,) = blob_files(srv.data_dir)
    flip_byte(path, 3 * 1024 * 1024 + 77, 0x01)
    got = read_or_none(s3, Bucket="integrity", Key="big")
    assert got is None or got != body and len(got) < len(body)
    assert "checksum mismatch in block 3" in srv.read_log()


def test_truncated_large_object(nimbus_factory):
    """Large reads check content in place through a mapping; a content file cut short (a
    damaged disk, a hand edit) must be refused with a log line, never crash the server."""
    srv = nimbus_factory()
    s3 = client(srv, "s3")
    s3.create_bucket(Bucket="integrity")
    body = os.urandom(12 * 1024 * 1024 + 333)
    s3.put_object(Bucket="integrity", Key="big", Body=body)
    (path,) = blob_files(srv.data_dir)
    os.truncate(path, 6 * 1024 * 1024 + 7)
    got = read_or_none(s3, Bucket="integrity", Key="big")
    assert got is None or len(got) < len(body)
    assert "short read" in srv.read_log()
    # the intact part is still served, by the streaming path (5 MiB) and the in-memory one
    r = s3.get_object(Bucket="integrity", Key="big", Range="bytes=%d-%d" % (1, 5 * 1024 * 1024))
    assert r["Body"].read() == body[1 : 5 * 1024 * 1024 + 1]
    r = s3.get_object(Bucket="integrity", Key="big", Range="bytes=100-199")
    assert r["Body"].read() == body[100:200]


def test_flipped_byte_ranges_and_parts(nimbus_factory):
    """Streamed ranges and parts of a multipart object are checked block by block too."""
    srv = nimbus_factory()
    s3 = client(srv, "s3")
    s3.create_bucket(Bucket="integrity")
    mib = 1024 * 1024
    parts = [os.urandom(9 * mib), os.urandom(9 * mib + 17)]
    up = s3.create_multipart_upload(Bucket="integrity", Key="mp")["UploadId"]
    etags = [s3.upload_part(Bucket="integrity", Key="mp", UploadId=up, PartNumber=i + 1,
                            Body=b)["ETag"] for i, b in enumerate(parts)]
    s3.complete_multipart_upload(
        Bucket="integrity", Key="mp", UploadId=up,
        MultipartUpload={"Parts": [{"PartNumber": i + 1, "ETag": e} for i, e in enumerate(etags)]})
    body = b"".join(parts)
    assert s3.get_object(Bucket="integrity", Key="mp", PartNumber=2)["Body"].read() == parts[1]
    r = s3.get_object(Bucket="integrity", Key="mp", Range="bytes=%d-%d" % (mib - 3, 15 * mib))
    assert r["Body"].read() == body[mib - 3 : 15 * mib + 1]
    # flip one byte in block 7 of part 2 (bytes 16 MiB + 5 of the object)
    for path in blob_files(srv.data_dir):
        if os.path.getsize(path) == len(parts[1]):
            flip_byte(path, 7 * mib + 5, 0x04)
    for kw in ({"PartNumber": 2}, {"Range": "bytes=%d-%d" % (12 * mib, 18 * mib)}):
        got = read_or_none(s3, Bucket="integrity", Key="mp", **kw)
        assert got is None or len(got) < 6 * mib
    assert "checksum mismatch" in srv.read_log()
    # part 1 and the head of part 2 are intact
    assert s3.get_object(Bucket="integrity", Key="mp", PartNumber=1)["Body"].read() == parts[0]
    r = s3.get_object(Bucket="integrity", Key="mp", Range="bytes=%d-%d" % (2 * mib, 15 * mib))
    assert r["Body"].read() == body[2 * mib : 15 * mib + 1]


def test_orphans_collected_at_start(nimbus_factory):
    srv = nimbus_factory()
    s3 = client(srv, "s3")
    s3.create_bucket(Bucket="orph")
    keep = b"keep me" * (INLINE_MAX // 7 + 1)
    s3.put_object(Bucket="orph", Key="keep", Body=keep)
    (kept,) = blob_files(srv.data_dir)
    d = os.path.join(srv.data_dir, "s3", "blobs", "ab")
    os.makedirs(d, exist_ok=True)
    orphan = os.path.join(d, "ab" + "0" * 30)
    with open(orphan, "wb") as f:
        f.write(b"nobody points at me")
    old = time.time() - 3600
    os.utime(orphan, (old, old))
    os.utime(kept, (old, old))
    srv.stop()
    srv2 = nimbus_factory(data_dir=srv.data_dir)
    assert not os.path.exists(orphan)
    assert os.path.exists(kept)
    assert client(srv2, "s3").get_object(Bucket="orph", Key="keep")["Body"].read() == keep


def test_overwrite_removes_old_file(nimbus_factory):
    srv = nimbus_factory()
    s3 = client(srv, "s3")
    s3.create_bucket(Bucket="ow-bucket")
    for i in range(5):
        s3.put_object(Bucket="ow-bucket", Key="k", Body=b"v%d" % i * INLINE_MAX)
    assert len(blob_files(srv.data_dir)) == 1
    s3.put_object(Bucket="ow-bucket", Key="k", Body=b"small now")  # inline replaces the file
    assert blob_files(srv.data_dir) == []
    s3.put_object(Bucket="ow-bucket", Key="k", Body=b"big again" * INLINE_MAX)
    assert len(blob_files(srv.data_dir)) == 1
    s3.delete_object(Bucket="ow-bucket", Key="k")
    assert blob_files(srv.data_dir) == []


def test_reset_drops_everything(nimbus):
    import urllib.request
    s3 = client(nimbus, "s3")
    s3.create_bucket(Bucket="gone")
    s3.put_object(Bucket="gone", Key="k", Body=b"x")
    s3.put_object(Bucket="gone", Key="big", Body=b"x" * (INLINE_MAX + 1))
    req = urllib.request.Request(nimbus.endpoint + "/_nimbus/reset", method="POST", data=b"")
    urllib.request.urlopen(req, timeout=10).read()
    assert s3.list_buckets()["Buckets"] == []
    assert blob_files(nimbus.data_dir) == []
