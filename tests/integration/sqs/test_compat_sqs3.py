"""SQS as AWS documents it, where moto's and LocalStack's suites look: FIFO receive retries with
ReceiveRequestAttemptId, AddPermission's checks and policy shape, tag validation (a refused
TagQueue changes nothing), RedrivePolicy normalised and refused with unknown keys, FIFO id
wording. Both wire protocols: Debian's boto3 speaks query, sqsutil.json_call speaks JSON."""
import json

import pytest

import sqsutil
from conftest import client, error_of as err


@pytest.fixture
def sqs(nimbus):
    return client(nimbus, "sqs")


def jerr(nimbus, op, params):
    """(query code, message) of a JSON-protocol call that must fail."""
    status, headers, body = sqsutil.json_call(nimbus, op, params)
    assert status >= 400, body
    return headers["x-amzn-query-error"].split(";")[0], body.get("message")


def test_receive_request_attempt_id_retries_get_the_same_messages(sqs, nimbus):
    url = sqs.create_queue(QueueName="attempts.fifo", Attributes={"FifoQueue": "true",
                                                                  "ContentBasedDeduplication": "true"})["QueueUrl"]
    for i in range(3):
        sqs.send_message(QueueUrl=url, MessageBody="m%d" % i, MessageGroupId="g%d" % i)
    first = sqs.receive_message(QueueUrl=url, ReceiveRequestAttemptId="try-1")["Messages"]
    again = sqs.receive_message(QueueUrl=url, ReceiveRequestAttemptId="try-1")["Messages"]
    assert [(m["MessageId"], m["ReceiptHandle"]) for m in again] == [(m["MessageId"], m["ReceiptHandle"]) for m in first]
    other = sqs.receive_message(QueueUrl=url, ReceiveRequestAttemptId="try-2")["Messages"]
    assert other[0]["MessageId"] != first[0]["MessageId"]
    # the same over JSON
    status, _, body = sqsutil.json_call(nimbus, "ReceiveMessage", {"QueueUrl": url, "ReceiveRequestAttemptId": "try-2"})
    assert status == 200 and body["Messages"][0]["ReceiptHandle"] == other[0]["ReceiptHandle"]
    # once a message of the attempt was modified, the id no longer replays it
    sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=first[0]["ReceiptHandle"], VisibilityTimeout=300)
    later = sqs.receive_message(QueueUrl=url, ReceiveRequestAttemptId="try-1")["Messages"]
    assert later[0]["MessageId"] not in (first[0]["MessageId"], other[0]["MessageId"])
    e = err(sqs.receive_message, QueueUrl=url, ReceiveRequestAttemptId="with space")
    assert e["Code"] == "InvalidParameterValue" and "ReceiveRequestAttemptId" in e["Message"]
    e = err(sqs.receive_message, QueueUrl=url, ReceiveRequestAttemptId="x" * 129)
    assert e["Code"] == "InvalidParameterValue"


def test_add_permission_checks_and_policy_shape(sqs, nimbus):
    url = sqs.create_queue(QueueName="perms")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sqs.add_permission(QueueUrl=url, Label="one", AWSAccountIds=["111111111111"], Actions=["SendMessage"])
    sqs.add_permission(QueueUrl=url, Label="two", AWSAccountIds=["111111111111", "222222222222"],
                       Actions=["SendMessage", "ReceiveMessage"])
    policy = json.loads(sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["Policy"])["Attributes"]["Policy"])
    assert policy["Id"] == arn + "/SQSDefaultPolicy"
    assert policy["Statement"] == [
        {"Sid": "one", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111111111111:root"},
         "Action": "SQS:SendMessage", "Resource": arn},
        {"Sid": "two", "Effect": "Allow",
         "Principal": {"AWS": ["arn:aws:iam::111111111111:root", "arn:aws:iam::222222222222:root"]},
         "Action": ["SQS:SendMessage", "SQS:ReceiveMessage"], "Resource": arn}]
    e = err(sqs.add_permission, QueueUrl=url, Label="three", AWSAccountIds=["111111111111"],
            Actions=["RemovePermission"])
    assert (e["Code"], e["Message"]) == ("InvalidParameterValue", "Value SQS:RemovePermission for parameter ActionName "
                                         "is invalid. Reason: Only the queue owner is allowed to invoke this action.")
    e = err(sqs.add_permission, QueueUrl=url, Label="three", AWSAccountIds=["111111111111"],
            Actions=["SendMessage", "ReceiveMessage", "DeleteMessage", "ChangeMessageVisibility",
                     "GetQueueAttributes", "GetQueueUrl", "PurgeQueue", "ListDeadLetterSourceQueues"])
    assert (e["Code"], e["Message"]) == ("OverLimit", "8 Actions were found, maximum allowed is 7.")
    assert jerr(nimbus, "AddPermission", {"QueueUrl": url, "Label": "three", "AWSAccountIds": [],
                                          "Actions": ["SendMessage"]}) == (
        "InvalidParameterValue", "Value [] for parameter PrincipalId is invalid. Reason: Unable to verify.")
    assert jerr(nimbus, "AddPermission", {"QueueUrl": url, "Label": "three", "AWSAccountIds": ["111111111111"],
                                          "Actions": []}) == (
        "MissingParameter", "The request must contain the parameter Actions.")
    # nothing refused was added
    policy = json.loads(sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["Policy"])["Attributes"]["Policy"])
    assert [s["Sid"] for s in policy["Statement"]] == ["one", "two"]


def test_tag_validation_leaves_tags_untouched(sqs, nimbus):
    url = sqs.create_queue(QueueName="tagged", tags={"keep": "me"})["QueueUrl"]
    e = err(sqs.tag_queue, QueueUrl=url, Tags={"t%d" % i: "v" for i in range(50)})
    assert (e["Code"], e["Message"]) == ("InvalidParameterValue", "Too many tags added for queue tagged.")
    assert sqs.list_queue_tags(QueueUrl=url)["Tags"] == {"keep": "me"}
    e = err(sqs.tag_queue, QueueUrl=url, Tags={"k" * 129: "v"})
    assert e["Code"] == "InvalidParameterValue"
    e = err(sqs.tag_queue, QueueUrl=url, Tags={"k": "v" * 257})
    assert e["Code"] == "InvalidParameterValue"
    assert sqs.list_queue_tags(QueueUrl=url)["Tags"] == {"keep": "me"}
    assert jerr(nimbus, "TagQueue", {"QueueUrl": url, "Tags": {}}) == (
        "MissingParameter", "The request must contain the parameter Tags.")
    assert jerr(nimbus, "UntagQueue", {"QueueUrl": url, "TagKeys": []}) == (
        "InvalidParameterValue", "Tag keys must be between 1 and 128 characters in length.")
    sqs.tag_queue(QueueUrl=url, Tags={"t%d" % i: "v" for i in range(49)})
    assert len(sqs.list_queue_tags(QueueUrl=url)["Tags"]) == 50
    e = err(sqs.create_queue, QueueName="tagged2", tags={"k" * 129: "v"})
    assert e["Code"] == "InvalidParameterValue"


def test_redrive_policy_is_normalised_and_strict(sqs):
    dlq = sqs.create_queue(QueueName="dead")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    url = sqs.create_queue(QueueName="src", Attributes={
        "RedrivePolicy": json.dumps({"maxReceiveCount": "3", "deadLetterTargetArn": dlq_arn})})["QueueUrl"]
    got = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["RedrivePolicy"])["Attributes"]["RedrivePolicy"]
    assert got == '{"deadLetterTargetArn":"%s","maxReceiveCount":3}' % dlq_arn
    # the same policy written another way is the same attribute value
    assert sqs.create_queue(QueueName="src", Attributes={
        "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 3})})["QueueUrl"] == url
    bad = json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 3, "extra": 1})
    e = err(sqs.set_queue_attributes, QueueUrl=url, Attributes={"RedrivePolicy": bad})
    assert e["Code"] == "InvalidParameterValue"
    assert e["Message"] == ("Value %s for parameter RedrivePolicy is invalid. Reason: Only following attributes are "
                            "supported: [deadLetterTargetArn, maxReceiveCount]." % bad)
    # messages still move after maxReceiveCount receives
    sqs.set_queue_attributes(QueueUrl=url, Attributes={
        "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": "1"})})
    sqs.send_message(QueueUrl=url, MessageBody="poison")
    assert sqs.receive_message(QueueUrl=url, VisibilityTimeout=0)["Messages"]
    assert "Messages" not in sqs.receive_message(QueueUrl=url)
    assert sqs.receive_message(QueueUrl=dlq)["Messages"][0]["Body"] == "poison"


def test_fifo_ids_over_128_characters(sqs):
    url = sqs.create_queue(QueueName="long.fifo", Attributes={"FifoQueue": "true"})["QueueUrl"]
    e = err(sqs.send_message, QueueUrl=url, MessageBody="m", MessageGroupId="g" * 129, MessageDeduplicationId="d")
    assert e["Message"] == ("Value %s for parameter MessageGroupId is invalid. Reason: MessageGroupId can only include "
                            "alphanumeric and punctuation characters. 1 to 128 in length." % ("g" * 129))
    e = err(sqs.send_message, QueueUrl=url, MessageBody="m", MessageGroupId="g", MessageDeduplicationId="d" * 129)
    assert "MessageDeduplicationId can only include alphanumeric and punctuation characters" in e["Message"]


def test_second_purge_names_the_queue(sqs):
    url = sqs.create_queue(QueueName="purged")["QueueUrl"]
    sqs.purge_queue(QueueUrl=url)
    e = err(sqs.purge_queue, QueueUrl=url)
    assert (e["Code"], e["Message"]) == ("AWS.SimpleQueueService.PurgeQueueInProgress",
                                         "Only one PurgeQueue operation on purged is allowed every 60 seconds.")


def test_message_move_task_handles(sqs, nimbus):
    dlq = sqs.create_queue(QueueName="movedead")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sqs.create_queue(QueueName="movesrc", Attributes={
        "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 1})})
    sqs.send_message(QueueUrl=dlq, MessageBody="back")
    status, _, body = sqsutil.json_call(nimbus, "StartMessageMoveTask", {"SourceArn": dlq_arn})
    assert status == 200
    handle = body["TaskHandle"]
    status, _, body = sqsutil.json_call(nimbus, "ListMessageMoveTasks", {"SourceArn": dlq_arn})
    task = body["Results"][0]
    # AWS gives the handle of RUNNING tasks only
    assert task["Status"] == "COMPLETED" and "TaskHandle" not in task
    assert task["ApproximateNumberOfMessagesMoved"] == 1
    assert jerr(nimbus, "CancelMessageMoveTask", {"TaskHandle": handle}) == (
        "InvalidParameterValue", "Only active tasks can be cancelled.")
    assert jerr(nimbus, "CancelMessageMoveTask", {"TaskHandle": "not-a-handle"}) == (
        "InvalidParameterValue", "Value for parameter TaskHandle is invalid.")
    status, headers, body = sqsutil.json_call(nimbus, "CancelMessageMoveTask", {
        "TaskHandle": "eyJ0YXNrSWQiOiJ4Iiwic291cmNlQXJuIjoieSJ9"})  # {"taskId":"x","sourceArn":"y"}
    assert status == 400 and headers["x-amzn-query-error"].startswith("ResourceNotFoundException")


def test_messages_up_to_one_mib(sqs):
    """AWS raised the limit from 256 KiB to 1 MiB in August 2025: the default and the ceiling of
    MaximumMessageSize, and the total of a batch."""
    url = sqs.create_queue(QueueName="big")["QueueUrl"]
    attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["MaximumMessageSize"])["Attributes"]
    assert attrs == {"MaximumMessageSize": "1048576"}
    sqs.send_message(QueueUrl=url, MessageBody="x" * 1048576)
    assert len(sqs.receive_message(QueueUrl=url)["Messages"][0]["Body"]) == 1048576
    e = err(sqs.send_message, QueueUrl=url, MessageBody="x" * 1048577)
    assert (e["Code"], e["Message"]) == ("InvalidParameterValue", "One or more parameters are invalid. Reason: "
                                         "Message must be shorter than 1048576 bytes.")
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"MaximumMessageSize": "1048576"})
    e = err(sqs.set_queue_attributes, QueueUrl=url, Attributes={"MaximumMessageSize": "1048577"})
    assert e["Code"] == "InvalidAttributeValue"
    res = sqs.send_message_batch(QueueUrl=url, Entries=[{"Id": "a", "MessageBody": "x" * 400000},
                                                        {"Id": "b", "MessageBody": "x" * 400000}])
    assert len(res["Successful"]) == 2
    e = err(sqs.send_message_batch, QueueUrl=url, Entries=[{"Id": "a", "MessageBody": "x" * 600000},
                                                           {"Id": "b", "MessageBody": "x" * 448577}])
    assert (e["Code"], e["Message"]) == ("AWS.SimpleQueueService.BatchRequestTooLong",
                                         "Batch requests cannot be longer than 1048576 bytes. You have sent 1048577 bytes.")


def test_standard_queues_take_a_message_group_id_for_fair_queueing(sqs, nimbus):
    url = sqs.create_queue(QueueName="fair")["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="tenant-a", MessageGroupId="tenant-a")
    sqs.send_message(QueueUrl=url, MessageBody="none")
    got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, AttributeNames=["All"])["Messages"]
    groups = {m["Body"]: m["Attributes"].get("MessageGroupId") for m in got}
    assert groups == {"tenant-a": "tenant-a", "none": None}
    e = err(sqs.send_message, QueueUrl=url, MessageBody="m", MessageGroupId="with space")
    assert e["Code"] == "InvalidParameterValue" and "MessageGroupId" in e["Message"]
    assert jerr(nimbus, "SendMessage", {"QueueUrl": url, "MessageBody": "m", "MessageGroupId": ""})[0] == \
        "InvalidParameterValue"
    # deduplication ids stay FIFO-only
    e = err(sqs.send_message, QueueUrl=url, MessageBody="m", MessageDeduplicationId="d")
    assert e["Code"] == "InvalidParameterValue"


def test_visibility_cannot_reach_past_12_hours_from_the_receive(sqs, nimbus):
    url = sqs.create_queue(QueueName="twelve")["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="m")
    handle = sqs.receive_message(QueueUrl=url, VisibilityTimeout=7200)["Messages"][0]["ReceiptHandle"]
    sqsutil.advance(nimbus, "3600s")
    sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=handle, VisibilityTimeout=39000)  # within 12 h
    e = err(sqs.change_message_visibility, QueueUrl=url, ReceiptHandle=handle, VisibilityTimeout=39700)
    assert (e["Code"], e["Message"]) == ("InvalidParameterValue", "Value 39700 for parameter VisibilityTimeout is "
                                         "invalid. Reason: Total VisibilityTimeout for the message is beyond the "
                                         "limit [43200 seconds]")
    res = sqs.change_message_visibility_batch(QueueUrl=url, Entries=[
        {"Id": "a", "ReceiptHandle": handle, "VisibilityTimeout": 40000}])
    assert [(f["Id"], f["Code"]) for f in res["Failed"]] == [("a", "InvalidParameterValue")]


def test_dead_letter_source_queues_page(sqs):
    dlq = sqs.create_queue(QueueName="pagedlq")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    srcs = [sqs.create_queue(QueueName="pagesrc%d" % i, Attributes={
        "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 1})})["QueueUrl"]
        for i in range(3)]
    page = sqs.list_dead_letter_source_queues(QueueUrl=dlq, MaxResults=2)
    assert page["queueUrls"] == srcs[:2] and page["NextToken"]
    rest = sqs.list_dead_letter_source_queues(QueueUrl=dlq, MaxResults=2, NextToken=page["NextToken"])
    assert rest["queueUrls"] == srcs[2:] and "NextToken" not in rest
    assert sqs.list_dead_letter_source_queues(QueueUrl=dlq)["queueUrls"] == srcs
    e = err(sqs.list_dead_letter_source_queues, QueueUrl=dlq, MaxResults=1001)
    assert e["Code"] == "InvalidParameterValue" and "MaxResults" in e["Message"]


def test_redrive_allow_policy_is_enforced_on_sources(sqs):
    dlq = sqs.create_queue(QueueName="guarded-dlq", Attributes={
        "RedriveAllowPolicy": json.dumps({"redrivePermission": "denyAll"})})["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    policy = {"RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 1})}
    e = err(sqs.create_queue, QueueName="refused-src", Attributes=policy)
    assert e["Code"] == "InvalidParameterValue" and "RedriveAllowPolicy" in e["Message"]
    src = sqs.create_queue(QueueName="allowed-src")["QueueUrl"]
    src_arn = sqs.get_queue_attributes(QueueUrl=src, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sqs.set_queue_attributes(QueueUrl=dlq, Attributes={"RedriveAllowPolicy": json.dumps(
        {"redrivePermission": "byQueue", "sourceQueueArns": [src_arn]})})
    sqs.set_queue_attributes(QueueUrl=src, Attributes=policy)
    e = err(sqs.create_queue, QueueName="refused-src", Attributes=policy)
    assert e["Code"] == "InvalidParameterValue"
    sqs.set_queue_attributes(QueueUrl=dlq, Attributes={"RedriveAllowPolicy": json.dumps(
        {"redrivePermission": "allowAll"})})
    assert sqs.create_queue(QueueName="refused-src", Attributes=policy)["QueueUrl"]


def test_fifo_receive_fills_from_further_groups(sqs):
    """AWS returns as many messages of one group as it can, then may go on to other groups
    (each in send order); groups with a message in flight stay locked."""
    url = sqs.create_queue(QueueName="groups.fifo", Attributes={"FifoQueue": "true",
                                                                "ContentBasedDeduplication": "true"})["QueueUrl"]
    for body, group in (("a1", "A"), ("b1", "B"), ("a2", "A"), ("b2", "B"), ("c1", "C")):
        sqs.send_message(QueueUrl=url, MessageBody=body, MessageGroupId=group)
    got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=0)["Messages"]
    assert [m["Body"] for m in got] == ["a1", "a2", "b1", "b2", "c1"]
    got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=3)["Messages"]
    assert [m["Body"] for m in got] == ["a1", "a2", "b1"]
    got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
    assert [m["Body"] for m in got] == ["c1"]  # A and B are locked: b2 waits behind b1
    assert "Messages" not in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)


def test_one_kind_of_server_side_encryption(sqs):
    e = err(sqs.create_queue, QueueName="sse", Attributes={"KmsMasterKeyId": "alias/aws/sqs",
                                                           "SqsManagedSseEnabled": "true"})
    assert (e["Code"], e["Message"]) == ("InvalidParameterValue", "You can use one type of server-side encryption "
                                         "(SSE) at one time. You can either enable KMS SSE or SQS SSE.")
    url = sqs.create_queue(QueueName="sse", Attributes={"KmsMasterKeyId": "alias/aws/sqs"})["QueueUrl"]
    attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert (attrs["KmsMasterKeyId"], attrs["KmsDataKeyReusePeriodSeconds"], attrs["SqsManagedSseEnabled"]) == (
        "alias/aws/sqs", "300", "false")
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"SqsManagedSseEnabled": "true"})
    attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert attrs["SqsManagedSseEnabled"] == "true" and "KmsMasterKeyId" not in attrs
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"KmsMasterKeyId": "alias/other"})
    attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert attrs["SqsManagedSseEnabled"] == "false" and attrs["KmsMasterKeyId"] == "alias/other"


def test_known_attributes_a_queue_lacks_are_left_out(sqs):
    url = sqs.create_queue(QueueName="plain")["QueueUrl"]
    got = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["FifoQueue", "ContentBasedDeduplication",
                                                                 "Policy", "VisibilityTimeout"])
    assert got["Attributes"] == {"VisibilityTimeout": "30"}
    assert "Attributes" not in sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["FifoQueue"])
    e = err(sqs.get_queue_attributes, QueueUrl=url, AttributeNames=["VisibilityTimeout", "Bogus"])
    assert (e["Code"], e["Message"]) == ("InvalidAttributeName", "Unknown Attribute Bogus.")
    # setting them is still refused on a standard queue
    e = err(sqs.set_queue_attributes, QueueUrl=url, Attributes={"ContentBasedDeduplication": "true"})
    assert e["Code"] == "InvalidAttributeName"


def test_high_throughput_attributes_need_a_fifo_queue(sqs):
    for name, value in (("DeduplicationScope", "messageGroup"), ("FifoThroughputLimit", "perMessageGroupId")):
        e = err(sqs.create_queue, QueueName="std", Attributes={name: value})
        assert (e["Code"], e["Message"]) == ("InvalidAttributeName",
                                             "You can specify the %s only when FifoQueue is set to true." % name)


def test_message_moves_start_only_from_dead_letter_queues(sqs, nimbus):
    plain = sqs.create_queue(QueueName="notadlq")["QueueUrl"]
    other = sqs.create_queue(QueueName="elsewhere")["QueueUrl"]
    arn = lambda u: sqs.get_queue_attributes(QueueUrl=u, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sqs.send_message(QueueUrl=plain, MessageBody="stay")
    assert jerr(nimbus, "StartMessageMoveTask", {"SourceArn": arn(plain), "DestinationArn": arn(other)}) == (
        "InvalidParameterValue", "Source queue must be configured as a Dead Letter Queue.")
    assert sqs.receive_message(QueueUrl=plain)["Messages"][0]["Body"] == "stay"
    sqs.create_queue(QueueName="usesit", Attributes={
        "RedrivePolicy": json.dumps({"deadLetterTargetArn": arn(plain), "maxReceiveCount": 1})})
    status, _, body = sqsutil.json_call(nimbus, "StartMessageMoveTask",
                                        {"SourceArn": arn(plain), "DestinationArn": arn(other)})
    assert status == 200 and body["TaskHandle"]
    assert sqs.receive_message(QueueUrl=other, VisibilityTimeout=0)["Messages"][0]["Body"] == "stay"
