"""SigV4 refusals at the endpoint, in each protocol's own error format."""
import datetime
import json

from sigv4util import presign, request, sign

FORM = b"Action=GetCallerIdentity&Version=2011-06-15"
FORM_HDRS = {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}


def host(s):
    return "%s:%d" % (s.host, s.port)


def test_hand_signed_request_is_accepted(nimbus):
    st, _, body = request(nimbus, "POST", "/", sign("POST", host(nimbus), "/", [], FORM_HDRS, FORM), FORM)
    assert st == 200, body
    assert b"<Arn>arn:aws:iam::000000000000:root</Arn>" in body


def test_clock_skew_is_refused(nimbus):
    old = datetime.datetime.utcnow() - datetime.timedelta(minutes=20)
    st, _, body = request(nimbus, "POST", "/", sign("POST", host(nimbus), "/", [], FORM_HDRS, FORM, when=old), FORM)
    assert st == 403, body
    assert b"RequestTimeTooSkewed" in body or b"Signature expired" in body


def test_skew_within_15_minutes_is_fine(nimbus):
    old = datetime.datetime.utcnow() - datetime.timedelta(minutes=10)
    st, _, body = request(nimbus, "POST", "/", sign("POST", host(nimbus), "/", [], FORM_HDRS, FORM, when=old), FORM)
    assert st == 200, body


def test_tampered_body_is_refused(nimbus):
    hdrs = sign("POST", host(nimbus), "/", [], FORM_HDRS, FORM)
    st, _, body = request(nimbus, "POST", "/", hdrs, b"Action=GetCallerIdentity&Version=2011-06-15&X=1")
    assert st == 403 and b"SignatureDoesNotMatch" in body


def test_incomplete_signature(nimbus):
    hdrs = dict(FORM_HDRS)
    hdrs["X-Amz-Date"] = datetime.datetime.utcnow().strftime("%Y%m%dT%H%M%SZ")
    hdrs["Authorization"] = "AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/sts/aws4_request"
    st, _, body = request(nimbus, "POST", "/", hdrs, FORM)
    assert st in (400, 403), body
    assert b"IncompleteSignature" in body or b"AuthorizationHeaderMalformed" in body


def test_expired_presigned_url(nimbus):
    old = datetime.datetime.utcnow() - datetime.timedelta(minutes=5)
    path = presign("GET", host(nimbus), "/", [("Action", "GetCallerIdentity"), ("Version", "2011-06-15")],
                   when=old, expires=60)
    st, _, body = request(nimbus, "GET", path)
    assert st == 403, body
    assert b"AccessDenied" in body or b"expired" in body


def test_valid_presigned_url(nimbus):
    path = presign("GET", host(nimbus), "/", [("Action", "GetCallerIdentity"), ("Version", "2011-06-15")])
    st, _, body = request(nimbus, "GET", path)
    assert st == 200, body


def test_security_token_with_permanent_key_is_refused(nimbus):
    hdrs = dict(FORM_HDRS)
    hdrs["X-Amz-Security-Token"] = "bogus"
    st, _, body = request(nimbus, "POST", "/", sign("POST", host(nimbus), "/", [], hdrs, FORM), FORM)
    assert st == 403 and b"InvalidClientTokenId" in body


def test_json_protocol_error_format(nimbus):
    body = b"{}"
    hdrs = {"Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": "Logs_20140328.DescribeLogGroups"}
    hdrs = sign("POST", host(nimbus), "/", [], hdrs, body, service="logs", secret="wrong")
    st, h, data = request(nimbus, "POST", "/", hdrs, body)
    assert st in (400, 403)
    doc = json.loads(data)
    assert "InvalidSignatureException" in doc.get("__type", "") + h.get("x-amzn-ErrorType", "")


def test_unknown_target(nimbus):
    body = b"{}"
    hdrs = {"Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": "Logs_20140328.NoSuchThing"}
    hdrs = sign("POST", host(nimbus), "/", [], hdrs, body, service="logs")
    st, _, data = request(nimbus, "POST", "/", hdrs, body)
    assert st == 400
    assert "UnknownOperation" in json.loads(data)["__type"]


def test_unknown_action_query(nimbus):
    form = b"Action=NoSuchAction&Version=2011-06-15"
    st, _, body = request(nimbus, "POST", "/", sign("POST", host(nimbus), "/", [], FORM_HDRS, form), form)
    assert st == 400 and b"InvalidAction" in body
