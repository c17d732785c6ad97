"""S3 CORS as Ceph's s3-tests check it (test_cors_origin_response, _origin_wildcard,
_header_option, presigned preflights): one '*' wildcard in an origin (anywhere, matching an
empty run too; '?' and '[' are plain characters), the rule of an actual request chosen by its
Access-Control-Request-Method when it carries one, ExposeHeader wildcards refused."""
import uuid

import pytest
import requests

from conftest import call_error
from s3util import bucket, s3  # noqa: F401 (fixtures)

ORIGIN_RULES = [
    {"AllowedMethods": ["GET"], "AllowedOrigins": ["*suffix"]},
    {"AllowedMethods": ["GET"], "AllowedOrigins": ["start*end"]},
    {"AllowedMethods": ["GET"], "AllowedOrigins": ["prefix*"]},
    {"AllowedMethods": ["PUT"], "AllowedOrigins": ["*.put"]},
]


@pytest.fixture
def public_bucket(s3):
    """A public-read bucket, as s3-tests' (ACLs need ObjectWriter and no public access block)."""
    name = "b-" + uuid.uuid4().hex[:12]
    s3.create_bucket(Bucket=name, ObjectOwnership="ObjectWriter")
    s3.delete_public_access_block(Bucket=name)
    s3.put_bucket_acl(Bucket=name, ACL="public-read")
    return name


def cors_of(r):
    return (r.status_code, r.headers.get("access-control-allow-origin"),
            r.headers.get("access-control-allow-methods"))


def test_origin_patterns(nimbus, s3, public_bucket):
    s3.put_bucket_cors(Bucket=public_bucket, CORSConfiguration={"CORSRules": ORIGIN_RULES})
    u = "%s/%s" % (nimbus.endpoint, public_bucket)
    cases = [
        (None, (200, None, None)),
        ("foo.suffix", (200, "foo.suffix", "GET")),
        ("foo.bar", (200, None, None)),
        ("foo.suffix.get", (200, None, None)),
        ("startend", (200, "startend", "GET")),
        ("start1end", (200, "start1end", "GET")),
        ("start12end", (200, "start12end", "GET")),
        ("0start12end", (200, None, None)),
        ("prefix", (200, "prefix", "GET")),
        ("prefix.suffix", (200, "prefix.suffix", "GET")),
        ("bla.prefix", (200, None, None)),
    ]
    got = [(o, cors_of(requests.get(u, headers={"Origin": o} if o else None))) for o, _ in cases]
    assert got == cases
    pre = [
        ("foo.bar", "GET", (403, None, None)),
        ("foo.suffix.get", "GET", (403, None, None)),
        ("startend", "GET", (200, "startend", "GET")),
        ("start12end", "GET", (200, "start12end", "GET")),
        ("0start12end", "GET", (403, None, None)),
        ("prefix.suffix", "GET", (200, "prefix.suffix", "GET")),
        ("bla.prefix", "GET", (403, None, None)),
        ("foo.put", "GET", (403, None, None)),
        ("foo.put", "PUT", (200, "foo.put", "PUT")),
    ]
    got = [(o, m, cors_of(requests.options(u, headers={
        "Origin": o, "Access-Control-Request-Method": m}))) for o, m, _ in pre]
    assert got == pre
    # a preflight without Origin, or without Access-Control-Request-Method, is a bad request
    assert requests.options(u).status_code == 400
    assert requests.options(u, headers={"Origin": "foo.suffix"}).status_code == 400


def test_actual_request_matched_by_requested_method(nimbus, s3, public_bucket):
    # an anonymous PUT is refused (403) either way; the CORS headers of the refusal follow
    # the rule for Access-Control-Request-Method when the request carries one
    s3.put_bucket_cors(Bucket=public_bucket, CORSConfiguration={"CORSRules": ORIGIN_RULES})
    u = "%s/%s/bar" % (nimbus.endpoint, public_bucket)
    cases = [
        ({"Origin": "foo.suffix", "Access-Control-Request-Method": "GET"},
         (403, "foo.suffix", "GET")),
        ({"Origin": "foo.suffix", "Access-Control-Request-Method": "PUT"}, (403, None, None)),
        ({"Origin": "foo.suffix", "Access-Control-Request-Method": "DELETE"}, (403, None, None)),
        ({"Origin": "foo.suffix"}, (403, None, None)),
        ({"Origin": "foo.put"}, (403, "foo.put", "PUT")),
    ]
    got = [(h, cors_of(requests.put(u, headers=dict(h, **{"content-length": "0"}))))
           for h, _ in cases]
    assert got == cases


def test_wildcard_origin_and_plain_characters(nimbus, s3, bucket):
    s3.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": [
        {"AllowedMethods": ["GET"], "AllowedOrigins": ["http://a?c.example"]},
        {"AllowedMethods": ["PUT"], "AllowedOrigins": ["*"]},
    ]})
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    url = s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "k"})
    r = requests.get(url, headers={"Origin": "http://a?c.example"})
    assert cors_of(r) == (200, "http://a?c.example", "GET")
    assert r.headers["access-control-allow-credentials"] == "true"
    # '?' is no fnmatch wildcard: abc does not match a?c
    r = requests.get(url, headers={"Origin": "http://abc.example"})
    assert cors_of(r) == (200, None, None)
    # the '*' origin answers '*' and no credentials
    u = "%s/%s/k" % (nimbus.endpoint, bucket)
    r = requests.options(u, headers={"Origin": "example.origin",
                                     "Access-Control-Request-Method": "PUT"})
    assert cors_of(r) == (200, "*", "PUT")
    assert "access-control-allow-credentials" not in r.headers


def test_header_not_allowed_and_max_age(nimbus, s3, bucket):
    # s3-tests' test_cors_header_option: ExposeHeaders do not admit a requested header
    s3.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": [
        {"AllowedMethods": ["GET"], "AllowedOrigins": ["*"],
         "ExposeHeaders": ["x-amz-meta-header1"], "MaxAgeSeconds": 3000}]})
    u = "%s/%s/bar" % (nimbus.endpoint, bucket)
    r = requests.options(u, headers={"Origin": "example.origin",
                                     "Access-Control-Request-Headers": "x-amz-meta-header2",
                                     "Access-Control-Request-Method": "GET"})
    assert r.status_code == 403
    r = requests.options(u, headers={"Origin": "example.origin",
                                     "Access-Control-Request-Method": "GET"})
    assert r.status_code == 200
    assert r.headers["access-control-max-age"] == "3000"
    assert r.headers["access-control-expose-headers"] == "x-amz-meta-header1"


def test_expose_header_wildcard_refused(s3, bucket):
    st, code, msg = call_error(s3.put_bucket_cors, Bucket=bucket, CORSConfiguration={
        "CORSRules": [{"AllowedMethods": ["GET"], "AllowedOrigins": ["*"],
                       "ExposeHeaders": ["x-amz-*"]}]})
    assert (st, code) == (400, "InvalidRequest")
    assert msg == ('ExposeHeader "x-amz-*" contains wildcard. We currently do not support'
                   ' wildcard for ExposeHeader.')


@pytest.mark.parametrize("method,http_method", [("get_object", "GET"), ("put_object", "PUT"),
                                                ("delete_object", "DELETE")])
def test_presigned_preflight(nimbus, s3, bucket, method, http_method):
    s3.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": [
        {"AllowedMethods": ["DELETE", "GET", "HEAD", "PUT", "POST"], "AllowedOrigins": ["*"],
         "AllowedHeaders": ["*"], "ExposeHeaders": [], "MaxAgeSeconds": 3000}]})
    url = s3.generate_presigned_url(ClientMethod=method, Params={"Bucket": bucket, "Key": "foo"},
                                    ExpiresIn=100000, HttpMethod=http_method)
    r = requests.options(url, headers={"Origin": "example",
                                       "Access-Control-Request-Method": http_method})
    assert r.status_code == 200
    assert r.headers["access-control-allow-origin"] == "*"


def test_browser_post_answers_carry_cors_headers(nimbus, s3, bucket):
    # a browser form posts cross-origin: its answer, and its refusals (policy, malformed
    # form), carry the bucket's CORS headers as every other answer does
    import base64
    import datetime
    import hashlib
    import hmac
    import json
    from collections import OrderedDict
    s3.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": [
        {"AllowedMethods": ["POST"], "AllowedOrigins": ["http://app.example"],
         "ExposeHeaders": ["ETag"]}]})
    exp = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=600)
    doc = {"expiration": exp.strftime("%Y-%m-%dT%H:%M:%SZ"),
           "conditions": [{"bucket": bucket}, ["starts-with", "$key", "up/"]]}
    policy = base64.b64encode(json.dumps(doc).encode())
    sig = base64.b64encode(hmac.new(b"test", policy, hashlib.sha1).digest())

    def form(key):
        return OrderedDict([("key", key), ("AWSAccessKeyId", "test"), ("signature", sig),
                            ("policy", policy), ("file", "data")])

    u = "%s/%s" % (nimbus.endpoint, bucket)
    origin = {"Origin": "http://app.example"}
    for payload, status in ((form("up/a"), 204), (form("other"), 403)):
        r = requests.post(u, files=payload, headers=origin)
        assert r.status_code == status, r.text
        assert r.headers["access-control-allow-origin"] == "http://app.example"
        assert r.headers["access-control-expose-headers"] == "ETag"
        # one set of headers, not one per check
        assert r.raw.headers.getlist("Access-Control-Allow-Origin") == ["http://app.example"]
    r = requests.post(u, data=b"garbage", headers=dict(
        origin, **{"Content-Type": "multipart/form-data; boundary=zz"}))
    assert r.status_code == 400
    assert r.headers["access-control-allow-origin"] == "http://app.example"
    # another origin gets none
    r = requests.post(u, files=form("up/b"), headers={"Origin": "http://evil.example"})
    assert r.status_code == 204 and "access-control-allow-origin" not in r.headers
