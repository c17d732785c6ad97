"""AWS compatibility of object operations, fourth sweep: ListObjectVersions' interleaved
<Version>/<DeleteMarker> order and its paging, bad percent escapes in the path (400
InvalidURI), unknown canned ACLs (400 InvalidArgument), UploadPartCopy's refusals, multipart
checksums (COMPOSITE and FULL_OBJECT, as current SDKs send them), the owner of anonymous
uploads under ObjectWriter, and GetObjectAttributes / GET headers."""
import base64
import hashlib
import http.client
import xml.etree.ElementTree as ET

import pytest
from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

from s3util import bucket, err, s3  # noqa: F401 (fixtures)

NS = "{http://s3.amazonaws.com/doc/2006-03-01/}"


def raw(server, method, path, headers=None, body=b""):
    """A SigV4-signed request sent exactly as given (path as written, escapes and all):
    (status, lower-cased headers, body)."""
    h = dict(headers or {})
    h["x-amz-content-sha256"] = hashlib.sha256(body).hexdigest()
    if method in ("PUT", "POST"):
        h["Content-Length"] = str(len(body))
    r = AWSRequest(method=method, url=server.endpoint + path, data=body, headers=h)
    S3SigV4Auth(Credentials("test", "test"), "s3", "us-east-1").add_auth(r)
    conn = http.client.HTTPConnection(server.host, server.port, timeout=30)
    conn.putrequest(method, path, skip_host=False, skip_accept_encoding=True)
    for k, v in r.headers.items():
        conn.putheader(k, v)
    conn.endheaders(body or None)
    resp = conn.getresponse()
    data = resp.read()
    conn.close()
    return resp.status, {k.lower(): v for k, v in resp.getheaders()}, data


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
