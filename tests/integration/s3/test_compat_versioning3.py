"""Versioning and lifecycle configuration as Ceph's s3-tests walk them: the suspend/overwrite
sequence of test_versioning_obj_suspend_versions (null versions and null delete markers
replacing each other), concurrent DeleteObjects of the same versions, and the lifecycle
validation cases (ids, status, dates, days, delete markers, filters, 1000 rules)."""
import datetime
import threading

import pytest

from conftest import NOVALID, call_error, client
from s3util import bucket, s3  # noqa: F401 (fixtures)


def versioning(s3, bucket, status):
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": status})
    assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == status


def check_versions(s3, bucket, key, vids, contents):
    """Versions (oldest first) are vids, each with its content."""
    got = s3.list_object_versions(Bucket=bucket).get("Versions", [])[::-1]
    assert [v["VersionId"] for v in got] == vids
    for v, body in zip(vids, contents):
        assert s3.get_object(Bucket=bucket, Key=key, VersionId=v)["Body"].read() == body


def test_suspend_versions_sequence(s3, bucket):
    key = "testobj"
    vids, contents = [], []

    def create(n):
        for _ in range(n):
            body = b"%s-%d" % (key.encode(), len(contents))
            vids.append(s3.put_object(Bucket=bucket, Key=key, Body=body)["VersionId"])
            contents.append(body)

    def drop_null():
        while "null" in vids:
            i = vids.index("null")
            vids.pop(i)
            contents.pop(i)

    def delete_suspended():
        r = s3.delete_object(Bucket=bucket, Key=key)
        assert r["DeleteMarker"] is True and r["VersionId"] == "null"
        drop_null()

    def overwrite_suspended(body):
        s3.put_object(Bucket=bucket, Key=key, Body=body)
        drop_null()
        vids.append("null")
        contents.append(body)

    versioning(s3, bucket, "Enabled")
    create(5)
    versioning(s3, bucket, "Suspended")
    delete_suspended()
    delete_suspended()
    markers = s3.list_object_versions(Bucket=bucket)["DeleteMarkers"]
    assert [(m["VersionId"], m["IsLatest"]) for m in markers] == [("null", True)]
    overwrite_suspended(b"null content 1")
    overwrite_suspended(b"null content 2")
    assert "DeleteMarkers" not in s3.list_object_versions(Bucket=bucket)
    check_versions(s3, bucket, key, vids, contents)
    delete_suspended()
    overwrite_suspended(b"null content 3")
    delete_suspended()
    versioning(s3, bucket, "Enabled")
    create(3)
    check_versions(s3, bucket, key, vids, contents)
    for idx in range(8):
        i = idx % len(vids)
        rm = vids.pop(i)
        contents.pop(i)
        s3.delete_object(Bucket=bucket, Key=key, VersionId=rm)
        if vids:
            check_versions(s3, bucket, key, vids, contents)
    assert s3.list_object_versions(Bucket=bucket).get("Versions") is None
    # the null delete marker is all that is left, and it is the current version
    markers = s3.list_object_versions(Bucket=bucket)["DeleteMarkers"]
    assert [(m["VersionId"], m["IsLatest"]) for m in markers] == [("null", True)]


def test_remove_versions_in_any_order(s3, bucket):
    # s3-tests' remove_obj_version: after each removal the rest are intact and the newest
    # remaining is current
    versioning(s3, bucket, "Enabled")
    vids = [s3.put_object(Bucket=bucket, Key="k", Body=b"v%d" % i)["VersionId"] for i in range(5)]
    contents = [b"v%d" % i for i in range(5)]
    for idx in (2, 3, 0, 1):
        i = idx % len(vids)
        s3.delete_object(Bucket=bucket, Key="k", VersionId=vids.pop(i))
        contents.pop(i)
        check_versions(s3, bucket, "k", vids, contents)
        assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == contents[-1]


def test_concurrent_multi_object_delete_of_versions(nimbus, s3, bucket):
    versioning(s3, bucket, "Enabled")
    for i in range(5):
        s3.put_object(Bucket=bucket, Key="key_%d" % i, Body=b"x")
    versions = s3.list_object_versions(Bucket=bucket)["Versions"]
    objs = {"Objects": [{"Key": v["Key"], "VersionId": v["VersionId"]} for v in versions]}
    results = [None] * 5

    def run(n):
        results[n] = client(nimbus, "s3").delete_objects(Bucket=bucket, Delete=objs)

    threads = [threading.Thread(target=run, args=(n,)) for n in range(5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for r in results:
        assert len(r["Deleted"]) == 5 and "Errors" not in r
    assert "Contents" not in s3.list_objects(Bucket=bucket)
    assert "Versions" not in s3.list_object_versions(Bucket=bucket)


def lifecycle_error(s3, bucket, rules, novalid=False, nimbus=None):
    c = client(nimbus, "s3", **NOVALID) if novalid else s3
    st, code, msg = call_error(c.put_bucket_lifecycle_configuration, Bucket=bucket,
                               LifecycleConfiguration={"Rules": rules})
    return st, code


E = {"Days": 2}


@pytest.mark.parametrize("rules,novalid,want", [
    ([{"ID": "a" * 256, "Expiration": E, "Prefix": "test1/", "Status": "Enabled"}], False,
     (400, "InvalidArgument")),
    ([{"ID": "rule1", "Expiration": E, "Prefix": "test1/", "Status": "Enabled"},
      {"ID": "rule1", "Expiration": E, "Prefix": "test2/", "Status": "Enabled"}], False,
     (400, "InvalidArgument")),
    ([{"ID": "rule1", "Expiration": E, "Prefix": "test1/", "Status": "enabled"}], True,
     (400, "MalformedXML")),
    ([{"ID": "rule1", "Expiration": E, "Prefix": "test1/", "Status": "disabled"}], True,
     (400, "MalformedXML")),
    ([{"ID": "rule1", "Expiration": E, "Prefix": "test1/", "Status": "invalid"}], True,
     (400, "MalformedXML")),
    ([{"ID": "rule1", "Expiration": {"Date": "20200101"}, "Prefix": "test1/",
       "Status": "Enabled"}], False, (400, "InvalidArgument")),
    ([{"ID": "rule1", "Expiration": {"Date": datetime.datetime(2030, 1, 1, 12)},
       "Prefix": "test1/", "Status": "Enabled"}], False, (400, "InvalidArgument")),
    ([{"ID": "rule1", "Expiration": {"Days": 0}, "Prefix": "days0/", "Status": "Enabled"}], False,
     (400, "InvalidArgument")),
    ([{"ID": "rule1", "Expiration": {"ExpiredObjectDeleteMarker": True, "Days": 1},
       "Filter": {"Prefix": "x"}, "Status": "Enabled"}], False, (400, "MalformedXML")),
    ([{"ID": "r%d" % i, "Expiration": E, "Filter": {"Prefix": "p%d/" % i}, "Status": "Enabled"}
      for i in range(1001)], False, (400, "InvalidRequest")),
], ids=["id-256", "same-id", "enabled", "disabled", "invalid", "date-epoch", "date-noon",
        "days-0", "marker-with-days", "1001-rules"])
def test_lifecycle_refused(nimbus, s3, bucket, rules, novalid, want):
    assert lifecycle_error(s3, bucket, rules, novalid, nimbus) == want


def test_lifecycle_accepted_and_read_back(s3, bucket):
    rules = [
        {"ID": "a" * 255, "Expiration": E, "Prefix": "test1/", "Status": "Enabled"},
        {"ID": "disabled", "Expiration": {"Days": 3}, "Prefix": "test2/", "Status": "Disabled"},
        {"ID": "date", "Expiration": {"Date": "2017-09-27"}, "Prefix": "d/", "Status": "Enabled"},
        {"ID": "noncur", "NoncurrentVersionExpiration": {"NoncurrentDays": 2},
         "Filter": {"Prefix": "n/"}, "Status": "Enabled"},
        {"ID": "marker", "Expiration": {"ExpiredObjectDeleteMarker": True},
         "NoncurrentVersionExpiration": {"NoncurrentDays": 1}, "Filter": {"Prefix": "m/"},
         "Status": "Enabled"},
        {"ID": "and", "Expiration": E, "Filter": {"And": {"Prefix": "t/", "Tags": [
            {"Key": "k1", "Value": "v1"}, {"Key": "k2", "Value": "v2"}]}}, "Status": "Enabled"},
        {"ID": "mp", "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 2},
         "Filter": {}, "Status": "Enabled"},
    ]
    s3.put_bucket_lifecycle_configuration(Bucket=bucket, LifecycleConfiguration={"Rules": rules})
    got = {r["ID"]: r for r in s3.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"]}
    assert got["a" * 255]["Prefix"] == "test1/" and got["a" * 255]["Expiration"] == E
    assert got["disabled"]["Status"] == "Disabled"
    assert got["date"]["Expiration"]["Date"].date() == datetime.date(2017, 9, 27)
    assert got["marker"]["Expiration"] == {"ExpiredObjectDeleteMarker": True}
    assert got["and"]["Filter"]["And"]["Tags"] == rules[5]["Filter"]["And"]["Tags"]
    assert got["mp"]["AbortIncompleteMultipartUpload"] == {"DaysAfterInitiation": 2}
    # a rule without an ID gets one
    s3.put_bucket_lifecycle_configuration(Bucket=bucket, LifecycleConfiguration={"Rules": [
        {"Expiration": E, "Prefix": "test1/", "Status": "Enabled"}]})
    r = s3.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"][0]
    assert r["ID"] and r["Prefix"] == "test1/"
