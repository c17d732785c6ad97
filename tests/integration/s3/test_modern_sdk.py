"""Checksums as current SDKs use them, on the wire with botocore 1.29: ChecksumType in the
listings (no member in 1.29's model: checked in the raw XML), and a part whose checksum is not
its upload's algorithm (current SDKs add a CRC32 to every part unless told otherwise), and
configuration bodies checked against the CRC32 current SDKs send instead of Content-MD5. The
rest of the checksum-type surface is in test_compat_sdk_checksums.py."""
import base64
import hashlib
import struct
import xml.etree.ElementTree as ET
import zlib

import pytest
from botocore.exceptions import ClientError

import sigv4util
from s3util import bucket, err, s3  # noqa: F401 (fixtures)

NS = "{http://s3.amazonaws.com/doc/2006-03-01/}"


def raw_of(client, op):
    """The raw body of op's next responses."""
    box = {}

    def keep(http_response, **kw):
        box["body"] = http_response.content
    client.meta.events.register("after-call.s3.%s" % op, keep)
    return box


def test_listings_name_each_checksum_type(nimbus, s3, bucket):
    s3.put_object(Bucket=bucket, Key="k", Body=b"x", ChecksumAlgorithm="CRC32")
    # without a checksum (botocore >= 1.36 would add a CRC32 of its own)
    host = "%s:%d" % (nimbus.host, nimbus.port)
    h = sigv4util.sign("PUT", host, "/%s/plain" % bucket, [], {"x-amz-content-sha256": "UNSIGNED-PAYLOAD"},
                       b"x", service="s3", payload_hash="UNSIGNED-PAYLOAD")
    assert sigv4util.request(nimbus, "PUT", "/%s/plain" % bucket, h, b"x")[0] == 200
    up = s3.create_multipart_upload(Bucket=bucket, Key="m", ChecksumAlgorithm="CRC32")["UploadId"]
    p = s3.upload_part(Bucket=bucket, Key="m", UploadId=up, PartNumber=1, Body=b"y",
                       ChecksumAlgorithm="CRC32")
    s3.complete_multipart_upload(Bucket=bucket, Key="m", UploadId=up, MultipartUpload={"Parts": [
        {"PartNumber": 1, "ETag": p["ETag"], "ChecksumCRC32": p["ChecksumCRC32"]}]})
    # "plain" carries S3's default checksum (CRC64NVME, FULL_OBJECT)
    want = {"k": "FULL_OBJECT", "m": "COMPOSITE", "plain": "FULL_OBJECT"}
    for op, call, tag in (("ListObjectsV2", s3.list_objects_v2, "Contents"),
                          ("ListObjects", s3.list_objects, "Contents"),
                          ("ListObjectVersions", s3.list_object_versions, "Version")):
        box = raw_of(s3, op)
        call(Bucket=bucket)
        root = ET.fromstring(box["body"])
        got = {c.findtext(NS + "Key"): c.findtext(NS + "ChecksumType") for c in root.iter(NS + tag)}
        assert got == want, op
    s3.create_multipart_upload(Bucket=bucket, Key="open", ChecksumAlgorithm="SHA256")
    s3.create_multipart_upload(Bucket=bucket, Key="none")
    box = raw_of(s3, "ListMultipartUploads")
    s3.list_multipart_uploads(Bucket=bucket)
    root = ET.fromstring(box["body"])
    got = {u.findtext(NS + "Key"): u.findtext(NS + "ChecksumType") for u in root.iter(NS + "Upload")}
    assert got == {"open": "COMPOSITE", "none": None}


def test_a_part_checksummed_with_another_algorithm_is_refused(s3, bucket):
    up = s3.create_multipart_upload(Bucket=bucket, Key="k", ChecksumAlgorithm="CRC32")["UploadId"]
    with pytest.raises(ClientError) as e:
        s3.upload_part(Bucket=bucket, Key="k", UploadId=up, PartNumber=1, Body=b"x",
                       ChecksumAlgorithm="SHA256")
    assert err(e) == (400, "InvalidRequest")
    assert e.value.response["Error"]["Message"] == (
        "Checksum Type mismatch occurred, expected checksum Type: crc32, actual checksum Type: sha256")
    # the upload's own algorithm goes in, and the part is listed with it
    p = s3.upload_part(Bucket=bucket, Key="k", UploadId=up, PartNumber=1, Body=b"x",
                       ChecksumAlgorithm="CRC32")
    parts = s3.list_parts(Bucket=bucket, Key="k", UploadId=up)["Parts"]
    assert [(q["PartNumber"], q["ChecksumCRC32"]) for q in parts] == [(1, p["ChecksumCRC32"])]


def digest_headers(client, op, headers):
    """Replace the body digests botocore 1.29 sends on op with these (a newer SDK sends
    x-amz-checksum-crc32 where 1.29 sent Content-MD5)."""
    def swap(request, **kw):
        for k in ["Content-MD5"] + list(headers):
            if k in request.headers:  # (setting a header adds one more)
                del request.headers[k]
        for k, v in headers.items():
            request.headers[k] = v
    client.meta.events.register("before-sign.s3.%s" % op, swap)


def crc32_of(body):
    return base64.b64encode(struct.pack(">I", zlib.crc32(body))).decode()


CONFIG_CALLS = [
    ("PutBucketTagging", lambda s3, b: s3.put_bucket_tagging(
        Bucket=b, Tagging={"TagSet": [{"Key": "a", "Value": "b"}]})),
    ("PutBucketLifecycleConfiguration", lambda s3, b: s3.put_bucket_lifecycle_configuration(
        Bucket=b, LifecycleConfiguration={"Rules": [
            {"ID": "r", "Status": "Enabled", "Filter": {}, "Expiration": {"Days": 3}}]})),
    ("PutBucketCors", lambda s3, b: s3.put_bucket_cors(
        Bucket=b, CORSConfiguration={"CORSRules": [{"AllowedMethods": ["GET"], "AllowedOrigins": ["*"]}]})),
    ("PutBucketVersioning", lambda s3, b: s3.put_bucket_versioning(
        Bucket=b, VersioningConfiguration={"Status": "Enabled"})),
    ("PutObjectTagging", lambda s3, b: s3.put_object_tagging(
        Bucket=b, Key="k", Tagging={"TagSet": [{"Key": "a", "Value": "b"}]})),
]


@pytest.mark.parametrize("op,call", CONFIG_CALLS, ids=[c[0] for c in CONFIG_CALLS])
def test_configuration_bodies_are_checked_against_their_digest(boto, bucket, op, call):
    boto("s3").put_object(Bucket=bucket, Key="k", Body=b"x")
    # a CRC32 that is not the body's, as a current SDK would send it (without Content-MD5)
    s3 = boto("s3")
    digest_headers(s3, op, {"x-amz-checksum-crc32": crc32_of(b"something else")})
    with pytest.raises(ClientError) as e:
        call(s3, bucket)
    assert err(e) == (400, "BadDigest")
    assert e.value.response["Error"]["Message"] == "The CRC32 you specified did not match the calculated checksum."
    # a Content-MD5 that is not the body's
    s3 = boto("s3")
    digest_headers(s3, op, {"Content-MD5": base64.b64encode(hashlib.md5(b"else").digest()).decode()})
    with pytest.raises(ClientError) as e:
        call(s3, bucket)
    assert err(e) == (400, "BadDigest")
    # the right CRC32 goes in
    s3 = boto("s3")

    def right(request, **kw):
        for k in ("Content-MD5", "x-amz-checksum-crc32"):
            if k in request.headers:
                del request.headers[k]
        request.headers["x-amz-checksum-crc32"] = crc32_of(request.body or b"")
    s3.meta.events.register("before-sign.s3.%s" % op, right)
    call(s3, bucket)


def test_complete_checksum_header_is_the_objects_not_the_bodys(boto, bucket):
    """x-amz-checksum-crc32 on CompleteMultipartUpload names the whole object's CRC32 (of a
    FULL_OBJECT upload), not the XML body's: the body check leaves it alone."""
    s3 = boto("s3")

    def full(request, **kw):
        request.headers["x-amz-checksum-type"] = "FULL_OBJECT"
    s3.meta.events.register("before-sign.s3.CreateMultipartUpload", full)
    up = s3.create_multipart_upload(Bucket=bucket, Key="k", ChecksumAlgorithm="CRC32")["UploadId"]
    p = s3.upload_part(Bucket=bucket, Key="k", UploadId=up, PartNumber=1, Body=b"x",
                       ChecksumAlgorithm="CRC32")
    done = s3.complete_multipart_upload(
        Bucket=bucket, Key="k", UploadId=up, ChecksumCRC32=crc32_of(b"x"),
        MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": p["ETag"], "ChecksumCRC32": p["ChecksumCRC32"]}]})
    assert done["ChecksumCRC32"] == crc32_of(b"x")
