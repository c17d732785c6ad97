"""S3 request authentication as AWS answers it: the credential scope's region and service
(AuthorizationHeaderMalformed / AuthorizationQueryParametersError naming the expected <Region>,
which boto3 and the aws CLI follow), malformed credentials, unknown keys, signature mismatches
with S3's diagnostic elements, request time (missing, malformed, skewed, Date header only),
x-amz-content-sha256 (mismatch, invalid, missing, unsigned, aws-chunked signatures), empty and
foreign Authorization headers, SigV2 (header and presigned), presigned URL limits and expiry,
session tokens, and anonymous requests reaching the bucket policy."""
import base64
import datetime
import email.utils
import hashlib
import hmac
import http.client
import json
import re
import urllib.parse

import pytest
from botocore.exceptions import ClientError

from conftest import client, run_aws
from s3util import bucket, err, s3  # noqa: F401 (fixtures)
from sigv4util import presign, sign, signing_key

EMPTY = hashlib.sha256(b"").hexdigest()


def host(srv):
    return "%s:%d" % (srv.host, srv.port)


def raw(srv, method, path, headers, body=b""):
    """Send exactly these headers (none added but Content-Length for a body)."""
    c = http.client.HTTPConnection(srv.host, srv.port, timeout=30)
    c.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
    names = {k.lower() for k in headers}
    for k, v in headers.items():
        c.putheader(k, v)
    if body and "content-length" not in names:
        c.putheader("Content-Length", str(len(body)))
    c.endheaders(body if body else None)
    r = c.getresponse()
    data = r.read()
    c.close()
    return r.status, {k.lower(): v for k, v in r.getheaders()}, data


def s3sign(srv, method, path, body=b"", extra=None, payload_hash=None, **kw):
    """SigV4 headers for S3 (x-amz-content-sha256 signed, as every S3 client sends it)."""
    ph = payload_hash or hashlib.sha256(body).hexdigest()
    h = {"x-amz-content-sha256": ph}
    h.update(extra or {})
    return sign(method, host(srv), path, [], h, body, service=kw.pop("service", "s3"),
                payload_hash=ph, **kw)


def xml_field(body, name):
    m = re.search(rb"<%s>(.*?)</%s>" % (name.encode(), name.encode()), body, re.S)
    return m.group(1).decode() if m else None


def code(body):
    return xml_field(body, "Code")


def message(body):
    return xml_field(body, "Message").replace("&quot;", '"').replace("&lt;", "<").replace("&gt;", ">").replace("&apos;", "'")


@pytest.fixture
def obj(s3, bucket):
    s3.put_object(Bucket=bucket, Key="k", Body=b"hello")
    return bucket


@pytest.fixture
def strict(nimbus_factory):
    """A server that refuses signatures for another region, as AWS's regional endpoints do."""
    return nimbus_factory(args=["--strict-region"])


@pytest.fixture
def sobj(strict):
    c = client(strict, "s3")
    c.create_bucket(Bucket="strict-bucket")
    c.put_object(Bucket="strict-bucket", Key="k", Body=b"hello")
    return "strict-bucket"


# ------------------------------------------------------------------ credential scope: region

def test_wrong_region_in_header_names_the_expected_region(strict, sobj):
    st, h, body = raw(strict, "GET", "/%s/k" % sobj, s3sign(strict, "GET", "/%s/k" % sobj, region="eu-west-1"))
    assert st == 400, body
    assert code(body) == "AuthorizationHeaderMalformed"
    assert message(body) == ("The authorization header is malformed; the region 'eu-west-1' is wrong; "
                             "expecting 'us-east-1'")
    assert xml_field(body, "Region") == "us-east-1"
    assert h.get("x-amz-bucket-region") == "us-east-1"
    # a HEAD has no body: the header alone tells the client where to go
    st, h, body = raw(strict, "HEAD", "/%s/k" % sobj, s3sign(strict, "HEAD", "/%s/k" % sobj, region="eu-west-1"))
    assert st == 400 and body == b"" and h.get("x-amz-bucket-region") == "us-east-1"


def test_wrong_region_in_presigned_url(strict, sobj):
    path = presign("GET", host(strict), "/%s/k" % sobj, [], service="s3", region="ap-south-1")
    st, h, body = raw(strict, "GET", path, {"Host": host(strict)})
    assert st == 400, body
    assert code(body) == "AuthorizationQueryParametersError"
    assert message(body) == ("Error parsing the X-Amz-Credential parameter; the region 'ap-south-1' is "
                             "wrong; expecting 'us-east-1'")
    assert xml_field(body, "Region") == "us-east-1"


def test_boto3_configured_for_another_region_follows_the_error(strict, sobj):
    """botocore's S3 region redirector re-signs for the region S3 names and retries, for every
    bucket operation (HEADs included, from x-amz-bucket-region); ListBuckets names no bucket
    and fails as on AWS, with the expected region in the message."""
    other = client(strict, "s3", region="eu-west-1")
    other.put_object(Bucket=sobj, Key="from-eu", Body=b"redirected")
    assert other.get_object(Bucket=sobj, Key="from-eu")["Body"].read() == b"redirected"
    assert client(strict, "s3", region="eu-west-1").head_object(Bucket=sobj, Key="k")["ContentLength"] == 5
    fresh = client(strict, "s3", region="eu-west-1")
    assert fresh.head_bucket(Bucket=sobj)["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert [o["Key"] for o in fresh.list_objects_v2(Bucket=sobj)["Contents"]] == ["from-eu", "k"]
    with pytest.raises(ClientError) as e:
        client(strict, "s3", region="eu-west-1").list_buckets()
    assert err(e) == (400, "AuthorizationHeaderMalformed")
    assert e.value.response["Error"]["Region"] == "us-east-1"


def test_cli_configured_for_another_region(strict, sobj, tmp_path):
    f = tmp_path / "f.txt"
    f.write_bytes(b"cli bytes")
    run_aws(strict, "s3", "cp", str(f), "s3://%s/cli.txt" % sobj, region="eu-west-1", parse=False)
    p = run_aws(strict, "s3", "ls", "s3://%s/" % sobj, region="eu-west-1", parse=False)
    assert "cli.txt" in p.stdout
    p = run_aws(strict, "s3", "cp", "s3://%s/cli.txt" % sobj, "-", region="eu-west-1", parse=False)
    assert p.stdout == "cli bytes"
    p = run_aws(strict, "s3", "ls", region="eu-west-1", check=False, parse=False)
    assert p.returncode != 0
    assert "AuthorizationHeaderMalformed" in p.stderr and "expecting 'us-east-1'" in p.stderr
    # configured for the server's region, it just works
    p = run_aws(strict, "s3", "ls", parse=False)
    assert sobj in p.stdout


def test_server_region_is_the_expected_one(nimbus_factory):
    srv = nimbus_factory(args=["--region", "eu-west-1", "--strict-region"])
    with pytest.raises(ClientError) as e:
        client(srv, "s3", region="us-east-1").list_buckets()
    assert err(e) == (400, "AuthorizationHeaderMalformed")
    assert "expecting 'eu-west-1'" in e.value.response["Error"]["Message"]
    assert client(srv, "s3", region="eu-west-1").list_buckets()["Buckets"] == []
    # IAM and STS: their global endpoints sign for us-east-1, which they accept as well
    assert client(srv, "iam", region="us-east-1").list_users()["Users"] == []
    assert client(srv, "sts", region="us-east-1").get_caller_identity()["Account"] == "000000000000"
    assert client(srv, "sts", region="eu-west-1").get_caller_identity()["Account"] == "000000000000"
    with pytest.raises(ClientError) as e:
        client(srv, "sqs", region="us-east-1").list_queues()
    assert err(e) == (403, "SignatureDoesNotMatch")


def test_other_services_refuse_another_region_in_their_format(strict):
    with pytest.raises(ClientError) as e:
        client(strict, "sqs", region="eu-west-1").list_queues()
    assert err(e) == (403, "SignatureDoesNotMatch")
    assert e.value.response["Error"]["Message"].startswith(
        "Credential should be scoped to a valid region, not 'eu-west-1'.")
    with pytest.raises(ClientError) as e:
        client(strict, "logs", region="eu-west-1").describe_log_groups()
    assert e.value.response["Error"]["Code"] == "InvalidSignatureException"
    assert "not 'eu-west-1'" in e.value.response["Error"]["Message"]
    with pytest.raises(ClientError) as e:
        client(strict, "sns", region="eu-west-1").list_topics()
    assert err(e) == (403, "SignatureDoesNotMatch")


# ------------------------------------------------------------------ credential scope: the rest

@pytest.mark.parametrize("service", ["nosuchsvc", "sqs", "iam"])
def test_wrong_service_in_scope(nimbus, obj, service):
    """An S3 request (no Action, no X-Amz-Target) signed for another service."""
    st, _, body = raw(nimbus, "GET", "/%s/k" % obj, s3sign(nimbus, "GET", "/%s/k" % obj, service=service))
    assert st == 400, body
    assert code(body) == "AuthorizationHeaderMalformed"
    assert message(body) == ('The authorization header is malformed; incorrect service "%s". '
                             'This endpoint belongs to "s3".' % service)
    st, _, body = raw(nimbus, "PUT", "/%s/w" % obj, s3sign(nimbus, "PUT", "/%s/w" % obj, b"x", service=service), b"x")
    assert (st, code(body)) == (400, "AuthorizationHeaderMalformed"), body


@pytest.mark.parametrize("mangle,expect", [
    (lambda a: "AWS4-HMAC-SHA256 Credential=HAHAHA",
     "The authorization header is malformed; the authorization header requires three components: "
     "Credential, SignedHeaders, and Signature."),
    (lambda a: a.replace("/s3/aws4_request", "/s3"),
     'The authorization header is malformed; the Credential is mal-formed; expecting '
     '"<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request".'),
    (lambda a: a.replace("Credential=test/", "Credential=/"),
     "The authorization header is malformed; a non-empty Access Key (AKID) must be provided in the "
     "credential."),
    (lambda a: re.sub(r"Credential=test/\d{8}/", "Credential=test/2026-1-1/", a),
     'The authorization header is malformed; incorrect date format "2026-1-1". This date in the '
     'credential must be in the format "yyyyMMdd".'),
    (lambda a: a.replace("/aws4_request", "/aws5_request"),
     'The authorization header is malformed; incorrect terminal "aws5_request". This endpoint uses '
     '"aws4_request".'),
    (lambda a: re.sub(r"Credential=test/\d{8}/", "Credential=test/20200101/", a),
     "The authorization header is malformed; Invalid credential date. Date is not the same as "
     "X-Amz-Date."),
], ids=["no-parts", "four-parts", "no-akid", "bad-date", "bad-terminal", "other-date"])
def test_malformed_credential(nimbus, obj, mangle, expect):
    h = s3sign(nimbus, "GET", "/%s/k" % obj)
    h["Authorization"] = mangle(h["Authorization"])
    st, _, body = raw(nimbus, "GET", "/%s/k" % obj, h)
    assert st == 400, body
    assert code(body) == "AuthorizationHeaderMalformed"
    assert message(body) == expect


def test_unknown_access_key(nimbus, obj):
    st, _, body = raw(nimbus, "GET", "/%s/k" % obj, s3sign(nimbus, "GET", "/%s/k" % obj, access_key="AKIANOSUCHKEY0000000"))
    assert st == 403 and code(body) == "InvalidAccessKeyId"
    assert message(body) == "The AWS Access Key Id you provided does not exist in our records."
    assert xml_field(body, "AWSAccessKeyId") == "AKIANOSUCHKEY0000000"
    with pytest.raises(ClientError) as e:
        client(nimbus, "s3", access_key="AKIANOSUCHKEY0000000").get_object(Bucket=obj, Key="k")
    assert err(e) == (403, "InvalidAccessKeyId")


def test_signature_mismatch_explains_what_was_signed(nimbus, obj):
    path = "/%s/k" % obj
    h = s3sign(nimbus, "GET", path, secret="not-the-secret")
    st, _, body = raw(nimbus, "GET", path, h)
    assert st == 403 and code(body) == "SignatureDoesNotMatch"
    assert message(body) == ("The request signature we calculated does not match the signature you "
                             "provided. Check your key and signing method.")
    assert xml_field(body, "AWSAccessKeyId") == "test"
    assert xml_field(body, "SignatureProvided") == h["Authorization"].rsplit("Signature=", 1)[1]
    creq = xml_field(body, "CanonicalRequest")
    sts = xml_field(body, "StringToSign")
    amz = h["X-Amz-Date"]
    assert creq.split("\n")[:2] == ["GET", path]
    assert "x-amz-date:%s" % amz in creq.split("\n")
    assert creq.endswith("\nhost;x-amz-content-sha256;x-amz-date\n" + EMPTY)
    assert sts == "AWS4-HMAC-SHA256\n%s\n%s/us-east-1/s3/aws4_request\n%s" % (
        amz, amz[:8], hashlib.sha256(creq.encode()).hexdigest())
    # the *Bytes elements spell the same strings byte by byte
    assert bytes.fromhex(xml_field(body, "StringToSignBytes")).decode() == sts
    assert bytes.fromhex(xml_field(body, "CanonicalRequestBytes")).decode() == creq
    # the same with the right secret goes through
    assert raw(nimbus, "GET", path, s3sign(nimbus, "GET", path))[0] == 200


def test_signed_header_changed_after_signing(nimbus, obj):
    h = s3sign(nimbus, "PUT", "/%s/m" % obj, b"x", extra={"x-amz-meta-color": "blue"})
    h["x-amz-meta-color"] = "red"
    st, _, body = raw(nimbus, "PUT", "/%s/m" % obj, h, b"x")
    assert st == 403 and code(body) == "SignatureDoesNotMatch"


def test_unsigned_amz_header_is_refused(nimbus, obj):
    h = s3sign(nimbus, "GET", "/%s/k" % obj)
    h["x-amz-meta-extra"] = "sneaked in"
    st, _, body = raw(nimbus, "GET", "/%s/k" % obj, h)
    assert st == 403 and code(body) == "AccessDenied"
    assert message(body) == "There were headers present in the request which were not signed"
    assert xml_field(body, "HeadersNotSigned") == "x-amz-meta-extra"


# ------------------------------------------------------------------ request time

def test_missing_or_malformed_date(nimbus, obj):
    path = "/%s/k" % obj
    for value in (None, "", "Bad Date", "\x07", "19500707T215304Z", "20261301T000000Z"):
        h = s3sign(nimbus, "GET", path)
        if value is None:
            del h["X-Amz-Date"]
        else:
            h["X-Amz-Date"] = value
        st, _, body = raw(nimbus, "GET", path, h)
        assert (st, code(body)) == (403, "AccessDenied"), (value, body)
        assert message(body) == "AWS authentication requires a valid Date or x-amz-date header"


@pytest.mark.parametrize("minutes", [-20, 20, -60 * 24 * 365 * 16, 60 * 24 * 365 * 7000])
def test_request_time_too_skewed(nimbus, obj, minutes):
    """The time is checked before the credential's date: a request claiming 2010 under today's
    scope is skewed, not a date mismatch."""
    path = "/%s/k" % obj
    when = datetime.datetime.utcnow() + datetime.timedelta(minutes=minutes)
    h = s3sign(nimbus, "GET", path, when=when)
    if abs(minutes) > 60:  # scope keeps today's date; only X-Amz-Date moves
        h = s3sign(nimbus, "GET", path)
        h["X-Amz-Date"] = when.strftime("%Y%m%dT%H%M%SZ")
    st, _, body = raw(nimbus, "GET", path, h)
    assert (st, code(body)) == (403, "RequestTimeTooSkewed"), body
    assert message(body) == "The difference between the request time and the current time is too large."
    assert xml_field(body, "RequestTime") == h["X-Amz-Date"]
    assert xml_field(body, "MaxAllowedSkewMilliseconds") == "900000"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", xml_field(body, "ServerTime"))


@pytest.mark.parametrize("minutes", [-10, 10])
def test_skew_inside_fifteen_minutes_is_accepted(nimbus, obj, minutes):
    when = datetime.datetime.utcnow() + datetime.timedelta(minutes=minutes)
    st, _, body = raw(nimbus, "GET", "/%s/k" % obj, s3sign(nimbus, "GET", "/%s/k" % obj, when=when))
    assert st == 200 and body == b"hello"


def _sign_with_date_header(srv, method, path, body=b"", when=None, date_value=None):
    """SigV4 over the Date header alone (no X-Amz-Date), as botocore does when Date is set."""
    when = when or datetime.datetime.utcnow()
    amz = when.strftime("%Y%m%dT%H%M%SZ")
    date = date_value or email.utils.format_datetime(when.replace(tzinfo=datetime.timezone.utc), usegmt=True)
    hdrs = {"host": host(srv), "date": date, "x-amz-content-sha256": hashlib.sha256(body).hexdigest()}
    names = sorted(hdrs)
    creq = "\n".join([method, path, "", "".join("%s:%s\n" % (n, hdrs[n]) for n in names),
                      ";".join(names), hdrs["x-amz-content-sha256"]])
    scope = "%s/us-east-1/s3/aws4_request" % amz[:8]
    sts = "\n".join(["AWS4-HMAC-SHA256", amz, scope, hashlib.sha256(creq.encode()).hexdigest()])
    sig = hmac.new(signing_key("test", amz[:8], "us-east-1", "s3"), sts.encode(), hashlib.sha256).hexdigest()
    hdrs["Authorization"] = "AWS4-HMAC-SHA256 Credential=test/%s, SignedHeaders=%s, Signature=%s" % (
        scope, ";".join(names), sig)
    return hdrs


def test_date_header_alone(nimbus, obj):
    path = "/%s/k" % obj
    st, _, body = raw(nimbus, "GET", path, _sign_with_date_header(nimbus, "GET", path))
    assert st == 200 and body == b"hello"
    old = datetime.datetime.utcnow() - datetime.timedelta(hours=2)
    st, _, body = raw(nimbus, "GET", path, _sign_with_date_header(nimbus, "GET", path, when=old))
    assert (st, code(body)) == (403, "RequestTimeTooSkewed")
    # Date signed-for but then unreadable
    h = _sign_with_date_header(nimbus, "GET", path)
    h["date"] = "Bad Date"
    st, _, body = raw(nimbus, "GET", path, h)
    assert (st, code(body)) == (403, "AccessDenied")


@pytest.mark.parametrize("date,ok", [
    ("Bad Date", False), ("", False), ("\x07", False),
    ("Tue, 07 Jul 2010 21:53:04 GMT", True), ("Tue, 07 Jul 1950 21:53:04 GMT", True),
    ("Tue, 07 Jul 9999 21:53:04 GMT", True)])
def test_date_header_next_to_x_amz_date(nimbus, s3, bucket, date, ok):
    """s3-tests' *_bad_date_*_aws4: with X-Amz-Date present only its value counts, but S3 still
    refuses a Date header it cannot read (403 AccessDenied)."""
    def add_date(params, **kw):
        params["headers"]["Date"] = date
    s3.meta.events.register("before-call.s3.PutObject", add_date)
    if ok:
        s3.put_object(Bucket=bucket, Key="dated", Body=b"bar")
        assert client(nimbus, "s3").get_object(Bucket=bucket, Key="dated")["Body"].read() == b"bar"
    else:
        with pytest.raises(ClientError) as e:
            s3.put_object(Bucket=bucket, Key="dated", Body=b"bar")
        assert err(e) == (403, "AccessDenied")
        assert e.value.response["Error"]["Message"] == "AWS authentication requires a valid Date or x-amz-date header"


def test_date_header_in_python_email_form(nimbus, obj):
    """email.utils.formatdate() writes UTC as "-0000" (botocore's Date header under SigV4)."""
    path = "/%s/k" % obj
    when = datetime.datetime.utcnow()
    date = email.utils.formatdate(when.replace(tzinfo=datetime.timezone.utc).timestamp())
    assert date.endswith("-0000")
    st, _, body = raw(nimbus, "GET", path, _sign_with_date_header(nimbus, "GET", path, when=when, date_value=date))
    assert (st, body) == (200, b"hello")


# ------------------------------------------------------------------ x-amz-content-sha256

def test_content_sha256_mismatch_names_both_hashes(nimbus, bucket, s3):
    claimed = hashlib.sha256(b"something else").hexdigest()
    for key, body in (("small", b"hello"), ("big", b"z" * 300000)):
        h = s3sign(nimbus, "PUT", "/%s/%s" % (bucket, key), body, payload_hash=claimed)
        st, _, resp = raw(nimbus, "PUT", "/%s/%s" % (bucket, key), h, body)
        assert (st, code(resp)) == (400, "XAmzContentSHA256Mismatch"), resp
        assert message(resp) == "The provided 'x-amz-content-sha256' header does not match what was computed."
        assert xml_field(resp, "ClientComputedContentSHA256") == claimed
        assert xml_field(resp, "S3ComputedContentSHA256") == hashlib.sha256(body).hexdigest()
        with pytest.raises(ClientError) as e:
            s3.head_object(Bucket=bucket, Key=key)
        assert err(e)[0] == 404


def test_content_sha256_mismatch_on_a_non_streaming_operation(nimbus, bucket):
    body = b'<Tagging><TagSet><Tag><Key>a</Key><Value>b</Value></Tag></TagSet></Tagging>'
    claimed = hashlib.sha256(b"other").hexdigest()
    h = sign("PUT", host(nimbus), "/%s" % bucket, [("tagging", "")], {"x-amz-content-sha256": claimed}, body,
             service="s3", payload_hash=claimed)
    st, _, resp = raw(nimbus, "PUT", "/%s?tagging=" % bucket, h, body)
    assert (st, code(resp)) == (400, "XAmzContentSHA256Mismatch"), resp
    assert xml_field(resp, "S3ComputedContentSHA256") == hashlib.sha256(body).hexdigest()


@pytest.mark.parametrize("value", ["abc", "g" * 64, "STREAMING-NONSENSE", "unsigned-payload"])
def test_invalid_content_sha256_value(nimbus, obj, value):
    h = s3sign(nimbus, "GET", "/%s/k" % obj, payload_hash=value)
    st, _, body = raw(nimbus, "GET", "/%s/k" % obj, h)
    assert (st, code(body)) == (400, "InvalidArgument"), body
    assert message(body).startswith("x-amz-content-sha256 must be UNSIGNED-PAYLOAD")
    assert xml_field(body, "ArgumentName") == "x-amz-content-sha256"
    assert xml_field(body, "ArgumentValue") == value


def test_missing_content_sha256(nimbus, obj):
    h = sign("GET", host(nimbus), "/%s/k" % obj, [], {}, b"", service="s3")
    st, _, body = raw(nimbus, "GET", "/%s/k" % obj, h)
    assert (st, code(body)) == (400, "InvalidRequest")
    assert message(body) == "Missing required header for this request: x-amz-content-sha256"


def test_unsigned_payload(nimbus, bucket, s3):
    h = s3sign(nimbus, "PUT", "/%s/u" % bucket, b"any bytes", payload_hash="UNSIGNED-PAYLOAD")
    st, _, body = raw(nimbus, "PUT", "/%s/u" % bucket, h, b"any bytes")
    assert st == 200, body
    assert s3.get_object(Bucket=bucket, Key="u")["Body"].read() == b"any bytes"


def _chunked(srv, path, chunks, tamper=None, decoded_length=None):
    """A STREAMING-AWS4-HMAC-SHA256-PAYLOAD upload: headers and body with chunk signatures."""
    data = b"".join(chunks)
    extra = {"Content-Encoding": "aws-chunked",
             "x-amz-decoded-content-length": str(len(data) if decoded_length is None else decoded_length)}
    h = s3sign(srv, "PUT", path, extra=extra, payload_hash="STREAMING-AWS4-HMAC-SHA256-PAYLOAD")
    amz = h["X-Amz-Date"]
    scope = "%s/us-east-1/s3/aws4_request" % amz[:8]
    key = signing_key("test", amz[:8], "us-east-1", "s3")
    prev = h["Authorization"].rsplit("Signature=", 1)[1]
    out = b""
    for i, c in enumerate(list(chunks) + [b""]):
        sts = "\n".join(["AWS4-HMAC-SHA256-PAYLOAD", amz, scope, prev, EMPTY, hashlib.sha256(c).hexdigest()])
        sig = hmac.new(key, sts.encode(), hashlib.sha256).hexdigest()
        prev = sig
        if tamper == i:
            sig = "0" * 64
        out += b"%x;chunk-signature=%s\r\n%s\r\n" % (len(c), sig.encode(), c)
    h["Content-Length"] = str(len(out))
    return h, out


def test_aws_chunked_signed_upload(nimbus, bucket, s3):
    chunks = [b"a" * 8192, b"b" * 100]
    h, body = _chunked(nimbus, "/%s/chunked" % bucket, chunks)
    st, _, resp = raw(nimbus, "PUT", "/%s/chunked" % bucket, h, body)
    assert st == 200, resp
    assert s3.get_object(Bucket=bucket, Key="chunked")["Body"].read() == b"".join(chunks)


@pytest.mark.parametrize("tamper", [0, 1, 2], ids=["first", "second", "final"])
def test_aws_chunked_bad_chunk_signature(nimbus, bucket, s3, tamper):
    h, body = _chunked(nimbus, "/%s/bad" % bucket, [b"a" * 8192, b"b" * 100], tamper=tamper)
    st, _, resp = raw(nimbus, "PUT", "/%s/bad" % bucket, h, body)
    assert (st, code(resp)) == (403, "SignatureDoesNotMatch"), resp
    with pytest.raises(ClientError) as e:
        s3.head_object(Bucket=bucket, Key="bad")
    assert err(e)[0] == 404


def test_aws_chunked_decoded_length_mismatch(nimbus, bucket):
    h, body = _chunked(nimbus, "/%s/short" % bucket, [b"a" * 100], decoded_length=50)
    st, _, resp = raw(nimbus, "PUT", "/%s/short" % bucket, h, body)
    assert st == 400, resp


# ------------------------------------------------------------------ Authorization header forms

def test_empty_authorization_is_anonymous(nimbus, obj, s3):
    """No credentials at all: the bucket policy decides (s3-tests' *_bad_authorization_empty)."""
    st, _, body = raw(nimbus, "GET", "/%s/k" % obj, {"Host": host(nimbus), "Authorization": ""})
    assert (st, code(body)) == (403, "AccessDenied")
    assert message(body) == "Access Denied"
    st, _, body = raw(nimbus, "PUT", "/%s/anon" % obj, {"Host": host(nimbus), "Authorization": " "}, b"x")
    assert (st, code(body)) == (403, "AccessDenied")
    st, _, body = raw(nimbus, "PUT", "/anon-bucket-attempt", {"Host": host(nimbus), "Authorization": ""})
    assert (st, code(body)) == (403, "AccessDenied")
    # once a policy allows anonymous reads, the same request gets the object
    s3.delete_public_access_block(Bucket=obj)
    s3.put_bucket_policy(Bucket=obj, Policy=json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::%s/*" % obj}]}))
    for hdrs in ({"Host": host(nimbus)}, {"Host": host(nimbus), "Authorization": ""}):
        st, _, body = raw(nimbus, "GET", "/%s/k" % obj, hdrs)
        assert (st, body) == (200, b"hello")
    st, _, body = raw(nimbus, "PUT", "/%s/anon" % obj, {"Host": host(nimbus), "Authorization": ""}, b"x")
    assert (st, code(body)) == (403, "AccessDenied")


def test_unsupported_authorization_types(nimbus, obj):
    st, _, body = raw(nimbus, "GET", "/%s/k" % obj, {"Host": host(nimbus), "Authorization": "Bearer abc"})
    assert (st, code(body)) == (400, "InvalidArgument")
    assert message(body) == "Unsupported Authorization Type"
    st, _, body = raw(nimbus, "GET", "/%s/k" % obj, {"Host": host(nimbus), "Authorization": "AWS HAHAHA"})
    assert (st, code(body)) == (400, "InvalidArgument")


def test_header_and_query_signature_together(nimbus, obj):
    path = presign("GET", host(nimbus), "/%s/k" % obj, [], service="s3")
    h = s3sign(nimbus, "GET", "/%s/k" % obj)
    st, _, body = raw(nimbus, "GET", path, h)
    assert (st, code(body)) == (400, "InvalidArgument")
    assert message(body).startswith("Only one auth mechanism allowed")


def test_anonymous_requests_reach_the_policy(nimbus, obj, s3):
    with pytest.raises(ClientError) as e:
        client(nimbus, "s3", config_kw={"signature_version": __import__("botocore").UNSIGNED}).get_object(Bucket=obj, Key="k")
    assert err(e) == (403, "AccessDenied")
    st, _, body = raw(nimbus, "GET", "/%s?list-type=2" % obj, {"Host": host(nimbus)})
    assert (st, code(body)) == (403, "AccessDenied")
    st, _, body = raw(nimbus, "GET", "/nosuch-bucket-anon/k", {"Host": host(nimbus)})
    assert st in (403, 404) and code(body) in ("AccessDenied", "NoSuchBucket")


# ------------------------------------------------------------------ SigV2

def _v2_headers(srv, method, path, date, secret="test", access_key="test", content_type=""):
    sts = "%s\n\n%s\n%s\n%s" % (method, content_type, date, path)
    sig = base64.b64encode(hmac.new(secret.encode(), sts.encode(), hashlib.sha1).digest()).decode()
    h = {"Host": host(srv), "Date": date, "Authorization": "AWS %s:%s" % (access_key, sig)}
    if content_type:
        h["Content-Type"] = content_type
    return h


def _http_date(delta=datetime.timedelta(0)):
    return email.utils.format_datetime(
        (datetime.datetime.utcnow() + delta).replace(tzinfo=datetime.timezone.utc), usegmt=True)


def test_sigv2_header(nimbus, obj):
    path = "/%s/k" % obj
    st, _, body = raw(nimbus, "GET", path, _v2_headers(nimbus, "GET", path, _http_date()))
    assert (st, body) == (200, b"hello")
    st, _, body = raw(nimbus, "GET", path, _v2_headers(nimbus, "GET", path, _http_date(), secret="wrong"))
    assert (st, code(body)) == (403, "SignatureDoesNotMatch")
    assert xml_field(body, "StringToSign") == "GET\n\n\n%s\n%s" % (re.search(
        r"\n\n\n(.*)\n", xml_field(body, "StringToSign")).group(1), path)
    assert bytes.fromhex(xml_field(body, "StringToSignBytes")).decode() == xml_field(body, "StringToSign")
    st, _, body = raw(nimbus, "GET", path, _v2_headers(nimbus, "GET", path, _http_date(), access_key="AKIANOPE"))
    assert (st, code(body)) == (403, "InvalidAccessKeyId")


@pytest.mark.parametrize("date,expect", [
    ("Bad Date", "AccessDenied"),
    ("", "AccessDenied"),
    ("\x07", "AccessDenied"),
    ("Tue, 07 Jul 1950 21:53:04 GMT", "AccessDenied"),
    ("Tue, 07 Jul 2010 21:53:04 GMT", "RequestTimeTooSkewed"),
    ("Tue, 07 Jul 9999 21:53:04 GMT", "RequestTimeTooSkewed"),
])
def test_sigv2_bad_dates(nimbus, obj, date, expect):
    path = "/%s/k" % obj
    st, _, body = raw(nimbus, "GET", path, _v2_headers(nimbus, "GET", path, date))
    assert (st, code(body)) == (403, expect), body
    if expect == "RequestTimeTooSkewed":
        assert xml_field(body, "MaxAllowedSkewMilliseconds") == "900000"
        assert xml_field(body, "RequestTime") == date


def test_sigv2_missing_date(nimbus, obj):
    path = "/%s/k" % obj
    h = _v2_headers(nimbus, "GET", path, "")
    del h["Date"]
    st, _, body = raw(nimbus, "GET", path, h)
    assert (st, code(body)) == (403, "AccessDenied")


def test_sigv2_presigned(nimbus, obj):
    import time
    path = "/%s/k" % obj

    def url(expires, secret="test"):
        sts = "GET\n\n\n%d\n%s" % (expires, path)
        sig = base64.b64encode(hmac.new(secret.encode(), sts.encode(), hashlib.sha1).digest()).decode()
        return "%s?AWSAccessKeyId=test&Expires=%d&Signature=%s" % (path, expires, urllib.parse.quote(sig, safe=""))
    st, _, body = raw(nimbus, "GET", url(int(time.time()) + 300), {"Host": host(nimbus)})
    assert (st, body) == (200, b"hello")
    st, _, body = raw(nimbus, "GET", url(int(time.time()) - 300), {"Host": host(nimbus)})
    assert (st, code(body)) == (403, "AccessDenied")
    assert message(body) == "Request has expired"
    st, _, body = raw(nimbus, "GET", url(int(time.time()) + 300, secret="x"), {"Host": host(nimbus)})
    assert (st, code(body)) == (403, "SignatureDoesNotMatch")


# ------------------------------------------------------------------ presigned URLs (SigV4)

def _pre(srv, obj, **kw):
    return presign("GET", host(srv), "/%s/k" % obj, [], service="s3", **kw)


def test_presigned_expires_limits(nimbus, obj):
    st, _, body = raw(nimbus, "GET", _pre(nimbus, obj, expires=604800), {"Host": host(nimbus)})
    assert (st, body) == (200, b"hello")
    st, _, body = raw(nimbus, "GET", _pre(nimbus, obj, expires=604801), {"Host": host(nimbus)})
    assert (st, code(body)) == (400, "AuthorizationQueryParametersError")
    assert message(body) == "X-Amz-Expires must be less than a week (in seconds) that is 604800"
    st, _, body = raw(nimbus, "GET", _pre(nimbus, obj, expires=-7), {"Host": host(nimbus)})
    assert (st, code(body)) == (400, "AuthorizationQueryParametersError")
    assert message(body) == "X-Amz-Expires must be non-negative"
    st, _, body = raw(nimbus, "GET", _pre(nimbus, obj, expires=0), {"Host": host(nimbus)})
    assert (st, code(body)) == (403, "AccessDenied")
    assert message(body) == "Request has expired"


def test_presigned_expired(nimbus, obj):
    when = datetime.datetime.utcnow() - datetime.timedelta(minutes=10)
    st, _, body = raw(nimbus, "GET", _pre(nimbus, obj, when=when, expires=60), {"Host": host(nimbus)})
    assert (st, code(body)) == (403, "AccessDenied")
    assert message(body) == "Request has expired"
    assert xml_field(body, "X-Amz-Expires") == "60"
    assert xml_field(body, "Expires") == (when + datetime.timedelta(seconds=60)).strftime("%Y-%m-%dT%H:%M:%SZ")
    # dated more than 15 minutes ahead: not yet valid
    ahead = datetime.datetime.utcnow() + datetime.timedelta(minutes=30)
    st, _, body = raw(nimbus, "GET", _pre(nimbus, obj, when=ahead, expires=3600), {"Host": host(nimbus)})
    assert st == 403, body


@pytest.mark.parametrize("drop", ["X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Date", "X-Amz-Expires",
                                  "X-Amz-SignedHeaders", "X-Amz-Signature"])
def test_presigned_missing_parameter(nimbus, obj, drop):
    path = _pre(nimbus, obj)
    base, q = path.split("?", 1)
    q = "&".join(p for p in q.split("&") if not p.startswith(drop + "="))
    st, _, body = raw(nimbus, "GET", base + "?" + q, {"Host": host(nimbus)})
    assert (st, code(body)) == (400, "AuthorizationQueryParametersError"), body
    assert message(body) == ("Query-string authentication version 4 requires the X-Amz-Algorithm, "
                             "X-Amz-Credential, X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and "
                             "X-Amz-Expires parameters.")


def test_presigned_bad_signature_and_unknown_key(nimbus, obj):
    st, _, body = raw(nimbus, "GET", _pre(nimbus, obj, secret="wrong"), {"Host": host(nimbus)})
    assert (st, code(body)) == (403, "SignatureDoesNotMatch")
    assert "X-Amz-Signature" not in xml_field(body, "CanonicalRequest")
    st, _, body = raw(nimbus, "GET", _pre(nimbus, obj, access_key="AKIANOPE"), {"Host": host(nimbus)})
    assert (st, code(body)) == (403, "InvalidAccessKeyId")


def test_presigned_with_session_token(nimbus, obj):
    creds = client(nimbus, "sts").get_session_token()["Credentials"]
    kw = dict(access_key=creds["AccessKeyId"], secret_key=creds["SecretAccessKey"], token=creds["SessionToken"])
    import urllib.request
    for sv in ("s3v4", "s3"):
        c = client(nimbus, "s3", config_kw={"signature_version": sv}, **kw)
        url = c.generate_presigned_url("get_object", Params={"Bucket": obj, "Key": "k"}, ExpiresIn=300)
        assert ("X-Amz-Security-Token=" in url) or ("x-amz-security-token=" in url)
        assert urllib.request.urlopen(url).read() == b"hello"
        # without its token the temporary key is refused
        bare = re.sub(r"&?[Xx]-[Aa]mz-[Ss]ecurity-[Tt]oken=[^&]*", "", url)
        st, _, body = raw(nimbus, "GET", bare[len(nimbus.endpoint):], {"Host": host(nimbus)})
        assert st in (400, 403) and code(body) in ("InvalidToken", "SignatureDoesNotMatch", "AccessDenied"), body


def test_boto3_presigned_put_and_get(nimbus, bucket):
    import urllib.request
    c = client(nimbus, "s3", config_kw={"signature_version": "s3v4"})
    put = c.generate_presigned_url("put_object", Params={"Bucket": bucket, "Key": "p"}, ExpiresIn=60)
    req = urllib.request.Request(put, data=b"presigned body", method="PUT")
    assert urllib.request.urlopen(req).status == 200
    get = c.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "p"}, ExpiresIn=60)
    assert urllib.request.urlopen(get).read() == b"presigned body"


# ------------------------------------------------------------------ headers checked before the handler

def _put_raw(srv, bucket, extra, body=b"bar", content_length="default"):
    h = s3sign(srv, "PUT", "/%s/foo" % bucket, body)
    h.update(extra)
    if content_length != "default":
        if content_length is not None:
            h["Content-Length"] = content_length
    else:
        h["Content-Length"] = str(len(body))
    return raw(srv, "PUT", "/%s/foo" % bucket, h, body)


@pytest.mark.parametrize("value", ["", "-1", "abc"])
def test_bad_content_length(nimbus, bucket, value):
    st, _, _ = _put_raw(nimbus, bucket, {}, content_length=value)
    assert st == 400


def test_missing_content_length(nimbus, bucket):
    st, _, body = _put_raw(nimbus, bucket, {}, body=b"", content_length=None)
    # an empty PUT without Content-Length: S3 wants the length
    assert (st, code(body)) == (411, "MissingContentLength")


@pytest.mark.parametrize("extra", [{"Expect": "200"}, {"Expect": ""}, {"User-Agent": ""}, {"Content-Type": ""}],
                         ids=["expect-200", "expect-empty", "ua-empty", "ct-empty"])
def test_harmless_header_values(nimbus, bucket, s3, extra):
    st, _, body = _put_raw(nimbus, bucket, extra)
    assert st == 200, body
    assert s3.get_object(Bucket=bucket, Key="foo")["Body"].read() == b"bar"


def test_expired_session_token(nimbus, obj):
    import urllib.request
    cr = client(nimbus, "sts").get_session_token(DurationSeconds=900)["Credentials"]
    s = client(nimbus, "s3", access_key=cr["AccessKeyId"], secret_key=cr["SecretAccessKey"], token=cr["SessionToken"])
    assert s.get_object(Bucket=obj, Key="k")["Body"].read() == b"hello"
    req = urllib.request.Request(nimbus.endpoint + "/_nimbus/clock", method="POST",
                                 data=json.dumps({"advance": "1h"}).encode(),
                                 headers={"Content-Type": "application/json"})
    assert urllib.request.urlopen(req).status == 200
    with pytest.raises(ClientError) as e:
        s.get_object(Bucket=obj, Key="k")
    assert err(e) == (400, "ExpiredToken")
    assert e.value.response["Error"]["Message"] == "The provided token has expired."
    # a token that is not the key's
    bad = client(nimbus, "s3", access_key=cr["AccessKeyId"], secret_key=cr["SecretAccessKey"], token="bogus")
    with pytest.raises(ClientError) as e:
        bad.get_object(Bucket=obj, Key="k")
    assert err(e) == (400, "InvalidToken")


# ------------------------------------------------------------------ the other services' wording

def test_broken_credential_in_query_and_json_services(nimbus):
    """Requests meant for other services (a form Action, an X-Amz-Target) keep their wording."""
    now = datetime.datetime.utcnow().strftime("%Y%m%dT%H%M%SZ")
    form = b"Action=GetCallerIdentity&Version=2011-06-15"
    st, _, body = raw(nimbus, "POST", "/", {"Host": host(nimbus), "X-Amz-Date": now,
                                            "Content-Type": "application/x-www-form-urlencoded",
                                            "Authorization": "AWS4-HMAC-SHA256 Credential=HAHAHA"}, form)
    assert st == 400 and code(body) == "IncompleteSignature" and b"<ErrorResponse" in body
    assert "Authorization header requires 'Signature' parameter." in message(body)
    st, _, body = raw(nimbus, "POST", "/", {"Host": host(nimbus), "X-Amz-Date": now,
                                            "Content-Type": "application/x-amz-json-1.1",
                                            "X-Amz-Target": "Logs_20140328.DescribeLogGroups",
                                            "Authorization": "AWS4-HMAC-SHA256 Credential=HAHAHA"}, b"{}")
    assert st == 400 and json.loads(body)["__type"].endswith("IncompleteSignature")
    # an empty Authorization header is no authentication: these services want one
    st, _, body = raw(nimbus, "POST", "/", {"Host": host(nimbus), "Authorization": "",
                                            "Content-Type": "application/x-www-form-urlencoded"}, form)
    assert (st, code(body)) == (403, "MissingAuthenticationToken")


def test_another_region_in_query_services_under_strict_region(strict):
    """With --strict-region a signature for another region is the query service's to refuse."""
    form = b"Action=GetCallerIdentity&Version=2011-06-15"
    h = sign("POST", host(strict), "/", [], {"Content-Type": "application/x-www-form-urlencoded"}, form,
             region="eu-west-1")
    st, _, body = raw(strict, "POST", "/", h, form)
    assert (st, code(body)) == (403, "SignatureDoesNotMatch") and b"sts.amazonaws.com" in body
    assert message(body) == "Credential should be scoped to a valid region, not 'eu-west-1'. "


def test_any_region_is_served_by_default(nimbus, obj):
    """By default this one server answers clients configured for any region (their signature
    is still checked, with the region they signed for): S3 without a redirect, ListBuckets
    included, presigned URLs, and the other services."""
    other = client(nimbus, "s3", region="eu-west-1")
    assert obj in [b["Name"] for b in other.list_buckets()["Buckets"]]
    st, _, body = raw(nimbus, "GET", "/%s/k" % obj, s3sign(nimbus, "GET", "/%s/k" % obj, region="eu-west-1"))
    assert (st, body) == (200, b"hello")
    path = presign("GET", host(nimbus), "/%s/k" % obj, [], service="s3", region="ap-south-1")
    assert raw(nimbus, "GET", path, {"Host": host(nimbus)})[:3:2] == (200, b"hello")
    # a bad signature for another region is still refused
    h = s3sign(nimbus, "GET", "/%s/k" % obj, region="eu-west-1")
    h["Authorization"] = h["Authorization"][:-4] + ("0000" if not h["Authorization"].endswith("0000") else "1111")
    st, _, body = raw(nimbus, "GET", "/%s/k" % obj, h)
    assert (st, code(body)) == (403, "SignatureDoesNotMatch")
    assert client(nimbus, "sqs", region="eu-west-1").list_queues()["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert "Topics" in client(nimbus, "sns", region="ap-south-1").list_topics()
    assert client(nimbus, "sts", region="eu-west-1").get_caller_identity()["Account"] == "000000000000"


def test_s3express_scope_reaches_s3(nimbus, obj):
    """Current SDKs sign S3 Express calls (CreateSession for '--x-s3' directory buckets) for
    the service s3express: they reach S3, which has no directory buckets, instead of being
    refused as signed for the wrong service."""
    for service, want in (("s3express", (501, "NotImplemented")),
                          ("sqs", (400, "AuthorizationHeaderMalformed"))):
        h = sign("GET", host(nimbus), "/" + obj, [("session", "")], {"x-amz-content-sha256": EMPTY},
                 b"", service=service, payload_hash=EMPTY)
        st, _, body = raw(nimbus, "GET", "/%s?session=" % obj, h)
        assert (st, code(body)) == want, (service, body)
