"""AWS compatibility of S3 refusals as client suites check them: MissingContentLength (411),
EntityTooLarge before the body is sent, x-amz-expected-bucket-owner, and 403 rather than 404
for a missing key when the caller may not list the bucket."""
import json
import socket
import urllib.request
import uuid

import pytest
from botocore import UNSIGNED
from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

from conftest import client
from s3util import bucket, err, s3  # noqa: F401 (fixtures)


def raw_signed(server, method, path, headers, body=b""):
    """Send a SigV4-signed request with exactly these headers (the empty payload signed);
    return (status line, raw head + body as text)."""
    url = server.endpoint + path
    r = AWSRequest(method=method, url=url, headers=headers)
    S3SigV4Auth(Credentials("test", "test"), "s3", "us-east-1").add_auth(r)
    head = "%s %s HTTP/1.1\r\nHost: %s:%d\r\n" % (method, path, server.host, server.port)
    head += "".join("%s: %s\r\n" % kv for kv in r.headers.items()) + "\r\n"
    with socket.create_connection((server.host, server.port), timeout=10) as s:
        s.sendall(head.encode() + body)
        out = b""
        while b"\r\n\r\n" not in out:
            d = s.recv(65536)
            if not d:
                break
            out += d
        hd, _, rest = out.partition(b"\r\n\r\n")
        n = 0
        for line in hd.split(b"\r\n"):
            if line.lower().startswith(b"content-length:"):
                n = int(line.split(b":")[1])
        while len(rest) < n:
            d = s.recv(65536)
            if not d:
                break
            rest += d
        out = hd + b"\r\n\r\n" + rest
    text = out.decode(errors="replace")
    return text.split("\r\n", 1)[0], text


def test_put_without_content_length_is_411(nimbus, s3, bucket):
    status, text = raw_signed(nimbus, "PUT", "/%s/nolen" % bucket, {})
    assert " 411 " in status and "<Code>MissingContentLength</Code>" in text
    with pytest.raises(ClientError) as e:
        s3.head_object(Bucket=bucket, Key="nolen")
    assert err(e)[0] == 404


def test_too_large_put_is_refused_before_the_body(nimbus, bucket):
    # the client waits for 100 Continue: the answer must come without the 5 GiB body
    status, text = raw_signed(nimbus, "PUT", "/%s/big" % bucket,
                              {"Content-Length": str(5 * 1024 ** 3 + 1),
                               "Expect": "100-continue",
                               "x-amz-content-sha256": "UNSIGNED-PAYLOAD"})
    assert " 400 " in status and "<Code>EntityTooLarge</Code>" in text
    assert "<MaxSizeAllowed>5368709120</MaxSizeAllowed>" in text


def test_expected_bucket_owner(s3, bucket):
    owner = "000000000000"
    s3.put_object(Bucket=bucket, Key="k", Body=b"x", ExpectedBucketOwner=owner)
    assert s3.list_objects_v2(Bucket=bucket, ExpectedBucketOwner=owner)["KeyCount"] == 1
    for call in (lambda: s3.list_objects_v2(Bucket=bucket, ExpectedBucketOwner="111111111111"),
                 lambda: s3.get_object(Bucket=bucket, Key="k", ExpectedBucketOwner="111111111111"),
                 lambda: s3.put_object(Bucket=bucket, Key="k", Body=b"y",
                                       ExpectedBucketOwner="111111111111")):
        with pytest.raises(ClientError) as e:
            call()
        assert err(e) == (403, "AccessDenied")
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"x"


def _policy(bucket, actions, on_bucket):
    res = ["arn:aws:s3:::%s/*" % bucket] + (["arn:aws:s3:::%s" % bucket] if on_bucket else [])
    return json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": "*", "Action": actions, "Resource": res}]})


def test_missing_key_is_403_without_list_permission(nimbus, s3, bucket):
    s3.delete_public_access_block(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="there", Body=b"x")
    anon = client(nimbus, "s3", config_kw={"signature_version": UNSIGNED})
    s3.put_bucket_policy(Bucket=bucket, Policy=_policy(bucket, ["s3:GetObject"], False))
    assert anon.get_object(Bucket=bucket, Key="there")["Body"].read() == b"x"
    with pytest.raises(ClientError) as e:
        anon.get_object(Bucket=bucket, Key="missing")
    assert err(e) == (403, "AccessDenied")
    with pytest.raises(ClientError) as e:
        anon.head_object(Bucket=bucket, Key="missing")
    assert err(e)[0] == 403
    s3.put_bucket_policy(Bucket=bucket,
                         Policy=_policy(bucket, ["s3:GetObject", "s3:ListBucket"], True))
    with pytest.raises(ClientError) as e:
        anon.get_object(Bucket=bucket, Key="missing")
    assert err(e) == (404, "NoSuchKey")
    # the owner always learns that the key is missing
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket=bucket, Key="missing")
    assert err(e) == (404, "NoSuchKey")


def test_missing_key_for_another_account_with_read_only(nimbus, s3, bucket):
    req = urllib.request.Request(nimbus.endpoint + "/_nimbus/accounts", method="POST",
                                 data=json.dumps({"Email": "o@example.com"}).encode())
    with urllib.request.urlopen(req) as r:
        acct = json.loads(r.read())
    other = client(nimbus, "s3", access_key=acct["AccessKeyId"],
                   secret_key=acct["SecretAccessKey"])
    s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::%s:root" % acct["AccountId"]},
         "Action": "s3:GetObject", "Resource": "arn:aws:s3:::%s/*" % bucket}]}))
    with pytest.raises(ClientError) as e:
        other.get_object(Bucket=bucket, Key="missing-" + uuid.uuid4().hex)
    assert err(e) == (403, "AccessDenied")
