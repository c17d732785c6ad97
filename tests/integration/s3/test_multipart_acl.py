"""ACLs asked for at CreateMultipartUpload (canned or grant headers) reach the completed object,
as AWS applies them; boto3's managed transfers ask for them that way for large files."""
import urllib.request

import pytest

from conftest import client


def complete(s3, bucket, key, **kw):
    up = s3.create_multipart_upload(Bucket=bucket, Key=key, **kw)
    part = s3.upload_part(Bucket=bucket, Key=key, UploadId=up["UploadId"], PartNumber=1,
                          Body=b"hello multipart acl")
    s3.complete_multipart_upload(Bucket=bucket, Key=key, UploadId=up["UploadId"],
                                 MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": part["ETag"]}]})


def writer_bucket(s3, name):
    s3.create_bucket(Bucket=name, ObjectOwnership="ObjectWriter")
    s3.delete_public_access_block(Bucket=name)


def test_canned_acl_at_create_reaches_the_object(nimbus):
    s3 = client(nimbus, "s3")
    writer_bucket(s3, "mpu-acl")
    complete(s3, "mpu-acl", "pub", ACL="public-read", ContentType="text/plain")
    grants = s3.get_object_acl(Bucket="mpu-acl", Key="pub")["Grants"]
    assert any(g["Grantee"].get("URI") == "http://acs.amazonaws.com/groups/global/AllUsers"
               and g["Permission"] == "READ" for g in grants), grants
    with urllib.request.urlopen("%s/mpu-acl/pub" % nimbus.endpoint) as r:
        assert r.read() == b"hello multipart acl"
    head = s3.head_object(Bucket="mpu-acl", Key="pub")
    assert head["ContentType"] == "text/plain"
    assert not any(k.lower().startswith("x-amz-meta-_") for k in head["ResponseMetadata"]["HTTPHeaders"])
    complete(s3, "mpu-acl", "private")
    grants = s3.get_object_acl(Bucket="mpu-acl", Key="private")["Grants"]
    assert [g["Permission"] for g in grants] == ["FULL_CONTROL"]
    with pytest.raises(urllib.error.HTTPError) as e:
        urllib.request.urlopen("%s/mpu-acl/private" % nimbus.endpoint)
    assert e.value.code == 403


def test_grant_header_at_create_reaches_the_object(nimbus):
    s3 = client(nimbus, "s3")
    writer_bucket(s3, "mpu-grant")
    owner = s3.list_buckets()["Owner"]["ID"]
    complete(s3, "mpu-grant", "k", GrantRead='id="%s"' % owner,
             GrantFullControl='id="%s"' % owner)
    perms = sorted(g["Permission"] for g in s3.get_object_acl(Bucket="mpu-grant", Key="k")["Grants"])
    assert perms == ["FULL_CONTROL", "READ"]


def test_bad_grantee_refused_at_create(nimbus):
    s3 = client(nimbus, "s3")
    writer_bucket(s3, "mpu-bad")
    with pytest.raises(s3.exceptions.ClientError) as e:
        s3.create_multipart_upload(Bucket="mpu-bad", Key="k", GrantRead='id="' + "0" * 64 + '"')
    assert e.value.response["Error"]["Code"] in ("InvalidArgument", "UnresolvableGrantByEmailAddress")
