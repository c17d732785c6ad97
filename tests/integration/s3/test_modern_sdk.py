"""What current SDKs (botocore >= 1.36, aws CLI 1.37+/2.23+) send and read that botocore 1.29's
S3 model has no member for, reproduced on the wire with Debian's boto3 plus explicit headers or
with raw signed requests: ListBuckets pages and filters, CRC64NVME checksums, ChecksumType and
FULL_OBJECT multipart uploads (combined CRCs, x-amz-mp-object-size)."""
import base64
import hashlib
import os
import struct
import xml.etree.ElementTree as ET
import zlib

import pytest
from botocore.exceptions import ClientError

import sigv4util
from s3util import bucket, err, s3  # noqa: F401 (fixtures)

NS = "{http://s3.amazonaws.com/doc/2006-03-01/}"


def _table(poly):
    t = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ poly if c & 1 else c >> 1
        t.append(c)
    return t


_T64 = _table(0x9A6C9329AC4BC9B5)


def crc64nvme(data):
    crc = 0xFFFFFFFFFFFFFFFF
    for b in data:
        crc = _T64[(crc ^ b) & 0xFF] ^ (crc >> 8)
    return base64.b64encode(struct.pack(">Q", crc ^ 0xFFFFFFFFFFFFFFFF)).decode()


def crc32(data):
    return base64.b64encode(struct.pack(">I", zlib.crc32(data))).decode()


def with_headers(client, op, headers):
    """Send these headers on every call of op (signed, as a newer SDK would)."""
    def add(request, **kw):
        for k, v in headers.items():
            request.headers[k] = v
    client.meta.events.register("before-sign.s3.%s" % op, add)
    return add


def hdrs(r):
    return r["ResponseMetadata"]["HTTPHeaders"]


def test_crc64_vector():
    assert crc64nvme(b"123456789") == base64.b64encode(struct.pack(">Q", 0xAE8B14860A799888)).decode()


# ---- ListBuckets pagination and filters (current paginator; aws s3 ls --bucket-name-prefix)

def list_buckets(nimbus, query):
    host = "%s:%d" % (nimbus.host, nimbus.port)
    h = sigv4util.sign("GET", host, "/", sorted(query.items()), {"x-amz-content-sha256": "UNSIGNED-PAYLOAD"},
                       b"", service="s3", payload_hash="UNSIGNED-PAYLOAD")
    path = "/" + ("?" + sigv4util.canonical_query(sorted(query.items())) if query else "")
    status, _, body = sigv4util.request(nimbus, "GET", path, h)
    return status, ET.fromstring(body)


def names(root):
    return [(b.findtext(NS + "Name"), b.findtext(NS + "BucketRegion"))
            for b in root.iter(NS + "Bucket")]


def test_list_buckets_pages_and_filters(s3, nimbus):
    for n in ("lb-a", "lb-b", "lb-c", "other"):
        s3.create_bucket(Bucket=n)
    # no parameter: every bucket, no region (what botocore 1.29 and AWS without paging do)
    status, root = list_buckets(nimbus, {})
    assert status == 200 and names(root) == [(n, None) for n in ("lb-a", "lb-b", "lb-c", "other")]
    assert root.find(NS + "ContinuationToken") is None
    assert [b["Name"] for b in s3.list_buckets()["Buckets"]] == ["lb-a", "lb-b", "lb-c", "other"]
    status, root = list_buckets(nimbus, {"prefix": "lb-"})
    assert names(root) == [("lb-a", "us-east-1"), ("lb-b", "us-east-1"), ("lb-c", "us-east-1")]
    assert root.findtext(NS + "Prefix") == "lb-"
    status, root = list_buckets(nimbus, {"max-buckets": "2"})
    assert names(root) == [("lb-a", "us-east-1"), ("lb-b", "us-east-1")]
    token = root.findtext(NS + "ContinuationToken")
    assert token
    status, root = list_buckets(nimbus, {"max-buckets": "2", "continuation-token": token})
    assert [n for n, _ in names(root)] == ["lb-c", "other"]
    assert root.find(NS + "ContinuationToken") is None  # nothing after the last page
    status, root = list_buckets(nimbus, {"max-buckets": "2", "prefix": "lb-", "continuation-token": token})
    assert [n for n, _ in names(root)] == ["lb-c"]
    status, root = list_buckets(nimbus, {"bucket-region": "eu-west-1"})
    assert names(root) == []
    status, root = list_buckets(nimbus, {"bucket-region": "us-east-1", "prefix": "oth"})
    assert names(root) == [("other", "us-east-1")]
    status, root = list_buckets(nimbus, {"continuation-token": "!!"})
    assert status == 400 and root.findtext("Code") == "InvalidArgument"
    status, root = list_buckets(nimbus, {"max-buckets": "10001"})
    assert status == 400 and root.findtext("Code") == "InvalidArgument"


# ---- CRC64NVME (returned) and ChecksumType

def test_crc64nvme_put_is_returned_with_its_type(s3, bucket):
    data = b"abc" * 1000
    with_headers(s3, "PutObject", {"x-amz-checksum-crc64nvme": crc64nvme(data)})
    r = s3.put_object(Bucket=bucket, Key="k", Body=data)
    assert hdrs(r)["x-amz-checksum-crc64nvme"] == crc64nvme(data)
    assert hdrs(r)["x-amz-checksum-type"] == "FULL_OBJECT"
    h = s3.head_object(Bucket=bucket, Key="k", ChecksumMode="ENABLED")
    assert hdrs(h)["x-amz-checksum-crc64nvme"] == crc64nvme(data)
    assert hdrs(h)["x-amz-checksum-type"] == "FULL_OBJECT"
    # without checksum mode no checksum, and a range has none either
    assert "x-amz-checksum-crc64nvme" not in hdrs(s3.head_object(Bucket=bucket, Key="k"))
    g = s3.get_object(Bucket=bucket, Key="k", ChecksumMode="ENABLED", Range="bytes=0-9")
    assert "x-amz-checksum-crc64nvme" not in hdrs(g) and "x-amz-checksum-type" not in hdrs(g)


def test_a_wrong_crc64nvme_is_refused(s3, bucket):
    with_headers(s3, "PutObject", {"x-amz-checksum-crc64nvme": crc64nvme(b"other")})
    with pytest.raises(ClientError) as e:
        s3.put_object(Bucket=bucket, Key="k", Body=b"data")
    assert err(e) == (400, "BadDigest")


def raw_of(client, op):
    """The raw body of op's next responses (members botocore 1.29 cannot parse)."""
    box = {}

    def keep(http_response, **kw):
        box["body"] = http_response.content
    client.meta.events.register("after-call.s3.%s" % op, keep)
    return box


def test_checksum_type_in_listings_and_attributes(s3, bucket):
    r = s3.put_object(Bucket=bucket, Key="k", Body=b"x", ChecksumAlgorithm="CRC32")
    assert hdrs(r)["x-amz-checksum-type"] == "FULL_OBJECT"
    s3.put_object(Bucket=bucket, Key="plain", Body=b"x")
    box = raw_of(s3, "ListObjectsV2")
    s3.list_objects_v2(Bucket=bucket)
    root = ET.fromstring(box["body"])
    got = {c.findtext(NS + "Key"): c.findtext(NS + "ChecksumType") for c in root.iter(NS + "Contents")}
    assert got == {"k": "FULL_OBJECT", "plain": None}
    box = raw_of(s3, "GetObjectAttributes")
    a = s3.get_object_attributes(Bucket=bucket, Key="k", ObjectAttributes=["Checksum"])
    assert a["Checksum"]["ChecksumCRC32"] == crc32(b"x")
    assert b"<ChecksumType>FULL_OBJECT</ChecksumType>" in box["body"]


# ---- multipart: COMPOSITE (the default) and FULL_OBJECT

P1 = os.urandom(5 * 1024 * 1024)
P2 = b"tail of the object"


def upload(s3, bucket, key, create_headers=None):
    if create_headers:
        with_headers(s3, "CreateMultipartUpload", create_headers)
    r = s3.create_multipart_upload(Bucket=bucket, Key=key, ChecksumAlgorithm="CRC32")
    up = r["UploadId"]
    parts = []
    for i, body in enumerate((P1, P2), 1):
        p = s3.upload_part(Bucket=bucket, Key=key, UploadId=up, PartNumber=i, Body=body,
                           ChecksumAlgorithm="CRC32")
        parts.append({"PartNumber": i, "ETag": p["ETag"], "ChecksumCRC32": p["ChecksumCRC32"]})
    return r, up, parts


def test_composite_upload_reports_its_type(s3, bucket):
    r, up, parts = upload(s3, bucket, "k")
    assert hdrs(r)["x-amz-checksum-type"] == "COMPOSITE"
    done = s3.complete_multipart_upload(Bucket=bucket, Key="k", UploadId=up, MultipartUpload={"Parts": parts})
    assert done["ChecksumCRC32"].endswith("-2")
    h = s3.head_object(Bucket=bucket, Key="k", ChecksumMode="ENABLED")
    assert hdrs(h)["x-amz-checksum-type"] == "COMPOSITE"


def test_full_object_upload_has_the_whole_objects_crc(boto, bucket):
    s3 = boto("s3")
    whole = crc32(P1 + P2)
    r, up, parts = upload(s3, bucket, "k", create_headers={"x-amz-checksum-type": "FULL_OBJECT"})
    assert hdrs(r)["x-amz-checksum-type"] == "FULL_OBJECT"
    box = raw_of(s3, "ListParts")
    assert s3.list_parts(Bucket=bucket, Key="k", UploadId=up)["ChecksumAlgorithm"] == "CRC32"
    assert b"<ChecksumType>FULL_OBJECT</ChecksumType>" in box["body"]
    box = raw_of(s3, "ListMultipartUploads")
    s3.list_multipart_uploads(Bucket=bucket)
    assert b"<ChecksumType>FULL_OBJECT</ChecksumType>" in box["body"]

    def complete(headers=None, **kw):
        c = boto("s3")
        if headers:
            with_headers(c, "CompleteMultipartUpload", headers)
        box = raw_of(c, "CompleteMultipartUpload")
        out = c.complete_multipart_upload(Bucket=bucket, Key="k", UploadId=up,
                                          MultipartUpload={"Parts": parts}, **kw)
        return out, box["body"]
    # the size the client says it sent must be the parts' total
    with pytest.raises(ClientError) as e:
        complete({"x-amz-mp-object-size": "5"})
    assert err(e) == (400, "InvalidRequest")
    # a whole-object CRC that is not the object's
    with pytest.raises(ClientError) as e:
        complete(ChecksumCRC32=crc32(b"no"))
    assert err(e) == (400, "BadDigest")
    # the upload's checksum type, not another
    with pytest.raises(ClientError) as e:
        complete({"x-amz-checksum-type": "COMPOSITE"})
    assert err(e) == (400, "InvalidRequest")
    done, raw = complete({"x-amz-checksum-type": "FULL_OBJECT",
                          "x-amz-mp-object-size": str(len(P1 + P2))}, ChecksumCRC32=whole)
    assert done["ChecksumCRC32"] == whole
    assert b"<ChecksumType>FULL_OBJECT</ChecksumType>" in raw
    g = s3.get_object(Bucket=bucket, Key="k", ChecksumMode="ENABLED")
    assert g["Body"].read() == P1 + P2 and g["ChecksumCRC32"] == whole
    assert hdrs(g)["x-amz-checksum-type"] == "FULL_OBJECT"
    # one part of it is not what the whole object's CRC covers: no checksum on it
    g = s3.get_object(Bucket=bucket, Key="k", ChecksumMode="ENABLED", PartNumber=2)
    assert g["Body"].read() == P2 and "ChecksumCRC32" not in g
    a = s3.get_object_attributes(Bucket=bucket, Key="k", ObjectAttributes=["Checksum"])
    assert a["Checksum"]["ChecksumCRC32"] == whole


def test_full_object_crc64nvme_upload(boto, bucket):
    s3 = boto("s3")
    r = s3.create_multipart_upload(Bucket=bucket, Key="k", ChecksumAlgorithm="CRC64NVME")
    assert hdrs(r)["x-amz-checksum-type"] == "FULL_OBJECT"  # CRC64NVME is FULL_OBJECT only
    up = r["UploadId"]
    etags = []
    for i, body in enumerate((P1, P2), 1):
        c = boto("s3")
        with_headers(c, "UploadPart", {"x-amz-checksum-crc64nvme": crc64nvme(body)})
        p = c.upload_part(Bucket=bucket, Key="k", UploadId=up, PartNumber=i, Body=body)
        assert hdrs(p)["x-amz-checksum-crc64nvme"] == crc64nvme(body)
        etags.append(p["ETag"])
    # botocore 1.29 has no ChecksumCRC64NVME in CompletedPart: the XML by hand
    xml = ("<CompleteMultipartUpload>%s</CompleteMultipartUpload>" % "".join(
        "<Part><PartNumber>%d</PartNumber><ETag>%s</ETag><ChecksumCRC64NVME>%s</ChecksumCRC64NVME></Part>"
        % (i, e, crc64nvme(b)) for i, (e, b) in enumerate(zip(etags, (P1, P2)), 1))).encode()
    c = boto("s3")

    def body(request, **kw):
        request.data = xml
        request.headers["Content-Length"] = str(len(xml))
        request.headers["Content-MD5"] = base64.b64encode(hashlib.md5(xml).digest()).decode()
        request.headers["x-amz-checksum-crc64nvme"] = crc64nvme(P1 + P2)
    c.meta.events.register("before-sign.s3.CompleteMultipartUpload", body)
    box = raw_of(c, "CompleteMultipartUpload")
    c.complete_multipart_upload(Bucket=bucket, Key="k", UploadId=up,
                                MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": etags[0]}]})
    assert ("<ChecksumCRC64NVME>%s</ChecksumCRC64NVME>" % crc64nvme(P1 + P2)).encode() in box["body"]
    h = s3.head_object(Bucket=bucket, Key="k", ChecksumMode="ENABLED")
    assert hdrs(h)["x-amz-checksum-crc64nvme"] == crc64nvme(P1 + P2)
    assert hdrs(h)["x-amz-checksum-type"] == "FULL_OBJECT"


@pytest.mark.parametrize("algo,kind", [("SHA256", "FULL_OBJECT"), ("CRC64NVME", "COMPOSITE")])
def test_checksum_types_an_algorithm_cannot_make(s3, bucket, algo, kind):
    with_headers(s3, "CreateMultipartUpload", {"x-amz-checksum-type": kind})
    with pytest.raises(ClientError) as e:
        s3.create_multipart_upload(Bucket=bucket, Key="k", ChecksumAlgorithm=algo)
    assert err(e) == (400, "InvalidRequest")


def test_checksum_type_needs_an_algorithm(s3, bucket):
    with_headers(s3, "CreateMultipartUpload", {"x-amz-checksum-type": "FULL_OBJECT"})
    with pytest.raises(ClientError) as e:
        s3.create_multipart_upload(Bucket=bucket, Key="k")
    assert err(e) == (400, "InvalidRequest")
