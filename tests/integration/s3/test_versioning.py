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


def version_header(resp):
    return resp["ResponseMetadata"]["HTTPHeaders"].get("x-amz-version-id")


@pytest.mark.parametrize("history", ["never_enabled", "enabled_before"])
def test_suspended_writes_answer_version_id_null(s3, bucket, history):
    """In a Suspended bucket every write goes to the null version, and AWS names it in the
    answer: x-amz-version-id: null on PutObject, CopyObject, CompleteMultipartUpload,
    DeleteObject (the null delete marker) and the object tagging calls, as GET/HEAD do."""
    if history == "enabled_before":
        s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
        s3.put_object(Bucket=bucket, Key="k", Body=b"v1")
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Suspended"})

    r = s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    assert version_header(r) == "null" and r["VersionId"] == "null"
    assert version_header(s3.head_object(Bucket=bucket, Key="k")) == "null"
    assert version_header(s3.get_object(Bucket=bucket, Key="k")) == "null"

    r = s3.copy_object(Bucket=bucket, Key="k2", CopySource={"Bucket": bucket, "Key": "k"})
    assert version_header(r) == "null" and r["VersionId"] == "null"
    assert r["CopySourceVersionId"] == "null"

    u = s3.create_multipart_upload(Bucket=bucket, Key="m")["UploadId"]
    p = s3.upload_part(Bucket=bucket, Key="m", UploadId=u, PartNumber=1, Body=b"p")
    r = s3.complete_multipart_upload(Bucket=bucket, Key="m", UploadId=u, MultipartUpload={
        "Parts": [{"PartNumber": 1, "ETag": p["ETag"]}]})
    assert version_header(r) == "null" and r["VersionId"] == "null"

    tags = {"TagSet": [{"Key": "a", "Value": "b"}]}
    assert version_header(s3.put_object_tagging(Bucket=bucket, Key="k", Tagging=tags)) == "null"
    assert version_header(s3.get_object_tagging(Bucket=bucket, Key="k")) == "null"
    assert version_header(s3.delete_object_tagging(Bucket=bucket, Key="k")) == "null"

    r = s3.delete_object(Bucket=bucket, Key="k")
    assert version_header(r) == "null" and r["DeleteMarker"] is True
    r = s3.delete_object(Bucket=bucket, Key="k", VersionId="null")  # the marker itself
    assert version_header(r) == "null" and r["DeleteMarker"] is True
    r = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": "k2"}]})
    assert r["Deleted"] == [{"Key": "k2", "DeleteMarker": True, "DeleteMarkerVersionId": "null"}]


def test_never_versioned_writes_name_no_version(s3, bucket):
    """Without versioning ever configured, AWS sends no x-amz-version-id at all."""
    assert version_header(s3.put_object(Bucket=bucket, Key="k", Body=b"x")) is None
    assert version_header(s3.head_object(Bucket=bucket, Key="k")) is None
    r = s3.copy_object(Bucket=bucket, Key="k2", CopySource={"Bucket": bucket, "Key": "k"})
    assert version_header(r) is None and "CopySourceVersionId" not in r
    u = s3.create_multipart_upload(Bucket=bucket, Key="m")["UploadId"]
    p = s3.upload_part(Bucket=bucket, Key="m", UploadId=u, PartNumber=1, Body=b"p")
    r = s3.complete_multipart_upload(Bucket=bucket, Key="m", UploadId=u, MultipartUpload={
        "Parts": [{"PartNumber": 1, "ETag": p["ETag"]}]})
    assert version_header(r) is None
    tags = {"TagSet": [{"Key": "a", "Value": "b"}]}
    assert version_header(s3.put_object_tagging(Bucket=bucket, Key="k", Tagging=tags)) is None
    assert version_header(s3.get_object_tagging(Bucket=bucket, Key="k")) is None
    assert version_header(s3.delete_object(Bucket=bucket, Key="k")) is None


def test_suspended_browser_post_answers_version_id_null(s3, bucket):
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Suspended"})
    import urllib.request
    import uuid
    post = s3.generate_presigned_post(bucket, "posted")
    boundary = uuid.uuid4().hex
    parts = []
    for k, v in post["fields"].items():
        parts.append("--%s\r\nContent-Disposition: form-data; name=\"%s\"\r\n\r\n%s\r\n"
                     % (boundary, k, v))
    body = "".join(parts).encode() + (
        "--%s\r\nContent-Disposition: form-data; name=\"file\"; filename=\"f\"\r\n\r\n"
        % boundary).encode() + b"data\r\n" + ("--%s--\r\n" % boundary).encode()
    req = urllib.request.Request(post["url"], data=body, method="POST", headers={
        "Content-Type": "multipart/form-data; boundary=%s" % boundary})
    with urllib.request.urlopen(req, timeout=10) as resp:
        assert resp.status == 204
        assert resp.headers["x-amz-version-id"] == "null"
