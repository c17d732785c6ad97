"""IAM's limit, conflict and duplicate errors in AWS's words, and Marker/IsTruncated paging on
every List* call (and the other paged calls: ListEntitiesForPolicy across its three lists,
SimulatePrincipalPolicy, ListAccountAliases)."""
import pytest

from iam_helpers import allow, doc, refused

ACCOUNT = "000000000000"
TRUST = doc({"Effect": "Allow", "Principal": {"AWS": ACCOUNT}, "Action": "sts:AssumeRole"})


@pytest.fixture
def iam(boto):
    return boto("iam")


def policies(iam, n, prefix="p"):
    return [iam.create_policy(PolicyName=f"{prefix}{i:02d}", PolicyDocument=doc(allow("s3:GetObject")))
            ["Policy"]["Arn"] for i in range(n)]


@pytest.mark.parametrize("kind", ["User", "Role", "Group"])
def test_attached_policy_quota_is_ten(iam, kind):
    if kind == "User":
        iam.create_user(UserName="x")
    elif kind == "Role":
        iam.create_role(RoleName="x", AssumeRolePolicyDocument=TRUST)
    else:
        iam.create_group(GroupName="x")
    attach = getattr(iam, f"attach_{kind.lower()}_policy")
    arns = policies(iam, 11)
    for a in arns[:10]:
        attach(**{f"{kind}Name": "x", "PolicyArn": a})
    err = refused(attach, **{f"{kind}Name": "x", "PolicyArn": arns[10]}, code="LimitExceeded", status=409)
    assert err["Message"] == f"Cannot exceed quota for PoliciesPer{kind}: 10"
    # Attaching one already attached again is not a new attachment.
    attach(**{f"{kind}Name": "x", "PolicyArn": arns[0]})


def test_version_and_access_key_quotas(iam):
    arn = policies(iam, 1)[0]
    for _ in range(4):
        iam.create_policy_version(PolicyArn=arn, PolicyDocument=doc(allow("s3:PutObject")))
    err = refused(iam.create_policy_version, PolicyArn=arn, PolicyDocument=doc(allow("s3:PutObject")),
                  code="LimitExceeded", status=409)
    assert err["Message"] == ("A managed policy can have up to 5 versions. Before you create a new version, you "
                              "must delete an existing version.")
    iam.create_user(UserName="k")
    iam.create_access_key(UserName="k")
    iam.create_access_key(UserName="k")
    err = refused(iam.create_access_key, UserName="k", code="LimitExceeded", status=409)
    assert err["Message"] == "Cannot exceed quota for AccessKeysPerUser: 2"


def test_entity_already_exists_messages(iam):
    iam.create_user(UserName="dup")
    assert refused(iam.create_user, UserName="DUP", code="EntityAlreadyExists", status=409)["Message"] == \
        "User with name DUP already exists."
    iam.create_group(GroupName="g")
    assert refused(iam.create_group, GroupName="g", code="EntityAlreadyExists")["Message"] == \
        "Group with name g already exists."
    iam.create_role(RoleName="r", AssumeRolePolicyDocument=TRUST)
    assert refused(iam.create_role, RoleName="r", AssumeRolePolicyDocument=TRUST,
                   code="EntityAlreadyExists")["Message"] == "Role with name r already exists."
    policies(iam, 1, prefix="pol")
    assert refused(iam.create_policy, PolicyName="pol00", PolicyDocument=doc(allow("s3:*")),
                   code="EntityAlreadyExists")["Message"] == \
        "A policy called pol00 already exists. Duplicate names are not allowed."
    iam.create_instance_profile(InstanceProfileName="ip")
    assert refused(iam.create_instance_profile, InstanceProfileName="ip",
                   code="EntityAlreadyExists")["Message"] == "Instance Profile ip already exists."


def test_delete_conflicts(iam):
    arn = policies(iam, 1)[0]
    iam.create_user(UserName="busy")
    iam.create_group(GroupName="team")
    iam.add_user_to_group(GroupName="team", UserName="busy")
    iam.attach_user_policy(UserName="busy", PolicyArn=arn)
    iam.put_user_policy(UserName="busy", PolicyName="inl", PolicyDocument=doc(allow("s3:*")))
    iam.create_login_profile(UserName="busy", Password="Very-long-passw0rd!")
    key = iam.create_access_key(UserName="busy")["AccessKey"]["AccessKeyId"]
    steps = [
        ("Cannot delete entity, must delete login profile first.", lambda: iam.delete_login_profile(UserName="busy")),
        ("Cannot delete entity, must delete access keys first.",
         lambda: iam.delete_access_key(UserName="busy", AccessKeyId=key)),
        ("Cannot delete entity, must delete policies first.",
         lambda: iam.delete_user_policy(UserName="busy", PolicyName="inl")),
        ("Cannot delete entity, must detach all policies first.",
         lambda: iam.detach_user_policy(UserName="busy", PolicyArn=arn)),
        ("Cannot delete entity, must remove users from group first.",
         lambda: iam.remove_user_from_group(GroupName="team", UserName="busy")),
    ]
    for message, undo in steps:
        err = refused(iam.delete_user, UserName="busy", code="DeleteConflict", status=409)
        assert err["Message"] == message
        undo()
    iam.delete_user(UserName="busy")
    # Groups, roles and policies in use.
    iam.attach_group_policy(GroupName="team", PolicyArn=arn)
    assert refused(iam.delete_group, GroupName="team", code="DeleteConflict")["Message"] == \
        "Cannot delete entity, must detach all policies first."
    assert refused(iam.delete_policy, PolicyArn=arn, code="DeleteConflict")["Message"] == \
        "Cannot delete a policy attached to entities."
    iam.create_role(RoleName="held", AssumeRolePolicyDocument=TRUST)
    iam.create_instance_profile(InstanceProfileName="holder")
    iam.add_role_to_instance_profile(InstanceProfileName="holder", RoleName="held")
    assert refused(iam.delete_role, RoleName="held", code="DeleteConflict")["Message"] == \
        "Cannot delete entity, must remove roles from instance profile first."


def page_all(call, key, **kw):
    """Every item of a paged call, one per page, checking IsTruncated/Marker on the way."""
    items, marker, pages = [], None, 0
    while True:
        out = call(MaxItems=1, **({"Marker": marker} if marker else {}), **kw)
        got = out[key] if isinstance(key, str) else [x for k in key for x in out[k]]
        assert len(got) <= 1
        items += got
        pages += 1
        if not out["IsTruncated"]:
            assert "Marker" not in out
            return items, pages
        marker = out["Marker"]
        assert pages < 20


def test_every_list_call_pages(iam):
    arn = policies(iam, 3)[0]
    for i in range(3):
        iam.create_user(UserName=f"u{i}", Tags=[{"Key": f"k{j}", "Value": "v"} for j in range(3)])
        iam.create_group(GroupName=f"g{i}")
        iam.add_user_to_group(GroupName="g0", UserName=f"u{i}")
        iam.add_user_to_group(GroupName=f"g{i}", UserName="u0")
        iam.create_role(RoleName=f"r{i}", AssumeRolePolicyDocument=TRUST, Tags=[{"Key": f"k{j}", "Value": "v"}
                                                                                 for j in range(3)])
        iam.create_instance_profile(InstanceProfileName=f"ip{i}")
        for kind in ("user", "group", "role"):
            getattr(iam, f"put_{kind}_policy")(**{f"{kind.capitalize()}Name": "u0" if kind == "user" else
                                                  "g0" if kind == "group" else "r0"},
                                               PolicyName=f"in{i}", PolicyDocument=doc(allow("s3:*")))
        iam.create_virtual_mfa_device(VirtualMFADeviceName=f"mfa{i}")
    for a in [arn] + [iam.list_policies(Scope="Local")["Policies"][i]["Arn"] for i in (1, 2)]:
        iam.attach_user_policy(UserName="u0", PolicyArn=a)
        iam.attach_group_policy(GroupName="g0", PolicyArn=a)
        iam.attach_role_policy(RoleName="r0", PolicyArn=a)
    iam.create_policy_version(PolicyArn=arn, PolicyDocument=doc(allow("s3:PutObject")))
    iam.create_policy_version(PolicyArn=arn, PolicyDocument=doc(allow("s3:PutObject")))
    iam.tag_policy(PolicyArn=arn, Tags=[{"Key": f"k{j}", "Value": "v"} for j in range(3)])
    iam.create_access_key(UserName="u0")
    iam.create_access_key(UserName="u0")
    cases = [
        (iam.list_users, "Users", {}, 3),
        (iam.list_groups, "Groups", {}, 3),
        (iam.list_roles, "Roles", {}, 3),
        (iam.list_instance_profiles, "InstanceProfiles", {}, 3),
        (iam.list_policies, "Policies", {"Scope": "Local"}, 3),
        (iam.list_policy_versions, "Versions", {"PolicyArn": arn}, 3),
        (iam.list_policy_tags, "Tags", {"PolicyArn": arn}, 3),
        (iam.list_user_tags, "Tags", {"UserName": "u0"}, 3),
        (iam.list_role_tags, "Tags", {"RoleName": "r0"}, 3),
        (iam.list_groups_for_user, "Groups", {"UserName": "u0"}, 3),
        (iam.get_group, "Users", {"GroupName": "g0"}, 3),
        (iam.list_user_policies, "PolicyNames", {"UserName": "u0"}, 3),
        (iam.list_group_policies, "PolicyNames", {"GroupName": "g0"}, 3),
        (iam.list_role_policies, "PolicyNames", {"RoleName": "r0"}, 3),
        (iam.list_attached_user_policies, "AttachedPolicies", {"UserName": "u0"}, 3),
        (iam.list_attached_group_policies, "AttachedPolicies", {"GroupName": "g0"}, 3),
        (iam.list_attached_role_policies, "AttachedPolicies", {"RoleName": "r0"}, 3),
        (iam.list_access_keys, "AccessKeyMetadata", {"UserName": "u0"}, 2),
        (iam.list_virtual_mfa_devices, "VirtualMFADevices", {}, 3),
        (iam.list_entities_for_policy, ("PolicyUsers", "PolicyGroups", "PolicyRoles"), {"PolicyArn": arn}, 3),
        (iam.simulate_principal_policy, "EvaluationResults",
         {"PolicySourceArn": f"arn:aws:iam::{ACCOUNT}:user/u0", "ActionNames": ["s3:GetObject", "s3:PutObject",
                                                                                "iam:ListUsers"]}, 3),
    ]
    for call, key, kw, n in cases:
        items, pages = page_all(call, key, **kw)
        assert len(items) == n, (call, items)
        assert pages == n, call
        if isinstance(key, str) and isinstance(items[0], str):
            assert len(set(items)) == n
    iam.create_account_alias(AccountAlias="my-alias")
    out = iam.list_account_aliases(MaxItems=1)
    assert out["AccountAliases"] == ["my-alias"] and out["IsTruncated"] is False


def test_list_entities_for_policy_pages_across_lists_and_counts_boundaries(iam):
    arn = policies(iam, 1)[0]
    iam.create_user(UserName="a")
    iam.create_user(UserName="b", PermissionsBoundary=arn)
    iam.create_group(GroupName="g")
    iam.create_role(RoleName="r", AssumeRolePolicyDocument=TRUST)
    iam.attach_user_policy(UserName="a", PolicyArn=arn)
    iam.attach_group_policy(GroupName="g", PolicyArn=arn)
    iam.attach_role_policy(RoleName="r", PolicyArn=arn)
    whole = iam.list_entities_for_policy(PolicyArn=arn)
    assert [u["UserName"] for u in whole["PolicyUsers"]] == ["a", "b"]
    assert [g["GroupName"] for g in whole["PolicyGroups"]] == ["g"]
    assert [r["RoleName"] for r in whole["PolicyRoles"]] == ["r"]
    assert whole["IsTruncated"] is False
    refused(iam.list_account_aliases, Marker="bogus", code="ValidationError", status=400)
    perm = iam.list_entities_for_policy(PolicyArn=arn, PolicyUsageFilter="PermissionsPolicy")
    assert [u["UserName"] for u in perm["PolicyUsers"]] == ["a"]
    bound = iam.list_entities_for_policy(PolicyArn=arn, PolicyUsageFilter="PermissionsBoundary")
    assert [u["UserName"] for u in bound["PolicyUsers"]] == ["b"] and bound["PolicyRoles"] == []
    first = iam.list_entities_for_policy(PolicyArn=arn, MaxItems=3)
    assert len(first["PolicyUsers"]) == 2 and len(first["PolicyGroups"]) == 1 and first["PolicyRoles"] == []
    assert first["IsTruncated"] is True
    rest = iam.list_entities_for_policy(PolicyArn=arn, MaxItems=3, Marker=first["Marker"])
    assert rest["PolicyUsers"] == [] and [r["RoleName"] for r in rest["PolicyRoles"]] == ["r"]
    assert rest["IsTruncated"] is False
    refused(iam.list_entities_for_policy, PolicyArn=arn, Marker="bogus", code="ValidationError", status=400)


@pytest.mark.parametrize("document, message", [
    ("{", "Syntax errors in policy."),
    ('{"Version": "2012-10-17"}', "Syntax errors in policy."),
    (doc({"Effect": "Allow", "Action": "s3:*"}), "Policy statement must contain resources."),
    (doc({"Effect": "Allow", "Action": "s3:*", "Resource": "*", "Principal": "*"}),
     "Policy document should not specify a principal."),
    (doc({"Effect": "Allow", "Action": "s3", "Resource": "*"}),
     "Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc."),
    (doc({"Effect": "Allow", "Action": "s3:*", "Resource": "bucket"}),
     'Resource bucket must be in ARN format or "*".'),
])
def test_malformed_policy_document_messages(iam, document, message):
    iam.create_user(UserName="m")
    for call in (lambda: iam.create_policy(PolicyName="m", PolicyDocument=document),
                 lambda: iam.put_user_policy(UserName="m", PolicyName="m", PolicyDocument=document)):
        err = refused(call, code="MalformedPolicyDocument", status=400)
        assert err["Message"] == message


def test_trust_policy_needs_a_principal(iam):
    err = refused(iam.create_role, RoleName="t", AssumeRolePolicyDocument=doc(
        {"Effect": "Allow", "Action": "sts:AssumeRole"}), code="MalformedPolicyDocument", status=400)
    assert err["Message"] == "Missing required field Principal"
