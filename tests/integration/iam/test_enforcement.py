"""Every request is authorized by the policy evaluator: what IAM users and role sessions may do
is exactly what their policies allow (issue 4, "Done when")."""
import subprocess

import boto3
import pytest
from botocore.config import Config

from conftest import client, free_port, run_aws
from iam_helpers import (admin, advance_clock, allow, as_user, deny, doc, make_user, refused)

ACCOUNT = "000000000000"


@pytest.fixture
def iam(boto):
    return boto("iam")


def test_user_without_policies_is_denied_everything_with_aws_message(nimbus, iam):
    keys = make_user(nimbus, iam, "nobody")
    err = refused(as_user(nimbus, "iam", keys).list_users, code="AccessDenied", status=403)
    assert err["Message"] == ("User: arn:aws:iam::000000000000:user/nobody is not authorized to perform: "
                              "iam:ListUsers on resource: arn:aws:iam::000000000000:user/ because no "
                              "identity-based policy allows the iam:ListUsers action")
    # GetCallerIdentity needs no permission (as in AWS)
    ident = as_user(nimbus, "sts", keys).get_caller_identity()
    assert ident["Arn"] == "arn:aws:iam::000000000000:user/nobody"
    assert ident["UserId"].startswith("AIDA")


def test_root_is_always_allowed(nimbus, iam):
    assert iam.list_users()["Users"] == []


def test_get_object_only_on_one_bucket(nimbus, boto, iam):
    """A user allowed only s3:GetObject on one bucket reads there and is denied ListBuckets,
    PutObject and everything in IAM. Needs S3 PutObject/GetObject (built in parallel)."""
    s3 = boto("s3")
    s3.create_bucket(Bucket="open")
    s3.create_bucket(Bucket="closed")
    s3.put_object(Bucket="open", Key="k", Body=b"hello")
    s3.put_object(Bucket="closed", Key="k", Body=b"secret")
    keys = make_user(nimbus, iam, "reader", inline=doc(allow("s3:GetObject", "arn:aws:s3:::open/*")))
    us3 = as_user(nimbus, "s3", keys)
    assert us3.get_object(Bucket="open", Key="k")["Body"].read() == b"hello"
    refused(us3.get_object, Bucket="closed", Key="k")
    refused(us3.list_buckets)
    err = refused(us3.put_object, Bucket="open", Key="new", Body=b"x")
    assert "s3:PutObject" in err["Message"]
    uiam = as_user(nimbus, "iam", keys)
    refused(uiam.list_users)
    refused(uiam.create_user, UserName="x")
    refused(uiam.get_user, UserName="reader")
    refused(uiam.list_policies)
    refused(uiam.attach_user_policy, UserName="reader",
            PolicyArn="arn:aws:iam::aws:policy/AdministratorAccess")


def test_explicit_deny_beats_allow(nimbus, iam):
    keys = make_user(nimbus, iam, "d", inline=doc(allow("iam:*"), deny("iam:DeleteUser")),
                     managed=["arn:aws:iam::aws:policy/AdministratorAccess"])
    u = as_user(nimbus, "iam", keys)
    u.create_user(UserName="victim")
    err = refused(u.delete_user, UserName="victim")
    assert "with an explicit deny in an identity-based policy" in err["Message"]
    assert u.get_user(UserName="victim")["User"]["UserName"] == "victim"


def test_allow_through_a_group(nimbus, iam):
    iam.create_group(GroupName="readers")
    keys = make_user(nimbus, iam, "g", groups=["readers"])
    u = as_user(nimbus, "iam", keys)
    refused(u.list_groups)
    iam.attach_group_policy(GroupName="readers", PolicyArn="arn:aws:iam::aws:policy/IAMReadOnlyAccess")
    assert [g["GroupName"] for g in u.list_groups()["Groups"]] == ["readers"]
    refused(u.create_group, GroupName="writers")  # read-only
    # inline group policy adds to it; leaving the group takes everything away at once
    iam.put_group_policy(GroupName="readers", PolicyName="w", PolicyDocument=doc(allow("iam:CreateGroup")))
    u.create_group(GroupName="writers")
    iam.remove_user_from_group(GroupName="readers", UserName="g")
    refused(u.list_groups)


def test_detaching_a_policy_takes_effect_on_the_next_request(nimbus, iam):
    keys = make_user(nimbus, iam, "t", managed=["arn:aws:iam::aws:policy/IAMReadOnlyAccess"])
    u = as_user(nimbus, "iam", keys)
    u.list_users()
    iam.detach_user_policy(UserName="t", PolicyArn="arn:aws:iam::aws:policy/IAMReadOnlyAccess")
    refused(u.list_users)


def test_deactivated_key_is_refused_at_once(nimbus, iam):
    keys = make_user(nimbus, iam, "k", managed=["arn:aws:iam::aws:policy/IAMReadOnlyAccess"])
    u = as_user(nimbus, "iam", keys)
    u.list_users()
    iam.update_access_key(UserName="k", AccessKeyId=keys[0], Status="Inactive")
    refused(u.list_users, code="InvalidClientTokenId", status=403)
    iam.update_access_key(UserName="k", AccessKeyId=keys[0], Status="Active")
    u.list_users()
    iam.delete_access_key(UserName="k", AccessKeyId=keys[0])
    refused(u.list_users, code="InvalidClientTokenId")


def test_condition_source_ip(nimbus, iam):
    inside = make_user(nimbus, iam, "local", inline=doc(
        allow("iam:ListUsers", Condition={"IpAddress": {"aws:SourceIp": "127.0.0.0/8"}})))
    outside = make_user(nimbus, iam, "remote", inline=doc(
        allow("iam:ListUsers", Condition={"IpAddress": {"aws:SourceIp": ["10.0.0.0/8", "192.0.2.7/32"]}})))
    as_user(nimbus, "iam", inside).list_users()
    refused(as_user(nimbus, "iam", outside).list_users)
    # NotIpAddress in a deny works the other way round
    iam.put_user_policy(UserName="local", PolicyName="deny-loopback", PolicyDocument=doc(
        deny("*", Condition={"NotIpAddress": {"aws:SourceIp": "10.0.0.0/8"}})))
    refused(as_user(nimbus, "iam", inside).list_users)


def test_condition_secure_transport(nimbus_factory, tmp_path):
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key),
                    "-out", str(cert), "-days", "1", "-subj", "/CN=localhost"],
                   check=True, capture_output=True)
    port = free_port()
    s = nimbus_factory(args=["--tls-port", str(port), "--tls-cert", str(cert), "--tls-key", str(key)])
    iam = client(s, "iam")
    keys = make_user(s, iam, "tls", inline=doc(
        allow("iam:ListUsers"), deny("*", Condition={"Bool": {"aws:SecureTransport": "false"}})))
    refused(as_user(s, "iam", keys).list_users)  # plain HTTP
    tls = boto3.client("iam", endpoint_url="https://127.0.0.1:%d" % port, region_name="us-east-1",
                       aws_access_key_id=keys[0], aws_secret_access_key=keys[1], verify=False,
                       config=Config(retries={"max_attempts": 1}))
    assert tls.list_users()["Users"]


def test_condition_principal_and_request_tags(nimbus, iam):
    # A user may create users only when tagging them with its own team.
    keys = make_user(nimbus, iam, "lead", tags={"team": "red"}, inline=doc(
        allow("iam:CreateUser", Condition={
            "StringEquals": {"aws:RequestTag/team": "${aws:PrincipalTag/team}"},
            "ForAllValues:StringEquals": {"aws:TagKeys": ["team"]}}),
        allow("iam:TagUser")))
    u = as_user(nimbus, "iam", keys)
    u.create_user(UserName="red1", Tags=[{"Key": "team", "Value": "red"}])
    refused(u.create_user, UserName="blue1", Tags=[{"Key": "team", "Value": "blue"}])
    refused(u.create_user, UserName="untagged")
    refused(u.create_user, UserName="extra", Tags=[{"Key": "team", "Value": "red"},
                                                    {"Key": "cost", "Value": "1"}])


def test_condition_resource_tags_of_iam_users(nimbus, iam):
    iam.create_user(UserName="managed", Tags=[{"Key": "owner", "Value": "ops"}])
    iam.create_user(UserName="other")
    keys = make_user(nimbus, iam, "ops", inline=doc(
        allow("iam:GetUser", Condition={"StringEquals": {"iam:ResourceTag/owner": "ops"}})))
    u = as_user(nimbus, "iam", keys)
    assert u.get_user(UserName="managed")["User"]["UserName"] == "managed"
    refused(u.get_user, UserName="other")


def test_condition_dates_follow_the_region_clock(nimbus, iam):
    now = admin(nimbus, "GET", "/_nimbus/clock")[1]["epoch"]
    import datetime
    cutoff = datetime.datetime.fromtimestamp(now + 3600, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    keys = make_user(nimbus, iam, "temp", inline=doc(
        allow("iam:ListUsers", Condition={"DateLessThan": {"aws:CurrentTime": cutoff}})))
    later = make_user(nimbus, iam, "later", inline=doc(
        allow("iam:ListUsers", Condition={"DateGreaterThan": {"aws:CurrentTime": cutoff}})))
    as_user(nimbus, "iam", keys).list_users()
    refused(as_user(nimbus, "iam", later).list_users)
    advance_clock(nimbus, "2h")
    refused(as_user(nimbus, "iam", keys).list_users)
    as_user(nimbus, "iam", later).list_users()


def test_policy_variables_username(nimbus, iam):
    iam.create_user(UserName="someone-else")
    pol = doc(allow(["iam:GetUser", "iam:ListAccessKeys", "iam:CreateAccessKey"],
                    "arn:aws:iam::*:user/${aws:username}"))
    keys = make_user(nimbus, iam, "self", inline=pol)
    u = as_user(nimbus, "iam", keys)
    assert u.get_user()["User"]["UserName"] == "self"  # no UserName: the caller
    assert u.get_user(UserName="self")["User"]["UserName"] == "self"
    assert len(u.list_access_keys()["AccessKeyMetadata"]) == 1
    refused(u.get_user, UserName="someone-else")
    refused(u.create_access_key, UserName="someone-else")


def test_permissions_boundary_limits_the_user(nimbus, iam):
    keys = make_user(nimbus, iam, "bounded", managed=["arn:aws:iam::aws:policy/AdministratorAccess"])
    iam.put_user_permissions_boundary(UserName="bounded",
                                      PermissionsBoundary="arn:aws:iam::aws:policy/IAMReadOnlyAccess")
    u = as_user(nimbus, "iam", keys)
    u.list_users()
    err = refused(u.create_user, UserName="nope")
    assert "permissions boundary" in err["Message"]
    iam.delete_user_permissions_boundary(UserName="bounded")
    u.create_user(UserName="yes")


def test_malformed_policy_document_is_refused_with_the_reason(nimbus, iam, aws):
    iam.create_user(UserName="u")
    err = refused(iam.put_user_policy, UserName="u", PolicyName="p", PolicyDocument="{not json",
                  code="MalformedPolicyDocument", status=400)
    assert err["Message"]
    err = refused(iam.create_policy, PolicyName="p", code="MalformedPolicyDocument",
                  PolicyDocument='{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Resource":"*"}]}')
    assert err["Message"] == "Policy statement must contain actions."
    err = refused(iam.create_policy, PolicyName="p", code="MalformedPolicyDocument",
                  PolicyDocument='{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*"}]}')
    assert err["Message"] == "Policy statement must contain resources."
    err = refused(iam.create_policy, PolicyName="p", code="MalformedPolicyDocument",
                  PolicyDocument=doc({"Effect": "Maybe", "Action": "s3:*", "Resource": "*"}))
    assert err["Message"]
    # a trust policy without a principal
    err = refused(iam.create_role, RoleName="r", code="MalformedPolicyDocument",
                  AssumeRolePolicyDocument=doc({"Effect": "Allow", "Action": "sts:AssumeRole"}))
    assert err["Message"] == "Missing required field Principal"
    # and through the aws CLI
    p = run_aws(nimbus, "iam", "put-user-policy", "--user-name", "u", "--policy-name", "p",
                "--policy-document", '{"Version":"2012-10-17","Statement":[]', check=False, parse=False)
    assert p.returncode != 0 and "MalformedPolicyDocument" in p.stderr


def test_role_assumed_across_accounts_with_external_id(nimbus, iam):
    status, b = admin(nimbus, "POST", "/_nimbus/accounts", {"AccountId": "111111111111", "Name": "partner"})
    assert status == 200, b
    partner_root = (b["AccessKeyId"], b["SecretAccessKey"])
    # our account has a role the partner account may assume with an external id
    iam.create_role(RoleName="for-partner", AssumeRolePolicyDocument=doc({
        "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111111111111:root"},
        "Action": "sts:AssumeRole", "Condition": {"StringEquals": {"sts:ExternalId": "s3cr3t"}}}))
    iam.attach_role_policy(RoleName="for-partner", PolicyArn="arn:aws:iam::aws:policy/IAMReadOnlyAccess")
    role_arn = "arn:aws:iam::%s:role/for-partner" % ACCOUNT
    # a user of the partner account, allowed to assume the role by its own account
    piam = as_user(nimbus, "iam", partner_root)
    pkeys = make_user(nimbus, piam, "assumer", inline=doc(allow("sts:AssumeRole", role_arn)))
    psts = as_user(nimbus, "sts", pkeys)
    refused(psts.assume_role, RoleArn=role_arn, RoleSessionName="sess")  # no external id
    refused(psts.assume_role, RoleArn=role_arn, RoleSessionName="sess", ExternalId="wrong")
    r = psts.assume_role(RoleArn=role_arn, RoleSessionName="partner-session", ExternalId="s3cr3t")
    cr = r["Credentials"]
    assert cr["AccessKeyId"].startswith("ASIA") and len(cr["AccessKeyId"]) == 20
    assert r["AssumedRoleUser"]["Arn"] == "arn:aws:sts::%s:assumed-role/for-partner/partner-session" % ACCOUNT
    tok = (cr["AccessKeyId"], cr["SecretAccessKey"])
    sess_iam = as_user(nimbus, "iam", tok, token=cr["SessionToken"])
    assert any(u["UserName"] == "assumer" for u in piam.list_users()["Users"])
    # the session acts in our account, read-only
    names = [u["UserName"] for u in sess_iam.list_users()["Users"]]
    assert "assumer" not in names
    refused(sess_iam.create_user, UserName="nope")
    ident = as_user(nimbus, "sts", tok, token=cr["SessionToken"]).get_caller_identity()
    assert ident["Account"] == ACCOUNT and ident["UserId"].endswith(":partner-session")
    # a partner user without an identity policy is refused even with the external id
    other = make_user(nimbus, piam, "other")
    refused(as_user(nimbus, "sts", other).assume_role, RoleArn=role_arn, RoleSessionName="sess",
            ExternalId="s3cr3t")
    # accounts are isolated: the partner root sees none of our users
    assert [u["UserName"] for u in piam.list_users()["Users"]] == ["assumer", "other"]


def test_expired_temporary_credentials_are_refused(nimbus, iam):
    iam.create_role(RoleName="short", AssumeRolePolicyDocument=doc({
        "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::%s:root" % ACCOUNT}, "Action": "sts:AssumeRole"}))
    iam.attach_role_policy(RoleName="short", PolicyArn="arn:aws:iam::aws:policy/IAMReadOnlyAccess")
    cr = client(nimbus, "sts").assume_role(RoleArn="arn:aws:iam::%s:role/short" % ACCOUNT,
                                           RoleSessionName="sess", DurationSeconds=900)["Credentials"]
    s = client(nimbus, "iam", access_key=cr["AccessKeyId"], secret_key=cr["SecretAccessKey"],
               token=cr["SessionToken"])
    s.list_users()
    # a wrong token is refused
    bad = client(nimbus, "iam", access_key=cr["AccessKeyId"], secret_key=cr["SecretAccessKey"],
                 token=cr["SessionToken"][:-4] + "AAAA")
    refused(bad.list_users, code="InvalidClientTokenId")
    advance_clock(nimbus, "2h")
    refused(s.list_users, code="ExpiredToken", status=403)  # query services: ExpiredToken (JSON: ...Exception)


def test_session_policy_narrows_a_role_session(nimbus, iam):
    iam.create_role(RoleName="admin", AssumeRolePolicyDocument=doc({
        "Effect": "Allow", "Principal": {"AWS": ACCOUNT}, "Action": "sts:AssumeRole"}))
    iam.attach_role_policy(RoleName="admin", PolicyArn="arn:aws:iam::aws:policy/AdministratorAccess")
    cr = client(nimbus, "sts").assume_role(
        RoleArn="arn:aws:iam::%s:role/admin" % ACCOUNT, RoleSessionName="narrow",
        Policy=doc(allow("iam:ListRoles")))["Credentials"]
    s = client(nimbus, "iam", access_key=cr["AccessKeyId"], secret_key=cr["SecretAccessKey"],
               token=cr["SessionToken"])
    assert s.list_roles()["Roles"][0]["RoleName"] == "admin"
    err = refused(s.list_users)
    assert "session policy" in err["Message"]


def test_denial_codes_follow_each_protocol(nimbus, iam):
    keys = make_user(nimbus, iam, "none")
    err = refused(as_user(nimbus, "logs", keys).describe_log_groups, code="AccessDeniedException", status=400)
    assert err["Message"].startswith("User: arn:aws:iam::000000000000:user/none is not authorized to perform: "
                                     "logs:DescribeLogGroups")
    refused(as_user(nimbus, "lambda", keys).list_functions, code="AccessDeniedException", status=403)
    err = refused(as_user(nimbus, "ec2", keys).describe_regions, code="UnauthorizedOperation", status=403)
    assert "ec2:DescribeRegions" in err["Message"]
    refused(as_user(nimbus, "s3", keys).list_buckets, code="AccessDenied", status=403)
    # and the same user, once allowed, gets through on every protocol
    iam.put_user_policy(UserName="none", PolicyName="ro", PolicyDocument=doc(
        allow(["logs:Describe*", "lambda:List*", "ec2:Describe*", "s3:ListAllMyBuckets"])))
    as_user(nimbus, "logs", keys).describe_log_groups()
    as_user(nimbus, "lambda", keys).list_functions()
    as_user(nimbus, "ec2", keys).describe_regions()
    as_user(nimbus, "s3", keys).list_buckets()
