"""Browser POST uploads (POST /<bucket>, multipart/form-data with a signed policy): boto3's
generate_presigned_post with SigV2 and SigV4, hand-built policies for every condition kind,
success_action_status / success_action_redirect, ${filename}, curl -F, and S3's errors."""
import base64
import datetime
import hashlib
import hmac
import http.client
import json
import os
import subprocess
import urllib.parse
import uuid
import xml.etree.ElementTree as ET

import pytest
from botocore.config import Config

from conftest import client
from s3util import bucket, s3  # noqa: F401 (fixtures)


def multipart(fields, file_body=b"", filename="f.bin", file_ct="application/octet-stream",
              after=(), with_file=True):
    """A multipart/form-data body: fields in order, then the file, then `after` fields."""
    b = "----nimbus" + uuid.uuid4().hex
    out = []
    for k, v in fields:
        out.append(b"--%s\r\nContent-Disposition: form-data; name=\"%s\"\r\n\r\n%s\r\n"
                   % (b.encode(), k.encode(), v.encode() if isinstance(v, str) else v))
    if with_file:
        out.append(b"--%s\r\nContent-Disposition: form-data; name=\"file\"; filename=\"%s\"\r\n"
                   b"Content-Type: %s\r\n\r\n" % (b.encode(), filename.encode(), file_ct.encode()))
        out.append(file_body + b"\r\n")
    for k, v in after:
        out.append(b"--%s\r\nContent-Disposition: form-data; name=\"%s\"\r\n\r\n%s\r\n"
                   % (b.encode(), k.encode(), v.encode()))
    out.append(b"--%s--\r\n" % b.encode())
    return b"".join(out), "multipart/form-data; boundary=" + b


def post(server, path, fields, file_body=b"", host=None, **kw):
    body, ct = multipart(list(fields.items()) if isinstance(fields, dict) else fields, file_body,
                         **kw)
    conn = http.client.HTTPConnection(server.host, server.port, timeout=60)
    headers = {"Content-Type": ct}
    if host:
        headers["Host"] = host
    conn.request("POST", path, body=body, headers=headers)
    r = conn.getresponse()
    data = r.read()
    conn.close()
    return r.status, dict((k.lower(), v) for k, v in r.getheaders()), data


def error_of(data):
    root = ET.fromstring(data)
    return {c.tag: c.text for c in root}


def s3v(nimbus, sv):
    cfg = {"signature_version": sv} if sv else {}
    return client(nimbus, "s3", config_kw=cfg)


def expiry(seconds=600):
    t = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=seconds)
    return t.strftime("%Y-%m-%dT%H:%M:%S.000Z")


def signed_fields(policy, v4=True, key="test", secret="test", add_v4_conditions=True,
                  region="us-east-1", service="s3"):
    """Sign a policy document (dict) as a browser form would: SigV4 (x-amz-*) or SigV2."""
    fields = {}
    if v4:
        now = datetime.datetime.now(datetime.timezone.utc)
        date = now.strftime("%Y%m%d")
        cred = "%s/%s/%s/%s/aws4_request" % (key, date, region, service)
        amz_date = now.strftime("%Y%m%dT%H%M%SZ")
        fields = {"x-amz-algorithm": "AWS4-HMAC-SHA256", "x-amz-credential": cred,
                  "x-amz-date": amz_date}
        if add_v4_conditions:
            policy = dict(policy, conditions=policy["conditions"] + [{k: v} for k, v in fields.items()])
        b64 = base64.b64encode(json.dumps(policy).encode()).decode()
        k = ("AWS4" + secret).encode()
        for part in (date, region, service, "aws4_request"):
            k = hmac.new(k, part.encode(), hashlib.sha256).digest()
        fields["policy"] = b64
        fields["x-amz-signature"] = hmac.new(k, b64.encode(), hashlib.sha256).hexdigest()
    else:
        b64 = base64.b64encode(json.dumps(policy).encode()).decode()
        fields = {"AWSAccessKeyId": key, "policy": b64,
                  "signature": base64.b64encode(hmac.new(secret.encode(), b64.encode(),
                                                         hashlib.sha1).digest()).decode()}
    return fields


# ---------------------------------------------------------------- boto3 generate_presigned_post

@pytest.mark.parametrize("sv", [None, "s3v4"])
def test_presigned_post_boto3(nimbus, s3, bucket, sv):
    c = s3v(nimbus, sv)
    p = c.generate_presigned_post(bucket, "up/${filename}",
                                  Fields={"success_action_status": "201",
                                          "Content-Type": "text/plain"},
                                  Conditions=[{"success_action_status": "201"},
                                              ["starts-with", "$Content-Type", "text/"],
                                              ["content-length-range", 1, 1000]])
    if sv:
        assert p["fields"]["x-amz-algorithm"] == "AWS4-HMAC-SHA256"
    else:
        assert "AWSAccessKeyId" in p["fields"]
    body = os.urandom(700)
    u = urllib.parse.urlsplit(p["url"])
    st, h, data = post(nimbus, u.path, p["fields"], body, filename="hello.txt")
    assert st == 201, data
    etag = '"%s"' % hashlib.md5(body).hexdigest()
    assert h["etag"] == etag
    root = ET.fromstring(data)
    assert root.tag == "PostResponse"
    got = {c.tag: c.text for c in root}
    assert got["Bucket"] == bucket and got["Key"] == "up/hello.txt" and got["ETag"] == etag
    assert got["Location"].endswith("/%s/up%%2Fhello.txt" % bucket)
    assert h["location"] == got["Location"]
    o = s3.get_object(Bucket=bucket, Key="up/hello.txt")
    assert o["Body"].read() == body
    assert o["ContentType"] == "text/plain"
    assert o["ETag"] == etag


@pytest.mark.parametrize("status,expect", [(None, 204), ("200", 200), ("204", 204),
                                           ("999", 204)])
def test_success_action_status(nimbus, s3, bucket, status, expect):
    c = s3v(nimbus, "s3v4")
    fields = {"success_action_status": status} if status else {}
    conds = [{"success_action_status": status}] if status else []
    p = c.generate_presigned_post(bucket, "k", Fields=fields, Conditions=conds)
    st, h, data = post(nimbus, "/" + bucket, p["fields"], b"abc")
    assert st == expect and data == b""
    assert h["etag"] == '"%s"' % hashlib.md5(b"abc").hexdigest()
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"abc"


def test_success_action_redirect(nimbus, s3, bucket):
    c = s3v(nimbus, None)
    url = "http://example.test/done?x=1"
    p = c.generate_presigned_post(bucket, "r/${filename}",
                                  Fields={"success_action_redirect": url},
                                  Conditions=[{"success_action_redirect": url}])
    st, h, data = post(nimbus, "/" + bucket, p["fields"], b"redirected", filename="a b.txt")
    assert st == 303, data
    loc = urllib.parse.urlsplit(h["location"])
    assert loc.netloc == "example.test" and loc.path == "/done"
    q = urllib.parse.parse_qs(loc.query)
    assert q["x"] == ["1"] and q["bucket"] == [bucket] and q["key"] == ["r/a b.txt"]
    assert q["etag"] == ['"%s"' % hashlib.md5(b"redirected").hexdigest()]
    assert s3.get_object(Bucket=bucket, Key="r/a b.txt")["Body"].read() == b"redirected"
    # the older "redirect" field works the same way
    p = c.generate_presigned_post(bucket, "r2", Fields={"redirect": url},
                                  Conditions=[["starts-with", "$redirect", "http://example.test/"]])
    st, h, _ = post(nimbus, "/" + bucket, p["fields"], b"x")
    assert st == 303 and "key=r2" in h["location"]


# ---------------------------------------------------------------- hand-built policies

@pytest.mark.parametrize("v4", [True, False])
def test_every_condition_kind(nimbus, s3, bucket, v4):
    policy = {"expiration": expiry(), "conditions": [
        {"bucket": bucket},
        ["starts-with", "$key", "user/"],
        {"acl": "private"},
        ["eq", "$Content-Type", "image/png"],
        ["starts-with", "$Cache-Control", ""],
        ["starts-with", "$x-amz-meta-color", "bl"],
        ["eq", "$x-amz-meta-size", "big"],
        ["starts-with", "$Content-Disposition", "attachment"],
        {"tagging": "<Tagging><TagSet><Tag><Key>t</Key><Value>v</Value></Tag></TagSet></Tagging>"},
        ["content-length-range", 0, 10],
    ]}
    fields = [("key", "user/${filename}"), ("acl", "private"), ("Content-Type", "image/png"),
              ("Cache-Control", "max-age=5"), ("x-amz-meta-color", "blue"),
              ("x-amz-meta-size", "big"), ("Content-Disposition", "attachment; filename=x.png"),
              ("tagging", "<Tagging><TagSet><Tag><Key>t</Key><Value>v</Value></Tag></TagSet></Tagging>"),
              ("x-ignore-me", "anything")]
    fields += list(signed_fields(policy, v4).items())
    st, _, data = post(nimbus, "/" + bucket, fields, b"0123456789", filename="pic.png")
    assert st == 204, data
    o = s3.get_object(Bucket=bucket, Key="user/pic.png")
    assert o["Body"].read() == b"0123456789"
    assert o["ContentType"] == "image/png"
    assert o["CacheControl"] == "max-age=5"
    assert o["ContentDisposition"] == "attachment; filename=x.png"
    assert o["Metadata"] == {"color": "blue", "size": "big"}
    assert s3.get_object_tagging(Bucket=bucket, Key="user/pic.png")["TagSet"] == [
        {"Key": "t", "Value": "v"}]


def _denied(nimbus, bucket, policy, fields, body=b"data", v4=True, status=403,
            code="AccessDenied"):
    fl = list(fields) + list(signed_fields(policy, v4).items())
    st, h, data = post(nimbus, "/" + bucket, fl, body)
    assert st == status, data
    e = error_of(data)
    assert e["Code"] == code, data
    assert e["RequestId"] == h["x-amz-request-id"]
    assert e["HostId"]
    return e


def test_condition_failures(nimbus, s3, bucket):
    base = [{"bucket": bucket}, ["starts-with", "$key", "user/"]]
    e = _denied(nimbus, bucket, {"expiration": expiry(), "conditions": base},
                [("key", "other/x")])
    assert e["Message"] == ('Invalid according to Policy: Policy Condition failed: '
                            '["starts-with", "$key", "user/"]')
    e = _denied(nimbus, bucket, {"expiration": expiry(),
                                 "conditions": base + [["eq", "$acl", "private"]]},
                [("key", "user/x"), ("acl", "public-read")])
    assert e["Message"] == ('Invalid according to Policy: Policy Condition failed: '
                            '["eq", "$acl", "private"]')
    # exact-match conditions are reported in the eq form
    e = _denied(nimbus, bucket, {"expiration": expiry(),
                                 "conditions": [{"bucket": "another-bucket"}] + base[1:]},
                [("key", "user/x")])
    assert e["Message"] == ('Invalid according to Policy: Policy Condition failed: '
                            '["eq", "$bucket", "another-bucket"]')
    # a field no condition covers
    e = _denied(nimbus, bucket, {"expiration": expiry(), "conditions": base},
                [("key", "user/x"), ("x-amz-meta-a", "1")])
    assert e["Message"] == "Invalid according to Policy: Extra input fields: x-amz-meta-a"


def test_v4_signing_fields_must_be_covered(nimbus, s3, bucket):
    policy = {"expiration": expiry(), "conditions": [{"bucket": bucket}, {"key": "k"}]}
    fl = [("key", "k")] + list(signed_fields(policy, True, add_v4_conditions=False).items())
    st, _, data = post(nimbus, "/" + bucket, fl, b"x")
    assert st == 403
    assert error_of(data)["Message"] == ("Invalid according to Policy: Extra input fields: "
                                         "x-amz-algorithm, x-amz-credential, x-amz-date")


def test_content_length_range(nimbus, s3, bucket):
    policy = {"expiration": expiry(), "conditions": [{"bucket": bucket}, {"key": "k"},
                                                     ["content-length-range", 5, 10]]}
    e = _denied(nimbus, bucket, policy, [("key", "k")], body=b"x" * 11, status=400,
                code="EntityTooLarge")
    assert e["Message"] == "Your proposed upload exceeds the maximum allowed size"
    assert e["MaxSizeAllowed"] == "10"
    e = _denied(nimbus, bucket, policy, [("key", "k")], body=b"x" * 4, status=400,
                code="EntityTooSmall")
    assert e["Message"] == "Your proposed upload is smaller than the minimum allowed size"
    assert e["ProposedSize"] == "4" and e["MinSizeAllowed"] == "5"
    for n in (5, 10):
        fl = [("key", "k")] + list(signed_fields(policy).items())
        assert post(nimbus, "/" + bucket, fl, b"y" * n)[0] == 204
    with pytest.raises(Exception):
        s3.head_object(Bucket=bucket, Key="nothing-stored")


@pytest.mark.parametrize("v4", [True, False])
def test_expired_policy(nimbus, s3, bucket, v4):
    policy = {"expiration": expiry(-5), "conditions": [{"bucket": bucket}, {"key": "k"}]}
    e = _denied(nimbus, bucket, policy, [("key", "k")], v4=v4)
    assert e["Message"] == "Invalid according to Policy: Policy expired."


def test_bad_signature_and_unknown_key(nimbus, s3, bucket):
    policy = {"expiration": expiry(), "conditions": [{"bucket": bucket}, {"key": "k"}]}
    for v4 in (True, False):
        fl = dict(signed_fields(policy, v4, secret="wrong"))
        st, _, data = post(nimbus, "/" + bucket, [("key", "k")] + list(fl.items()), b"x")
        assert st == 403
        e = error_of(data)
        assert e["Code"] == "SignatureDoesNotMatch"
        assert e["Message"] == ("The request signature we calculated does not match the "
                                "signature you provided. Check your key and signing method.")
        assert e["StringToSign"] == fl["policy"]
        fl = dict(signed_fields(policy, v4, key="AKIDUNKNOWN00000000"))
        st, _, data = post(nimbus, "/" + bucket, [("key", "k")] + list(fl.items()), b"x")
        assert st == 403
        e = error_of(data)
        assert e["Code"] == "InvalidAccessKeyId"
        assert e["AWSAccessKeyId"] == "AKIDUNKNOWN00000000"


def test_credential_scope(nimbus, s3, bucket):
    policy = {"expiration": expiry(), "conditions": [{"bucket": bucket}, {"key": "k"}]}
    fl = [("key", "k")] + list(signed_fields(policy, region="eu-west-1").items())
    st, _, data = post(nimbus, "/" + bucket, fl, b"x")
    e = error_of(data)
    assert st == 400 and e["Code"] == "AuthorizationQueryParametersError"
    assert e["Message"] == ("Error parsing the X-Amz-Credential parameter; the region "
                            "'eu-west-1' is wrong; expecting 'us-east-1'")
    assert e["Region"] == "us-east-1"
    fl = [("key", "k")] + list(signed_fields(policy, service="sqs").items())
    st, _, data = post(nimbus, "/" + bucket, fl, b"x")
    e = error_of(data)
    assert st == 400 and e["Message"] == ("Error parsing the X-Amz-Credential parameter; "
                                          'incorrect service "sqs". This endpoint belongs to "s3".')


def test_policy_documents_refused(nimbus, s3, bucket):
    fl = [("key", "k"), ("AWSAccessKeyId", "test")]
    for doc, msg in [
        (b"not json", "Invalid Policy: Invalid JSON."),
        (json.dumps({"conditions": []}).encode(), "Invalid Policy: Policy missing expiration."),
        (json.dumps({"expiration": "tomorrow", "conditions": []}).encode(),
         "Invalid Policy: Invalid 'expiration' value: 'tomorrow'"),
        (json.dumps({"expiration": expiry()}).encode(), "Invalid Policy: Policy missing conditions."),
    ]:
        b64 = base64.b64encode(doc).decode()
        sig = base64.b64encode(hmac.new(b"test", b64.encode(), hashlib.sha1).digest()).decode()
        st, _, data = post(nimbus, "/" + bucket, fl + [("policy", b64), ("signature", sig)], b"x")
        assert st == 400, data
        e = error_of(data)
        assert (e["Code"], e["Message"]) == ("InvalidPolicyDocument", msg)


def test_form_errors(nimbus, s3, bucket):
    policy = {"expiration": expiry(), "conditions": [{"bucket": bucket}, {"key": "k"}]}
    sf = list(signed_fields(policy).items())
    # no file part
    st, _, data = post(nimbus, "/" + bucket, [("key", "k")] + sf, with_file=False)
    assert st == 400
    e = error_of(data)
    assert (e["Code"], e["Message"]) == ("InvalidArgument",
                                         "POST requires exactly one file upload per request.")
    assert e["ArgumentName"] == "file" and e["ArgumentValue"] == "0"
    # no key field
    st, _, data = post(nimbus, "/" + bucket, sf, b"x")
    e = error_of(data)
    assert st == 400 and e["Code"] == "InvalidArgument"
    assert e["Message"] == ("Bucket POST must contain a field named 'key'.  If it is specified, "
                            "please check the order of the fields.")
    # the key after the file does not count
    st, _, data = post(nimbus, "/" + bucket, sf, b"x", after=[("key", "k")])
    assert st == 400 and error_of(data)["ArgumentName"] == "key"
    # no policy: anonymous, and no bucket admits anonymous writes
    st, _, data = post(nimbus, "/" + bucket, [("key", "k")], b"x")
    assert st == 403 and error_of(data)["Code"] == "AccessDenied"
    # no such bucket
    st, _, data = post(nimbus, "/no-such-bucket-here", [("key", "k")] + sf, b"x")
    e = error_of(data)
    assert st == 404 and e["Code"] == "NoSuchBucket" and e["BucketName"] == "no-such-bucket-here"
    # a body that is not multipart
    conn = http.client.HTTPConnection(nimbus.host, nimbus.port, timeout=30)
    conn.request("POST", "/" + bucket, body=b"garbage without boundaries",
                 headers={"Content-Type": "multipart/form-data; boundary=xyz"})
    r = conn.getresponse()
    data = r.read()
    assert r.status == 400
    assert error_of(data)["Code"] == "MalformedPOSTRequest"
    assert error_of(data)["Message"] == ("The body of your POST request is not well-formed "
                                         "multipart/form-data.")
    conn.close()


def test_fields_after_file_ignored_and_large_file_streamed(nimbus, s3, bucket):
    policy = {"expiration": expiry(), "conditions": [{"bucket": bucket}, {"key": "big"}]}
    body = os.urandom(12 << 20) + b"\r\n--almost-a-boundary\r\n"
    fl = [("key", "big")] + list(signed_fields(policy).items())
    st, h, data = post(nimbus, "/" + bucket, fl, body, after=[("x-amz-meta-late", "ignored")])
    assert st == 204, data
    o = s3.get_object(Bucket=bucket, Key="big")
    assert hashlib.md5(o["Body"].read()).hexdigest() == hashlib.md5(body).hexdigest()
    assert o["Metadata"] == {}
    assert h["etag"] == '"%s"' % hashlib.md5(body).hexdigest()


def test_virtual_hosted_post(nimbus, s3, bucket):
    c = s3v(nimbus, "s3v4")
    p = c.generate_presigned_post(bucket, "vh", Fields={"success_action_status": "201"},
                                  Conditions=[{"success_action_status": "201"}])
    st, _, data = post(nimbus, "/", p["fields"], b"vhost",
                       host="%s.localhost:%d" % (bucket, nimbus.port))
    assert st == 201, data
    loc = ET.fromstring(data).find("Location").text
    assert loc == "http://%s.localhost:%d/vh" % (bucket, nimbus.port)
    assert s3.get_object(Bucket=bucket, Key="vh")["Body"].read() == b"vhost"


def test_curl_form(nimbus, s3, bucket, tmp_path):
    c = s3v(nimbus, None)
    p = c.generate_presigned_post(bucket, "curl/${filename}",
                                  Fields={"Content-Type": "text/plain",
                                          "x-amz-meta-via": "curl"},
                                  Conditions=[{"Content-Type": "text/plain"},
                                              {"x-amz-meta-via": "curl"}])
    f = tmp_path / "upload.txt"
    f.write_bytes(os.urandom(3 << 20))  # large enough that curl sends Expect: 100-continue
    cmd = ["curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}"]
    for k, v in p["fields"].items():
        cmd += ["-F", "%s=%s" % (k, v)]
    cmd += ["-F", "file=@%s" % f, p["url"]]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    assert out.stdout == "204", out.stderr
    o = s3.get_object(Bucket=bucket, Key="curl/upload.txt")
    assert o["Body"].read() == f.read_bytes()
    assert o["ContentType"] == "text/plain" and o["Metadata"] == {"via": "curl"}


# ---------------------------------------------------------------- authorization, encryption

def test_anonymous_form_needs_a_public_write_policy(nimbus, s3, bucket):
    fields = [("key", "drop/${filename}"), ("Content-Type", "text/plain")]
    st, _, data = post(nimbus, "/" + bucket, fields, b"anon", filename="a.txt")
    assert st == 403 and error_of(data)["Code"] == "AccessDenied"
    s3.delete_public_access_block(Bucket=bucket)
    s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps({
        "Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Principal": "*", "Action": "s3:PutObject",
            "Resource": "arn:aws:s3:::%s/drop/*" % bucket}]}))
    st, _, data = post(nimbus, "/" + bucket, fields, b"anon", filename="a.txt")
    assert st == 204, data
    o = s3.get_object(Bucket=bucket, Key="drop/a.txt")
    assert o["Body"].read() == b"anon" and o["ContentType"] == "text/plain"
    # outside the granted prefix: refused
    st, _, data = post(nimbus, "/" + bucket, [("key", "elsewhere")], b"anon")
    assert st == 403 and error_of(data)["Code"] == "AccessDenied"


def test_signer_without_permission_is_refused(nimbus, s3, bucket, boto):
    iam = boto("iam")
    iam.create_user(UserName="poster")
    k = iam.create_access_key(UserName="poster")["AccessKey"]
    policy = {"expiration": expiry(), "conditions": [{"bucket": bucket}, {"key": "k"}]}
    fl = [("key", "k")] + list(signed_fields(policy, True, key=k["AccessKeyId"],
                                             secret=k["SecretAccessKey"]).items())
    st, _, data = post(nimbus, "/" + bucket, fl, b"x")
    assert st == 403 and error_of(data)["Code"] == "AccessDenied"
    iam.put_user_policy(UserName="poster", PolicyName="put", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Action": "s3:PutObject",
            "Resource": "arn:aws:s3:::%s/*" % bucket}]}))
    fl = [("key", "k")] + list(signed_fields(policy, True, key=k["AccessKeyId"],
                                             secret=k["SecretAccessKey"]).items())
    st, _, data = post(nimbus, "/" + bucket, fl, b"by poster")
    assert st == 204, data
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"by poster"


def test_customer_key_encryption_fields(nimbus, s3, bucket):
    key = os.urandom(32)
    kb = base64.b64encode(key).decode()
    km = base64.b64encode(hashlib.md5(key).digest()).decode()
    sse = [("x-amz-server-side-encryption-customer-algorithm", "AES256"),
           ("x-amz-server-side-encryption-customer-key", kb),
           ("x-amz-server-side-encryption-customer-key-MD5", km)]
    policy = {"expiration": expiry(), "conditions": [{"bucket": bucket}, {"key": "secret"}] +
              [{k: v} for k, v in sse]}
    body = os.urandom(100 << 10)
    fl = [("key", "secret")] + sse + list(signed_fields(policy).items())
    st, h, data = post(nimbus, "/" + bucket, fl, body)
    assert st == 204, data
    assert h["x-amz-server-side-encryption-customer-algorithm"] == "AES256"
    assert h["x-amz-server-side-encryption-customer-key-md5"] == km
    with pytest.raises(Exception):
        s3.get_object(Bucket=bucket, Key="secret")
    o = s3.get_object(Bucket=bucket, Key="secret", SSECustomerAlgorithm="AES256",
                      SSECustomerKey=key)
    assert o["Body"].read() == body


@pytest.mark.parametrize("size", [0, 1, 64 << 10, (64 << 10) + 1, 3 << 20])
def test_sizes_around_the_inline_limit(nimbus, s3, bucket, size):
    policy = {"expiration": expiry(), "conditions": [{"bucket": bucket}, {"key": "s"}]}
    body = os.urandom(size)
    fl = [("key", "s")] + list(signed_fields(policy).items())
    st, h, data = post(nimbus, "/" + bucket, fl, body)
    assert st == 204, data
    assert h["etag"] == '"%s"' % hashlib.md5(body).hexdigest()
    o = s3.get_object(Bucket=bucket, Key="s")
    assert o["Body"].read() == body and o["ContentLength"] == size
