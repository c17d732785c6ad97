"""SQS answers as AWS words them: the query API's missing-queue text, RedriveAllowPolicy and
high-throughput FIFO attribute validation."""
import json

import pytest

import sqsutil
from conftest import client, error_of as err


@pytest.fixture
def sqs(nimbus):
    return client(nimbus, "sqs")


def test_missing_queue_message_names_the_wsdl_in_the_query_api(sqs, nimbus):
    e = err(sqs.get_queue_url, QueueName="not-exists")
    assert e["Code"] == "AWS.SimpleQueueService.NonExistentQueue"
    if sqs.meta.service_model.protocol == "query":
        assert e["Message"] == "The specified queue does not exist for this wsdl version."
    else:  # botocore >= 1.34.90 speaks JSON to SQS
        assert e["Message"] == "The specified queue does not exist."
    # the JSON protocol (current SDKs) words it without the WSDL
    status, headers, body = sqsutil.json_call(nimbus, "GetQueueUrl", {"QueueName": "not-exists"})
    assert status == 400
    assert body["message"] == "The specified queue does not exist."


def test_redrive_allow_policy_validation(sqs):
    src = sqs.create_queue(QueueName="src")["QueueUrl"]
    dlq = sqs.create_queue(QueueName="dlq")["QueueUrl"]
    src_arn = sqs.get_queue_attributes(QueueUrl=src, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    good = json.dumps({"redrivePermission": "byQueue", "sourceQueueArns": [src_arn]})
    sqs.set_queue_attributes(QueueUrl=dlq, Attributes={"RedriveAllowPolicy": good})
    got = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["RedriveAllowPolicy"])["Attributes"]
    assert json.loads(got["RedriveAllowPolicy"]) == json.loads(good)
    sqs.set_queue_attributes(QueueUrl=dlq, Attributes={"RedriveAllowPolicy": '{"redrivePermission":"denyAll"}'})
    for bad in ({"redrivePermission": "sometimes"},
                {"redrivePermission": "byQueue"},
                {"redrivePermission": "byQueue", "sourceQueueArns": [src_arn] * 11},
                {"redrivePermission": "allowAll", "sourceQueueArns": [src_arn]}):
        e = err(sqs.set_queue_attributes, QueueUrl=dlq, Attributes={"RedriveAllowPolicy": json.dumps(bad)})
        assert e["Code"] == "InvalidParameterValue", bad
        assert "RedriveAllowPolicy" in e["Message"]


def test_high_throughput_fifo_needs_message_group_scope(sqs):
    e = err(sqs.create_queue, QueueName="ht.fifo",
            Attributes={"FifoQueue": "true", "FifoThroughputLimit": "perMessageGroupId"})
    assert e["Code"] == "InvalidAttributeValue"
    url = sqs.create_queue(QueueName="ht.fifo", Attributes={
        "FifoQueue": "true", "DeduplicationScope": "messageGroup",
        "FifoThroughputLimit": "perMessageGroupId"})["QueueUrl"]
    attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert attrs["DeduplicationScope"] == "messageGroup"
    assert attrs["FifoThroughputLimit"] == "perMessageGroupId"
    e = err(sqs.set_queue_attributes, QueueUrl=url, Attributes={"DeduplicationScope": "queue"})
    assert e["Code"] == "InvalidAttributeValue"
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"DeduplicationScope": "queue",
                                                       "FifoThroughputLimit": "perQueue"})


def test_fifo_ids_must_be_alphanumeric_or_punctuation(sqs):
    url = sqs.create_queue(QueueName="ids.fifo", Attributes={"FifoQueue": "true"})["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="m", MessageGroupId="a-b_c.d!~", MessageDeduplicationId="x:y/z")
    e = err(sqs.send_message, QueueUrl=url, MessageBody="m", MessageGroupId="g g", MessageDeduplicationId="d")
    assert e["Code"] == "InvalidParameterValue" and "MessageGroupId" in e["Message"]
    e = err(sqs.send_message, QueueUrl=url, MessageBody="m", MessageGroupId="g", MessageDeduplicationId="d\u00e9")
    assert e["Code"] == "InvalidParameterValue" and "MessageDeduplicationId" in e["Message"]
