"""Objects: put/get/head/delete, digests and checksums, conditions, ranges, metadata, copy,
keys that look like paths, and AWS's error documents."""
import base64
import datetime
import hashlib
import os
import zlib

import pytest
from botocore.exceptions import ClientError

from s3util import bucket, err, s3  # noqa: F401 (fixtures)


def md5b64(b):
    return base64.b64encode(hashlib.md5(b).digest()).decode()


def test_put_get_head(s3, bucket):
    body = os.urandom(3000)
    r = s3.put_object(Bucket=bucket, Key="obj", Body=body, ContentType="text/plain",
                      Metadata={"Color": "blue", "n": "1"}, CacheControl="max-age=60",
                      ContentDisposition="attachment", ContentLanguage="fr")
    etag = '"%s"' % hashlib.md5(body).hexdigest()
    assert r["ETag"] == etag
    g = s3.get_object(Bucket=bucket, Key="obj")
    assert g["Body"].read() == body
    assert g["ETag"] == etag
    assert g["ContentLength"] == 3000
    assert g["ContentType"] == "text/plain"
    assert g["Metadata"] == {"color": "blue", "n": "1"}
    assert g["CacheControl"] == "max-age=60"
    assert g["ContentDisposition"] == "attachment"
    assert g["ContentLanguage"] == "fr"
    assert g["AcceptRanges"] == "bytes"
    h = s3.head_object(Bucket=bucket, Key="obj")
    assert h["ContentLength"] == 3000 and h["ETag"] == etag
    assert abs((h["LastModified"] - datetime.datetime.now(datetime.timezone.utc)).total_seconds()) < 60


def test_default_content_type_and_empty_object(s3, bucket):
    s3.put_object(Bucket=bucket, Key="empty", Body=b"")
    g = s3.get_object(Bucket=bucket, Key="empty")
    assert g["Body"].read() == b""
    assert g["ContentType"] == "binary/octet-stream"
    assert g["ETag"] == '"d41d8cd98f00b204e9800998ecf8427e"'


def test_no_such_key(s3, bucket):
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket=bucket, Key="missing/key")
    assert err(e) == (404, "NoSuchKey")
    assert e.value.response["Error"]["Key"] == "missing/key"
    assert e.value.response["Error"]["Message"] == "The specified key does not exist."
    with pytest.raises(ClientError) as e:
        s3.head_object(Bucket=bucket, Key="missing")
    assert err(e)[0] == 404


def test_content_md5(s3, bucket):
    s3.put_object(Bucket=bucket, Key="ok", Body=b"hello", ContentMD5=md5b64(b"hello"))
    with pytest.raises(ClientError) as e:
        s3.put_object(Bucket=bucket, Key="bad", Body=b"hello", ContentMD5=md5b64(b"other"))
    assert err(e) == (400, "BadDigest")
    with pytest.raises(ClientError) as e:
        s3.put_object(Bucket=bucket, Key="bad", Body=b"hello", ContentMD5="notbase64!!")
    assert err(e) == (400, "InvalidDigest")
    with pytest.raises(ClientError):
        s3.head_object(Bucket=bucket, Key="bad")


def test_checksums(s3, bucket):
    body = b"checksummed body"
    crc = base64.b64encode(zlib.crc32(body).to_bytes(4, "big")).decode()
    r = s3.put_object(Bucket=bucket, Key="c", Body=body, ChecksumCRC32=crc)
    assert r["ChecksumCRC32"] == crc
    h = s3.head_object(Bucket=bucket, Key="c", ChecksumMode="ENABLED")
    assert h["ChecksumCRC32"] == crc
    assert "ChecksumCRC32" not in s3.head_object(Bucket=bucket, Key="c")
    with pytest.raises(ClientError) as e:
        s3.put_object(Bucket=bucket, Key="c2", Body=body,
                      ChecksumCRC32=base64.b64encode(b"\0\0\0\0").decode())
    assert err(e) == (400, "BadDigest")
    sha = base64.b64encode(hashlib.sha256(body).digest()).decode()
    r = s3.put_object(Bucket=bucket, Key="s", Body=body, ChecksumAlgorithm="SHA256")
    assert r["ChecksumSHA256"] == sha
    g = s3.get_object(Bucket=bucket, Key="s", ChecksumMode="ENABLED")
    assert g["ChecksumSHA256"] == sha and g["Body"].read() == body


def test_conditional_writes(s3, bucket):
    s3.put_object(Bucket=bucket, Key="k", Body=b"one")
    etag = s3.head_object(Bucket=bucket, Key="k")["ETag"]

    def put(**headers):
        def add(request, **kw):
            for k, v in headers.items():
                request.headers[k] = v
        s3.meta.events.register("before-sign.s3.PutObject", add)
        try:
            return s3.put_object(Bucket=bucket, Key="k", Body=b"two")
        finally:
            s3.meta.events.unregister("before-sign.s3.PutObject", add)

    with pytest.raises(ClientError) as e:
        put(**{"If-None-Match": "*"})
    assert err(e) == (412, "PreconditionFailed")
    with pytest.raises(ClientError) as e:
        put(**{"If-Match": '"0000"'})
    assert err(e) == (412, "PreconditionFailed")
    put(**{"If-Match": etag})
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"two"


def test_conditional_reads(s3, bucket):
    s3.put_object(Bucket=bucket, Key="k", Body=b"data")
    h = s3.head_object(Bucket=bucket, Key="k")
    etag, lm = h["ETag"], h["LastModified"]
    assert s3.get_object(Bucket=bucket, Key="k", IfMatch=etag)["Body"].read() == b"data"
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket=bucket, Key="k", IfMatch='"nope"')
    assert err(e) == (412, "PreconditionFailed")
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket=bucket, Key="k", IfNoneMatch=etag)
    assert err(e)[0] == 304
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket=bucket, Key="k", IfModifiedSince=lm)
    assert err(e)[0] == 304
    past = lm - datetime.timedelta(days=1)
    assert s3.get_object(Bucket=bucket, Key="k", IfModifiedSince=past)["Body"].read() == b"data"
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket=bucket, Key="k", IfUnmodifiedSince=past)
    assert err(e) == (412, "PreconditionFailed")
    # If-Match true wins over If-Unmodified-Since false, as S3 documents
    assert s3.get_object(Bucket=bucket, Key="k", IfMatch=etag, IfUnmodifiedSince=past)["Body"].read() == b"data"


@pytest.mark.parametrize("rng,expect,content_range", [
    ("bytes=0-4", b"01234", "bytes 0-4/10"),
    ("bytes=5-", b"56789", "bytes 5-9/10"),
    ("bytes=-3", b"789", "bytes 7-9/10"),
    ("bytes=8-100", b"89", "bytes 8-9/10"),
    ("bytes=-100", b"0123456789", "bytes 0-9/10"),
])
def test_ranges(s3, bucket, rng, expect, content_range):
    s3.put_object(Bucket=bucket, Key="r", Body=b"0123456789")
    g = s3.get_object(Bucket=bucket, Key="r", Range=rng)
    assert g["ResponseMetadata"]["HTTPStatusCode"] == 206
    assert g["Body"].read() == expect
    assert g["ContentRange"] == content_range
    assert g["ContentLength"] == len(expect)


def test_range_unsatisfiable_and_ignored(s3, bucket):
    s3.put_object(Bucket=bucket, Key="r", Body=b"0123456789")
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket=bucket, Key="r", Range="bytes=10-20")
    assert err(e) == (416, "InvalidRange")
    assert e.value.response["Error"]["ActualObjectSize"] == "10"
    g = s3.get_object(Bucket=bucket, Key="r", Range="bytes=5-2")
    assert g["ResponseMetadata"]["HTTPStatusCode"] == 200 and g["Body"].read() == b"0123456789"


def test_large_object_range(s3, bucket):
    body = os.urandom(9 * 1024 * 1024 + 17)
    s3.put_object(Bucket=bucket, Key="big", Body=body)
    assert s3.get_object(Bucket=bucket, Key="big")["Body"].read() == body
    g = s3.get_object(Bucket=bucket, Key="big", Range="bytes=1048570-6291460")
    assert g["Body"].read() == body[1048570:6291461]


def test_response_overrides(s3, bucket):
    s3.put_object(Bucket=bucket, Key="o", Body=b"x", ContentType="text/plain")
    g = s3.get_object(Bucket=bucket, Key="o", ResponseContentType="application/json",
                      ResponseContentDisposition="inline", ResponseCacheControl="no-cache")
    assert g["ContentType"] == "application/json"
    assert g["ContentDisposition"] == "inline"
    assert g["CacheControl"] == "no-cache"


@pytest.mark.parametrize("key", ["../../etc/passwd", "a//b", "/leading", "with space", "ünïcødé/ключ/鍵",
                                 "..", "a?b&c=d#e", "percent%2Fencoded", "+plus+"])
def test_keys_are_strings_not_paths(s3, bucket, key):
    s3.put_object(Bucket=bucket, Key=key, Body=key.encode())
    assert s3.get_object(Bucket=bucket, Key=key)["Body"].read() == key.encode()
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]]
    assert keys == [key]


def test_key_too_long(s3, bucket):
    s3.put_object(Bucket=bucket, Key="k" * 1024, Body=b"x")
    with pytest.raises(ClientError) as e:
        s3.put_object(Bucket=bucket, Key="k" * 1025, Body=b"x")
    assert err(e) == (400, "KeyTooLongError")


def test_metadata_too_large(s3, bucket):
    with pytest.raises(ClientError) as e:
        s3.put_object(Bucket=bucket, Key="m", Body=b"x", Metadata={"big": "v" * 2100})
    assert err(e) == (400, "MetadataTooLarge")


def test_delete_object(s3, bucket):
    s3.put_object(Bucket=bucket, Key="d", Body=b"x")
    r = s3.delete_object(Bucket=bucket, Key="d")
    assert r["ResponseMetadata"]["HTTPStatusCode"] == 204
    # deleting a missing key succeeds
    assert s3.delete_object(Bucket=bucket, Key="d")["ResponseMetadata"]["HTTPStatusCode"] == 204
    with pytest.raises(ClientError):
        s3.head_object(Bucket=bucket, Key="d")


def test_copy_object(s3, bucket):
    s3.put_object(Bucket=bucket, Key="src", Body=b"copy me", ContentType="text/plain",
                  Metadata={"a": "1"}, Tagging="t=1")
    r = s3.copy_object(Bucket=bucket, Key="dst", CopySource={"Bucket": bucket, "Key": "src"})
    assert r["CopyObjectResult"]["ETag"] == '"%s"' % hashlib.md5(b"copy me").hexdigest()
    g = s3.get_object(Bucket=bucket, Key="dst")
    assert g["Body"].read() == b"copy me"
    assert g["ContentType"] == "text/plain" and g["Metadata"] == {"a": "1"}
    assert s3.get_object_tagging(Bucket=bucket, Key="dst")["TagSet"] == [{"Key": "t", "Value": "1"}]
    s3.copy_object(Bucket=bucket, Key="dst2", CopySource="%s/src" % bucket,
                   MetadataDirective="REPLACE", ContentType="image/png", Metadata={"b": "2"},
                   TaggingDirective="REPLACE", Tagging="u=2")
    g = s3.get_object(Bucket=bucket, Key="dst2")
    assert g["ContentType"] == "image/png" and g["Metadata"] == {"b": "2"}
    assert s3.get_object_tagging(Bucket=bucket, Key="dst2")["TagSet"] == [{"Key": "u", "Value": "2"}]


def test_copy_to_itself(s3, bucket):
    s3.put_object(Bucket=bucket, Key="self", Body=b"x", Metadata={"a": "1"})
    with pytest.raises(ClientError) as e:
        s3.copy_object(Bucket=bucket, Key="self", CopySource={"Bucket": bucket, "Key": "self"})
    assert err(e) == (400, "InvalidRequest")
    s3.copy_object(Bucket=bucket, Key="self", CopySource={"Bucket": bucket, "Key": "self"},
                   MetadataDirective="REPLACE", Metadata={"a": "2"})
    assert s3.head_object(Bucket=bucket, Key="self")["Metadata"] == {"a": "2"}


def test_copy_conditions(s3, bucket):
    s3.put_object(Bucket=bucket, Key="src", Body=b"x")
    etag = s3.head_object(Bucket=bucket, Key="src")["ETag"]
    src = {"Bucket": bucket, "Key": "src"}
    s3.copy_object(Bucket=bucket, Key="d1", CopySource=src, CopySourceIfMatch=etag)
    with pytest.raises(ClientError) as e:
        s3.copy_object(Bucket=bucket, Key="d2", CopySource=src, CopySourceIfMatch='"zz"')
    assert err(e) == (412, "PreconditionFailed")
    with pytest.raises(ClientError) as e:
        s3.copy_object(Bucket=bucket, Key="d3", CopySource=src, CopySourceIfNoneMatch=etag)
    assert err(e) == (412, "PreconditionFailed")
    with pytest.raises(ClientError) as e:
        s3.copy_object(Bucket=bucket, Key="d4", CopySource={"Bucket": bucket, "Key": "nope"})
    assert err(e) == (404, "NoSuchKey")


def test_object_tagging(s3, bucket):
    s3.put_object(Bucket=bucket, Key="t", Body=b"x", Tagging="a=1&b=two%20words")
    assert sorted(s3.get_object_tagging(Bucket=bucket, Key="t")["TagSet"], key=lambda t: t["Key"]) == [
        {"Key": "a", "Value": "1"}, {"Key": "b", "Value": "two words"}]
    assert s3.get_object(Bucket=bucket, Key="t")["TagCount"] == 2
    s3.put_object_tagging(Bucket=bucket, Key="t", Tagging={"TagSet": [{"Key": "c", "Value": "3"}]})
    assert s3.get_object_tagging(Bucket=bucket, Key="t")["TagSet"] == [{"Key": "c", "Value": "3"}]
    with pytest.raises(ClientError) as e:
        s3.put_object_tagging(Bucket=bucket, Key="t", Tagging={
            "TagSet": [{"Key": "k%d" % i, "Value": "v"} for i in range(11)]})
    assert err(e) == (400, "InvalidTag")
    with pytest.raises(ClientError) as e:
        s3.put_object_tagging(Bucket=bucket, Key="t", Tagging={"TagSet": [{"Key": "k" * 129, "Value": "v"}]})
    assert err(e) == (400, "InvalidTag")
    s3.delete_object_tagging(Bucket=bucket, Key="t")
    assert s3.get_object_tagging(Bucket=bucket, Key="t")["TagSet"] == []


def test_delete_objects(s3, bucket):
    for i in range(5):
        s3.put_object(Bucket=bucket, Key="k%d" % i, Body=b"x")
    r = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": "k%d" % i} for i in range(3)] + [{"Key": "nokey"}]})
    assert sorted(d["Key"] for d in r["Deleted"]) == ["k0", "k1", "k2", "nokey"]
    assert "Errors" not in r
    r = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": "k3"}], "Quiet": True})
    assert "Deleted" not in r
    assert [o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]] == ["k4"]
    with pytest.raises(ClientError) as e:
        s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": "x%d" % i} for i in range(1001)]})
    assert err(e) == (400, "MalformedXML")


def test_put_to_missing_bucket(s3):
    with pytest.raises(ClientError) as e:
        s3.put_object(Bucket="no-such-bucket-here", Key="k", Body=b"x")
    assert err(e) == (404, "NoSuchBucket")


def test_presigned_urls(boto, bucket):
    import urllib.request
    # boto3 1.26 presigns S3 with SigV2 unless told otherwise; Nimbus (like new AWS buckets)
    # accepts only SigV4.
    s3 = boto("s3", config_kw={"signature_version": "s3v4"})
    url = s3.generate_presigned_url("put_object", Params={"Bucket": bucket, "Key": "p"}, ExpiresIn=60)
    req = urllib.request.Request(url, data=b"presigned body", method="PUT")
    with urllib.request.urlopen(req, timeout=10) as r:
        assert r.status == 200
    url = s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "p"}, ExpiresIn=60)
    with urllib.request.urlopen(url, timeout=10) as r:
        assert r.read() == b"presigned body"
    expired = s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "p"}, ExpiresIn=1)
    import time
    time.sleep(2.1)
    with pytest.raises(urllib.error.HTTPError) as e:
        urllib.request.urlopen(expired, timeout=10)
    assert e.value.code == 403
