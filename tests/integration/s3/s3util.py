"""S3 test helpers and fixtures (imported by the test modules; a conftest.py here would shadow
the shared tests/integration/conftest.py module): a boto3 S3 client, a fresh bucket, err()."""
import uuid

import pytest


@pytest.fixture
def s3(boto):
    return boto("s3")


@pytest.fixture
def bucket(s3):
    name = "b-" + uuid.uuid4().hex[:12]
    s3.create_bucket(Bucket=name)
    return name


def err(exc):
    """(HTTP status, error code) of a botocore ClientError."""
    r = exc.value.response
    return r["ResponseMetadata"]["HTTPStatusCode"], r["Error"]["Code"]


def signed_raw(server, method, path, headers=None, body=b""):
    """A SigV4-signed request sent exactly as given (the path as written, escapes and all, in
    upper-case hex where the server re-encodes it): (status, lower-cased headers, body)."""
    import hashlib
    import http.client

    from botocore.auth import S3SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    h = dict(headers or {})
    h["x-amz-content-sha256"] = hashlib.sha256(body).hexdigest()
    if method in ("PUT", "POST"):
        h["Content-Length"] = str(len(body))
    r = AWSRequest(method=method, url=server.endpoint + path, data=body, headers=h)
    S3SigV4Auth(Credentials("test", "test"), "s3", "us-east-1").add_auth(r)
    conn = http.client.HTTPConnection(server.host, server.port, timeout=30)
    conn.putrequest(method, path, skip_host=False, skip_accept_encoding=True)
    for k, v in r.headers.items():
        conn.putheader(k, v)
    conn.endheaders(body or None)
    resp = conn.getresponse()
    data = resp.read()
    conn.close()
    return resp.status, {k.lower(): v for k, v in resp.getheaders()}, data
