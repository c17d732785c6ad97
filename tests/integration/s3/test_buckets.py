"""Buckets: create (name rules, location constraints, ownership), head, list, delete, location."""
import pytest
from botocore.exceptions import ClientError

from conftest import client
from s3util import bucket, err, s3  # noqa: F401 (fixtures)


def test_create_list_head_delete(s3):
    s3.create_bucket(Bucket="alpha-bucket")
    s3.create_bucket(Bucket="beta.bucket")
    r = s3.list_buckets()
    names = [b["Name"] for b in r["Buckets"]]
    assert names == ["alpha-bucket", "beta.bucket"]
    assert len(r["Owner"]["ID"]) == 64
    assert r["Buckets"][0]["CreationDate"].year >= 2024
    s3.head_bucket(Bucket="alpha-bucket")
    s3.delete_bucket(Bucket="alpha-bucket")
    with pytest.raises(ClientError) as e:
        s3.head_bucket(Bucket="alpha-bucket")
    assert err(e)[0] == 404
    assert [b["Name"] for b in s3.list_buckets()["Buckets"]] == ["beta.bucket"]


@pytest.mark.parametrize("name", ["ab", "a" * 64, "Upper", "under_score", "-start", "end-",
                                  "two..dots", "192.168.1.1", "xn--punycode", "x-s3alias"])
def test_invalid_names(s3, name):
    with pytest.raises(ClientError) as e:
        s3.create_bucket(Bucket=name)
    assert err(e) == (400, "InvalidBucketName")
    assert e.value.response["Error"]["BucketName"] == name


def test_location_constraints(s3):
    with pytest.raises(ClientError) as e:
        s3.create_bucket(Bucket="loc-one", CreateBucketConfiguration={"LocationConstraint": "us-east-1"})
    assert err(e) == (400, "InvalidLocationConstraint")
    with pytest.raises(ClientError) as e:
        s3.create_bucket(Bucket="loc-two", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    assert err(e) == (400, "IllegalLocationConstraintException")
    s3.create_bucket(Bucket="loc-three")
    assert s3.get_bucket_location(Bucket="loc-three").get("LocationConstraint") is None


def test_region_server_requires_constraint(nimbus_factory):
    srv = nimbus_factory(args=["--region", "eu-west-1"])
    s3 = client(srv, "s3", region="eu-west-1")
    with pytest.raises(ClientError) as e:
        s3.create_bucket(Bucket="nocons")
    assert err(e) == (400, "IllegalLocationConstraintException")
    s3.create_bucket(Bucket="withcons", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    assert s3.get_bucket_location(Bucket="withcons")["LocationConstraint"] == "eu-west-1"
    with pytest.raises(ClientError) as e:
        s3.create_bucket(Bucket="withcons", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    assert err(e) == (409, "BucketAlreadyOwnedByYou")


def test_already_exists_other_account(nimbus, s3):
    s3.create_bucket(Bucket="shared-name")
    # us-east-1 legacy behaviour: re-creating your own bucket succeeds
    s3.create_bucket(Bucket="shared-name")
    other = _other_account_client(nimbus)
    if other is None:
        pytest.skip("no second account available on this server yet")
    with pytest.raises(ClientError) as e:
        other.create_bucket(Bucket="shared-name")
    assert err(e) == (409, "BucketAlreadyExists")


def _other_account_client(nimbus):
    """A client of a second account, if the server offers one (admin API); else None."""
    import json
    import urllib.request
    try:
        req = urllib.request.Request(nimbus.endpoint + "/_nimbus/accounts", method="POST",
                                     data=b"{}", headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=5) as r:
            d = json.loads(r.read())
        return client(nimbus, "s3", access_key=d["AccessKeyId"], secret_key=d["SecretAccessKey"])
    except Exception:
        return None


def test_delete_not_empty_and_missing(s3, bucket):
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    with pytest.raises(ClientError) as e:
        s3.delete_bucket(Bucket=bucket)
    assert err(e) == (409, "BucketNotEmpty")
    assert e.value.response["Error"]["BucketName"] == bucket
    s3.delete_object(Bucket=bucket, Key="k")
    s3.delete_bucket(Bucket=bucket)
    with pytest.raises(ClientError) as e:
        s3.delete_bucket(Bucket=bucket)
    assert err(e) == (404, "NoSuchBucket")


def test_no_such_bucket_error_document(s3):
    with pytest.raises(ClientError) as e:
        s3.list_objects_v2(Bucket="does-not-exist")
    r = e.value.response
    assert err(e) == (404, "NoSuchBucket")
    assert r["Error"]["Message"] == "The specified bucket does not exist"
    assert r["Error"]["BucketName"] == "does-not-exist"
    assert r["ResponseMetadata"]["RequestId"]


def test_bucket_tagging(s3, bucket):
    with pytest.raises(ClientError) as e:
        s3.get_bucket_tagging(Bucket=bucket)
    assert err(e) == (404, "NoSuchTagSet")
    s3.put_bucket_tagging(Bucket=bucket, Tagging={"TagSet": [{"Key": "team", "Value": "storage"}]})
    assert s3.get_bucket_tagging(Bucket=bucket)["TagSet"] == [{"Key": "team", "Value": "storage"}]
    s3.delete_bucket_tagging(Bucket=bucket)
    with pytest.raises(ClientError) as e:
        s3.get_bucket_tagging(Bucket=bucket)
    assert err(e) == (404, "NoSuchTagSet")


def test_virtual_hosted_style(nimbus, s3):
    s3.create_bucket(Bucket="vhost-bucket")
    s3.put_object(Bucket="vhost-bucket", Key="a/b.txt", Body=b"hello")
    # <bucket>.localhost resolves to loopback through the endpoint; address it by Host header
    import urllib.request
    from botocore.auth import S3SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials
    url = "http://vhost-bucket.localhost:%d/a/b.txt" % nimbus.port
    req = AWSRequest(method="GET", url=url)
    S3SigV4Auth(Credentials("test", "test"), "s3", "us-east-1").add_auth(req)
    import http.client
    conn = http.client.HTTPConnection("127.0.0.1", nimbus.port, timeout=5)
    headers = dict(req.headers)
    headers["Host"] = "vhost-bucket.localhost:%d" % nimbus.port  # what the signature covered
    conn.request("GET", "/a/b.txt", headers=headers)
    resp = conn.getresponse()
    body = resp.read()
    assert resp.status == 200, body
    assert body == b"hello"
