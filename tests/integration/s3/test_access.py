"""S3 access control: bucket policies evaluated by the shared IAM evaluator (anonymous callers,
one prefix only, S3 condition keys, explicit denies), GetBucketPolicyStatus and AWS's
MalformedPolicy reasons; ACLs across accounts (a second account made with POST
/_nimbus/accounts; grantees by canonical id, e-mail and group); Object Ownership
(BucketOwnerEnforced by default, disabling ACLs); Block Public Access (default on for new
buckets, BlockPublicPolicy refusing a public policy, RestrictPublicBuckets and IgnorePublicAcls
overriding public policies and grants; account level through the admin API)."""
import json
import urllib.request
import uuid

import pytest
from botocore import UNSIGNED
from botocore.exceptions import ClientError

from conftest import client
from s3util import bucket, err, s3  # noqa: F401 (fixtures)


def anon(server):
    return client(server, "s3", config_kw={"signature_version": UNSIGNED})


def policy(*stmts):
    return json.dumps({"Version": "2012-10-17", "Statement": list(stmts)})


def new_account(server, email):
    req = urllib.request.Request(server.endpoint + "/_nimbus/accounts", method="POST",
                                 data=json.dumps({"Email": email}).encode())
    with urllib.request.urlopen(req) as r:
        return json.loads(r.read())


def account_client(server, acct):
    return client(server, "s3", access_key=acct["AccessKeyId"], secret_key=acct["SecretAccessKey"])


def open_bucket(s3, name):
    s3.create_bucket(Bucket=name)
    s3.delete_public_access_block(Bucket=name)


# ---------------------------------------------------------------- bucket policies

def test_policy_grants_anonymous_read_of_one_prefix_only(s3, nimbus, bucket):
    s3.delete_public_access_block(Bucket=bucket)
    for k in ("public/a.txt", "public/sub/b.txt", "private/c.txt", "publicity.txt"):
        s3.put_object(Bucket=bucket, Key=k, Body=k.encode())
    s3.put_bucket_policy(Bucket=bucket, Policy=policy(
        {"Sid": "AnonRead", "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
         "Resource": "arn:aws:s3:::%s/public/*" % bucket}))
    a = anon(nimbus)
    assert a.get_object(Bucket=bucket, Key="public/a.txt")["Body"].read() == b"public/a.txt"
    assert a.get_object(Bucket=bucket, Key="public/sub/b.txt")["Body"].read() == b"public/sub/b.txt"
    for k in ("private/c.txt", "publicity.txt"):
        with pytest.raises(ClientError) as e:
            a.get_object(Bucket=bucket, Key=k)
        assert err(e) == (403, "AccessDenied")
    # reading is not writing, listing or deleting
    with pytest.raises(ClientError) as e:
        a.put_object(Bucket=bucket, Key="public/new.txt", Body=b"x")
    assert err(e) == (403, "AccessDenied")
    with pytest.raises(ClientError) as e:
        a.list_objects_v2(Bucket=bucket)
    assert err(e) == (403, "AccessDenied")
    with pytest.raises(ClientError) as e:
        a.delete_object(Bucket=bucket, Key="public/a.txt")
    assert err(e) == (403, "AccessDenied")
    # and the bucket owner still reaches everything
    assert s3.get_object(Bucket=bucket, Key="private/c.txt")["Body"].read() == b"private/c.txt"


def test_policy_round_trip_status_and_delete(s3, bucket):
    with pytest.raises(ClientError) as e:
        s3.get_bucket_policy(Bucket=bucket)
    assert err(e) == (404, "NoSuchBucketPolicy")
    doc = policy({"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:root"},
                  "Action": "s3:GetObject", "Resource": "arn:aws:s3:::%s/*" % bucket})
    s3.put_bucket_policy(Bucket=bucket, Policy=doc)
    assert s3.get_bucket_policy(Bucket=bucket)["Policy"] == doc
    assert s3.get_bucket_policy_status(Bucket=bucket)["PolicyStatus"]["IsPublic"] is False
    s3.delete_public_access_block(Bucket=bucket)
    s3.put_bucket_policy(Bucket=bucket, Policy=policy(
        {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::%s/*" % bucket}))
    assert s3.get_bucket_policy_status(Bucket=bucket)["PolicyStatus"]["IsPublic"] is True
    # a wildcard principal pinned by a source IP is not public
    s3.put_bucket_policy(Bucket=bucket, Policy=policy(
        {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::%s/*" % bucket,
         "Condition": {"IpAddress": {"aws:SourceIp": "192.0.2.0/24"}}}))
    assert s3.get_bucket_policy_status(Bucket=bucket)["PolicyStatus"]["IsPublic"] is False
    s3.delete_bucket_policy(Bucket=bucket)
    with pytest.raises(ClientError) as e:
        s3.get_bucket_policy(Bucket=bucket)
    assert err(e) == (404, "NoSuchBucketPolicy")


@pytest.mark.parametrize("doc,message", [
    ("not json", "Policies must be valid JSON and the first byte must be '{'"),
    ('{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject",'
     '"Resource":"arn:aws:s3:::some-other-bucket/*"}]}', "Policy has invalid resource"),
    ('{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"sqs:SendMessage",'
     '"Resource":"arn:aws:s3:::BUCKET/*"}]}', "Policy has invalid action"),
])
def test_malformed_policy(s3, bucket, doc, message):
    with pytest.raises(ClientError) as e:
        s3.put_bucket_policy(Bucket=bucket, Policy=doc.replace("BUCKET", bucket))
    assert err(e) == (400, "MalformedPolicy")
    assert e.value.response["Error"]["Message"] == message


def test_condition_keys_and_explicit_deny(s3, nimbus, bucket):
    s3.delete_public_access_block(Bucket=bucket)
    for k in ("docs/a", "docs/b", "secret/c"):
        s3.put_object(Bucket=bucket, Key=k, Body=b"x", Tagging="class=" + ("open" if k.startswith("docs") else "closed"))
    s3.put_bucket_policy(Bucket=bucket, Policy=policy(
        {"Sid": "ListDocs", "Effect": "Allow", "Principal": "*", "Action": "s3:ListBucket",
         "Resource": "arn:aws:s3:::%s" % bucket,
         "Condition": {"StringEquals": {"s3:prefix": "docs/"}, "NumericLessThanEquals": {"s3:max-keys": "10"}}},
        {"Sid": "ReadOpen", "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
         "Resource": "arn:aws:s3:::%s/*" % bucket,
         "Condition": {"StringEquals": {"s3:ExistingObjectTag/class": "open"}}},
        {"Sid": "NoDelete", "Effect": "Deny", "Principal": "*", "Action": "s3:DeleteObject",
         "Resource": "arn:aws:s3:::%s/docs/*" % bucket}))
    a = anon(nimbus)
    keys = [o["Key"] for o in a.list_objects_v2(Bucket=bucket, Prefix="docs/", MaxKeys=5)["Contents"]]
    assert keys == ["docs/a", "docs/b"]
    for kw in ({"Prefix": "secret/", "MaxKeys": 5}, {"Prefix": "docs/", "MaxKeys": 50}, {}):
        with pytest.raises(ClientError) as e:
            a.list_objects_v2(Bucket=bucket, **kw)
        assert err(e) == (403, "AccessDenied")
    assert a.get_object(Bucket=bucket, Key="docs/a")["Body"].read() == b"x"
    with pytest.raises(ClientError) as e:
        a.get_object(Bucket=bucket, Key="secret/c")
    assert err(e) == (403, "AccessDenied")
    # an explicit deny in the bucket policy binds even the owner account's root
    with pytest.raises(ClientError) as e:
        s3.delete_object(Bucket=bucket, Key="docs/a")
    assert err(e)[1] == "AccessDenied"
    s3.delete_object(Bucket=bucket, Key="secret/c")


def test_policy_admits_another_account(s3, nimbus, bucket):
    other = new_account(nimbus, "policy-%s@example.com" % uuid.uuid4().hex[:6])
    b = account_client(nimbus, other)
    s3.put_object(Bucket=bucket, Key="k", Body=b"shared")
    with pytest.raises(ClientError) as e:
        b.get_object(Bucket=bucket, Key="k")
    assert err(e) == (403, "AccessDenied")
    s3.put_bucket_policy(Bucket=bucket, Policy=policy(
        {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::%s:root" % other["AccountId"]},
         "Action": ["s3:GetObject", "s3:ListBucket"],
         "Resource": ["arn:aws:s3:::%s" % bucket, "arn:aws:s3:::%s/*" % bucket]}))
    assert b.get_object(Bucket=bucket, Key="k")["Body"].read() == b"shared"
    assert [o["Key"] for o in b.list_objects_v2(Bucket=bucket)["Contents"]] == ["k"]
    with pytest.raises(ClientError) as e:
        b.put_object(Bucket=bucket, Key="k2", Body=b"x")
    assert err(e) == (403, "AccessDenied")


# ---------------------------------------------------------------- Block Public Access

def test_new_buckets_block_public_access(s3, bucket):
    pab = s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]
    assert pab == {"BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True,
                   "RestrictPublicBuckets": True}
    assert s3.get_bucket_ownership_controls(Bucket=bucket)["OwnershipControls"]["Rules"] == [
        {"ObjectOwnership": "BucketOwnerEnforced"}]
    s3.delete_public_access_block(Bucket=bucket)
    with pytest.raises(ClientError) as e:
        s3.get_public_access_block(Bucket=bucket)
    assert err(e) == (404, "NoSuchPublicAccessBlockConfiguration")


def test_block_public_policy_refuses_a_public_policy(s3, bucket):
    public = policy({"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
                     "Resource": "arn:aws:s3:::%s/*" % bucket})
    with pytest.raises(ClientError) as e:
        s3.put_bucket_policy(Bucket=bucket, Policy=public)
    assert err(e) == (403, "AccessDenied")
    # a non-public policy is fine
    s3.put_bucket_policy(Bucket=bucket, Policy=policy(
        {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:root"}, "Action": "s3:GetObject",
         "Resource": "arn:aws:s3:::%s/*" % bucket}))
    s3.put_public_access_block(Bucket=bucket, PublicAccessBlockConfiguration={"BlockPublicPolicy": False})
    s3.put_bucket_policy(Bucket=bucket, Policy=public)


def test_restrict_public_buckets_overrides_a_public_policy(s3, nimbus, bucket):
    s3.delete_public_access_block(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="k", Body=b"open")
    s3.put_bucket_policy(Bucket=bucket, Policy=policy(
        {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::%s/*" % bucket}))
    a = anon(nimbus)
    assert a.get_object(Bucket=bucket, Key="k")["Body"].read() == b"open"
    s3.put_public_access_block(Bucket=bucket, PublicAccessBlockConfiguration={"RestrictPublicBuckets": True})
    with pytest.raises(ClientError) as e:
        a.get_object(Bucket=bucket, Key="k")
    assert err(e) == (403, "AccessDenied")
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"open"  # the owner still can
    s3.put_public_access_block(Bucket=bucket, PublicAccessBlockConfiguration={"RestrictPublicBuckets": False})
    assert a.get_object(Bucket=bucket, Key="k")["Body"].read() == b"open"


def test_account_level_block(s3, nimbus, bucket):
    s3.delete_public_access_block(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="k", Body=b"open")
    s3.put_bucket_policy(Bucket=bucket, Policy=policy(
        {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::%s/*" % bucket}))
    a = anon(nimbus)
    assert a.get_object(Bucket=bucket, Key="k")["Body"].read() == b"open"
    url = nimbus.endpoint + "/_nimbus/s3/public-access-block/000000000000"
    req = urllib.request.Request(url, method="PUT", data=json.dumps({"RestrictPublicBuckets": True}).encode())
    with urllib.request.urlopen(req) as r:
        assert json.loads(r.read())["PublicAccessBlockConfiguration"]["RestrictPublicBuckets"] is True
    with pytest.raises(ClientError) as e:
        a.get_object(Bucket=bucket, Key="k")
    assert err(e) == (403, "AccessDenied")
    urllib.request.urlopen(urllib.request.Request(url, method="DELETE")).read()
    assert a.get_object(Bucket=bucket, Key="k")["Body"].read() == b"open"


# ---------------------------------------------------------------- ACLs and Object Ownership

def test_acls_disabled_by_default(s3, bucket):
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    with pytest.raises(ClientError) as e:
        s3.put_object_acl(Bucket=bucket, Key="k", ACL="public-read")
    assert err(e) == (400, "AccessControlListNotSupported")
    with pytest.raises(ClientError) as e:
        s3.put_object(Bucket=bucket, Key="k2", Body=b"x", ACL="public-read")
    assert err(e) == (400, "AccessControlListNotSupported")
    s3.put_object(Bucket=bucket, Key="k3", Body=b"x", ACL="bucket-owner-full-control")
    acl = s3.get_bucket_acl(Bucket=bucket)
    assert [g["Permission"] for g in acl["Grants"]] == ["FULL_CONTROL"]
    assert acl["Grants"][0]["Grantee"]["ID"] == acl["Owner"]["ID"]
    with pytest.raises(ClientError) as e:
        s3.create_bucket(Bucket="acl-" + uuid.uuid4().hex[:8], ACL="public-read")
    assert err(e) == (400, "InvalidBucketAclWithObjectOwnership")


def test_acl_grants_across_accounts(s3, nimbus):
    name = "acl-" + uuid.uuid4().hex[:8]
    s3.create_bucket(Bucket=name, ObjectOwnership="ObjectWriter")
    other = new_account(nimbus, "acl-%s@example.com" % uuid.uuid4().hex[:6])
    b = account_client(nimbus, other)
    s3.put_object(Bucket=name, Key="shared.txt", Body=b"shared")
    s3.put_object(Bucket=name, Key="mine.txt", Body=b"mine")
    for call in (lambda: b.list_objects_v2(Bucket=name), lambda: b.get_object(Bucket=name, Key="shared.txt")):
        with pytest.raises(ClientError) as e:
            call()
        assert err(e) == (403, "AccessDenied")
    # READ on the bucket by canonical id: listing
    owner_id = s3.get_bucket_acl(Bucket=name)["Owner"]["ID"]
    s3.put_bucket_acl(Bucket=name, GrantRead='id="%s"' % other["CanonicalUserId"],
                      GrantFullControl='id="%s"' % owner_id)
    grants = s3.get_bucket_acl(Bucket=name)["Grants"]
    assert {"Grantee": {"Type": "CanonicalUser", "ID": other["CanonicalUserId"],
                        "DisplayName": other["AccountId"]}, "Permission": "READ"} in grants
    assert sorted(o["Key"] for o in b.list_objects_v2(Bucket=name)["Contents"]) == ["mine.txt", "shared.txt"]
    # READ on one object by e-mail
    s3.put_object_acl(Bucket=name, Key="shared.txt", GrantRead='emailAddress="%s"' % other["Email"])
    assert b.get_object(Bucket=name, Key="shared.txt")["Body"].read() == b"shared"
    with pytest.raises(ClientError) as e:
        b.get_object(Bucket=name, Key="mine.txt")
    assert err(e) == (403, "AccessDenied")
    with pytest.raises(ClientError) as e:
        b.put_object(Bucket=name, Key="theirs.txt", Body=b"x")
    assert err(e) == (403, "AccessDenied")
    # WRITE on the bucket: the other account uploads and owns what it wrote (ObjectWriter)
    s3.put_bucket_acl(Bucket=name, AccessControlPolicy={
        "Owner": {"ID": owner_id},
        "Grants": [{"Grantee": {"Type": "CanonicalUser", "ID": owner_id}, "Permission": "FULL_CONTROL"},
                   {"Grantee": {"Type": "CanonicalUser", "ID": other["CanonicalUserId"]}, "Permission": "WRITE"},
                   {"Grantee": {"Type": "CanonicalUser", "ID": other["CanonicalUserId"]}, "Permission": "READ"}]})
    b.put_object(Bucket=name, Key="theirs.txt", Body=b"from b")
    acl = b.get_object_acl(Bucket=name, Key="theirs.txt")
    assert acl["Owner"]["ID"] == other["CanonicalUserId"]
    # the object ACL says who reads it: the writer grants the bucket owner
    b.put_object(Bucket=name, Key="theirs2.txt", Body=b"b2", ACL="bucket-owner-read")
    assert {g["Permission"] for g in b.get_object_acl(Bucket=name, Key="theirs2.txt")["Grants"]} == {
        "FULL_CONTROL", "READ"}
    assert s3.get_object(Bucket=name, Key="theirs2.txt")["Body"].read() == b"b2"
    # READ is not READ_ACP, and an object without a grant is closed to the bucket owner too
    for call in (lambda: s3.get_object_acl(Bucket=name, Key="theirs2.txt"),
                 lambda: s3.get_object(Bucket=name, Key="theirs.txt")):
        with pytest.raises(ClientError) as e:
            call()
        assert err(e) == (403, "AccessDenied")
    # but the bucket owner may still delete it
    s3.delete_object(Bucket=name, Key="theirs.txt")


def test_public_acls_and_block_public_access(s3, nimbus):
    name = "acl-" + uuid.uuid4().hex[:8]
    s3.create_bucket(Bucket=name, ObjectOwnership="BucketOwnerPreferred")
    s3.put_object(Bucket=name, Key="k", Body=b"x")
    # BlockPublicAcls (default on) refuses public ACLs
    with pytest.raises(ClientError) as e:
        s3.put_object_acl(Bucket=name, Key="k", ACL="public-read")
    assert err(e) == (403, "AccessDenied")
    s3.put_public_access_block(Bucket=name, PublicAccessBlockConfiguration={"IgnorePublicAcls": True})
    s3.put_object_acl(Bucket=name, Key="k", ACL="public-read")
    grants = s3.get_object_acl(Bucket=name, Key="k")["Grants"]
    assert {"Grantee": {"Type": "Group", "URI": "http://acs.amazonaws.com/groups/global/AllUsers"},
            "Permission": "READ"} in grants
    a = anon(nimbus)
    with pytest.raises(ClientError) as e:  # IgnorePublicAcls: the grant is there but ignored
        a.get_object(Bucket=name, Key="k")
    assert err(e) == (403, "AccessDenied")
    s3.delete_public_access_block(Bucket=name)
    assert a.get_object(Bucket=name, Key="k")["Body"].read() == b"x"
    # AuthenticatedUsers: any signed caller, not anonymous ones
    s3.put_object(Bucket=name, Key="auth", Body=b"y", ACL="authenticated-read")
    other = account_client(nimbus, new_account(nimbus, "auth-%s@example.com" % uuid.uuid4().hex[:6]))
    assert other.get_object(Bucket=name, Key="auth")["Body"].read() == b"y"
    with pytest.raises(ClientError) as e:
        a.get_object(Bucket=name, Key="auth")
    assert err(e) == (403, "AccessDenied")


def test_ownership_controls(s3, bucket):
    s3.put_bucket_ownership_controls(Bucket=bucket, OwnershipControls={"Rules": [{"ObjectOwnership": "ObjectWriter"}]})
    assert s3.get_bucket_ownership_controls(Bucket=bucket)["OwnershipControls"]["Rules"][0]["ObjectOwnership"] == "ObjectWriter"
    s3.put_object(Bucket=bucket, Key="k", Body=b"x", ACL="private")
    s3.delete_bucket_ownership_controls(Bucket=bucket)
    with pytest.raises(ClientError) as e:
        s3.get_bucket_ownership_controls(Bucket=bucket)
    assert err(e) == (404, "OwnershipControlsNotFoundError")
    with pytest.raises(ClientError) as e:
        s3.put_bucket_acl(Bucket=bucket, GrantRead='id="%s"' % ("0" * 64))
    assert err(e) == (400, "InvalidArgument")
    with pytest.raises(ClientError) as e:
        s3.put_bucket_acl(Bucket=bucket, GrantRead='emailAddress="nobody@nowhere.test"')
    assert err(e) == (400, "UnresolvableGrantByEmailAddress")
