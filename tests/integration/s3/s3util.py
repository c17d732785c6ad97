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
