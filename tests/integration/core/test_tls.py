"""The optional TLS listener: the same API over HTTPS with a certificate given on the
command line."""
import subprocess

import boto3
import pytest
from botocore.config import Config

from conftest import free_port


@pytest.fixture
def tls_server(nimbus_factory, tmp_path):
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key),
                    "-out", str(cert), "-days", "1", "-subj", "/CN=localhost"],
                   check=True, capture_output=True)
    port = free_port()
    s = nimbus_factory(args=["--tls-port", str(port), "--tls-cert", str(cert), "--tls-key", str(key)])
    return s, port


def test_sts_over_tls(tls_server):
    s, port = tls_server
    sts = boto3.client("sts", endpoint_url="https://127.0.0.1:%d" % port, region_name="us-east-1",
                       aws_access_key_id="test", aws_secret_access_key="test", verify=False,
                       config=Config(retries={"max_attempts": 1}))
    assert sts.get_caller_identity()["Account"] == "000000000000"
    # and plain HTTP still works next to it
    sts2 = boto3.client("sts", endpoint_url=s.endpoint, region_name="us-east-1",
                        aws_access_key_id="test", aws_secret_access_key="test")
    assert sts2.get_caller_identity()["Account"] == "000000000000"


def test_tls_port_needs_cert(nimbus_factory):
    s = nimbus_factory(start=False)
    s.args += ["--tls-port", str(free_port())]
    with pytest.raises(RuntimeError):
        s.start(timeout=5)


def test_large_object_over_tls_is_checked(tls_server):
    """Large bodies go out over TLS through the file-staging path, which checks each block
    just before it reads it, as the sendfile path does: the object comes back whole, and a
    flipped byte on disk cuts the body short instead of sending wrong bytes."""
    import os
    s, port = tls_server
    s3 = boto3.client("s3", endpoint_url="https://127.0.0.1:%d" % port, region_name="us-east-1",
                      aws_access_key_id="test", aws_secret_access_key="test", verify=False,
                      config=Config(retries={"max_attempts": 1}))
    s3.create_bucket(Bucket="tls-big")
    body = os.urandom(9 * 1024 * 1024 + 11)
    s3.put_object(Bucket="tls-big", Key="big", Body=body)
    assert s3.get_object(Bucket="tls-big", Key="big")["Body"].read() == body
    r = s3.get_object(Bucket="tls-big", Key="big", Range="bytes=1048575-7340032")
    assert r["Body"].read() == body[1048575:7340033]
    (path,) = [os.path.join(d, f) for d, _, fs in os.walk(os.path.join(s.data_dir, "s3", "blobs"))
               for f in fs]
    with open(path, "r+b") as f:
        f.seek(8 * 1024 * 1024 + 3)
        c = f.read(1)
        f.seek(8 * 1024 * 1024 + 3)
        f.write(bytes([c[0] ^ 1]))
    got = None
    try:
        got = s3.get_object(Bucket="tls-big", Key="big")["Body"].read()
    except Exception:
        pass  # a connection cut short refuses the data
    assert got is None or len(got) < len(body)
    assert "checksum mismatch" in s.read_log()
