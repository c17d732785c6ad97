"""SNS as AWS answers it where LocalStack's and moto's suites look: message attribute names,
the field a Binary attribute must use, AddPermission's action scope and policy shape."""
import json

import pytest

from conftest import client, error_of as err


@pytest.fixture
def sns(nimbus):
    return client(nimbus, "sns")


def attr(value="v", data_type="String"):
    return {"DataType": data_type, "StringValue": value}


@pytest.mark.parametrize("name,message", [
    ("a b", "Invalid non-alphanumeric character '#x20' was found in the message attribute name. Can only include "
            "alphanumeric characters, hyphens, underscores, or dots."),
    ("caf\u00e9", "Invalid non-alphanumeric character '#xE9' was found in the message attribute name. Can only "
                  "include alphanumeric characters, hyphens, underscores, or dots."),
    (".start", "Invalid message attribute name starting with character '.' was found."),
    ("end.", "Invalid message attribute name ending with character '.' was found."),
    ("a..b", "Message attribute name can not have successive '.' character."),
    ("n" * 257, "Length of message attribute name must be less than 256 bytes."),
])
def test_message_attribute_names(sns, name, message):
    t = sns.create_topic(Name="names")["TopicArn"]
    e = err(sns.publish, TopicArn=t, Message="m", MessageAttributes={name: attr()})
    assert (e["Code"], e["Message"]) == ("ParameterValueInvalid", message)
    res = sns.publish_batch(TopicArn=t, PublishBatchRequestEntries=[
        {"Id": "ok", "Message": "m"}, {"Id": "bad", "Message": "m", "MessageAttributes": {name: attr()}}])
    assert [s["Id"] for s in res["Successful"]] == ["ok"]
    assert [(f["Id"], f["Code"], f["Message"]) for f in res["Failed"]] == [("bad", "ParameterValueInvalid", message)]


def test_valid_attribute_names_and_fields(sns):
    t = sns.create_topic(Name="fields")["TopicArn"]
    assert sns.publish(TopicArn=t, Message="m", MessageAttributes={
        "a.b-c_D9": attr(), "bin": {"DataType": "Binary", "BinaryValue": b"\x00"}})["MessageId"]
    e = err(sns.publish, TopicArn=t, Message="m", MessageAttributes={"b": {"DataType": "Binary", "StringValue": "x"}})
    assert (e["Code"], e["Message"]) == ("ParameterValueInvalid",
                                         "The message attribute 'b' with type 'Binary' must use field 'Binary'.")
    e = err(sns.publish, TopicArn=t, Message="m", MessageAttributes={"s": {"DataType": "String", "BinaryValue": b"x"}})
    assert (e["Code"], e["Message"]) == ("ParameterValueInvalid",
                                         "The message attribute 's' with type 'String' must use field 'String'.")


def test_add_permission_scope_and_policy_shape(sns):
    t = sns.create_topic(Name="perm")["TopicArn"]
    e = err(sns.add_permission, TopicArn=t, Label="bad", AWSAccountId=["111111111111"], ActionName=["CreateTopic"])
    assert (e["Code"], e["Message"]) == ("InvalidParameter",
                                         "Invalid parameter: Policy statement action out of service scope!")
    sns.add_permission(TopicArn=t, Label="one", AWSAccountId=["111111111111"], ActionName=["Publish"])
    sns.add_permission(TopicArn=t, Label="two", AWSAccountId=["111111111111", "222222222222"],
                       ActionName=["Publish", "Subscribe"])
    st = json.loads(sns.get_topic_attributes(TopicArn=t)["Attributes"]["Policy"])["Statement"]
    assert [s["Sid"] for s in st] == ["__default_statement_ID", "one", "two"]
    assert st[1] == {"Sid": "one", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111111111111:root"},
                     "Action": "SNS:Publish", "Resource": t}
    assert st[2]["Principal"] == {"AWS": ["arn:aws:iam::111111111111:root", "arn:aws:iam::222222222222:root"]}
    assert st[2]["Action"] == ["SNS:Publish", "SNS:Subscribe"]
    sns.remove_permission(TopicArn=t, Label="one")
    st = json.loads(sns.get_topic_attributes(TopicArn=t)["Attributes"]["Policy"])["Statement"]
    assert [s["Sid"] for s in st] == ["__default_statement_ID", "two"]


def test_subscription_attribute_errors_are_worded_per_call(sns, nimbus):
    sqs = client(nimbus, "sqs")
    url = sqs.create_queue(QueueName="subattrs")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    t = sns.create_topic(Name="subattrs")["TopicArn"]
    # Subscribe names them as a reason about Attributes ...
    e = err(sns.subscribe, TopicArn=t, Protocol="sqs", Endpoint=arn, Attributes={"RawMessageDelivery": "maybe"})
    assert e["Message"] == ("Invalid parameter: Attributes Reason: RawMessageDelivery: Invalid value [maybe]. "
                            "Must be true or false.")
    e = err(sns.subscribe, TopicArn=t, Protocol="sqs", Endpoint=arn, Attributes={"FilterPolicyScope": "Body"})
    assert e["Message"] == ("Invalid parameter: Attributes Reason: FilterPolicyScope: Invalid value [Body]. "
                            "Please use either MessageBody or MessageAttributes")
    # ... SetSubscriptionAttributes names the attribute itself
    sub = sns.subscribe(TopicArn=t, Protocol="sqs", Endpoint=arn, ReturnSubscriptionArn=True)["SubscriptionArn"]
    e = err(sns.set_subscription_attributes, SubscriptionArn=sub, AttributeName="RawMessageDelivery",
            AttributeValue="maybe")
    assert (e["Code"], e["Message"]) == ("InvalidParameter", "Invalid parameter: RawMessageDelivery: Invalid value "
                                         "[maybe]. Must be true or false.")
    e = err(sns.set_subscription_attributes, SubscriptionArn=sub, AttributeName="FilterPolicyScope",
            AttributeValue="Body")
    assert e["Message"] == ("Invalid parameter: FilterPolicyScope: Invalid value [Body]. Please use either "
                            "MessageBody or MessageAttributes")
    sns.set_subscription_attributes(SubscriptionArn=sub, AttributeName="RawMessageDelivery", AttributeValue="true")
    assert sns.get_subscription_attributes(SubscriptionArn=sub)["Attributes"]["RawMessageDelivery"] == "true"


def test_platform_application_names_are_checked(sns):
    for bad in ("a b", "a/b", "x" * 257):
        e = err(sns.create_platform_application, Name=bad, Platform="GCM", Attributes={"PlatformCredential": "k"})
        assert (e["Code"], e["Message"]) == ("InvalidParameter", "Invalid parameter: Name")
    arn = sns.create_platform_application(Name="my-app_1.0", Platform="GCM",
                                          Attributes={"PlatformCredential": "k"})["PlatformApplicationArn"]
    assert arn.endswith(":app/GCM/my-app_1.0")


def test_sms_publish_is_limited_to_1600_characters(sns):
    assert sns.publish(PhoneNumber="+15555550123", Message="\u00e9" * 1600)["MessageId"]
    e = err(sns.publish, PhoneNumber="+15555550123", Message="a" * 1601)
    assert e["Code"] == "InvalidParameter" and "must be less than 1600" in e["Message"]


def test_create_topic_with_more_than_50_tags_is_refused(sns):
    e = err(sns.create_topic, Name="tagged", Tags=[{"Key": "k%d" % i, "Value": "v"} for i in range(51)])
    assert (e["Code"], e["Message"]) == ("TagLimitExceeded",
                                         "Could not complete request: tag quota of per resource exceeded")
    assert not [t for t in sns.list_topics()["Topics"] if t["TopicArn"].endswith(":tagged")]
    t = sns.create_topic(Name="tagged", Tags=[{"Key": "k%d" % i, "Value": "v"} for i in range(50)])["TopicArn"]
    assert len(sns.list_tags_for_resource(ResourceArn=t)["Tags"]) == 50


def test_tracing_config_values(sns):
    t = sns.create_topic(Name="traced")["TopicArn"]
    sns.set_topic_attributes(TopicArn=t, AttributeName="TracingConfig", AttributeValue="Active")
    assert sns.get_topic_attributes(TopicArn=t)["Attributes"]["TracingConfig"] == "Active"
    e = err(sns.set_topic_attributes, TopicArn=t, AttributeName="TracingConfig", AttributeValue="Sometimes")
    assert e["Code"] == "InvalidParameter" and "TracingConfig" in e["Message"]
    f = sns.create_topic(Name="traced.fifo", Attributes={"FifoTopic": "true"})["TopicArn"]
    sns.set_topic_attributes(TopicArn=f, AttributeName="TracingConfig", AttributeValue="PassThrough")
    e = err(sns.set_topic_attributes, TopicArn=f, AttributeName="TracingConfig", AttributeValue="Active")
    assert e["Code"] == "InvalidParameter"
