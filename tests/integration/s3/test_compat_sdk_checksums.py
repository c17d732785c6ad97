"""What current AWS SDKs (the JS SDK v3 here; newer boto3 alike) send and read that Debian's
botocore 1.29 does not know: CRC64NVME checksums, the checksum type (FULL_OBJECT / COMPOSITE)
of objects and multipart uploads, ListBuckets paging and CompleteMultipartUpload's absolute
Location. Driven with Debian's boto3 plus explicit headers, or raw signed requests where boto3
1.26 cannot say it (CRC64NVME, the new members in XML bodies)."""
import base64
import hashlib
import http.client
import os
import urllib.parse
import uuid
import xml.etree.ElementTree as ET
import zlib

import pytest
from botocore.exceptions import ClientError

from s3util import bucket, err, s3  # noqa: F401 (fixtures)
from sigv4util import sign

NS = "{http://s3.amazonaws.com/doc/2006-03-01/}"
PART = 5 * 1024 * 1024


def _crc64nvme(data):
    """Bitwise CRC-64/NVME (reflected, poly 0x9a6c9329ac4bc9b5): small inputs only."""
    crc = 0xFFFFFFFFFFFFFFFF
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ (0x9A6C9329AC4BC9B5 if crc & 1 else 0)
    return crc ^ 0xFFFFFFFFFFFFFFFF


def b64_crc64nvme(data):
    return base64.b64encode(_crc64nvme(data).to_bytes(8, "big")).decode()


def b64_crc32(data):
    return base64.b64encode(zlib.crc32(data).to_bytes(4, "big")).decode()


def req(server, method, path, params=(), headers=None, body=b"", host=None):
    """A signed S3 request; host: the Host header (virtual-hosted style), else host:port."""
    params = list(params)
    q = "&".join("%s=%s" % (urllib.parse.quote(k, safe="-_.~"), urllib.parse.quote(v, safe="-_.~"))
                 for k, v in params)
    headers = dict(headers or {})
    headers["x-amz-content-sha256"] = hashlib.sha256(body).hexdigest()
    headers = sign(method, host or "%s:%d" % (server.host, server.port), path, params, headers,
                   body, service="s3")
    conn = http.client.HTTPConnection(server.host, server.port, timeout=60)
    conn.request(method, path + ("?" + q if q else ""), body=body, headers=headers)
    r = conn.getresponse()
    data = r.read()
    conn.close()
    return r.status, {k.lower(): v for k, v in r.getheaders()}, data


def xml_text(data, tag):
    """Text of the first element named tag (results are namespaced, errors are not)."""
    root = ET.fromstring(data)
    el = root.find(".//" + NS + tag)
    if el is None:
        el = root.find(".//" + tag) if root.tag != tag else root
    return None if el is None else el.text


def complete_body(parts, member=None):
    x = "<CompleteMultipartUpload>"
    for n, etag, ck in parts:
        x += "<Part><PartNumber>%d</PartNumber><ETag>%s</ETag>" % (n, etag)
        if member and ck:
            x += "<%s>%s</%s>" % (member, ck, member)
        x += "</Part>"
    return (x + "</CompleteMultipartUpload>").encode()


def test_put_object_crc64nvme_is_echoed_and_returned(nimbus, s3, bucket):
    # the JS SDK's ChecksumAlgorithm=CRC64NVME: the checksum was verified and stored, but no
    # answer carried it (the model had no such member)
    body = b"hello crc64nvme"
    ck = b64_crc64nvme(body)
    st, h, _ = req(nimbus, "PUT", "/%s/k" % bucket, headers={"x-amz-checksum-crc64nvme": ck},
                   body=body)
    assert st == 200
    assert h["x-amz-checksum-crc64nvme"] == ck and h["x-amz-checksum-type"] == "FULL_OBJECT"
    st, h, _ = req(nimbus, "HEAD", "/%s/k" % bucket, headers={"x-amz-checksum-mode": "ENABLED"})
    assert st == 200
    assert h["x-amz-checksum-crc64nvme"] == ck and h["x-amz-checksum-type"] == "FULL_OBJECT"
    # a wrong one is refused like the others
    st, _, data = req(nimbus, "PUT", "/%s/k2" % bucket,
                      headers={"x-amz-checksum-crc64nvme": b64_crc64nvme(b"other")}, body=body)
    assert st == 400 and b"BadDigest" in data
    # the object listing names the algorithm and the type
    st, _, data = req(nimbus, "GET", "/" + bucket, params=[("list-type", "2")])
    assert xml_text(data, "ChecksumAlgorithm") == "CRC64NVME"
    assert xml_text(data, "ChecksumType") == "FULL_OBJECT"


def test_checksum_type_on_put_get_head_copy(s3, bucket):
    r = s3.put_object(Bucket=bucket, Key="k", Body=b"data", ChecksumAlgorithm="CRC32")
    assert r["ResponseMetadata"]["HTTPHeaders"]["x-amz-checksum-type"] == "FULL_OBJECT"
    h = s3.head_object(Bucket=bucket, Key="k", ChecksumMode="ENABLED")
    assert h["ChecksumCRC32"] == b64_crc32(b"data")
    assert h["ResponseMetadata"]["HTTPHeaders"]["x-amz-checksum-type"] == "FULL_OBJECT"
    g = s3.get_object(Bucket=bucket, Key="k", ChecksumMode="ENABLED")
    assert g["Body"].read() == b"data"
    assert g["ResponseMetadata"]["HTTPHeaders"]["x-amz-checksum-type"] == "FULL_OBJECT"
    # without checksum mode, no checksum and no type
    h = s3.head_object(Bucket=bucket, Key="k")
    assert "x-amz-checksum-type" not in h["ResponseMetadata"]["HTTPHeaders"]
    # an object sent without a checksum gets S3's default one, a FULL_OBJECT CRC64NVME
    undo = _without_sdk_checksum(s3, "PutObject")
    try:
        s3.put_object(Bucket=bucket, Key="plain", Body=b"x")
        r = s3.put_object(Bucket=bucket, Key="plain", Body=b"x")
    finally:
        undo()
    assert r["ResponseMetadata"]["HTTPHeaders"]["x-amz-checksum-type"] == "FULL_OBJECT"
    assert "x-amz-checksum-crc64nvme" in r["ResponseMetadata"]["HTTPHeaders"]


def _without_sdk_checksum(s3, op):
    """Send op without the CRC32 botocore >= 1.36 adds by default (1.29 adds none), as a
    client that sends no checksum would."""
    def strip(request, **kw):
        for name in [h for h in request.headers if h.lower().startswith(("x-amz-checksum-", "x-amz-sdk-checksum"))]:
            del request.headers[name]
    s3.meta.events.register("before-sign.s3.%s" % op, strip)
    return lambda: s3.meta.events.unregister("before-sign.s3.%s" % op, strip)


def _upload_parts(s3, bucket, key, upload_id, chunks, algo=None):
    parts = []
    undo = None if algo else _without_sdk_checksum(s3, "UploadPart")
    try:
        for i, data in enumerate(chunks, 1):
            kw = {"ChecksumAlgorithm": algo} if algo else {}
            r = s3.upload_part(Bucket=bucket, Key=key, UploadId=upload_id, PartNumber=i, Body=data, **kw)
            parts.append((i, r["ETag"], r["ResponseMetadata"]["HTTPHeaders"]))
    finally:
        if undo:
            undo()
    return parts


def test_crc64nvme_multipart_upload_completes(nimbus, s3, bucket):
    # the JS SDK's Upload / CreateMultipartUpload with ChecksumAlgorithm=CRC64NVME: the parts'
    # <ChecksumCRC64NVME> in the Complete body were dropped, and every completion failed with
    # "The upload was created using a crc64nvme checksum ... missing for part 1"
    chunks = [os.urandom(PART), os.urandom(1234)]
    st, h, data = req(nimbus, "POST", "/%s/big" % bucket, params=[("uploads", "")],
                      headers={"x-amz-checksum-algorithm": "CRC64NVME"})
    assert st == 200
    assert h["x-amz-checksum-algorithm"] == "CRC64NVME"
    assert h["x-amz-checksum-type"] == "FULL_OBJECT"  # CRC64NVME's only (and default) type
    upload_id = xml_text(data, "UploadId")
    parts = _upload_parts(s3, bucket, "big", upload_id, chunks)
    cks = [p[2]["x-amz-checksum-crc64nvme"] for p in parts]  # the server computed them
    # ListParts carries the parts' checksums and the upload's type
    st, _, data = req(nimbus, "GET", "/%s/big" % bucket, params=[("uploadId", upload_id)])
    assert st == 200 and xml_text(data, "ChecksumType") == "FULL_OBJECT"
    assert [e.text for e in ET.fromstring(data).iter(NS + "ChecksumCRC64NVME")] == cks
    # a wrong part checksum is noticed (so the member is read) ...
    bad = complete_body([(1, parts[0][1], cks[1]), (2, parts[1][1], cks[1])], "ChecksumCRC64NVME")
    st, _, data = req(nimbus, "POST", "/%s/big" % bucket, params=[("uploadId", upload_id)], body=bad)
    assert st == 400 and b"InvalidPart" in data
    good = complete_body([(p[0], p[1], ck) for p, ck in zip(parts, cks)], "ChecksumCRC64NVME")
    st, _, data = req(nimbus, "POST", "/%s/big" % bucket, params=[("uploadId", upload_id)],
                      body=good)
    assert st == 200, data
    full = xml_text(data, "ChecksumCRC64NVME")
    assert xml_text(data, "ChecksumType") == "FULL_OBJECT" and "-" not in full
    # the whole object's CRC64NVME: what a single PUT of the same bytes gets
    st, h, _ = req(nimbus, "PUT", "/%s/single" % bucket, body=b"".join(chunks),
                   headers={"x-amz-checksum-algorithm": "CRC64NVME"})
    assert st == 200 and h["x-amz-checksum-crc64nvme"] == full
    st, h, _ = req(nimbus, "HEAD", "/%s/big" % bucket, headers={"x-amz-checksum-mode": "ENABLED"})
    assert h["x-amz-checksum-crc64nvme"] == full and h["x-amz-checksum-type"] == "FULL_OBJECT"


def _with_header(s3, op, name, value):
    def add(request, **kw):
        request.headers[name] = value
    s3.meta.events.register("before-sign.s3.%s" % op, add)
    return lambda: s3.meta.events.unregister("before-sign.s3.%s" % op, add)


def test_full_object_crc32_multipart(s3, bucket):
    # x-amz-checksum-type: FULL_OBJECT at create: the object's checksum is the CRC32 of all its
    # bytes (the parts' CRCs combined), not a checksum of checksums with "-<parts>"
    chunks = [os.urandom(PART), os.urandom(777)]
    undo = _with_header(s3, "CreateMultipartUpload", "x-amz-checksum-type", "FULL_OBJECT")
    try:
        u = s3.create_multipart_upload(Bucket=bucket, Key="f", ChecksumAlgorithm="CRC32")
    finally:
        undo()
    assert u["ResponseMetadata"]["HTTPHeaders"]["x-amz-checksum-type"] == "FULL_OBJECT"
    parts = _upload_parts(s3, bucket, "f", u["UploadId"], chunks, "CRC32")
    mp = {"Parts": [{"PartNumber": n, "ETag": e, "ChecksumCRC32": h["x-amz-checksum-crc32"]}
                    for n, e, h in parts]}
    whole = b64_crc32(b"".join(chunks))
    # the whole object's checksum, when sent, is checked
    with pytest.raises(ClientError) as e:
        s3.complete_multipart_upload(Bucket=bucket, Key="f", UploadId=u["UploadId"],
                                     MultipartUpload=mp, ChecksumCRC32=b64_crc32(b"nope"))
    assert err(e) == (400, "BadDigest")
    r = s3.complete_multipart_upload(Bucket=bucket, Key="f", UploadId=u["UploadId"],
                                     MultipartUpload=mp, ChecksumCRC32=whole)
    assert r["ChecksumCRC32"] == whole
    h = s3.head_object(Bucket=bucket, Key="f", ChecksumMode="ENABLED")
    assert h["ChecksumCRC32"] == whole
    assert h["ResponseMetadata"]["HTTPHeaders"]["x-amz-checksum-type"] == "FULL_OBJECT"
    a = s3.get_object_attributes(Bucket=bucket, Key="f", ObjectAttributes=["Checksum"])
    assert a["Checksum"]["ChecksumCRC32"] == whole


def test_full_object_completion_may_leave_out_part_checksums(s3, bucket):
    chunks = [os.urandom(PART), b"tail"]
    undo = _with_header(s3, "CreateMultipartUpload", "x-amz-checksum-type", "FULL_OBJECT")
    try:
        u = s3.create_multipart_upload(Bucket=bucket, Key="f", ChecksumAlgorithm="CRC32C")
    finally:
        undo()
    parts = _upload_parts(s3, bucket, "f", u["UploadId"], chunks)
    r = s3.complete_multipart_upload(
        Bucket=bucket, Key="f", UploadId=u["UploadId"],
        MultipartUpload={"Parts": [{"PartNumber": n, "ETag": e} for n, e, _ in parts]})
    assert r["ChecksumCRC32C"] and "-" not in r["ChecksumCRC32C"]


def test_composite_is_the_default_type_for_crc32(nimbus, s3, bucket):
    u = s3.create_multipart_upload(Bucket=bucket, Key="c", ChecksumAlgorithm="CRC32")
    assert u["ResponseMetadata"]["HTTPHeaders"]["x-amz-checksum-type"] == "COMPOSITE"
    st, _, data = req(nimbus, "GET", "/" + bucket, params=[("uploads", "")])
    assert xml_text(data, "ChecksumType") == "COMPOSITE"
    parts = _upload_parts(s3, bucket, "c", u["UploadId"], [os.urandom(PART), b"x"], "CRC32")
    body = complete_body([(n, e, h["x-amz-checksum-crc32"]) for n, e, h in parts], "ChecksumCRC32")
    st, _, data = req(nimbus, "POST", "/%s/c" % bucket, params=[("uploadId", u["UploadId"])],
                      body=body)
    assert st == 200
    assert xml_text(data, "ChecksumCRC32").endswith("-2")
    assert xml_text(data, "ChecksumType") == "COMPOSITE"
    h = s3.head_object(Bucket=bucket, Key="c", ChecksumMode="ENABLED")
    assert h["ResponseMetadata"]["HTTPHeaders"]["x-amz-checksum-type"] == "COMPOSITE"


@pytest.mark.parametrize("algo,ctype,msg", [
    ("SHA256", "FULL_OBJECT", "The FULL_OBJECT checksum type cannot be used with the sha256"),
    ("CRC64NVME", "COMPOSITE", "The COMPOSITE checksum type cannot be used with the crc64nvme"),
    (None, "FULL_OBJECT", "x-amz-checksum-type header can only be used with"),
    ("CRC32", "BOGUS", "x-amz-checksum-type"),
])
def test_checksum_type_refusals(nimbus, bucket, algo, ctype, msg):
    headers = {"x-amz-checksum-type": ctype}
    if algo:
        headers["x-amz-checksum-algorithm"] = algo
    st, _, data = req(nimbus, "POST", "/%s/r" % bucket, params=[("uploads", "")], headers=headers)
    assert st == 400 and xml_text(data, "Code") == "InvalidRequest"
    assert msg in xml_text(data, "Message")


def test_completion_type_and_size_must_match(nimbus, s3, bucket):
    u = s3.create_multipart_upload(Bucket=bucket, Key="m", ChecksumAlgorithm="CRC32")
    parts = _upload_parts(s3, bucket, "m", u["UploadId"], [b"only part"], "CRC32")
    body = complete_body([(n, e, h["x-amz-checksum-crc32"]) for n, e, h in parts], "ChecksumCRC32")
    path, q = "/%s/m" % bucket, [("uploadId", u["UploadId"])]
    st, _, data = req(nimbus, "POST", path, params=q, body=body,
                      headers={"x-amz-checksum-type": "FULL_OBJECT"})
    assert st == 400 and xml_text(data, "Code") == "InvalidRequest"
    st, _, data = req(nimbus, "POST", path, params=q, body=body,
                      headers={"x-amz-mp-object-size": "10"})
    assert st == 400 and xml_text(data, "Code") == "InvalidRequest"
    assert "x-amz-mp-object-size" in xml_text(data, "Message")
    st, _, data = req(nimbus, "POST", path, params=q, body=body,
                      headers={"x-amz-mp-object-size": "9", "x-amz-checksum-type": "COMPOSITE"})
    assert st == 200, data


def test_list_buckets_paging(nimbus, s3):
    # ListBuckets' max-buckets / continuation-token / prefix / bucket-region (AWS, 2024): the
    # JS SDK's paginateListBuckets got every bucket in one page, without BucketRegion
    pre = "lb-" + uuid.uuid4().hex[:8]
    names = [pre + "-%d" % i for i in range(3)]
    for n in names:
        s3.create_bucket(Bucket=n)
    s3.create_bucket(Bucket="other-" + uuid.uuid4().hex[:8])
    seen, token = [], None
    for _ in range(5):
        params = [("max-buckets", "2"), ("prefix", pre)]
        if token:
            params.append(("continuation-token", token))
        st, _, data = req(nimbus, "GET", "/", params=params)
        assert st == 200
        root = ET.fromstring(data)
        for b in root.iter(NS + "Bucket"):
            seen.append(b.find(NS + "Name").text)
            assert b.find(NS + "BucketRegion").text == "us-east-1"
        assert root.find(NS + "Prefix").text == pre
        tok = root.find(NS + "ContinuationToken")
        token = tok.text if tok is not None else None
        if not token:
            break
    assert seen == names
    # without paging parameters: every bucket, as before (boto3 1.26 still reads it)
    assert {b["Name"] for b in s3.list_buckets()["Buckets"]} >= set(names)
    st, _, data = req(nimbus, "GET", "/", params=[("bucket-region", "eu-west-1")])
    assert st == 200 and ET.fromstring(data).find(".//" + NS + "Bucket") is None
    st, _, data = req(nimbus, "GET", "/", params=[("bucket-region", "us-east-1"), ("prefix", pre)])
    assert len(list(ET.fromstring(data).iter(NS + "Bucket"))) == 3
    for bad in ("0", "10001"):
        st, _, data = req(nimbus, "GET", "/", params=[("max-buckets", bad)])
        assert st == 400 and xml_text(data, "Code") == "InvalidArgument"
    st, _, data = req(nimbus, "GET", "/", params=[("continuation-token", "!!!")])
    assert st == 400 and xml_text(data, "Code") == "InvalidArgument"


def test_complete_location_is_an_absolute_url(nimbus, s3, bucket):
    # AWS answers the object's URL; "/bucket/key" was a relative path
    key = "dir/a b+c"
    u = s3.create_multipart_upload(Bucket=bucket, Key=key)
    parts = _upload_parts(s3, bucket, key, u["UploadId"], [b"x"])
    r = s3.complete_multipart_upload(Bucket=bucket, Key=key, UploadId=u["UploadId"],
                                     MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": parts[0][1]}]})
    assert r["Location"] == "http://%s:%d/%s/%s" % (nimbus.host, nimbus.port, bucket,
                                                    urllib.parse.quote(key, safe=""))
    # virtual-hosted style: the bucket is in the host
    u = s3.create_multipart_upload(Bucket=bucket, Key="v")
    parts = _upload_parts(s3, bucket, "v", u["UploadId"], [b"y"])
    host = "%s.localhost:%d" % (bucket, nimbus.port)
    st, _, data = req(nimbus, "POST", "/v", params=[("uploadId", u["UploadId"])], host=host,
                      body=complete_body([(1, parts[0][1], None)]))
    assert st == 200, data
    assert xml_text(data, "Location") == "http://%s/v" % host


@pytest.mark.parametrize("ctype", ["FULL_OBJECT", "COMPOSITE"])
def test_part_read_carries_the_part_checksum(s3, bucket, ctype):
    # GetObject/HeadObject with partNumber and checksum mode: the JS SDK validates the part's
    # bytes against the checksum it gets, so the object's FULL_OBJECT checksum failed every
    # part read ("Checksum mismatch"); AWS answers the part's checksum
    chunks = [os.urandom(PART), b"second part"]
    undo = _with_header(s3, "CreateMultipartUpload", "x-amz-checksum-type", ctype)
    try:
        u = s3.create_multipart_upload(Bucket=bucket, Key="p", ChecksumAlgorithm="CRC32")
    finally:
        undo()
    parts = _upload_parts(s3, bucket, "p", u["UploadId"], chunks, "CRC32")
    s3.complete_multipart_upload(
        Bucket=bucket, Key="p", UploadId=u["UploadId"],
        MultipartUpload={"Parts": [{"PartNumber": n, "ETag": e,
                                    "ChecksumCRC32": h["x-amz-checksum-crc32"]} for n, e, h in parts]})
    for n, data in enumerate(chunks, 1):
        g = s3.get_object(Bucket=bucket, Key="p", PartNumber=n, ChecksumMode="ENABLED")
        assert g["Body"].read() == data
        assert g["ChecksumCRC32"] == b64_crc32(data) and g["PartsCount"] == 2
        assert g["ResponseMetadata"]["HTTPHeaders"]["x-amz-checksum-type"] == ctype
        h = s3.head_object(Bucket=bucket, Key="p", PartNumber=n, ChecksumMode="ENABLED")
        assert h["ChecksumCRC32"] == b64_crc32(data)
    whole = s3.head_object(Bucket=bucket, Key="p", ChecksumMode="ENABLED")["ChecksumCRC32"]
    if ctype == "FULL_OBJECT":
        assert whole == b64_crc32(b"".join(chunks))
    else:
        assert whole.endswith("-2")


@pytest.mark.parametrize("method,sub,op", [
    ("GET", "session", "CreateSession"),
    ("GET", "metadataTable", "GetBucketMetadataTableConfiguration"),
    ("POST", "metadataTable", "CreateBucketMetadataTableConfiguration"),
    ("DELETE", "metadataConfiguration", "DeleteBucketMetadataConfiguration"),
    ("PUT", "metadataJournalTable", "UpdateBucketMetadataJournalTableConfiguration"),
])
def test_newer_bucket_subresources_are_not_implemented(nimbus, s3, bucket, method, sub, op):
    # operations newer than botocore 1.29 matched the plain bucket operations: the JS SDK's
    # CreateSession got a ListObjects listing as success
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    st, _, data = req(nimbus, method, "/" + bucket, params=[(sub, "")])
    assert st == 501 and xml_text(data, "Code") == "NotImplemented"
    assert op in xml_text(data, "Message")
    assert s3.list_objects_v2(Bucket=bucket)["KeyCount"] == 1  # the bucket as it was


def test_rename_object_is_not_implemented(nimbus, s3, bucket):
    # the JS SDK's RenameObject (PUT /{Bucket}/{Key}?renameObject) was taken for PutObject and
    # stored an empty object under the new name
    s3.put_object(Bucket=bucket, Key="old", Body=b"content")
    st, _, data = req(nimbus, "PUT", "/%s/new" % bucket, params=[("renameObject", "")],
                      headers={"x-amz-rename-source": "old"})
    assert st == 501 and "RenameObject" in xml_text(data, "Message")
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]]
    assert keys == ["old"]
