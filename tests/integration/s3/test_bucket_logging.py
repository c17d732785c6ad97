"""S3 server access logging: Put/GetBucketLogging with AWS's checks of the target bucket
(exists, same owner, no target grants on a bucket owner enforced target), and delivery: one
record per request in AWS's log format, written as objects <TargetPrefix>YYYY-mm-DD-HH-MM-SS-
<UniqueString> into the target bucket on POST /_nimbus/s3/logging/flush, every
--s3-log-interval seconds, and at shutdown; the configuration survives a restart."""
import re
import time
import urllib.request
import uuid

import pytest
from botocore import UNSIGNED
from botocore.exceptions import ClientError

from conftest import client
from s3util import bucket, err, s3  # noqa: F401 (fixtures)

# bucket_owner bucket [time] remote_ip requester request_id operation key "request_uri" (or -)
# status error_code bytes_sent object_size total_time turnaround "referer" "user_agent"
# version_id host_id sig_version cipher_suite auth_type host_header tls_version ap_arn acl_req
RECORD = re.compile(
    r'^(?P<owner>\S+) (?P<bucket>\S+) \[(?P<time>\d\d/\w{3}/\d{4}:\d\d:\d\d:\d\d \+0000)\] '
    r'(?P<ip>\S+) (?P<requester>\S+) (?P<request_id>\S+) (?P<operation>\S+) (?P<key>\S+) '
    r'(?:"(?P<uri>[^"]*)"|-) (?P<status>\d{3}) (?P<error>\S+) (?P<bytes_sent>\S+) (?P<size>\S+) '
    r'(?P<total>\d+|-) (?P<turnaround>\S+) "(?P<referer>[^"]*)" "(?P<agent>[^"]*)" '
    r'(?P<version>\S+) (?P<host_id>\S+) (?P<sig>\S+) (?P<cipher>\S+) (?P<auth>\S+) '
    r'(?P<host>\S+) (?P<tls>\S+) (?P<ap>\S+) (?P<acl>\S+)$')
KEY = re.compile(r"^(?P<prefix>.*)\d{4}-\d\d-\d\d-\d\d-\d\d-\d\d-[0-9A-F]{16}$")


def flush(server):
    req = urllib.request.Request(server.endpoint + "/_nimbus/s3/logging/flush", method="POST")
    with urllib.request.urlopen(req) as r:
        return r.read()


def log_records(s3, target, prefix=""):
    out = []
    for o in s3.list_objects_v2(Bucket=target, Prefix=prefix).get("Contents", []):
        assert KEY.match(o["Key"]), o["Key"]
        body = s3.get_object(Bucket=target, Key=o["Key"])["Body"].read().decode()
        for line in body.splitlines():
            m = RECORD.match(line)
            assert m, line
            out.append(m.groupdict())
    return out


def wait_records(server, s3, target, prefix, pred, timeout=10):
    """Records of the target once pred(records) holds (the server finishes a request's record
    just after the client has its answer: flush again until it is there)."""
    deadline = time.time() + timeout
    while True:
        flush(server)
        recs = log_records(s3, target, prefix)
        if pred(recs) or time.time() > deadline:
            return recs
        time.sleep(0.1)


def new_bucket(s3):
    name = "lg-" + uuid.uuid4().hex[:12]
    s3.create_bucket(Bucket=name)
    return name


def canonical_id(s3):
    return s3.list_buckets()["Owner"]["ID"]


def enable(s3, src, target, prefix="logs/"):
    s3.put_bucket_logging(Bucket=src, BucketLoggingStatus={
        "LoggingEnabled": {"TargetBucket": target, "TargetPrefix": prefix}})


def test_logging_round_trip_and_disable(s3, bucket):
    assert "LoggingEnabled" not in s3.get_bucket_logging(Bucket=bucket)
    target = new_bucket(s3)
    enable(s3, bucket, target, "access/")
    assert s3.get_bucket_logging(Bucket=bucket)["LoggingEnabled"] == {
        "TargetBucket": target, "TargetPrefix": "access/"}
    s3.put_bucket_logging(Bucket=bucket, BucketLoggingStatus={})
    assert "LoggingEnabled" not in s3.get_bucket_logging(Bucket=bucket)


def test_target_bucket_checks(s3, nimbus, bucket):
    with pytest.raises(ClientError) as e:
        enable(s3, bucket, "no-such-" + uuid.uuid4().hex[:8])
    assert err(e) == (400, "InvalidTargetBucketForLogging")
    # a bucket of another account
    from test_access import account_client, new_account
    other = account_client(nimbus, new_account(nimbus, "lg-%s@example.com" % uuid.uuid4().hex[:6]))
    foreign = "lg-" + uuid.uuid4().hex[:12]
    other.create_bucket(Bucket=foreign)
    with pytest.raises(ClientError) as e:
        enable(s3, bucket, foreign)
    assert err(e) == (400, "InvalidTargetBucketForLogging")
    # target grants: refused while the target's Object Ownership is bucket owner enforced
    target = new_bucket(s3)
    grants = [{"Grantee": {"Type": "Group",
                           "URI": "http://acs.amazonaws.com/groups/global/AuthenticatedUsers"},
               "Permission": "READ"}]
    with pytest.raises(ClientError) as e:
        s3.put_bucket_logging(Bucket=bucket, BucketLoggingStatus={"LoggingEnabled": {
            "TargetBucket": target, "TargetPrefix": "p/", "TargetGrants": grants}})
    assert err(e) == (400, "AccessControlListNotSupported")
    s3.put_bucket_ownership_controls(Bucket=target, OwnershipControls={
        "Rules": [{"ObjectOwnership": "BucketOwnerPreferred"}]})
    s3.put_bucket_logging(Bucket=bucket, BucketLoggingStatus={"LoggingEnabled": {
        "TargetBucket": target, "TargetPrefix": "p/", "TargetGrants": grants}})
    got = s3.get_bucket_logging(Bucket=bucket)["LoggingEnabled"]
    assert got["TargetGrants"] == grants
    # nothing stored by the refusals: the bucket still logs where the last success said
    assert got["TargetBucket"] == target
    # a target with an Object Lock default retention period
    locked = "lg-" + uuid.uuid4().hex[:12]
    s3.create_bucket(Bucket=locked, ObjectLockEnabledForBucket=True)
    enable(s3, bucket, locked)  # Object Lock alone is fine
    s3.put_object_lock_configuration(Bucket=locked, ObjectLockConfiguration={
        "ObjectLockEnabled": "Enabled",
        "Rule": {"DefaultRetention": {"Mode": "GOVERNANCE", "Days": 1}}})
    with pytest.raises(ClientError) as e:
        enable(s3, bucket, locked)
    assert err(e) == (400, "InvalidTargetBucketForLogging")


def test_records_delivered_in_aws_format(s3, nimbus, bucket):
    target = new_bucket(s3)
    enable(s3, bucket, target, "logs/")
    put = s3.put_object(Bucket=bucket, Key="dir/a b.txt", Body=b"hello world")
    get = s3.get_object(Bucket=bucket, Key="dir/a b.txt", Range="bytes=0-3")
    assert get["Body"].read() == b"hell"
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket=bucket, Key="missing")
    assert err(e) == (404, "NoSuchKey")
    s3.list_objects_v2(Bucket=bucket)
    anon = client(nimbus, "s3", config_kw={"signature_version": UNSIGNED})
    with pytest.raises(ClientError) as e:
        anon.get_object(Bucket=bucket, Key="dir/a b.txt")
    assert err(e)[0] == 403
    recs = wait_records(nimbus, s3, target, "logs/",
                        lambda rs: any(r["requester"] == "-" for r in rs))
    by_id = {r["request_id"]: r for r in recs}
    owner = canonical_id(s3)

    p = by_id[put["ResponseMetadata"]["RequestId"]]
    assert p["owner"] == owner and p["bucket"] == bucket and p["requester"] == owner
    assert p["operation"] == "REST.PUT.OBJECT"
    assert p["key"] == "dir/a%20b.txt"
    assert p["uri"] == "PUT /%s/dir/a%%20b.txt HTTP/1.1" % bucket
    assert (p["status"], p["error"], p["size"]) == ("200", "-", "11")
    assert p["sig"] == "SigV4" and p["auth"] == "AuthHeader" and p["ip"] == "127.0.0.1"
    assert p["agent"].startswith("Boto3/")
    assert p["host_id"] == put["ResponseMetadata"]["HostId"]

    g = by_id[get["ResponseMetadata"]["RequestId"]]
    assert (g["operation"], g["status"], g["bytes_sent"], g["size"]) == (
        "REST.GET.OBJECT", "206", "4", "11")

    miss = [r for r in recs if r["key"] == "missing"]
    assert [(r["status"], r["error"]) for r in miss] == [("404", "NoSuchKey")]
    assert any(r["operation"] == "REST.GET.BUCKET" and r["status"] == "200" for r in recs)
    denied = [r for r in recs if r["requester"] == "-"]
    assert denied and denied[0]["status"] == "403" and denied[0]["error"] == "AccessDenied"
    assert denied[0]["sig"] == "-" and denied[0]["auth"] == "-"
    # only the source bucket's requests: reading the logs from the target makes no records
    assert all(r["bucket"] == bucket for r in recs)


def test_partitioned_by_source_and_prefix(s3, nimbus):
    a, b, target = new_bucket(s3), new_bucket(s3), new_bucket(s3)
    enable(s3, a, target, "a/")
    enable(s3, b, target, "b/")
    s3.put_object(Bucket=a, Key="x", Body=b"1")
    s3.put_object(Bucket=b, Key="y", Body=b"2")
    ra = wait_records(nimbus, s3, target, "a/", lambda rs: any(r["key"] == "x" for r in rs))
    rb = wait_records(nimbus, s3, target, "b/", lambda rs: any(r["key"] == "y" for r in rs))
    assert {r["bucket"] for r in ra} == {a} and {r["bucket"] for r in rb} == {b}
    # disabled: nothing more is delivered
    s3.put_bucket_logging(Bucket=a, BucketLoggingStatus={})
    flush(nimbus)
    before = len(s3.list_objects_v2(Bucket=target, Prefix="a/").get("Contents", []))
    s3.put_object(Bucket=a, Key="z", Body=b"3")
    time.sleep(0.2)
    flush(nimbus)
    assert len(s3.list_objects_v2(Bucket=target, Prefix="a/").get("Contents", [])) == before


def test_periodic_delivery_without_flush(nimbus_factory):
    srv = nimbus_factory(args=["--s3-log-interval", "1"])
    s3c = client(srv, "s3")
    src, target = new_bucket(s3c), new_bucket(s3c)
    enable(s3c, src, target, "t/")
    s3c.put_object(Bucket=src, Key="k", Body=b"x")
    deadline = time.time() + 15
    while time.time() < deadline:
        if s3c.list_objects_v2(Bucket=target, Prefix="t/").get("KeyCount"):
            break
        time.sleep(0.2)
    recs = log_records(s3c, target, "t/")
    assert any(r["operation"] == "REST.PUT.OBJECT" and r["key"] == "k" for r in recs)


def test_delivered_at_shutdown_and_configuration_persists(nimbus_factory):
    srv = nimbus_factory()
    s3c = client(srv, "s3")
    src, target = new_bucket(s3c), new_bucket(s3c)
    enable(s3c, src, target, "s/")
    s3c.put_object(Bucket=src, Key="before-stop", Body=b"x")
    time.sleep(0.2)
    assert srv.stop() in (0, None)
    srv2 = nimbus_factory(data_dir=srv.data_dir)
    s3c = client(srv2, "s3")
    recs = log_records(s3c, target, "s/")
    assert any(r["key"] == "before-stop" for r in recs)
    assert s3c.get_bucket_logging(Bucket=src)["LoggingEnabled"] == {
        "TargetBucket": target, "TargetPrefix": "s/"}
    s3c.put_object(Bucket=src, Key="after-restart", Body=b"y")
    recs = wait_records(srv2, s3c, target, "s/",
                        lambda rs: any(r["key"] == "after-restart" for r in rs))
    assert any(r["key"] == "after-restart" for r in recs)


def test_flush_is_loopback_post_only(nimbus):
    req = urllib.request.Request(nimbus.endpoint + "/_nimbus/s3/logging/flush")
    with pytest.raises(urllib.error.HTTPError) as e:
        urllib.request.urlopen(req)
    assert e.value.code == 405


def put_logging_xml(server, bucket, xml, method="PUT"):
    """Put/GetBucketLogging with a body boto3 1.26 cannot send or read (TargetObjectKeyFormat
    came later): signed by hand. (status, body)."""
    import base64
    import hashlib
    import http.client

    from sigv4util import sign
    body = xml.encode()
    headers = {"x-amz-content-sha256": hashlib.sha256(body).hexdigest()}
    if body:
        headers["Content-MD5"] = base64.b64encode(hashlib.md5(body).digest()).decode()
        headers["Content-Type"] = "application/xml"
    headers = sign(method, "%s:%d" % (server.host, server.port), "/" + bucket, [("logging", "")],
                   headers, body, service="s3")
    conn = http.client.HTTPConnection(server.host, server.port, timeout=30)
    conn.request(method, "/%s?logging=" % bucket, body=body, headers=headers)
    r = conn.getresponse()
    data = r.read()
    conn.close()
    return r.status, data


LOGGING_XML = ('<BucketLoggingStatus xmlns="http://s3.amazonaws.com/doc/2006-03-01/">'
               '<LoggingEnabled><TargetBucket>%s</TargetBucket><TargetPrefix>%s</TargetPrefix>'
               '<TargetObjectKeyFormat>%s</TargetObjectKeyFormat></LoggingEnabled>'
               '</BucketLoggingStatus>')


def test_partitioned_prefix_keys(s3, nimbus, bucket):
    target = new_bucket(s3)
    fmt = "<PartitionedPrefix><PartitionDateSource>EventTime</PartitionDateSource></PartitionedPrefix>"
    status, body = put_logging_xml(nimbus, bucket, LOGGING_XML % (target, "pp/", fmt))
    assert status == 200, body
    got = s3.get_bucket_logging(Bucket=bucket)["LoggingEnabled"]
    assert got["TargetPrefix"] == "pp/" and "TargetGrants" not in got
    status, body = put_logging_xml(nimbus, bucket, "", method="GET")
    assert status == 200 and (b"<TargetObjectKeyFormat><PartitionedPrefix><PartitionDateSource>"
                              b"EventTime</PartitionDateSource></PartitionedPrefix>"
                              b"</TargetObjectKeyFormat>") in body, body
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    account = boto_account(nimbus)
    wait_records(nimbus, s3, target, "pp/", lambda rs: any(r["key"] == "k" for r in rs))
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=target)["Contents"]]
    part = re.compile(r"^pp/%s/us-east-1/%s/(\d{4})/(\d\d)/(\d\d)/(\d{4})-(\d\d)-(\d\d)-"
                      r"\d\d-\d\d-\d\d-[0-9A-F]{16}$" % (account, bucket))
    for k in keys:
        m = part.match(k)
        assert m, k
        assert m.group(1, 2, 3) == m.group(4, 5, 6)
    # both key formats at once, or a date source AWS does not have: MalformedXML
    for bad in ["<SimplePrefix/>" + fmt,
                "<PartitionedPrefix><PartitionDateSource>Now</PartitionDateSource>"
                "</PartitionedPrefix>"]:
        status, body = put_logging_xml(nimbus, bucket, LOGGING_XML % (target, "pp/", bad))
        assert status == 400 and b"<Code>MalformedXML</Code>" in body
    # SimplePrefix: the plain layout
    status, body = put_logging_xml(nimbus, bucket, LOGGING_XML % (target, "sp/", "<SimplePrefix/>"))
    assert status == 200, body
    s3.put_object(Bucket=bucket, Key="k2", Body=b"x")
    wait_records(nimbus, s3, target, "sp/", lambda rs: any(r["key"] == "k2" for r in rs))


def boto_account(server):
    return client(server, "sts").get_caller_identity()["Account"]


def test_delete_objects_logs_each_key(s3, nimbus, bucket):
    target = new_bucket(s3)
    enable(s3, bucket, target, "d/")
    s3.put_object(Bucket=bucket, Key="x 1", Body=b"1")
    s3.put_object(Bucket=bucket, Key="y/2", Body=b"2")
    rid = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": "x 1"}, {"Key": "y/2"}]})[
        "ResponseMetadata"]["RequestId"]
    recs = wait_records(nimbus, s3, target, "d/",
                        lambda rs: sum(r["request_id"] == rid for r in rs) == 3)
    mine = [r for r in recs if r["request_id"] == rid]
    assert sorted((r["operation"], r["key"], r["status"]) for r in mine) == [
        ("BATCH.DELETE.OBJECT", "x%201", "204"), ("BATCH.DELETE.OBJECT", "y/2", "204"),
        ("REST.POST.MULTI_OBJECT_DELETE", "-", "200")]
    assert all(r["agent"].startswith("Boto3/") and r["sig"] == "SigV4" for r in mine)
