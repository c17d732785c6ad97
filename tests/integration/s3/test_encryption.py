"""Encryption at rest: SSE-S3 really encrypts the stored bytes (inline and file-backed, single
and multipart), SSE-C needs the right key on every read, default bucket encryption, aws:kms
refused clearly; DeleteObjects' Content-MD5 / checksum requirement."""
import base64
import hashlib
import os
import stat

import pytest
from botocore.exceptions import ClientError

from conftest import client, run_aws
from s3util import bucket, err, s3  # noqa: F401 (fixtures)

MiB = 1024 * 1024


def stored_bytes(data_dir):
    """Every byte Nimbus keeps for S3: content files and the metadata database with its WAL."""
    out = b""
    for root, _, files in os.walk(os.path.join(data_dir, "s3")):
        for f in files:
            with open(os.path.join(root, f), "rb") as fh:
                out += fh.read()
    return out


def marker_body(n):
    m = b"PLAINTEXT-MARKER-" + os.urandom(6).hex().encode() + b"|"
    return (m * (n // len(m) + 1))[:n], m


def test_sse_s3_bytes_on_disk_are_not_plaintext(nimbus_factory):
    srv = nimbus_factory()
    s3 = client(srv, "s3")
    s3.create_bucket(Bucket="enc")
    small, m1 = marker_body(3000)           # inline in SQLite
    big, m2 = marker_body(3 * MiB + 17)     # a content file
    r = s3.put_object(Bucket="enc", Key="small", Body=small, ServerSideEncryption="AES256")
    assert r["ServerSideEncryption"] == "AES256"
    s3.put_object(Bucket="enc", Key="big", Body=big, ServerSideEncryption="AES256")
    plain, m3 = marker_body(2000)
    s3.put_object(Bucket="enc", Key="plain", Body=plain)  # no explicit encryption: a control
    disk = stored_bytes(srv.data_dir)
    assert m1 not in disk and m2 not in disk
    assert m3 in disk  # the search would find plaintext if it were there
    g = s3.get_object(Bucket="enc", Key="small")
    assert g["Body"].read() == small and g["ServerSideEncryption"] == "AES256"
    assert s3.get_object(Bucket="enc", Key="big")["Body"].read() == big
    rng = s3.get_object(Bucket="enc", Key="big", Range="bytes=1048570-2097200")["Body"].read()
    assert rng == big[1048570:2097201]
    assert s3.get_object(Bucket="enc", Key="small", Range="bytes=5-20")["Body"].read() == small[5:21]
    key = os.path.join(srv.data_dir, "s3", "master.key")
    assert stat.S_IMODE(os.stat(key).st_mode) == 0o600
    # a copy of an encrypted object decrypts and re-encrypts
    s3.copy_object(Bucket="enc", Key="copy", CopySource="enc/big", ServerSideEncryption="AES256")
    assert s3.get_object(Bucket="enc", Key="copy")["Body"].read() == big
    # survives a restart (the master key is read back)
    srv.stop()
    srv2 = nimbus_factory(data_dir=srv.data_dir)
    s3 = client(srv2, "s3")
    assert s3.get_object(Bucket="enc", Key="small")["Body"].read() == small
    assert s3.get_object(Bucket="enc", Key="big")["Body"].read() == big


def test_default_bucket_encryption(nimbus_factory):
    srv = nimbus_factory()
    s3 = client(srv, "s3")
    s3.create_bucket(Bucket="dflt")
    rules = s3.get_bucket_encryption(Bucket="dflt")["ServerSideEncryptionConfiguration"]["Rules"]
    assert rules[0]["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
    s3.put_bucket_encryption(
        Bucket="dflt",
        ServerSideEncryptionConfiguration={
            "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"},
                       "BucketKeyEnabled": True}]})
    got = s3.get_bucket_encryption(Bucket="dflt")["ServerSideEncryptionConfiguration"]["Rules"][0]
    assert got["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
    assert got["BucketKeyEnabled"] is True
    body, m = marker_body(5000)
    assert s3.put_object(Bucket="dflt", Key="k", Body=body)["ServerSideEncryption"] == "AES256"
    assert m not in stored_bytes(srv.data_dir)
    assert s3.get_object(Bucket="dflt", Key="k")["Body"].read() == body
    # aws:kms needs a key service
    with pytest.raises(ClientError) as e:
        s3.put_bucket_encryption(
            Bucket="dflt",
            ServerSideEncryptionConfiguration={
                "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms"}}]})
    assert err(e) == (501, "NotImplemented")
    with pytest.raises(ClientError) as e:
        s3.put_object(Bucket="dflt", Key="kms", Body=b"x", ServerSideEncryption="aws:kms")
    assert err(e) == (501, "NotImplemented")
    s3.delete_bucket_encryption(Bucket="dflt")
    rules = s3.get_bucket_encryption(Bucket="dflt")["ServerSideEncryptionConfiguration"]["Rules"]
    assert rules[0]["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
    # the object written under the configuration stays readable
    assert s3.get_object(Bucket="dflt", Key="k")["Body"].read() == body


def sse_c(key):
    return {"SSECustomerAlgorithm": "AES256", "SSECustomerKey": key}


def test_sse_c_needs_the_right_key(s3, bucket):
    k1, k2 = os.urandom(32), os.urandom(32)
    body = os.urandom(5000)
    r = s3.put_object(Bucket=bucket, Key="c", Body=body, **sse_c(k1))
    md5 = base64.b64encode(hashlib.md5(k1).digest()).decode()
    assert r["SSECustomerAlgorithm"] == "AES256" and r["SSECustomerKeyMD5"] == md5
    assert "ServerSideEncryption" not in r
    g = s3.get_object(Bucket=bucket, Key="c", **sse_c(k1))
    assert g["Body"].read() == body and g["SSECustomerKeyMD5"] == md5
    h = s3.head_object(Bucket=bucket, Key="c", **sse_c(k1))
    assert h["ContentLength"] == 5000 and h["SSECustomerAlgorithm"] == "AES256"
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket=bucket, Key="c", **sse_c(k2))
    assert err(e) == (403, "AccessDenied")
    with pytest.raises(ClientError) as e:
        s3.head_object(Bucket=bucket, Key="c", **sse_c(k2))
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket=bucket, Key="c")
    assert err(e) == (400, "InvalidRequest")
    # a key on an object that is not SSE-C
    s3.put_object(Bucket=bucket, Key="plain", Body=b"p")
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket=bucket, Key="plain", **sse_c(k1))
    assert err(e) == (400, "InvalidRequest")
    # copy: the source key is needed; the copy is under the new key
    with pytest.raises(ClientError) as e:
        s3.copy_object(Bucket=bucket, Key="c2", CopySource={"Bucket": bucket, "Key": "c"})
    assert err(e)[0] == 400
    s3.copy_object(Bucket=bucket, Key="c2", CopySource={"Bucket": bucket, "Key": "c"},
                   CopySourceSSECustomerAlgorithm="AES256", CopySourceSSECustomerKey=k1,
                   **sse_c(k2))
    assert s3.get_object(Bucket=bucket, Key="c2", **sse_c(k2))["Body"].read() == body
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket=bucket, Key="c2", **sse_c(k1))
    assert err(e) == (403, "AccessDenied")


def test_sse_c_bad_key_headers_refused(s3, bucket):
    with pytest.raises(ClientError) as e:
        s3.put_object(Bucket=bucket, Key="x", Body=b"x", SSECustomerAlgorithm="AES256",
                      SSECustomerKey=b"short")
    assert err(e) == (400, "InvalidArgument")
    with pytest.raises(ClientError) as e:
        s3.put_object(Bucket=bucket, Key="x", Body=b"x", SSECustomerAlgorithm="AES256",
                      SSECustomerKey=base64.b64encode(os.urandom(32)).decode(),
                      SSECustomerKeyMD5=base64.b64encode(b"0" * 16).decode())
    assert err(e) == (400, "InvalidArgument")


def test_sse_c_multipart(s3, bucket):
    k = os.urandom(32)
    parts = [os.urandom(5 * MiB), os.urandom(123457)]
    up = s3.create_multipart_upload(Bucket=bucket, Key="mp", **sse_c(k))
    assert up["SSECustomerAlgorithm"] == "AES256"
    uid = up["UploadId"]
    with pytest.raises(ClientError) as e:
        s3.upload_part(Bucket=bucket, Key="mp", UploadId=uid, PartNumber=1, Body=parts[0])
    assert err(e) == (400, "InvalidRequest")
    with pytest.raises(ClientError) as e:
        s3.upload_part(Bucket=bucket, Key="mp", UploadId=uid, PartNumber=1, Body=parts[0],
                       **sse_c(os.urandom(32)))
    assert err(e) == (400, "InvalidRequest")
    etags = [s3.upload_part(Bucket=bucket, Key="mp", UploadId=uid, PartNumber=i + 1, Body=p,
                            **sse_c(k))["ETag"] for i, p in enumerate(parts)]
    s3.complete_multipart_upload(
        Bucket=bucket, Key="mp", UploadId=uid,
        MultipartUpload={"Parts": [{"PartNumber": i + 1, "ETag": t} for i, t in enumerate(etags)]})
    whole = b"".join(parts)
    assert s3.get_object(Bucket=bucket, Key="mp", **sse_c(k))["Body"].read() == whole
    r = s3.get_object(Bucket=bucket, Key="mp", Range="bytes=5242000-5243000", **sse_c(k))
    assert r["Body"].read() == whole[5242000:5243001]
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket=bucket, Key="mp", **sse_c(os.urandom(32)))
    assert err(e) == (403, "AccessDenied")


def test_sse_s3_multipart_on_disk(nimbus_factory):
    srv = nimbus_factory()
    s3 = client(srv, "s3")
    s3.create_bucket(Bucket="mpenc")
    p1, m1 = marker_body(5 * MiB)
    p2, m2 = marker_body(1000)
    up = s3.create_multipart_upload(Bucket="mpenc", Key="k", ServerSideEncryption="AES256")
    assert up["ServerSideEncryption"] == "AES256"
    uid = up["UploadId"]
    e1 = s3.upload_part(Bucket="mpenc", Key="k", UploadId=uid, PartNumber=1, Body=p1)["ETag"]
    e2 = s3.upload_part(Bucket="mpenc", Key="k", UploadId=uid, PartNumber=2, Body=p2)["ETag"]
    s3.complete_multipart_upload(Bucket="mpenc", Key="k", UploadId=uid, MultipartUpload={
        "Parts": [{"PartNumber": 1, "ETag": e1}, {"PartNumber": 2, "ETag": e2}]})
    disk = stored_bytes(srv.data_dir)
    assert m1 not in disk and m2 not in disk
    assert s3.get_object(Bucket="mpenc", Key="k")["Body"].read() == p1 + p2


def test_cli_sse_c_round_trip(nimbus, tmp_path):
    s3 = client(nimbus, "s3")
    s3.create_bucket(Bucket="clienc")
    src = tmp_path / "f"
    body = os.urandom(20000)
    src.write_bytes(body)
    key = "0123456789abcdef0123456789abcdef"
    run_aws(nimbus, "s3", "cp", str(src), "s3://clienc/f", "--sse-c", "AES256", "--sse-c-key", key,
            parse=False)
    out = tmp_path / "g"
    run_aws(nimbus, "s3", "cp", "s3://clienc/f", str(out), "--sse-c", "AES256", "--sse-c-key", key,
            parse=False)
    assert out.read_bytes() == body
    r = run_aws(nimbus, "s3", "cp", "s3://clienc/f", str(tmp_path / "h"), check=False, parse=False)
    assert r.returncode != 0 and not (tmp_path / "h").exists()


def test_delete_objects_digest(s3, bucket):
    s3.put_object(Bucket=bucket, Key="a", Body=b"1")
    # botocore adds Content-MD5 itself: the normal path works
    r = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": "a"}]})
    assert r["Deleted"][0]["Key"] == "a"
    import urllib.request
    from botocore.auth import S3SigV4Auth
    from botocore.awsrequest import AWSRequest

    def send(body, headers):
        url = s3.meta.endpoint_url + "/" + bucket + "?delete"
        req = AWSRequest(method="POST", url=url, data=body, headers=headers)
        S3SigV4Auth(s3._request_signer._credentials, "s3", "us-east-1").add_auth(req)
        p = req.prepare()
        try:
            with urllib.request.urlopen(urllib.request.Request(
                    p.url, data=body, headers=dict(p.headers), method="POST")) as resp:
                return resp.status, resp.read()
        except urllib.error.HTTPError as he:
            return he.code, he.read()

    body = b"<Delete><Object><Key>a</Key></Object></Delete>"
    st, out = send(body, {})
    assert st == 400 and b"<Code>InvalidRequest</Code>" in out and b"Content-Md5" in out
    bad = base64.b64encode(hashlib.md5(b"other").digest()).decode()
    st, out = send(body, {"Content-MD5": bad})
    assert st == 400 and b"<Code>BadDigest</Code>" in out
    good = base64.b64encode(hashlib.md5(body).digest()).decode()
    st, out = send(body, {"Content-MD5": good})
    assert st == 200
    sha = base64.b64encode(hashlib.sha256(body).digest()).decode()
    st, out = send(body, {"x-amz-checksum-sha256": sha})
    assert st == 200
    st, out = send(body, {"x-amz-checksum-sha256": base64.b64encode(b"0" * 32).decode()})
    assert st == 400 and b"<Code>BadDigest</Code>" in out
