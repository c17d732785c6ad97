"""Encryption requests as Ceph's s3-tests make them (headers added in before-call hooks, the
SSE-C key of its suite): GET / HEAD / UploadPart refuse x-amz-server-side-encryption (AWS:
400 whatever the object's encryption), an SSE-C multipart completion does not claim SSE-S3,
and SSE-C / SSE-S3 / browser-POST round trips with ranges across part boundaries."""
import base64
import datetime
import hashlib
import hmac
import json
import os
from collections import OrderedDict

import pytest
import requests

from conftest import call_error, client
from s3util import bucket, s3  # noqa: F401 (fixtures)

MiB = 1024 * 1024
# s3-tests' SSE-C keys
KEY = {"x-amz-server-side-encryption-customer-algorithm": "AES256",
       "x-amz-server-side-encryption-customer-key":
           "pO3upElrwuEXSoFwCfnZPdSsmt/xWeFa0N9KgDijwVs=",
       "x-amz-server-side-encryption-customer-key-md5": "DWygnHRtgiJ77HCm+1rvHw=="}
KEY2 = {"x-amz-server-side-encryption-customer-algorithm": "AES256",
        "x-amz-server-side-encryption-customer-key":
            "6b+WOZ1T3cqZMxgThRcXAQBrS5mXKdDUphvpxptl9/4=",
        "x-amz-server-side-encryption-customer-key-md5": "arxBvwY2V4SiOne6yppVPQ=="}


def hooked(nimbus, headers, *ops):
    """A client that adds headers to the given operations, as s3-tests does."""
    c = client(nimbus, "s3")
    for op in ops:
        c.meta.events.register("before-call.s3.%s" % op,
                               lambda params, **kw: params["headers"].update(headers))
    return c


def sse_headers(resp):
    return {k: v for k, v in resp["ResponseMetadata"]["HTTPHeaders"].items()
            if k.startswith("x-amz-server-side-encryption")}


def test_read_refuses_sse_header(nimbus, s3, bucket):
    # s3-tests' test_sse_s3_default_method_head: HEAD with x-amz-server-side-encryption is a
    # 400 even on an SSE-S3 object (AWS: only SSE-C's headers belong on a read)
    s3.put_bucket_encryption(Bucket=bucket, ServerSideEncryptionConfiguration={"Rules": [
        {"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]})
    s3.put_object(Bucket=bucket, Key="k", Body=b"data")
    assert s3.head_object(Bucket=bucket, Key="k")["ServerSideEncryption"] == "AES256"
    c = hooked(nimbus, {"x-amz-server-side-encryption": "AES256"}, "HeadObject", "GetObject")
    st, code, _ = call_error(c.head_object, Bucket=bucket, Key="k")
    assert st == 400
    st, code, msg = call_error(c.get_object, Bucket=bucket, Key="k")
    assert (st, code) == (400, "InvalidArgument")
    assert msg == "x-amz-server-side-encryption header is not supported for this operation."
    # a copy still reads its source with the header meaning the destination's encryption
    r = c.copy_object(Bucket=bucket, Key="k2", CopySource={"Bucket": bucket, "Key": "k"},
                      ServerSideEncryption="AES256")
    assert r["ServerSideEncryption"] == "AES256"


def test_upload_part_refuses_sse_header(nimbus, s3, bucket):
    uid = s3.create_multipart_upload(Bucket=bucket, Key="m", ServerSideEncryption="AES256")[
        "UploadId"]
    c = hooked(nimbus, {"x-amz-server-side-encryption": "AES256"}, "UploadPart")
    st, code, _ = call_error(c.upload_part, Bucket=bucket, Key="m", UploadId=uid, PartNumber=1,
                             Body=b"x")
    assert (st, code) == (400, "InvalidArgument")
    r = s3.upload_part(Bucket=bucket, Key="m", UploadId=uid, PartNumber=1, Body=b"x")
    assert r["ServerSideEncryption"] == "AES256"


def test_sse_c_multipart_as_s3_tests(nimbus, s3, bucket):
    # s3-tests' test_encryption_sse_c_multipart_upload: metadata and content type from the
    # initiation, ranges around the part size, the wrong key refused on download
    init = hooked(nimbus, KEY, "CreateMultipartUpload")
    parts_c = hooked(nimbus, KEY, "UploadPart")
    uid = init.create_multipart_upload(Bucket=bucket, Key="mp", Metadata={"foo": "bar"},
                                       ContentType="text/plain")["UploadId"]
    part = 5 * MiB
    data = os.urandom(part * 2 + 1000)
    parts = []
    for i in range(3):
        body = data[i * part:(i + 1) * part]
        r = parts_c.upload_part(Bucket=bucket, Key="mp", UploadId=uid, PartNumber=i + 1, Body=body)
        assert r["SSECustomerKeyMD5"] == KEY["x-amz-server-side-encryption-customer-key-md5"]
        parts.append({"PartNumber": i + 1, "ETag": r["ETag"]})
    # a part under another key, or with a key MD5 that is not its key's
    st, code, _ = call_error(hooked(nimbus, KEY2, "UploadPart").upload_part, Bucket=bucket,
                             Key="mp", UploadId=uid, PartNumber=4, Body=b"x")
    assert st == 400
    bad_md5 = dict(KEY, **{"x-amz-server-side-encryption-customer-key-md5":
                           KEY2["x-amz-server-side-encryption-customer-key-md5"]})
    st, code, _ = call_error(hooked(nimbus, bad_md5, "UploadPart").upload_part, Bucket=bucket,
                             Key="mp", UploadId=uid, PartNumber=4, Body=b"x")
    assert st == 400
    r = s3.complete_multipart_upload(Bucket=bucket, Key="mp", UploadId=uid,
                                     MultipartUpload={"Parts": parts})
    # an SSE-C object is not SSE-S3: the completion names no AES256 server-side encryption
    assert "ServerSideEncryption" not in r
    assert s3.list_objects_v2(Bucket=bucket, Prefix="mp")["Contents"][0]["Size"] == len(data)
    get = hooked(nimbus, KEY, "GetObject", "HeadObject")
    h = get.head_object(Bucket=bucket, Key="mp")
    assert h["Metadata"] == {"foo": "bar"} and h["ContentType"] == "text/plain"
    assert "ServerSideEncryption" not in h
    assert sse_headers(h)["x-amz-server-side-encryption-customer-algorithm"] == "AES256"
    assert get.get_object(Bucket=bucket, Key="mp")["Body"].read() == data
    for start in (part - 1, part, part + 1, 2 * part - 7):
        r = get.get_object(Bucket=bucket, Key="mp", Range="bytes=%d-%d" % (start, start + 99))
        assert r["Body"].read() == data[start:start + 100]
    st, code, _ = call_error(hooked(nimbus, KEY2, "GetObject").get_object, Bucket=bucket,
                             Key="mp")
    assert (st, code) == (403, "AccessDenied")
    st, code, _ = call_error(s3.get_object, Bucket=bucket, Key="mp")
    assert (st, code) == (400, "InvalidRequest")


@pytest.mark.parametrize("size", [1, 13, 1024, MiB])
def test_sse_c_transfer(nimbus, s3, bucket, size):
    # s3-tests' test_encrypted_transfer_*
    data = os.urandom(size)
    put = hooked(nimbus, KEY, "PutObject")
    r = put.put_object(Bucket=bucket, Key="t", Body=data)
    assert "ServerSideEncryption" not in r
    assert r["SSECustomerAlgorithm"] == "AES256"
    assert hooked(nimbus, KEY, "GetObject").get_object(Bucket=bucket, Key="t")[
        "Body"].read() == data


def test_sse_c_key_errors(nimbus, s3, bucket):
    # s3-tests' test_encryption_sse_c_invalid_md5 / _no_md5 / _no_key / key_no_sse_c and the
    # conflicts with SSE-S3 and SSE-KMS
    def put_status(headers):
        st, code, _ = call_error(hooked(nimbus, headers, "PutObject").put_object, Bucket=bucket,
                                 Key="k", Body=b"x")
        return st, code

    drop = lambda suffix: {k: v for k, v in KEY.items() if not k.endswith(suffix)}  # noqa: E731
    assert put_status(dict(KEY, **{"x-amz-server-side-encryption-customer-key-md5":
                                   "AAAAAAAAAAAAAAAAAAAAAA=="})) == (400, "InvalidArgument")
    assert put_status(drop("-md5")) == (400, "InvalidArgument")
    assert put_status(drop("-key")) == (400, "InvalidArgument")
    assert put_status(drop("-algorithm")) == (400, "InvalidArgument")
    assert put_status(dict(KEY, **{"x-amz-server-side-encryption": "AES256"})) == (
        400, "InvalidArgument")
    assert put_status({"x-amz-server-side-encryption": "aes:kms"}) == (400, "InvalidArgument")
    assert put_status({"x-amz-server-side-encryption": "AES256",
                       "x-amz-server-side-encryption-aws-kms-key-id": "k"}) == (
        400, "InvalidArgument")
    assert "Contents" not in s3.list_objects_v2(Bucket=bucket)


def test_sse_c_browser_post(nimbus, s3, bucket):
    # s3-tests' test_encryption_sse_c_post_object_authenticated_request
    exp = (datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=6000))
    doc = {"expiration": exp.strftime("%Y-%m-%dT%H:%M:%SZ"), "conditions": [
        {"bucket": bucket}, ["starts-with", "$key", "foo"], {"acl": "private"},
        ["starts-with", "$Content-Type", "text/plain"],
        ["starts-with", "$x-amz-server-side-encryption-customer-algorithm", ""],
        ["starts-with", "$x-amz-server-side-encryption-customer-key", ""],
        ["starts-with", "$x-amz-server-side-encryption-customer-key-md5", ""],
        ["content-length-range", 0, 1024]]}
    policy = base64.b64encode(json.dumps(doc).encode())
    sig = base64.b64encode(hmac.new(b"test", policy, hashlib.sha1).digest())
    payload = OrderedDict([("key", "foo.txt"), ("AWSAccessKeyId", "test"), ("acl", "private"),
                           ("signature", sig), ("policy", policy),
                           ("Content-Type", "text/plain")] + list(KEY.items()) +
                          [("file", "bar")])
    r = requests.post("%s/%s" % (nimbus.endpoint, bucket), files=payload)
    assert r.status_code == 204, r.text
    assert r.headers["x-amz-server-side-encryption-customer-algorithm"] == "AES256"
    assert "x-amz-server-side-encryption" not in r.headers
    got = hooked(nimbus, KEY, "GetObject").get_object(Bucket=bucket, Key="foo.txt")
    assert got["Body"].read() == b"bar"
    st, code, _ = call_error(s3.get_object, Bucket=bucket, Key="foo.txt")
    assert (st, code) == (400, "InvalidRequest")
