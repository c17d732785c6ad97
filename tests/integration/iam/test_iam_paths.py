"""IAM entity ARNs carry the entity's path, in responses and in the resources that authorization
checks (arn:aws:iam::ACCOUNT:user/PATH/NAME, as AWS builds them), so that policies on
arn:aws:iam::*:user/division_abc/* match the users under that path only."""
import pytest

from iam_helpers import allow, as_user, doc, make_user, refused

ACCOUNT = "000000000000"


@pytest.fixture
def iam(boto):
    return boto("iam")


def test_arns_in_responses_carry_the_path(iam):
    u = iam.create_user(UserName="pathy", Path="/division_abc/sub/")["User"]
    assert u["Arn"] == f"arn:aws:iam::{ACCOUNT}:user/division_abc/sub/pathy"
    assert iam.get_user(UserName="pathy")["User"]["Arn"] == u["Arn"]
    g = iam.create_group(GroupName="pg", Path="/division_abc/")["Group"]
    assert g["Arn"] == f"arn:aws:iam::{ACCOUNT}:group/division_abc/pg"
    r = iam.create_role(RoleName="pr", Path="/svc/", AssumeRolePolicyDocument=doc(
        {"Effect": "Allow", "Principal": {"AWS": ACCOUNT}, "Action": "sts:AssumeRole"}))["Role"]
    assert r["Arn"] == f"arn:aws:iam::{ACCOUNT}:role/svc/pr"
    ip = iam.create_instance_profile(InstanceProfileName="pip", Path="/svc/")["InstanceProfile"]
    assert ip["Arn"] == f"arn:aws:iam::{ACCOUNT}:instance-profile/svc/pip"
    iam.update_user(UserName="pathy", NewPath="/moved/")
    assert iam.get_user(UserName="pathy")["User"]["Arn"] == f"arn:aws:iam::{ACCOUNT}:user/moved/pathy"


def test_policy_on_a_user_path_matches_users_under_it_only(nimbus, iam):
    iam.create_user(UserName="inside", Path="/division_abc/")
    iam.create_user(UserName="deeper", Path="/division_abc/team/")
    iam.create_user(UserName="outside")
    iam.create_user(UserName="elsewhere", Path="/division_xyz/")
    keys = make_user(nimbus, iam, "admin-abc", inline=doc(
        allow(["iam:GetUser", "iam:TagUser", "iam:CreateUser", "iam:ListUserTags"],
              "arn:aws:iam::*:user/division_abc/*")))
    mine = as_user(nimbus, "iam", keys)
    assert mine.get_user(UserName="inside")["User"]["Arn"] == f"arn:aws:iam::{ACCOUNT}:user/division_abc/inside"
    assert mine.get_user(UserName="deeper")["User"]["Path"] == "/division_abc/team/"
    mine.tag_user(UserName="inside", Tags=[{"Key": "k", "Value": "v"}])
    assert mine.list_user_tags(UserName="inside")["Tags"] == [{"Key": "k", "Value": "v"}]
    # The refusal names the resource with its path, as AWS does.
    err = refused(mine.get_user, UserName="elsewhere", code="AccessDenied", status=403)
    assert f"on resource: arn:aws:iam::{ACCOUNT}:user/division_xyz/elsewhere " in err["Message"]
    err = refused(mine.get_user, UserName="outside", code="AccessDenied")
    assert f"on resource: arn:aws:iam::{ACCOUNT}:user/outside " in err["Message"]
    # Creating: the resource is the ARN the new user will have (its requested Path).
    assert mine.create_user(UserName="newbie", Path="/division_abc/")["User"]["Path"] == "/division_abc/"
    err = refused(mine.create_user, UserName="stray", code="AccessDenied")
    assert f"arn:aws:iam::{ACCOUNT}:user/stray " in err["Message"]
    refused(mine.create_user, UserName="stray2", Path="/division_xyz/", code="AccessDenied")
    # Moving a user out of the path takes it out of the policy's reach.
    iam.update_user(UserName="inside", NewPath="/other/")
    refused(mine.get_user, UserName="inside", code="AccessDenied")


def test_own_user_path_in_self_operations(nimbus, iam):
    """Operations defaulting to the caller (no UserName) check the caller's ARN with its path."""
    keys = make_user(nimbus, iam, "selfish", path="/division_abc/", inline=doc(
        allow(["iam:ListAccessKeys", "iam:GetUser"], "arn:aws:iam::*:user/division_abc/${aws:username}")))
    mine = as_user(nimbus, "iam", keys)
    assert mine.get_user()["User"]["Arn"] == f"arn:aws:iam::{ACCOUNT}:user/division_abc/selfish"
    assert len(mine.list_access_keys()["AccessKeyMetadata"]) == 1
    assert mine.get_user(UserName="selfish")["User"]["UserName"] == "selfish"


def test_role_group_and_instance_profile_paths_in_authorization(nimbus, iam):
    trust = doc({"Effect": "Allow", "Principal": {"AWS": ACCOUNT}, "Action": "sts:AssumeRole"})
    iam.create_role(RoleName="app", Path="/apps/", AssumeRolePolicyDocument=trust)
    iam.create_role(RoleName="ops", AssumeRolePolicyDocument=trust)
    iam.create_group(GroupName="devs", Path="/apps/")
    iam.create_group(GroupName="admins")
    iam.create_instance_profile(InstanceProfileName="appip", Path="/apps/")
    iam.create_instance_profile(InstanceProfileName="opsip")
    keys = make_user(nimbus, iam, "apps-admin", inline=doc(
        allow(["iam:GetRole", "iam:GetGroup", "iam:GetInstanceProfile"],
              ["arn:aws:iam::*:role/apps/*", "arn:aws:iam::*:group/apps/*",
               "arn:aws:iam::*:instance-profile/apps/*"])))
    mine = as_user(nimbus, "iam", keys)
    assert mine.get_role(RoleName="app")["Role"]["Arn"] == f"arn:aws:iam::{ACCOUNT}:role/apps/app"
    assert mine.get_group(GroupName="devs")["Group"]["Arn"] == f"arn:aws:iam::{ACCOUNT}:group/apps/devs"
    assert mine.get_instance_profile(InstanceProfileName="appip")["InstanceProfile"]["Path"] == "/apps/"
    err = refused(mine.get_role, RoleName="ops", code="AccessDenied")
    assert f"arn:aws:iam::{ACCOUNT}:role/ops " in err["Message"]
    refused(mine.get_group, GroupName="admins", code="AccessDenied")
    refused(mine.get_instance_profile, InstanceProfileName="opsip", code="AccessDenied")


def test_moving_or_renaming_needs_permission_on_the_target_too(nimbus, iam):
    """AWS: renaming or moving a user or group needs the permission on both the source and the
    target ARN."""
    iam.create_user(UserName="mover", Path="/division_abc/")
    iam.create_group(GroupName="grp", Path="/division_abc/")
    keys = make_user(nimbus, iam, "abc-admin", inline=doc(
        allow(["iam:UpdateUser", "iam:UpdateGroup"],
              ["arn:aws:iam::*:user/division_abc/*", "arn:aws:iam::*:group/division_abc/*"])))
    mine = as_user(nimbus, "iam", keys)
    # Within the path: both ARNs allowed.
    mine.update_user(UserName="mover", NewUserName="moved")
    mine.update_user(UserName="moved", NewPath="/division_abc/sub/")
    assert iam.get_user(UserName="moved")["User"]["Arn"] == f"arn:aws:iam::{ACCOUNT}:user/division_abc/sub/moved"
    # Out of the path: the target is refused, and nothing changed.
    err = refused(mine.update_user, UserName="moved", NewPath="/division_xyz/", code="AccessDenied", status=403)
    assert f"on resource: arn:aws:iam::{ACCOUNT}:user/division_xyz/moved " in err["Message"]
    assert iam.get_user(UserName="moved")["User"]["Path"] == "/division_abc/sub/"
    err = refused(mine.update_group, GroupName="grp", NewPath="/other/", code="AccessDenied")
    assert f"arn:aws:iam::{ACCOUNT}:group/other/grp " in err["Message"]
    mine.update_group(GroupName="grp", NewGroupName="grp2")
    assert iam.get_group(GroupName="grp2")["Group"]["Path"] == "/division_abc/"
    # Bad input is still a validation error, before any permission question.
    refused(mine.update_user, UserName="moved", NewPath="nopath", code="ValidationError", status=400)


def test_server_certificate_path_in_authorization_and_moves(nimbus, iam, tmp_path):
    import subprocess
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "30", "-subj",
                    "/CN=example.com", "-keyout", str(tmp_path / "k.pem"), "-out", str(tmp_path / "c.pem")],
                   check=True, capture_output=True)
    meta = iam.upload_server_certificate(ServerCertificateName="web", Path="/cloudfront/",
                                         CertificateBody=(tmp_path / "c.pem").read_text(),
                                         PrivateKey=(tmp_path / "k.pem").read_text())["ServerCertificateMetadata"]
    assert meta["Arn"] == f"arn:aws:iam::{ACCOUNT}:server-certificate/cloudfront/web"
    keys = make_user(nimbus, iam, "cf-admin", inline=doc(
        allow(["iam:GetServerCertificate", "iam:UpdateServerCertificate"],
              "arn:aws:iam::*:server-certificate/cloudfront/*")))
    mine = as_user(nimbus, "iam", keys)
    assert mine.get_server_certificate(ServerCertificateName="web")["ServerCertificate"][
        "ServerCertificateMetadata"]["Path"] == "/cloudfront/"
    mine.update_server_certificate(ServerCertificateName="web", NewServerCertificateName="web2")
    err = refused(mine.update_server_certificate, ServerCertificateName="web2", NewPath="/elb/",
                  code="AccessDenied", status=403)
    assert f"arn:aws:iam::{ACCOUNT}:server-certificate/elb/web2 " in err["Message"]
    iam.update_server_certificate(ServerCertificateName="web2", NewPath="/elb/")
    refused(mine.get_server_certificate, ServerCertificateName="web2", code="AccessDenied")
