"""The IAM API with boto3 and the aws CLI: entities, validation, limits, pagination and errors as
AWS answers them."""
import base64
import json

import pytest

from conftest import run_aws
from iam_helpers import allow, doc, refused

ACCOUNT = "000000000000"
READ_ONLY = "arn:aws:iam::aws:policy/ReadOnlyAccess"


@pytest.fixture
def iam(boto):
    return boto("iam")


def test_users_crud_and_errors(iam):
    u = iam.create_user(UserName="alice", Path="/eng/")["User"]
    assert u["Arn"] == "arn:aws:iam::%s:user/eng/alice" % ACCOUNT
    assert u["UserId"].startswith("AIDA") and len(u["UserId"]) == 21
    assert u["Path"] == "/eng/"
    err = refused(iam.create_user, UserName="alice", code="EntityAlreadyExists", status=409)
    assert err["Message"] == "User with name alice already exists."
    # names are case-insensitive, as in IAM
    refused(iam.create_user, UserName="ALICE", code="EntityAlreadyExists")
    err = refused(iam.get_user, UserName="bob", code="NoSuchEntity", status=404)
    assert err["Message"] == "The user with name bob cannot be found."
    refused(iam.create_user, UserName="bad name", code="ValidationError")
    refused(iam.create_user, UserName="x", Path="noslash", code="ValidationError")
    iam.update_user(UserName="alice", NewUserName="alice2", NewPath="/ops/")
    assert iam.get_user(UserName="alice2")["User"]["Arn"].endswith(":user/ops/alice2")
    refused(iam.get_user, UserName="alice", code="NoSuchEntity")
    iam.delete_user(UserName="alice2")
    refused(iam.delete_user, UserName="alice2", code="NoSuchEntity")


def test_list_users_pagination_and_path_prefix(iam):
    for i in range(7):
        iam.create_user(UserName="u%02d" % i, Path="/a/" if i % 2 else "/b/")
    page = iam.list_users(MaxItems=3)
    assert [u["UserName"] for u in page["Users"]] == ["u00", "u01", "u02"]
    assert page["IsTruncated"] is True
    page2 = iam.list_users(MaxItems=3, Marker=page["Marker"])
    assert [u["UserName"] for u in page2["Users"]] == ["u03", "u04", "u05"]
    page3 = iam.list_users(MaxItems=3, Marker=page2["Marker"])
    assert [u["UserName"] for u in page3["Users"]] == ["u06"] and page3["IsTruncated"] is False
    assert [u["UserName"] for u in iam.list_users(PathPrefix="/a/")["Users"]] == ["u01", "u03", "u05"]
    names = [u["UserName"] for p in iam.get_paginator("list_users").paginate(PaginationConfig={"PageSize": 2})
             for u in p["Users"]]
    assert names == ["u%02d" % i for i in range(7)]
    refused(iam.list_users, Marker="garbage", code="ValidationError")


def test_delete_user_conflicts(iam):
    iam.create_user(UserName="c")
    iam.create_group(GroupName="g")
    k = iam.create_access_key(UserName="c")["AccessKey"]
    iam.put_user_policy(UserName="c", PolicyName="p", PolicyDocument=doc(allow("s3:*")))
    iam.attach_user_policy(UserName="c", PolicyArn=READ_ONLY)
    iam.add_user_to_group(GroupName="g", UserName="c")
    iam.create_login_profile(UserName="c", Password="Passw0rd!long")
    for msg, undo in [
        ("must delete login profile first", lambda: iam.delete_login_profile(UserName="c")),
        ("must delete access keys first", lambda: iam.delete_access_key(UserName="c", AccessKeyId=k["AccessKeyId"])),
        ("must delete policies first", lambda: iam.delete_user_policy(UserName="c", PolicyName="p")),
        ("must detach all policies first", lambda: iam.detach_user_policy(UserName="c", PolicyArn=READ_ONLY)),
        ("must remove users from group first", lambda: iam.remove_user_from_group(GroupName="g", UserName="c")),
    ]:
        err = refused(iam.delete_user, UserName="c", code="DeleteConflict", status=409)
        assert msg in err["Message"]
        undo()
    iam.delete_user(UserName="c")


def test_access_keys_limit_status_and_last_used(nimbus, iam):
    iam.create_user(UserName="k")
    k1 = iam.create_access_key(UserName="k")["AccessKey"]
    assert k1["AccessKeyId"].startswith("AKIA") and len(k1["AccessKeyId"]) == 20
    assert len(k1["SecretAccessKey"]) == 40 and k1["Status"] == "Active"
    iam.create_access_key(UserName="k")
    err = refused(iam.create_access_key, UserName="k", code="LimitExceeded", status=409)
    assert err["Message"] == "Cannot exceed quota for AccessKeysPerUser: 2"
    keys = iam.list_access_keys(UserName="k")["AccessKeyMetadata"]
    assert len(keys) == 2 and all("SecretAccessKey" not in x for x in keys)
    iam.update_access_key(UserName="k", AccessKeyId=k1["AccessKeyId"], Status="Inactive")
    st = {x["AccessKeyId"]: x["Status"] for x in iam.list_access_keys(UserName="k")["AccessKeyMetadata"]}
    assert st[k1["AccessKeyId"]] == "Inactive"
    refused(iam.update_access_key, UserName="k", AccessKeyId="AKIAAAAAAAAAAAAAAAAA", Status="Active",
            code="NoSuchEntity")
    lu = iam.get_access_key_last_used(AccessKeyId=k1["AccessKeyId"])
    assert lu["UserName"] == "k" and lu["AccessKeyLastUsed"]["ServiceName"] == "N/A"
    iam.update_access_key(UserName="k", AccessKeyId=k1["AccessKeyId"], Status="Active")
    from conftest import client
    refused(client(nimbus, "iam", access_key=k1["AccessKeyId"], secret_key=k1["SecretAccessKey"]).list_users)
    lu = iam.get_access_key_last_used(AccessKeyId=k1["AccessKeyId"])["AccessKeyLastUsed"]
    assert lu["ServiceName"] == "iam" and lu["Region"] == "us-east-1" and "LastUsedDate" in lu


def test_groups(iam):
    g = iam.create_group(GroupName="devs", Path="/team/")["Group"]
    assert g["Arn"] == "arn:aws:iam::%s:group/team/devs" % ACCOUNT and g["GroupId"].startswith("AGPA")
    refused(iam.create_group, GroupName="devs", code="EntityAlreadyExists")
    iam.create_user(UserName="a")
    iam.create_user(UserName="b")
    iam.add_user_to_group(GroupName="devs", UserName="a")
    iam.add_user_to_group(GroupName="devs", UserName="b")
    got = iam.get_group(GroupName="devs")
    assert [u["UserName"] for u in got["Users"]] == ["a", "b"]
    assert [x["GroupName"] for x in iam.list_groups_for_user(UserName="a")["Groups"]] == ["devs"]
    refused(iam.add_user_to_group, GroupName="nope", UserName="a", code="NoSuchEntity")
    refused(iam.delete_group, GroupName="devs", code="DeleteConflict")
    iam.remove_user_from_group(GroupName="devs", UserName="a")
    iam.remove_user_from_group(GroupName="devs", UserName="b")
    iam.update_group(GroupName="devs", NewGroupName="developers")
    assert iam.list_groups()["Groups"][0]["GroupName"] == "developers"
    iam.delete_group(GroupName="developers")


def test_managed_policies_and_versions(iam):
    p = iam.create_policy(PolicyName="p1", Path="/app/", Description="d",
                          PolicyDocument=doc(allow("s3:GetObject")))["Policy"]
    arn = p["Arn"]
    assert arn == "arn:aws:iam::%s:policy/app/p1" % ACCOUNT
    assert p["DefaultVersionId"] == "v1" and p["AttachmentCount"] == 0 and p["PolicyId"].startswith("ANPA")
    refused(iam.create_policy, PolicyName="p1", PolicyDocument=doc(allow("s3:*")), code="EntityAlreadyExists")
    for i in range(2, 6):
        v = iam.create_policy_version(PolicyArn=arn, PolicyDocument=doc(allow("s3:Get*")), SetAsDefault=(i == 3))
        assert v["PolicyVersion"]["VersionId"] == "v%d" % i
    err = refused(iam.create_policy_version, PolicyArn=arn, PolicyDocument=doc(allow("s3:*")),
                  code="LimitExceeded")
    assert "up to 5 versions" in err["Message"]
    assert iam.get_policy(PolicyArn=arn)["Policy"]["DefaultVersionId"] == "v3"
    versions = iam.list_policy_versions(PolicyArn=arn)["Versions"]
    assert sorted(v["VersionId"] for v in versions) == ["v1", "v2", "v3", "v4", "v5"]
    refused(iam.delete_policy_version, PolicyArn=arn, VersionId="v3", code="DeleteConflict")
    got = iam.get_policy_version(PolicyArn=arn, VersionId="v1")["PolicyVersion"]
    assert got["Document"] == json.loads(doc(allow("s3:GetObject")))  # botocore decodes the document
    refused(iam.get_policy_version, PolicyArn=arn, VersionId="v9", code="NoSuchEntity")
    iam.set_default_policy_version(PolicyArn=arn, VersionId="v1")
    refused(iam.delete_policy, PolicyArn=arn, code="DeleteConflict")  # versions remain
    for v in ("v2", "v3", "v4", "v5"):
        iam.delete_policy_version(PolicyArn=arn, VersionId=v)
    iam.create_user(UserName="att")
    iam.attach_user_policy(UserName="att", PolicyArn=arn)
    assert iam.get_policy(PolicyArn=arn)["Policy"]["AttachmentCount"] == 1
    ents = iam.list_entities_for_policy(PolicyArn=arn)
    assert [u["UserName"] for u in ents["PolicyUsers"]] == ["att"]
    err = refused(iam.delete_policy, PolicyArn=arn, code="DeleteConflict")
    assert err["Message"] == "Cannot delete a policy attached to entities."
    iam.detach_user_policy(UserName="att", PolicyArn=arn)
    refused(iam.detach_user_policy, UserName="att", PolicyArn=arn, code="NoSuchEntity")
    iam.delete_policy(PolicyArn=arn)
    err = refused(iam.get_policy, PolicyArn=arn, code="NoSuchEntity")
    assert err["Message"] == "Policy %s was not found." % arn


def test_aws_managed_policies(iam):
    pols = {p["PolicyName"]: p for p in iam.get_paginator("list_policies").paginate(Scope="AWS").build_full_result()["Policies"]}
    for name in ("AdministratorAccess", "PowerUserAccess", "ReadOnlyAccess", "IAMFullAccess",
                 "AmazonS3FullAccess", "AmazonS3ReadOnlyAccess", "CloudWatchLogsFullAccess",
                 "CloudWatchLogsReadOnlyAccess", "AWSLambda_FullAccess", "AWSLambda_ReadOnlyAccess",
                 "AmazonEC2FullAccess", "AmazonEC2ReadOnlyAccess"):
        assert name in pols, name
    admin = iam.get_policy(PolicyArn="arn:aws:iam::aws:policy/AdministratorAccess")["Policy"]
    v = iam.get_policy_version(PolicyArn=admin["Arn"], VersionId=admin["DefaultVersionId"])["PolicyVersion"]
    assert v["Document"]["Statement"][0] == {"Effect": "Allow", "Action": "*", "Resource": "*"}
    refused(iam.attach_user_policy, UserName="nobody", PolicyArn="arn:aws:iam::aws:policy/Nope",
            code="NoSuchEntity")
    iam.create_user(UserName="n")
    err = refused(iam.attach_user_policy, UserName="n", PolicyArn="arn:aws:iam::aws:policy/Nope",
                  code="NoSuchEntity")
    assert err["Message"] == "Policy arn:aws:iam::aws:policy/Nope does not exist or is not attachable."
    assert iam.list_policies(Scope="Local")["Policies"] == []
    assert iam.list_policies(Scope="AWS", OnlyAttached=True)["Policies"] == []


def test_inline_policies(iam):
    iam.create_role(RoleName="r", AssumeRolePolicyDocument=doc({
        "Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}))
    iam.put_role_policy(RoleName="r", PolicyName="logs", PolicyDocument=doc(allow("logs:*")))
    iam.put_role_policy(RoleName="r", PolicyName="logs", PolicyDocument=doc(allow("logs:PutLogEvents")))
    got = iam.get_role_policy(RoleName="r", PolicyName="logs")
    assert got["PolicyDocument"]["Statement"][0]["Action"] == "logs:PutLogEvents"
    assert iam.list_role_policies(RoleName="r")["PolicyNames"] == ["logs"]
    err = refused(iam.get_role_policy, RoleName="r", PolicyName="x", code="NoSuchEntity")
    assert err["Message"] == "The role policy with name x cannot be found."
    refused(iam.delete_role, RoleName="r", code="DeleteConflict")
    iam.delete_role_policy(RoleName="r", PolicyName="logs")
    iam.delete_role(RoleName="r")
    # the inline quota of a user (2,048 characters without white space)
    iam.create_user(UserName="q")
    big = doc(allow(["s3:GetObject%04d" % i for i in range(150)]))
    refused(iam.put_user_policy, UserName="q", PolicyName="big", PolicyDocument=big, code="LimitExceeded")


def test_roles_and_instance_profiles(iam):
    trust = doc({"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"})
    r = iam.create_role(RoleName="web", AssumeRolePolicyDocument=trust, Description="web servers",
                        MaxSessionDuration=7200, Tags=[{"Key": "env", "Value": "prod"}])["Role"]
    assert r["RoleId"].startswith("AROA") and r["MaxSessionDuration"] == 7200
    assert r["AssumeRolePolicyDocument"] == json.loads(trust)
    refused(iam.create_role, RoleName="bad", AssumeRolePolicyDocument=trust, MaxSessionDuration=100000,
            code="ValidationError")
    # a trust policy naming a user that does not exist is refused
    err = refused(iam.create_role, RoleName="bad", code="MalformedPolicyDocument",
                  AssumeRolePolicyDocument=doc({"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::%s:user/ghost" % ACCOUNT},
                                                "Action": "sts:AssumeRole"}))
    assert "principal" in err["Message"].lower()
    iam.update_role(RoleName="web", MaxSessionDuration=3600)
    got = iam.get_role(RoleName="web")["Role"]
    assert got["MaxSessionDuration"] == 3600 and got["Tags"] == [{"Key": "env", "Value": "prod"}]
    iam.create_instance_profile(InstanceProfileName="web-ip")
    iam.add_role_to_instance_profile(InstanceProfileName="web-ip", RoleName="web")
    refused(iam.add_role_to_instance_profile, InstanceProfileName="web-ip", RoleName="web", code="LimitExceeded")
    ip = iam.get_instance_profile(InstanceProfileName="web-ip")["InstanceProfile"]
    assert ip["InstanceProfileId"].startswith("AIPA") and [x["RoleName"] for x in ip["Roles"]] == ["web"]
    assert iam.list_instance_profiles_for_role(RoleName="web")["InstanceProfiles"][0]["InstanceProfileName"] == "web-ip"
    refused(iam.delete_role, RoleName="web", code="DeleteConflict")
    refused(iam.delete_instance_profile, InstanceProfileName="web-ip", code="DeleteConflict")
    iam.remove_role_from_instance_profile(InstanceProfileName="web-ip", RoleName="web")
    iam.delete_instance_profile(InstanceProfileName="web-ip")
    iam.tag_role(RoleName="web", Tags=[{"Key": "env", "Value": "dev"}, {"Key": "a", "Value": "b"}])
    iam.untag_role(RoleName="web", TagKeys=["a"])
    assert iam.list_role_tags(RoleName="web")["Tags"] == [{"Key": "env", "Value": "dev"}]
    iam.delete_role(RoleName="web")
    slr = iam.create_service_linked_role(AWSServiceName="elasticloadbalancing.amazonaws.com")["Role"]
    assert slr["RoleName"] == "AWSServiceRoleForElasticLoadBalancing"
    assert slr["Path"] == "/aws-service-role/elasticloadbalancing.amazonaws.com/"


def test_login_profiles_and_password_policy(iam):
    iam.create_user(UserName="p")
    iam.update_account_password_policy(MinimumPasswordLength=12, RequireNumbers=True)
    assert iam.get_account_password_policy()["PasswordPolicy"]["MinimumPasswordLength"] == 12
    refused(iam.create_login_profile, UserName="p", Password="short1", code="PasswordPolicyViolation")
    refused(iam.create_login_profile, UserName="p", Password="longbutnodigits", code="PasswordPolicyViolation")
    lp = iam.create_login_profile(UserName="p", Password="long-enough-123", PasswordResetRequired=True)
    assert lp["LoginProfile"]["PasswordResetRequired"] is True
    refused(iam.create_login_profile, UserName="p", Password="long-enough-123", code="EntityAlreadyExists")
    iam.update_login_profile(UserName="p", PasswordResetRequired=False)
    assert iam.get_login_profile(UserName="p")["LoginProfile"]["PasswordResetRequired"] is False
    iam.delete_login_profile(UserName="p")
    refused(iam.get_login_profile, UserName="p", code="NoSuchEntity")
    iam.delete_account_password_policy()
    refused(iam.get_account_password_policy, code="NoSuchEntity")


def test_tags_validation(iam):
    refused(iam.create_user, UserName="t", Tags=[{"Key": "aws:x", "Value": "1"}], code="InvalidInput")
    refused(iam.create_user, UserName="t", Tags=[{"Key": "a", "Value": "1"}, {"Key": "A", "Value": "2"}],
            code="InvalidInput")
    iam.create_user(UserName="t", Tags=[{"Key": "k%d" % i, "Value": "v"} for i in range(50)])
    refused(iam.tag_user, UserName="t", Tags=[{"Key": "one-more", "Value": "v"}], code="LimitExceeded")
    iam.tag_user(UserName="t", Tags=[{"Key": "k0", "Value": "new"}])  # replacing is fine
    tags = {t["Key"]: t["Value"] for t in iam.list_user_tags(UserName="t")["Tags"]}
    assert tags["k0"] == "new" and len(tags) == 50
    iam.untag_user(UserName="t", TagKeys=["k0", "k1"])
    assert len(iam.list_user_tags(UserName="t")["Tags"]) == 48


def test_account_summary_details_and_credential_report(iam):
    iam.create_user(UserName="s")
    iam.create_access_key(UserName="s")
    iam.create_group(GroupName="g")
    iam.add_user_to_group(GroupName="g", UserName="s")
    iam.attach_group_policy(GroupName="g", PolicyArn=READ_ONLY)
    iam.put_user_policy(UserName="s", PolicyName="in", PolicyDocument=doc(allow("s3:ListBucket")))
    m = iam.get_account_summary()["SummaryMap"]
    assert m["Users"] == 1 and m["Groups"] == 1 and m["AccessKeysPerUserQuota"] == 2
    d = iam.get_account_authorization_details()
    u = d["UserDetailList"][0]
    assert u["UserName"] == "s" and u["GroupList"] == ["g"]
    assert u["UserPolicyList"][0]["PolicyDocument"]["Statement"][0]["Action"] == "s3:ListBucket"
    assert d["GroupDetailList"][0]["AttachedManagedPolicies"][0]["PolicyArn"] == READ_ONLY
    assert [p["PolicyName"] for p in d["Policies"]] == ["ReadOnlyAccess"]
    refused(iam.get_credential_report, code="ReportNotPresent", status=410)
    assert iam.generate_credential_report()["State"] in ("STARTED", "COMPLETE")
    rep = iam.get_credential_report()
    text = rep["Content"].decode() if isinstance(rep["Content"], bytes) else base64.b64decode(rep["Content"]).decode()
    lines = text.strip().split("\n")
    assert lines[0].startswith("user,arn,user_creation_time,password_enabled")
    assert lines[1].startswith("<root_account>,arn:aws:iam::%s:root," % ACCOUNT)
    row = lines[2].split(",")
    assert row[0] == "s" and row[8] == "true"  # access_key_1_active


def test_simulate_principal_policy(iam):
    iam.create_user(UserName="sim")
    iam.put_user_policy(UserName="sim", PolicyName="p", PolicyDocument=doc(
        allow("s3:GetObject", "arn:aws:s3:::b/*"), {"Effect": "Deny", "Action": "s3:GetObject",
                                                     "Resource": "arn:aws:s3:::b/secret/*"}))
    r = iam.simulate_principal_policy(PolicySourceArn="arn:aws:iam::%s:user/sim" % ACCOUNT,
                                      ActionNames=["s3:GetObject", "s3:PutObject"],
                                      ResourceArns=["arn:aws:s3:::b/x", "arn:aws:s3:::b/secret/y"])
    got = {(x["EvalActionName"], x["EvalResourceName"]): x["EvalDecision"] for x in r["EvaluationResults"]}
    assert got == {("s3:GetObject", "arn:aws:s3:::b/x"): "allowed",
                   ("s3:GetObject", "arn:aws:s3:::b/secret/y"): "explicitDeny",
                   ("s3:PutObject", "arn:aws:s3:::b/x"): "implicitDeny",
                   ("s3:PutObject", "arn:aws:s3:::b/secret/y"): "implicitDeny"}
    c = iam.simulate_custom_policy(PolicyInputList=[doc(allow("ec2:*", Condition={
        "IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}))], ActionNames=["ec2:RunInstances"],
        ContextEntries=[{"ContextKeyName": "aws:SourceIp", "ContextKeyValues": ["10.1.2.3"],
                         "ContextKeyType": "ip"}])
    assert c["EvaluationResults"][0]["EvalDecision"] == "allowed"
    keys = iam.get_context_keys_for_custom_policy(PolicyInputList=[doc(allow("ec2:*", Condition={
        "IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}))])["ContextKeyNames"]
    assert keys == ["aws:SourceIp"]


def test_aws_cli(nimbus, aws):
    out = aws("iam", "create-user", "--user-name", "cli")
    assert out["User"]["UserName"] == "cli"
    aws("iam", "attach-user-policy", "--user-name", "cli", "--policy-arn", READ_ONLY)
    out = aws("iam", "list-attached-user-policies", "--user-name", "cli")
    assert out["AttachedPolicies"] == [{"PolicyName": "ReadOnlyAccess", "PolicyArn": READ_ONLY}]
    out = aws("iam", "create-access-key", "--user-name", "cli")["AccessKey"]
    ident = run_aws(nimbus, "sts", "get-caller-identity", access_key=out["AccessKeyId"],
                    secret_key=out["SecretAccessKey"])
    assert ident["Arn"].endswith(":user/cli")
    users = run_aws(nimbus, "iam", "list-users", access_key=out["AccessKeyId"], secret_key=out["SecretAccessKey"])
    assert [u["UserName"] for u in users["Users"]] == ["cli"]
    p = run_aws(nimbus, "iam", "create-user", "--user-name", "x", access_key=out["AccessKeyId"],
                secret_key=out["SecretAccessKey"], check=False, parse=False)
    assert p.returncode != 0 and "AccessDenied" in p.stderr


def test_state_survives_a_restart(nimbus_factory):
    s = nimbus_factory()
    from conftest import client
    iam = client(s, "iam")
    iam.create_user(UserName="persist")
    k = iam.create_access_key(UserName="persist")["AccessKey"]
    iam.attach_user_policy(UserName="persist", PolicyArn=READ_ONLY)
    s.stop()
    s.start()
    u = client(s, "iam", access_key=k["AccessKeyId"], secret_key=k["SecretAccessKey"])
    assert [x["UserName"] for x in u.list_users()["Users"]] == ["persist"]
    refused(u.create_user, UserName="no")
