"""Checksums as current SDKs use them, on the wire with botocore 1.29: ChecksumType in the
listings (no member in 1.29's model: checked in the raw XML), and a part whose checksum is not
its upload's algorithm (current SDKs add a CRC32 to every part unless told otherwise). The
rest of the checksum-type surface is in test_compat_sdk_checksums.py."""
import xml.etree.ElementTree as ET

import pytest
from botocore.exceptions import ClientError

from s3util import bucket, err, s3  # noqa: F401 (fixtures)

NS = "{http://s3.amazonaws.com/doc/2006-03-01/}"


def raw_of(client, op):
    """The raw body of op's next responses."""
    box = {}

    def keep(http_response, **kw):
        box["body"] = http_response.content
    client.meta.events.register("after-call.s3.%s" % op, keep)
    return box


def test_listings_name_each_checksum_type(s3, bucket):
    s3.put_object(Bucket=bucket, Key="k", Body=b"x", ChecksumAlgorithm="CRC32")
    s3.put_object(Bucket=bucket, Key="plain", Body=b"x")
    up = s3.create_multipart_upload(Bucket=bucket, Key="m", ChecksumAlgorithm="CRC32")["UploadId"]
    p = s3.upload_part(Bucket=bucket, Key="m", UploadId=up, PartNumber=1, Body=b"y",
                       ChecksumAlgorithm="CRC32")
    s3.complete_multipart_upload(Bucket=bucket, Key="m", UploadId=up, MultipartUpload={"Parts": [
        {"PartNumber": 1, "ETag": p["ETag"], "ChecksumCRC32": p["ChecksumCRC32"]}]})
    want = {"k": "FULL_OBJECT", "m": "COMPOSITE", "plain": None}
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
