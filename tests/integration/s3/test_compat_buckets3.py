"""Bucket, listing and access-control behaviour as AWS S3 has it, in the cases Ceph's s3-tests
(test_bucket_list*, test_bucket_create*, test_bucket_acl_* / test_object_acl_*, anonymous
access, test_bucket_policy_*) and AWS's documentation pin down: location constraints and
ownership headers at CreateBucket, buckets gone after DeleteBucket for every caller, missing
keys in readable buckets, grant validation before any write, the AccessControlPolicy schema,
the order of header grants, the owner's root and its bucket policy, URL encoding of listings."""
import json
import urllib.error
import urllib.request
import uuid

import pytest
from botocore import UNSIGNED
from botocore.exceptions import ClientError

from conftest import NOVALID, call_error, client
from s3util import bucket, s3  # noqa: F401 (fixtures)

AUTH_URI = "http://acs.amazonaws.com/groups/global/AuthenticatedUsers"


def new_name():
    return "b-" + uuid.uuid4().hex[:12]


def new_account(server):
    req = urllib.request.Request(server.endpoint + "/_nimbus/accounts", method="POST",
                                 data=json.dumps({"Email": new_name() + "@example.com"}).encode())
    with urllib.request.urlopen(req) as r:
        return json.loads(r.read())


def account_client(server, acct):
    return client(server, "s3", access_key=acct["AccessKeyId"], secret_key=acct["SecretAccessKey"])


def acl_bucket(s3, acl=None):
    """A bucket where ACLs apply (ObjectWriter) and public ones are not blocked."""
    name = new_name()
    s3.create_bucket(Bucket=name, ObjectOwnership="ObjectWriter")
    s3.delete_public_access_block(Bucket=name)
    if acl:
        s3.put_bucket_acl(Bucket=name, ACL=acl)
    return name


def raw_get(server, path):
    """(status, body) of an unsigned GET."""
    try:
        with urllib.request.urlopen(server.endpoint + path) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


# ---------------------------------------------------------------- CreateBucket

def test_unknown_location_constraint_is_invalid(s3):
    # a name that is no region at all: InvalidLocationConstraint, wherever it is sent
    assert call_error(s3.create_bucket, Bucket=new_name(),
                      CreateBucketConfiguration={"LocationConstraint": "bogus-1"})[:2] == \
        (400, "InvalidLocationConstraint")
    # a real region other than this one: the endpoint's refusal
    for loc in ("eu-west-1", "EU"):
        assert call_error(s3.create_bucket, Bucket=new_name(),
                          CreateBucketConfiguration={"LocationConstraint": loc})[:2] == \
            (400, "IllegalLocationConstraintException")


def test_eu_is_eu_west_1(nimbus_factory):
    # the legacy name of eu-west-1: taken there, and only there
    srv = nimbus_factory(args=["--region", "eu-west-1"])
    s3 = client(srv, "s3", region="eu-west-1")
    s3.create_bucket(Bucket="legacy-eu", CreateBucketConfiguration={"LocationConstraint": "EU"})
    s3.head_bucket(Bucket="legacy-eu")


def test_unknown_object_ownership_is_refused(s3, boto):
    loose = boto("s3", **NOVALID)
    name = new_name()
    status, code, _ = call_error(loose.create_bucket, Bucket=name, ObjectOwnership="Bogus")
    assert (status, code) == (400, "InvalidArgument")
    assert name not in [b["Name"] for b in s3.list_buckets()["Buckets"]]


def test_bucket_acl_with_unknown_grantee_creates_nothing(s3):
    name = new_name()
    status, code, _ = call_error(s3.create_bucket, Bucket=name, ObjectOwnership="ObjectWriter",
                                 GrantRead="id=" + "0" * 64)
    assert (status, code) == (400, "InvalidArgument")
    assert name not in [b["Name"] for b in s3.list_buckets()["Buckets"]]


@pytest.mark.parametrize("kw", [{"ACL": "public-read"}, {"ACL": "public-read-write"},
                                {"ACL": "authenticated-read"},
                                {"GrantRead": "uri=http://acs.amazonaws.com/groups/global/AllUsers"}])
def test_new_bucket_cannot_start_public(s3, kw):
    # a new bucket has every public access block on: a public ACL at creation is refused
    name = new_name()
    status, code, msg = call_error(s3.create_bucket, Bucket=name, ObjectOwnership="ObjectWriter",
                                   **kw)
    assert (status, code) == (400, "InvalidBucketAclWithBlockPublicAccessError")
    assert msg == "Bucket cannot have public ACLs set with BlockPublicAccess enabled"
    assert name not in [b["Name"] for b in s3.list_buckets()["Buckets"]]


def test_bucket_name_is_checked_before_the_acl(s3):
    assert call_error(s3.create_bucket, Bucket="bad_name", ACL="public-read",
                      ObjectOwnership="ObjectWriter")[:2] == (400, "InvalidBucketName")


def test_log_delivery_write_is_a_bucket_acl(s3):
    name = new_name()
    s3.create_bucket(Bucket=name, ObjectOwnership="ObjectWriter", ACL="log-delivery-write")
    grants = s3.get_bucket_acl(Bucket=name)["Grants"]
    log = "http://acs.amazonaws.com/groups/s3/LogDelivery"
    assert sorted(g["Permission"] for g in grants if g["Grantee"].get("URI") == log) == \
        ["READ_ACP", "WRITE"]
    other = acl_bucket(s3)
    s3.put_bucket_acl(Bucket=other, ACL="log-delivery-write")
    assert len(s3.get_bucket_acl(Bucket=other)["Grants"]) == 3


# ---------------------------------------------------------------- gone buckets and keys

def test_deleted_bucket_is_no_such_bucket_for_anonymous_callers(s3, nimbus):
    # s3-tests test_object_raw_get_bucket_gone
    name = acl_bucket(s3, "public-read")
    s3.put_object(Bucket=name, Key="foo", Body=b"foo", ACL="public-read")
    assert raw_get(nimbus, "/%s/foo" % name) == (200, b"foo")
    s3.delete_object(Bucket=name, Key="foo")
    s3.delete_bucket(Bucket=name)
    status, body = raw_get(nimbus, "/%s/foo" % name)
    assert status == 404 and b"<Code>NoSuchBucket</Code>" in body
    status, body = raw_get(nimbus, "/%s" % name)
    assert status == 404 and b"<Code>NoSuchBucket</Code>" in body


def test_missing_key_in_a_public_read_bucket_is_404(s3, nimbus):
    # s3-tests test_object_raw_get_object_gone: whoever may list the bucket learns the key is
    # missing; a private bucket still answers 403
    name = acl_bucket(s3, "public-read")
    s3.put_object(Bucket=name, Key="foo", Body=b"foo", ACL="public-read")
    s3.delete_object(Bucket=name, Key="foo")
    status, body = raw_get(nimbus, "/%s/foo" % name)
    assert status == 404 and b"<Code>NoSuchKey</Code>" in body and b"<Key>foo</Key>" in body
    anon = client(nimbus, "s3", config_kw={"signature_version": UNSIGNED})
    assert call_error(anon.head_object, Bucket=name, Key="foo")[0] == 404
    private = acl_bucket(s3)
    s3.put_object(Bucket=private, Key="foo", Body=b"foo", ACL="public-read")
    assert raw_get(nimbus, "/%s/foo" % private)[0] == 200
    status, body = raw_get(nimbus, "/%s/nokey" % private)
    assert status == 403 and b"<Code>AccessDenied</Code>" in body


# ---------------------------------------------------------------- ACLs

def test_unresolvable_grant_writes_no_object(s3):
    name = acl_bucket(s3)
    status, code, _ = call_error(s3.put_object, Bucket=name, Key="k", Body=b"x",
                                 GrantRead="id=" + "0" * 64)
    assert (status, code) == (400, "InvalidArgument")
    status, code, _ = call_error(s3.put_object, Bucket=name, Key="k", Body=b"x",
                                 GrantRead="emailAddress=nobody@nowhere.example")
    assert (status, code) == (400, "UnresolvableGrantByEmailAddress")
    assert "Contents" not in s3.list_objects_v2(Bucket=name)


def test_access_control_policy_needs_its_owner(s3):
    name = acl_bucket(s3)
    s3.put_object(Bucket=name, Key="k", Body=b"x")
    acp = s3.get_bucket_acl(Bucket=name)
    status, code, _ = call_error(s3.put_bucket_acl, Bucket=name,
                                 AccessControlPolicy={"Grants": acp["Grants"]})
    assert (status, code) == (400, "MalformedACLError")
    status, code, _ = call_error(s3.put_object_acl, Bucket=name, Key="k",
                                 AccessControlPolicy={"Grants": acp["Grants"]})
    assert (status, code) == (400, "MalformedACLError")
    # with it, the same document is taken
    s3.put_bucket_acl(Bucket=name, AccessControlPolicy={"Grants": acp["Grants"], "Owner": acp["Owner"]})


def test_empty_access_control_policy_is_malformed(s3, nimbus):
    name = acl_bucket(s3)
    body = b'<AccessControlPolicy xmlns="http://s3.amazonaws.com/doc/2006-03-01/"/>'

    def replace_body(request, **kw):
        request.data = body
        if "Content-MD5" in request.headers:
            del request.headers["Content-MD5"]

    c = client(nimbus, "s3")
    c.meta.events.register("before-sign.s3.PutBucketAcl", replace_body)
    owner = s3.get_bucket_acl(Bucket=name)["Owner"]
    assert call_error(c.put_bucket_acl, Bucket=name,
                      AccessControlPolicy={"Owner": owner, "Grants": []})[:2] == \
        (400, "MalformedACLError")
    # no body and no header at all: the header AWS asks for
    assert call_error(s3.put_bucket_acl, Bucket=name)[:2] == (400, "MissingSecurityHeader")


def test_header_grants_are_listed_in_header_order(s3, nimbus):
    # s3-tests test_bucket_header_acl_grants / test_object_header_acl_grants compare lists
    other = new_account(nimbus)
    who = "id=" + other["CanonicalUserId"]
    name = new_name()
    s3.create_bucket(Bucket=name, ObjectOwnership="ObjectWriter", GrantRead=who, GrantWrite=who,
                     GrantReadACP=who, GrantWriteACP=who, GrantFullControl=who)
    grants = s3.get_bucket_acl(Bucket=name)["Grants"]
    assert [g["Permission"] for g in grants] == ["READ", "WRITE", "READ_ACP", "WRITE_ACP",
                                                 "FULL_CONTROL"]
    assert {g["Grantee"]["ID"] for g in grants} == {other["CanonicalUserId"]}
    s3.put_object(Bucket=name, Key="k", Body=b"x", GrantRead=who, GrantReadACP=who,
                  GrantWriteACP=who, GrantFullControl=who)
    grants = s3.get_object_acl(Bucket=name, Key="k")["Grants"]
    assert [g["Permission"] for g in grants] == ["READ", "READ_ACP", "WRITE_ACP", "FULL_CONTROL"]


def test_authenticated_read_admits_signed_callers_only(s3, nimbus):
    name = acl_bucket(s3, "authenticated-read")
    s3.put_object(Bucket=name, Key="k", Body=b"x", ACL="authenticated-read")
    grants = s3.get_bucket_acl(Bucket=name)["Grants"]
    assert [(g["Grantee"].get("URI"), g["Permission"]) for g in grants][1:] == [(AUTH_URI, "READ")]
    other = account_client(nimbus, new_account(nimbus))
    assert [o["Key"] for o in other.list_objects(Bucket=name)["Contents"]] == ["k"]
    assert other.get_object(Bucket=name, Key="k")["Body"].read() == b"x"
    anon = client(nimbus, "s3", config_kw={"signature_version": UNSIGNED})
    assert call_error(anon.list_objects, Bucket=name)[:2] == (403, "AccessDenied")
    assert call_error(anon.get_object, Bucket=name, Key="k")[:2] == (403, "AccessDenied")


def test_public_read_write_bucket_takes_anonymous_writes(s3, nimbus):
    # s3-tests test_object_anon_put_write_access / test_access_bucket_publicreadwrite_*
    name = acl_bucket(s3, "public-read-write")
    req = urllib.request.Request("%s/%s/anon" % (nimbus.endpoint, name), data=b"hello",
                                 method="PUT")
    with urllib.request.urlopen(req) as r:
        assert r.status == 200
    # the object is the anonymous user's (ObjectWriter): the bucket owner lists it but needs
    # a grant to read it; anonymous callers read it (test_compat_objects4.py has the rest)
    assert s3.list_objects_v2(Bucket=name)["Contents"][0]["Key"] == "anon"
    assert call_error(s3.get_object, Bucket=name, Key="anon")[:2] == (403, "AccessDenied")
    assert raw_get(nimbus, "/%s/anon" % name)[0] == 200
    assert raw_get(nimbus, "/%s" % name)[0] == 200
    # a public-read bucket does not
    ro = acl_bucket(s3, "public-read")
    req = urllib.request.Request("%s/%s/anon" % (nimbus.endpoint, ro), data=b"x", method="PUT")
    with pytest.raises(urllib.error.HTTPError) as e:
        urllib.request.urlopen(req)
    assert e.value.code == 403


# ---------------------------------------------------------------- bucket policy

def test_owner_root_keeps_the_policy_actions_under_a_deny_all_policy(s3, bucket):
    arn = "arn:aws:s3:::" + bucket
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    deny = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": [arn, arn + "/*"]}]})
    s3.put_bucket_policy(Bucket=bucket, Policy=deny)
    # the deny binds the owner too...
    assert call_error(s3.get_object, Bucket=bucket, Key="k")[:2] == (403, "AccessDenied")
    assert call_error(s3.list_objects_v2, Bucket=bucket)[:2] == (403, "AccessDenied")
    # ...except for reading, replacing and deleting the policy itself
    assert s3.get_bucket_policy(Bucket=bucket)["Policy"] == deny
    s3.put_bucket_policy(Bucket=bucket, Policy=deny)
    s3.delete_bucket_policy(Bucket=bucket)
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"x"


# ---------------------------------------------------------------- listing

def test_empty_continuation_token_starts_over(s3, bucket):
    # s3-tests test_bucket_listv2_continuationtoken_empty
    for k in ("bar", "baz", "foo", "quxx"):
        s3.put_object(Bucket=bucket, Key=k, Body=b"x")
    r = s3.list_objects_v2(Bucket=bucket, ContinuationToken="")
    assert r["ContinuationToken"] == "" and r["IsTruncated"] is False
    assert [o["Key"] for o in r["Contents"]] == ["bar", "baz", "foo", "quxx"]


def test_url_encoding_keeps_star_and_encodes_tilde(s3, bucket):
    s3.put_object(Bucket=bucket, Key="a~b*c d+e/f", Body=b"x")
    # asked for explicitly, botocore leaves the values as sent
    r = s3.list_objects_v2(Bucket=bucket, EncodingType="url")
    assert r["Contents"][0]["Key"] == "a%7Eb*c+d%2Be/f"
    r = s3.list_objects_v2(Bucket=bucket, EncodingType="url", Delimiter="~", StartAfter="a*")
    assert r["Delimiter"] == "%7E" and r["StartAfter"] == "a*"
    assert [p["Prefix"] for p in r["CommonPrefixes"]] == ["a%7E"]
    # and its own decoding gives the key back
    assert s3.list_objects(Bucket=bucket)["Contents"][0]["Key"] == "a~b*c d+e/f"


@pytest.mark.parametrize("action,resource,ok", [
    ("s3:GetObject", "", False),             # an object action on the bucket only
    ("s3:ListBucket", "/*", False),          # a bucket action on the objects only
    (["s3:ListBucket", "s3:GetObject"], "/*", True),
    ("s3:Get*", "", True),                   # wildcards may apply to either
    ("s3:ListBucket", "*", True),
])
def test_policy_action_must_apply_to_a_resource(s3, bucket, action, resource, ok):
    s3.delete_public_access_block(Bucket=bucket)
    res = "arn:aws:s3:::" + (bucket[:-2] + "*" if resource == "*" else bucket + resource)
    doc = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": "*", "Action": action, "Resource": res}]})
    if ok:
        s3.put_bucket_policy(Bucket=bucket, Policy=doc)
        return
    status, code, msg = call_error(s3.put_bucket_policy, Bucket=bucket, Policy=doc)
    assert (status, code, msg) == (400, "MalformedPolicy",
                                   "Action does not apply to any resource(s) in statement")


def test_head_bucket_tells_the_region_even_when_refusing(s3, nimbus, bucket):
    h = s3.head_bucket(Bucket=bucket)["ResponseMetadata"]["HTTPHeaders"]
    assert h["x-amz-bucket-region"] == "us-east-1" and h["x-amz-access-point-alias"] == "false"
    other = account_client(nimbus, new_account(nimbus))
    import botocore.exceptions
    with pytest.raises(botocore.exceptions.ClientError) as e:
        other.head_bucket(Bucket=bucket)
    r = e.value.response["ResponseMetadata"]
    assert r["HTTPStatusCode"] == 403 and r["HTTPHeaders"]["x-amz-bucket-region"] == "us-east-1"
    # a bucket that does not exist has no region to tell
    with pytest.raises(botocore.exceptions.ClientError) as e:
        other.head_bucket(Bucket=new_name())
    r = e.value.response["ResponseMetadata"]
    assert r["HTTPStatusCode"] == 404 and "x-amz-bucket-region" not in r["HTTPHeaders"]


def test_objects_another_account_wrote_are_its_own(s3, nimbus):
    # s3-tests test_bucket_policy_put_obj_grant: under ObjectWriter the bucket owner reads an
    # object another account wrote only through that object's ACL
    name = acl_bucket(s3, "public-read-write")
    other = account_client(nimbus, new_account(nimbus))
    for acl in ("private", "bucket-owner-read", "bucket-owner-full-control"):
        other.put_object(Bucket=name, Key=acl, Body=acl.encode(), ACL=acl)
        assert other.get_object(Bucket=name, Key=acl)["Body"].read() == acl.encode()
        assert other.get_object_acl(Bucket=name, Key=acl)["Owner"]["ID"] != \
            s3.list_buckets()["Owner"]["ID"]
    assert call_error(s3.get_object, Bucket=name, Key="private")[:2] == (403, "AccessDenied")
    assert call_error(s3.head_object, Bucket=name, Key="private")[0] == 403
    assert call_error(s3.get_object_acl, Bucket=name, Key="private")[:2] == (403, "AccessDenied")
    assert s3.get_object(Bucket=name, Key="bucket-owner-read")["Body"].read() == b"bucket-owner-read"
    assert call_error(s3.get_object_acl, Bucket=name, Key="bucket-owner-read")[0] == 403
    s3.get_object_acl(Bucket=name, Key="bucket-owner-full-control")
    # listing shows the writer as owner; deleting stays the bucket owner's right
    owners = {o["Key"]: o["Owner"]["ID"] for o in s3.list_objects(Bucket=name)["Contents"]}
    assert owners["private"] != s3.list_buckets()["Owner"]["ID"]
    s3.delete_object(Bucket=name, Key="private")
    # objects the bucket owner wrote stay closed to the other account
    s3.put_object(Bucket=name, Key="mine", Body=b"x")
    assert call_error(other.get_object, Bucket=name, Key="mine")[:2] == (403, "AccessDenied")


def test_recreating_an_owned_bucket_resets_its_acl(s3, nimbus):
    # AWS (us-east-1 legacy): 200 OK, the objects stay, the bucket ACL is reset
    name = acl_bucket(s3, "public-read")
    s3.put_object(Bucket=name, Key="k", Body=b"x")
    assert raw_get(nimbus, "/%s" % name)[0] == 200
    s3.create_bucket(Bucket=name)
    assert [g["Permission"] for g in s3.get_bucket_acl(Bucket=name)["Grants"]] == ["FULL_CONTROL"]
    assert raw_get(nimbus, "/%s" % name)[0] == 403
    assert [o["Key"] for o in s3.list_objects(Bucket=name)["Contents"]] == ["k"]
    # to the ACL the request names, if any
    s3.create_bucket(Bucket=name, ObjectOwnership="ObjectWriter", ACL="log-delivery-write")
    assert len(s3.get_bucket_acl(Bucket=name)["Grants"]) == 3


def test_listings_give_last_modified_in_whole_seconds(s3, bucket):
    # AWS lists ...T18:07:53.000Z: the same instant HEAD's Last-Modified names
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    head = s3.head_object(Bucket=bucket, Key="k")["LastModified"]
    assert s3.list_objects(Bucket=bucket)["Contents"][0]["LastModified"] == head
    assert s3.list_objects_v2(Bucket=bucket)["Contents"][0]["LastModified"] == head
    assert s3.list_object_versions(Bucket=bucket)["Versions"][0]["LastModified"] == head


def test_owner_enforced_takes_only_the_owners_full_control(s3, bucket):
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    acl = s3.get_bucket_acl(Bucket=bucket)
    # the default ACL, in any form, is accepted
    s3.put_bucket_acl(Bucket=bucket, AccessControlPolicy={"Owner": acl["Owner"], "Grants": acl["Grants"]})
    s3.put_bucket_acl(Bucket=bucket, GrantFullControl="id=" + acl["Owner"]["ID"])
    s3.put_bucket_acl(Bucket=bucket, ACL="private")
    s3.put_object_acl(Bucket=bucket, Key="k", ACL="bucket-owner-full-control")
    # an ACL without the owner's full control is not the default: ACLs are disabled
    empty = {"Owner": acl["Owner"], "Grants": []}
    assert call_error(s3.put_bucket_acl, Bucket=bucket, AccessControlPolicy=empty)[:2] == \
        (400, "AccessControlListNotSupported")
    assert call_error(s3.put_object_acl, Bucket=bucket, Key="k", AccessControlPolicy=empty)[:2] == \
        (400, "AccessControlListNotSupported")
    assert call_error(s3.put_bucket_acl, Bucket=bucket, ACL="public-read")[:2] == \
        (400, "AccessControlListNotSupported")
    assert s3.get_bucket_acl(Bucket=bucket)["Grants"] == acl["Grants"]


def test_bucket_not_empty_of_versions(s3, bucket):
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    assert call_error(s3.delete_bucket, Bucket=bucket) == \
        (409, "BucketNotEmpty", "The bucket you tried to delete is not empty")
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    s3.delete_object(Bucket=bucket, Key="k")
    assert "Contents" not in s3.list_objects_v2(Bucket=bucket)
    assert call_error(s3.delete_bucket, Bucket=bucket) == \
        (409, "BucketNotEmpty", "The bucket you tried to delete is not empty. You must delete all"
         " versions in the bucket.")


@pytest.mark.parametrize("key,value,ok", [
    ("k#", "v", False), ("k", "v?", False), ("k", "a<b", False),
    ("a b_c.d:e/f=g+h-i@j", "A 1_2.3:4/5=6+7-8@9", True), ("clé", "üñï", True), ("k", "", True),
])
def test_bucket_tag_characters(s3, bucket, key, value, ok):
    tagging = {"TagSet": [{"Key": key, "Value": value}]}
    if ok:
        s3.put_bucket_tagging(Bucket=bucket, Tagging=tagging)
        assert s3.get_bucket_tagging(Bucket=bucket)["TagSet"] == tagging["TagSet"]
        return
    status, code, msg = call_error(s3.put_bucket_tagging, Bucket=bucket, Tagging=tagging)
    assert (status, code) == (400, "InvalidTag")
    assert msg == ("The TagKey you have provided is invalid" if "#" in key
                   else "The TagValue you have provided is invalid")


def test_empty_delimiter_is_no_delimiter(s3, bucket):
    # s3-tests test_bucket_list_delimiter_empty / test_bucket_listv2_delimiter_empty
    for k in ("bar", "baz", "cab", "foo"):
        s3.put_object(Bucket=bucket, Key=k, Body=b"x")
    for call in (s3.list_objects, s3.list_objects_v2):
        r = call(Bucket=bucket, Delimiter="")
        assert "Delimiter" not in r and "CommonPrefixes" not in r
        assert [o["Key"] for o in r["Contents"]] == ["bar", "baz", "cab", "foo"]
        assert call(Bucket=bucket, Delimiter="a")["Delimiter"] == "a"
    r = s3.list_objects(Bucket=bucket, Delimiter="", MaxKeys=1)
    assert r["IsTruncated"] and "NextMarker" not in r


def test_copy_reads_its_source_with_the_readers_rights(s3, nimbus):
    # write access to a bucket (public-read-write) is no licence to copy its private objects,
    # in the same bucket or from another; an object ACL's READ is
    name = acl_bucket(s3, "public-read-write")
    s3.put_object(Bucket=name, Key="secret", Body=b"top secret")
    s3.put_object(Bucket=name, Key="pub", Body=b"pub", ACL="public-read")
    other = account_client(nimbus, new_account(nimbus))
    anon = client(nimbus, "s3", config_kw={"signature_version": UNSIGNED})
    for who in (other, anon):
        assert call_error(who.copy_object, Bucket=name, Key="leak",
                          CopySource=name + "/secret")[:2] == (403, "AccessDenied")
    other.copy_object(Bucket=name, Key="copy", CopySource=name + "/pub")
    assert other.get_object(Bucket=name, Key="copy")["Body"].read() == b"pub"
    upload = other.create_multipart_upload(Bucket=name, Key="mp")["UploadId"]
    assert call_error(other.upload_part_copy, Bucket=name, Key="mp", UploadId=upload, PartNumber=1,
                      CopySource=name + "/secret")[:2] == (403, "AccessDenied")
    other.upload_part_copy(Bucket=name, Key="mp", UploadId=upload, PartNumber=1,
                           CopySource=name + "/pub")
    src = acl_bucket(s3)
    s3.put_object(Bucket=src, Key="pub", Body=b"x", ACL="public-read")
    s3.put_object(Bucket=src, Key="priv", Body=b"x")
    other.copy_object(Bucket=name, Key="c1", CopySource=src + "/pub")
    assert call_error(other.copy_object, Bucket=name, Key="c2",
                      CopySource=src + "/priv")[:2] == (403, "AccessDenied")
    # the bucket owner copies its own objects, not another account's private one
    s3.copy_object(Bucket=name, Key="c3", CopySource=name + "/secret")
    other.put_object(Bucket=name, Key="theirs", Body=b"x")
    assert call_error(s3.copy_object, Bucket=name, Key="c4",
                      CopySource=name + "/theirs")[:2] == (403, "AccessDenied")


def test_acl_body_that_is_not_xml_is_malformed_acl_error(s3, bucket):
    """S3 names a PutBucketAcl/PutObjectAcl body it cannot read MalformedACLError (other
    bodies are MalformedXML)."""
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")

    def garble(request, **kwargs):
        request.data = b"<AccessControlPolicy><Owner>"
        for h in ("Content-MD5", "Content-Length"):
            if h in request.headers:
                del request.headers[h]
        request.headers["Content-Length"] = str(len(request.data))

    for op, call in (("PutBucketAcl", lambda: s3.put_bucket_acl(
            Bucket=bucket, AccessControlPolicy={"Owner": {"ID": "x"}, "Grants": []})),
                     ("PutObjectAcl", lambda: s3.put_object_acl(
            Bucket=bucket, Key="k", AccessControlPolicy={"Owner": {"ID": "x"}, "Grants": []}))):
        s3.meta.events.register("before-sign.s3." + op, garble)
        try:
            with pytest.raises(ClientError) as e:
                call()
            assert e.value.response["Error"]["Code"] == "MalformedACLError", e.value.response
            assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
        finally:
            s3.meta.events.unregister("before-sign.s3." + op, garble)
    # other bodies stay MalformedXML
    s3.meta.events.register("before-sign.s3.PutBucketTagging", garble)
    with pytest.raises(ClientError) as e:
        s3.put_bucket_tagging(Bucket=bucket, Tagging={"TagSet": []})
    assert e.value.response["Error"]["Code"] == "MalformedXML"
