"""AWS compatibility as client suites (Ceph s3-tests, moto, botocore) check it: listing edge
cases, subresources AWS answers for every bucket, GetObjectAttributes, anonymous overrides."""
import hashlib
import uuid

import pytest
import requests
from botocore.exceptions import ClientError

from s3util import bucket, err, s3  # noqa: F401 (fixtures)


@pytest.fixture
def filled(s3, bucket):
    for k in ["foo/bar", "foo/baz", "quux", "a b", "a+b"]:
        s3.put_object(Bucket=bucket, Key=k, Body=b"x")
    return bucket


def test_max_keys_zero_is_not_truncated(s3, filled):
    # s3-tests test_bucket_list_maxkeys_zero / test_bucket_listv2_maxkeys_zero
    r = s3.list_objects(Bucket=filled, MaxKeys=0)
    assert r["IsTruncated"] is False and "Contents" not in r and "NextMarker" not in r
    r = s3.list_objects(Bucket=filled, MaxKeys=0, Delimiter="/")
    assert r["IsTruncated"] is False and "CommonPrefixes" not in r
    r = s3.list_objects_v2(Bucket=filled, MaxKeys=0)
    assert r["IsTruncated"] is False and r["KeyCount"] == 0
    assert "NextContinuationToken" not in r


def test_v1_next_marker_only_with_delimiter(s3, filled):
    r = s3.list_objects(Bucket=filled, MaxKeys=2)
    assert r["IsTruncated"] and "NextMarker" not in r
    r = s3.list_objects(Bucket=filled, MaxKeys=2, Delimiter="/")
    assert r["IsTruncated"] and r["NextMarker"] == "a+b"


def test_url_encoding_of_plus_and_space(s3, filled):
    # botocore asks for encoding-type=url itself and decodes: the keys come back intact
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=filled, Prefix="a")["Contents"]]
    assert keys == ["a b", "a+b"]
    keys = [o["Key"] for o in s3.list_objects(Bucket=filled, Prefix="a")["Contents"]]
    assert keys == ["a b", "a+b"]


def test_delete_marker_owner_is_the_bucket_owner(s3, bucket):
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    s3.put_object(Bucket=bucket, Key="k", Body=b"1")
    s3.delete_object(Bucket=bucket, Key="k")
    r = s3.list_object_versions(Bucket=bucket)
    owner = s3.list_buckets()["Owner"]
    assert r["DeleteMarkers"][0]["Owner"] == owner
    assert r["Versions"][0]["Owner"] == owner


def test_bucket_subresources_of_a_plain_bucket(s3, bucket):
    assert s3.get_bucket_request_payment(Bucket=bucket)["Payer"] == "BucketOwner"
    s3.put_bucket_request_payment(Bucket=bucket,
                                  RequestPaymentConfiguration={"Payer": "BucketOwner"})
    r = s3.get_bucket_accelerate_configuration(Bucket=bucket)
    assert "Status" not in r
    s3.put_bucket_accelerate_configuration(Bucket=bucket,
                                           AccelerateConfiguration={"Status": "Suspended"})
    # suspending what was never enabled leaves it unset
    assert "Status" not in s3.get_bucket_accelerate_configuration(Bucket=bucket)
    assert "LoggingEnabled" not in s3.get_bucket_logging(Bucket=bucket)
    s3.put_bucket_logging(Bucket=bucket, BucketLoggingStatus={})
    with pytest.raises(ClientError) as e:
        s3.get_bucket_replication(Bucket=bucket)
    assert err(e) == (404, "ReplicationConfigurationNotFoundError")
    s3.delete_bucket_replication(Bucket=bucket)
    with pytest.raises(ClientError) as e:
        s3.get_object_lock_configuration(Bucket=bucket)
    assert err(e) == (404, "ObjectLockConfigurationNotFoundError")
    with pytest.raises(ClientError) as e:
        s3.get_bucket_logging(Bucket="no-such-bucket-" + uuid.uuid4().hex[:8])
    assert err(e) == (404, "NoSuchBucket")


def test_object_lock_configuration_of_a_lock_bucket(s3):
    name = "lk-" + uuid.uuid4().hex[:10]
    s3.create_bucket(Bucket=name, ObjectLockEnabledForBucket=True)
    r = s3.get_object_lock_configuration(Bucket=name)
    assert r["ObjectLockConfiguration"]["ObjectLockEnabled"] == "Enabled"


def test_get_object_attributes(s3, bucket):
    body = b"0123456789"
    s3.put_object(Bucket=bucket, Key="k", Body=body, ChecksumAlgorithm="SHA256")
    r = s3.get_object_attributes(Bucket=bucket, Key="k",
                                 ObjectAttributes=["ETag", "ObjectSize", "StorageClass",
                                                   "Checksum"])
    assert r["ETag"] == hashlib.md5(body).hexdigest()  # no quotes, unlike GET/HEAD
    assert r["ObjectSize"] == 10 and r["StorageClass"] == "STANDARD"
    assert r["Checksum"]["ChecksumSHA256"] == s3.head_object(
        Bucket=bucket, Key="k", ChecksumMode="ENABLED")["ChecksumSHA256"]
    assert "LastModified" in r and "ObjectParts" not in r
    r = s3.get_object_attributes(Bucket=bucket, Key="k", ObjectAttributes=["ObjectSize"])
    assert r["ObjectSize"] == 10 and "ETag" not in r
    with pytest.raises(ClientError) as e:
        s3.get_object_attributes(Bucket=bucket, Key="nope", ObjectAttributes=["ETag"])
    assert err(e) == (404, "NoSuchKey")
    with pytest.raises(ClientError) as e:
        s3.get_object_attributes(Bucket=bucket, Key="k", ObjectAttributes=["Bogus"])
    assert err(e) == (400, "InvalidArgument")


def test_get_object_attributes_multipart(s3, bucket):
    up = s3.create_multipart_upload(Bucket=bucket, Key="mp")["UploadId"]
    parts = []
    for n, size in ((1, 5 * 1024 * 1024), (2, 100), ):
        r = s3.upload_part(Bucket=bucket, Key="mp", UploadId=up, PartNumber=n, Body=b"x" * size)
        parts.append({"PartNumber": n, "ETag": r["ETag"]})
    s3.complete_multipart_upload(Bucket=bucket, Key="mp", UploadId=up,
                                 MultipartUpload={"Parts": parts})
    r = s3.get_object_attributes(Bucket=bucket, Key="mp", ObjectAttributes=["ObjectParts", "ETag"],
                                 MaxParts=1)
    assert r["ETag"].endswith("-2")
    op = r["ObjectParts"]
    assert op["TotalPartsCount"] == 2 and op["IsTruncated"] is True
    assert op["Parts"] == [{"PartNumber": 1, "Size": 5 * 1024 * 1024}]
    r = s3.get_object_attributes(Bucket=bucket, Key="mp", ObjectAttributes=["ObjectParts"],
                                 PartNumberMarker=1)
    assert r["ObjectParts"]["Parts"] == [{"PartNumber": 2, "Size": 100}]
    assert r["ObjectParts"]["IsTruncated"] is False


def test_get_object_attributes_versions(s3, bucket):
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    v1 = s3.put_object(Bucket=bucket, Key="k", Body=b"1")["VersionId"]
    s3.put_object(Bucket=bucket, Key="k", Body=b"22")
    r = s3.get_object_attributes(Bucket=bucket, Key="k", VersionId=v1,
                                 ObjectAttributes=["ObjectSize"])
    assert r["ObjectSize"] == 1 and r["VersionId"] == v1
    s3.delete_object(Bucket=bucket, Key="k")
    with pytest.raises(ClientError) as e:
        s3.get_object_attributes(Bucket=bucket, Key="k", ObjectAttributes=["ObjectSize"])
    assert err(e) == (404, "NoSuchKey")
    assert e.value.response["ResponseMetadata"]["HTTPHeaders"]["x-amz-delete-marker"] == "true"


def test_anonymous_response_overrides_are_refused(s3, bucket, nimbus):
    s3.put_bucket_ownership_controls(Bucket=bucket, OwnershipControls={
        "Rules": [{"ObjectOwnership": "BucketOwnerPreferred"}]})
    s3.delete_public_access_block(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="o", Body=b"x", ACL="public-read")
    url = "%s/%s/o" % (nimbus.endpoint, bucket)
    assert requests.get(url).content == b"x"
    r = requests.get(url + "?response-content-type=a/b")
    assert r.status_code == 400 and "<Code>InvalidRequest</Code>" in r.text
    # signed requests may override
    assert s3.get_object(Bucket=bucket, Key="o", ResponseContentType="a/b")["ContentType"] == "a/b"


def test_head_reports_tagging_count(s3, bucket):
    s3.put_object(Bucket=bucket, Key="k", Body=b"x", Tagging="a=1&b=2")
    r = s3.head_object(Bucket=bucket, Key="k")
    assert r["ResponseMetadata"]["HTTPHeaders"]["x-amz-tagging-count"] == "2"
    assert s3.get_object(Bucket=bucket, Key="k")["TagCount"] == 2
    s3.put_object(Bucket=bucket, Key="plain", Body=b"x")
    r = s3.head_object(Bucket=bucket, Key="plain")
    assert "x-amz-tagging-count" not in r["ResponseMetadata"]["HTTPHeaders"]


@pytest.mark.parametrize("name", ["foo.-bar", "foo-.bar", "amzn-s3-demo-bucket", "abc--x-s3",
                                  "abc.mrap", "abc--table-s3", "abc-s3alias", "xn--abc"])
def test_reserved_and_malformed_bucket_names(s3, name):
    with pytest.raises(ClientError) as e:
        s3.create_bucket(Bucket=name)
    if e.value.operation_name == "CreateSession":
        # botocore >= 1.33 takes "--x-s3" names for S3 Express directory buckets and opens a
        # session (signing name s3express) before CreateBucket: Nimbus has none of that, and
        # the bucket the session names does not exist either
        assert err(e)[1] in ("NotImplemented", "NoSuchBucket")
        return
    assert err(e) == (400, "InvalidBucketName")


def test_complete_needs_part_checksums_of_a_checksum_upload(s3, bucket):
    up = s3.create_multipart_upload(Bucket=bucket, Key="k", ChecksumAlgorithm="SHA256")["UploadId"]
    r = s3.upload_part(Bucket=bucket, Key="k", UploadId=up, PartNumber=1, Body=b"x" * 10,
                       ChecksumAlgorithm="SHA256")
    with pytest.raises(ClientError) as e:
        s3.complete_multipart_upload(Bucket=bucket, Key="k", UploadId=up, MultipartUpload={
            "Parts": [{"PartNumber": 1, "ETag": r["ETag"]}]})
    assert err(e) == (400, "InvalidRequest")
    assert "missing for part 1" in e.value.response["Error"]["Message"]
    with pytest.raises(ClientError) as e:
        s3.complete_multipart_upload(Bucket=bucket, Key="k", UploadId=up, MultipartUpload={
            "Parts": [{"PartNumber": 1, "ETag": r["ETag"],
                       "ChecksumSHA256": "A" * 43 + "="}]})
    assert err(e) == (400, "InvalidPart")
    done = s3.complete_multipart_upload(Bucket=bucket, Key="k", UploadId=up, MultipartUpload={
        "Parts": [{"PartNumber": 1, "ETag": r["ETag"], "ChecksumSHA256": r["ChecksumSHA256"]}]})
    assert done["ChecksumSHA256"].endswith("-1")


def test_bucket_configurations_of_a_plain_bucket(s3, bucket):
    assert s3.list_bucket_analytics_configurations(Bucket=bucket)["IsTruncated"] is False
    assert "InventoryConfigurationList" not in s3.list_bucket_inventory_configurations(
        Bucket=bucket)
    assert s3.list_bucket_metrics_configurations(Bucket=bucket)["IsTruncated"] is False
    assert s3.list_bucket_intelligent_tiering_configurations(Bucket=bucket)["IsTruncated"] is False
    for call in (s3.get_bucket_analytics_configuration, s3.get_bucket_inventory_configuration,
                 s3.get_bucket_metrics_configuration,
                 s3.get_bucket_intelligent_tiering_configuration,
                 s3.delete_bucket_metrics_configuration):
        with pytest.raises(ClientError) as e:
            call(Bucket=bucket, Id="x")
        assert err(e) == (404, "NoSuchConfiguration")


def test_retention_and_legal_hold_reads(s3, bucket):
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    for call in (s3.get_object_retention, s3.get_object_legal_hold):
        with pytest.raises(ClientError) as e:
            call(Bucket=bucket, Key="k")
        assert err(e) == (400, "InvalidRequest")
    name = "lk-" + uuid.uuid4().hex[:10]
    s3.create_bucket(Bucket=name, ObjectLockEnabledForBucket=True)
    s3.put_object(Bucket=name, Key="k", Body=b"x")
    for call in (s3.get_object_retention, s3.get_object_legal_hold):
        with pytest.raises(ClientError) as e:
            call(Bucket=name, Key="k")
        assert err(e) == (404, "NoSuchObjectLockConfiguration")
        with pytest.raises(ClientError) as e:
            call(Bucket=name, Key="missing")
        assert err(e) == (404, "NoSuchKey")


def test_list_multipart_uploads_max_zero(s3, bucket):
    s3.create_multipart_upload(Bucket=bucket, Key="a")
    r = s3.list_multipart_uploads(Bucket=bucket, MaxUploads=0)
    assert r["IsTruncated"] is False and "Uploads" not in r


def test_head_with_range_sends_content_range(s3, bucket):
    s3.put_object(Bucket=bucket, Key="k", Body=b"0123456789")
    r = s3.head_object(Bucket=bucket, Key="k", Range="bytes=2-4")
    h = r["ResponseMetadata"]["HTTPHeaders"]
    assert r["ResponseMetadata"]["HTTPStatusCode"] == 206
    assert h["content-range"] == "bytes 2-4/10" and r["ContentLength"] == 3


def test_enforcing_ownership_needs_a_private_bucket_acl(s3, bucket):
    s3.put_bucket_ownership_controls(Bucket=bucket, OwnershipControls={
        "Rules": [{"ObjectOwnership": "ObjectWriter"}]})
    s3.delete_public_access_block(Bucket=bucket)
    s3.put_bucket_acl(Bucket=bucket, ACL="public-read")
    enforced = {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}
    with pytest.raises(ClientError) as e:
        s3.put_bucket_ownership_controls(Bucket=bucket, OwnershipControls=enforced)
    assert err(e) == (400, "InvalidBucketAclWithObjectOwnership")
    s3.put_bucket_acl(Bucket=bucket, ACL="private")
    s3.put_bucket_ownership_controls(Bucket=bucket, OwnershipControls=enforced)
    r = s3.get_bucket_ownership_controls(Bucket=bucket)
    assert r["OwnershipControls"]["Rules"][0]["ObjectOwnership"] == "BucketOwnerEnforced"


def test_version_id_marker_must_be_a_version_id(s3, bucket):
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    s3.put_object(Bucket=bucket, Key="k", Body=b"1")
    with pytest.raises(ClientError) as e:
        s3.list_object_versions(Bucket=bucket, KeyMarker="k", VersionIdMarker="bogus")
    assert err(e) == (400, "InvalidArgument")
    assert s3.list_object_versions(Bucket=bucket, KeyMarker="k", VersionIdMarker="null")[
        "IsTruncated"] is False


def test_delete_objects_with_a_malformed_version_id(s3, bucket):
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    v = s3.put_object(Bucket=bucket, Key="k", Body=b"1")["VersionId"]
    r = s3.delete_objects(Bucket=bucket, Delete={"Objects": [
        {"Key": "k", "VersionId": "bogus"}, {"Key": "k", "VersionId": v}]})
    assert r["Errors"] == [{"Key": "k", "VersionId": "bogus", "Code": "NoSuchVersion",
                            "Message": "The specified version does not exist."}]
    assert r["Deleted"] == [{"Key": "k", "VersionId": v}]
    with pytest.raises(ClientError) as e:
        s3.delete_object(Bucket=bucket, Key="k", VersionId="bogus")
    assert err(e) == (400, "InvalidArgument")
