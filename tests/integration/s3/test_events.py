"""S3 event notifications delivered (issue 6 item 4): AWS's event message (Records[] with every
member, URL-encoded keys, increasing sequencers) reaches SQS queues directly and through SNS
topics, after s3:TestEvent when a configuration is put; event names with wildcards and
prefix/suffix filters route or skip; writes, copies, multipart completions, browser POSTs,
deletes (and delete markers), tagging and lifecycle expirations all produce their events."""
import json
import re
import time
import urllib.request
import uuid

import pytest

from s3util import bucket, s3  # noqa: F401 (fixtures)

ISO_MS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


class Dest:
    def __init__(self, boto):
        self.sqs, self.sns = boto("sqs"), boto("sns")

    def queue(self, name=None):
        name = name or "q-" + uuid.uuid4().hex[:10]
        url = self.sqs.create_queue(QueueName=name)["QueueUrl"]
        arn = self.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        return url, arn

    def topic_to_queue(self):
        """An SNS topic with a queue subscribed to it (not raw: SNS's envelope)."""
        topic = self.sns.create_topic(Name="t-" + uuid.uuid4().hex[:10])["TopicArn"]
        url, arn = self.queue()
        self.sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn)
        return topic, url

    def drain(self, url, want=1, timeout=10):
        """Message bodies of queue url (deleted), waiting until `want` arrived."""
        out = []
        deadline = time.time() + timeout
        while len(out) < want and time.time() < deadline:
            r = self.sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1)
            for m in r.get("Messages", []):
                out.append(m["Body"])
                self.sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
        return out

    def records(self, url, want=1, timeout=10):
        """Event records of queue url, skipping s3:TestEvent messages."""
        recs = []
        deadline = time.time() + timeout
        while len(recs) < want and time.time() < deadline:
            for body in self.drain(url, 1, max(0.5, deadline - time.time())):
                doc = json.loads(body)
                if doc.get("Event") == "s3:TestEvent":
                    continue
                recs.extend(doc["Records"])
        return recs

    def empty(self, url, wait=1):
        r = self.sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=wait)
        return not r.get("Messages")


@pytest.fixture
def dest(boto):
    return Dest(boto)


def qconf(arn, events, prefix=None, suffix=None, id=None):
    c = {"QueueArn": arn, "Events": events}
    rules = [{"Name": n, "Value": v} for n, v in (("prefix", prefix), ("suffix", suffix)) if v is not None]
    if rules:
        c["Filter"] = {"Key": {"FilterRules": rules}}
    if id:
        c["Id"] = id
    return c


def configure(s3, bucket, **conf):
    s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration=conf)


def queue_for(s3, bucket, dest, events=("s3:ObjectCreated:*", "s3:ObjectRemoved:*"), **kw):
    url, arn = dest.queue()
    configure(s3, bucket, QueueConfigurations=[qconf(arn, list(events), id="cfg-1", **kw)])
    test = dest.drain(url)
    assert len(test) == 1 and json.loads(test[0])["Event"] == "s3:TestEvent"
    return url


def check_record(rec, bucket, event, key, size=None, etag=None, version=None, config="cfg-1"):
    """Every member of AWS's record, with AWS's shapes."""
    assert set(rec) == {"eventVersion", "eventSource", "awsRegion", "eventTime", "eventName",
                        "userIdentity", "requestParameters", "responseElements", "s3"}
    assert rec["eventVersion"] == "2.1"
    assert rec["eventSource"] == "aws:s3"
    assert rec["awsRegion"] == "us-east-1"
    assert ISO_MS.match(rec["eventTime"]), rec["eventTime"]
    assert rec["eventName"] == event
    assert set(rec["userIdentity"]) == {"principalId"} and rec["userIdentity"]["principalId"]
    assert rec["requestParameters"] == {"sourceIPAddress": "127.0.0.1"}
    rid = rec["responseElements"]
    assert set(rid) == {"x-amz-request-id", "x-amz-id-2"} and all(rid.values())
    s = rec["s3"]
    assert set(s) == {"s3SchemaVersion", "configurationId", "bucket", "object"}
    assert s["s3SchemaVersion"] == "1.0"
    assert s["configurationId"] == config
    assert s["bucket"]["name"] == bucket
    assert s["bucket"]["arn"] == "arn:aws:s3:::" + bucket
    assert set(s["bucket"]) == {"name", "ownerIdentity", "arn"}
    assert set(s["bucket"]["ownerIdentity"]) == {"principalId"} and s["bucket"]["ownerIdentity"]["principalId"]
    o = s["object"]
    assert o["key"] == key
    assert re.match(r"^[0-9A-F]{16,}$", o["sequencer"]), o["sequencer"]
    want = {"key", "sequencer"}
    if size is not None:
        assert o["size"] == size
        want.add("size")
    if etag is not None:
        assert o["eTag"] == etag
        want.add("eTag")
    if version is not None:
        assert o["versionId"] == version
        want.add("versionId")
    assert set(o) == want, o
    return rec


def test_test_event_to_queue_and_topic(s3, bucket, dest):
    url, arn = dest.queue()
    topic, turl = dest.topic_to_queue()
    resp = s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration={
        "QueueConfigurations": [qconf(arn, ["s3:ObjectCreated:*"])],
        "TopicConfigurations": [{"TopicArn": topic, "Events": ["s3:ObjectRemoved:*"]}]})
    rid = resp["ResponseMetadata"]["RequestId"]
    q = json.loads(dest.drain(url)[0])
    assert list(q) == ["Service", "Event", "Time", "Bucket", "RequestId", "HostId"]
    assert q["Service"] == "Amazon S3" and q["Event"] == "s3:TestEvent" and q["Bucket"] == bucket
    assert ISO_MS.match(q["Time"]) and q["RequestId"] == rid
    assert q["HostId"] == resp["ResponseMetadata"]["HTTPHeaders"]["x-amz-id-2"]
    env = json.loads(dest.drain(turl)[0])  # SNS envelope around it
    assert env["Type"] == "Notification" and env["TopicArn"] == topic
    assert env["Subject"] == "Amazon S3 Notification"
    assert json.loads(env["Message"])["Event"] == "s3:TestEvent"


def test_put_object_event_shape(s3, bucket, dest):
    url = queue_for(s3, bucket, dest)
    r = s3.put_object(Bucket=bucket, Key="photos/my summer (1).jpg", Body=b"x" * 1234)
    rec, = dest.records(url)
    check_record(rec, bucket, "ObjectCreated:Put", "photos/my+summer+%281%29.jpg", size=1234,
                 etag=r["ETag"].strip('"'))
    # the request's ids, as the client saw them in the answer
    assert rec["responseElements"]["x-amz-request-id"] == r["ResponseMetadata"]["RequestId"]
    assert rec["responseElements"]["x-amz-id-2"] == r["ResponseMetadata"]["HTTPHeaders"]["x-amz-id-2"]
    # root caller and bucket owner show the same customer id (as AWS does for the root user)
    assert rec["userIdentity"]["principalId"] == rec["s3"]["bucket"]["ownerIdentity"]["principalId"]


def test_sequencer_increases_per_key(s3, bucket, dest):
    url = queue_for(s3, bucket, dest)
    for i in range(3):
        s3.put_object(Bucket=bucket, Key="k", Body=b"%d" % i)
    recs = dest.records(url, 3)
    seqs = [r["s3"]["object"]["sequencer"] for r in recs]
    assert len(seqs) == 3
    # AWS: compare as hex strings after left-padding to equal length
    n = max(map(len, seqs))
    padded = sorted(s.rjust(n, "0") for s in seqs)
    assert len(set(padded)) == 3
    assert [s.rjust(n, "0") for s in seqs] == padded  # delivered in write order here


def test_multipart_copy_delete(s3, bucket, dest):
    url = queue_for(s3, bucket, dest)
    up = s3.create_multipart_upload(Bucket=bucket, Key="big")["UploadId"]
    p1 = s3.upload_part(Bucket=bucket, Key="big", UploadId=up, PartNumber=1, Body=b"a" * (5 << 20))
    p2 = s3.upload_part(Bucket=bucket, Key="big", UploadId=up, PartNumber=2, Body=b"b" * 10)
    done = s3.complete_multipart_upload(Bucket=bucket, Key="big", UploadId=up, MultipartUpload={"Parts": [
        {"PartNumber": 1, "ETag": p1["ETag"]}, {"PartNumber": 2, "ETag": p2["ETag"]}]})
    rec, = dest.records(url)
    check_record(rec, bucket, "ObjectCreated:CompleteMultipartUpload", "big", size=(5 << 20) + 10,
                 etag=done["ETag"].strip('"'))
    assert rec["s3"]["object"]["eTag"].endswith("-2")

    cp = s3.copy_object(Bucket=bucket, Key="copy", CopySource={"Bucket": bucket, "Key": "big"})
    rec, = dest.records(url)
    check_record(rec, bucket, "ObjectCreated:Copy", "copy", size=(5 << 20) + 10,
                 etag=cp["CopyObjectResult"]["ETag"].strip('"'))

    s3.delete_object(Bucket=bucket, Key="copy")
    rec, = dest.records(url)
    check_record(rec, bucket, "ObjectRemoved:Delete", "copy")  # no size/eTag on removals

    s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": "big"}, {"Key": "never"}]})
    recs = dest.records(url, 2)
    assert sorted(r["s3"]["object"]["key"] for r in recs) == ["big", "never"]
    for r in recs:
        check_record(r, bucket, "ObjectRemoved:Delete", r["s3"]["object"]["key"])


def test_versioned_bucket_and_delete_markers(s3, bucket, dest):
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    url = queue_for(s3, bucket, dest)
    v = s3.put_object(Bucket=bucket, Key="doc.txt", Body=b"one")["VersionId"]
    rec, = dest.records(url)
    check_record(rec, bucket, "ObjectCreated:Put", "doc.txt", size=3,
                 etag="f97c5d29941bfb1b2fdab0874906ab82", version=v)
    d = s3.delete_object(Bucket=bucket, Key="doc.txt")
    assert d["DeleteMarker"]
    rec, = dest.records(url)
    check_record(rec, bucket, "ObjectRemoved:DeleteMarkerCreated", "doc.txt", version=d["VersionId"])
    # removing the marker by its id is a Delete of that version
    s3.delete_object(Bucket=bucket, Key="doc.txt", VersionId=d["VersionId"])
    rec, = dest.records(url)
    check_record(rec, bucket, "ObjectRemoved:Delete", "doc.txt", version=d["VersionId"])


def test_topic_delivery_with_subject(s3, bucket, dest):
    topic, turl = dest.topic_to_queue()
    configure(s3, bucket, TopicConfigurations=[{"Id": "t", "TopicArn": topic, "Events": ["s3:ObjectCreated:Put"]}])
    assert json.loads(json.loads(dest.drain(turl)[0])["Message"])["Event"] == "s3:TestEvent"
    s3.put_object(Bucket=bucket, Key="a b", Body=b"hello")
    env = json.loads(dest.drain(turl)[0])
    assert env["Subject"] == "Amazon S3 Notification" and env["TopicArn"] == topic
    rec, = json.loads(env["Message"])["Records"]
    check_record(rec, bucket, "ObjectCreated:Put", "a+b", size=5,
                 etag="5d41402abc4b2a76b9719d911017c592", config="t")


def test_prefix_suffix_filters(s3, bucket, dest):
    url_img, arn_img = dest.queue()
    url_log, arn_log = dest.queue()
    configure(s3, bucket, QueueConfigurations=[
        qconf(arn_img, ["s3:ObjectCreated:*"], prefix="images/", suffix=".jpg", id="img"),
        qconf(arn_log, ["s3:ObjectCreated:*"], prefix="logs/", id="log")])
    dest.drain(url_img), dest.drain(url_log)  # test events
    for k in ("images/a.jpg", "images/a.png", "other/b.jpg", "logs/x", "images.jpg", "logs/y.jpg"):
        s3.put_object(Bucket=bucket, Key=k, Body=b"1")
    img = dest.records(url_img, 1)
    log = dest.records(url_log, 2)
    assert [r["s3"]["object"]["key"] for r in img] == ["images/a.jpg"]
    assert img[0]["s3"]["configurationId"] == "img"
    assert sorted(r["s3"]["object"]["key"] for r in log) == ["logs/x", "logs/y.jpg"]
    assert dest.empty(url_img) and dest.empty(url_log)


def test_event_names_and_wildcards(s3, bucket, dest):
    put_url, put_arn = dest.queue()
    rm_url, rm_arn = dest.queue()
    tag_url, tag_arn = dest.queue()
    configure(s3, bucket, QueueConfigurations=[
        qconf(put_arn, ["s3:ObjectCreated:Put"]),        # Put only, not Copy
        qconf(rm_arn, ["s3:ObjectRemoved:*"]),
        qconf(tag_arn, ["s3:ObjectTagging:*"])])
    for u in (put_url, rm_url, tag_url):
        dest.drain(u)
    s3.put_object(Bucket=bucket, Key="k", Body=b"1")
    s3.copy_object(Bucket=bucket, Key="k2", CopySource={"Bucket": bucket, "Key": "k"})
    s3.put_object_tagging(Bucket=bucket, Key="k", Tagging={"TagSet": [{"Key": "a", "Value": "b"}]})
    s3.delete_object_tagging(Bucket=bucket, Key="k")
    s3.delete_object(Bucket=bucket, Key="k2")
    puts = dest.records(put_url, 1)
    assert [(r["eventName"], r["s3"]["object"]["key"]) for r in puts] == [("ObjectCreated:Put", "k")]
    rms = dest.records(rm_url, 1)
    assert [(r["eventName"], r["s3"]["object"]["key"]) for r in rms] == [("ObjectRemoved:Delete", "k2")]
    tags = dest.records(tag_url, 2)
    assert [r["eventName"] for r in tags] == ["ObjectTagging:Put", "ObjectTagging:Delete"]
    assert all(dest.empty(u, 0) for u in (put_url, rm_url, tag_url))


def test_no_configuration_no_events(s3, bucket, dest):
    url = queue_for(s3, bucket, dest)
    configure(s3, bucket)  # empty: notifications off
    s3.put_object(Bucket=bucket, Key="k", Body=b"1")
    assert dest.empty(url)


def test_post_object_event(s3, bucket, dest):
    url = queue_for(s3, bucket, dest)
    post = s3.generate_presigned_post(bucket, "uploads/${filename}")
    import urllib.parse  # noqa: F401
    boundary = "----nimbus" + uuid.uuid4().hex
    parts = []
    for k, v in post["fields"].items():
        parts.append('--%s\r\nContent-Disposition: form-data; name="%s"\r\n\r\n%s\r\n' % (boundary, k, v))
    body = "".join(parts).encode() + (
        '--%s\r\nContent-Disposition: form-data; name="file"; filename="f 1.txt"\r\n'
        'Content-Type: text/plain\r\n\r\n' % boundary).encode() + b"posted" + ("\r\n--%s--\r\n" % boundary).encode()
    req = urllib.request.Request(post["url"], data=body, method="POST",
                                 headers={"Content-Type": "multipart/form-data; boundary=" + boundary})
    with urllib.request.urlopen(req) as r:
        assert r.status == 204
        etag = r.headers["ETag"].strip('"')
    rec, = dest.records(url)
    assert rec["eventName"] == "ObjectCreated:Post"
    assert rec["s3"]["object"]["key"] == "uploads/f+1.txt"
    assert rec["s3"]["object"]["size"] == 6 and rec["s3"]["object"]["eTag"] == etag


def advance(nimbus, spec):
    req = urllib.request.Request(nimbus.endpoint + "/_nimbus/clock",
                                 data=json.dumps({"advance": spec}).encode(), method="POST")
    urllib.request.urlopen(req).read()


def test_lifecycle_expiration_event(nimbus, s3, bucket, dest):
    url = queue_for(s3, bucket, dest, events=["s3:LifecycleExpiration:*"])
    s3.put_object(Bucket=bucket, Key="tmp/old", Body=b"1")
    s3.put_bucket_lifecycle_configuration(Bucket=bucket, LifecycleConfiguration={"Rules": [
        {"ID": "exp", "Status": "Enabled", "Filter": {"Prefix": "tmp/"}, "Expiration": {"Days": 1}}]})
    advance(nimbus, "3d")
    recs = dest.records(url, 1, timeout=20)
    assert len(recs) == 1
    rec = recs[0]
    assert rec["eventName"] == "LifecycleExpiration:Delete"
    assert rec["s3"]["object"]["key"] == "tmp/old"
    assert rec["userIdentity"]["principalId"] == "s3.amazonaws.com"
    assert "size" not in rec["s3"]["object"]


def test_restore_events(nimbus, s3, bucket, dest):
    url = queue_for(s3, bucket, dest, events=["s3:ObjectRestore:*"])
    s3.put_object(Bucket=bucket, Key="cold/obj", Body=b"z" * 1000, StorageClass="GLACIER")
    r = s3.restore_object(Bucket=bucket, Key="cold/obj",
                          RestoreRequest={"Days": 2, "GlacierJobParameters": {"Tier": "Standard"}})
    assert r["ResponseMetadata"]["HTTPStatusCode"] == 202
    rec, = dest.records(url)
    check_record(rec, bucket, "ObjectRestore:Post", "cold/obj", size=1000,
                 etag=s3.head_object(Bucket=bucket, Key="cold/obj")["ETag"].strip('"'))
    assert rec["responseElements"]["x-amz-request-id"] == r["ResponseMetadata"]["RequestId"]
    advance(nimbus, "6h")  # Standard: 3-5 hours
    rec, = dest.records(url, timeout=20)
    assert rec["eventName"] == "ObjectRestore:Completed"
    assert rec["userIdentity"]["principalId"] == "s3.amazonaws.com"
    g = rec["glacierEventData"]["restoreEventData"]
    assert g["lifecycleRestoreStorageClass"] == "GLACIER"
    assert ISO_MS.match(g["lifecycleRestorationExpiryTime"])
    assert g["lifecycleRestorationExpiryTime"].endswith("T00:00:00.000Z")  # AWS rounds to midnight
    advance(nimbus, "4d")  # the restored copy expires
    rec, = dest.records(url, timeout=20)
    assert rec["eventName"] == "ObjectRestore:Delete"


def test_cli_upload_event(aws, s3, bucket, dest, tmp_path):
    url = queue_for(s3, bucket, dest)
    f = tmp_path / "report 2024.csv"
    f.write_bytes(b"a,b\n1,2\n")
    aws("s3", "cp", str(f), "s3://%s/reports/report 2024.csv" % bucket, parse=False)
    rec, = dest.records(url)
    check_record(rec, bucket, "ObjectCreated:Put", "reports/report+2024.csv", size=8,
                 etag=s3.head_object(Bucket=bucket, Key="reports/report 2024.csv")["ETag"].strip('"'))


def test_undeliverable_event_is_logged(nimbus, s3, bucket, dest):
    url = queue_for(s3, bucket, dest)
    dest.sqs.delete_queue(QueueUrl=url)
    # the write is still acknowledged; the lost event is named in the log
    s3.put_object(Bucket=bucket, Key="orphan-event", Body=b"1")
    log = nimbus.read_log()
    assert "event s3:ObjectCreated:Put of %s (key orphan-event" % bucket in log
    assert "does not exist" in log
