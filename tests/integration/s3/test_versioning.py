"""Versioning: enabled/suspended, version ids, delete markers, the null version, GET/HEAD/
DELETE by version, MethodNotAllowed on a delete marker, ListObjectVersions."""
import pytest
from botocore.exceptions import ClientError

from s3util import bucket, err, s3  # noqa: F401 (fixtures)


def test_versions_and_markers(s3, bucket):
    assert "Status" not in s3.get_bucket_versioning(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="k", Body=b"v0")  # the null version
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Enabled"
    v1 = s3.put_object(Bucket=bucket, Key="k", Body=b"v1")["VersionId"]
    v2 = s3.put_object(Bucket=bucket, Key="k", Body=b"v2")["VersionId"]
    assert v1 != v2 and v1 != "null"
    g = s3.get_object(Bucket=bucket, Key="k")
    assert g["Body"].read() == b"v2" and g["VersionId"] == v2
    assert s3.get_object(Bucket=bucket, Key="k", VersionId=v1)["Body"].read() == b"v1"
    assert s3.get_object(Bucket=bucket, Key="k", VersionId="null")["Body"].read() == b"v0"

    d = s3.delete_object(Bucket=bucket, Key="k")
    assert d["DeleteMarker"] is True
    marker = d["VersionId"]
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket=bucket, Key="k")
    assert err(e) == (404, "NoSuchKey")
    assert e.value.response["ResponseMetadata"]["HTTPHeaders"].get("x-amz-delete-marker") == "true"
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket=bucket, Key="k", VersionId=marker)
    assert err(e) == (405, "MethodNotAllowed")
    with pytest.raises(ClientError) as e:
        s3.head_object(Bucket=bucket, Key="k", VersionId=marker)
    assert err(e)[0] == 405

    lv = s3.list_object_versions(Bucket=bucket)
    assert [v["VersionId"] for v in lv["Versions"]] == [v2, v1, "null"]
    assert [m["VersionId"] for m in lv["DeleteMarkers"]] == [marker]
    assert lv["DeleteMarkers"][0]["IsLatest"] is True
    assert "Contents" not in s3.list_objects_v2(Bucket=bucket)

    # removing the marker restores the object
    r = s3.delete_object(Bucket=bucket, Key="k", VersionId=marker)
    assert r["DeleteMarker"] is True and r["VersionId"] == marker
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"v2"
    s3.delete_object(Bucket=bucket, Key="k", VersionId=v2)
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"v1"
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket=bucket, Key="k", VersionId=v2)
    assert err(e) == (404, "NoSuchVersion")
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket=bucket, Key="k", VersionId="not-a-version")
    assert err(e) == (400, "InvalidArgument")


def test_suspended_null_version(s3, bucket):
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    v1 = s3.put_object(Bucket=bucket, Key="k", Body=b"v1")["VersionId"]
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Suspended"})
    assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Suspended"
    s3.put_object(Bucket=bucket, Key="k", Body=b"n1")
    s3.put_object(Bucket=bucket, Key="k", Body=b"n2")  # replaces the null version
    lv = s3.list_object_versions(Bucket=bucket)
    assert [v["VersionId"] for v in lv["Versions"]] == ["null", v1]
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"n2"
    d = s3.delete_object(Bucket=bucket, Key="k")
    assert d["DeleteMarker"] is True and d["VersionId"] == "null"
    lv = s3.list_object_versions(Bucket=bucket)
    assert [v["VersionId"] for v in lv["Versions"]] == [v1]
    assert [m["VersionId"] for m in lv["DeleteMarkers"]] == ["null"]


def test_list_versions_pagination(s3, bucket):
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    ids = {}
    for k in ("a", "b", "c"):
        ids[k] = [s3.put_object(Bucket=bucket, Key=k, Body=b"x")["VersionId"] for _ in range(3)]
    got = []
    km, vm = None, None
    while True:
        kw = {"KeyMarker": km, "VersionIdMarker": vm} if km else {}
        r = s3.list_object_versions(Bucket=bucket, MaxKeys=2, **kw)
        got += [(v["Key"], v["VersionId"]) for v in r.get("Versions", [])]
        if not r["IsTruncated"]:
            break
        km, vm = r["NextKeyMarker"], r.get("NextVersionIdMarker", "")
    assert got == [(k, v) for k in ("a", "b", "c") for v in reversed(ids[k])]


def test_delete_objects_versioned(s3, bucket):
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    v = s3.put_object(Bucket=bucket, Key="x", Body=b"1")["VersionId"]
    r = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": "x"}]})
    assert r["Deleted"][0]["DeleteMarker"] is True
    mv = r["Deleted"][0]["DeleteMarkerVersionId"]
    r = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": "x", "VersionId": mv},
                                                             {"Key": "x", "VersionId": v}]})
    assert len(r["Deleted"]) == 2
    assert s3.list_object_versions(Bucket=bucket).get("Versions") is None
