"""ListPoliciesGrantingServiceAccess and the service last-accessed reports
(GenerateServiceLastAccessedDetails, GetServiceLastAccessedDetails[WithEntities]), as AWS
documents them; last-authenticated times come from the requests Nimbus authorized."""
import pytest

from iam_helpers import allow, as_user, doc, make_user, refused

ACCOUNT = "000000000000"


@pytest.fixture
def iam(boto):
    return boto("iam")


def managed(iam, name, *statements):
    return iam.create_policy(PolicyName=name, PolicyDocument=doc(*statements))["Policy"]["Arn"]


def test_policies_granting_service_access_user_with_groups(nimbus, iam):
    s3_arn = managed(iam, "s3-read", allow(["s3:Get*", "s3:List*"]))
    sqs_arn = managed(iam, "sqs-all", allow("sqs:*"))
    iam.create_group(GroupName="readers")
    iam.put_group_policy(GroupName="readers", PolicyName="grp-s3", PolicyDocument=doc(allow("s3:PutObject")))
    iam.attach_group_policy(GroupName="readers", PolicyArn=sqs_arn)
    iam.create_user(UserName="alice", Path="/team/")
    iam.add_user_to_group(GroupName="readers", UserName="alice")
    iam.attach_user_policy(UserName="alice", PolicyArn=s3_arn)
    iam.put_user_policy(UserName="alice", PolicyName="own-ec2", PolicyDocument=doc(allow("ec2:Describe*")))
    # A Deny never grants, NotAction grants every namespace it does not exclude whole.
    iam.put_user_policy(UserName="alice", PolicyName="deny-s3", PolicyDocument=doc(
        {"Effect": "Deny", "Action": "s3:*", "Resource": "*"}))
    iam.put_user_policy(UserName="alice", PolicyName="not-sns", PolicyDocument=doc(
        {"Effect": "Allow", "NotAction": ["sns:*", "s3:Delete*"], "Resource": "*"}))

    out = iam.list_policies_granting_service_access(
        Arn=f"arn:aws:iam::{ACCOUNT}:user/team/alice", ServiceNamespaces=["s3", "sqs", "ec2", "sns"])
    assert out["IsTruncated"] is False
    by_ns = {e["ServiceNamespace"]: e["Policies"] for e in out["PoliciesGrantingServiceAccess"]}
    assert list(by_ns) == ["s3", "sqs", "ec2", "sns"]
    s3 = sorted(by_ns["s3"], key=lambda p: p["PolicyName"])
    assert s3 == [
        {"PolicyName": "grp-s3", "PolicyType": "INLINE", "EntityType": "GROUP", "EntityName": "readers"},
        {"PolicyName": "not-sns", "PolicyType": "INLINE", "EntityType": "USER", "EntityName": "alice"},
        {"PolicyName": "s3-read", "PolicyType": "MANAGED", "PolicyArn": s3_arn},
    ]
    assert by_ns["sqs"] == [
        {"PolicyName": "not-sns", "PolicyType": "INLINE", "EntityType": "USER", "EntityName": "alice"},
        {"PolicyName": "sqs-all", "PolicyType": "MANAGED", "PolicyArn": sqs_arn}]
    assert sorted(p["PolicyName"] for p in by_ns["ec2"]) == ["not-sns", "own-ec2"]
    assert by_ns["sns"] == []


def test_policies_granting_service_access_role_aws_managed_and_errors(iam):
    iam.create_role(RoleName="reader", AssumeRolePolicyDocument=doc(
        {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}))
    ro = "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"
    iam.attach_role_policy(RoleName="reader", PolicyArn=ro)
    out = iam.list_policies_granting_service_access(
        Arn=f"arn:aws:iam::{ACCOUNT}:role/reader", ServiceNamespaces=["s3", "iam"])
    by_ns = {e["ServiceNamespace"]: e["Policies"] for e in out["PoliciesGrantingServiceAccess"]}
    assert by_ns["s3"] == [{"PolicyName": "AmazonS3ReadOnlyAccess", "PolicyType": "MANAGED", "PolicyArn": ro}]
    assert by_ns["iam"] == []
    refused(iam.list_policies_granting_service_access, Arn=f"arn:aws:iam::{ACCOUNT}:user/ghost",
            ServiceNamespaces=["s3"], code="NoSuchEntity", status=404)
    refused(iam.list_policies_granting_service_access, Arn="arn:aws:iam::123:user/x", ServiceNamespaces=["s3"],
            code="InvalidInput", status=400)
    # The path is part of the ARN: the role is not under /other/.
    refused(iam.list_policies_granting_service_access, Arn=f"arn:aws:iam::{ACCOUNT}:role/other/reader",
            ServiceNamespaces=["s3"], code="NoSuchEntity")


def test_service_last_accessed_user_records_attempts(nimbus, iam):
    keys = make_user(nimbus, iam, "worker", inline=doc(allow(["s3:ListAllMyBuckets", "s3:CreateBucket"]),
                                                       allow("sqs:*")))
    arn = f"arn:aws:iam::{ACCOUNT}:user/worker"
    # Before any use: the allowed services, none with LastAuthenticated.
    job = iam.generate_service_last_accessed_details(Arn=arn)["JobId"]
    assert len(job) == 36
    rep = iam.get_service_last_accessed_details(JobId=job)
    assert rep["JobStatus"] == "COMPLETED" and rep["JobType"] == "SERVICE_LEVEL"
    assert rep["JobCompletionDate"] >= rep["JobCreationDate"]
    svcs = {s["ServiceNamespace"]: s for s in rep["ServicesLastAccessed"]}
    assert set(svcs) == {"s3", "sqs"}
    assert svcs["s3"] == {"ServiceName": "Amazon S3", "ServiceNamespace": "s3"}
    assert svcs["sqs"]["ServiceName"] == "Amazon SQS"

    as_user(nimbus, "s3", keys).list_buckets()
    as_user(nimbus, "sqs", keys).list_queues()
    # A refused attempt counts too (AWS records attempts), but only reported for allowed services.
    refused(as_user(nimbus, "iam", keys).list_users, code="AccessDenied")
    job2 = iam.generate_service_last_accessed_details(Arn=arn, Granularity="ACTION_LEVEL")["JobId"]
    rep = iam.get_service_last_accessed_details(JobId=job2)
    assert rep["JobType"] == "ACTION_LEVEL"
    svcs = {s["ServiceNamespace"]: s for s in rep["ServicesLastAccessed"]}
    assert set(svcs) == {"s3", "sqs"}
    s3e = svcs["s3"]
    assert s3e["LastAuthenticatedEntity"] == arn
    assert s3e["LastAuthenticatedRegion"] == "us-east-1"
    assert svcs["sqs"]["LastAuthenticatedRegion"] == "us-east-1"  # the server's region
    assert "TrackedActionsLastAccessed" not in svcs["sqs"]  # not a service AWS tracks actions of
    assert s3e["TotalAuthenticatedEntities"] == 1
    assert s3e["LastAuthenticated"] <= rep["JobCreationDate"]
    assert [a["ActionName"] for a in s3e["TrackedActionsLastAccessed"]] == ["ListAllMyBuckets"]
    assert s3e["TrackedActionsLastAccessed"][0]["LastAccessedEntity"] == arn
    # The first report is a snapshot: it still shows no use.
    first = iam.get_service_last_accessed_details(JobId=job)
    assert all("LastAuthenticated" not in s for s in first["ServicesLastAccessed"])

    ent = iam.get_service_last_accessed_details_with_entities(JobId=job2, ServiceNamespace="s3")
    assert ent["JobStatus"] == "COMPLETED"
    [d] = ent["EntityDetailsList"]
    assert d["EntityInfo"]["Arn"] == arn and d["EntityInfo"]["Type"] == "USER"
    assert d["EntityInfo"]["Name"] == "worker" and d["EntityInfo"]["Path"] == "/"
    assert d["EntityInfo"]["Id"].startswith("AIDA")
    assert "LastAuthenticated" in d


def test_service_last_accessed_group_policy_and_role(nimbus, iam):
    pol = managed(iam, "sqs-use", allow("sqs:ListQueues"))
    iam.create_group(GroupName="crew")
    iam.attach_group_policy(GroupName="crew", PolicyArn=pol)
    k1 = make_user(nimbus, iam, "u1", groups=["crew"])
    make_user(nimbus, iam, "u2", groups=["crew"])
    as_user(nimbus, "sqs", k1).list_queues()
    group_job = iam.generate_service_last_accessed_details(Arn=f"arn:aws:iam::{ACCOUNT}:group/crew")["JobId"]
    [svc] = iam.get_service_last_accessed_details(JobId=group_job)["ServicesLastAccessed"]
    assert svc["ServiceNamespace"] == "sqs"
    assert svc["LastAuthenticatedEntity"] == f"arn:aws:iam::{ACCOUNT}:user/u1"
    assert svc["TotalAuthenticatedEntities"] == 1
    ents = iam.get_service_last_accessed_details_with_entities(JobId=group_job, ServiceNamespace="sqs")
    by_name = {d["EntityInfo"]["Name"]: d for d in ents["EntityDetailsList"]}
    assert set(by_name) == {"u1", "u2"}
    assert "LastAuthenticated" in by_name["u1"] and "LastAuthenticated" not in by_name["u2"]
    # Paging over entities.
    page = iam.get_service_last_accessed_details_with_entities(JobId=group_job, ServiceNamespace="sqs", MaxItems=1)
    assert page["IsTruncated"] is True and len(page["EntityDetailsList"]) == 1
    rest = iam.get_service_last_accessed_details_with_entities(JobId=group_job, ServiceNamespace="sqs",
                                                                Marker=page["Marker"])
    assert rest["IsTruncated"] is False and len(rest["EntityDetailsList"]) == 1

    # A policy's report counts the users of the groups it is attached to.
    pol_job = iam.generate_service_last_accessed_details(Arn=pol)["JobId"]
    [svc] = iam.get_service_last_accessed_details(JobId=pol_job)["ServicesLastAccessed"]
    assert svc["LastAuthenticatedEntity"] == f"arn:aws:iam::{ACCOUNT}:user/u1"

    # A role: its sessions' use is the role's.
    iam.create_role(RoleName="runner", Path="/ops/", AssumeRolePolicyDocument=doc(
        {"Effect": "Allow", "Principal": {"AWS": ACCOUNT}, "Action": "sts:AssumeRole"}))
    iam.put_role_policy(RoleName="runner", PolicyName="p", PolicyDocument=doc(allow("sqs:ListQueues")))
    creds = as_user(nimbus, "sts", ("test", "test")).assume_role(
        RoleArn=f"arn:aws:iam::{ACCOUNT}:role/ops/runner", RoleSessionName="sess")["Credentials"]
    as_user(nimbus, "sqs", (creds["AccessKeyId"], creds["SecretAccessKey"]), token=creds["SessionToken"]).list_queues()
    role_job = iam.generate_service_last_accessed_details(Arn=f"arn:aws:iam::{ACCOUNT}:role/ops/runner")["JobId"]
    [svc] = iam.get_service_last_accessed_details(JobId=role_job)["ServicesLastAccessed"]
    assert svc["LastAuthenticatedEntity"] == f"arn:aws:iam::{ACCOUNT}:role/ops/runner"
    [d] = iam.get_service_last_accessed_details_with_entities(JobId=role_job, ServiceNamespace="sqs")["EntityDetailsList"]
    assert d["EntityInfo"]["Type"] == "ROLE" and d["EntityInfo"]["Path"] == "/ops/"


def test_service_last_accessed_errors(iam):
    refused(iam.generate_service_last_accessed_details, Arn=f"arn:aws:iam::{ACCOUNT}:user/nobody",
            code="NoSuchEntity", status=404)
    refused(iam.generate_service_last_accessed_details, Arn=f"arn:aws:iam::{ACCOUNT}:policy/nope",
            code="NoSuchEntity", status=404)
    refused(iam.get_service_last_accessed_details, JobId="00000000-0000-0000-0000-000000000000",
            code="NoSuchEntity", status=404)
    iam.create_user(UserName="g")
    refused(iam.generate_service_last_accessed_details, Arn=f"arn:aws:iam::{ACCOUNT}:user/g",
            Granularity="BOGUS", code="ValidationError", status=400)
    # A user with no policies: an empty report.
    job = iam.generate_service_last_accessed_details(Arn=f"arn:aws:iam::{ACCOUNT}:user/g")["JobId"]
    assert iam.get_service_last_accessed_details(JobId=job)["ServicesLastAccessed"] == []


def test_aws_cli_generate_and_get(nimbus, aws, iam):
    iam.create_user(UserName="cliuser")
    iam.put_user_policy(UserName="cliuser", PolicyName="p", PolicyDocument=doc(allow("logs:*")))
    job = aws("iam", "generate-service-last-accessed-details", "--arn", f"arn:aws:iam::{ACCOUNT}:user/cliuser")["JobId"]
    rep = aws("iam", "get-service-last-accessed-details", "--job-id", job)
    assert [s["ServiceNamespace"] for s in rep["ServicesLastAccessed"]] == ["logs"]
    assert rep["ServicesLastAccessed"][0]["ServiceName"] == "Amazon CloudWatch Logs"
