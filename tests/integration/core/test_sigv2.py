"""S3's legacy signature version 2: Debian's boto3 makes SigV2 presigned URLs by default, and
older tools sign headers with "AWS AKID:signature"."""
import http.client
import re
import time
import urllib.error
import urllib.parse
import urllib.request

import pytest
from botocore.config import Config

from conftest import client


def raw(url, method="GET", body=None):
    p = urllib.parse.urlsplit(url)
    c = http.client.HTTPConnection(p.hostname, p.port, timeout=30)
    c.request(method, p.path + "?" + p.query, body=body)
    r = c.getresponse()
    return r.status, r.read()


@pytest.fixture
def s3v2(nimbus):
    s3 = client(nimbus, "s3", config_kw={"signature_version": "s3"})
    s3.create_bucket(Bucket="sigv2-bucket")
    return s3


def test_header_signed_v2_round_trip(s3v2):
    s3v2.put_object(Bucket="sigv2-bucket", Key="a b/ü.txt", Body=b"legacy", Metadata={"k": "v"})
    got = s3v2.get_object(Bucket="sigv2-bucket", Key="a b/ü.txt")
    assert got["Body"].read() == b"legacy" and got["Metadata"] == {"k": "v"}
    keys = [o["Key"] for o in s3v2.list_objects_v2(Bucket="sigv2-bucket")["Contents"]]
    assert keys == ["a b/ü.txt"]


def test_presigned_v2_get_put_and_expiry(nimbus, s3v2):
    s3 = client(nimbus, "s3")  # Debian's boto3 presigns with SigV2 by default
    put = s3.generate_presigned_url("put_object", Params={"Bucket": "sigv2-bucket", "Key": "p"}, ExpiresIn=60)
    assert raw(put, "PUT", b"via presigned put")[0] == 200
    get = s3.generate_presigned_url("get_object", Params={"Bucket": "sigv2-bucket", "Key": "p"}, ExpiresIn=60)
    assert urllib.request.urlopen(get).read() == b"via presigned put"
    old = s3.generate_presigned_url("get_object", Params={"Bucket": "sigv2-bucket", "Key": "p"}, ExpiresIn=-5)
    with pytest.raises(urllib.error.HTTPError) as e:
        urllib.request.urlopen(old)
    body = e.value.read().decode()
    assert e.value.code == 403 and "<Code>AccessDenied</Code>" in body
    assert "<Message>Request has expired</Message>" in body
    # when it expired and the server's time, as S3 says them (ISO 8601, UTC)
    expires = re.search(r"<Expires>([^<]*)</Expires>", body).group(1)
    server = re.search(r"<ServerTime>([^<]*)</ServerTime>", body).group(1)
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", expires)
    assert expires < server
    q = urllib.parse.parse_qs(urllib.parse.urlsplit(old).query)
    assert expires == time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(int(q["Expires"][0])))
    bad = get.replace("Signature=", "Signature=x")
    st, body = raw(bad)
    assert st == 403 and b"SignatureDoesNotMatch" in body


def test_presigned_v4(nimbus, s3v2):
    s3 = client(nimbus, "s3", config_kw={"signature_version": "s3v4"})
    s3.put_object(Bucket="sigv2-bucket", Key="v4", Body=b"four")
    url = s3.generate_presigned_url("get_object", Params={"Bucket": "sigv2-bucket", "Key": "v4"}, ExpiresIn=60)
    assert "X-Amz-Signature" in url
    assert urllib.request.urlopen(url).read() == b"four"


def test_wrong_secret_v2(nimbus, s3v2):
    bad = client(nimbus, "s3", secret_key="nope", config_kw={"signature_version": "s3"})
    import botocore.exceptions
    with pytest.raises(botocore.exceptions.ClientError) as e:
        bad.list_objects_v2(Bucket="sigv2-bucket")
    assert e.value.response["Error"]["Code"] == "SignatureDoesNotMatch"
