"""Model validation errors of the query protocols (IAM, STS, SNS, SQS) and EC2, in AWS's exact
code and wording. Client-side validation is off so that the server sees the bad input."""
import re

import pytest

from conftest import NOVALID, call_error as err


def test_iam_missing_required_member(boto):
    iam = boto("iam", **NOVALID)
    assert err(iam.create_user) == (
        400, "ValidationError",
        "1 validation error detected: Value null at 'userName' failed to satisfy constraint: "
        "Member must not be null")


def test_iam_length_and_range(boto):
    iam = boto("iam", **NOVALID)
    assert err(iam.create_user, UserName="a" * 65) == (
        400, "ValidationError",
        "1 validation error detected: Value '%s' at 'userName' failed to satisfy constraint: "
        "Member must have length less than or equal to 64" % ("a" * 65))
    assert err(iam.create_user, UserName="") == (
        400, "ValidationError",
        "1 validation error detected: Value '' at 'userName' failed to satisfy constraint: "
        "Member must have length greater than or equal to 1")
    assert err(iam.list_users, MaxItems=1001) == (
        400, "ValidationError",
        "1 validation error detected: Value '1001' at 'maxItems' failed to satisfy constraint: "
        "Member must have value less than or equal to 1000")


def test_iam_pattern_and_enum(boto):
    iam = boto("iam", **NOVALID)
    assert err(iam.create_user, UserName="a b") == (
        400, "ValidationError",
        "1 validation error detected: Value 'a b' at 'userName' failed to satisfy constraint: "
        "Member must satisfy regular expression pattern: [\\w+=,.@-]+")
    assert err(iam.update_access_key, AccessKeyId="AKIAAAAAAAAAAAAAAAAA", Status="Bogus") == (
        400, "ValidationError",
        "1 validation error detected: Value 'Bogus' at 'status' failed to satisfy constraint: "
        "Member must satisfy enum value set: [Active, Inactive]")


def test_iam_wrong_type(boto):
    iam = boto("iam", **NOVALID)
    assert err(iam.list_users, MaxItems="abc") == (
        400, "ValidationError",
        "1 validation error detected: Value 'abc' at 'maxItems' failed to satisfy constraint: "
        "Member must be an Integer")


def test_iam_nested_member_path(boto):
    iam = boto("iam")
    iam.create_user(UserName="u1")
    iam = boto("iam", **NOVALID)
    assert err(iam.tag_user, UserName="u1", Tags=[{"Value": "v"}]) == (
        400, "ValidationError",
        "1 validation error detected: Value null at 'tags.1.member.key' failed to satisfy "
        "constraint: Member must not be null")


def test_iam_too_many_tags_prints_a_java_list(boto):
    # AWS prints a list of structures as Java's toString of each: class name @ hash.
    iam = boto("iam")
    iam.create_user(UserName="u1")
    iam = boto("iam", **NOVALID)
    st, code, msg = err(iam.tag_user, UserName="u1",
                        Tags=[{"Key": "k%d" % i, "Value": "v"} for i in range(51)])
    assert (st, code) == (400, "ValidationError")
    m = re.fullmatch(r"1 validation error detected: Value '\[(.*)\]' at 'tags' failed to satisfy "
                     r"constraint: Member must have length less than or equal to 50", msg)
    assert m, msg
    items = m.group(1).split(", ")
    assert items[-1] == "..." and len(items) > 2
    for it in items[:-1]:
        assert re.fullmatch(r"com\.amazonaws\.services\.identitymanagement\.model\.Tag@[0-9a-f]{1,8}",
                            it), it
    # nothing garbled: no empty elements
    assert ", ," not in msg and "=}" not in msg


def test_sts_several_errors_in_one_message(boto):
    sts = boto("sts", **NOVALID)
    assert err(sts.assume_role) == (
        400, "ValidationError",
        "2 validation errors detected: Value null at 'roleArn' failed to satisfy constraint: "
        "Member must not be null; Value null at 'roleSessionName' failed to satisfy constraint: "
        "Member must not be null")
    assert err(sts.get_session_token, DurationSeconds=1) == (
        400, "ValidationError",
        "1 validation error detected: Value '1' at 'durationSeconds' failed to satisfy "
        "constraint: Member must have value greater than or equal to 900")


def test_sts_too_many_tags(boto):
    sts = boto("sts", **NOVALID)
    st, code, msg = err(sts.assume_role, RoleArn="arn:aws:iam::000000000000:role/r",
                        RoleSessionName="sess",
                        Tags=[{"Key": "k%d" % i, "Value": "v"} for i in range(51)])
    assert (st, code) == (400, "ValidationError")
    assert msg.startswith("1 validation error detected: Value '[com.amazonaws.services."
                          "securitytoken.model.Tag@"), msg
    assert msg.endswith(", ...]' at 'tags' failed to satisfy constraint: Member must have "
                        "length less than or equal to 50"), msg


def test_sqs_missing_parameter(boto):
    sqs = boto("sqs", **NOVALID)
    if sqs.meta.service_model.protocol != "query":
        pytest.skip("botocore >= 1.34.90 speaks JSON to SQS: this is the query API's wording")
    assert err(sqs.create_queue) == (
        400, "MissingParameter", "The request must contain the parameter QueueName.")
    assert err(sqs.get_queue_url) == (
        400, "MissingParameter", "The request must contain the parameter QueueName.")


def test_sns_overrides_and_default(boto):
    sns = boto("sns", **NOVALID)
    assert err(sns.publish, Message="x") == (
        400, "InvalidParameter",
        "Invalid parameter: TopicArn or TargetArn Reason: no value for required parameter")
    assert err(sns.create_topic) == (
        400, "ValidationError",
        "1 validation error detected: Value null at 'name' failed to satisfy constraint: "
        "Member must not be null")


def test_ec2_missing_and_wrong_type(boto):
    ec2 = boto("ec2", **NOVALID)
    assert err(ec2.delete_vpc) == (
        400, "MissingParameter", "The request must contain the parameter VpcId")
    assert err(ec2.describe_vpcs, MaxResults="abc") == (
        400, "InvalidParameterValue",
        "Value (abc) for parameter MaxResults is invalid. Expected: 'Integer'.")
