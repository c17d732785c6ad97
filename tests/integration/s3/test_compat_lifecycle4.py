"""Lifecycle details audited against AWS's documentation: a rule needs a Filter or a Prefix, And
joins two or more predicates, x-amz-transition-default-minimum-object-size (Sept 2024: objects
under 128 KiB are not transitioned by default; varies_by_storage_class still sends them to the
archive classes; a size filter overrides both), x-amz-abort-date / x-amz-abort-rule-id on
CreateMultipartUpload and ListParts. Time moves with the region clock (POST /_nimbus/clock) and
each check waits for the day's lifecycle pass to finish (GET /_nimbus/s3/lifecycle)."""
import json
import time
import urllib.request

import pytest
from botocore.exceptions import ClientError

from s3util import bucket, err, s3  # noqa: F401 (fixtures)

HDR = "x-amz-transition-default-minimum-object-size"
BIG = 200 * 1024


def advance(nimbus, spec):
    req = urllib.request.Request(nimbus.endpoint + "/_nimbus/clock",
                                 data=json.dumps({"advance": spec}).encode(), method="POST")
    with urllib.request.urlopen(req) as r:
        return json.loads(r.read())


def region_now(nimbus):
    with urllib.request.urlopen(nimbus.endpoint + "/_nimbus/clock") as r:
        return json.loads(r.read())["epoch"]


def pass_done(nimbus, timeout=20):
    """Wait until the lifecycle pass of the current region day has finished."""
    day = int(region_now(nimbus)) // 86400
    deadline = time.time() + timeout
    while time.time() < deadline:
        with urllib.request.urlopen(nimbus.endpoint + "/_nimbus/s3/lifecycle") as r:
            st = json.loads(r.read())
        if not st["in_progress"] and st["done_day"] >= day:
            return st
        time.sleep(0.1)
    raise AssertionError("the lifecycle pass of day %d did not finish" % day)


def put_rules(s3, b, rules, min_size=None):
    """PutBucketLifecycleConfiguration, with the 2024 header when min_size is given (botocore
    1.29 does not model it): returns the response headers."""
    def add(request, **kw):
        request.headers[HDR] = min_size
    if min_size is not None:
        s3.meta.events.register("before-sign.s3.PutBucketLifecycleConfiguration", add)
    try:
        r = s3.put_bucket_lifecycle_configuration(Bucket=b, LifecycleConfiguration={"Rules": rules})
    finally:
        if min_size is not None:
            s3.meta.events.unregister("before-sign.s3.PutBucketLifecycleConfiguration", add)
    return r["ResponseMetadata"]["HTTPHeaders"]


def lc_error(s3, b, rules):
    with pytest.raises(ClientError) as e:
        put_rules(s3, b, rules)
    return err(e) + (e.value.response["Error"]["Message"],)


MALFORMED = "The XML you provided was not well-formed or did not validate against our published schema"


def test_rule_needs_a_filter_or_a_prefix(s3, bucket):
    # AWS: Filter is required when the rule has no Prefix; neither is not "the whole bucket"
    assert lc_error(s3, bucket, [{"ID": "x", "Status": "Enabled", "Expiration": {"Days": 1}}]) == \
        (400, "MalformedXML", MALFORMED)
    # both at once is refused too
    assert lc_error(s3, bucket, [{"ID": "x", "Status": "Enabled", "Prefix": "a", "Filter": {},
                                  "Expiration": {"Days": 1}}])[:2] == (400, "MalformedXML")
    put_rules(s3, bucket, [{"ID": "x", "Status": "Enabled", "Filter": {}, "Expiration": {"Days": 1}}])
    put_rules(s3, bucket, [{"ID": "x", "Status": "Enabled", "Prefix": "", "Expiration": {"Days": 1}}])


@pytest.mark.parametrize("and_", [{"Prefix": "a/"}, {"Tags": [{"Key": "k", "Value": "v"}]},
                                  {"ObjectSizeGreaterThan": 10}])
def test_and_with_one_predicate_is_malformed(s3, bucket, and_):
    assert lc_error(s3, bucket, [{"ID": "x", "Status": "Enabled", "Filter": {"And": and_},
                                  "Expiration": {"Days": 1}}])[:2] == (400, "MalformedXML")


@pytest.mark.parametrize("and_", [
    {"Prefix": "a/", "Tags": [{"Key": "k", "Value": "v"}]},
    {"Tags": [{"Key": "k", "Value": "v"}, {"Key": "j", "Value": "w"}]},
    {"ObjectSizeGreaterThan": 10, "ObjectSizeLessThan": 100},
    {"Prefix": "", "ObjectSizeGreaterThan": 10}])
def test_and_with_two_predicates(s3, bucket, and_):
    put_rules(s3, bucket, [{"ID": "x", "Status": "Enabled", "Filter": {"And": and_},
                            "Expiration": {"Days": 1}}])
    got = s3.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"][0]["Filter"]["And"]
    assert got == and_ or (and_.get("Prefix") == "" and got.get("ObjectSizeGreaterThan") == 10)


def test_minimum_object_size_header_round_trip(s3, bucket):
    rule = [{"ID": "g", "Status": "Enabled", "Filter": {},
             "Transitions": [{"Days": 1, "StorageClass": "GLACIER"}]}]
    # the default is answered on PUT and GET
    assert put_rules(s3, bucket, rule)[HDR] == "all_storage_classes_128K"
    got = s3.get_bucket_lifecycle_configuration(Bucket=bucket)
    assert got["ResponseMetadata"]["HTTPHeaders"][HDR] == "all_storage_classes_128K"
    assert put_rules(s3, bucket, rule, "varies_by_storage_class")[HDR] == "varies_by_storage_class"
    got = s3.get_bucket_lifecycle_configuration(Bucket=bucket)
    assert got["ResponseMetadata"]["HTTPHeaders"][HDR] == "varies_by_storage_class"
    assert got["Rules"][0]["Transitions"] == [{"Days": 1, "StorageClass": "GLACIER"}]
    assert put_rules(s3, bucket, rule, "all_storage_classes_128K")[HDR] == "all_storage_classes_128K"
    got = s3.get_bucket_lifecycle_configuration(Bucket=bucket)
    assert got["ResponseMetadata"]["HTTPHeaders"][HDR] == "all_storage_classes_128K"
    with pytest.raises(ClientError) as e:
        put_rules(s3, bucket, rule, "64K")
    assert err(e) == (400, "InvalidArgument")


def classes(s3, b):
    return {o["Key"]: o["StorageClass"] for o in s3.list_objects_v2(Bucket=b)["Contents"]}


def test_small_objects_not_transitioned_by_default(nimbus, s3, bucket):
    put_rules(s3, bucket, [
        {"ID": "g", "Status": "Enabled", "Filter": {"Prefix": "g/"},
         "Transitions": [{"Days": 1, "StorageClass": "GLACIER"}]},
        {"ID": "ir", "Status": "Enabled", "Filter": {"Prefix": "ir/"},
         "Transitions": [{"Days": 1, "StorageClass": "GLACIER_IR"}]},
        # a size filter below 128 KiB lets small objects go (either bound)
        {"ID": "lt", "Status": "Enabled", "Filter": {"And": {"Prefix": "lt/", "ObjectSizeLessThan": 4096}},
         "Transitions": [{"Days": 1, "StorageClass": "GLACIER_IR"}]},
        {"ID": "gt", "Status": "Enabled", "Filter": {"And": {"Prefix": "gt/", "ObjectSizeGreaterThan": 10}},
         "Transitions": [{"Days": 1, "StorageClass": "GLACIER_IR"}]}])
    for k in ("g/small", "ir/small", "lt/small", "gt/small"):
        s3.put_object(Bucket=bucket, Key=k, Body=b"s" * 1000)
    s3.put_object(Bucket=bucket, Key="g/big", Body=b"b" * BIG)
    advance(nimbus, "3d")
    pass_done(nimbus)
    assert classes(s3, bucket) == {"g/big": "GLACIER", "g/small": "STANDARD",
                                   "ir/small": "STANDARD", "lt/small": "GLACIER_IR",
                                   "gt/small": "GLACIER_IR"}


def test_varies_by_storage_class_sends_small_objects_to_archive_only(nimbus, s3, bucket):
    put_rules(s3, bucket, [
        {"ID": "g", "Status": "Enabled", "Filter": {"Prefix": "g/"},
         "Transitions": [{"Days": 1, "StorageClass": "GLACIER"}]},
        {"ID": "d", "Status": "Enabled", "Filter": {"Prefix": "d/"},
         "Transitions": [{"Days": 1, "StorageClass": "DEEP_ARCHIVE"}]},
        {"ID": "ir", "Status": "Enabled", "Filter": {"Prefix": "ir/"},
         "Transitions": [{"Days": 1, "StorageClass": "GLACIER_IR"}]},
        {"ID": "ia", "Status": "Enabled", "Filter": {"Prefix": "ia/"},
         "Transitions": [{"Days": 30, "StorageClass": "STANDARD_IA"}]}],
        min_size="varies_by_storage_class")
    for k in ("g/small", "d/small", "ir/small", "ia/small"):
        s3.put_object(Bucket=bucket, Key=k, Body=b"s" * 1000)
    advance(nimbus, "32d")
    pass_done(nimbus)
    assert classes(s3, bucket) == {"g/small": "GLACIER", "d/small": "DEEP_ARCHIVE",
                                   "ir/small": "STANDARD", "ia/small": "STANDARD"}
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket=bucket, Key="g/small")
    assert err(e) == (403, "InvalidObjectState")


def http_date(t):
    return time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime(t))


def test_abort_date_on_create_and_list_parts(s3, bucket):
    put_rules(s3, bucket, [
        {"ID": "slow", "Status": "Enabled", "Filter": {"Prefix": "up/"},
         "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 7}},
        {"ID": "fast", "Status": "Enabled", "Filter": {"Prefix": "up/fast/"},
         "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 2}},
        {"ID": "off", "Status": "Disabled", "Filter": {"Prefix": "off/"},
         "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 1}}])
    r = s3.create_multipart_upload(Bucket=bucket, Key="up/a")
    init = [u for u in s3.list_multipart_uploads(Bucket=bucket)["Uploads"]
            if u["UploadId"] == r["UploadId"]][0]["Initiated"].timestamp()
    due = (int(init + 7 * 86400) // 86400 + 1) * 86400  # the midnight after initiation + 7 days
    h = r["ResponseMetadata"]["HTTPHeaders"]
    assert h["x-amz-abort-date"] == http_date(due) and r["AbortRuleId"] == "slow"
    assert r["AbortDate"].timestamp() == due
    parts = s3.list_parts(Bucket=bucket, Key="up/a", UploadId=r["UploadId"])
    assert parts["AbortRuleId"] == "slow" and parts["AbortDate"].timestamp() == due
    # the earliest of the matching rules
    r = s3.create_multipart_upload(Bucket=bucket, Key="up/fast/b")
    assert r["AbortRuleId"] == "fast"
    # no enabled rule for the key: no headers
    for key in ("off/c", "other"):
        r = s3.create_multipart_upload(Bucket=bucket, Key=key)
        assert "AbortDate" not in r and "AbortRuleId" not in r
        assert "AbortRuleId" not in s3.list_parts(Bucket=bucket, Key=key, UploadId=r["UploadId"])


def raw_listing(s3, op, header=None, **kw):
    """The XML a listing answered (botocore 1.29 does not model RestoreStatus), sending
    x-amz-optional-object-attributes when header is given."""
    import xml.etree.ElementTree as ET
    got = {}

    def add(request, **_):
        request.headers["x-amz-optional-object-attributes"] = header

    def keep(http_response, **_):
        got["xml"] = http_response.content

    name = {"list_objects_v2": "ListObjectsV2", "list_objects": "ListObjects",
            "list_object_versions": "ListObjectVersions"}[op]
    if header is not None:
        s3.meta.events.register("before-sign.s3.%s" % name, add)
    s3.meta.events.register("after-call.s3.%s" % name, keep)
    try:
        getattr(s3, op)(**kw)
    finally:
        if header is not None:
            s3.meta.events.unregister("before-sign.s3.%s" % name, add)
        s3.meta.events.unregister("after-call.s3.%s" % name, keep)
    ns = "{http://s3.amazonaws.com/doc/2006-03-01/}"
    out = {}
    for entry in ET.fromstring(got["xml"]):
        if entry.tag not in (ns + "Contents", ns + "Version"):
            continue
        rs = entry.find(ns + "RestoreStatus")
        out[entry.find(ns + "Key").text] = None if rs is None else {
            c.tag[len(ns):]: c.text for c in rs}
    return out


def test_list_restore_status(nimbus, s3, bucket):
    s3.put_object(Bucket=bucket, Key="cold", Body=b"c" * 100, StorageClass="GLACIER")
    s3.put_object(Bucket=bucket, Key="deep", Body=b"d" * 100, StorageClass="DEEP_ARCHIVE")
    s3.put_object(Bucket=bucket, Key="hot", Body=b"h")
    none = {"cold": None, "deep": None, "hot": None}
    # never restored: no RestoreStatus, asked or not
    assert raw_listing(s3, "list_objects_v2", "RestoreStatus", Bucket=bucket) == none
    s3.restore_object(Bucket=bucket, Key="cold", RestoreRequest={"Days": 1})  # Standard: 3-5 h
    for op in ("list_objects_v2", "list_objects", "list_object_versions"):
        assert raw_listing(s3, op, "RestoreStatus", Bucket=bucket) == \
            {"cold": {"IsRestoreInProgress": "true"}, "deep": None, "hot": None}
        assert raw_listing(s3, op, Bucket=bucket) == none  # only when asked
    advance(nimbus, "6h")
    st = raw_listing(s3, "list_objects_v2", "RestoreStatus", Bucket=bucket)["cold"]
    expiry = s3.head_object(Bucket=bucket, Key="cold")["Restore"].split('expiry-date="')[1][:-1]
    assert st["IsRestoreInProgress"] == "false"
    assert time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.strptime(
        st["RestoreExpiryDate"], "%Y-%m-%dT%H:%M:%S.000Z")) == expiry
    with pytest.raises(ClientError) as e:
        raw_listing(s3, "list_objects_v2", "Owner", Bucket=bucket)
    assert err(e) == (400, "InvalidArgument")


# ---- event notifications of lifecycle actions

from test_events import Dest, queue_for  # noqa: E402


@pytest.fixture
def dest(boto):
    return Dest(boto)


def test_lifecycle_events_name_the_marker_and_the_transition(nimbus, s3, bucket, dest):
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    url = queue_for(s3, bucket, dest, events=["s3:LifecycleExpiration:*", "s3:LifecycleTransition"])
    v = s3.put_object(Bucket=bucket, Key="tmp/x", Body=b"1")["VersionId"]
    big = s3.put_object(Bucket=bucket, Key="arch/y", Body=b"y" * BIG)
    put_rules(s3, bucket, [
        {"ID": "exp", "Status": "Enabled", "Filter": {"Prefix": "tmp/"}, "Expiration": {"Days": 1}},
        {"ID": "tr", "Status": "Enabled", "Filter": {"Prefix": "arch/"},
         "Transitions": [{"Days": 1, "StorageClass": "GLACIER_IR"}]}])
    advance(nimbus, "3d")
    pass_done(nimbus)
    recs = {r["eventName"]: r for r in dest.records(url, 2, timeout=20)}
    assert set(recs) == {"LifecycleExpiration:DeleteMarkerCreated", "LifecycleTransition"}
    # the record carries the delete marker's version id (as ObjectRemoved:DeleteMarkerCreated does)
    marker = s3.list_object_versions(Bucket=bucket, Prefix="tmp/")["DeleteMarkers"][0]["VersionId"]
    o = recs["LifecycleExpiration:DeleteMarkerCreated"]["s3"]["object"]
    assert o["key"] == "tmp/x" and o["versionId"] == marker != v
    t = recs["LifecycleTransition"]
    assert t["userIdentity"]["principalId"] == "s3.amazonaws.com"
    assert t["s3"]["object"]["key"] == "arch/y" and t["s3"]["object"]["versionId"] == big["VersionId"]
    assert t["s3"]["object"]["size"] == BIG and t["s3"]["object"]["eTag"] == big["ETag"].strip('"')


def test_eventbridge_configuration_not_implemented(s3, bucket):
    # no EventBridge service to deliver to: refused rather than stored and never honoured
    with pytest.raises(ClientError) as e:
        s3.put_bucket_notification_configuration(
            Bucket=bucket, NotificationConfiguration={"EventBridgeConfiguration": {}})
    assert err(e) == (501, "NotImplemented")
    assert "EventBridgeConfiguration" not in s3.get_bucket_notification_configuration(Bucket=bucket)


def test_expired_object_delete_marker_flag(nimbus, s3, bucket, dest):
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    url = queue_for(s3, bucket, dest, events=["s3:LifecycleExpiration:*"])
    put_rules(s3, bucket, [
        {"ID": "m", "Status": "Enabled", "Filter": {"Prefix": "m/"},
         "Expiration": {"ExpiredObjectDeleteMarker": True},
         "NoncurrentVersionExpiration": {"NoncurrentDays": 2}}])
    s3.put_object(Bucket=bucket, Key="m/a", Body=b"1")
    marker = s3.delete_object(Bucket=bucket, Key="m/a")["VersionId"]
    s3.delete_object(Bucket=bucket, Key="m/lone")  # a marker with nothing under it
    s3.delete_object(Bucket=bucket, Key="x/lone")  # outside the rule
    advance(nimbus, "1d")
    pass_done(nimbus)
    # the lone marker goes; m/a's marker still has a noncurrent version under it
    markers = lambda: sorted(m["Key"] for m in  # noqa: E731
                             s3.list_object_versions(Bucket=bucket).get("DeleteMarkers", []))
    assert markers() == ["m/a", "x/lone"]
    advance(nimbus, "2d")
    pass_done(nimbus)  # the noncurrent version expires ...
    assert [v["Key"] for v in s3.list_object_versions(Bucket=bucket).get("Versions", [])] == []
    advance(nimbus, "1d")
    pass_done(nimbus)  # ... and then its marker is expired
    assert markers() == ["x/lone"]
    recs = dest.records(url, 3, timeout=20)
    assert sorted((r["eventName"], r["s3"]["object"]["key"]) for r in recs) == [
        ("LifecycleExpiration:Delete", "m/a"), ("LifecycleExpiration:Delete", "m/a"),
        ("LifecycleExpiration:Delete", "m/lone")]
    assert marker in [r["s3"]["object"].get("versionId") for r in recs]


def tr(*pairs):
    return [{"Days": d, "StorageClass": c} for d, c in pairs]


@pytest.mark.parametrize("transitions,ok", [
    (tr((0, "GLACIER_IR")), True),                       # Days 0 is allowed outside the IA classes
    (tr((0, "GLACIER")), True),
    (tr((29, "STANDARD_IA")), False),                    # IA classes: at least 30 days
    (tr((29, "ONEZONE_IA")), False),
    (tr((30, "STANDARD_IA"), (60, "GLACIER_IR"), (150, "GLACIER"), (240, "DEEP_ARCHIVE")), True),
    (tr((30, "STANDARD_IA"), (59, "GLACIER")), False),   # 30 days in IA before going further
    (tr((30, "INTELLIGENT_TIERING"), (31, "GLACIER")), True),
    (tr((90, "GLACIER"), (100, "GLACIER_IR")), False),   # down the waterfall only
    (tr((90, "DEEP_ARCHIVE"), (100, "GLACIER")), False),
    (tr((90, "GLACIER"), (90, "DEEP_ARCHIVE")), False),  # strictly later
    (tr((30, "GLACIER"), (40, "GLACIER")), False),       # one transition per class
])
def test_transition_waterfall(s3, bucket, transitions, ok):
    rules = [{"ID": "w", "Status": "Enabled", "Filter": {}, "Transitions": transitions}]
    nc = [{"ID": "n", "Status": "Enabled", "Filter": {}, "NoncurrentVersionTransitions": [
        {"NoncurrentDays": t["Days"], "StorageClass": t["StorageClass"]} for t in transitions]}]
    for r in (rules, nc):
        if ok:
            put_rules(s3, bucket, r)
        else:
            assert lc_error(s3, bucket, r)[:2] in ((400, "InvalidArgument"), (400, "InvalidRequest"))


def test_abort_rule_id_stays_one_header_line(s3, bucket):
    # a rule ID may hold a line break (XML carries it): it must not split the response headers
    put_rules(s3, bucket, [{"ID": "line\nbreak \u00e9", "Status": "Enabled", "Filter": {},
                            "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 1}}])
    r = s3.create_multipart_upload(Bucket=bucket, Key="k")
    assert r["AbortRuleId"] == "line%0Abreak %C3%A9"
    assert "break" not in "".join(k for k in r["ResponseMetadata"]["HTTPHeaders"])


def test_copy_object_storage_classes(s3, bucket):
    s3.put_object(Bucket=bucket, Key="src", Body=b"abc")
    for c in ("STANDARD", "REDUCED_REDUNDANCY", "STANDARD_IA", "ONEZONE_IA", "INTELLIGENT_TIERING",
              "GLACIER_IR", "GLACIER", "DEEP_ARCHIVE"):
        s3.copy_object(Bucket=bucket, Key="c-" + c, CopySource={"Bucket": bucket, "Key": "src"},
                       StorageClass=c)
        assert s3.head_object(Bucket=bucket, Key="c-" + c).get("StorageClass") == \
            (None if c == "STANDARD" else c)
        if c in ("GLACIER", "DEEP_ARCHIVE"):
            with pytest.raises(ClientError) as e:
                s3.get_object(Bucket=bucket, Key="c-" + c)
            assert err(e) == (403, "InvalidObjectState")
        else:
            assert s3.get_object(Bucket=bucket, Key="c-" + c)["Body"].read() == b"abc"
    # classes of other bucket kinds (Outposts, Snow, directory buckets) and made-up ones
    for bad in ("OUTPOSTS", "SNOW", "EXPRESS_ONEZONE", "glacier", "COLD"):
        with pytest.raises(ClientError) as e:
            s3.copy_object(Bucket=bucket, Key="bad", CopySource={"Bucket": bucket, "Key": "src"},
                           StorageClass=bad)
        assert err(e) == (400, "InvalidStorageClass")
        assert e.value.response["Error"]["StorageClassRequested"] == bad


def test_stored_rules_without_filter_still_apply(nimbus_factory):
    # earlier versions accepted a rule with neither Filter nor Prefix (as the whole bucket); a
    # data directory holding one keeps its rules after the stricter validation
    import os
    import sqlite3
    from conftest import client
    srv = nimbus_factory()
    c = client(srv, "s3")
    c.create_bucket(Bucket="old-rules")
    put_rules(c, "old-rules", [{"ID": "old", "Status": "Enabled", "Filter": {},
                                "Expiration": {"Days": 1}}])
    srv.stop()
    db = sqlite3.connect(os.path.join(srv.data_dir, "s3", "s3.db"))
    try:
        rules = json.loads(db.execute("SELECT rules FROM s3_lifecycle").fetchone()[0])
        del rules[0]["Filter"]
        db.execute("UPDATE s3_lifecycle SET rules=?", (json.dumps(rules),))
        db.commit()
    finally:
        db.close()
    srv.start()
    c = client(srv, "s3")
    assert 'rule-id="old"' in c.put_object(Bucket="old-rules", Key="k", Body=b"x")["Expiration"]
    assert "Filter" not in c.get_bucket_lifecycle_configuration(Bucket="old-rules")["Rules"][0]


def test_object_acl_put_event(s3, bucket, dest):
    # s3:ObjectAcl:Put is accepted in configurations: PutObjectAcl delivers it
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    s3.put_bucket_ownership_controls(Bucket=bucket, OwnershipControls={
        "Rules": [{"ObjectOwnership": "BucketOwnerPreferred"}]})
    url = queue_for(s3, bucket, dest, events=["s3:ObjectAcl:Put"])
    v1 = s3.put_object(Bucket=bucket, Key="a b", Body=b"1")["VersionId"]
    s3.put_object(Bucket=bucket, Key="a b", Body=b"2")
    s3.put_object_acl(Bucket=bucket, Key="a b", VersionId=v1, ACL="private")
    rec, = dest.records(url)
    assert rec["eventName"] == "ObjectAcl:Put"
    assert rec["s3"]["object"]["key"] == "a+b" and rec["s3"]["object"]["versionId"] == v1
    assert rec["s3"]["configurationId"] == "cfg-1"
    assert dest.empty(url)  # the PUTs made none
