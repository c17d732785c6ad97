"""Reads of small objects and bucket rows served from the in-process caches (ocache.c, the
bucket cache in store.c) never return what a later acknowledged write replaced: each read
below comes right after a write of another kind, with the cache warmed first."""
import threading

import pytest
from botocore.exceptions import ClientError

from s3util import bucket, err, s3  # noqa: F401 (fixtures)


def warm(s3, bucket, key):
    for _ in range(3):
        s3.get_object(Bucket=bucket, Key=key)["Body"].read()
        s3.head_object(Bucket=bucket, Key=key)


def body(s3, bucket, key, **kw):
    return s3.get_object(Bucket=bucket, Key=key, **kw)["Body"].read()


def test_overwrite_delete_copy_multipart(s3, bucket):
    s3.put_object(Bucket=bucket, Key="k", Body=b"one", ContentType="text/a")
    warm(s3, bucket, "k")
    s3.put_object(Bucket=bucket, Key="k", Body=b"two!", ContentType="text/b")
    g = s3.get_object(Bucket=bucket, Key="k")
    assert g["Body"].read() == b"two!" and g["ContentType"] == "text/b"
    assert s3.head_object(Bucket=bucket, Key="k")["ContentLength"] == 4

    warm(s3, bucket, "k")
    s3.delete_object(Bucket=bucket, Key="k")
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket=bucket, Key="k")
    assert err(e)[1] == "NoSuchKey"
    with pytest.raises(ClientError) as e:
        s3.head_object(Bucket=bucket, Key="k")
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404

    s3.put_object(Bucket=bucket, Key="src", Body=b"copied")
    s3.put_object(Bucket=bucket, Key="k", Body=b"three")
    warm(s3, bucket, "k")
    s3.copy_object(Bucket=bucket, Key="k", CopySource={"Bucket": bucket, "Key": "src"})
    assert body(s3, bucket, "k") == b"copied"

    warm(s3, bucket, "k")
    up = s3.create_multipart_upload(Bucket=bucket, Key="k")["UploadId"]
    p = s3.upload_part(Bucket=bucket, Key="k", UploadId=up, PartNumber=1, Body=b"multi")
    assert body(s3, bucket, "k") == b"copied"  # not complete yet
    s3.complete_multipart_upload(Bucket=bucket, Key="k", UploadId=up,
                                 MultipartUpload={"Parts": [{"ETag": p["ETag"], "PartNumber": 1}]})
    assert body(s3, bucket, "k") == b"multi"

    warm(s3, bucket, "k")
    s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": "k"}]})
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket=bucket, Key="k")
    assert err(e)[1] == "NoSuchKey"


def test_tags_versions_and_bucket_changes(s3, bucket):
    s3.put_object(Bucket=bucket, Key="t", Body=b"x")
    warm(s3, bucket, "t")
    s3.put_object_tagging(Bucket=bucket, Key="t", Tagging={"TagSet": [{"Key": "a", "Value": "1"}]})
    assert s3.get_object(Bucket=bucket, Key="t")["TagCount"] == 1

    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    v1 = s3.put_object(Bucket=bucket, Key="t", Body=b"v1")["VersionId"]
    warm(s3, bucket, "t")
    v2 = s3.put_object(Bucket=bucket, Key="t", Body=b"v2")["VersionId"]
    g = s3.get_object(Bucket=bucket, Key="t")
    assert g["Body"].read() == b"v2" and g["VersionId"] == v2
    assert body(s3, bucket, "t", VersionId=v1) == b"v1"
    warm(s3, bucket, "t")
    s3.delete_object(Bucket=bucket, Key="t")  # a delete marker
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket=bucket, Key="t")
    assert err(e)[1] == "NoSuchKey"
    s3.delete_object(Bucket=bucket, Key="t", VersionId=v2)
    s3.delete_objects(Bucket=bucket, Delete={"Objects": [
        {"Key": "t", "VersionId": v["VersionId"]}
        for v in s3.list_object_versions(Bucket=bucket).get("DeleteMarkers", [])]})
    assert body(s3, bucket, "t") == b"v1"  # the remaining version is current again

    # Bucket rows: versioning suspended is seen by the next PUT (a 'null' version).
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Suspended"})
    r = s3.put_object(Bucket=bucket, Key="s", Body=b"s")
    assert r.get("VersionId", "null") == "null"

    # Bucket tags come from the bucket row.
    for n in range(3):
        s3.put_bucket_tagging(Bucket=bucket, Tagging={"TagSet": [{"Key": "n", "Value": str(n)}]})
        for _ in range(2):
            assert s3.get_bucket_tagging(Bucket=bucket)["TagSet"] == [{"Key": "n", "Value": str(n)}]
    s3.delete_bucket_tagging(Bucket=bucket)
    with pytest.raises(ClientError) as e:
        s3.get_bucket_tagging(Bucket=bucket)
    assert err(e)[1] == "NoSuchTagSet"

    # A deleted bucket is gone for writes and reads at once, and a new one starts empty.
    s3.create_bucket(Bucket="cache-gone")
    s3.put_object(Bucket="cache-gone", Key="k", Body=b"x")
    warm(s3, "cache-gone", "k")
    s3.delete_object(Bucket="cache-gone", Key="k")
    s3.delete_bucket(Bucket="cache-gone")
    with pytest.raises(ClientError) as e:
        s3.put_object(Bucket="cache-gone", Key="k", Body=b"y")
    assert err(e)[1] == "NoSuchBucket"
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket="cache-gone", Key="k")
    assert err(e)[1] == "NoSuchBucket"
    s3.create_bucket(Bucket="cache-gone")
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket="cache-gone", Key="k")
    assert err(e)[1] == "NoSuchKey"


def test_reads_never_go_back_while_writing(s3, bucket):
    """Once PUT n is acknowledged, every read that starts afterwards returns n or later, while
    other threads keep the key hot."""
    s3.put_object(Bucket=bucket, Key="c", Body=b"0")
    acked = [0]
    stop = threading.Event()
    bad = []

    def reader():
        while not stop.is_set():
            floor = acked[0]
            got = int(body(s3, bucket, "c"))
            if got < floor:
                bad.append((floor, got))

    threads = [threading.Thread(target=reader) for _ in range(3)]
    for t in threads:
        t.start()
    try:
        for n in range(1, 60):
            s3.put_object(Bucket=bucket, Key="c", Body=str(n).encode())
            acked[0] = n
            assert int(body(s3, bucket, "c")) == n
    finally:
        stop.set()
        for t in threads:
            t.join()
    assert not bad


def test_concurrent_puts_with_failing_conditions(nimbus, s3, bucket):
    """Small PUTs share a group commit without a savepoint each (nb_db_write_redo); when one
    of the batch fails its condition, the batch is undone and run again job by job: the
    others still land exactly once and the refused ones change nothing."""
    from conftest import client
    for i in range(8):
        s3.put_object(Bucket=bucket, Key="guard%d" % i, Body=b"orig%d" % i)
    errors = []

    def work(t):
        c = client(nimbus, "s3")

        def nomatch(request, **kw):
            if request.url.rsplit("/", 1)[-1].startswith("guard"):
                request.headers["If-None-Match"] = "*"
        c.meta.events.register("before-sign.s3.PutObject", nomatch)
        try:
            for n in range(25):
                c.put_object(Bucket=bucket, Key="t%d-%d" % (t, n), Body=b"v%d-%d" % (t, n))
                try:
                    c.put_object(Bucket=bucket, Key="guard%d" % ((t + n) % 8), Body=b"bad")
                    errors.append("guard overwritten")
                except ClientError as e:
                    if e.response["Error"]["Code"] != "PreconditionFailed":
                        errors.append(repr(e))
        except Exception as e:  # reported below
            errors.append(repr(e))

    threads = [threading.Thread(target=work, args=(t,)) for t in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    for t in range(6):
        for n in range(25):
            assert body(s3, bucket, "t%d-%d" % (t, n)) == b"v%d-%d" % (t, n)
    for i in range(8):
        assert body(s3, bucket, "guard%d" % i) == b"orig%d" % i
    keys = s3.list_objects_v2(Bucket=bucket)["KeyCount"]
    assert keys == 6 * 25 + 8
