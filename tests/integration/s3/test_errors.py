"""S3's refusals, byte for byte where it matters: for a table of refused requests, the HTTP
status, <Code>, <Message>, the extra elements S3 adds (Key, BucketName, UploadId, ...), no
<Resource> as S3 documents it (the path the request named), <RequestId> and <HostId> equal to the x-amz-request-id
and x-amz-id-2 headers; and HEAD refusals with the same status and no body.
Messages and elements follow https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html
and what S3 sends."""
import base64
import datetime
import hashlib
import http.client
import json
import re
import signal
import urllib.parse
import urllib.request
import xml.etree.ElementTree as ET

import pytest

from conftest import ASAN, Server
from sigv4util import sign

BUCKET = "errors-b"
VBUCKET = "errors-versioned"
FULL = "errors-full"
BODY = b"hello"
MD5 = hashlib.md5(BODY).hexdigest()


class Client:
    def __init__(self, server):
        self.host, self.port = server.host, server.port

    def req(self, method, path, params=(), headers=None, body=b"", key="test", secret="test",
            anonymous=False, when=None):
        params = list(params)
        q = "&".join("%s=%s" % (urllib.parse.quote(k, safe="-_.~"),
                                urllib.parse.quote(v, safe="-_.~")) for k, v in params)
        headers = dict(headers or {})
        if not anonymous:
            headers["x-amz-content-sha256"] = hashlib.sha256(body).hexdigest()
            headers = sign(method, "%s:%d" % (self.host, self.port), path, params, headers,
                           body, access_key=key, secret=secret, service="s3", when=when)
        conn = http.client.HTTPConnection(self.host, self.port, timeout=30)
        conn.request(method, path + ("?" + q if q else ""), body=body, headers=headers)
        r = conn.getresponse()
        data = r.read()
        conn.close()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, data


@pytest.fixture(scope="module")
def cl():
    """One server for the whole table, with the state the refusals need."""
    s = Server().start()
    c = Client(s)
    assert c.req("PUT", "/" + BUCKET)[0] == 200
    assert c.req("PUT", "/%s/k" % BUCKET, body=BODY)[0] == 200
    assert c.req("PUT", "/" + FULL)[0] == 200
    assert c.req("PUT", "/%s/x" % FULL, body=b"x")[0] == 200
    assert c.req("PUT", "/" + VBUCKET)[0] == 200
    v = b"<VersioningConfiguration><Status>Enabled</Status></VersioningConfiguration>"
    assert c.req("PUT", "/" + VBUCKET, [("versioning", "")], body=v)[0] == 200
    assert c.req("PUT", "/%s/gone" % VBUCKET, body=b"v1")[0] == 200
    st, h, _ = c.req("DELETE", "/%s/gone" % VBUCKET)
    assert st == 204 and h["x-amz-delete-marker"] == "true"
    c.marker = h["x-amz-version-id"]
    st, _, d = c.req("POST", "/%s/mp" % BUCKET, [("uploads", "")])
    c.upload = re.search(rb"<UploadId>(.*)</UploadId>", d).group(1).decode()
    c.etags = []
    for n, part in ((1, b"a" * 10), (2, b"b" * 10)):
        st, h, _ = c.req("PUT", "/%s/mp" % BUCKET, [("partNumber", str(n)), ("uploadId", c.upload)],
                         body=part)
        assert st == 200
        c.etags.append(h["etag"])
    # a second account, for refusals across accounts
    req = urllib.request.Request(s.endpoint + "/_nimbus/accounts", method="POST", data=b"{}",
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as r:
        other = json.loads(r.read())
    c.other = (other["AccessKeyId"], other["SecretAccessKey"])
    yield c
    rc = s.stop()
    s.cleanup()
    if ASAN and rc not in (0, None, -signal.SIGTERM):
        pytest.fail("server exited %s under sanitizers:\n%s" % (rc, s.read_log()))


def complete_body(parts):
    return ("<CompleteMultipartUpload>" + "".join(
        "<Part><PartNumber>%d</PartNumber><ETag>%s</ETag></Part>" % p for p in parts)
        + "</CompleteMultipartUpload>").encode()


def check_error(st, h, data, status, code, message, extra=None):
    assert st == status, data
    assert h["content-type"] == "application/xml"
    root = ET.fromstring(data)
    assert root.tag == "Error"
    got = [(c.tag, c.text or "") for c in root]
    tags = [t for t, _ in got]
    assert tags[:2] == ["Code", "Message"] and tags[-2:] == ["RequestId", "HostId"], tags
    d = dict(got)
    assert d["Code"] == code
    assert d["Message"] == message
    assert d.get("Resource", "").startswith("/"), d  # documented: the resource named
    assert d["RequestId"] == h["x-amz-request-id"] and d["RequestId"]
    assert d["HostId"] == h["x-amz-id-2"] and d["HostId"]
    middle = {k: v for k, v in got[2:-2] if k != "Resource"}
    if extra is not None:
        for k, v in extra.items():
            if v is ...:
                assert k in middle, (k, middle)
            else:
                assert middle.get(k) == v, (k, middle)
        assert set(middle) == set(extra), middle
    return middle


MSG_NO_BUCKET = "The specified bucket does not exist"
MSG_NO_KEY = "The specified key does not exist."
MSG_NO_UPLOAD = ("The specified upload does not exist. The upload ID may be invalid, or the "
                 "upload may have been aborted or completed.")
MSG_PRECONDITION = "At least one of the pre-conditions you specified did not hold"
MSG_NOT_ALLOWED = "The specified method is not allowed against this resource."
MSG_MALFORMED = ("The XML you provided was not well-formed or did not validate against our "
                 "published schema")
MSG_INVALID_PART = ("One or more of the specified parts could not be found.  The part may not "
                    "have been uploaded, or the specified entity tag may not match the part's "
                    "entity tag.")


def md5b64(b):
    return base64.b64encode(hashlib.md5(b).digest()).decode()


# (id, request builder -> (method, path, params, headers, body), status, code, message, extra)
CASES = [
    ("no-such-bucket", lambda c: ("GET", "/no-such-bucket-x/k", [], {}, b""),
     404, "NoSuchBucket", MSG_NO_BUCKET, {"BucketName": "no-such-bucket-x"}),
    ("no-such-bucket-list", lambda c: ("GET", "/no-such-bucket-x", [("list-type", "2")], {}, b""),
     404, "NoSuchBucket", MSG_NO_BUCKET, {"BucketName": "no-such-bucket-x"}),
    ("no-such-key", lambda c: ("GET", "/%s/missing/key" % BUCKET, [], {}, b""),
     404, "NoSuchKey", MSG_NO_KEY, {"Key": "missing/key"}),
    ("no-such-key-copy-source",
     lambda c: ("PUT", "/%s/dst" % BUCKET, [], {"x-amz-copy-source": "/%s/nope" % BUCKET}, b""),
     404, "NoSuchKey", MSG_NO_KEY, {"Key": "nope"}),
    ("no-such-version",
     lambda c: ("GET", "/%s/k" % VBUCKET, [("versionId", "a" * 32)], {}, b""),
     404, "NoSuchVersion", "The specified version does not exist.",
     {"Key": "k", "VersionId": "a" * 32}),
    ("bad-version-id", lambda c: ("GET", "/%s/k" % BUCKET, [("versionId", "abc")], {}, b""),
     400, "InvalidArgument", "Invalid version id specified",
     {"ArgumentName": "versionId", "ArgumentValue": "abc"}),
    ("no-such-upload-parts",
     lambda c: ("GET", "/%s/mp" % BUCKET, [("uploadId", "nope")], {}, b""),
     404, "NoSuchUpload", MSG_NO_UPLOAD, {"UploadId": "nope"}),
    ("no-such-upload-part",
     lambda c: ("PUT", "/%s/mp" % BUCKET, [("partNumber", "1"), ("uploadId", "nope")], {}, b"x"),
     404, "NoSuchUpload", MSG_NO_UPLOAD, {"UploadId": "nope"}),
    ("no-such-upload-abort",
     lambda c: ("DELETE", "/%s/mp" % BUCKET, [("uploadId", "nope")], {}, b""),
     404, "NoSuchUpload", MSG_NO_UPLOAD, {"UploadId": "nope"}),
    ("invalid-bucket-name", lambda c: ("PUT", "/Bad_Name", [], {}, b""),
     400, "InvalidBucketName", "The specified bucket is not valid.", {"BucketName": "Bad_Name"}),
    ("invalid-bucket-name-short", lambda c: ("PUT", "/ab", [], {}, b""),
     400, "InvalidBucketName", "The specified bucket is not valid.", {"BucketName": "ab"}),
    ("bad-digest",
     lambda c: ("PUT", "/%s/k2" % BUCKET, [], {"Content-MD5": md5b64(b"other")}, b"body"),
     400, "BadDigest", "The Content-MD5 you specified did not match what we received.",
     {"ExpectedDigest": md5b64(b"other"), "CalculatedDigest": md5b64(b"body")}),
    ("invalid-digest",
     lambda c: ("PUT", "/%s/k2" % BUCKET, [], {"Content-MD5": "notbase64"}, b"body"),
     400, "InvalidDigest", "The Content-MD5 you specified is not valid.",
     {"Content-MD5": "notbase64"}),
    ("precondition-if-match",
     lambda c: ("GET", "/%s/k" % BUCKET, [], {"If-Match": '"0000"'}, b""),
     412, "PreconditionFailed", MSG_PRECONDITION, {"Condition": "If-Match"}),
    ("precondition-if-unmodified-since",
     lambda c: ("GET", "/%s/k" % BUCKET, [],
                {"If-Unmodified-Since": "Mon, 01 Jan 2001 00:00:00 GMT"}, b""),
     412, "PreconditionFailed", MSG_PRECONDITION, {"Condition": "If-Unmodified-Since"}),
    ("precondition-put-if-none-match",
     lambda c: ("PUT", "/%s/k" % BUCKET, [], {"If-None-Match": "*"}, b"again"),
     412, "PreconditionFailed", MSG_PRECONDITION, {"Condition": "If-None-Match"}),
    ("invalid-range",
     lambda c: ("GET", "/%s/k" % BUCKET, [], {"Range": "bytes=100-200"}, b""),
     416, "InvalidRange", "The requested range is not satisfiable",
     {"RangeRequested": "bytes=100-200", "ActualObjectSize": str(len(BODY))}),
    ("method-not-allowed-object", lambda c: ("POST", "/%s/k" % BUCKET, [], {}, b""),
     405, "MethodNotAllowed", MSG_NOT_ALLOWED, {"Method": "POST", "ResourceType": "OBJECT"}),
    ("method-not-allowed-delete-marker",
     lambda c: ("GET", "/%s/gone" % VBUCKET, [("versionId", c.marker)], {}, b""),
     405, "MethodNotAllowed", MSG_NOT_ALLOWED, {"Method": "GET", "ResourceType": "DeleteMarker"}),
    ("bucket-not-empty", lambda c: ("DELETE", "/" + FULL, [], {}, b""),
     409, "BucketNotEmpty", "The bucket you tried to delete is not empty", {"BucketName": FULL}),
    ("illegal-location-constraint",
     lambda c: ("PUT", "/errors-elsewhere", [], {},
                b"<CreateBucketConfiguration><LocationConstraint>eu-west-1</LocationConstraint>"
                b"</CreateBucketConfiguration>"),
     400, "IllegalLocationConstraintException",
     "The eu-west-1 location constraint is incompatible for the region specific endpoint this "
     "request was sent to.", {}),
    ("invalid-location-constraint",
     lambda c: ("PUT", "/errors-elsewhere", [], {},
                b"<CreateBucketConfiguration><LocationConstraint>us-east-1</LocationConstraint>"
                b"</CreateBucketConfiguration>"),
     400, "InvalidLocationConstraint", "The specified location-constraint is not valid",
     {"LocationConstraint": "us-east-1"}),
    ("malformed-xml-versioning",
     lambda c: ("PUT", "/" + BUCKET, [("versioning", "")], {}, b"<VersioningConfiguration"),
     400, "MalformedXML", MSG_MALFORMED, {}),
    ("malformed-xml-complete",
     lambda c: ("POST", "/%s/mp" % BUCKET, [("uploadId", c.upload)], {}, b"<Complete"),
     400, "MalformedXML", MSG_MALFORMED, {}),
    ("entity-too-small",
     lambda c: ("POST", "/%s/mp" % BUCKET, [("uploadId", c.upload)], {},
                complete_body([(1, c.etags[0]), (2, c.etags[1])])),
     400, "EntityTooSmall", "Your proposed upload is smaller than the minimum allowed size",
     {"ProposedSize": "10", "MinSizeAllowed": "5242880", "PartNumber": "1",
      "ETag": hashlib.md5(b"a" * 10).hexdigest()}),
    ("invalid-part-order",
     lambda c: ("POST", "/%s/mp" % BUCKET, [("uploadId", c.upload)], {},
                complete_body([(2, c.etags[1]), (1, c.etags[0])])),
     400, "InvalidPartOrder",
     "The list of parts was not in ascending order. Parts must be ordered by part number.",
     {"UploadId": ...}),
    ("invalid-part",
     lambda c: ("POST", "/%s/mp" % BUCKET, [("uploadId", c.upload)], {},
                complete_body([(3, c.etags[0])])),
     400, "InvalidPart", MSG_INVALID_PART, {"UploadId": ..., "PartNumber": "3", "ETag": ...}),
    ("key-too-long", lambda c: ("PUT", "/%s/%s" % (BUCKET, "k" * 1025), [], {}, b"x"),
     400, "KeyTooLongError", "Your key is too long", {"Size": "1025", "MaxSizeAllowed": "1024"}),
    ("bucket-already-exists", lambda c: ("PUT", "/" + BUCKET, [], {}, b"", "other"),
     409, "BucketAlreadyExists",
     "The requested bucket name is not available. The bucket namespace is shared by all users "
     "of the system. Please select a different name and try again.", {"BucketName": BUCKET}),
    ("access-denied-other-account", lambda c: ("GET", "/%s/k" % BUCKET, [], {}, b"", "other"),
     403, "AccessDenied", "Access Denied", {}),
    ("access-denied-other-account-delete",
     lambda c: ("DELETE", "/" + FULL, [], {}, b"", "other"),
     403, "AccessDenied", "Access Denied", {}),
    ("no-such-bucket-delete", lambda c: ("DELETE", "/no-such-bucket-x", [], {}, b""),
     404, "NoSuchBucket", MSG_NO_BUCKET, {"BucketName": "no-such-bucket-x"}),
    ("access-denied-anonymous", lambda c: ("GET", "/%s/k" % BUCKET, [], {}, b"", "anonymous"),
     403, "AccessDenied", "Access Denied", {}),
    ("unknown-access-key", lambda c: ("GET", "/%s/k" % BUCKET, [], {}, b"", "AKIDUNKNOWN"),
     403, "InvalidAccessKeyId", "The AWS Access Key Id you provided does not exist in our records.",
     {"AWSAccessKeyId": "AKIDUNKNOWN"}),
    ("signature-mismatch", lambda c: ("GET", "/%s/k" % BUCKET, [], {}, b"", "badsecret"),
     403, "SignatureDoesNotMatch",
     "The request signature we calculated does not match the signature you provided. Check your "
     "key and signing method.", None),
    ("request-time-too-skewed", lambda c: ("GET", "/%s/k" % BUCKET, [], {}, b"", "skewed"),
     403, "RequestTimeTooSkewed",
     "The difference between the request time and the current time is too large.",
     {"RequestTime": ..., "ServerTime": ..., "MaxAllowedSkewMilliseconds": "900000"}),
]


def run(cl, build):
    t = build(cl)
    method, path, params, headers, body = t[:5]
    mode = t[5] if len(t) > 5 else None
    kw = {}
    if mode == "anonymous":
        kw["anonymous"] = True
    elif mode == "badsecret":
        kw["secret"] = "wrong"
    elif mode == "other":
        kw["key"], kw["secret"] = cl.other
    elif mode == "skewed":
        kw["when"] = datetime.datetime.utcnow() - datetime.timedelta(hours=1)
    elif mode:
        kw["key"] = mode
    return method, cl.req(method, path, params, headers, body, **kw), (path, params, headers, kw)


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_refusal(cl, case):
    _, build, status, code, message, extra = case
    method, (st, h, data), _ = run(cl, build)
    middle = check_error(st, h, data, status, code, message, extra)
    if code == "SignatureDoesNotMatch":
        assert middle["AWSAccessKeyId"] == "test"
        assert middle["StringToSign"].startswith("AWS4-HMAC-SHA256\n")
        assert "SignatureProvided" in middle and "CanonicalRequest" in middle


HEAD_CASES = [c for c in CASES if c[0] in (
    "no-such-bucket", "no-such-key", "access-denied-other-account", "no-such-version", "precondition-if-match",
    "precondition-if-unmodified-since", "invalid-range", "access-denied-anonymous",
    "unknown-access-key", "signature-mismatch", "method-not-allowed-delete-marker")]


@pytest.mark.parametrize("case", HEAD_CASES, ids=[c[0] for c in HEAD_CASES])
def test_head_refusal_has_no_body(cl, case):
    _, build, status, code, _, _ = case
    t = list(build(cl))
    t[0] = "HEAD"
    _, (st, h, data), _ = run(cl, lambda c: tuple(t))
    assert st == status
    assert data == b""
    assert h["x-amz-request-id"] and h["x-amz-id-2"]
    # the headers of the GET's error answer, without its document
    assert h["content-type"] == "application/xml"
    assert h["x-amz-id-2"] == base64.b64encode(h["x-amz-request-id"].encode()).decode()


def test_not_modified_is_not_an_error(cl):
    st, h, data = cl.req("GET", "/%s/k" % BUCKET, headers={"If-None-Match": '"%s"' % MD5})
    assert st == 304 and data == b""
    assert h["etag"] == '"%s"' % MD5


@pytest.mark.parametrize("method", ["GET", "HEAD"])
@pytest.mark.parametrize("condition", ["If-None-Match", "If-Modified-Since"])
def test_not_modified_carries_the_validators(cl, method, condition):
    """S3's 304 names the object (ETag, Last-Modified) and the request, and nothing else: no
    document, no Content-Type, no Content-Length."""
    st, h, _ = cl.req("HEAD", "/%s/k" % BUCKET)
    assert st == 200
    last_modified = h["last-modified"]
    value = '"%s"' % MD5 if condition == "If-None-Match" else last_modified
    st, h, data = cl.req(method, "/%s/k" % BUCKET, headers={condition: value})
    assert st == 304 and data == b""
    assert h["etag"] == '"%s"' % MD5
    assert h["last-modified"] == last_modified
    assert h["x-amz-request-id"] and h["x-amz-id-2"]
    assert "content-type" not in h and "content-length" not in h


@pytest.mark.parametrize("condition,value", [("If-Match", '"other"'),
                                             ("If-Unmodified-Since", "Sat, 01 Jan 2000 00:00:00 GMT")])
def test_precondition_failed_names_the_condition(cl, condition, value):
    st, h, data = cl.req("GET", "/%s/k" % BUCKET, headers={condition: value})
    check_error(st, h, data, 412, "PreconditionFailed", MSG_PRECONDITION, {"Condition": condition})
    st, h, data = cl.req("HEAD", "/%s/k" % BUCKET, headers={condition: value})
    assert st == 412 and data == b"" and h["x-amz-request-id"] and h["x-amz-id-2"]


def test_boto3_sees_the_same_codes(cl):
    """What an SDK makes of these answers: the code, the message, the request id."""
    import boto3
    from botocore.exceptions import ClientError
    s3 = boto3.client("s3", endpoint_url="http://%s:%d" % (cl.host, cl.port),
                      region_name="us-east-1", aws_access_key_id="test",
                      aws_secret_access_key="test")
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket=BUCKET, Key="missing")
    r = e.value.response
    assert r["Error"] == {"Code": "NoSuchKey", "Message": MSG_NO_KEY, "Key": "missing",
                          "Resource": "/%s/missing" % BUCKET}
    assert r["ResponseMetadata"]["RequestId"] == r["ResponseMetadata"]["HTTPHeaders"][
        "x-amz-request-id"]
    assert r["ResponseMetadata"]["HostId"] == r["ResponseMetadata"]["HTTPHeaders"]["x-amz-id-2"]
    with pytest.raises(ClientError) as e:
        s3.head_object(Bucket=BUCKET, Key="missing")
    assert e.value.response["Error"]["Code"] == "404"
    with pytest.raises(ClientError) as e:
        s3.delete_bucket(Bucket=FULL)
    assert e.value.response["Error"] == {"Code": "BucketNotEmpty",
                                         "Message": "The bucket you tried to delete is not empty",
                                         "BucketName": FULL, "Resource": "/" + FULL}
