"""STS: temporary credentials (GetSessionToken, AssumeRole, GetFederationToken), their limits,
and their life on the region clock."""
import datetime

import pytest

from conftest import client
from iam_helpers import advance_clock, allow, as_user, doc, make_user, refused

ACCOUNT = "000000000000"
TRUST_ACCOUNT = doc({"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::%s:root" % ACCOUNT},
                     "Action": ["sts:AssumeRole", "sts:TagSession"]})


@pytest.fixture
def iam(boto):
    return boto("iam")


def session_client(server, service, creds):
    return client(server, service, access_key=creds["AccessKeyId"], secret_key=creds["SecretAccessKey"],
                  token=creds["SessionToken"])


def role(iam, name, managed="arn:aws:iam::aws:policy/IAMReadOnlyAccess", trust=TRUST_ACCOUNT, **kw):
    iam.create_role(RoleName=name, AssumeRolePolicyDocument=trust, **kw)
    if managed:
        iam.attach_role_policy(RoleName=name, PolicyArn=managed)
    return "arn:aws:iam::%s:role/%s" % (ACCOUNT, name)


def test_get_session_token_of_a_user(nimbus, iam):
    keys = make_user(nimbus, iam, "u", managed=["arn:aws:iam::aws:policy/CloudWatchLogsReadOnlyAccess"])
    sts = as_user(nimbus, "sts", keys)
    cr = sts.get_session_token(DurationSeconds=900)["Credentials"]
    assert cr["AccessKeyId"].startswith("ASIA") and len(cr["SecretAccessKey"]) == 40
    exp = cr["Expiration"].timestamp()
    now = datetime.datetime.now(datetime.timezone.utc).timestamp()
    assert 800 < exp - now < 1000
    s = session_client(nimbus, "logs", cr)
    s.describe_log_groups()  # the user's own permissions
    refused(as_user(nimbus, "lambda", (cr["AccessKeyId"], cr["SecretAccessKey"]), token=cr["SessionToken"]).list_functions,
            code="AccessDeniedException")
    # without MFA, GetSessionToken credentials cannot call IAM at all (AWS)
    refused(session_client(nimbus, "iam", cr).get_user, code="InvalidClientTokenId")
    assert session_client(nimbus, "sts", cr).get_caller_identity()["Arn"].endswith(":user/u")
    refused(session_client(nimbus, "sts", cr).get_session_token, code="AccessDenied")
    refused(sts.get_session_token, DurationSeconds=200000, code="ValidationError")
    # no token -> the temporary key alone is not enough
    refused(client(nimbus, "logs", access_key=cr["AccessKeyId"], secret_key=cr["SecretAccessKey"]).describe_log_groups,
            code="UnrecognizedClientException")
    advance_clock(nimbus, "16m")
    refused(s.describe_log_groups, code="ExpiredTokenException")


def test_root_session_token_limits(nimbus, boto):
    sts = boto("sts")
    refused(sts.get_session_token, DurationSeconds=7200, code="ValidationError")
    cr = sts.get_session_token()["Credentials"]
    ident = session_client(nimbus, "sts", cr).get_caller_identity()
    assert ident["Arn"] == "arn:aws:iam::%s:root" % ACCOUNT
    session_client(nimbus, "logs", cr).describe_log_groups()
    refused(session_client(nimbus, "iam", cr).create_user, UserName="by-root-session", code="InvalidClientTokenId")


def test_assume_role_basics(nimbus, iam):
    arn = role(iam, "reader", MaxSessionDuration=7200)
    sts = client(nimbus, "sts")
    r = sts.assume_role(RoleArn=arn, RoleSessionName="alice@example.com", DurationSeconds=7200)
    assert r["AssumedRoleUser"]["AssumedRoleId"].startswith("AROA")
    assert r["AssumedRoleUser"]["AssumedRoleId"].endswith(":alice@example.com")
    refused(sts.assume_role, RoleArn=arn, RoleSessionName="x1", DurationSeconds=7201, code="ValidationError",
            contains="MaxSessionDuration")
    refused(sts.assume_role, RoleArn="arn:aws:iam::%s:role/ghost" % ACCOUNT, RoleSessionName="x1",
            code="AccessDenied")
    refused(sts.assume_role, RoleArn=arn, RoleSessionName="bad name", code="ValidationError")
    s = session_client(nimbus, "iam", r["Credentials"])
    assert s.get_role(RoleName="reader")["Role"]["RoleLastUsed"].get("LastUsedDate")
    refused(s.create_user, UserName="x")


def test_trust_policy_must_name_the_caller(nimbus, iam):
    # the trust policy names one user directly: that user needs no identity policy
    trusted = make_user(nimbus, iam, "trusted")
    other = make_user(nimbus, iam, "other", managed=["arn:aws:iam::aws:policy/AdministratorAccess"])
    arn = role(iam, "direct", trust=doc({"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::%s:user/trusted" % ACCOUNT},
                                         "Action": "sts:AssumeRole"}))
    as_user(nimbus, "sts", trusted).assume_role(RoleArn=arn, RoleSessionName="ok")
    err = refused(as_user(nimbus, "sts", other).assume_role, RoleArn=arn, RoleSessionName="no")
    assert "sts:AssumeRole" in err["Message"]
    # a service-trusted role cannot be assumed by users
    svc = role(iam, "svc", trust=doc({"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"},
                                      "Action": "sts:AssumeRole"}))
    refused(client(nimbus, "sts").assume_role, RoleArn=svc, RoleSessionName="no")


def test_role_chaining_is_limited_to_one_hour(nimbus, iam):
    arn1 = role(iam, "first", managed="arn:aws:iam::aws:policy/AdministratorAccess", MaxSessionDuration=43200)
    arn2 = role(iam, "second", MaxSessionDuration=43200)
    cr = client(nimbus, "sts").assume_role(RoleArn=arn1, RoleSessionName="one")["Credentials"]
    chained = session_client(nimbus, "sts", cr)
    err = refused(chained.assume_role, RoleArn=arn2, RoleSessionName="two", DurationSeconds=7200,
                  code="ValidationError")
    assert "role chaining" in err["Message"]
    cr2 = chained.assume_role(RoleArn=arn2, RoleSessionName="two", DurationSeconds=3600)["Credentials"]
    ident = session_client(nimbus, "sts", cr2).get_caller_identity()
    assert ident["Arn"] == "arn:aws:sts::%s:assumed-role/second/two" % ACCOUNT


def test_session_tags_become_principal_tags(nimbus, iam):
    arn = role(iam, "tagged", managed=None)
    iam.put_role_policy(RoleName="tagged", PolicyName="p", PolicyDocument=doc(
        allow("iam:GetUser", "arn:aws:iam::*:user/${aws:PrincipalTag/project}")))
    iam.create_user(UserName="apollo")
    iam.create_user(UserName="gemini")
    r = client(nimbus, "sts").assume_role(RoleArn=arn, RoleSessionName="tags",
                                          Tags=[{"Key": "project", "Value": "apollo"}],
                                          TransitiveTagKeys=["project"])
    assert r["PackedPolicySize"] >= 1
    s = session_client(nimbus, "iam", r["Credentials"])
    s.get_user(UserName="apollo")
    refused(s.get_user, UserName="gemini")
    refused(client(nimbus, "sts").assume_role, RoleArn=arn, RoleSessionName="bad",
            TransitiveTagKeys=["missing"], Tags=[{"Key": "a", "Value": "b"}], code="InvalidParameterValue")


def test_external_id_condition_same_account(nimbus, iam):
    arn = role(iam, "ext", trust=doc({"Effect": "Allow", "Principal": {"AWS": ACCOUNT}, "Action": "sts:AssumeRole",
                                      "Condition": {"StringEquals": {"sts:ExternalId": "abc-123"}}}))
    sts = client(nimbus, "sts")
    refused(sts.assume_role, RoleArn=arn, RoleSessionName="n1")
    sts.assume_role(RoleArn=arn, RoleSessionName="n1", ExternalId="abc-123")


def test_malformed_session_policy(nimbus, iam):
    arn = role(iam, "sp")
    refused(client(nimbus, "sts").assume_role, RoleArn=arn, RoleSessionName="x1", Policy='{"Version":',
            code="MalformedPolicyDocument")


def test_federation_token(nimbus, iam):
    keys = make_user(nimbus, iam, "fed", managed=["arn:aws:iam::aws:policy/CloudWatchLogsFullAccess"])
    sts = as_user(nimbus, "sts", keys)
    # sts:GetFederationToken needs permission
    refused(sts.get_federation_token, Name="bob", Policy=doc(allow("logs:DescribeLogGroups")))
    iam.put_user_policy(UserName="fed", PolicyName="f", PolicyDocument=doc(allow("sts:GetFederationToken")))
    r = sts.get_federation_token(Name="bob", Policy=doc(allow(["logs:DescribeLogGroups", "lambda:ListFunctions"])))
    assert r["FederatedUser"]["Arn"] == "arn:aws:sts::%s:federated-user/bob" % ACCOUNT
    assert r["FederatedUser"]["FederatedUserId"] == "%s:bob" % ACCOUNT
    s = session_client(nimbus, "logs", r["Credentials"])
    s.describe_log_groups()  # allowed by both the user's policies and the session policy
    refused(s.describe_log_streams, logGroupName="g", code="AccessDeniedException")  # the session policy does not
    refused(session_client(nimbus, "lambda", r["Credentials"]).list_functions,
            code="AccessDeniedException")  # the session policy does, the user does not
    refused(session_client(nimbus, "iam", r["Credentials"]).get_user, code="InvalidClientTokenId")
    # without a session policy the federated session has no permissions
    r2 = sts.get_federation_token(Name="nobody")
    refused(session_client(nimbus, "logs", r2["Credentials"]).describe_log_groups, code="AccessDeniedException")


def test_get_access_key_info(nimbus, iam, boto):
    keys = make_user(nimbus, iam, "info")
    assert boto("sts").get_access_key_info(AccessKeyId=keys[0])["Account"] == ACCOUNT


def test_sessions_survive_a_restart(nimbus_factory):
    s = nimbus_factory()
    iam = client(s, "iam")
    arn = role(iam, "keep")
    cr = client(s, "sts").assume_role(RoleArn=arn, RoleSessionName="keep")["Credentials"]
    s.stop()
    s.start()
    session_client(s, "iam", cr).list_roles()


def test_deleting_a_user_ends_its_sessions(nimbus, iam):
    keys = make_user(nimbus, iam, "gone", managed=["arn:aws:iam::aws:policy/CloudWatchLogsReadOnlyAccess"])
    cr = as_user(nimbus, "sts", keys).get_session_token()["Credentials"]
    s = session_client(nimbus, "logs", cr)
    s.describe_log_groups()
    iam.detach_user_policy(UserName="gone", PolicyArn="arn:aws:iam::aws:policy/CloudWatchLogsReadOnlyAccess")
    refused(s.describe_log_groups, code="AccessDeniedException")
    iam.delete_access_key(UserName="gone", AccessKeyId=keys[0])
    iam.delete_user(UserName="gone")
    refused(s.describe_log_groups, code="UnrecognizedClientException")
