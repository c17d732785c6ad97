"""IAM/STS edge cases as AWS answers them: Date* condition values IAM's legacy parser takes,
paging of List*Tags and GetAccountAuthorizationDetails, TagKeys and PathPrefix validation,
service-linked role names and their protection from DeleteRole, and the credential report's
STARTED/COMPLETE states."""
import json

import pytest

from iam_helpers import allow, doc, refused

ACCOUNT = "000000000000"
TRUST = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]})


@pytest.fixture
def iam(boto):
    return boto("iam")


def date_doc(value):
    return doc(allow("s3:ListBucket", "arn:aws:s3:::example_bucket",
                     Condition={"DateGreaterThan": {"aws:CurrentTime": value}}))


# ---- Date* condition values: IAM's legacy parser, not the evaluator's date reading ----

@pytest.mark.parametrize("value", [
    "2019-07-01T13:20:15Z", "2019", "2019-07", "01T", "2019-07-01T", "-292275054", "292278993",
    "2016-12-13t2:00:00.593194+23", "2016-12-13T21:20:37.593194+00:00", "1524",
    "9223372036854775807", "2019-7-1", "2019-07-01T12:00:00-05:00",
])
def test_date_condition_values_iam_takes(iam, value):
    iam.create_policy(PolicyName="d", PolicyDocument=date_doc(value))


@pytest.mark.parametrize("value", [
    "sdf", "2019-13-01", "2019-01-32", "-292275055", "-292275055-01-01", "2019-07-01-01",
    "2019-07-01T25:00:00", "2019-07-01T12:30:61", "9223372036854775808", "1.5", "",
    "2019-07-01T12:00:00Zx",
])
def test_date_condition_values_failing_legacy_parsing(iam, value):
    refused(iam.create_policy, PolicyName="d", PolicyDocument=date_doc(value),
            code="MalformedPolicyDocument", status=400, contains="The policy failed legacy parsing")


def test_date_condition_taken_by_iam_still_evaluates(iam):
    """A date IAM takes but cannot compare never matches; a plain date still does."""
    user = "arn:aws:iam::%s:user/dtu" % ACCOUNT
    iam.create_user(UserName="dtu")
    iam.put_user_policy(UserName="dtu", PolicyName="p", PolicyDocument=doc(
        allow("s3:GetObject", "*", Condition={"DateGreaterThan": {"aws:CurrentTime": "2000-01-01T00:00:00Z"}}),
        allow("s3:PutObject", "*", Condition={"DateGreaterThan": {"aws:CurrentTime": "01T"}})))
    now = [{"ContextKeyName": "aws:CurrentTime", "ContextKeyValues": ["2020-01-01T00:00:00Z"],
            "ContextKeyType": "date"}]
    res = iam.simulate_principal_policy(PolicySourceArn=user, ActionNames=["s3:GetObject", "s3:PutObject"],
                                        ContextEntries=now)["EvaluationResults"]
    assert [(r["EvalActionName"], r["EvalDecision"]) for r in res] == [
        ("s3:GetObject", "allowed"), ("s3:PutObject", "implicitDeny")]


# ---- List*Tags paging ----

def tag_pages(fn, **kw):
    keys, marker, calls = [], None, 0
    while True:
        args = dict(kw, MaxItems=20)
        if marker:
            args["Marker"] = marker
        r = fn(**args)
        calls += 1
        assert len(r["Tags"]) <= 20
        keys += [t["Key"] for t in r["Tags"]]
        if not r["IsTruncated"]:
            assert "Marker" not in r
            return keys, calls
        marker = r["Marker"]


def test_list_user_and_role_tags_page(iam):
    tags = [{"Key": "k%02d" % i, "Value": "v%d" % i} for i in range(50)]
    iam.create_user(UserName="tagged", Tags=tags)
    iam.create_role(RoleName="tagged", AssumeRolePolicyDocument=TRUST, Tags=tags)
    pol = iam.create_policy(PolicyName="tagged", PolicyDocument=doc(allow("s3:*")), Tags=tags)["Policy"]["Arn"]
    iam.create_instance_profile(InstanceProfileName="tagged", Tags=tags)
    want = [t["Key"] for t in tags]
    for fn, kw in ((iam.list_user_tags, {"UserName": "tagged"}), (iam.list_role_tags, {"RoleName": "tagged"}),
                   (iam.list_policy_tags, {"PolicyArn": pol}),
                   (iam.list_instance_profile_tags, {"InstanceProfileName": "tagged"})):
        keys, calls = tag_pages(fn, **kw)
        assert keys == want, fn
        assert calls == 3
    first = iam.list_user_tags(UserName="tagged", MaxItems=1)
    assert first["Tags"] == [{"Key": "k00", "Value": "v0"}] and first["IsTruncated"] is True
    assert iam.list_user_tags(UserName="tagged")["IsTruncated"] is False
    refused(iam.list_user_tags, UserName="tagged", Marker="bogus", code="ValidationError")


# ---- TagKeys and PathPrefix validation ----

def test_untag_keys_are_validated(iam):
    iam.create_user(UserName="ut", Tags=[{"Key": "a", "Value": "b"}])
    iam.create_role(RoleName="ut", AssumeRolePolicyDocument=TRUST)
    for fn, kw in ((iam.untag_user, {"UserName": "ut"}), (iam.untag_role, {"RoleName": "ut"})):
        err = refused(fn, TagKeys=["bad#key"], code="ValidationError", status=400, **kw)
        assert "'bad#key' at 'tagKeys'" in err["Message"]
        assert "regular expression pattern" in err["Message"]
        refused(fn, TagKeys=["k" * 129], code="ValidationError", contains="less than or equal to 128", **kw)
    iam.untag_user(UserName="ut", TagKeys=["a", "absent"])
    assert iam.list_user_tags(UserName="ut")["Tags"] == []


@pytest.mark.parametrize("op,kw", [
    ("list_users", {}), ("list_roles", {}), ("list_groups", {}), ("list_instance_profiles", {}),
    ("list_policies", {}), ("list_server_certificates", {}),
])
def test_path_prefix_pattern(iam, op, kw):
    fn = getattr(iam, op)
    err = refused(fn, PathPrefix="no-slash", code="ValidationError", status=400, **kw)
    assert "at 'pathPrefix' failed to satisfy constraint" in err["Message"]
    fn(PathPrefix="/", **kw)
    fn(PathPrefix="/a/b", **kw)


# ---- service-linked roles ----

@pytest.mark.parametrize("service,name", [
    ("autoscaling.amazonaws.com", "AWSServiceRoleForAutoScaling"),
    ("elasticbeanstalk.amazonaws.com", "AWSServiceRoleForElasticBeanstalk"),
    ("custom-resource.application-autoscaling.amazonaws.com",
     "AWSServiceRoleForApplicationAutoScaling_CustomResource"),
    ("ecs.application-autoscaling.amazonaws.com", "AWSServiceRoleForApplicationAutoScaling_ECSService"),
    ("elasticloadbalancing.amazonaws.com", "AWSServiceRoleForElasticLoadBalancing"),
])
def test_service_linked_role_names(iam, service, name):
    role = iam.create_service_linked_role(AWSServiceName=service, Description="d")["Role"]
    assert role["RoleName"] == name
    assert role["Path"] == "/aws-service-role/%s/" % service
    assert role["Arn"] == "arn:aws:iam::%s:role/aws-service-role/%s/%s" % (ACCOUNT, service, name)
    trust = role["AssumeRolePolicyDocument"]
    assert trust["Statement"][0]["Principal"]["Service"] == service


def test_service_linked_role_not_deleted_by_delete_role(iam):
    name = iam.create_service_linked_role(AWSServiceName="elasticbeanstalk.amazonaws.com")["Role"]["RoleName"]
    err = refused(iam.delete_role, RoleName=name, code="UnmodifiableEntity", status=400)
    assert name in err["Message"] and "protected role" in err["Message"]
    iam.get_role(RoleName=name)
    pol = iam.create_policy(PolicyName="slrp", PolicyDocument=doc(allow("s3:*")))["Policy"]["Arn"]
    for fn, kw in ((iam.update_assume_role_policy, {"PolicyDocument": TRUST}),
                   (iam.put_role_policy, {"PolicyName": "p", "PolicyDocument": doc(allow("s3:*"))}),
                   (iam.delete_role_policy, {"PolicyName": "p"}),
                   (iam.attach_role_policy, {"PolicyArn": pol}),
                   (iam.detach_role_policy, {"PolicyArn": pol}),
                   (iam.put_role_permissions_boundary, {"PermissionsBoundary": pol}),
                   (iam.delete_role_permissions_boundary, {})):
        refused(fn, RoleName=name, code="UnmodifiableEntity", status=400, contains="protected role", **kw)
    assert iam.list_role_policies(RoleName=name)["PolicyNames"] == []
    assert iam.list_attached_role_policies(RoleName=name)["AttachedPolicies"] == []
    assert iam.update_role_description(RoleName=name, Description="mine")["Role"]["Description"] == "mine"
    iam.delete_service_linked_role(RoleName=name)
    refused(iam.get_role, RoleName=name, code="NoSuchEntity", status=404)


# ---- credential report ----

def test_credential_report_started_then_complete(iam):
    refused(iam.get_credential_report, code="ReportNotPresent", status=410)
    first = iam.generate_credential_report()
    assert first["State"] == "STARTED"
    assert first["Description"] == "No report exists. Starting a new report generation task"
    assert iam.generate_credential_report()["State"] == "COMPLETE"
    rows = iam.get_credential_report()["Content"].decode().splitlines()
    assert rows[1].startswith("<root_account>,arn:aws:iam::%s:root," % ACCOUNT)


# ---- GetAccountAuthorizationDetails paging ----

def test_account_authorization_details_pages(iam):
    for i in range(3):
        iam.create_user(UserName="gu%d" % i)
        iam.create_group(GroupName="gg%d" % i)
        iam.create_role(RoleName="gr%d" % i, AssumeRolePolicyDocument=TRUST)
        iam.create_policy(PolicyName="gp%d" % i, PolicyDocument=doc(allow("s3:*")))
    seen, marker, calls = [], None, 0
    while True:
        kw = {"MaxItems": 5, "Filter": ["User", "Group", "Role", "LocalManagedPolicy"]}
        if marker:
            kw["Marker"] = marker
        r = iam.get_account_authorization_details(**kw)
        calls += 1
        page = ([u["UserName"] for u in r["UserDetailList"]] + [g["GroupName"] for g in r["GroupDetailList"]] +
                [x["RoleName"] for x in r["RoleDetailList"]] + [p["PolicyName"] for p in r["Policies"]])
        assert len(page) <= 5
        seen += page
        if not r["IsTruncated"]:
            assert "Marker" not in r
            break
        marker = r["Marker"]
    assert calls == 3
    assert seen == ["gu0", "gu1", "gu2", "gg0", "gg1", "gg2", "gr0", "gr1", "gr2", "gp0", "gp1", "gp2"]
    whole = iam.get_account_authorization_details(Filter=["User"])
    assert whole["IsTruncated"] is False and len(whole["UserDetailList"]) == 3


# ---- virtual MFA devices: QRCodePNG ----

def png_pixels(png):
    """(width, height, rows of 0/1 pixels) of a 1-bit grayscale PNG, checking every chunk's CRC."""
    import struct
    import zlib
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, ihdr = 8, b"", None
    while pos < len(png):
        n = struct.unpack(">I", png[pos:pos + 4])[0]
        kind, body = png[pos + 4:pos + 8], png[pos + 8:pos + 8 + n]
        assert struct.unpack(">I", png[pos + 8 + n:pos + 12 + n])[0] == zlib.crc32(kind + body)
        if kind == b"IHDR":
            ihdr = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
        pos += 12 + n
    w, h, depth, color = ihdr[:4]
    assert (depth, color) == (1, 0)
    raw = zlib.decompress(idat)
    rowb = (w + 7) // 8
    assert len(raw) == h * (rowb + 1)
    rows = []
    for y in range(h):
        line = raw[y * (rowb + 1) + 1:(y + 1) * (rowb + 1)]
        rows.append([(line[x // 8] >> (7 - x % 8)) & 1 for x in range(w)])
    return w, h, rows


def test_virtual_mfa_device_qr_code_png(iam, tmp_path):
    dev = iam.create_virtual_mfa_device(VirtualMFADeviceName="BobsMFADevice")["VirtualMFADevice"]
    png = dev["QRCodePNG"]
    seed = dev["Base32StringSeed"].decode()
    w, h, rows = png_pixels(png)
    assert w == h and w >= 21 * 4
    # a QR code: the top-left finder pattern's dark ring inside a white quiet zone
    assert rows[0][0] == 1 and rows[16][16] == 0 and rows[16 + 4 * 6][16 + 4 * 6] == 0
    assert rows[16 + 4 * 1][16 + 4 * 1] == 1 and rows[16 + 4 * 3][16 + 4 * 3] == 0
    import shutil
    import subprocess
    if shutil.which("zbarimg"):
        f = tmp_path / "qr.png"
        f.write_bytes(png)
        out = subprocess.run(["zbarimg", "-q", "--raw", str(f)], capture_output=True, text=True).stdout.strip()
        assert out == ("otpauth://totp/Amazon%%20Web%%20Services:BobsMFADevice@%s?secret=%s"
                       "&issuer=Amazon%%20Web%%20Services" % (ACCOUNT, seed))
    long_name = iam.create_virtual_mfa_device(VirtualMFADeviceName="m" * 226)["VirtualMFADevice"]
    assert png_pixels(long_name["QRCodePNG"])[0] > w


def test_cli_writes_the_qr_code_png(aws, tmp_path):
    out = tmp_path / "QRCode.png"
    aws("iam", "create-virtual-mfa-device", "--virtual-mfa-device-name", "CliMFA", "--outfile", str(out),
        "--bootstrap-method", "QRCodePNG")
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    seed = tmp_path / "seed.txt"
    aws("iam", "create-virtual-mfa-device", "--virtual-mfa-device-name", "CliMFA2", "--outfile", str(seed),
        "--bootstrap-method", "Base32StringSeed")
    text = seed.read_text()
    assert len(text) == 32 and set(text) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")


# ---- condition blocks IAM takes in identity policies ----

@pytest.mark.parametrize("condition", [
    {"DateGreaterThan": {"a": "01T"}},
    {"x": {}, "y": {}},
    {"StringEqualsIfExists": {"a": "asf"}},
    {"ForAnyValue:StringEqualsIfExists": {"a": "asf"}},
    {"ForAllValues:StringEquals": {"aws:TagKeys": "Department"}},
    {"DateLessThan": {"a": "-292275054"}},
    {"Null": {"a": True}},
    {"Bool": {"a": "true"}},
])
def test_condition_keys_without_vendor_are_taken(iam, condition):
    iam.create_policy(PolicyName="c", PolicyDocument=doc(
        allow("s3:ListBucket", "arn:aws:s3:::example_bucket", Condition=condition)))


@pytest.mark.parametrize("condition,message", [
    ({"x": {"a": "b"}}, "Syntax errors in policy."),
    ({"ForAnyValue::StringEqualsIfExists": {"a": "asf"}}, "Syntax errors in policy."),
    ({"DateGreaterThan": {"a": "sdf"}}, "The policy failed legacy parsing"),
])
def test_condition_blocks_refused(iam, condition, message):
    err = refused(iam.create_policy, PolicyName="c", PolicyDocument=doc(
        allow("s3:ListBucket", "arn:aws:s3:::example_bucket", Condition=condition)),
        code="MalformedPolicyDocument", status=400)
    assert err["Message"] == message


# ---- role descriptions: [\p{L}\p{M}\p{Z}\p{S}\p{N}\p{P}]* ----

def test_role_description_pattern(iam):
    for bad in ("tab\there", "line\nbreak", "bell\x07"):
        err = refused(iam.create_role, RoleName="rd", AssumeRolePolicyDocument=TRUST, Description=bad,
                      code="ValidationError", status=400)
        assert "at 'description' failed to satisfy constraint" in err["Message"]
    role = iam.create_role(RoleName="rd", AssumeRolePolicyDocument=TRUST,
                           Description="Caf\u00e9 r\u00f4le \u4e2d\u6587 (test) #1 \u20ac")["Role"]
    assert role["Description"] == "Caf\u00e9 r\u00f4le \u4e2d\u6587 (test) #1 \u20ac"
    refused(iam.update_role, RoleName="rd", Description="x\ty", code="ValidationError")
    refused(iam.update_role_description, RoleName="rd", Description="x\ny", code="ValidationError")
    assert iam.get_role(RoleName="rd")["Role"]["Description"].startswith("Caf\u00e9")


# ---- STS: ExternalId, SerialNumber and TokenCode patterns ----

def test_sts_parameter_patterns(iam, boto):
    sts = boto("sts")
    trust = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::%s:root" % ACCOUNT}, "Action": "sts:AssumeRole"}]})
    arn = iam.create_role(RoleName="pat", AssumeRolePolicyDocument=trust)["Role"]["Arn"]
    err = refused(sts.assume_role, RoleArn=arn, RoleSessionName="s1", ExternalId="has spaces",
                  code="ValidationError", status=400)
    assert "'has spaces' at 'externalId'" in err["Message"]
    sts.assume_role(RoleArn=arn, RoleSessionName="s1", ExternalId="a:b/c=d,e.f@g-h_i+j")
    refused(sts.assume_role, RoleArn=arn, RoleSessionName="s1", SerialNumber="not a serial",
            TokenCode="123456", code="ValidationError", contains="at 'serialNumber'")
    refused(sts.get_session_token, SerialNumber="arn:aws:iam::%s:mfa/x" % ACCOUNT, TokenCode="12345a",
            code="ValidationError", contains="at 'tokenCode'")
    refused(sts.get_session_token, SerialNumber="arn:aws:iam::%s:mfa/x" % ACCOUNT, TokenCode="123456",
            code="AccessDenied", status=403)


# ---- STS AssumeRoleWithWebIdentity: AWS's answers before the token's signature ----

def test_web_identity_token_checks(nimbus, iam):
    import base64

    import boto3
    from botocore import UNSIGNED
    from botocore.config import Config

    def part(d):
        return base64.urlsafe_b64encode(json.dumps(d).encode()).decode().rstrip("=")
    sts = boto3.client("sts", endpoint_url=nimbus.endpoint, region_name="us-east-1",
                       config=Config(signature_version=UNSIGNED, retries={"max_attempts": 1}))
    role = "arn:aws:iam::%s:role/web" % ACCOUNT
    token = part({"alg": "RS256"}) + "." + part({"iss": "https://token.example.org", "aud": "sts"}) + ".c2ln"
    err = refused(sts.assume_role_with_web_identity, RoleArn=role, RoleSessionName="s1",
                  WebIdentityToken="not-a-jwt-at-all", code="InvalidIdentityToken", status=400)
    assert "not a valid JWT" in err["Message"]
    err = refused(sts.assume_role_with_web_identity, RoleArn=role, RoleSessionName="s1", WebIdentityToken=token,
                  code="InvalidIdentityToken", status=400)
    assert err["Message"] == "No OpenIDConnect provider found in your account for https://token.example.org"
    refused(sts.assume_role_with_web_identity, RoleArn=role, RoleSessionName="bad name", WebIdentityToken=token,
            code="ValidationError", contains="roleSessionName")
    iam.create_open_id_connect_provider(Url="https://token.example.org/", ClientIDList=["sts"],
                                        ThumbprintList=["a" * 40])
    refused(sts.assume_role_with_web_identity, RoleArn=role, RoleSessionName="s1", WebIdentityToken=token,
            code="NotImplemented", status=501)
