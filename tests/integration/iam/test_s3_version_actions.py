"""S3 object calls that name a version are authorized as the action's Version variant, as AWS
does: GetObject with a versionId needs s3:GetObjectVersion, DeleteObject with one
s3:DeleteObjectVersion, and so on for ACLs, tagging and attributes."""
from conftest import client
from iam_helpers import allow, as_user, doc, make_user, refused


def versioned_object(nimbus):
    s3 = client(nimbus, "s3")
    s3.create_bucket(Bucket="vers")
    s3.put_bucket_versioning(Bucket="vers", VersioningConfiguration={"Status": "Enabled"})
    v = s3.put_object(Bucket="vers", Key="k", Body=b"one")["VersionId"]
    s3.put_object(Bucket="vers", Key="k", Body=b"two")
    return s3, v


def test_plain_actions_do_not_reach_versions(nimbus):
    s3, v = versioned_object(nimbus)
    iam = client(nimbus, "iam")
    keys = make_user(nimbus, iam, "plain", inline=doc(allow(
        ["s3:GetObject", "s3:DeleteObject", "s3:GetObjectAcl", "s3:GetObjectTagging",
         "s3:PutObjectTagging"], "arn:aws:s3:::vers/*")))
    u = as_user(nimbus, "s3", keys)
    assert u.get_object(Bucket="vers", Key="k")["Body"].read() == b"two"
    assert u.get_object_tagging(Bucket="vers", Key="k")["TagSet"] == []
    refused(u.get_object, Bucket="vers", Key="k", VersionId=v)
    refused(u.head_object, Bucket="vers", Key="k", VersionId=v, code="403")
    refused(u.get_object_acl, Bucket="vers", Key="k", VersionId=v)
    refused(u.get_object_tagging, Bucket="vers", Key="k", VersionId=v)
    refused(u.put_object_tagging, Bucket="vers", Key="k", VersionId=v,
            Tagging={"TagSet": [{"Key": "a", "Value": "b"}]})
    refused(u.delete_object, Bucket="vers", Key="k", VersionId=v)
    # the version is still there
    assert s3.get_object(Bucket="vers", Key="k", VersionId=v)["Body"].read() == b"one"


def test_version_actions_reach_versions(nimbus):
    s3, v = versioned_object(nimbus)
    iam = client(nimbus, "iam")
    keys = make_user(nimbus, iam, "versioned", inline=doc(allow(
        ["s3:GetObjectVersion", "s3:DeleteObjectVersion", "s3:GetObjectVersionTagging"],
        "arn:aws:s3:::vers/*")))
    u = as_user(nimbus, "s3", keys)
    assert u.get_object(Bucket="vers", Key="k", VersionId=v)["Body"].read() == b"one"
    assert u.head_object(Bucket="vers", Key="k", VersionId=v)["ContentLength"] == 3
    assert u.get_object_tagging(Bucket="vers", Key="k", VersionId=v)["TagSet"] == []
    refused(u.get_object, Bucket="vers", Key="k")  # the plain action is not granted
    u.delete_object(Bucket="vers", Key="k", VersionId=v)
    versions = s3.list_object_versions(Bucket="vers")["Versions"]
    assert [x["VersionId"] for x in versions if x["VersionId"] == v] == []
