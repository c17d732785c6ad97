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
