"""S3 Object Lock as AWS documents it (and Ceph's s3-tests test_object_lock_* check it): the
bucket configuration (at creation, or later on a versioned bucket; default retention), the
retention and legal hold of versions (their own calls and the x-amz-object-lock-* headers of
PutObject, CopyObject and multipart uploads, shown by GET/HEAD), what they forbid (deleting
a protected version, shortening a retention; governance bypass under IAM), lifecycle, and
persistence across a restart."""
import datetime
import json
import urllib.request
import uuid

import pytest
from botocore.exceptions import ClientError

from conftest import client
from s3util import err, s3  # noqa: F401 (fixtures)

LOCKED_MSG = "Access Denied because object protected by object lock."


def utc(**delta):
    return (datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(**delta)).replace(
        microsecond=0)


def advance(server, spec):
    req = urllib.request.Request(server.endpoint + "/_nimbus/clock",
                                 data=json.dumps({"advance": spec}).encode(), method="POST")
    with urllib.request.urlopen(req) as r:
        return json.loads(r.read())


def clock_now(server):
    with urllib.request.urlopen(server.endpoint + "/_nimbus/clock") as r:
        epoch = json.loads(r.read())["epoch"]
    return datetime.datetime.fromtimestamp(epoch, datetime.timezone.utc).replace(microsecond=0)


def new_name():
    return "lk-" + uuid.uuid4().hex[:12]


@pytest.fixture
def lbucket(s3):
    name = new_name()
    s3.create_bucket(Bucket=name, ObjectLockEnabledForBucket=True)
    return name


def error(exc):
    e = exc.value.response
    return e["ResponseMetadata"]["HTTPStatusCode"], e["Error"]["Code"], e["Error"].get("Message")


def without_md5(c, op):
    """Make client c send op without Content-MD5 (botocore adds it on its own), nor the CRC32
    botocore >= 1.36 adds when the call asks for no checksum."""
    def note(params, context, **kw):
        context["nb_asked_checksum"] = any(k.startswith("Checksum") for k in params)

    def strip(request, **kw):
        names = ["Content-MD5"]
        if not request.context.get("nb_asked_checksum"):
            names += [h for h in request.headers
                      if h.lower().startswith(("x-amz-checksum-", "x-amz-sdk-checksum"))]
        for name in names:
            if name in request.headers:
                del request.headers[name]
    c.meta.events.register("before-parameter-build.s3.%s" % op, note)
    c.meta.events.register("before-sign.s3.%s" % op, strip)
    return c


# ---------------------------------------------------------------- bucket configuration


def test_create_with_lock_enables_versioning_for_good(s3, lbucket):
    assert s3.get_bucket_versioning(Bucket=lbucket)["Status"] == "Enabled"
    r = s3.get_object_lock_configuration(Bucket=lbucket)["ObjectLockConfiguration"]
    assert r == {"ObjectLockEnabled": "Enabled"}
    with pytest.raises(ClientError) as e:
        s3.put_bucket_versioning(Bucket=lbucket, VersioningConfiguration={"Status": "Suspended"})
    assert err(e) == (409, "InvalidBucketState")
    # re-enabling is harmless
    s3.put_bucket_versioning(Bucket=lbucket, VersioningConfiguration={"Status": "Enabled"})


def test_put_configuration_and_get_it_back(s3, lbucket):
    conf = {"ObjectLockEnabled": "Enabled",
            "Rule": {"DefaultRetention": {"Mode": "GOVERNANCE", "Days": 1}}}
    s3.put_object_lock_configuration(Bucket=lbucket, ObjectLockConfiguration=conf)
    assert s3.get_object_lock_configuration(Bucket=lbucket)["ObjectLockConfiguration"] == conf
    conf = {"ObjectLockEnabled": "Enabled",
            "Rule": {"DefaultRetention": {"Mode": "COMPLIANCE", "Years": 2}}}
    s3.put_object_lock_configuration(Bucket=lbucket, ObjectLockConfiguration=conf)
    assert s3.get_object_lock_configuration(Bucket=lbucket)["ObjectLockConfiguration"] == conf
    # without a rule: the default retention goes, the lock stays
    s3.put_object_lock_configuration(Bucket=lbucket,
                                     ObjectLockConfiguration={"ObjectLockEnabled": "Enabled"})
    assert s3.get_object_lock_configuration(Bucket=lbucket)["ObjectLockConfiguration"] == {
        "ObjectLockEnabled": "Enabled"}


def test_enable_on_existing_bucket_needs_versioning(s3):
    name = new_name()
    s3.create_bucket(Bucket=name)
    conf = {"ObjectLockEnabled": "Enabled",
            "Rule": {"DefaultRetention": {"Mode": "GOVERNANCE", "Days": 1}}}
    with pytest.raises(ClientError) as e:
        s3.put_object_lock_configuration(Bucket=name, ObjectLockConfiguration=conf)
    assert err(e) == (409, "InvalidBucketState")
    with pytest.raises(ClientError) as e:
        s3.get_object_lock_configuration(Bucket=name)
    assert err(e) == (404, "ObjectLockConfigurationNotFoundError")
    s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Suspended"})
    with pytest.raises(ClientError) as e:
        s3.put_object_lock_configuration(Bucket=name, ObjectLockConfiguration=conf)
    assert err(e) == (409, "InvalidBucketState")
    s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
    s3.put_object_lock_configuration(Bucket=name, ObjectLockConfiguration=conf)
    assert s3.get_object_lock_configuration(Bucket=name)["ObjectLockConfiguration"] == conf
    with pytest.raises(ClientError) as e:
        s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Suspended"})
    assert err(e) == (409, "InvalidBucketState")
    # and the default retention now applies to new versions
    s3.put_object(Bucket=name, Key="k", Body=b"x")
    assert s3.head_object(Bucket=name, Key="k")["ObjectLockMode"] == "GOVERNANCE"


@pytest.mark.parametrize("conf,code,status", [
    ({"ObjectLockEnabled": "Enabled",
      "Rule": {"DefaultRetention": {"Mode": "GOVERNANCE", "Days": 1, "Years": 1}}},
     "MalformedXML", 400),
    ({"ObjectLockEnabled": "Enabled",
      "Rule": {"DefaultRetention": {"Mode": "abc", "Days": 1}}}, "MalformedXML", 400),
    ({"ObjectLockEnabled": "Enabled",
      "Rule": {"DefaultRetention": {"Mode": "governance", "Days": 1}}}, "MalformedXML", 400),
    ({"ObjectLockEnabled": "Disabled",
      "Rule": {"DefaultRetention": {"Mode": "GOVERNANCE", "Days": 1}}}, "MalformedXML", 400),
    ({"ObjectLockEnabled": "Enabled", "Rule": {"DefaultRetention": {"Mode": "GOVERNANCE"}}},
     "MalformedXML", 400),
    ({"ObjectLockEnabled": "Enabled",
      "Rule": {"DefaultRetention": {"Mode": "GOVERNANCE", "Days": 0}}},
     "InvalidRetentionPeriod", 400),
    ({"ObjectLockEnabled": "Enabled",
      "Rule": {"DefaultRetention": {"Mode": "COMPLIANCE", "Years": -1}}},
     "InvalidRetentionPeriod", 400),
])
def test_configuration_validation(s3, lbucket, conf, code, status):
    with pytest.raises(ClientError) as e:
        s3.put_object_lock_configuration(Bucket=lbucket, ObjectLockConfiguration=conf)
    assert err(e) == (status, code)


def test_configuration_needs_content_md5(boto, lbucket):
    c = without_md5(boto("s3"), "PutObjectLockConfiguration")
    with pytest.raises(ClientError) as e:
        c.put_object_lock_configuration(Bucket=lbucket, ObjectLockConfiguration={
            "ObjectLockEnabled": "Enabled"})
    assert error(e)[:2] == (400, "InvalidRequest")


# ---------------------------------------------------------------- retention and legal hold


def test_retention_put_get_by_version(s3, lbucket):
    v1 = s3.put_object(Bucket=lbucket, Key="k", Body=b"1")["VersionId"]
    v2 = s3.put_object(Bucket=lbucket, Key="k", Body=b"2")["VersionId"]
    with pytest.raises(ClientError) as e:
        s3.get_object_retention(Bucket=lbucket, Key="k")
    assert err(e) == (404, "NoSuchObjectLockConfiguration")
    until = utc(days=1)
    s3.put_object_retention(Bucket=lbucket, Key="k", VersionId=v1,
                            Retention={"Mode": "GOVERNANCE", "RetainUntilDate": until})
    r = s3.get_object_retention(Bucket=lbucket, Key="k", VersionId=v1)["Retention"]
    assert r == {"Mode": "GOVERNANCE", "RetainUntilDate": until}
    # the latest version has none of it
    with pytest.raises(ClientError) as e:
        s3.get_object_retention(Bucket=lbucket, Key="k")
    assert err(e) == (404, "NoSuchObjectLockConfiguration")
    with pytest.raises(ClientError) as e:
        s3.get_object_retention(Bucket=lbucket, Key="k", VersionId=v2)
    assert err(e) == (404, "NoSuchObjectLockConfiguration")
    h = s3.head_object(Bucket=lbucket, Key="k", VersionId=v1)
    assert h["ObjectLockMode"] == "GOVERNANCE" and h["ObjectLockRetainUntilDate"] == until
    # the header is ISO 8601, as AWS sends it
    raw = h["ResponseMetadata"]["HTTPHeaders"]["x-amz-object-lock-retain-until-date"]
    assert raw.startswith(until.strftime("%Y-%m-%dT%H:%M:%S")) and raw.endswith("Z")


def test_retention_errors(s3, lbucket):
    s3.put_object(Bucket=lbucket, Key="k", Body=b"1")
    for mode in ("governance", "abc"):
        with pytest.raises(ClientError) as e:
            s3.put_object_retention(Bucket=lbucket, Key="k",
                                    Retention={"Mode": mode, "RetainUntilDate": utc(days=1)})
        assert err(e) == (400, "MalformedXML")
    with pytest.raises(ClientError) as e:
        s3.put_object_retention(Bucket=lbucket, Key="k",
                                Retention={"Mode": "GOVERNANCE", "RetainUntilDate": utc(days=-1)})
    assert err(e) == (400, "InvalidArgument")
    with pytest.raises(ClientError) as e:
        s3.put_object_retention(Bucket=lbucket, Key="missing",
                                Retention={"Mode": "GOVERNANCE", "RetainUntilDate": utc(days=1)})
    assert err(e) == (404, "NoSuchKey")
    # a bucket without Object Lock: AWS's exact words
    plain = new_name()
    s3.create_bucket(Bucket=plain)
    s3.put_object(Bucket=plain, Key="k", Body=b"1")
    calls = [
        lambda: s3.put_object_retention(Bucket=plain, Key="k", Retention={
            "Mode": "GOVERNANCE", "RetainUntilDate": utc(days=1)}),
        lambda: s3.get_object_retention(Bucket=plain, Key="k"),
        lambda: s3.put_object_legal_hold(Bucket=plain, Key="k", LegalHold={"Status": "ON"}),
        lambda: s3.get_object_legal_hold(Bucket=plain, Key="k"),
    ]
    for call in calls:
        with pytest.raises(ClientError) as e:
            call()
        assert error(e) == (400, "InvalidRequest", "Bucket is missing Object Lock Configuration")


def test_retention_needs_content_md5(boto, lbucket):
    c = boto("s3")
    c.put_object(Bucket=lbucket, Key="k", Body=b"1")
    without_md5(c, "PutObjectRetention")
    without_md5(c, "PutObjectLegalHold")
    with pytest.raises(ClientError) as e:
        c.put_object_retention(Bucket=lbucket, Key="k",
                               Retention={"Mode": "GOVERNANCE", "RetainUntilDate": utc(days=1)})
    assert error(e)[:2] == (400, "InvalidRequest")
    with pytest.raises(ClientError) as e:
        c.put_object_legal_hold(Bucket=lbucket, Key="k", LegalHold={"Status": "ON"})
    assert error(e)[:2] == (400, "InvalidRequest")


def test_legal_hold_put_get(s3, lbucket):
    v = s3.put_object(Bucket=lbucket, Key="k", Body=b"1")["VersionId"]
    with pytest.raises(ClientError) as e:
        s3.get_object_legal_hold(Bucket=lbucket, Key="k")
    assert err(e) == (404, "NoSuchObjectLockConfiguration")
    s3.put_object_legal_hold(Bucket=lbucket, Key="k", LegalHold={"Status": "ON"})
    assert s3.get_object_legal_hold(Bucket=lbucket, Key="k")["LegalHold"] == {"Status": "ON"}
    assert s3.head_object(Bucket=lbucket, Key="k")["ObjectLockLegalHoldStatus"] == "ON"
    with pytest.raises(ClientError) as e:
        s3.delete_object(Bucket=lbucket, Key="k", VersionId=v)
    assert error(e) == (403, "AccessDenied", LOCKED_MSG)
    # a legal hold is not a retention: the bypass does not lift it
    with pytest.raises(ClientError) as e:
        s3.delete_object(Bucket=lbucket, Key="k", VersionId=v, BypassGovernanceRetention=True)
    assert err(e) == (403, "AccessDenied")
    s3.put_object_legal_hold(Bucket=lbucket, Key="k", VersionId=v, LegalHold={"Status": "OFF"})
    assert s3.get_object_legal_hold(Bucket=lbucket, Key="k",
                                    VersionId=v)["LegalHold"] == {"Status": "OFF"}
    with pytest.raises(ClientError) as e:
        s3.put_object_legal_hold(Bucket=lbucket, Key="k", LegalHold={"Status": "abc"})
    assert err(e) == (400, "MalformedXML")
    s3.delete_object(Bucket=lbucket, Key="k", VersionId=v)


# ---------------------------------------------------------------- lock headers of writes


def test_put_object_with_lock_headers(s3, lbucket):
    until = utc(days=2)
    v = s3.put_object(Bucket=lbucket, Key="k", Body=b"data", ObjectLockMode="GOVERNANCE",
                      ObjectLockRetainUntilDate=until, ObjectLockLegalHoldStatus="ON")["VersionId"]
    for r in (s3.head_object(Bucket=lbucket, Key="k"), s3.get_object(Bucket=lbucket, Key="k")):
        assert r["ObjectLockMode"] == "GOVERNANCE"
        assert r["ObjectLockRetainUntilDate"] == until
        assert r["ObjectLockLegalHoldStatus"] == "ON"
    assert s3.get_object_retention(Bucket=lbucket, Key="k")["Retention"] == {
        "Mode": "GOVERNANCE", "RetainUntilDate": until}
    s3.put_object_legal_hold(Bucket=lbucket, Key="k", LegalHold={"Status": "OFF"})
    s3.delete_object(Bucket=lbucket, Key="k", VersionId=v, BypassGovernanceRetention=True)


def test_put_object_lock_header_errors(boto, s3, lbucket):
    with pytest.raises(ClientError) as e:
        s3.put_object(Bucket=lbucket, Key="k", Body=b"x", ObjectLockMode="GOVERNANCE")
    assert err(e) == (400, "InvalidArgument")
    with pytest.raises(ClientError) as e:
        s3.put_object(Bucket=lbucket, Key="k", Body=b"x", ObjectLockRetainUntilDate=utc(days=1))
    assert err(e) == (400, "InvalidArgument")
    with pytest.raises(ClientError) as e:
        s3.put_object(Bucket=lbucket, Key="k", Body=b"x", ObjectLockMode="GOVERNANCE",
                      ObjectLockRetainUntilDate=utc(days=-1))
    assert err(e) == (400, "InvalidArgument")
    with pytest.raises(ClientError) as e:
        s3.put_object(Bucket=lbucket, Key="k", Body=b"x", ObjectLockMode="abc",
                      ObjectLockRetainUntilDate=utc(days=1))
    assert err(e) == (400, "InvalidArgument")
    plain = new_name()
    s3.create_bucket(Bucket=plain)
    with pytest.raises(ClientError) as e:
        s3.put_object(Bucket=plain, Key="k", Body=b"x", ObjectLockLegalHoldStatus="ON")
    assert error(e) == (400, "InvalidRequest", "Bucket is missing Object Lock Configuration")
    # AWS requires an integrity check of a body put with Object Lock parameters
    c = without_md5(boto("s3"), "PutObject")
    with pytest.raises(ClientError) as e:
        c.put_object(Bucket=lbucket, Key="k", Body=b"x", ObjectLockLegalHoldStatus="ON")
    assert error(e) == (400, "InvalidRequest", "Content-MD5 OR x-amz-checksum- HTTP header is"
                        " required for Put Object requests with Object Lock parameters")
    c.put_object(Bucket=lbucket, Key="k", Body=b"x", ChecksumAlgorithm="CRC32",
                 ObjectLockLegalHoldStatus="ON")
    assert s3.head_object(Bucket=lbucket, Key="k")["ObjectLockLegalHoldStatus"] == "ON"
    # a plain put into a lock bucket without default retention needs none
    c.put_object(Bucket=lbucket, Key="plain", Body=b"x")
    h = s3.head_object(Bucket=lbucket, Key="plain")
    assert "ObjectLockMode" not in h and "ObjectLockLegalHoldStatus" not in h


def test_default_retention_applies_and_is_overridden(nimbus, s3, lbucket):
    s3.put_object_lock_configuration(Bucket=lbucket, ObjectLockConfiguration={
        "ObjectLockEnabled": "Enabled",
        "Rule": {"DefaultRetention": {"Mode": "GOVERNANCE", "Days": 3}}})
    before = clock_now(nimbus)
    s3.put_object(Bucket=lbucket, Key="d", Body=b"x")
    r = s3.get_object_retention(Bucket=lbucket, Key="d")["Retention"]
    assert r["Mode"] == "GOVERNANCE"
    assert before + datetime.timedelta(days=3) <= r["RetainUntilDate"] <= \
        clock_now(nimbus) + datetime.timedelta(days=3, seconds=1)
    until = utc(days=10)
    s3.put_object(Bucket=lbucket, Key="o", Body=b"x", ObjectLockMode="COMPLIANCE",
                  ObjectLockRetainUntilDate=until)
    assert s3.get_object_retention(Bucket=lbucket, Key="o")["Retention"] == {
        "Mode": "COMPLIANCE", "RetainUntilDate": until}
    # a legal hold alone keeps the default retention too
    s3.put_object(Bucket=lbucket, Key="h", Body=b"x", ObjectLockLegalHoldStatus="ON")
    h = s3.head_object(Bucket=lbucket, Key="h")
    assert h["ObjectLockMode"] == "GOVERNANCE" and h["ObjectLockLegalHoldStatus"] == "ON"
    # the default needs the integrity check as well
    c = without_md5(client(nimbus, "s3"), "PutObject")
    with pytest.raises(ClientError) as e:
        c.put_object(Bucket=lbucket, Key="d2", Body=b"x")
    assert err(e) == (400, "InvalidRequest")


def test_years_default_retention(nimbus, s3, lbucket):
    s3.put_object_lock_configuration(Bucket=lbucket, ObjectLockConfiguration={
        "ObjectLockEnabled": "Enabled",
        "Rule": {"DefaultRetention": {"Mode": "COMPLIANCE", "Years": 1}}})
    now = clock_now(nimbus)
    s3.put_object(Bucket=lbucket, Key="y", Body=b"x")
    until = s3.get_object_retention(Bucket=lbucket, Key="y")["Retention"]["RetainUntilDate"]
    assert datetime.timedelta(days=365) <= until - now <= datetime.timedelta(days=366, seconds=2)


def test_copy_takes_lock_from_request_or_default_not_source(s3, lbucket):
    until = utc(days=5)
    s3.put_object(Bucket=lbucket, Key="src", Body=b"x", ObjectLockMode="COMPLIANCE",
                  ObjectLockRetainUntilDate=until, ObjectLockLegalHoldStatus="ON")
    s3.copy_object(Bucket=lbucket, Key="c1", CopySource={"Bucket": lbucket, "Key": "src"})
    h = s3.head_object(Bucket=lbucket, Key="c1")
    assert "ObjectLockMode" not in h and "ObjectLockLegalHoldStatus" not in h
    until2 = utc(days=7)
    s3.copy_object(Bucket=lbucket, Key="c2", CopySource={"Bucket": lbucket, "Key": "src"},
                   ObjectLockMode="GOVERNANCE", ObjectLockRetainUntilDate=until2)
    h = s3.head_object(Bucket=lbucket, Key="c2")
    assert h["ObjectLockMode"] == "GOVERNANCE" and h["ObjectLockRetainUntilDate"] == until2
    s3.put_object_lock_configuration(Bucket=lbucket, ObjectLockConfiguration={
        "ObjectLockEnabled": "Enabled",
        "Rule": {"DefaultRetention": {"Mode": "GOVERNANCE", "Days": 1}}})
    s3.copy_object(Bucket=lbucket, Key="c3", CopySource={"Bucket": lbucket, "Key": "src"})
    assert s3.head_object(Bucket=lbucket, Key="c3")["ObjectLockMode"] == "GOVERNANCE"
    # into a bucket without Object Lock, lock headers are refused
    plain = new_name()
    s3.create_bucket(Bucket=plain)
    with pytest.raises(ClientError) as e:
        s3.copy_object(Bucket=plain, Key="c", CopySource={"Bucket": lbucket, "Key": "src"},
                       ObjectLockLegalHoldStatus="ON")
    assert err(e) == (400, "InvalidRequest")


def test_multipart_lock_applied_at_completion(nimbus, s3, lbucket):
    until = utc(days=1)
    up = s3.create_multipart_upload(Bucket=lbucket, Key="mp", ObjectLockMode="GOVERNANCE",
                                    ObjectLockRetainUntilDate=until,
                                    ObjectLockLegalHoldStatus="OFF")["UploadId"]
    with pytest.raises(ClientError) as e:
        s3.head_object(Bucket=lbucket, Key="mp")
    part = s3.upload_part(Bucket=lbucket, Key="mp", UploadId=up, PartNumber=1, Body=b"p" * 100)
    v = s3.complete_multipart_upload(Bucket=lbucket, Key="mp", UploadId=up, MultipartUpload={
        "Parts": [{"PartNumber": 1, "ETag": part["ETag"]}]})["VersionId"]
    h = s3.head_object(Bucket=lbucket, Key="mp")
    assert h["ObjectLockMode"] == "GOVERNANCE" and h["ObjectLockRetainUntilDate"] == until
    assert h["ObjectLockLegalHoldStatus"] == "OFF"
    with pytest.raises(ClientError) as e:
        s3.delete_object(Bucket=lbucket, Key="mp", VersionId=v)
    assert error(e) == (403, "AccessDenied", LOCKED_MSG)
    s3.delete_object(Bucket=lbucket, Key="mp", VersionId=v, BypassGovernanceRetention=True)
    # a default retention reaches multipart objects too
    s3.put_object_lock_configuration(Bucket=lbucket, ObjectLockConfiguration={
        "ObjectLockEnabled": "Enabled",
        "Rule": {"DefaultRetention": {"Mode": "COMPLIANCE", "Days": 1}}})
    up = s3.create_multipart_upload(Bucket=lbucket, Key="mp2")["UploadId"]
    part = s3.upload_part(Bucket=lbucket, Key="mp2", UploadId=up, PartNumber=1, Body=b"q")
    s3.complete_multipart_upload(Bucket=lbucket, Key="mp2", UploadId=up, MultipartUpload={
        "Parts": [{"PartNumber": 1, "ETag": part["ETag"]}]})
    assert s3.head_object(Bucket=lbucket, Key="mp2")["ObjectLockMode"] == "COMPLIANCE"
    plain = new_name()
    s3.create_bucket(Bucket=plain)
    with pytest.raises(ClientError) as e:
        s3.create_multipart_upload(Bucket=plain, Key="m", ObjectLockLegalHoldStatus="ON")
    assert err(e) == (400, "InvalidRequest")
    # its parts need an integrity check, as a PutObject would
    up = s3.create_multipart_upload(Bucket=lbucket, Key="mp3")["UploadId"]
    c = without_md5(client(nimbus, "s3"), "UploadPart")
    with pytest.raises(ClientError) as e:
        c.upload_part(Bucket=lbucket, Key="mp3", UploadId=up, PartNumber=1, Body=b"q")
    assert err(e) == (400, "InvalidRequest")
    c.upload_part(Bucket=lbucket, Key="mp3", UploadId=up, PartNumber=1, Body=b"q",
                  ChecksumAlgorithm="SHA256")


def test_browser_post_gets_lock_fields_and_default(nimbus, s3, lbucket):
    import requests
    s3.put_object_lock_configuration(Bucket=lbucket, ObjectLockConfiguration={
        "ObjectLockEnabled": "Enabled",
        "Rule": {"DefaultRetention": {"Mode": "GOVERNANCE", "Days": 1}}})
    fields = {"x-amz-object-lock-legal-hold": "ON"}
    post = s3.generate_presigned_post(lbucket, "posted", Fields=fields,
                                      Conditions=[{"x-amz-object-lock-legal-hold": "ON"}])
    r = requests.post(post["url"], data=post["fields"], files={"file": ("f", b"body")})
    assert r.status_code == 204, r.text
    h = s3.head_object(Bucket=lbucket, Key="posted")
    assert h["ObjectLockMode"] == "GOVERNANCE" and h["ObjectLockLegalHoldStatus"] == "ON"
    until = utc(days=4)
    fields = {"x-amz-object-lock-mode": "COMPLIANCE",
              "x-amz-object-lock-retain-until-date": until.strftime("%Y-%m-%dT%H:%M:%SZ")}
    post = s3.generate_presigned_post(lbucket, "posted2", Fields=fields,
                                      Conditions=[{k: v} for k, v in fields.items()])
    r = requests.post(post["url"], data=post["fields"], files={"file": ("f", b"body")})
    assert r.status_code == 204, r.text
    assert s3.get_object_retention(Bucket=lbucket, Key="posted2")["Retention"] == {
        "Mode": "COMPLIANCE", "RetainUntilDate": until}


# ---------------------------------------------------------------- enforcement


def test_delete_with_governance_retention(s3, lbucket):
    v = s3.put_object(Bucket=lbucket, Key="k", Body=b"x")["VersionId"]
    s3.put_object_retention(Bucket=lbucket, Key="k",
                            Retention={"Mode": "GOVERNANCE", "RetainUntilDate": utc(days=1)})
    with pytest.raises(ClientError) as e:
        s3.delete_object(Bucket=lbucket, Key="k", VersionId=v)
    assert error(e) == (403, "AccessDenied", LOCKED_MSG)
    # a delete without a version id adds a delete marker, locked or not
    r = s3.delete_object(Bucket=lbucket, Key="k")
    assert r["DeleteMarker"] is True
    s3.delete_object(Bucket=lbucket, Key="k", VersionId=r["VersionId"])  # the marker goes
    assert s3.get_object(Bucket=lbucket, Key="k", VersionId=v)["Body"].read() == b"x"
    s3.delete_object(Bucket=lbucket, Key="k", VersionId=v, BypassGovernanceRetention=True)
    assert "Versions" not in s3.list_object_versions(Bucket=lbucket)


def test_delete_with_compliance_retention(s3, lbucket):
    v = s3.put_object(Bucket=lbucket, Key="k", Body=b"x", ObjectLockMode="COMPLIANCE",
                      ObjectLockRetainUntilDate=utc(days=1))["VersionId"]
    for bypass in (False, True):
        with pytest.raises(ClientError) as e:
            s3.delete_object(Bucket=lbucket, Key="k", VersionId=v, BypassGovernanceRetention=bypass)
        assert error(e) == (403, "AccessDenied", LOCKED_MSG)


def test_delete_objects_reports_locked_versions(s3, lbucket):
    v1 = s3.put_object(Bucket=lbucket, Key="k1", Body=b"x", ObjectLockMode="GOVERNANCE",
                       ObjectLockRetainUntilDate=utc(days=1))["VersionId"]
    v2 = s3.put_object(Bucket=lbucket, Key="k2", Body=b"x")["VersionId"]
    v3 = s3.put_object(Bucket=lbucket, Key="k3", Body=b"x", ObjectLockMode="COMPLIANCE",
                       ObjectLockRetainUntilDate=utc(days=1))["VersionId"]
    objs = [{"Key": "k1", "VersionId": v1}, {"Key": "k2", "VersionId": v2},
            {"Key": "k3", "VersionId": v3}]
    r = s3.delete_objects(Bucket=lbucket, Delete={"Objects": objs})
    assert [d["Key"] for d in r["Deleted"]] == ["k2"]
    errs = sorted(r["Errors"], key=lambda e: e["Key"])
    assert [(e["Key"], e["VersionId"], e["Code"], e["Message"]) for e in errs] == [
        ("k1", v1, "AccessDenied", LOCKED_MSG), ("k3", v3, "AccessDenied", LOCKED_MSG)]
    r = s3.delete_objects(Bucket=lbucket, Delete={"Objects": objs[:1] + objs[2:]},
                          BypassGovernanceRetention=True)
    assert [d["Key"] for d in r["Deleted"]] == ["k1"]
    assert [e["Key"] for e in r["Errors"]] == ["k3"]


def test_retention_changes(s3, lbucket):
    s3.put_object(Bucket=lbucket, Key="g", Body=b"x")
    t1, t2, t3 = utc(days=1), utc(days=2), utc(days=3)

    def put(mode, until, key="g", **kw):
        s3.put_object_retention(Bucket=lbucket, Key=key,
                                Retention={"Mode": mode, "RetainUntilDate": until}, **kw)

    def refused(*a, **kw):
        with pytest.raises(ClientError) as e:
            put(*a, **kw)
        assert err(e) == (403, "AccessDenied")

    put("GOVERNANCE", t2)
    put("GOVERNANCE", t3)  # lengthening is free
    refused("GOVERNANCE", t1)  # shortening needs the bypass
    put("GOVERNANCE", t1, BypassGovernanceRetention=True)
    refused("COMPLIANCE", t3)  # so does changing the mode
    put("COMPLIANCE", t3, BypassGovernanceRetention=True)
    refused("COMPLIANCE", t2, BypassGovernanceRetention=True)  # compliance: never shorter
    refused("GOVERNANCE", t3, BypassGovernanceRetention=True)  # nor another mode
    put("COMPLIANCE", utc(days=4))
    assert s3.get_object_retention(Bucket=lbucket, Key="g")["Retention"]["Mode"] == "COMPLIANCE"
    # removing a governance retention: with the bypass only
    s3.put_object(Bucket=lbucket, Key="r", Body=b"x", ObjectLockMode="GOVERNANCE",
                  ObjectLockRetainUntilDate=t1)
    with pytest.raises(ClientError) as e:
        s3.put_object_retention(Bucket=lbucket, Key="r", Retention={})
    assert err(e) == (403, "AccessDenied")
    s3.put_object_retention(Bucket=lbucket, Key="r", Retention={}, BypassGovernanceRetention=True)
    with pytest.raises(ClientError) as e:
        s3.get_object_retention(Bucket=lbucket, Key="r")
    assert err(e) == (404, "NoSuchObjectLockConfiguration")


def test_retention_expires_on_the_region_clock(nimbus, s3, lbucket):
    v = s3.put_object(Bucket=lbucket, Key="k", Body=b"x", ObjectLockMode="COMPLIANCE",
                      ObjectLockRetainUntilDate=utc(days=1))["VersionId"]
    with pytest.raises(ClientError) as e:
        s3.delete_object(Bucket=lbucket, Key="k", VersionId=v)
    assert err(e) == (403, "AccessDenied")
    advance(nimbus, "2d")
    # an expired compliance retention no longer protects the version, and may be replaced
    s3.put_object_retention(Bucket=lbucket, Key="k", VersionId=v, Retention={
        "Mode": "GOVERNANCE", "RetainUntilDate": clock_now(nimbus) + datetime.timedelta(days=1)})
    s3.delete_object(Bucket=lbucket, Key="k", VersionId=v, BypassGovernanceRetention=True)


def test_bypass_needs_iam_permission(nimbus, s3, boto, lbucket):
    v = s3.put_object(Bucket=lbucket, Key="k", Body=b"x", ObjectLockMode="GOVERNANCE",
                      ObjectLockRetainUntilDate=utc(days=1))["VersionId"]
    iam = boto("iam")

    def user(name, actions):
        iam.create_user(UserName=name)
        iam.put_user_policy(UserName=name, PolicyName="p", PolicyDocument=json.dumps({
            "Version": "2012-10-17", "Statement": [{
                "Effect": "Allow", "Action": actions,
                "Resource": ["arn:aws:s3:::%s" % lbucket, "arn:aws:s3:::%s/*" % lbucket]}]}))
        k = iam.create_access_key(UserName=name)["AccessKey"]
        return client(nimbus, "s3", access_key=k["AccessKeyId"], secret_key=k["SecretAccessKey"])

    weak = user("weak", ["s3:DeleteObject", "s3:DeleteObjectVersion", "s3:PutObjectRetention"])
    strong = user("strong", ["s3:DeleteObject", "s3:DeleteObjectVersion",
                             "s3:BypassGovernanceRetention"])
    with pytest.raises(ClientError) as e:
        weak.delete_object(Bucket=lbucket, Key="k", VersionId=v, BypassGovernanceRetention=True)
    assert err(e) == (403, "AccessDenied")
    with pytest.raises(ClientError) as e:
        weak.put_object_retention(Bucket=lbucket, Key="k", Retention={},
                                  BypassGovernanceRetention=True)
    assert err(e) == (403, "AccessDenied")
    r = weak.delete_objects(Bucket=lbucket, Delete={"Objects": [{"Key": "k", "VersionId": v}]},
                            BypassGovernanceRetention=True)
    assert [e["Code"] for e in r["Errors"]] == ["AccessDenied"] and "Deleted" not in r
    strong.delete_object(Bucket=lbucket, Key="k", VersionId=v, BypassGovernanceRetention=True)
    assert "Versions" not in s3.list_object_versions(Bucket=lbucket)


def test_lock_headers_only_for_callers_who_may_read_them(nimbus, s3, boto, lbucket):
    s3.put_object(Bucket=lbucket, Key="k", Body=b"x", ObjectLockMode="GOVERNANCE",
                  ObjectLockRetainUntilDate=utc(days=1), ObjectLockLegalHoldStatus="ON")
    iam = boto("iam")

    def user(name, actions):
        iam.create_user(UserName=name)
        iam.put_user_policy(UserName=name, PolicyName="p", PolicyDocument=json.dumps({
            "Version": "2012-10-17", "Statement": [{
                "Effect": "Allow", "Action": actions,
                "Resource": "arn:aws:s3:::%s/*" % lbucket}]}))
        k = iam.create_access_key(UserName=name)["AccessKey"]
        return client(nimbus, "s3", access_key=k["AccessKeyId"], secret_key=k["SecretAccessKey"])

    h = user("reader", ["s3:GetObject"]).head_object(Bucket=lbucket, Key="k")
    assert "ObjectLockMode" not in h and "ObjectLockLegalHoldStatus" not in h
    h = user("ret", ["s3:GetObject", "s3:GetObjectRetention"]).head_object(Bucket=lbucket, Key="k")
    assert h["ObjectLockMode"] == "GOVERNANCE" and "ObjectLockLegalHoldStatus" not in h
    h = user("hold", ["s3:GetObject", "s3:GetObjectLegalHold"]).get_object(Bucket=lbucket, Key="k")
    assert "ObjectLockMode" not in h and h["ObjectLockLegalHoldStatus"] == "ON"


def test_settings_of_a_delete_marker(s3, lbucket):
    s3.put_object(Bucket=lbucket, Key="k", Body=b"x")
    m = s3.delete_object(Bucket=lbucket, Key="k")["VersionId"]
    for call in (s3.get_object_retention, s3.get_object_legal_hold):
        with pytest.raises(ClientError) as e:
            call(Bucket=lbucket, Key="k")
        assert err(e) == (404, "NoSuchKey")
        with pytest.raises(ClientError) as e:
            call(Bucket=lbucket, Key="k", VersionId=m)
        assert err(e) == (405, "MethodNotAllowed")
    with pytest.raises(ClientError) as e:
        s3.put_object_legal_hold(Bucket=lbucket, Key="k", VersionId=m, LegalHold={"Status": "ON"})
    assert err(e) == (405, "MethodNotAllowed")
    with pytest.raises(ClientError) as e:
        s3.put_object_legal_hold(Bucket=lbucket, Key="k", LegalHold={"Status": "ON"})
    assert err(e) == (404, "NoSuchKey")


def test_lifecycle_keeps_locked_versions(nimbus, s3, lbucket):
    s3.put_bucket_lifecycle_configuration(Bucket=lbucket, LifecycleConfiguration={"Rules": [
        {"ID": "nc", "Status": "Enabled", "Filter": {},
         "NoncurrentVersionExpiration": {"NoncurrentDays": 1}}]})
    locked = s3.put_object(Bucket=lbucket, Key="k", Body=b"old", ObjectLockMode="COMPLIANCE",
                           ObjectLockRetainUntilDate=utc(days=10))["VersionId"]
    held = s3.put_object(Bucket=lbucket, Key="k", Body=b"held",
                         ObjectLockLegalHoldStatus="ON")["VersionId"]
    free = s3.put_object(Bucket=lbucket, Key="k", Body=b"free")["VersionId"]
    cur = s3.put_object(Bucket=lbucket, Key="k", Body=b"new")["VersionId"]

    def versions():
        return sorted(v["VersionId"] for v in
                      s3.list_object_versions(Bucket=lbucket).get("Versions", []))

    advance(nimbus, "3d")
    import time
    deadline = time.time() + 15
    while time.time() < deadline and free in versions():
        time.sleep(0.1)
    assert versions() == sorted([locked, held, cur])
    # past the retention, the next pass removes that version; the held one stays
    advance(nimbus, "10d")
    deadline = time.time() + 15
    while time.time() < deadline and locked in versions():
        time.sleep(0.1)
    assert versions() == sorted([held, cur])


def test_lock_state_survives_restart(nimbus_factory):
    srv = nimbus_factory()
    c = client(srv, "s3")
    name = new_name()
    c.create_bucket(Bucket=name, ObjectLockEnabledForBucket=True)
    conf = {"ObjectLockEnabled": "Enabled",
            "Rule": {"DefaultRetention": {"Mode": "GOVERNANCE", "Days": 2}}}
    c.put_object_lock_configuration(Bucket=name, ObjectLockConfiguration=conf)
    until = utc(days=3)
    v1 = c.put_object(Bucket=name, Key="a", Body=b"a", ObjectLockMode="COMPLIANCE",
                      ObjectLockRetainUntilDate=until)["VersionId"]
    v2 = c.put_object(Bucket=name, Key="b", Body=b"b", ObjectLockLegalHoldStatus="ON")["VersionId"]
    up = c.create_multipart_upload(Bucket=name, Key="m", ObjectLockMode="COMPLIANCE",
                                   ObjectLockRetainUntilDate=until)["UploadId"]
    part = c.upload_part(Bucket=name, Key="m", UploadId=up, PartNumber=1, Body=b"m")
    srv.stop()
    srv2 = nimbus_factory(data_dir=srv.data_dir)
    c = client(srv2, "s3")
    assert c.get_object_lock_configuration(Bucket=name)["ObjectLockConfiguration"] == conf
    assert c.get_object_retention(Bucket=name, Key="a")["Retention"] == {
        "Mode": "COMPLIANCE", "RetainUntilDate": until}
    assert c.get_object_legal_hold(Bucket=name, Key="b")["LegalHold"] == {"Status": "ON"}
    assert c.get_object_retention(Bucket=name, Key="b")["Retention"]["Mode"] == "GOVERNANCE"
    for key, v in (("a", v1), ("b", v2)):
        with pytest.raises(ClientError) as e:
            c.delete_object(Bucket=name, Key=key, VersionId=v, BypassGovernanceRetention=True)
        assert err(e) == (403, "AccessDenied")
    with pytest.raises(ClientError) as e:
        c.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Suspended"})
    assert err(e) == (409, "InvalidBucketState")
    c.complete_multipart_upload(Bucket=name, Key="m", UploadId=up, MultipartUpload={
        "Parts": [{"PartNumber": 1, "ETag": part["ETag"]}]})
    h = c.head_object(Bucket=name, Key="m")
    assert h["ObjectLockMode"] == "COMPLIANCE" and h["ObjectLockRetainUntilDate"] == until
