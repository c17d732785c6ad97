"""Lifecycle: Put/Get/DeleteBucketLifecycleConfiguration with AWS's validation, x-amz-expiration,
and rules that really run on the region clock (POST /_nimbus/clock): expiration, transitions to
the archive tier, noncurrent versions, delete markers, incomplete multipart uploads."""
import glob
import json
import os
import time
import urllib.request

import pytest
from botocore.exceptions import ClientError

from s3util import bucket, err, s3  # noqa: F401 (fixtures)

BIG = 200 * 1024  # over the 128 KiB below which AWS does not transition by default


def advance(nimbus, spec):
    req = urllib.request.Request(nimbus.endpoint + "/_nimbus/clock",
                                 data=json.dumps({"advance": spec}).encode(), method="POST")
    with urllib.request.urlopen(req) as r:
        return json.loads(r.read())


def wait_for(pred, timeout=15):
    deadline = time.time() + timeout
    while time.time() < deadline:
        v = pred()
        if v:
            return v
        time.sleep(0.1)
    return pred()


def keys(s3, b):
    return [o["Key"] for o in s3.list_objects_v2(Bucket=b).get("Contents", [])]


def put_rules(s3, b, rules):
    s3.put_bucket_lifecycle_configuration(Bucket=b, LifecycleConfiguration={"Rules": rules})


def test_config_roundtrip_and_delete(s3, bucket):
    with pytest.raises(ClientError) as e:
        s3.get_bucket_lifecycle_configuration(Bucket=bucket)
    assert err(e) == (404, "NoSuchLifecycleConfiguration")
    rules = [
        {"ID": "logs", "Status": "Enabled", "Filter": {"Prefix": "logs/"},
         "Transitions": [{"Days": 30, "StorageClass": "STANDARD_IA"},
                         {"Days": 90, "StorageClass": "GLACIER"}],
         "Expiration": {"Days": 365}},
        {"ID": "tagged", "Status": "Disabled",
         "Filter": {"And": {"Prefix": "a/", "Tags": [{"Key": "k", "Value": "v"}],
                            "ObjectSizeGreaterThan": 10, "ObjectSizeLessThan": 1000}},
         "NoncurrentVersionTransitions": [{"NoncurrentDays": 30, "StorageClass": "GLACIER_IR",
                                           "NewerNoncurrentVersions": 2}],
         "NoncurrentVersionExpiration": {"NoncurrentDays": 60, "NewerNoncurrentVersions": 3}},
        {"ID": "mpu", "Status": "Enabled", "Filter": {"Prefix": ""},
         "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 7},
         "Expiration": {"ExpiredObjectDeleteMarker": True}},
        {"ID": "dated", "Status": "Enabled", "Filter": {"Tag": {"Key": "t", "Value": "1"}},
         "Expiration": {"Date": "2030-01-01T00:00:00Z"}},
        {"Status": "Enabled", "Prefix": "legacy/", "Expiration": {"Days": 3}},
    ]
    put_rules(s3, bucket, rules)
    got = s3.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"]
    assert [r.get("ID") for r in got][:4] == ["logs", "tagged", "mpu", "dated"]
    assert got[4]["ID"]  # generated, as AWS does
    assert got[0]["Transitions"][1] == {"Days": 90, "StorageClass": "GLACIER"}
    assert got[1]["Filter"]["And"]["Tags"] == [{"Key": "k", "Value": "v"}]
    assert got[1]["NoncurrentVersionExpiration"] == {"NoncurrentDays": 60,
                                                      "NewerNoncurrentVersions": 3}
    assert got[3]["Expiration"]["Date"].year == 2030
    assert got[4]["Prefix"] == "legacy/"
    s3.delete_bucket_lifecycle(Bucket=bucket)
    with pytest.raises(ClientError) as e:
        s3.get_bucket_lifecycle_configuration(Bucket=bucket)
    assert err(e) == (404, "NoSuchLifecycleConfiguration")


@pytest.mark.parametrize("rule,code,msg", [
    ({"Status": "Enabled", "Filter": {}, "Transitions": [{"Days": 10, "StorageClass": "STANDARD_IA"}]},
     "InvalidArgument", "'Days' for Transition action must be at least 30 for storageClass STANDARD_IA"),
    ({"Status": "Enabled", "Filter": {}, "Expiration": {"Days": 0}},
     "InvalidArgument", "'Days' for Expiration action must be a positive integer"),
    ({"Status": "Maybe", "Filter": {}, "Expiration": {"Days": 1}}, "MalformedXML", None),
    ({"Status": "Enabled", "Filter": {}}, "InvalidRequest",
     "At least one action needs to be specified in a rule"),
    ({"Status": "Enabled", "Filter": {"Prefix": "a", "Tag": {"Key": "k", "Value": "v"}},
      "Expiration": {"Days": 1}}, "MalformedXML", None),
    ({"Status": "Enabled", "Filter": {}, "Expiration": {"Date": "2030-01-01T12:00:00Z"}},
     "InvalidArgument", "'Date' must be at midnight GMT"),
    ({"Status": "Enabled", "Filter": {}, "Transitions": [{"Days": 40, "StorageClass": "GLACIER"}],
      "Expiration": {"Days": 30}}, "InvalidArgument", None),
    ({"Status": "Enabled", "Filter": {}, "Transitions": [
        {"Days": 30, "StorageClass": "STANDARD_IA"}, {"Days": 40, "StorageClass": "GLACIER"}]},
     "InvalidArgument", None),
    ({"Status": "Enabled", "Filter": {"Tag": {"Key": "k", "Value": "v"}},
      "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 1}}, "InvalidRequest", None),
    ({"Status": "Enabled", "Filter": {}, "NoncurrentVersionExpiration": {"NoncurrentDays": 0}},
     "InvalidArgument", None),
    ({"Status": "Enabled", "Filter": {}, "NoncurrentVersionExpiration":
      {"NoncurrentDays": 5, "NewerNoncurrentVersions": 101}}, "InvalidArgument", None),
    ({"ID": "x" * 256, "Status": "Enabled", "Filter": {}, "Expiration": {"Days": 1}},
     "InvalidArgument", "ID length should not exceed allowed limit of 255"),
])
def test_validation(s3, bucket, rule, code, msg):
    with pytest.raises(ClientError) as e:
        put_rules(s3, bucket, [rule])
    assert err(e) == (400, code)
    if msg:
        assert e.value.response["Error"]["Message"] == msg


def test_validation_ids_and_count(s3, bucket):
    r = {"ID": "same", "Status": "Enabled", "Filter": {}, "Expiration": {"Days": 1}}
    with pytest.raises(ClientError) as e:
        put_rules(s3, bucket, [r, dict(r)])
    assert err(e) == (400, "InvalidArgument")
    many = [{"ID": "r%d" % i, "Status": "Enabled", "Filter": {"Prefix": "p%d/" % i},
             "Expiration": {"Days": 1}} for i in range(1001)]
    with pytest.raises(ClientError) as e:
        put_rules(s3, bucket, many)
    assert err(e)[0] == 400
    put_rules(s3, bucket, many[:1000])
    assert len(s3.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"]) == 1000


def test_expiration_header_names_the_rule(s3, bucket):
    put_rules(s3, bucket, [
        {"ID": "short", "Status": "Enabled", "Filter": {"Prefix": "tmp/"}, "Expiration": {"Days": 1}},
        {"ID": "long rule", "Status": "Enabled", "Filter": {}, "Expiration": {"Days": 30}}])
    r = s3.put_object(Bucket=bucket, Key="tmp/a", Body=b"x")
    assert 'rule-id="short"' in r["Expiration"]
    lm = s3.head_object(Bucket=bucket, Key="tmp/a")["LastModified"].timestamp()
    due = (int(lm + 86400) // 86400 + 1) * 86400  # midnight UTC after creation + 1 day
    stamp = time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime(due))
    assert r["Expiration"] == 'expiry-date="%s", rule-id="short"' % stamp
    assert s3.head_object(Bucket=bucket, Key="tmp/a")["Expiration"] == r["Expiration"]
    assert s3.get_object(Bucket=bucket, Key="tmp/a")["Expiration"] == r["Expiration"]
    assert 'rule-id="long%20rule"' in s3.put_object(Bucket=bucket, Key="b", Body=b"x")["Expiration"]
    s3.delete_bucket_lifecycle(Bucket=bucket)
    assert "Expiration" not in s3.head_object(Bucket=bucket, Key="tmp/a")


def test_one_day_expiration_after_two_days(nimbus, s3, bucket):
    put_rules(s3, bucket, [{"ID": "exp", "Status": "Enabled", "Filter": {"Prefix": "tmp/"},
                            "Expiration": {"Days": 1}}])
    s3.put_object(Bucket=bucket, Key="tmp/gone", Body=b"x" * 1000)
    s3.put_object(Bucket=bucket, Key="keep/me", Body=b"y")
    advance(nimbus, "1h")
    time.sleep(0.3)
    assert "tmp/gone" in keys(s3, bucket)
    advance(nimbus, "2d")
    assert wait_for(lambda: keys(s3, bucket) == ["keep/me"])
    with pytest.raises(ClientError) as e:
        s3.head_object(Bucket=bucket, Key="tmp/gone")
    assert err(e)[0] == 404


def test_filters_tags_and_sizes(nimbus, s3, bucket):
    put_rules(s3, bucket, [
        {"ID": "t", "Status": "Enabled", "Filter": {"Tag": {"Key": "kill", "Value": "yes"}},
         "Expiration": {"Days": 1}},
        {"ID": "s", "Status": "Enabled",
         "Filter": {"And": {"Prefix": "sz/", "ObjectSizeGreaterThan": 100,
                            "ObjectSizeLessThan": 1000}},
         "Expiration": {"Days": 1}},
        {"ID": "off", "Status": "Disabled", "Filter": {}, "Expiration": {"Days": 1}}])
    s3.put_object(Bucket=bucket, Key="tagged", Body=b"x", Tagging="kill=yes")
    s3.put_object(Bucket=bucket, Key="other-tag", Body=b"x", Tagging="kill=no")
    s3.put_object(Bucket=bucket, Key="sz/small", Body=b"x" * 10)
    s3.put_object(Bucket=bucket, Key="sz/mid", Body=b"x" * 500)
    s3.put_object(Bucket=bucket, Key="sz/large", Body=b"x" * 2000)
    advance(nimbus, "3d")
    assert wait_for(lambda: keys(s3, bucket) == ["other-tag", "sz/large", "sz/small"])


def test_date_expiration(nimbus, s3, bucket):
    s3.put_object(Bucket=bucket, Key="d", Body=b"x")
    now = json.loads(urllib.request.urlopen(nimbus.endpoint + "/_nimbus/clock").read())["epoch"]
    day = (int(now) // 86400 + 2) * 86400
    date = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(day))
    put_rules(s3, bucket, [{"ID": "d", "Status": "Enabled", "Filter": {}, "Expiration": {"Date": date}}])
    advance(nimbus, "1d")
    time.sleep(0.5)
    assert keys(s3, bucket) == ["d"]
    advance(nimbus, "2d")
    assert wait_for(lambda: keys(s3, bucket) == [])


def test_transition_to_glacier_and_restore(nimbus, s3, bucket):
    body = os.urandom(BIG // 2) * 2
    put_rules(s3, bucket, [{"ID": "arch", "Status": "Enabled", "Filter": {"Prefix": "cold/"},
                            "Transitions": [{"Days": 30, "StorageClass": "GLACIER"}]}])
    s3.put_object(Bucket=bucket, Key="cold/obj", Body=body)
    s3.put_object(Bucket=bucket, Key="cold/tiny", Body=b"t")  # under 128 KiB: stays
    assert s3.get_object(Bucket=bucket, Key="cold/obj")["Body"].read() == body
    advance(nimbus, "32d")
    assert wait_for(lambda: s3.head_object(Bucket=bucket, Key="cold/obj").get("StorageClass") == "GLACIER")
    assert "StorageClass" not in s3.head_object(Bucket=bucket, Key="cold/tiny")
    listed = {o["Key"]: o["StorageClass"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]}
    assert listed == {"cold/obj": "GLACIER", "cold/tiny": "STANDARD"}
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket=bucket, Key="cold/obj")
    assert err(e) == (403, "InvalidObjectState")
    # the bytes really moved: an archive file, compressed, and no hot content file for it
    archive = os.path.join(nimbus.data_dir, "s3", "archive")
    assert wait_for(lambda: glob.glob(archive + "/*/*"))
    files = glob.glob(archive + "/*/*")
    assert len(files) == 1 and open(files[0], "rb").read(6) == b"NBARC1"
    r = s3.restore_object(Bucket=bucket, Key="cold/obj",
                          RestoreRequest={"Days": 2, "GlacierJobParameters": {"Tier": "Standard"}})
    assert r["ResponseMetadata"]["HTTPStatusCode"] == 202
    assert s3.head_object(Bucket=bucket, Key="cold/obj")["Restore"] == 'ongoing-request="true"'
    advance(nimbus, "4h")
    time.sleep(0.3)
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket=bucket, Key="cold/obj")
    assert err(e) == (403, "InvalidObjectState")
    advance(nimbus, "61m")  # Standard: 3-5 hours
    restore = wait_for(lambda: s3.head_object(Bucket=bucket, Key="cold/obj").get("Restore", "")
                       .startswith('ongoing-request="false"') and
                       s3.head_object(Bucket=bucket, Key="cold/obj")["Restore"])
    assert 'expiry-date="' in restore and '00:00:00 GMT"' in restore
    assert s3.get_object(Bucket=bucket, Key="cold/obj")["Body"].read() == body
    assert s3.head_object(Bucket=bucket, Key="cold/obj")["StorageClass"] == "GLACIER"
    advance(nimbus, "4d")  # the restored copy expires; the archived one stays
    assert wait_for(lambda: "Restore" not in s3.head_object(Bucket=bucket, Key="cold/obj"))
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket=bucket, Key="cold/obj")
    assert err(e) == (403, "InvalidObjectState")
    assert len(glob.glob(archive + "/*/*")) == 1


def test_noncurrent_versions_expire(nimbus, s3, bucket):
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    put_rules(s3, bucket, [{"ID": "nc", "Status": "Enabled", "Filter": {},
                            "NoncurrentVersionExpiration": {"NoncurrentDays": 1}}])
    for i in range(3):
        s3.put_object(Bucket=bucket, Key="k", Body=b"v%d" % i)
    versions = lambda: s3.list_object_versions(Bucket=bucket).get("Versions", [])  # noqa: E731
    assert len(versions()) == 3
    advance(nimbus, "3d")
    assert wait_for(lambda: len(versions()) == 1)
    assert versions()[0]["IsLatest"] and s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"v2"


def test_newer_noncurrent_versions_kept(nimbus, s3, bucket):
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    put_rules(s3, bucket, [{"ID": "nc", "Status": "Enabled", "Filter": {},
                            "NoncurrentVersionExpiration": {"NoncurrentDays": 1,
                                                            "NewerNoncurrentVersions": 2}}])
    ids = [s3.put_object(Bucket=bucket, Key="k", Body=b"v%d" % i)["VersionId"] for i in range(5)]
    advance(nimbus, "3d")
    assert wait_for(lambda: [v["VersionId"] for v in
                             s3.list_object_versions(Bucket=bucket).get("Versions", [])]
                    == [ids[4], ids[3], ids[2]])


def test_versioned_expiration_then_marker_cleanup(nimbus, s3, bucket):
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    put_rules(s3, bucket, [
        {"ID": "cur", "Status": "Enabled", "Filter": {}, "Expiration": {"Days": 1}},
        {"ID": "nc", "Status": "Enabled", "Filter": {}, "NoncurrentVersionExpiration": {"NoncurrentDays": 1}}])
    s3.put_object(Bucket=bucket, Key="k", Body=b"v")
    advance(nimbus, "3d")
    # the current version becomes noncurrent under a delete marker
    assert wait_for(lambda: len(s3.list_object_versions(Bucket=bucket).get("DeleteMarkers", [])) == 1)
    advance(nimbus, "3d")
    # then the noncurrent version expires, and the lone marker is removed (Days implies it)
    assert wait_for(lambda: "Versions" not in s3.list_object_versions(Bucket=bucket))
    advance(nimbus, "3d")
    assert wait_for(lambda: "DeleteMarkers" not in s3.list_object_versions(Bucket=bucket))


def test_incomplete_uploads_aborted(nimbus, s3, bucket):
    put_rules(s3, bucket, [{"ID": "mpu", "Status": "Enabled", "Filter": {"Prefix": "up/"},
                            "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 2}}])
    u1 = s3.create_multipart_upload(Bucket=bucket, Key="up/a")["UploadId"]
    s3.upload_part(Bucket=bucket, Key="up/a", UploadId=u1, PartNumber=1, Body=b"p" * 1000)
    s3.create_multipart_upload(Bucket=bucket, Key="other/b")
    advance(nimbus, "1d")
    time.sleep(0.3)
    assert len(s3.list_multipart_uploads(Bucket=bucket)["Uploads"]) == 2
    advance(nimbus, "2d")
    assert wait_for(lambda: [u["Key"] for u in s3.list_multipart_uploads(Bucket=bucket)["Uploads"]]
                    == ["other/b"])
    with pytest.raises(ClientError) as e:
        s3.list_parts(Bucket=bucket, Key="up/a", UploadId=u1)
    assert err(e) == (404, "NoSuchUpload")


def test_clock_rate_runs_a_30_day_rule(nimbus_factory):
    # 30 days pass in about 3 seconds: the pass fires on region time
    srv = nimbus_factory(args=["--clock-rate", "1000000"])
    from conftest import client
    s3c = client(srv, "s3")
    s3c.create_bucket(Bucket="rate-bucket")
    put_rules(s3c, "rate-bucket", [{"ID": "m", "Status": "Enabled", "Filter": {},
                                    "Expiration": {"Days": 30}}])
    s3c.put_object(Bucket="rate-bucket", Key="k", Body=b"x")
    assert wait_for(lambda: keys(s3c, "rate-bucket") == [], timeout=60)  # generous: a loaded CI machine


def test_cli_lifecycle(aws, s3, bucket, tmp_path):
    cfg = {"Rules": [{"ID": "cli", "Status": "Enabled", "Filter": {"Prefix": "x/"},
                      "Expiration": {"Days": 10}}]}
    p = tmp_path / "lc.json"
    p.write_text(json.dumps(cfg))
    aws("s3api", "put-bucket-lifecycle-configuration", "--bucket", bucket,
        "--lifecycle-configuration", "file://" + str(p))
    out = aws("s3api", "get-bucket-lifecycle-configuration", "--bucket", bucket)
    assert out["Rules"][0]["ID"] == "cli" and out["Rules"][0]["Expiration"] == {"Days": 10}
    aws("s3api", "delete-bucket-lifecycle", "--bucket", bucket)


def lc_admin(nimbus, what=None):
    """GET the pass's state, or POST .../<what> (run, pause, resume)."""
    url = nimbus.endpoint + "/_nimbus/s3/lifecycle" + ("/" + what if what else "")
    req = urllib.request.Request(url, data=b"" if what else None, method="POST" if what else "GET")
    with urllib.request.urlopen(req) as r:
        return json.loads(r.read())


def test_pass_reads_only_rule_prefixes(nimbus, s3, bucket):
    # The pass reads the key ranges of the enabled object-action rules' prefixes (nested ones
    # merged), across batches of a few hundred rows; keys outside them are never read.
    from concurrent.futures import ThreadPoolExecutor
    put_rules(s3, bucket, [
        {"ID": "a", "Status": "Enabled", "Filter": {"Prefix": "a/"}, "Expiration": {"Days": 1}},
        {"ID": "ab", "Status": "Enabled", "Filter": {"Prefix": "a/b/"}, "Expiration": {"Days": 1}},
        {"ID": "m", "Status": "Enabled", "Filter": {"Prefix": "m"}, "Expiration": {"Days": 1}},
        {"ID": "off", "Status": "Disabled", "Filter": {}, "Expiration": {"Days": 1}},
        {"ID": "mpu", "Status": "Enabled", "Filter": {},
         "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 1}}])
    inside = ["a/", "a/b/x", "m", "ma", "m\u00ff"] + ["a/%03d" % i for i in range(280)] + \
        ["m%03d" % i for i in range(280)]
    outside = ["0", "a", "a.", "a0", "b/1", "l", "n", "z"]
    with ThreadPoolExecutor(8) as ex:
        list(ex.map(lambda k: s3.put_object(Bucket=bucket, Key=k, Body=b"x"), inside + outside))
    advance(nimbus, "3d")
    assert wait_for(lambda: keys(s3, bucket) == sorted(outside), timeout=30)
    st = wait_for(lambda: (lambda s: s if not s["in_progress"] else None)(lc_admin(nimbus)))
    assert (st["scanned"], st["actions"]) == (len(inside), len(inside))


def test_pause_holds_the_pass(nimbus, s3, bucket):
    put_rules(s3, bucket, [{"ID": "x", "Status": "Enabled", "Filter": {},
                            "Expiration": {"Days": 1}}])
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    assert lc_admin(nimbus, "pause")["paused"] is True
    advance(nimbus, "3d")
    time.sleep(0.5)
    assert keys(s3, bucket) == ["k"]
    assert lc_admin(nimbus)["paused"] is True
    assert lc_admin(nimbus, "resume")["paused"] is False
    assert wait_for(lambda: keys(s3, bucket) == [])


def test_expiration_removes_inline_bytes(nimbus, s3, bucket):
    # small objects keep their bytes in object_data; expiring one must take them along
    import sqlite3
    put_rules(s3, bucket, [{"ID": "x", "Status": "Enabled", "Filter": {"Prefix": "tmp/"},
                            "Expiration": {"Days": 1}}])
    s3.put_object(Bucket=bucket, Key="tmp/small", Body=b"x" * 100)
    s3.put_object(Bucket=bucket, Key="keep", Body=b"y" * 100)
    advance(nimbus, "3d")
    assert wait_for(lambda: keys(s3, bucket) == ["keep"])
    db = sqlite3.connect("file:%s?mode=ro" % os.path.join(nimbus.data_dir, "s3", "s3.db"), uri=True)
    try:
        assert db.execute("SELECT COUNT(*) FROM object_data").fetchone()[0] == 1
    finally:
        db.close()
