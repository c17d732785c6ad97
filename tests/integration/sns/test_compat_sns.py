"""SNS validation as AWS answers it: list tokens it did not issue, empty attribute values, FIFO
group and deduplication id limits, and the FIFO-endpoint refusal text."""
import pytest

from conftest import client, error_of as err


@pytest.fixture
def sns(nimbus):
    return client(nimbus, "sns")


def test_list_tokens_not_issued_are_refused(sns):
    t = sns.create_topic(Name="t")["TopicArn"]
    for i in range(101):
        sns.subscribe(TopicArn=t, Protocol="sms", Endpoint="+1555555%04d" % i)
    page = sns.list_subscriptions_by_topic(TopicArn=t)
    assert len(page["Subscriptions"]) == 100 and page["NextToken"]
    rest = sns.list_subscriptions_by_topic(TopicArn=t, NextToken=page["NextToken"])
    assert len(rest["Subscriptions"]) == 1 and "NextToken" not in rest
    for call in (lambda **kw: sns.list_subscriptions_by_topic(TopicArn=t, **kw), sns.list_subscriptions,
                 sns.list_topics):
        e = err(call, NextToken="garbage")
        assert (e["Code"], e["Message"]) == ("InvalidParameter", "Invalid parameter: NextToken")


def test_attribute_values_must_not_be_empty(sns):
    t = sns.create_topic(Name="t")["TopicArn"]
    e = err(sns.publish, TopicArn=t, Message="m", MessageAttributes={"a": {"DataType": "String", "StringValue": ""}})
    assert e["Code"] == "ParameterValueInvalid"
    assert e["Message"] == ("The message attribute 'a' must contain non-empty message attribute value for "
                            "message attribute type 'String'.")


def test_fifo_ids_are_limited_to_128_printable_characters(sns):
    t = sns.create_topic(Name="t.fifo", Attributes={"FifoTopic": "true", "ContentBasedDeduplication": "true"})[
        "TopicArn"]
    assert sns.publish(TopicArn=t, Message="m", MessageGroupId="g" * 128, MessageDeduplicationId="d" * 128)
    e = err(sns.publish, TopicArn=t, Message="m", MessageGroupId="g" * 129)
    assert e["Code"] == "InvalidParameter" and e["Message"].startswith("Invalid parameter: MessageGroupId Reason:")
    e = err(sns.publish, TopicArn=t, Message="m", MessageGroupId="g", MessageDeduplicationId="d d")
    assert e["Message"].startswith("Invalid parameter: MessageDeduplicationId Reason:")
    e = err(sns.subscribe, TopicArn=t, Protocol="email", Endpoint="a@example.com")
    assert e["Message"] == "Invalid parameter: Endpoint Reason: FIFO topics support only SQS endpoints"


def test_malformed_arns_are_invalid_parameters_not_missing_resources(sns):
    t = sns.create_topic(Name="t")["TopicArn"]
    for call, kw, member in ((sns.get_topic_attributes, {"TopicArn": "notanarn"}, "TopicArn"),
                             (sns.publish, {"TopicArn": "notanarn", "Message": "m"}, "TopicArn"),
                             (sns.subscribe, {"TopicArn": "notanarn", "Protocol": "sms", "Endpoint": "+15555550100"},
                              "TopicArn"),
                             (sns.delete_topic, {"TopicArn": "notanarn"}, "TopicArn"),
                             (sns.get_subscription_attributes, {"SubscriptionArn": "PendingConfirmation"},
                              "SubscriptionArn"),
                             (sns.unsubscribe, {"SubscriptionArn": t}, "SubscriptionArn")):
        e = err(call, **kw)
        assert (e["Code"], e["Message"]) == ("InvalidParameter", "Invalid parameter: " + member), call
    # well-formed but naming nothing: NotFound; deleting such a topic or unsubscribing such a
    # subscription succeeds (both are idempotent)
    assert err(sns.get_topic_attributes, TopicArn=t + "x")["Code"] == "NotFound"
    sns.unsubscribe(SubscriptionArn=t + ":0c2ee2b4-7c36-4f9d-8d6a-2b5a1f4b1e5e")
    sns.delete_topic(TopicArn=t + "x")


def test_recreating_a_topic_with_other_tags_is_refused(sns):
    sns.create_topic(Name="t", Tags=[{"Key": "a", "Value": "1"}])
    assert sns.create_topic(Name="t", Tags=[{"Key": "a", "Value": "1"}])["TopicArn"]
    assert sns.create_topic(Name="t")["TopicArn"]
    e = err(sns.create_topic, Name="t", Tags=[{"Key": "a", "Value": "2"}])
    assert e["Message"] == "Invalid parameter: Tags Reason: Topic already exists with different tags"
