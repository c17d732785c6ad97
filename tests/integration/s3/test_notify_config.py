"""S3 event notification configuration (validation and storage only; delivery is the SNS/SQS
issue's): topic, queue and function configurations, event names with wildcards, prefix/suffix
filters, and AWS's refusals (unknown events, bad or duplicate filter rules, overlapping
configurations, destinations that do not exist)."""
import pytest
from botocore.exceptions import ClientError

from s3util import bucket, err, s3  # noqa: F401 (fixtures)


def filt(prefix=None, suffix=None):
    rules = []
    if prefix is not None:
        rules.append({"Name": "prefix", "Value": prefix})
    if suffix is not None:
        rules.append({"Name": "suffix", "Value": suffix})
    return {"Key": {"FilterRules": rules}}


@pytest.fixture
def dests(boto):
    sns, sqs = boto("sns"), boto("sqs")
    topic = sns.create_topic(Name="s3-events")["TopicArn"]
    url = sqs.create_queue(QueueName="s3-events")["QueueUrl"]
    queue = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    return topic, queue


def test_empty_by_default(s3, bucket):
    out = s3.get_bucket_notification_configuration(Bucket=bucket)
    assert not any(k in out for k in ("TopicConfigurations", "QueueConfigurations", "LambdaFunctionConfigurations"))


def test_round_trip(s3, bucket, dests):
    topic, queue = dests
    s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration={
        "TopicConfigurations": [{"Id": "images", "TopicArn": topic, "Events": ["s3:ObjectCreated:*"],
                                 "Filter": filt("images/", ".jpg")}],
        "QueueConfigurations": [{"QueueArn": queue, "Events": ["s3:ObjectRemoved:Delete", "s3:ObjectRestore:Completed"]}],
    })
    out = s3.get_bucket_notification_configuration(Bucket=bucket)
    t = out["TopicConfigurations"][0]
    assert t["Id"] == "images" and t["TopicArn"] == topic and t["Events"] == ["s3:ObjectCreated:*"]
    assert t["Filter"]["Key"]["FilterRules"] == [{"Name": "prefix", "Value": "images/"},
                                                 {"Name": "suffix", "Value": ".jpg"}]
    q = out["QueueConfigurations"][0]
    assert q["QueueArn"] == queue and len(q["Id"]) > 0  # AWS names unnamed configurations
    assert "LambdaFunctionConfigurations" not in out
    # an empty configuration turns notifications off
    s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration={})
    assert "TopicConfigurations" not in s3.get_bucket_notification_configuration(Bucket=bucket)


def test_lambda_destination_must_exist(s3, bucket):
    """S3 validates a function destination; no Lambda function exists to validate, so it is
    refused as AWS refuses a missing one, unless validation is skipped (then it is stored)."""
    conf = {"LambdaFunctionConfigurations": [{
        "LambdaFunctionArn": "arn:aws:lambda:us-east-1:000000000000:function:f",
        "Events": ["s3:ObjectCreated:Put"], "Filter": filt("docs/")}]}
    with pytest.raises(ClientError) as e:
        s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration=conf)
    assert err(e) == (400, "InvalidArgument")
    assert "Unable to validate the following destination configurations" in str(e.value)
    assert "LambdaFunctionConfigurations" not in s3.get_bucket_notification_configuration(Bucket=bucket)
    s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration=conf,
                                             SkipDestinationValidation=True)
    out = s3.get_bucket_notification_configuration(Bucket=bucket)
    assert out["LambdaFunctionConfigurations"][0]["Events"] == ["s3:ObjectCreated:Put"]


def test_unknown_event(s3, bucket, dests):
    with pytest.raises(ClientError) as e:
        s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration={
            "QueueConfigurations": [{"QueueArn": dests[1], "Events": ["s3:ObjectCreated:Bogus"]}]})
    assert err(e) == (400, "InvalidArgument")


@pytest.mark.parametrize("rules", [
    [{"Name": "prefix", "Value": "a/"}, {"Name": "prefix", "Value": "b/"}],
    [{"Name": "middle", "Value": "x"}],
])
def test_bad_filter_rules(s3, bucket, dests, rules):
    with pytest.raises(ClientError) as e:
        s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration={
            "QueueConfigurations": [{"QueueArn": dests[1], "Events": ["s3:ObjectCreated:*"],
                                     "Filter": {"Key": {"FilterRules": rules}}}]})
    assert err(e) == (400, "InvalidArgument")


def test_overlapping_configurations(s3, bucket, dests):
    topic, queue = dests
    # same event family, overlapping prefixes: refused
    with pytest.raises(ClientError) as e:
        s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration={
            "TopicConfigurations": [{"TopicArn": topic, "Events": ["s3:ObjectCreated:*"], "Filter": filt("logs/")}],
            "QueueConfigurations": [{"QueueArn": queue, "Events": ["s3:ObjectCreated:Put"], "Filter": filt("logs/2024/")}]})
    assert err(e) == (400, "InvalidArgument")
    assert "overlap" in e.value.response["Error"]["Message"]
    # disjoint prefixes, or different events: accepted
    s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration={
        "TopicConfigurations": [{"TopicArn": topic, "Events": ["s3:ObjectCreated:*"], "Filter": filt("logs/")}],
        "QueueConfigurations": [{"QueueArn": queue, "Events": ["s3:ObjectCreated:*"], "Filter": filt("images/")},
                                {"QueueArn": queue, "Events": ["s3:ObjectRemoved:*"], "Filter": filt("logs/")}]})
    # same prefix, different suffixes: no key matches both
    s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration={
        "QueueConfigurations": [{"QueueArn": queue, "Events": ["s3:ObjectCreated:*"], "Filter": filt("a/", ".jpg")},
                                {"QueueArn": queue, "Events": ["s3:ObjectCreated:*"], "Filter": filt("a/", ".png")}]})


def test_destinations_must_exist(s3, bucket):
    with pytest.raises(ClientError) as e:
        s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration={
            "QueueConfigurations": [{"QueueArn": "arn:aws:sqs:us-east-1:000000000000:missing",
                                     "Events": ["s3:ObjectCreated:*"]}]})
    assert err(e) == (400, "InvalidArgument")
    assert e.value.response["Error"]["Message"] == "Unable to validate the following destination configurations"
    with pytest.raises(ClientError) as e:
        s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration={
            "TopicConfigurations": [{"TopicArn": "arn:aws:sns:us-east-1:000000000000:missing",
                                     "Events": ["s3:ObjectCreated:*"]}]})
    assert err(e) == (400, "InvalidArgument")
    # SkipDestinationValidation stores it anyway
    s3.put_bucket_notification_configuration(Bucket=bucket, SkipDestinationValidation=True, NotificationConfiguration={
        "QueueConfigurations": [{"QueueArn": "arn:aws:sqs:us-east-1:000000000000:missing",
                                 "Events": ["s3:ObjectCreated:*"]}]})
