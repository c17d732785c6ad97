"""AWS compatibility of object operations, third sweep (s3-tests' object, ranged, multipart
and copy cases and AWS's documentation): keys that decode to a NUL or to bytes that are not
UTF-8 (400 InvalidURI), user metadata with control characters (refused) or non-ASCII values
(returned RFC 2047-encoded), partNumber bounds on GET/HEAD, conditional deletes, ListParts
argument checks, and the CRC64NVME checksum S3 stores for objects sent without one."""
import base64
import hashlib
import xml.etree.ElementTree as ET

import pytest
from botocore.exceptions import ClientError

from s3util import bucket, err, s3, signed_raw  # noqa: F401 (fixtures)


raw = signed_raw


def code_of(body):
    return ET.fromstring(body).findtext("Code")


# ------------------------------------------------------------------ keys


@pytest.mark.parametrize("enc", ["a%00b", "%00", "a%FFb", "%C0%AF", "%ED%A0%80"])
def test_key_with_nul_or_invalid_utf8_is_invalid_uri(nimbus, s3, bucket, enc):
    """A NUL or a byte sequence that is not UTF-8 in the key: 400 InvalidURI for every
    method, with a well-formed error document; nothing is stored under a shortened key."""
    for method in ("PUT", "GET", "HEAD", "DELETE"):
        st, _, body = raw(nimbus, method, "/%s/%s" % (bucket, enc), body=b"x" if method == "PUT" else b"")
        assert st == 400, (method, st)
        if method != "HEAD":
            assert code_of(body) == "InvalidURI"
            assert ET.fromstring(body).findtext("Message") == "Couldn't parse the specified URI."
    assert s3.list_objects_v2(Bucket=bucket)["KeyCount"] == 0
    # the multipart and tagging paths are refused the same way
    assert raw(nimbus, "POST", "/%s/%s?uploads" % (bucket, enc))[0] == 400
    assert raw(nimbus, "GET", "/%s/%s?tagging" % (bucket, enc))[0] == 400


def test_nul_key_does_not_reach_a_shorter_key(nimbus, s3, bucket):
    s3.put_object(Bucket=bucket, Key="a", Body=b"short")
    st, _, body = raw(nimbus, "GET", "/%s/a%%00b" % bucket)
    assert st == 400 and code_of(body) == "InvalidURI"
    st, _, _ = raw(nimbus, "DELETE", "/%s/a%%00" % bucket)
    assert st == 400
    assert s3.get_object(Bucket=bucket, Key="a")["Body"].read() == b"short"


def test_copy_source_with_nul_is_refused(nimbus, s3, bucket):
    s3.put_object(Bucket=bucket, Key="a", Body=b"short")
    st, _, body = raw(nimbus, "PUT", "/%s/dst" % bucket,
                      headers={"x-amz-copy-source": "/%s/a%%00b" % bucket})
    assert st == 400 and code_of(body) == "InvalidArgument"
    with pytest.raises(ClientError):
        s3.head_object(Bucket=bucket, Key="dst")


def test_control_and_unicode_keys_are_still_keys(s3, bucket):
    """C0 controls other than NUL and any UTF-8 are valid key bytes (AWS stores them)."""
    for key in ("a\x01b", "\xae\x8a-", "tab\tkey", "\U0001F600"):
        s3.put_object(Bucket=bucket, Key=key, Body=key.encode())
        assert s3.get_object(Bucket=bucket, Key=key)["Body"].read() == key.encode()


# ------------------------------------------------------------------ metadata


@pytest.mark.parametrize("value", ["\x04mymeta", "\x04w", "h\x04", "w\x04", "\x7fdel"])
def test_metadata_with_control_characters_is_refused(s3, bucket, value):
    with pytest.raises(ClientError) as e:
        s3.put_object(Bucket=bucket, Key="m", Body=b"x", Metadata={"meta1": value})
    assert err(e)[0] == 400
    with pytest.raises(ClientError) as e:
        s3.head_object(Bucket=bucket, Key="m")
    assert err(e)[0] == 404


def test_metadata_control_characters_refused_on_multipart_and_copy(s3, bucket):
    s3.put_object(Bucket=bucket, Key="src", Body=b"x")
    with pytest.raises(ClientError) as e:
        s3.create_multipart_upload(Bucket=bucket, Key="m", Metadata={"a": "\x04x"})
    assert err(e)[0] == 400
    with pytest.raises(ClientError) as e:
        s3.copy_object(Bucket=bucket, Key="c", CopySource={"Bucket": bucket, "Key": "src"},
                       MetadataDirective="REPLACE", Metadata={"a": "\x04x"})
    assert err(e)[0] == 400


def _put_with_raw_meta(s3, bucket, key, name, value):
    def hook(params, **kw):
        params["headers"]["x-amz-meta-" + name] = value
    s3.meta.events.register("before-call.s3.PutObject", hook)
    try:
        s3.put_object(Bucket=bucket, Key=key, Body=b"bar")
    finally:
        s3.meta.events.unregister("before-call.s3.PutObject", hook)


def test_non_ascii_metadata_is_returned_rfc2047_encoded(s3, bucket):
    """AWS: non-US-ASCII metadata values are returned RFC 2047-encoded (mail-safe)."""
    value = "Hello World\xe9 \u043a\u043b\u044e\u0447"
    _put_with_raw_meta(s3, bucket, "foo", "meta1", value)
    want = "=?UTF-8?B?%s?=" % base64.b64encode(value.encode()).decode()
    for r in (s3.get_object(Bucket=bucket, Key="foo"), s3.head_object(Bucket=bucket, Key="foo")):
        assert r["Metadata"] == {"meta1": want}
    # ASCII values are returned as they are, and survive a copy untouched
    s3.put_object(Bucket=bucket, Key="ascii", Body=b"x", Metadata={"k": "plain =?x?= value"})
    assert s3.head_object(Bucket=bucket, Key="ascii")["Metadata"] == {"k": "plain =?x?= value"}
    s3.copy_object(Bucket=bucket, Key="copy", CopySource={"Bucket": bucket, "Key": "foo"})
    assert s3.head_object(Bucket=bucket, Key="copy")["Metadata"] == {"meta1": want}


def test_metadata_empty_values_and_key_case(s3, bucket):
    s3.put_object(Bucket=bucket, Key="e", Body=b"x", Metadata={"Empty": "", "MiXed": "V"})
    assert s3.head_object(Bucket=bucket, Key="e")["Metadata"] == {"empty": "", "mixed": "V"}
    s3.put_object(Bucket=bucket, Key="e", Body=b"x", Metadata={"other": "1"})
    assert s3.head_object(Bucket=bucket, Key="e")["Metadata"] == {"other": "1"}


def test_metadata_size_counts_names_and_values(s3, bucket):
    s3.put_object(Bucket=bucket, Key="s", Body=b"x", Metadata={"k": "v" * 2047})
    with pytest.raises(ClientError) as e:
        s3.put_object(Bucket=bucket, Key="s", Body=b"x", Metadata={"kk": "v" * 2047})
    assert err(e) == (400, "MetadataTooLarge")
    with pytest.raises(ClientError) as e:
        s3.create_multipart_upload(Bucket=bucket, Key="s", Metadata={"kk": "v" * 2047})
    assert err(e) == (400, "MetadataTooLarge")


# ------------------------------------------------------------------ partNumber


@pytest.mark.parametrize("pn", ["0", "10001", "-1"])
def test_get_and_head_part_number_out_of_bounds(nimbus, s3, bucket, pn):
    s3.put_object(Bucket=bucket, Key="r", Body=b"testcontent")
    st, _, body = raw(nimbus, "GET", "/%s/r?partNumber=%s" % (bucket, pn))
    assert st == 400 and code_of(body) == "InvalidArgument"
    assert raw(nimbus, "HEAD", "/%s/r?partNumber=%s" % (bucket, pn))[0] == 400


def test_part_number_of_a_plain_object(s3, bucket):
    s3.put_object(Bucket=bucket, Key="r", Body=b"testcontent")
    g = s3.get_object(Bucket=bucket, Key="r", PartNumber=1)
    assert g["ResponseMetadata"]["HTTPStatusCode"] == 206
    assert g["ContentRange"] == "bytes 0-10/11" and g["Body"].read() == b"testcontent"
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket=bucket, Key="r", PartNumber=2)
    assert err(e) == (416, "InvalidPartNumber")


# ------------------------------------------------------------------ default checksum


def _crc64_table():
    t = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ 0x9A6C9329AC4BC9B5 if c & 1 else c >> 1
        t.append(c)
    return t


_CRC64_TABLE = _crc64_table()


def crc64nvme_b64(data):
    """CRC-64/NVME (reflected, polynomial 0x9a6c9329ac4bc9b5), base64 of its big-endian bytes."""
    crc = 0xFFFFFFFFFFFFFFFF
    for byte in data:
        crc = _CRC64_TABLE[(crc ^ byte) & 0xFF] ^ (crc >> 8)
    return base64.b64encode((crc ^ 0xFFFFFFFFFFFFFFFF).to_bytes(8, "big")).decode()


def _put_plain(nimbus, bucket, key, body):
    """PutObject with no checksum of any kind (botocore >= 1.36 would add a CRC32)."""
    st, h, _ = raw(nimbus, "PUT", "/%s/%s" % (bucket, key), body=body)
    assert st == 200
    return h


@pytest.mark.parametrize("size", [0, 5, 70 * 1024, 1024 * 1024 + 7])
def test_object_without_checksum_gets_crc64nvme(nimbus, s3, bucket, size):
    body = bytes(range(256)) * (size // 256) + b"x" * (size % 256)
    want = crc64nvme_b64(body)
    h = _put_plain(nimbus, bucket, "k", body)
    assert h["x-amz-checksum-crc64nvme"] == want and h["x-amz-checksum-type"] == "FULL_OBJECT"
    for r in (s3.head_object(Bucket=bucket, Key="k", ChecksumMode="ENABLED"),
              s3.get_object(Bucket=bucket, Key="k", ChecksumMode="ENABLED")):
        hd = r["ResponseMetadata"]["HTTPHeaders"]
        assert hd["x-amz-checksum-crc64nvme"] == want and hd["x-amz-checksum-type"] == "FULL_OBJECT"
    # not without ChecksumMode, nor on a range
    hd = s3.head_object(Bucket=bucket, Key="k")["ResponseMetadata"]["HTTPHeaders"]
    assert "x-amz-checksum-crc64nvme" not in hd
    if size > 1:
        hd = s3.get_object(Bucket=bucket, Key="k", Range="bytes=0-0",
                           ChecksumMode="ENABLED")["ResponseMetadata"]["HTTPHeaders"]
        assert "x-amz-checksum-crc64nvme" not in hd
    # a copy of it carries the same default checksum
    s3.copy_object(Bucket=bucket, Key="c", CopySource={"Bucket": bucket, "Key": "k"})
    hd = s3.head_object(Bucket=bucket, Key="c", ChecksumMode="ENABLED")["ResponseMetadata"]["HTTPHeaders"]
    assert hd["x-amz-checksum-crc64nvme"] == want


def test_explicit_checksum_is_kept_instead_of_the_default(nimbus, s3, bucket):
    st, h, _ = raw(nimbus, "PUT", "/%s/k" % bucket, body=b"hello",
                   headers={"x-amz-checksum-sha256": base64.b64encode(hashlib.sha256(b"hello").digest()).decode()})
    assert st == 200 and "x-amz-checksum-crc64nvme" not in h
    hd = s3.head_object(Bucket=bucket, Key="k", ChecksumMode="ENABLED")["ResponseMetadata"]["HTTPHeaders"]
    assert "x-amz-checksum-sha256" in hd and "x-amz-checksum-crc64nvme" not in hd
    # and a wrong CRC64NVME sent by the client is still refused
    st, _, body = raw(nimbus, "PUT", "/%s/k2" % bucket, body=b"hello",
                      headers={"x-amz-checksum-crc64nvme": crc64nvme_b64(b"other")})
    assert st == 400 and code_of(body) == "BadDigest"


# ------------------------------------------------------------------ conditional delete


def test_delete_object_if_match(nimbus, s3, bucket):
    """DeleteObject with If-Match removes the object only when its ETag matches (else 412
    PreconditionFailed, the object kept); "*" matches any object."""
    etag = s3.put_object(Bucket=bucket, Key="k", Body=b"data")["ETag"]
    st, _, body = raw(nimbus, "DELETE", "/%s/k" % bucket, headers={"If-Match": '"0123456789abcdef0123456789abcdef"'})
    assert st == 412 and code_of(body) == "PreconditionFailed"
    assert ET.fromstring(body).findtext("Condition") == "If-Match"
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"data"
    assert raw(nimbus, "DELETE", "/%s/k" % bucket, headers={"If-Match": etag})[0] == 204
    with pytest.raises(ClientError) as e:
        s3.head_object(Bucket=bucket, Key="k")
    assert err(e)[0] == 404
    # nothing to match any more: 404 NoSuchKey, as If-Match on PutObject
    st, _, body = raw(nimbus, "DELETE", "/%s/k" % bucket, headers={"If-Match": etag})
    assert st == 404 and code_of(body) == "NoSuchKey"
    s3.put_object(Bucket=bucket, Key="k", Body=b"data")
    assert raw(nimbus, "DELETE", "/%s/k" % bucket, headers={"If-Match": "*"})[0] == 204
    assert s3.list_objects_v2(Bucket=bucket)["KeyCount"] == 0


def test_delete_object_if_match_versioned(nimbus, s3, bucket):
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    r1 = s3.put_object(Bucket=bucket, Key="k", Body=b"one")
    r2 = s3.put_object(Bucket=bucket, Key="k", Body=b"two")
    # the current version is "two": a delete conditioned on "one"'s ETag adds no marker
    st, _, _ = raw(nimbus, "DELETE", "/%s/k" % bucket, headers={"If-Match": r1["ETag"]})
    assert st == 412
    assert "DeleteMarkers" not in s3.list_object_versions(Bucket=bucket)
    # by version id, the ETag of that version counts
    st, _, _ = raw(nimbus, "DELETE", "/%s/k?versionId=%s" % (bucket, r1["VersionId"]),
                   headers={"If-Match": r2["ETag"]})
    assert st == 412
    st, _, _ = raw(nimbus, "DELETE", "/%s/k?versionId=%s" % (bucket, r1["VersionId"]),
                   headers={"If-Match": r1["ETag"]})
    assert st == 204
    st, h, _ = raw(nimbus, "DELETE", "/%s/k" % bucket, headers={"If-Match": r2["ETag"]})
    assert st == 204 and h["x-amz-delete-marker"] == "true"
    assert [v["VersionId"] for v in s3.list_object_versions(Bucket=bucket)["Versions"]] == [r2["VersionId"]]


# ------------------------------------------------------------------ ListParts


def test_list_parts_paging_and_argument_checks(nimbus, s3, bucket):
    up = s3.create_multipart_upload(Bucket=bucket, Key="m")["UploadId"]
    for i in (1, 2, 3):
        s3.upload_part(Bucket=bucket, Key="m", UploadId=up, PartNumber=i, Body=b"%d" % i)
    r = s3.list_parts(Bucket=bucket, Key="m", UploadId=up, MaxParts=2)
    assert [p["PartNumber"] for p in r["Parts"]] == [1, 2]
    assert r["IsTruncated"] and r["NextPartNumberMarker"] == 2 and r["MaxParts"] == 2
    r = s3.list_parts(Bucket=bucket, Key="m", UploadId=up, MaxParts=2, PartNumberMarker=2)
    assert [p["PartNumber"] for p in r["Parts"]] == [3]
    assert not r["IsTruncated"] and r["PartNumberMarker"] == 2 and r["NextPartNumberMarker"] == 3
    r = s3.list_parts(Bucket=bucket, Key="m", UploadId=up, PartNumberMarker=3)
    assert "Parts" not in r and not r["IsTruncated"]
    for q, name in (("max-parts=-1", "max-parts"), ("part-number-marker=-1", "part-number-marker")):
        st, _, body = raw(nimbus, "GET", "/%s/m?uploadId=%s&%s" % (bucket, up, q))
        assert st == 400 and code_of(body) == "InvalidArgument"
        assert ET.fromstring(body).findtext("ArgumentName") == name
    st, _, body = raw(nimbus, "GET", "/%s?uploads&max-uploads=-1" % bucket)
    assert st == 400 and code_of(body) == "InvalidArgument"


# ------------------------------------------------------------------ copy


def test_copy_restores_an_older_version_onto_its_key(s3, bucket):
    """AWS restores a previous version by copying it onto its own key; only the current
    version copied onto itself without a change is refused."""
    s3.put_object(Bucket=bucket, Key="k", Body=b"null-version")
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    v1 = s3.put_object(Bucket=bucket, Key="k", Body=b"one")["VersionId"]
    v2 = s3.put_object(Bucket=bucket, Key="k", Body=b"two")["VersionId"]
    r = s3.copy_object(Bucket=bucket, Key="k", CopySource={"Bucket": bucket, "Key": "k", "VersionId": v1})
    assert r["CopySourceVersionId"] == v1 and r["VersionId"] not in (v1, v2)
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"one"
    s3.copy_object(Bucket=bucket, Key="k", CopySource={"Bucket": bucket, "Key": "k", "VersionId": "null"})
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"null-version"
    with pytest.raises(ClientError) as e:
        s3.copy_object(Bucket=bucket, Key="k", CopySource={"Bucket": bucket, "Key": "k"})
    assert err(e) == (400, "InvalidRequest")
    assert len(s3.list_object_versions(Bucket=bucket)["Versions"]) == 5


# ------------------------------------------------------------------ CompleteMultipartUpload


@pytest.mark.parametrize("part,code", [
    ("<PartNumber>0</PartNumber><ETag>{etag}</ETag>", "InvalidArgument"),
    ("<PartNumber>10001</PartNumber><ETag>{etag}</ETag>", "InvalidArgument"),
    ("<ETag>{etag}</ETag>", "MalformedXML"),
    ("<PartNumber>1</PartNumber>", "MalformedXML"),
])
def test_complete_part_entries_are_checked(nimbus, s3, bucket, part, code):
    up = s3.create_multipart_upload(Bucket=bucket, Key="m")["UploadId"]
    etag = s3.upload_part(Bucket=bucket, Key="m", UploadId=up, PartNumber=1, Body=b"a")["ETag"]
    body = ("<CompleteMultipartUpload><Part>%s</Part></CompleteMultipartUpload>"
            % part.format(etag=etag)).encode()
    st, _, resp = raw(nimbus, "POST", "/%s/m?uploadId=%s" % (bucket, up), body=body)
    assert st == 400 and code_of(resp) == code
    # the upload is still there and completes with a proper list
    s3.complete_multipart_upload(Bucket=bucket, Key="m", UploadId=up, MultipartUpload={
        "Parts": [{"PartNumber": 1, "ETag": etag}]})
    assert s3.get_object(Bucket=bucket, Key="m")["Body"].read() == b"a"


@pytest.mark.parametrize("location,ok", [("/other", True), ("http://example.com/x", True),
                                         ("https://example.com", True), ("noslash", False),
                                         ("ftp://example.com", False)])
def test_website_redirect_location_must_be_a_path_or_url(s3, bucket, location, ok):
    s3.put_object(Bucket=bucket, Key="src", Body=b"x")
    calls = (lambda: s3.put_object(Bucket=bucket, Key="k", Body=b"x", WebsiteRedirectLocation=location),
             lambda: s3.copy_object(Bucket=bucket, Key="c", CopySource={"Bucket": bucket, "Key": "src"},
                                    MetadataDirective="REPLACE", WebsiteRedirectLocation=location),
             lambda: s3.create_multipart_upload(Bucket=bucket, Key="m", WebsiteRedirectLocation=location))
    for call in calls:
        if ok:
            call()
        else:
            with pytest.raises(ClientError) as e:
                call()
            assert err(e) == (400, "InvalidArgument")
    if ok:
        assert s3.head_object(Bucket=bucket, Key="k")["WebsiteRedirectLocation"] == location
