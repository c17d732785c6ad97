"""S3 bucket configurations checked against AWS's S3 API reference (fourth round): bucket policy
validation (unknown S3 actions and condition keys, principals that do not exist, an empty
statement list), the website endpoint's 403 for missing keys when the reader may not list, and
the other differences found in the audit of the bucket-configuration APIs."""
import json
import urllib.error
import urllib.request
import uuid

import pytest
from botocore.exceptions import ClientError

from conftest import aws, client  # noqa: F401 (fixture)
from s3util import bucket, err, s3  # noqa: F401 (fixtures)
from test_website import curl


def policy(*stmts):
    return json.dumps({"Version": "2012-10-17", "Statement": list(stmts)})


def malformed(s3, bucket, doc):
    with pytest.raises(ClientError) as e:
        s3.put_bucket_policy(Bucket=bucket, Policy=doc)
    assert err(e) == (400, "MalformedPolicy")
    return e.value.response["Error"]["Message"]


# ---------------------------------------------------------------- bucket policies

def test_policy_refuses_actions_s3_does_not_have(s3, bucket):
    res = "arn:aws:s3:::%s/*" % bucket
    for action in ("s3:GetObjekt", "s3:PutBucketFoo", ["s3:GetObject", "s3:Nope"]):
        doc = policy({"Effect": "Allow", "Principal": {"AWS": "111122223333"}, "Action": action,
                      "Resource": res})
        assert malformed(s3, bucket, doc) == "Policy has invalid action"
    with pytest.raises(ClientError):
        s3.get_bucket_policy(Bucket=bucket)
    # real names in any case, and wildcards, are taken
    for action in ("s3:getobject", "s3:Get*", "s3:*", "*", "s3:GetObjectVersionTagging",
                   ["s3:PutObject", "s3:AbortMultipartUpload"]):
        s3.put_bucket_policy(Bucket=bucket, Policy=policy(
            {"Effect": "Allow", "Principal": {"AWS": "111122223333"}, "Action": action, "Resource": res}))


def test_policy_refuses_unknown_s3_condition_keys(s3, bucket):
    def doc(cond):
        return policy({"Effect": "Allow", "Principal": {"AWS": "111122223333"}, "Action": "s3:ListBucket",
                       "Resource": "arn:aws:s3:::%s" % bucket, "Condition": cond})
    assert malformed(s3, bucket, doc({"StringEquals": {"s3:prefixes": "home/"}})) == \
        "Policy has an invalid condition key"
    assert malformed(s3, bucket, doc({"StringLike": {"s3:ExistingObjectTag/": "x"}})) == \
        "Policy has an invalid condition key"
    for cond in ({"StringEquals": {"s3:prefix": "home/"}},
                 {"NumericLessThanEquals": {"s3:max-keys": "10"}},
                 {"StringEquals": {"S3:Delimiter": "/"}},
                 {"StringEquals": {"s3:ExistingObjectTag/team": "a"}},
                 {"StringEquals": {"aws:PrincipalOrgID": "o-abc"}},
                 {"Bool": {"aws:SecureTransport": "true"}}):
        s3.put_bucket_policy(Bucket=bucket, Policy=doc(cond))


def test_policy_principals_must_exist(s3, nimbus, bucket):
    res = "arn:aws:s3:::%s/*" % bucket

    def doc(who):
        return policy({"Effect": "Allow", "Principal": {"AWS": who}, "Action": "s3:GetObject", "Resource": res})
    for who in ("arn:aws:iam::000000000000:user/nobody-here", "arn:aws:iam::000000000000:role/no-role",
                "not-an-arn", ["arn:aws:iam::000000000000:root", "arn:aws:iam::000000000000:user/ghost"]):
        assert malformed(s3, bucket, doc(who)) == "Invalid principal in policy"
    iam = client(nimbus, "iam")
    name = "pol-user-" + uuid.uuid4().hex[:6]
    iam.create_user(UserName=name)
    s3.put_bucket_policy(Bucket=bucket, Policy=doc("arn:aws:iam::000000000000:user/" + name))
    # accounts, roots and users of accounts not served here are taken on trust
    for who in ("111122223333", "arn:aws:iam::111122223333:root", "arn:aws:iam::111122223333:user/x"):
        s3.put_bucket_policy(Bucket=bucket, Policy=doc(who))


def test_policy_with_no_statements(s3, bucket):
    assert malformed(s3, bucket, json.dumps({"Version": "2012-10-17", "Statement": []})) == \
        "Could not parse the policy: Statement is empty!"
    assert malformed(s3, bucket, json.dumps({"Version": "2012-10-17"})) == "Missing required field Statement"


# ---------------------------------------------------------------- website endpoint

def site_with(s3, actions):
    name = "site4-" + uuid.uuid4().hex[:8]
    s3.create_bucket(Bucket=name)
    s3.delete_public_access_block(Bucket=name)
    stmts = [{"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
              "Resource": "arn:aws:s3:::%s/*" % name}]
    if "list" in actions:
        stmts.append({"Effect": "Allow", "Principal": "*", "Action": "s3:ListBucket",
                      "Resource": "arn:aws:s3:::%s" % name})
    s3.put_bucket_policy(Bucket=name, Policy=policy(*stmts))
    s3.put_object(Bucket=name, Key="index.html", Body=b"home", ContentType="text/html")
    s3.put_object(Bucket=name, Key="err.html", Body=b"oops", ContentType="text/html")
    return name


def test_website_missing_key_is_403_without_list_permission(s3, nimbus):
    """AWS: a reader that may not list the bucket gets 403 AccessDenied for a missing key (and
    the error document with that status), so the site does not tell which keys exist."""
    name = site_with(s3, ())
    s3.put_bucket_website(Bucket=name, WebsiteConfiguration={"IndexDocument": {"Suffix": "index.html"}})
    host = name + ".s3-website.localhost"
    st, h, body = curl(nimbus, "/missing.html", host)
    assert st == 403 and b"<li>Code: AccessDenied</li>" in body
    assert h["x-amz-error-code"] == "AccessDenied"
    st, _, body = curl(nimbus, "/sub/", host)  # no sub/index.html
    assert st == 403 and b"<li>Code: AccessDenied</li>" in body
    assert curl(nimbus, "/", host)[:3:2] == (200, b"home")
    # the error document comes with the 403, and routing rules see 403
    s3.put_bucket_website(Bucket=name, WebsiteConfiguration={
        "IndexDocument": {"Suffix": "index.html"}, "ErrorDocument": {"Key": "err.html"},
        "RoutingRules": [{"Condition": {"KeyPrefixEquals": "app/", "HttpErrorCodeReturnedEquals": "403"},
                          "Redirect": {"ReplaceKeyWith": "index.html", "HttpRedirectCode": "302"}}]})
    st, _, body = curl(nimbus, "/missing.html", host)
    assert (st, body) == (403, b"oops")
    st, h, _ = curl(nimbus, "/app/route", host)
    assert st == 302 and h["location"] == "http://%s/index.html" % host


def test_website_missing_key_is_404_with_list_permission(s3, nimbus):
    name = site_with(s3, ("list",))
    s3.put_bucket_website(Bucket=name, WebsiteConfiguration={
        "IndexDocument": {"Suffix": "index.html"}, "ErrorDocument": {"Key": "err.html"}})
    host = name + ".s3-website.localhost"
    st, _, body = curl(nimbus, "/missing.html", host)
    assert (st, body) == (404, b"oops")
    s3.delete_bucket_website(Bucket=name)
    s3.put_bucket_website(Bucket=name, WebsiteConfiguration={"IndexDocument": {"Suffix": "index.html"}})
    st, h, body = curl(nimbus, "/missing.html", host)
    assert st == 404 and b"<li>Code: NoSuchKey</li>" in body and h["x-amz-error-code"] == "NoSuchKey"


def new_account(server):
    req = urllib.request.Request(server.endpoint + "/_nimbus/accounts", method="POST",
                                 data=json.dumps({"Email": "cfg4-%s@example.com" % uuid.uuid4().hex[:8]}).encode())
    with urllib.request.urlopen(req) as r:
        acct = json.loads(r.read())
    return acct, client(server, "s3", access_key=acct["AccessKeyId"], secret_key=acct["SecretAccessKey"])


def test_policy_operations_are_for_the_owner_account_only(s3, nimbus, bucket):
    """AWS: another account allowed the bucket-policy actions still gets 405 MethodNotAllowed
    from Get/Put/DeleteBucketPolicy; other reads it is allowed work."""
    acct, other = new_account(nimbus)
    doc = policy({"Effect": "Allow", "Principal": {"AWS": acct["AccountId"]},
                  "Action": ["s3:GetBucketPolicy", "s3:PutBucketPolicy", "s3:DeleteBucketPolicy",
                             "s3:GetBucketPolicyStatus"],
                  "Resource": "arn:aws:s3:::%s" % bucket})
    s3.put_bucket_policy(Bucket=bucket, Policy=doc)
    for method, call in (("GET", lambda: other.get_bucket_policy(Bucket=bucket)),
                         ("PUT", lambda: other.put_bucket_policy(Bucket=bucket, Policy=doc)),
                         ("DELETE", lambda: other.delete_bucket_policy(Bucket=bucket))):
        with pytest.raises(ClientError) as e:
            call()
        assert err(e) == (405, "MethodNotAllowed")
        assert e.value.response["Error"]["Method"] == method
    assert other.get_bucket_policy_status(Bucket=bucket)["PolicyStatus"]["IsPublic"] is False
    assert s3.get_bucket_policy(Bucket=bucket)["Policy"] == doc
    # without the permission it is the usual 403
    s3.delete_bucket_policy(Bucket=bucket)
    with pytest.raises(ClientError) as e:
        other.get_bucket_policy(Bucket=bucket)
    assert err(e) == (403, "AccessDenied")


# ---------------------------------------------------------------- Requester Pays

def test_requester_pays_refuses_anonymous_callers_even_when_they_accept_the_charge(s3, nimbus, bucket):
    """AWS: anonymous access to a Requester Pays bucket is not allowed (nobody to charge)."""
    s3.delete_public_access_block(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="k", Body=b"data")
    s3.put_bucket_policy(Bucket=bucket, Policy=policy(
        {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::%s/*" % bucket}))
    url = "%s/%s/k" % (nimbus.endpoint, bucket)
    with urllib.request.urlopen(url) as r:
        assert r.read() == b"data"
    s3.put_bucket_request_payment(Bucket=bucket, RequestPaymentConfiguration={"Payer": "Requester"})
    for headers in ({}, {"x-amz-request-payer": "requester"}):
        with pytest.raises(urllib.error.HTTPError) as e:
            urllib.request.urlopen(urllib.request.Request(url, headers=headers))
        assert e.value.code == 403 and b"<Code>AccessDenied</Code>" in e.value.read()
    # signed callers of the owner's account are served as before
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"data"


# ---------------------------------------------------------------- GetBucketPolicyStatus

@pytest.mark.parametrize("cond,public", [
    ({"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}, False),
    ({"IpAddress": {"aws:SourceIp": "0.0.0.0/1"}}, True),
    ({"IpAddress": {"aws:SourceIp": "2001:db8::/32"}}, False),
    ({"IpAddress": {"aws:SourceIp": "2001:db8::/31"}}, True),
    ({"IpAddress": {"aws:SourceIp": ["192.0.2.0/24", "::/0"]}}, True),
    ({"StringEquals": {"aws:SourceVpce": "vpce-1a2b3c4d"}}, False),
    ({"StringEquals": {"aws:PrincipalAccount": "111122223333"}}, False),
    ({"StringLike": {"aws:PrincipalAccount": "1111*"}}, True),
    ({"StringEquals": {"aws:PrincipalAccount": "${aws:username}"}}, True),
    ({"StringLike": {"aws:userid": "AROAEXAMPLEROLEID:*"}}, False),
    ({"StringLike": {"aws:userid": "*:alice"}}, True),
    ({"StringNotEquals": {"aws:SourceVpce": "vpce-1a2b3c4d"}}, True),
    ({"StringEquals": {"s3:prefix": "home/"}}, True),
])
def test_policy_status_follows_the_meaning_of_public(s3, bucket, cond, public):
    """S3 User Guide, "The meaning of public": a wildcard principal is public unless a condition
    pins fixed values of the listed keys; source IP ranges broader than /8 (IPv4) or /32 (IPv6)
    and policy variables pin nothing; aws:userid "AROLEID:*" does."""
    s3.delete_public_access_block(Bucket=bucket)
    s3.put_bucket_policy(Bucket=bucket, Policy=policy(
        {"Effect": "Allow", "Principal": "*", "Action": "s3:ListBucket",
         "Resource": "arn:aws:s3:::%s" % bucket, "Condition": cond}))
    assert s3.get_bucket_policy_status(Bucket=bucket)["PolicyStatus"]["IsPublic"] is public
    # BlockPublicPolicy refuses exactly the public ones
    s3.delete_bucket_policy(Bucket=bucket)
    s3.put_public_access_block(Bucket=bucket, PublicAccessBlockConfiguration={"BlockPublicPolicy": True})
    doc = policy({"Effect": "Allow", "Principal": "*", "Action": "s3:ListBucket",
                  "Resource": "arn:aws:s3:::%s" % bucket, "Condition": cond})
    if public:
        with pytest.raises(ClientError) as e:
            s3.put_bucket_policy(Bucket=bucket, Policy=doc)
        assert err(e) == (403, "AccessDenied")
    else:
        s3.put_bucket_policy(Bucket=bucket, Policy=doc)


# ---------------------------------------------------------------- status codes

def test_put_bucket_tagging_answers_204(s3, bucket):
    """AWS's PutBucketTagging answer is 204 No Content (its API reference's sample response)."""
    r = s3.put_bucket_tagging(Bucket=bucket, Tagging={"TagSet": [{"Key": "team", "Value": "a"}]})
    assert r["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert s3.get_bucket_tagging(Bucket=bucket)["TagSet"] == [{"Key": "team", "Value": "a"}]
    assert s3.delete_bucket_tagging(Bucket=bucket)["ResponseMetadata"]["HTTPStatusCode"] == 204


def test_cli_put_bucket_tagging(nimbus, bucket, aws):
    aws("s3api", "put-bucket-tagging", "--bucket", bucket, "--tagging", "TagSet=[{Key=k,Value=v}]")
    assert aws("s3api", "get-bucket-tagging", "--bucket", bucket)["TagSet"] == [{"Key": "k", "Value": "v"}]


def test_policy_size_limit_is_20_kb(s3, bucket):
    def doc(n):
        base = {"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Principal": {"AWS": "111122223333"}, "Action": "s3:GetObject",
            "Resource": "arn:aws:s3:::%s/" % bucket}]}
        short = len(json.dumps(base, separators=(",", ":")))
        base["Statement"][0]["Resource"] += "k" * (n - short)
        text = json.dumps(base, separators=(",", ":"))
        assert len(text) == n
        return text
    s3.put_bucket_policy(Bucket=bucket, Policy=doc(20480))
    assert len(s3.get_bucket_policy(Bucket=bucket)["Policy"]) == 20480
    with pytest.raises(ClientError) as e:
        s3.put_bucket_policy(Bucket=bucket, Policy=doc(20481))
    assert err(e) == (400, "PolicyTooLarge")
    assert e.value.response["Error"]["Message"] == "Policies must be less than 20 KB"
    assert len(s3.get_bucket_policy(Bucket=bucket)["Policy"]) == 20480


# ---------------------------------------------------------------- server access logging

def test_logging_target_grants_are_resolved_and_given_to_log_objects(s3, nimbus, bucket):
    """TargetGrants name grantees as an ACL does: unknown ones are refused as in an ACL, and the
    delivered log objects carry the grants (the target owner keeps full control)."""
    from test_bucket_logging import wait_records
    target = "lgt-" + uuid.uuid4().hex[:10]
    s3.create_bucket(Bucket=target, ObjectOwnership="ObjectWriter")
    acct, other = new_account(nimbus)

    def put(grantee, perm="READ"):
        s3.put_bucket_logging(Bucket=bucket, BucketLoggingStatus={"LoggingEnabled": {
            "TargetBucket": target, "TargetPrefix": "logs/",
            "TargetGrants": [{"Grantee": grantee, "Permission": perm}]}})
    for grantee, code in (({"Type": "CanonicalUser", "ID": "0" * 64}, "InvalidArgument"),
                          ({"Type": "AmazonCustomerByEmail", "EmailAddress": "nobody@nowhere.example"},
                           "UnresolvableGrantByEmailAddress"),
                          ({"Type": "Group", "URI": "http://acs.amazonaws.com/groups/global/Nobody"},
                           "InvalidArgument")):
        with pytest.raises(ClientError) as e:
            put(grantee)
        assert err(e) == (400, code)
    assert "LoggingEnabled" not in s3.get_bucket_logging(Bucket=bucket)
    put({"Type": "AmazonCustomerByEmail", "EmailAddress": acct["Email"]})
    got = s3.get_bucket_logging(Bucket=bucket)["LoggingEnabled"]
    assert got["TargetGrants"] == [{"Grantee": {"Type": "AmazonCustomerByEmail", "EmailAddress": acct["Email"]},
                                    "Permission": "READ"}]
    s3.put_object(Bucket=bucket, Key="logged", Body=b"x")
    recs = wait_records(nimbus, s3, target, "logs/",
                        lambda rs: any(r["operation"] == "REST.PUT.OBJECT" for r in rs))
    assert any(r["operation"] == "REST.PUT.OBJECT" for r in recs)
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=target, Prefix="logs/")["Contents"]]
    acl = s3.get_object_acl(Bucket=target, Key=keys[0])
    assert {"Grantee": {"Type": "CanonicalUser", "ID": acct["CanonicalUserId"],
                        "DisplayName": acct["AccountId"]}, "Permission": "READ"} in acl["Grants"]
    assert acl["Owner"]["ID"] == s3.list_buckets()["Owner"]["ID"]
    # the grantee reads the log object through its grant
    assert b"REST.PUT.OBJECT" in b"".join(other.get_object(Bucket=target, Key=k)["Body"].read() for k in keys)


def test_policy_canonical_user_principals_are_canonical_ids(s3, bucket):
    def doc(cid):
        return policy({"Effect": "Allow", "Principal": {"CanonicalUser": cid}, "Action": "s3:GetObject",
                       "Resource": "arn:aws:s3:::%s/*" % bucket})
    for cid in ("alice", "0" * 63, "z" * 64):
        assert malformed(s3, bucket, doc(cid)) == "Invalid principal in policy"
    s3.put_bucket_policy(Bucket=bucket, Policy=doc(s3.list_buckets()["Owner"]["ID"]))


# ---------------------------------------------------------------- bucket tagging

def test_bucket_tags_with_the_aws_prefix_are_system_tags(s3, bucket):
    with pytest.raises(ClientError) as e:
        s3.put_bucket_tagging(Bucket=bucket, Tagging={"TagSet": [{"Key": "aws:cloudformation:stack-name",
                                                                 "Value": "x"}]})
    assert err(e) == (400, "InvalidTag")
    assert e.value.response["Error"]["Message"] == "System tags cannot be added/updated by requester"
    # objects word it their own way
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    with pytest.raises(ClientError) as e:
        s3.put_object_tagging(Bucket=bucket, Key="k", Tagging={"TagSet": [{"Key": "aws:x", "Value": "1"}]})
    assert err(e) == (400, "InvalidTag")
    assert e.value.response["Error"]["Message"] == "Your TagKey cannot be prefixed with aws:"
    with pytest.raises(ClientError) as e:
        s3.put_bucket_tagging(Bucket=bucket, Tagging={"TagSet": [{"Key": "k%d" % i, "Value": "v"} for i in range(51)]})
    assert err(e) == (400, "InvalidTag")
    s3.put_bucket_tagging(Bucket=bucket, Tagging={"TagSet": [{"Key": "k%d" % i, "Value": "v"} for i in range(50)]})
    assert len(s3.get_bucket_tagging(Bucket=bucket)["TagSet"]) == 50


def test_empty_tag_set_leaves_no_tags(s3, bucket):
    s3.put_bucket_tagging(Bucket=bucket, Tagging={"TagSet": [{"Key": "a", "Value": "1"}]})
    s3.put_bucket_tagging(Bucket=bucket, Tagging={"TagSet": []})
    with pytest.raises(ClientError) as e:
        s3.get_bucket_tagging(Bucket=bucket)
    assert err(e) == (404, "NoSuchTagSet")


def test_logging_to_a_bucket_of_another_region_is_prohibited(nimbus_factory):
    """A bucket made while the server served another region stays there: logging into it from
    this region's buckets is AWS's 403 CrossLocationLoggingProhibitted (sic)."""
    srv = nimbus_factory()
    old = "lgr-" + uuid.uuid4().hex[:10]
    client(srv, "s3").create_bucket(Bucket=old)
    srv.stop()
    srv2 = nimbus_factory(args=["--region", "eu-west-1"], data_dir=srv.data_dir)
    s3c = client(srv2, "s3", region="eu-west-1")
    src = "lgs-" + uuid.uuid4().hex[:10]
    s3c.create_bucket(Bucket=src, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    with pytest.raises(ClientError) as e:
        s3c.put_bucket_logging(Bucket=src, BucketLoggingStatus={"LoggingEnabled": {
            "TargetBucket": old, "TargetPrefix": "logs/"}})
    assert err(e) == (403, "CrossLocationLoggingProhibitted")
    assert e.value.response["Error"]["TargetBucketLocation"] == "us-east-1"
    assert "LoggingEnabled" not in s3c.get_bucket_logging(Bucket=src)


# ---------------------------------------------------------------- versioning

def test_versioning_configuration_without_status(s3, bucket):
    with pytest.raises(ClientError) as e:
        s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={})
    assert err(e) == (400, "IllegalVersioningConfigurationException")
    assert e.value.response["Error"]["Message"] == "The Versioning element must be specified"
    with pytest.raises(ClientError) as e:
        s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "On"})
    assert err(e) == (400, "MalformedXML")
    assert "Status" not in s3.get_bucket_versioning(Bucket=bucket)
    # MFA delete would need MFA devices for S3: refused as not implemented, never faked
    with pytest.raises(ClientError) as e:
        s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled", "MFADelete": "Enabled"},
                                 MFA="arn:aws:iam::000000000000:mfa/root 123456")
    assert err(e) == (501, "NotImplemented")
    assert "Status" not in s3.get_bucket_versioning(Bucket=bucket)


# ---------------------------------------------------------------- Block Public Access

def account_block(server, acct, doc):
    url = server.endpoint + "/_nimbus/s3/public-access-block/" + acct
    if doc is None:
        urllib.request.urlopen(urllib.request.Request(url, method="DELETE")).read()
        return
    req = urllib.request.Request(url, method="PUT", data=json.dumps(doc).encode())
    with urllib.request.urlopen(req) as r:
        return json.loads(r.read())


def test_account_level_block_adds_to_the_bucket_level(s3, nimbus):
    """The account-level block (s3control's, here at /_nimbus/s3/public-access-block/<account>)
    applies on top of a bucket without its own: public policies and public ACLs are refused, and
    public ACL grants already there are ignored."""
    name = "pab4-" + uuid.uuid4().hex[:8]
    s3.create_bucket(Bucket=name, ObjectOwnership="BucketOwnerPreferred")
    s3.delete_public_access_block(Bucket=name)
    public = policy({"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
                     "Resource": "arn:aws:s3:::%s/*" % name})
    s3.put_object(Bucket=name, Key="open", Body=b"open", ACL="public-read")
    anon_url = "%s/%s/open" % (nimbus.endpoint, name)
    with urllib.request.urlopen(anon_url) as r:
        assert r.read() == b"open"
    try:
        got = account_block(nimbus, "000000000000", {"BlockPublicPolicy": True, "BlockPublicAcls": True,
                                                     "IgnorePublicAcls": True})
        assert got["PublicAccessBlockConfiguration"] == {"BlockPublicAcls": True, "IgnorePublicAcls": True,
                                                         "BlockPublicPolicy": True, "RestrictPublicBuckets": False}
        with pytest.raises(ClientError) as e:
            s3.put_bucket_policy(Bucket=name, Policy=public)
        assert err(e) == (403, "AccessDenied")
        with pytest.raises(ClientError) as e:
            s3.put_object(Bucket=name, Key="k2", Body=b"x", ACL="public-read")
        assert err(e) == (403, "AccessDenied")
        with pytest.raises(urllib.error.HTTPError) as he:
            urllib.request.urlopen(anon_url)
        assert he.value.code == 403
        # the bucket's own (absent) block is still absent: the account's is not copied into it
        with pytest.raises(ClientError) as e:
            s3.get_public_access_block(Bucket=name)
        assert err(e) == (404, "NoSuchPublicAccessBlockConfiguration")
    finally:
        account_block(nimbus, "000000000000", None)
    s3.put_bucket_policy(Bucket=name, Policy=public)
    with urllib.request.urlopen(anon_url) as r:
        assert r.read() == b"open"
