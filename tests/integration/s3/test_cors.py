"""S3 CORS: Put/Get/DeleteBucketCors with AWS's validation, preflight OPTIONS allowed and refused
per rule (origins with a wildcard, methods, requested headers, MaxAgeSeconds, ExposeHeaders),
and the CORS headers of actual requests that carry an Origin."""
import base64
import http.client
import uuid
import xml.etree.ElementTree as ET

import pytest
from botocore.exceptions import ClientError

from s3util import bucket, err, s3  # noqa: F401 (fixtures)

RULES = [
    {"ID": "app", "AllowedOrigins": ["https://*.example.com"], "AllowedMethods": ["GET", "PUT"],
     "AllowedHeaders": ["x-amz-*", "content-type"], "ExposeHeaders": ["ETag", "x-amz-request-id"],
     "MaxAgeSeconds": 600},
    {"AllowedOrigins": ["*"], "AllowedMethods": ["HEAD"]},
]


def error_doc(headers, body):
    """The elements of an S3 <Error> answer, checked against the request-id headers."""
    assert headers["content-type"] == "application/xml"
    root = ET.fromstring(body)
    assert root.tag == "Error"
    doc = {c.tag: c.text or "" for c in root}
    assert doc["RequestId"] == headers["x-amz-request-id"] and doc["RequestId"]
    assert doc["HostId"] == headers["x-amz-id-2"] and doc["HostId"] != doc["RequestId"]
    return doc


def request(server, method, path, headers):
    c = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    c.request(method, path, headers=headers)
    r = c.getresponse()
    body = r.read()
    hdrs = {k.lower(): v for k, v in r.getheaders()}
    c.close()
    return r.status, hdrs, body


@pytest.fixture
def cors_bucket(s3, bucket):
    s3.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": RULES})
    return bucket


def test_round_trip_and_delete(s3, cors_bucket):
    got = s3.get_bucket_cors(Bucket=cors_bucket)["CORSRules"]
    assert got[0]["AllowedOrigins"] == ["https://*.example.com"]
    assert got[0]["MaxAgeSeconds"] == 600
    assert got[0]["ExposeHeaders"] == ["ETag", "x-amz-request-id"]
    assert got[1]["AllowedMethods"] == ["HEAD"]
    s3.delete_bucket_cors(Bucket=cors_bucket)
    with pytest.raises(ClientError) as e:
        s3.get_bucket_cors(Bucket=cors_bucket)
    assert err(e) == (404, "NoSuchCORSConfiguration")


@pytest.mark.parametrize("rule,code", [
    ({"AllowedOrigins": ["*"], "AllowedMethods": ["PATCH"]}, "InvalidRequest"),
    ({"AllowedOrigins": ["https://*.*.example.com"], "AllowedMethods": ["GET"]}, "InvalidRequest"),
    ({"AllowedOrigins": ["*"], "AllowedMethods": ["GET"], "AllowedHeaders": ["x-*-*"]}, "InvalidRequest"),
])
def test_validation(s3, bucket, rule, code):
    with pytest.raises(ClientError) as e:
        s3.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": [rule]})
    assert err(e) == (400, code)


def test_preflight_allowed(nimbus, cors_bucket):
    st, h, _ = request(nimbus, "OPTIONS", "/%s/photo.jpg" % cors_bucket, {
        "Origin": "https://app.example.com", "Access-Control-Request-Method": "PUT",
        "Access-Control-Request-Headers": "x-amz-meta-a, Content-Type"})
    assert st == 200
    assert h["access-control-allow-origin"] == "https://app.example.com"
    assert h["access-control-allow-methods"] == "GET, PUT"
    assert h["access-control-allow-headers"] == "x-amz-meta-a, Content-Type"
    assert h["access-control-max-age"] == "600"
    assert h["access-control-expose-headers"] == "ETag, x-amz-request-id"
    assert "Origin" in h["vary"]
    # the wildcard rule answers "*"
    st, h, _ = request(nimbus, "OPTIONS", "/%s/x" % cors_bucket, {
        "Origin": "http://anything.test", "Access-Control-Request-Method": "HEAD"})
    assert st == 200 and h["access-control-allow-origin"] == "*"


@pytest.mark.parametrize("origin,method,headers", [
    ("https://evil.test", "PUT", None),                      # origin not listed
    ("https://app.example.com", "DELETE", None),             # method not allowed
    ("https://app.example.com", "PUT", "authorization"),     # header not allowed
    ("http://app.example.com", "GET", None),                 # scheme differs
])
def test_preflight_refused(nimbus, cors_bucket, origin, method, headers):
    h = {"Origin": origin, "Access-Control-Request-Method": method}
    if headers:
        h["Access-Control-Request-Headers"] = headers
    st, hdrs, body = request(nimbus, "OPTIONS", "/%s/photo.jpg" % cors_bucket, h)
    assert st == 403
    assert b"<Code>AccessForbidden</Code>" in body
    assert b"CORSResponse: This CORS request is not allowed." in body
    assert "access-control-allow-origin" not in hdrs
    doc = error_doc(hdrs, body)
    assert doc["Method"] == method and doc["ResourceType"] == "OBJECT"


def test_preflight_without_configuration(nimbus, bucket):
    st, h, body = request(nimbus, "OPTIONS", "/%s/k" % bucket, {
        "Origin": "https://a.test", "Access-Control-Request-Method": "GET"})
    assert st == 403 and b"CORS is not enabled for this bucket" in body
    assert error_doc(h, body)["Code"] == "AccessForbidden"
    st, h, body = request(nimbus, "OPTIONS", "/%s/k" % bucket, {"Access-Control-Request-Method": "GET"})
    assert st == 400 and b"Origin request header needed" in body
    assert error_doc(h, body)["Code"] == "BadRequest"
    st, h, body = request(nimbus, "OPTIONS", "/%s/k" % bucket, {"Origin": "https://a.test"})
    assert st == 400
    assert error_doc(h, body)["Message"] == "Invalid Access-Control-Request-Method: null"


def test_preflight_answers_name_the_request(nimbus, cors_bucket):
    """Allowed or refused, a preflight answer carries x-amz-request-id and x-amz-id-2 like any
    S3 answer (and the refusal's <HostId> is that x-amz-id-2)."""
    st, h, _ = request(nimbus, "OPTIONS", "/%s/x" % cors_bucket, {
        "Origin": "http://anything.test", "Access-Control-Request-Method": "HEAD"})
    assert st == 200
    assert h["x-amz-id-2"] == base64.b64encode(h["x-amz-request-id"].encode()).decode()


def test_virtual_hosted_preflight(nimbus, cors_bucket):
    st, h, _ = request(nimbus, "OPTIONS", "/photo.jpg", {
        "Host": "%s.s3.localhost:%d" % (cors_bucket, nimbus.port),
        "Origin": "https://www.example.com", "Access-Control-Request-Method": "GET"})
    assert st == 200 and h["access-control-allow-origin"] == "https://www.example.com"


def test_actual_request_headers(s3, nimbus, cors_bucket):
    s3.put_object(Bucket=cors_bucket, Key="k", Body=b"data")
    captured = {}

    def add_origin(request, **kw):
        request.headers["Origin"] = "https://shop.example.com"

    def grab(http_response, **kw):
        captured.update({k.lower(): v for k, v in http_response.headers.items()})

    s3.meta.events.register("before-sign.s3.GetObject", add_origin)
    s3.meta.events.register("after-call.s3.GetObject", lambda **kw: grab(kw["http_response"]))
    assert s3.get_object(Bucket=cors_bucket, Key="k")["Body"].read() == b"data"
    assert captured["access-control-allow-origin"] == "https://shop.example.com"
    assert captured["access-control-allow-methods"] == "GET, PUT"
    assert captured["access-control-expose-headers"] == "ETag, x-amz-request-id"
    assert captured["access-control-max-age"] == "600"
    assert "Origin" in captured["vary"]
    # no Origin, no CORS headers
    other = s3.meta.client if hasattr(s3.meta, "client") else None
    del other
    captured.clear()
    s3.meta.events.unregister("before-sign.s3.GetObject", add_origin)
    s3.get_object(Bucket=cors_bucket, Key="k")
    assert "access-control-allow-origin" not in captured
