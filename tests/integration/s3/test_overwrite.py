"""Overwrites of small objects in an unversioned bucket (rewritten in place in the database,
store.c rewrite_version) look exactly like a delete and a fresh put: nothing of the old version
(metadata, tags, ACL, checksum, storage class, size) survives, in every combination of inline
and file-backed content."""
import base64
import hashlib
import os
import uuid

import pytest
from botocore.exceptions import ClientError

from s3util import bucket, err, s3  # noqa: F401 (fixtures)


def test_overwrite_replaces_everything(s3, bucket):
    s3.put_object(Bucket=bucket, Key="k", Body=b"one", ContentType="text/a", Metadata={"a": "1"},
                  Tagging="t=1", CacheControl="no-cache", ChecksumAlgorithm="CRC32")
    first = s3.head_object(Bucket=bucket, Key="k")
    # another algorithm (newer botocore would add a CRC32 of its own to a put without one)
    s3.put_object(Bucket=bucket, Key="k", Body=b"second", ChecksumAlgorithm="SHA256")
    g = s3.get_object(Bucket=bucket, Key="k", ChecksumMode="ENABLED")
    assert g["Body"].read() == b"second"
    assert g["ContentType"] == "binary/octet-stream"
    assert g["Metadata"] == {}
    assert "CacheControl" not in g and "ChecksumCRC32" not in g
    assert g["ChecksumSHA256"] == base64.b64encode(hashlib.sha256(b"second").digest()).decode()
    assert g["ContentLength"] == 6
    assert g["LastModified"] >= first["LastModified"]
    assert s3.get_object_tagging(Bucket=bucket, Key="k")["TagSet"] == []
    assert s3.head_object(Bucket=bucket, Key="k").get("StorageClass", "STANDARD") == "STANDARD"
    lst = s3.list_objects_v2(Bucket=bucket)["Contents"]
    assert [(o["Key"], o["Size"]) for o in lst] == [("k", 6)]
    v = s3.list_object_versions(Bucket=bucket)
    assert [(x["Key"], x["VersionId"], x["IsLatest"]) for x in v["Versions"]] == [("k", "null", True)]


def test_overwrite_drops_acl(s3):
    name = "ow-" + uuid.uuid4().hex[:8]
    s3.create_bucket(Bucket=name, ObjectOwnership="BucketOwnerPreferred")
    s3.put_public_access_block(Bucket=name, PublicAccessBlockConfiguration={"IgnorePublicAcls": True})
    s3.put_object(Bucket=name, Key="k", Body=b"x", ACL="public-read")
    assert len(s3.get_object_acl(Bucket=name, Key="k")["Grants"]) == 2
    s3.put_object(Bucket=name, Key="k", Body=b"y")
    grants = s3.get_object_acl(Bucket=name, Key="k")["Grants"]
    assert [g["Permission"] for g in grants] == ["FULL_CONTROL"]
    s3.delete_object(Bucket=name, Key="k")
    s3.delete_bucket(Bucket=name)


@pytest.mark.parametrize("sizes", [(10, 100 << 10), (100 << 10, 10), (10, 20, 30)])
def test_overwrite_inline_and_file(s3, bucket, sizes):
    for n in sizes:
        body = os.urandom(n)
        s3.put_object(Bucket=bucket, Key="m", Body=body)
        assert s3.get_object(Bucket=bucket, Key="m")["Body"].read() == body
        assert s3.get_object(Bucket=bucket, Key="m", Range="bytes=1-3")["Body"].read() == body[1:4]


def test_overwrite_other_storage_class(s3, bucket):
    s3.put_object(Bucket=bucket, Key="c", Body=b"std")
    s3.put_object(Bucket=bucket, Key="c", Body=b"ia", StorageClass="STANDARD_IA")
    assert s3.head_object(Bucket=bucket, Key="c")["StorageClass"] == "STANDARD_IA"
    s3.put_object(Bucket=bucket, Key="c", Body=b"std again")
    h = s3.head_object(Bucket=bucket, Key="c")
    assert h.get("StorageClass", "STANDARD") == "STANDARD" and h["ContentLength"] == 9
    s3.put_object(Bucket=bucket, Key="c", Body=b"cold", StorageClass="GLACIER")
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket=bucket, Key="c")
    assert err(e)[1] == "InvalidObjectState"
    s3.put_object(Bucket=bucket, Key="c", Body=b"warm")
    assert s3.get_object(Bucket=bucket, Key="c")["Body"].read() == b"warm"

