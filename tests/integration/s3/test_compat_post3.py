"""Browser POST uploads as Ceph's s3-tests send them (requests' files=, every field a part
with a filename, SigV2 policies): the bucket is a field every policy must name, conditions on
the key see ${filename} expanded, x-amz-checksum-* fields are checked against the file."""
import base64
import datetime
import hashlib
import hmac
import json
import uuid
import xml.etree.ElementTree as ET
from collections import OrderedDict

import pytest
import requests

from s3util import bucket, s3  # noqa: F401 (fixtures)


def expiry(seconds=6000):
    t = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=seconds)
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def conditions(bucket, key_prefix="foo", length=(0, 1024), extra=(), with_bucket=True):
    c = [{"bucket": bucket}] if with_bucket else []
    return c + [["starts-with", "$key", key_prefix], {"acl": "private"},
                ["starts-with", "$Content-Type", "text/plain"],
                ["content-length-range", length[0], length[1]]] + list(extra)


def form(policy_doc, key="foo.txt", extra=(), file="bar"):
    """s3-tests' payload: key, AWSAccessKeyId, acl, signature, policy, Content-Type, extra
    fields, then the file."""
    policy = base64.b64encode(json.dumps(policy_doc).encode())
    sig = base64.b64encode(hmac.new(b"test", policy, hashlib.sha1).digest())
    return OrderedDict([("key", key), ("AWSAccessKeyId", "test"), ("acl", "private"),
                        ("signature", sig), ("policy", policy), ("Content-Type", "text/plain")]
                       + list(extra) + [("file", file)])


def url(nimbus, bucket):
    return "%s/%s" % (nimbus.endpoint, bucket)


def error_code(r):
    return ET.fromstring(r.content).find("Code").text, ET.fromstring(r.content).find("Message").text


def test_policy_without_bucket_condition_is_refused(nimbus, s3, bucket):
    # s3-tests' test_post_object_missing_policy_condition: no form field names the bucket,
    # but it is a field of every form all the same
    doc = {"expiration": expiry(),
           "conditions": conditions(bucket, key_prefix="\\$foo", with_bucket=False)}
    r = requests.post(url(nimbus, bucket), files=form(doc, key="\\$foo.txt"))
    assert r.status_code == 403, r.text
    assert error_code(r) == ("AccessDenied", "Invalid according to Policy: Extra input fields: bucket")
    # the same with the bucket named: stored under the escaped key
    doc["conditions"].insert(0, {"bucket": bucket})
    r = requests.post(url(nimbus, bucket), files=form(doc, key="\\$foo.txt"))
    assert r.status_code == 204, r.text
    assert s3.get_object(Bucket=bucket, Key="\\$foo.txt")["Body"].read() == b"bar"


def test_case_of_condition_and_field_names(nimbus, s3, bucket):
    # s3-tests' test_post_object_case_insensitive_condition_fields
    doc = {"expiration": expiry(),
           "conditions": [{"bUcKeT": bucket}, ["StArTs-WiTh", "$KeY", "foo"], {"AcL": "private"},
                          ["StArTs-WiTh", "$CoNtEnT-TyPe", "text/plain"],
                          ["content-length-range", 0, 1024]]}
    f = form(doc)
    payload = OrderedDict([("kEy", f["key"]), ("AWSAccessKeyId", "test"), ("aCl", "private"),
                           ("signature", f["signature"]), ("pOLICy", f["policy"]),
                           ("Content-Type", "text/plain"), ("file", "bar")])
    r = requests.post(url(nimbus, bucket), files=payload)
    assert r.status_code == 204, r.text
    # the policy document's own member names are case-sensitive
    for bad in ({"EXPIRATION": expiry(), "conditions": doc["conditions"]},
                {"expiration": expiry(), "CONDITIONS": doc["conditions"]}):
        r = requests.post(url(nimbus, bucket), files=form(bad))
        assert r.status_code == 400 and error_code(r)[0] == "InvalidPolicyDocument", r.text


def test_key_condition_sees_the_file_name(nimbus, s3, bucket):
    # s3-tests' test_post_object_set_key_from_filename: key "${filename}" under
    # ["starts-with", "$key", "foo"], file foo.txt
    doc = {"expiration": expiry(), "conditions": conditions(bucket)}
    r = requests.post(url(nimbus, bucket), files=form(doc, key="${filename}",
                                                       file=("foo.txt", "bar")))
    assert r.status_code == 204, r.text
    assert s3.get_object(Bucket=bucket, Key="foo.txt")["Body"].read() == b"bar"
    # a policy written for the field as sent holds too
    doc = {"expiration": expiry(),
           "conditions": conditions(bucket, extra=[["eq", "$key", "foo/${filename}"]])}
    r = requests.post(url(nimbus, bucket), files=form(doc, key="foo/${filename}",
                                                       file=("x.txt", "bar")))
    assert r.status_code == 204, r.text
    assert s3.get_object(Bucket=bucket, Key="foo/x.txt")["Body"].read() == b"bar"
    # and a file name the condition does not admit is refused
    r = requests.post(url(nimbus, bucket), files=form(
        {"expiration": expiry(), "conditions": conditions(bucket)}, key="${filename}",
        file=("bar.txt", "bar")))
    assert r.status_code == 403, r.text


def test_checksum_fields(nimbus, s3, bucket):
    # s3-tests' test_post_object_upload_checksum: the checksum field is not in the policy
    data = b"a" * (2 * 1024 * 1024)
    good = base64.b64encode(hashlib.sha256(data).digest()).decode()
    doc = {"expiration": expiry(),
           "conditions": conditions(bucket, key_prefix="foo_cksum_test", length=(0, 5 << 20))}
    r = requests.post(url(nimbus, bucket), files=form(
        doc, key="foo_cksum_test.txt", extra=[("x-amz-checksum-sha256", good)], file=data))
    assert r.status_code == 204, r.text
    assert r.headers["x-amz-checksum-sha256"] == good
    h = s3.head_object(Bucket=bucket, Key="foo_cksum_test.txt", ChecksumMode="ENABLED")
    assert h["ChecksumSHA256"] == good
    r = requests.post(url(nimbus, bucket), files=form(
        doc, key="foo_cksum_test.txt", extra=[("x-amz-checksum-sha256", "sailorjerry")],
        file=data))
    assert r.status_code == 400, r.text
    assert error_code(r) == ("InvalidRequest", "Value for x-amz-checksum-sha256 header is invalid.")
    other = base64.b64encode(hashlib.sha256(b"other").digest()).decode()
    r = requests.post(url(nimbus, bucket), files=form(
        doc, key="foo_cksum_test2.txt", extra=[("x-amz-checksum-sha256", other)], file=data))
    assert r.status_code == 400, r.text
    assert error_code(r)[0] == "BadDigest"
    crc = base64.b64encode(b"\0\0\0\0").decode()
    r = requests.post(url(nimbus, bucket), files=form(
        doc, key="foo_cksum_test3.txt",
        extra=[("x-amz-checksum-sha256", good), ("x-amz-checksum-crc32", crc)], file=data))
    assert r.status_code == 400 and error_code(r)[0] == "InvalidRequest", r.text
    # neither refused upload was stored
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", [])]
    assert keys == ["foo_cksum_test.txt"]
    # the algorithm alone: computed and stored
    r = requests.post(url(nimbus, bucket), files=form(
        doc, key="foo_cksum_test4.txt", extra=[("x-amz-checksum-algorithm", "CRC32")],
        file=b"abc"))
    assert r.status_code == 204, r.text
    h = s3.head_object(Bucket=bucket, Key="foo_cksum_test4.txt", ChecksumMode="ENABLED")
    assert h["ChecksumCRC32"] == "NSRBwg=="


def test_s3_tests_form_cases(nimbus, s3, bucket):
    """The status codes s3-tests expects of a SigV2 form (every field sent as a file part)."""
    u = url(nimbus, bucket)

    def doc(**kw):
        return {"expiration": expiry(), "conditions": conditions(bucket, **kw)}

    cases = []
    f = form(doc()); del f["key"]; cases.append(("no key", f, 400))
    f = form(doc()); del f["signature"]; cases.append(("no signature", f, 400))
    f = form(doc()); f["signature"] = f["signature"][::-1]; cases.append(("bad signature", f, 403))
    f = form(doc()); f["AWSAccessKeyId"] = "tset"; cases.append(("bad key id", f, 403))
    d = doc(); d["expiration"] = str(datetime.datetime.utcnow() + datetime.timedelta(seconds=100))
    cases.append(("expiration format", form(d), 400))
    d = doc(); d["expiration"] = expiry(-6000); cases.append(("expired", form(d), 403))
    d = doc(); del d["expiration"]; cases.append(("no expiration", form(d), 400))
    cases.append(("no conditions", form({"expiration": expiry()}), 400))
    cases.append(("empty condition", form({"expiration": expiry(), "conditions": [{}]}), 400))
    cases.append(("length 0..0", form(doc(length=(0, 0))), 400))
    cases.append(("length below", form(doc(length=(512, 1000))), 400))
    cases.append(("length -1", form(doc(length=(-1, 0))), 400))
    d = doc(); d["conditions"][-1] = ["content-length-range", 0]
    cases.append(("length one argument", form(d), 400))
    cases.append(("meta not in policy", form(doc(), extra=[("x-amz-meta-foo", "barclamp")]), 403))
    cases.append(("meta eq empty", form(doc(extra=[["eq", "$x-amz-meta-foo", ""]]),
                                        extra=[("x-amz-meta-foo", "barclamp")]), 403))
    cases.append(("x-ignore-", form(doc(), extra=[("x-ignore-foo", "bar")]), 204))
    cases.append(("meta starts-with", form(doc(extra=[["starts-with", "$x-amz-meta-foo", "bar"]]),
                                           extra=[("x-amz-meta-foo", "barclamp")]), 204))
    got = []
    for name, payload, _ in cases:
        got.append((name, requests.post(u, files=payload).status_code))
    assert got == [(n, s) for n, _, s in cases]
    assert s3.get_object(Bucket=bucket, Key="foo.txt")["Metadata"] == {"foo": "barclamp"}


def test_wrong_bucket(nimbus, s3, bucket):
    other = "b-" + uuid.uuid4().hex[:12]
    s3.create_bucket(Bucket=other)
    doc = {"expiration": expiry(), "conditions": conditions(bucket)}
    r = requests.post(url(nimbus, other), files=form(doc))
    assert r.status_code == 403, r.text


@pytest.fixture
def public_bucket(s3):
    """A bucket anyone may write to, as s3-tests' public-read-write buckets (ACLs need
    ObjectWriter ownership and no public access block)."""
    name = "b-" + uuid.uuid4().hex[:12]
    s3.create_bucket(Bucket=name, ObjectOwnership="ObjectWriter")
    s3.delete_public_access_block(Bucket=name)
    s3.put_bucket_acl(Bucket=name, ACL="public-read-write")
    return name


def test_anonymous_forms(nimbus, s3, public_bucket):
    u = url(nimbus, public_bucket)
    tagging = ("<Tagging><TagSet><Tag><Key>0</Key><Value>0</Value></Tag>"
               "<Tag><Key>1</Key><Value>1</Value></Tag></TagSet></Tagging>")
    r = requests.post(u, files=OrderedDict([("key", "foo.txt"), ("acl", "public-read"),
                                            ("Content-Type", "text/plain"), ("tagging", tagging),
                                            ("file", "bar")]))
    assert r.status_code == 204, r.text
    assert s3.get_object_tagging(Bucket=public_bucket, Key="foo.txt")["TagSet"] == [
        {"Key": "0", "Value": "0"}, {"Key": "1", "Value": "1"}]
    r = requests.post(u, files=OrderedDict([("key", "foo.txt"), ("acl", "public-read"),
                                            ("success_action_status", "201"), ("file", "bar")]))
    assert r.status_code == 201 and ET.fromstring(r.content).find("Key").text == "foo.txt"
    r = requests.post(u, files=OrderedDict([("key", "foo.txt"), ("acl", "public-read"),
                                            ("success_action_status", "404"), ("file", "bar")]))
    assert r.status_code == 204 and r.content == b""


def test_redirect_followed(nimbus, s3, public_bucket):
    # s3-tests' test_post_object_success_redirect_action: requests follows the 303 to the
    # bucket, and the URL it lands on names bucket, key and the quoted ETag
    u = url(nimbus, public_bucket)
    doc = {"expiration": expiry(),
           "conditions": conditions(public_bucket, extra=[["eq", "$success_action_redirect", u]])}
    r = requests.post(u, files=form(doc, extra=[("success_action_redirect", u)]))
    assert r.status_code == 200, r.text
    etag = s3.get_object(Bucket=public_bucket, Key="foo.txt")["ETag"].strip('"')
    assert r.url == "%s?bucket=%s&key=foo.txt&etag=%%22%s%%22" % (u, public_bucket, etag)


def test_dollar_escape_in_policy_text(nimbus, s3, bucket):
    # AWS's policy documents may write a literal '$' as \$ (not a JSON escape); a JSON
    # "\\$" stays a backslash and a '$' (s3-tests' test_post_object_escaped_field_values)
    text = ('{"expiration": "%s", "conditions": [{"bucket": "%s"}, ["starts-with", "$key", '
            '"\\$foo"], {"acl": "private"}, ["starts-with", "$Content-Type", "text/plain"]]}'
            % (expiry(), bucket))
    policy = base64.b64encode(text.encode())
    sig = base64.b64encode(hmac.new(b"test", policy, hashlib.sha1).digest())
    payload = OrderedDict([("key", "$foo.txt"), ("AWSAccessKeyId", "test"), ("acl", "private"),
                           ("signature", sig), ("policy", policy),
                           ("Content-Type", "text/plain"), ("file", "bar")])
    r = requests.post(url(nimbus, bucket), files=payload)
    assert r.status_code == 204, r.text
    assert s3.get_object(Bucket=bucket, Key="$foo.txt")["Body"].read() == b"bar"
    payload["key"] = "\\$foo.txt"
    r = requests.post(url(nimbus, bucket), files=payload)
    assert r.status_code == 403, r.text
