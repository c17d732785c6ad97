"""AWS compatibility of object operations, fourth sweep: ListObjectVersions' interleaved
<Version>/<DeleteMarker> order and its paging, bad percent escapes in the path (400
InvalidURI), unknown canned ACLs (400 InvalidArgument), UploadPartCopy's refusals, multipart
checksums (COMPOSITE and FULL_OBJECT, as current SDKs send them), the owner of anonymous
uploads under ObjectWriter, and GetObjectAttributes / GET headers."""
import base64
import hashlib
import xml.etree.ElementTree as ET

import pytest
from botocore.exceptions import ClientError

from s3util import bucket, err, s3, signed_raw  # noqa: F401 (fixtures)

NS = "{http://s3.amazonaws.com/doc/2006-03-01/}"


raw = signed_raw


def raw_body(client, op):
    """Capture the raw response bodies of op on client (a list filled as calls are made)."""
    got = []
    client.meta.events.register("after-call.s3.%s" % op,
                                lambda http_response, **kw: got.append(http_response.content))
    return got


# ------------------------------------------------------------------ ListObjectVersions order


def versioned(s3, bucket):
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})


def test_list_versions_interleaves_versions_and_delete_markers(s3, bucket):
    """AWS lists <Version> and <DeleteMarker> elements in one sequence, by key and then newest
    first, not every Version before every DeleteMarker."""
    versioned(s3, bucket)
    expect = []
    for k in ("a", "b", "c"):
        v1 = s3.put_object(Bucket=bucket, Key=k, Body=b"1")["VersionId"]
        dm = s3.delete_object(Bucket=bucket, Key=k)["VersionId"]
        v2 = s3.put_object(Bucket=bucket, Key=k, Body=b"22")["VersionId"]
        expect += [("Version", k, v2), ("DeleteMarker", k, dm), ("Version", k, v1)]
    bodies = raw_body(s3, "ListObjectVersions")
    r = s3.list_object_versions(Bucket=bucket)
    root = ET.fromstring(bodies[0])
    got = [(e.tag[len(NS):], e.findtext(NS + "Key"), e.findtext(NS + "VersionId"))
           for e in root if e.tag in (NS + "Version", NS + "DeleteMarker")]
    assert got == expect
    # the parsed lists are still right, and the markers carry no ETag or Size
    assert [v["VersionId"] for v in r["Versions"]] == [x[2] for x in expect if x[0] == "Version"]
    assert [m["VersionId"] for m in r["DeleteMarkers"]] == [x[2] for x in expect if x[0] == "DeleteMarker"]
    assert all("ETag" not in m and "Size" not in m for m in r["DeleteMarkers"])
    for e in root.iter(NS + "DeleteMarker"):
        assert e.find(NS + "ETag") is None and e.find(NS + "Owner") is not None


def test_list_versions_paging_counts_both_kinds(s3, bucket):
    """max-keys counts versions and delete markers alike; NextKeyMarker/NextVersionIdMarker
    name the last entry, whichever kind, and paging visits every entry once in order."""
    versioned(s3, bucket)
    expect = []
    for k in ("k1", "k2"):
        ids = [s3.put_object(Bucket=bucket, Key=k, Body=b"x")["VersionId"]]
        ids.append(s3.delete_object(Bucket=bucket, Key=k)["VersionId"])
        ids.append(s3.put_object(Bucket=bucket, Key=k, Body=b"y")["VersionId"])
        ids.append(s3.delete_object(Bucket=bucket, Key=k)["VersionId"])
        expect += [(k, v) for v in reversed(ids)]
    bodies = raw_body(s3, "ListObjectVersions")
    seen, kw, pages = [], {}, 0
    while True:
        r = s3.list_object_versions(Bucket=bucket, MaxKeys=3, **kw)
        pages += 1
        root = ET.fromstring(bodies[-1])
        page = [(e.findtext(NS + "Key"), e.findtext(NS + "VersionId"))
                for e in root if e.tag in (NS + "Version", NS + "DeleteMarker")]
        assert len(page) == len(r.get("Versions", [])) + len(r.get("DeleteMarkers", []))
        seen += page
        if not r["IsTruncated"]:
            break
        assert len(page) == 3
        assert (r["NextKeyMarker"], r["NextVersionIdMarker"]) == page[-1]
        kw = {"KeyMarker": r["NextKeyMarker"], "VersionIdMarker": r["NextVersionIdMarker"]}
    assert seen == expect
    assert pages == 3
    # the first page ends on a delete marker (k1's newest entries: marker, version, marker)
    first = s3.list_object_versions(Bucket=bucket, MaxKeys=1)
    assert first["IsTruncated"] and "Versions" not in first
    assert first["NextVersionIdMarker"] == first["DeleteMarkers"][0]["VersionId"] == expect[0][1]


# ------------------------------------------------------------------ bad escapes


@pytest.mark.parametrize("path", ["a%zzb", "a%4", "a%4g", "%", "x%g1"])
def test_bad_percent_escape_is_invalid_uri(nimbus, s3, bucket, path):
    """A percent sign not followed by two hex digits: 400 InvalidURI "Couldn't parse the
    specified URI." (not a signature mismatch), for reads and writes alike."""
    for method in ("GET", "PUT", "DELETE"):
        st, h, body = raw(nimbus, method, "/%s/%s" % (bucket, path), body=b"x" if method == "PUT" else b"")
        assert st == 400, (method, st, body)
        doc = ET.fromstring(body)
        assert doc.findtext("Code") == "InvalidURI"
        assert doc.findtext("Message") == "Couldn't parse the specified URI."
        assert h.get("x-amz-request-id")
    assert s3.list_objects_v2(Bucket=bucket)["KeyCount"] == 0
    # a well-formed escape still works
    assert raw(nimbus, "PUT", "/%s/a%%20b" % bucket, body=b"x")[0] == 200
    assert s3.get_object(Bucket=bucket, Key="a b")["Body"].read() == b"x"


# ------------------------------------------------------------------ bad canned ACLs


def check_bad_acl(exc):
    st, code = err(exc)
    assert (st, code) == (400, "InvalidArgument")
    e = exc.value.response["Error"]
    assert e.get("ArgumentName") == "x-amz-acl"
    assert e.get("ArgumentValue") == "bogus"


def test_unknown_canned_acl_is_invalid_argument(s3, bucket):
    """x-amz-acl with a value that is no canned ACL: 400 InvalidArgument naming the header
    and value on every operation that takes it; nothing is created."""
    s3.put_object(Bucket=bucket, Key="src", Body=b"s")
    with pytest.raises(ClientError) as e:
        s3.put_object(Bucket=bucket, Key="k", Body=b"x", ACL="bogus")
    check_bad_acl(e)
    with pytest.raises(ClientError) as e:
        s3.copy_object(Bucket=bucket, Key="k", CopySource={"Bucket": bucket, "Key": "src"}, ACL="bogus")
    check_bad_acl(e)
    with pytest.raises(ClientError) as e:
        s3.create_multipart_upload(Bucket=bucket, Key="k", ACL="bogus")
    check_bad_acl(e)
    with pytest.raises(ClientError) as e:
        s3.put_bucket_acl(Bucket=bucket, ACL="bogus")
    check_bad_acl(e)
    with pytest.raises(ClientError) as e:
        s3.put_object_acl(Bucket=bucket, Key="src", ACL="bogus")
    check_bad_acl(e)
    with pytest.raises(ClientError) as e:
        s3.create_bucket(Bucket=bucket + "-acl", ACL="bogus")
    check_bad_acl(e)
    assert [o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]] == ["src"]
    assert "Uploads" not in s3.list_multipart_uploads(Bucket=bucket)
    names = [b["Name"] for b in s3.list_buckets()["Buckets"]]
    assert bucket + "-acl" not in names


# ------------------------------------------------------------------ UploadPartCopy refusals


def test_upload_part_copy_sse_c_source_and_destination(s3, bucket):
    """UploadPartCopy reads an SSE-C source only with its key in the copy-source headers, and
    writes into an SSE-C upload only with the upload's key (AWS's messages)."""
    k1, k2 = b"k" * 32, b"j" * 32
    s3.put_object(Bucket=bucket, Key="enc", Body=b"e" * 100, SSECustomerAlgorithm="AES256", SSECustomerKey=k1)
    s3.put_object(Bucket=bucket, Key="plain", Body=b"p" * 100)
    up = s3.create_multipart_upload(Bucket=bucket, Key="d")["UploadId"]
    upc = s3.create_multipart_upload(Bucket=bucket, Key="dc", SSECustomerAlgorithm="AES256",
                                     SSECustomerKey=k2)["UploadId"]

    def copy(key, upload, src, **kw):
        return s3.upload_part_copy(Bucket=bucket, Key=key, UploadId=upload, PartNumber=1,
                                   CopySource={"Bucket": bucket, "Key": src}, **kw)
    src_key = lambda k: {"CopySourceSSECustomerAlgorithm": "AES256", "CopySourceSSECustomerKey": k}  # noqa
    dst_key = lambda k: {"SSECustomerAlgorithm": "AES256", "SSECustomerKey": k}  # noqa
    cases = [
        (("d", up, "enc"), {}, 400, "InvalidRequest", "The object was stored using a form of Server Side"
         " Encryption. The correct parameters must be provided to retrieve the object."),
        (("d", up, "plain"), src_key(k1), 400, "InvalidRequest",
         "The encryption parameters are not applicable to this object."),
        (("dc", upc, "plain"), {}, 400, "InvalidRequest", "The multipart upload initiate requested"
         " encryption. Subsequent part requests must include the appropriate encryption parameters."),
        (("dc", upc, "plain"), dst_key(k1), 400, "InvalidRequest",
         "The provided encryption parameters did not match the ones used originally."),
        (("d", up, "plain"), dst_key(k1), 400, "InvalidRequest",
         "The multipart upload initiate did not request encryption with customer-provided keys."),
    ]
    for args, kw, st, code, msg in cases:
        with pytest.raises(ClientError) as e:
            copy(*args, **kw)
        assert err(e) == (st, code), args
        assert e.value.response["Error"]["Message"] == msg
    with pytest.raises(ClientError) as e:
        copy("d", up, "enc", **src_key(k2))
    assert err(e)[0] in (400, 403)
    r = copy("dc", upc, "enc", **src_key(k1), **dst_key(k2))
    assert r["SSECustomerKeyMD5"] == base64.b64encode(hashlib.md5(k2).digest()).decode()
    s3.complete_multipart_upload(Bucket=bucket, Key="dc", UploadId=upc, MultipartUpload={
        "Parts": [{"PartNumber": 1, "ETag": r["CopyPartResult"]["ETag"]}]})
    got = s3.get_object(Bucket=bucket, Key="dc", **dst_key(k2))["Body"].read()
    assert got == b"e" * 100


def test_upload_part_copy_ignores_lock_headers_default_retention_applies(s3):
    """Object Lock settings of a multipart object come from CreateMultipartUpload or the
    bucket's default retention: x-amz-object-lock-* headers on UploadPartCopy are no members
    of it (ignored), nor does the copy source's retention carry over; and a copied part needs
    no Content-MD5 (there is no body)."""
    import uuid
    b = "lk-" + uuid.uuid4().hex[:12]
    s3.create_bucket(Bucket=b, ObjectLockEnabledForBucket=True)
    s3.put_object_lock_configuration(Bucket=b, ObjectLockConfiguration={
        "ObjectLockEnabled": "Enabled", "Rule": {"DefaultRetention": {"Mode": "GOVERNANCE", "Days": 1}}})
    body = b"s" * 100
    s3.put_object(Bucket=b, Key="src", Body=body, ContentMD5=base64.b64encode(hashlib.md5(body).digest()).decode(),
                  ObjectLockMode="COMPLIANCE", ObjectLockRetainUntilDate="2099-01-01T00:00:00Z")
    up = s3.create_multipart_upload(Bucket=b, Key="d")["UploadId"]

    def lock_headers(params, **kw):
        params["headers"]["x-amz-object-lock-mode"] = "COMPLIANCE"
        params["headers"]["x-amz-object-lock-retain-until-date"] = "2099-01-01T00:00:00Z"
    s3.meta.events.register("before-call.s3.UploadPartCopy", lock_headers)
    r = s3.upload_part_copy(Bucket=b, Key="d", UploadId=up, PartNumber=1, CopySource={"Bucket": b, "Key": "src"})
    s3.complete_multipart_upload(Bucket=b, Key="d", UploadId=up, MultipartUpload={
        "Parts": [{"PartNumber": 1, "ETag": r["CopyPartResult"]["ETag"]}]})
    h = s3.head_object(Bucket=b, Key="d")
    assert h["ObjectLockMode"] == "GOVERNANCE"
    assert h["ObjectLockRetainUntilDate"].year < 2099


# ------------------------------------------------------------------ multipart checksums

PART = 5 * 1024 * 1024


def _crc_table(poly, width):
    t = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ poly if c & 1 else c >> 1
        t.append(c)
    return t


_T32C = _crc_table(0x82F63B78, 32)
_T64 = _crc_table(0x9A6C9329AC4BC9B5, 64)


def crc32c(data):
    c = 0xFFFFFFFF
    for b in data:
        c = _T32C[(c ^ b) & 0xFF] ^ (c >> 8)
    return c ^ 0xFFFFFFFF


def crc64nvme(data):
    c = 0xFFFFFFFFFFFFFFFF
    for b in data:
        c = _T64[(c ^ b) & 0xFF] ^ (c >> 8)
    return c ^ 0xFFFFFFFFFFFFFFFF


def raw_ck(algo, data):
    import zlib
    if algo == "CRC32":
        return zlib.crc32(data).to_bytes(4, "big")
    if algo == "CRC32C":
        return crc32c(data).to_bytes(4, "big")
    return crc64nvme(data).to_bytes(8, "big")


def b64ck(algo, data):
    return base64.b64encode(raw_ck(algo, data)).decode()


# small inputs for the pure-Python CRCs: parts of 5 MiB made of few distinct bytes are slow to
# checksum in Python, so the checksums of whole parts are computed once
_CHUNKS = [b"\x01" * PART, b"tail-bytes"]
_CK = {}


def ck_of(algo, data):
    key = (algo, len(data), data[:1])
    if key not in _CK:
        _CK[key] = raw_ck(algo, data)
    return _CK[key]


def with_header(s3, op, name, value):
    def add(params, **kw):
        params["headers"][name] = value
    s3.meta.events.register("before-call.s3.%s" % op, add)
    return lambda: s3.meta.events.unregister("before-call.s3.%s" % op, add)


@pytest.mark.parametrize("algo,ctype", [("CRC32", "COMPOSITE"), ("CRC32C", "COMPOSITE"),
                                        ("CRC32", "FULL_OBJECT"), ("CRC32C", "FULL_OBJECT"),
                                        ("CRC64NVME", "FULL_OBJECT")])
def test_multipart_checksum_types(s3, bucket, algo, ctype):
    """CreateMultipartUpload with ChecksumAlgorithm and ChecksumType: parts verified with the
    algorithm; the object's checksum is the checksum of the parts' checksums with "-<parts>"
    (COMPOSITE) or the CRC of the whole object (FULL_OBJECT), on Complete, HEAD/GET with
    ChecksumMode=ENABLED (x-amz-checksum-type), and GetObjectAttributes (without the suffix,
    the parts' own checksums under ObjectParts)."""
    undo = with_header(s3, "CreateMultipartUpload", "x-amz-checksum-type", ctype)
    try:
        up = s3.create_multipart_upload(Bucket=bucket, Key="m", ChecksumAlgorithm=algo)
    finally:
        undo()
    assert up["ChecksumAlgorithm"] == algo
    assert up["ResponseMetadata"]["HTTPHeaders"]["x-amz-checksum-type"] == ctype
    member = "Checksum" + algo
    parts = []
    for n, data in enumerate(_CHUNKS, 1):
        want = base64.b64encode(ck_of(algo, data)).decode()
        # a wrong part checksum is refused
        undo = with_header(s3, "UploadPart", "x-amz-checksum-" + algo.lower(),
                           base64.b64encode(b"\0" * len(ck_of(algo, data))).decode())
        try:
            with pytest.raises(ClientError) as e:
                s3.upload_part(Bucket=bucket, Key="m", UploadId=up["UploadId"], PartNumber=n, Body=data)
            assert err(e) == (400, "BadDigest")
        finally:
            undo()
        if algo == "CRC64NVME":  # not in botocore 1.29: the header as current SDKs send it
            undo = with_header(s3, "UploadPart", "x-amz-checksum-crc64nvme", want)
            try:
                r = s3.upload_part(Bucket=bucket, Key="m", UploadId=up["UploadId"], PartNumber=n, Body=data)
            finally:
                undo()
        else:
            r = s3.upload_part(Bucket=bucket, Key="m", UploadId=up["UploadId"], PartNumber=n, Body=data,
                               ChecksumAlgorithm=algo)
        assert r["ResponseMetadata"]["HTTPHeaders"]["x-amz-checksum-" + algo.lower()] == want
        parts.append({"PartNumber": n, "ETag": r["ETag"], member: want})
    # botocore 1.29 has no ChecksumCRC64NVME member: a FULL_OBJECT completion may leave the
    # part checksums out
    sent = [{k: v for k, v in p.items() if k != "ChecksumCRC64NVME"} for p in parts]
    whole = b"".join(_CHUNKS)
    if ctype == "COMPOSITE":
        value = base64.b64encode(raw_ck(algo, b"".join(ck_of(algo, d) for d in _CHUNKS))).decode()
        shown = value + "-2"
    else:
        import zlib
        if algo == "CRC32":
            v = zlib.crc32(_CHUNKS[1], zlib.crc32(_CHUNKS[0])).to_bytes(4, "big")
        else:
            v = None  # computed by the server; checked against HEAD below
        value = shown = base64.b64encode(v).decode() if v else None
    # a part checksum that is not the stored one: InvalidPart
    if algo != "CRC64NVME":
        bad = [dict(parts[0], **{member: base64.b64encode(b"\1" * len(ck_of(algo, b"x"))).decode()}), parts[1]]
        with pytest.raises(ClientError) as e:
            s3.complete_multipart_upload(Bucket=bucket, Key="m", UploadId=up["UploadId"],
                                         MultipartUpload={"Parts": bad})
        assert err(e) == (400, "InvalidPart")
    bodies = raw_body(s3, "CompleteMultipartUpload")
    s3.complete_multipart_upload(Bucket=bucket, Key="m", UploadId=up["UploadId"],
                                 MultipartUpload={"Parts": sent})
    doc = ET.fromstring(bodies[-1])
    h = s3.head_object(Bucket=bucket, Key="m", ChecksumMode="ENABLED")
    hh = h["ResponseMetadata"]["HTTPHeaders"]
    if shown is None:
        shown = value = hh["x-amz-checksum-" + algo.lower()]
    assert doc.findtext(NS + member) == shown
    assert doc.findtext(NS + "ChecksumType") == ctype
    assert hh["x-amz-checksum-" + algo.lower()] == shown
    assert hh["x-amz-checksum-type"] == ctype
    g = s3.get_object(Bucket=bucket, Key="m", ChecksumMode="ENABLED")
    assert g["ResponseMetadata"]["HTTPHeaders"]["x-amz-checksum-type"] == ctype
    assert g["Body"].read() == whole
    # GetObjectAttributes, read raw (botocore 1.29 knows neither CRC64NVME nor ChecksumType)
    bodies = raw_body(s3, "GetObjectAttributes")
    s3.get_object_attributes(Bucket=bucket, Key="m", ObjectAttributes=["Checksum", "ObjectParts"])
    doc = ET.fromstring(bodies[-1])
    assert doc.findtext(NS + "Checksum/" + NS + member) == value
    assert doc.findtext(NS + "Checksum/" + NS + "ChecksumType") == ctype
    assert doc.findtext(NS + "ObjectParts/" + NS + "PartsCount") == "2"
    assert [e.findtext(NS + member) for e in doc.iter(NS + "Part")] == [p[member] for p in parts]
    # without ChecksumMode, no checksum
    assert "x-amz-checksum-" + algo.lower() not in s3.head_object(Bucket=bucket, Key="m")["ResponseMetadata"]["HTTPHeaders"]


def test_multipart_without_algorithm_gets_default_crc64nvme(s3, bucket):
    """An upload created without a checksum algorithm, its parts sent with CRC32s as current
    SDKs (botocore >= 1.36) send them and completed without part checksums: the object gets
    S3's default, a FULL_OBJECT CRC64NVME of its bytes, on Complete, HEAD and
    GetObjectAttributes. The parts' CRC32s are checked but not the upload's to give back."""
    up = s3.create_multipart_upload(Bucket=bucket, Key="m")
    assert "ChecksumAlgorithm" not in up
    assert "x-amz-checksum-type" not in up["ResponseMetadata"]["HTTPHeaders"]
    # part 1 copied from an object, part 2 sent with a CRC32 (as botocore 1.43 does)
    s3.put_object(Bucket=bucket, Key="src", Body=_CHUNKS[0])
    p1 = s3.upload_part_copy(Bucket=bucket, Key="m", UploadId=up["UploadId"], PartNumber=1,
                             CopySource={"Bucket": bucket, "Key": "src"})
    assert not [k for k in p1["CopyPartResult"] if k.startswith("Checksum")]
    p2 = s3.upload_part(Bucket=bucket, Key="m", UploadId=up["UploadId"], PartNumber=2,
                        Body=_CHUNKS[1], ChecksumAlgorithm="CRC32")
    assert p2["ChecksumCRC32"] == b64ck("CRC32", _CHUNKS[1])
    # ListParts names each part's default CRC64NVME (read raw: not in botocore 1.29's model)
    bodies = raw_body(s3, "ListParts")
    lp = s3.list_parts(Bucket=bucket, Key="m", UploadId=up["UploadId"])
    assert "ChecksumAlgorithm" not in lp
    got = [e.findtext(NS + "ChecksumCRC64NVME") for e in ET.fromstring(bodies[-1]).iter(NS + "Part")]
    assert got == [base64.b64encode(ck_of("CRC64NVME", d)).decode() for d in _CHUNKS]
    parts = [{"PartNumber": 1, "ETag": p1["CopyPartResult"]["ETag"]}, {"PartNumber": 2, "ETag": p2["ETag"]}]
    # the whole object's checksum, when given, is checked (a header: not in botocore 1.29)
    undo = with_header(s3, "CompleteMultipartUpload", "x-amz-checksum-crc64nvme",
                       base64.b64encode(b"\0" * 8).decode())
    try:
        with pytest.raises(ClientError) as e:
            s3.complete_multipart_upload(Bucket=bucket, Key="m", UploadId=up["UploadId"],
                                         MultipartUpload={"Parts": parts})
        assert err(e) == (400, "BadDigest")
    finally:
        undo()
    bodies = raw_body(s3, "CompleteMultipartUpload")
    s3.complete_multipart_upload(Bucket=bucket, Key="m", UploadId=up["UploadId"],
                                 MultipartUpload={"Parts": parts})
    doc = ET.fromstring(bodies[-1])
    value = doc.findtext(NS + "ChecksumCRC64NVME")
    assert value and doc.findtext(NS + "ChecksumType") == "FULL_OBJECT"
    h = s3.head_object(Bucket=bucket, Key="m", ChecksumMode="ENABLED")["ResponseMetadata"]["HTTPHeaders"]
    assert h["x-amz-checksum-crc64nvme"] == value and "-" not in value
    assert h["x-amz-checksum-type"] == "FULL_OBJECT"
    bodies = raw_body(s3, "GetObjectAttributes")
    s3.get_object_attributes(Bucket=bucket, Key="m", ObjectAttributes=["Checksum"])
    doc = ET.fromstring(bodies[-1])
    assert doc.findtext(NS + "Checksum/" + NS + "ChecksumCRC64NVME") == value
    assert doc.findtext(NS + "Checksum/" + NS + "ChecksumType") == "FULL_OBJECT"
    # the same bytes PUT whole get the same CRC64NVME (S3's default for a single PUT)
    s3.put_object(Bucket=bucket, Key="whole", Body=b"".join(_CHUNKS))
    h2 = s3.head_object(Bucket=bucket, Key="whole", ChecksumMode="ENABLED")["ResponseMetadata"]["HTTPHeaders"]
    assert h2["x-amz-checksum-crc64nvme"] == value
    # and a completion naming it is accepted
    up = s3.create_multipart_upload(Bucket=bucket, Key="m2")
    q = s3.upload_part(Bucket=bucket, Key="m2", UploadId=up["UploadId"], PartNumber=1, Body=_CHUNKS[1])
    want = b64ck("CRC64NVME", _CHUNKS[1])
    bodies = raw_body(s3, "CompleteMultipartUpload")
    undo = with_header(s3, "CompleteMultipartUpload", "x-amz-checksum-crc64nvme", want)
    try:
        s3.complete_multipart_upload(Bucket=bucket, Key="m2", UploadId=up["UploadId"],
                                     MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": q["ETag"]}]})
    finally:
        undo()
    assert ET.fromstring(bodies[-1]).findtext(NS + "ChecksumCRC64NVME") == want


# ------------------------------------------------------------------ anonymous writers

ANON_ID = "65a011a29cdf8ec533ec3d1ccaae921c"


def anon_client(server):
    from botocore import UNSIGNED
    from conftest import client
    return client(server, "s3", config_kw={"signature_version": UNSIGNED})


@pytest.mark.parametrize("ownership", ["ObjectWriter", "BucketOwnerPreferred"])
def test_anonymous_upload_is_owned_by_the_anonymous_user(nimbus, s3, ownership):
    """Under ObjectWriter (and BucketOwnerPreferred without bucket-owner-full-control) the
    writer owns what it writes; for an anonymous writer (a public-write bucket ACL) that is
    AWS's anonymous user (canonical id 65a011a2...): the bucket owner then cannot read the
    object or its ACL without a grant, but may delete it. With bucket-owner-full-control
    under BucketOwnerPreferred, and always under BucketOwnerEnforced, the bucket owner owns it."""
    import uuid
    name = "anon-" + uuid.uuid4().hex[:10]
    s3.create_bucket(Bucket=name, ObjectOwnership=ownership)
    s3.delete_public_access_block(Bucket=name)
    s3.put_bucket_acl(Bucket=name, ACL="public-read-write")
    owner_id = s3.get_bucket_acl(Bucket=name)["Owner"]["ID"]
    a = anon_client(nimbus)
    a.put_object(Bucket=name, Key="anon.txt", Body=b"from anon")
    # multipart uploads follow the same rule
    up = a.create_multipart_upload(Bucket=name, Key="anon-mp.txt")["UploadId"]
    listed = s3.list_multipart_uploads(Bucket=name)["Uploads"]
    assert listed[0]["Owner"]["ID"] == ANON_ID
    p = a.upload_part(Bucket=name, Key="anon-mp.txt", UploadId=up, PartNumber=1, Body=b"mp")
    a.complete_multipart_upload(Bucket=name, Key="anon-mp.txt", UploadId=up,
                                MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": p["ETag"]}]})
    a.put_object(Bucket=name, Key="granted.txt", Body=b"for owner", ACL="bucket-owner-full-control")
    owners = {o["Key"]: o["Owner"]["ID"]
              for o in s3.list_objects_v2(Bucket=name, FetchOwner=True)["Contents"]}
    granted_owner = owner_id if ownership == "BucketOwnerPreferred" else ANON_ID
    assert owners == {"anon.txt": ANON_ID, "anon-mp.txt": ANON_ID, "granted.txt": granted_owner}
    v1 = s3.list_objects(Bucket=name)["Contents"]
    assert {o["Key"]: o["Owner"]["ID"] for o in v1}["anon.txt"] == ANON_ID
    # the anonymous owner reads what it owns; the bucket owner may not, nor read its ACL
    assert a.get_object(Bucket=name, Key="anon.txt")["Body"].read() == b"from anon"
    acl = a.get_object_acl(Bucket=name, Key="anon.txt")
    assert acl["Owner"]["ID"] == ANON_ID
    assert acl["Grants"] == [{"Grantee": {"Type": "CanonicalUser", "ID": ANON_ID}, "Permission": "FULL_CONTROL"}]
    for key in ("anon.txt", "anon-mp.txt"):
        for call in (lambda: s3.get_object(Bucket=name, Key=key), lambda: s3.get_object_acl(Bucket=name, Key=key)):
            with pytest.raises(ClientError) as e:
                call()
            assert err(e) == (403, "AccessDenied")
    # bucket-owner-full-control lets the bucket owner in, whoever owns it
    assert s3.get_object(Bucket=name, Key="granted.txt")["Body"].read() == b"for owner"
    # the bucket owner may still delete it
    s3.delete_object(Bucket=name, Key="anon.txt")
    assert "anon.txt" not in [o["Key"] for o in s3.list_objects_v2(Bucket=name)["Contents"]]


def test_anonymous_upload_under_bucket_owner_enforced_is_the_bucket_owners(nimbus, s3, bucket):
    """BucketOwnerEnforced (the default): a bucket policy lets anonymous callers write, and
    the bucket owner owns and reads what they wrote."""
    import json
    s3.delete_public_access_block(Bucket=bucket)
    s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": "*", "Action": "s3:PutObject",
         "Resource": "arn:aws:s3:::%s/*" % bucket}]}))
    anon_client(nimbus).put_object(Bucket=bucket, Key="k", Body=b"x")
    owner_id = s3.get_bucket_acl(Bucket=bucket)["Owner"]["ID"]
    assert s3.list_objects_v2(Bucket=bucket, FetchOwner=True)["Contents"][0]["Owner"]["ID"] == owner_id
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"x"


# ------------------------------------------------------------------ data from before defaults


def test_multipart_data_from_before_default_checksums(nimbus_factory):
    """Parts stored before parts kept a CRC64NVME (none, or the client's 4-byte CRC32 in an
    upload without an algorithm) still complete, into an object without a checksum; such an
    object's GetObjectAttributes has the part count but no Part elements (AWS: those need a
    checksum). Made by editing the metadata as older versions left it."""
    import os
    import sqlite3
    import uuid
    from conftest import client
    srv = nimbus_factory()
    s3 = client(srv, "s3")
    b = "old-" + uuid.uuid4().hex[:8]
    s3.create_bucket(Bucket=b)
    # an object completed the old way, and an upload with a part stored the old way (its
    # client's CRC32 where a CRC64NVME is now; the other part has its CRC64NVME)
    up = s3.create_multipart_upload(Bucket=b, Key="done")["UploadId"]
    p = [s3.upload_part(Bucket=b, Key="done", UploadId=up, PartNumber=n, Body=d)
         for n, d in ((1, _CHUNKS[0]), (2, b"x"))]
    s3.complete_multipart_upload(Bucket=b, Key="done", UploadId=up, MultipartUpload={
        "Parts": [{"PartNumber": n + 1, "ETag": q["ETag"]} for n, q in enumerate(p)]})
    up2 = s3.create_multipart_upload(Bucket=b, Key="open")["UploadId"]
    q1 = s3.upload_part(Bucket=b, Key="open", UploadId=up2, PartNumber=1, Body=_CHUNKS[0])
    q2 = s3.upload_part(Bucket=b, Key="open", UploadId=up2, PartNumber=2, Body=b"y", ChecksumAlgorithm="CRC32")
    srv.stop()
    db = sqlite3.connect(os.path.join(srv.data_dir, "s3", "s3.db"))
    db.execute("UPDATE objects SET checksums = NULL WHERE key = CAST('done' AS BLOB)")
    db.execute("UPDATE object_parts SET checksum = NULL")
    db.execute("UPDATE parts SET checksum = ? WHERE part_number = 2", (b64ck("CRC32", b"y"),))
    db.commit()
    db.close()
    srv.start()
    a = s3.get_object_attributes(Bucket=b, Key="done", ObjectAttributes=["ObjectParts", "Checksum"])
    assert "Checksum" not in a
    assert a["ObjectParts"]["TotalPartsCount"] == 2 and "Parts" not in a["ObjectParts"]
    assert s3.get_object(Bucket=b, Key="done")["Body"].read() == _CHUNKS[0] + b"x"
    s3.complete_multipart_upload(Bucket=b, Key="open", UploadId=up2, MultipartUpload={
        "Parts": [{"PartNumber": 1, "ETag": q1["ETag"]}, {"PartNumber": 2, "ETag": q2["ETag"]}]})
    h = s3.head_object(Bucket=b, Key="open", ChecksumMode="ENABLED")["ResponseMetadata"]["HTTPHeaders"]
    assert not [k for k in h if k.startswith("x-amz-checksum")]
    assert s3.get_object(Bucket=b, Key="open")["Body"].read() == _CHUNKS[0] + b"y"


# ------------------------------------------------------------------ GetObjectAttributes


def test_get_object_attributes_needs_get_object_too(nimbus, boto, s3, bucket):
    """AWS documents GetObjectAttributes as needing s3:GetObject and s3:GetObjectAttributes
    (with a version id: s3:GetObjectVersion and s3:GetObjectVersionAttributes)."""
    import json
    from conftest import client
    versioned(s3, bucket)
    v1 = s3.put_object(Bucket=bucket, Key="k", Body=b"one")["VersionId"]
    s3.put_object(Bucket=bucket, Key="k", Body=b"two!")
    iam = boto("iam")

    def user(name, actions):
        iam.create_user(UserName=name)
        iam.put_user_policy(UserName=name, PolicyName="p", PolicyDocument=json.dumps({
            "Version": "2012-10-17", "Statement": [{
                "Effect": "Allow", "Action": actions + ["s3:ListBucket"],
                "Resource": ["arn:aws:s3:::%s" % bucket, "arn:aws:s3:::%s/*" % bucket]}]}))
        k = iam.create_access_key(UserName=name)["AccessKey"]
        return client(nimbus, "s3", access_key=k["AccessKeyId"], secret_key=k["SecretAccessKey"])
    tag = bucket[-6:]
    only_attrs = user("attrs-" + tag, ["s3:GetObjectAttributes", "s3:GetObjectVersionAttributes"])
    both = user("both-" + tag, ["s3:GetObjectAttributes", "s3:GetObject"])
    versions = user("vers-" + tag, ["s3:GetObjectVersionAttributes", "s3:GetObjectVersion"])
    for c, kw in ((only_attrs, {}), (only_attrs, {"VersionId": v1}), (both, {"VersionId": v1}),
                  (versions, {})):
        with pytest.raises(ClientError) as e:
            c.get_object_attributes(Bucket=bucket, Key="k", ObjectAttributes=["ObjectSize"], **kw)
        assert err(e) == (403, "AccessDenied"), kw
    assert both.get_object_attributes(Bucket=bucket, Key="k", ObjectAttributes=["ObjectSize"])["ObjectSize"] == 4
    r = versions.get_object_attributes(Bucket=bucket, Key="k", VersionId=v1, ObjectAttributes=["ObjectSize"])
    assert r["ObjectSize"] == 3 and r["VersionId"] == v1
    # a missing key is still 404 for a caller that may list
    with pytest.raises(ClientError) as e:
        both.get_object_attributes(Bucket=bucket, Key="nope", ObjectAttributes=["ObjectSize"])
    assert err(e) == (404, "NoSuchKey")


def test_get_object_attributes_parts_paging(s3, bucket):
    """ObjectParts pages with max-parts / part-number-marker: PartsCount is every part,
    NextPartNumberMarker the last part listed, IsTruncated while parts remain."""
    up = s3.create_multipart_upload(Bucket=bucket, Key="m", ChecksumAlgorithm="SHA256")["UploadId"]
    parts = []
    for n in (1, 2, 3):
        body = (b"%d" % n) * (PART if n < 3 else 7)
        r = s3.upload_part(Bucket=bucket, Key="m", UploadId=up, PartNumber=n, Body=body,
                           ChecksumAlgorithm="SHA256")
        parts.append({"PartNumber": n, "ETag": r["ETag"], "ChecksumSHA256": r["ChecksumSHA256"]})
    s3.complete_multipart_upload(Bucket=bucket, Key="m", UploadId=up, MultipartUpload={"Parts": parts})
    seen, marker = [], 0
    while True:
        a = s3.get_object_attributes(Bucket=bucket, Key="m", ObjectAttributes=["ObjectParts"],
                                     MaxParts=2, PartNumberMarker=marker)["ObjectParts"]
        assert a["TotalPartsCount"] == 3 and a["MaxParts"] == 2 and a["PartNumberMarker"] == marker
        seen += [(p["PartNumber"], p["ChecksumSHA256"]) for p in a["Parts"]]
        assert a["NextPartNumberMarker"] == a["Parts"][-1]["PartNumber"]
        if not a["IsTruncated"]:
            break
        marker = a["NextPartNumberMarker"]
    assert seen == [(p["PartNumber"], p["ChecksumSHA256"]) for p in parts]
    # a single PUT has no ObjectParts
    s3.put_object(Bucket=bucket, Key="one", Body=b"x")
    a = s3.get_object_attributes(Bucket=bucket, Key="one", ObjectAttributes=["ObjectParts", "ETag"])
    assert "ObjectParts" not in a and a["ETag"] == hashlib.md5(b"x").hexdigest()


# ------------------------------------------------------------------ object headers


def test_copy_does_not_carry_the_website_redirect_location(s3, bucket):
    """AWS: x-amz-website-redirect-location is each object's own and is not copied with the
    metadata (COPY or REPLACE); a copy has the one its request names. Other metadata is
    copied as usual."""
    s3.put_object(Bucket=bucket, Key="src", Body=b"x", WebsiteRedirectLocation="/to",
                  ContentType="text/x-src", Metadata={"a": "1"})
    assert s3.head_object(Bucket=bucket, Key="src")["WebsiteRedirectLocation"] == "/to"
    src = {"Bucket": bucket, "Key": "src"}
    s3.copy_object(Bucket=bucket, Key="c1", CopySource=src)
    h = s3.head_object(Bucket=bucket, Key="c1")
    assert "WebsiteRedirectLocation" not in h
    assert h["ContentType"] == "text/x-src" and h["Metadata"] == {"a": "1"}
    s3.copy_object(Bucket=bucket, Key="c2", CopySource=src, WebsiteRedirectLocation="https://example.com/x")
    h = s3.head_object(Bucket=bucket, Key="c2")
    assert h["WebsiteRedirectLocation"] == "https://example.com/x" and h["Metadata"] == {"a": "1"}
    s3.copy_object(Bucket=bucket, Key="c3", CopySource=src, MetadataDirective="REPLACE",
                   WebsiteRedirectLocation="/r3")
    h = s3.head_object(Bucket=bucket, Key="c3")
    assert h["WebsiteRedirectLocation"] == "/r3" and h["Metadata"] == {}
    with pytest.raises(ClientError) as e:
        s3.copy_object(Bucket=bucket, Key="c4", CopySource=src, WebsiteRedirectLocation="nowhere")
    assert err(e) == (400, "InvalidArgument")
    # copying an object onto itself with a new redirect location is a change
    s3.copy_object(Bucket=bucket, Key="src", CopySource=src, WebsiteRedirectLocation="/moved")
    h = s3.head_object(Bucket=bucket, Key="src")
    assert h["WebsiteRedirectLocation"] == "/moved" and h["ContentType"] == "text/x-src"
    assert s3.get_object(Bucket=bucket, Key="src")["Body"].read() == b"x"
