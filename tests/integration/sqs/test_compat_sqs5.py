"""SQS against the API reference, in both wire protocols (Debian's boto3 speaks query,
sqsutil.json_call speaks JSON as current SDKs do): a deleted queue's name stays taken for 60 s of
region time (QueueDeletedRecently), message move task bounds and the messages they move."""
import json

import pytest

import sqsutil
from conftest import client, error_of as err


@pytest.fixture
def sqs(nimbus):
    return client(nimbus, "sqs")


def jcall(nimbus, op, params):
    status, headers, body = sqsutil.json_call(nimbus, op, params)
    return status, headers, body


def jerr(nimbus, op, params):
    """(status, __type, query code, message) of a JSON-protocol call that must fail."""
    status, headers, body = sqsutil.json_call(nimbus, op, params)
    assert status >= 400, body
    return status, body.get("__type"), headers["x-amzn-query-error"].split(";")[0], body.get("message")


RECENT = "You must wait 60 seconds after deleting a queue before you can create another with the same name."


def test_recreating_a_deleted_queue_within_60_seconds_is_refused_query(sqs, nimbus):
    url = sqs.create_queue(QueueName="recycled")["QueueUrl"]
    sqs.delete_queue(QueueUrl=url)
    e = err(sqs.create_queue, QueueName="recycled")
    assert (e["Code"], e["Message"]) == ("AWS.SimpleQueueService.QueueDeletedRecently", RECENT)
    # other names (and the same name in FIFO form) are free
    sqs.create_queue(QueueName="recycled-other")
    sqsutil.advance(nimbus, "59s")
    assert err(sqs.create_queue, QueueName="recycled")["Code"] == "AWS.SimpleQueueService.QueueDeletedRecently"
    sqsutil.advance(nimbus, "2s")
    url2 = sqs.create_queue(QueueName="recycled")["QueueUrl"]
    assert url2 == url
    # the new queue is empty and usable
    sqs.send_message(QueueUrl=url2, MessageBody="fresh")
    assert sqs.receive_message(QueueUrl=url2)["Messages"][0]["Body"] == "fresh"


def test_recreating_a_deleted_queue_within_60_seconds_is_refused_json(nimbus):
    status, _, body = jcall(nimbus, "CreateQueue", {"QueueName": "recycled.fifo", "Attributes": {"FifoQueue": "true"}})
    assert status == 200
    url = body["QueueUrl"]
    assert jcall(nimbus, "DeleteQueue", {"QueueUrl": url})[0] == 200
    assert jerr(nimbus, "CreateQueue", {"QueueName": "recycled.fifo", "Attributes": {"FifoQueue": "true"}}) == (
        400, "com.amazonaws.sqs#QueueDeletedRecently", "AWS.SimpleQueueService.QueueDeletedRecently", RECENT)
    # GetQueueUrl does not find it meanwhile
    assert jerr(nimbus, "GetQueueUrl", {"QueueName": "recycled.fifo"})[2] == "AWS.SimpleQueueService.NonExistentQueue"
    sqsutil.advance(nimbus, "60s")
    status, _, body = jcall(nimbus, "CreateQueue", {"QueueName": "recycled.fifo", "Attributes": {"FifoQueue": "true"}})
    assert status == 200 and body["QueueUrl"] == url


def test_reset_forgets_recently_deleted_names(sqs, nimbus):
    import urllib.request
    url = sqs.create_queue(QueueName="reset-me")["QueueUrl"]
    sqs.delete_queue(QueueUrl=url)
    req = urllib.request.Request(nimbus.endpoint + "/_nimbus/reset", data=b"", method="POST")
    with urllib.request.urlopen(req, timeout=10) as r:
        assert r.status == 200
    sqs.create_queue(QueueName="reset-me")


def _dlq_pair(sqs, name):
    dlq = sqs.create_queue(QueueName=name + "-dlq")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    src = sqs.create_queue(QueueName=name, Attributes={"RedrivePolicy": json.dumps(
        {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 1})})["QueueUrl"]
    src_arn = sqs.get_queue_attributes(QueueUrl=src, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    return src, src_arn, dlq, dlq_arn


def test_message_move_task_bounds(sqs, nimbus):
    _, _, _, dlq_arn = _dlq_pair(sqs, "bounds")
    for rate in (0, 501):
        status, typ, code, msg = jerr(nimbus, "StartMessageMoveTask",
                                      {"SourceArn": dlq_arn, "MaxNumberOfMessagesPerSecond": rate})
        assert (status, code) == (400, "InvalidParameterValue") and "MaxNumberOfMessagesPerSecond" in msg
    status, typ, code, msg = jerr(nimbus, "StartMessageMoveTask", {"SourceArn": dlq_arn, "DestinationArn": dlq_arn})
    assert (status, code) == (400, "InvalidParameterValue") and "DestinationArn" in msg
    for mx in (0, 11):
        status, typ, code, msg = jerr(nimbus, "ListMessageMoveTasks", {"SourceArn": dlq_arn, "MaxResults": mx})
        assert (status, code) == (400, "InvalidParameterValue") and "MaxResults" in msg
    # a standard dead-letter queue's messages cannot go to a FIFO queue
    fifo = sqs.create_queue(QueueName="bounds-f.fifo", Attributes={"FifoQueue": "true"})["QueueUrl"]
    fifo_arn = sqs.get_queue_attributes(QueueUrl=fifo, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    status, typ, code, msg = jerr(nimbus, "StartMessageMoveTask", {"SourceArn": dlq_arn, "DestinationArn": fifo_arn})
    assert (status, code) == (400, "InvalidParameterValue") and "must be a standard queue" in msg
    # nothing refused was recorded as a task
    status, _, body = jcall(nimbus, "ListMessageMoveTasks", {"SourceArn": dlq_arn, "MaxResults": 10})
    assert status == 200 and body["Results"] == []


def test_message_move_task_moves_dead_letters_back_to_their_source(sqs, nimbus):
    src, src_arn, dlq, dlq_arn = _dlq_pair(sqs, "mover")
    for i in range(3):
        sqs.send_message(QueueUrl=src, MessageBody="m%d" % i,
                         MessageAttributes={"k": {"DataType": "String", "StringValue": "v%d" % i}})
    got = sqs.receive_message(QueueUrl=src, MaxNumberOfMessages=10, VisibilityTimeout=0)["Messages"]
    assert len(got) == 3
    ids = sorted(m["MessageId"] for m in got)
    # past maxReceiveCount: the next receive moves them to the dead-letter queue
    assert "Messages" not in sqs.receive_message(QueueUrl=src, MaxNumberOfMessages=10)
    assert sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["ApproximateNumberOfMessages"])[
        "Attributes"]["ApproximateNumberOfMessages"] == "3"
    status, _, body = jcall(nimbus, "StartMessageMoveTask", {"SourceArn": dlq_arn, "MaxNumberOfMessagesPerSecond": 50})
    assert status == 200 and body["TaskHandle"]
    assert sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["ApproximateNumberOfMessages"])[
        "Attributes"]["ApproximateNumberOfMessages"] == "0"
    back = sqs.receive_message(QueueUrl=src, MaxNumberOfMessages=10, MessageAttributeNames=["All"])["Messages"]
    assert sorted(m["MessageId"] for m in back) == ids
    assert sorted(m["Body"] for m in back) == ["m0", "m1", "m2"]
    assert sorted(m["MessageAttributes"]["k"]["StringValue"] for m in back) == ["v0", "v1", "v2"]
    status, _, body = jcall(nimbus, "ListMessageMoveTasks", {"SourceArn": dlq_arn, "MaxResults": 10})
    assert status == 200
    [task] = body["Results"]
    assert task["Status"] == "COMPLETED" and task["SourceArn"] == dlq_arn and task["DestinationArn"] == src_arn
    assert task["ApproximateNumberOfMessagesMoved"] == 3 and task["MaxNumberOfMessagesPerSecond"] == 50


@pytest.mark.parametrize("fifo", [False, True])
def test_visibility_change_with_the_handle_of_an_earlier_receive(sqs, nimbus, fifo):
    if fifo:
        url = sqs.create_queue(QueueName="stale.fifo", Attributes={"FifoQueue": "true"})["QueueUrl"]
        sqs.send_message(QueueUrl=url, MessageBody="x", MessageGroupId="g", MessageDeduplicationId="d")
    else:
        url = sqs.create_queue(QueueName="stale")["QueueUrl"]
        sqs.send_message(QueueUrl=url, MessageBody="x")
    old = sqs.receive_message(QueueUrl=url, VisibilityTimeout=5)["Messages"][0]["ReceiptHandle"]
    sqsutil.advance(nimbus, "6s")
    # expired, not received again: not in flight
    e = err(sqs.change_message_visibility, QueueUrl=url, ReceiptHandle=old, VisibilityTimeout=30)
    assert e["Code"] == "AWS.SimpleQueueService.MessageNotInflight"
    new = sqs.receive_message(QueueUrl=url, VisibilityTimeout=30)["Messages"][0]["ReceiptHandle"]
    # received again: the old handle has expired and must not shorten the new receive
    e = err(sqs.change_message_visibility, QueueUrl=url, ReceiptHandle=old, VisibilityTimeout=0)
    assert (e["Code"], e["Message"]) == ("ReceiptHandleIsInvalid", "Value %s for parameter ReceiptHandle is invalid. "
                                         "Reason: The receipt handle has expired." % old)
    assert "Messages" not in sqs.receive_message(QueueUrl=url)
    status, _, body = jcall(nimbus, "ChangeMessageVisibilityBatch", {"QueueUrl": url, "Entries": [
        {"Id": "old", "ReceiptHandle": old, "VisibilityTimeout": 0},
        {"Id": "new", "ReceiptHandle": new, "VisibilityTimeout": 60}]})
    assert status == 200 and [s["Id"] for s in body["Successful"]] == ["new"]
    assert [(f["Id"], f["Code"], f["SenderFault"]) for f in body["Failed"]] == [("old", "ReceiptHandleIsInvalid", True)]
    assert jerr(nimbus, "ChangeMessageVisibility", {"QueueUrl": url, "ReceiptHandle": old, "VisibilityTimeout": 0})[
        1:3] == ("com.amazonaws.sqs#ReceiptHandleIsInvalid", "ReceiptHandleIsInvalid")
    # the current handle still works
    sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=new, VisibilityTimeout=0)
    assert sqs.receive_message(QueueUrl=url)["Messages"][0]["Body"] == "x"


@pytest.mark.parametrize("value, ok", [
    ("1", True), ("-1.5", True), ("+3", True), (".5", True), ("1e126", True), ("1e-128", True),
    ("1." + "1" * 37, True), ("1" + "0" * 126, True),
    ("1e127", False), ("1e-129", False), ("1." + "1" * 38, False), ("inf", False), ("NaN", False),
    (" 1", False), ("0x10", False), ("1.5e", False)])
def test_number_attributes_are_decimals_within_aws_range(sqs, nimbus, value, ok):
    url = sqs.create_queue(QueueName="numbers")["QueueUrl"]
    attrs = {"n": {"DataType": "Number", "StringValue": value}}
    if ok:
        sqs.send_message(QueueUrl=url, MessageBody="x", MessageAttributes=attrs)
        return
    e = err(sqs.send_message, QueueUrl=url, MessageBody="x", MessageAttributes=attrs)
    assert (e["Code"], e["Message"]) == ("InvalidParameterValue",
                                         "Can't cast the value of message (user) attribute 'n' to a number.")
    status, typ, code, _ = jerr(nimbus, "SendMessage", {"QueueUrl": url, "MessageBody": "x", "MessageAttributes": attrs})
    assert (status, code) == (400, "InvalidParameterValue")


def test_empty_binary_attribute_is_refused(sqs, nimbus):
    url = sqs.create_queue(QueueName="binaries")["QueueUrl"]
    msg = "The message attribute 'b' must contain non-empty message attribute value for message attribute type 'Binary'."
    e = err(sqs.send_message, QueueUrl=url, MessageBody="x", MessageAttributes={"b": {"DataType": "Binary",
                                                                                       "BinaryValue": b""}})
    assert (e["Code"], e["Message"]) == ("InvalidParameterValue", msg)
    assert jerr(nimbus, "SendMessage", {"QueueUrl": url, "MessageBody": "x", "MessageAttributes": {
        "b": {"DataType": "Binary", "BinaryValue": ""}}})[2:] == ("InvalidParameterValue", msg)
    r = sqs.send_message_batch(QueueUrl=url, Entries=[
        {"Id": "empty", "MessageBody": "x", "MessageAttributes": {"b": {"DataType": "Binary", "BinaryValue": b""}}},
        {"Id": "full", "MessageBody": "x", "MessageAttributes": {"b": {"DataType": "Binary", "BinaryValue": b"\0"}}}])
    assert [s["Id"] for s in r["Successful"]] == ["full"]
    assert [(f["Id"], f["Code"]) for f in r["Failed"]] == [("empty", "InvalidParameterValue")]


def _dead_letters(sqs, name, n):
    src, src_arn, dlq, dlq_arn = _dlq_pair(sqs, name)
    sqs.send_message_batch(QueueUrl=src, Entries=[{"Id": str(i), "MessageBody": "m%d" % i} for i in range(n)])
    while sum(len(sqs.receive_message(QueueUrl=src, MaxNumberOfMessages=10, VisibilityTimeout=0).get("Messages", []))
              for _ in range(1)):
        pass
    assert _count(sqs, dlq) == n
    return src, src_arn, dlq, dlq_arn


def _count(sqs, url):
    return int(sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])[
        "Attributes"]["ApproximateNumberOfMessages"])


def _tasks(nimbus, arn):
    status, _, body = jcall(nimbus, "ListMessageMoveTasks", {"SourceArn": arn, "MaxResults": 10})
    assert status == 200, body
    return body["Results"]


def _wait_for(pred, what):
    import time
    deadline = time.time() + 20
    while time.time() < deadline:
        v = pred()
        if v:
            return v
        time.sleep(0.05)
    raise AssertionError("timed out waiting for " + what)


def test_rate_limited_move_task_runs_on_the_region_clock(sqs, nimbus):
    src, src_arn, dlq, dlq_arn = _dead_letters(sqs, "paced", 7)
    status, _, body = jcall(nimbus, "StartMessageMoveTask", {"SourceArn": dlq_arn, "MaxNumberOfMessagesPerSecond": 2})
    assert status == 200
    handle = body["TaskHandle"]
    [task] = _tasks(nimbus, dlq_arn)
    # the first second's share moved before Start answered (later seconds may have begun since)
    assert task["ApproximateNumberOfMessagesToMove"] == 7 and task["ApproximateNumberOfMessagesMoved"] >= 2
    if task["Status"] == "RUNNING":
        assert task["TaskHandle"] == handle
    # one running task per source
    if task["Status"] == "RUNNING":
        assert jerr(nimbus, "StartMessageMoveTask", {"SourceArn": dlq_arn})[2] == "InvalidParameterValue"
    sqsutil.advance(nimbus, "10s")
    done = _wait_for(lambda: [t for t in _tasks(nimbus, dlq_arn) if t["Status"] == "COMPLETED"], "completion")
    assert done[0]["ApproximateNumberOfMessagesMoved"] == 7 and "TaskHandle" not in done[0]
    assert _count(sqs, dlq) == 0 and _count(sqs, src) == 7
    # a finished task cannot be cancelled
    assert jerr(nimbus, "CancelMessageMoveTask", {"TaskHandle": handle})[2:] == (
        "InvalidParameterValue", "Only active tasks can be cancelled.")


def test_cancelled_move_task_stops_moving(sqs, nimbus):
    src, src_arn, dlq, dlq_arn = _dead_letters(sqs, "halted", 10)
    status, _, body = jcall(nimbus, "StartMessageMoveTask", {"SourceArn": dlq_arn, "MaxNumberOfMessagesPerSecond": 1})
    assert status == 200
    status, _, cancelled = jcall(nimbus, "CancelMessageMoveTask", {"TaskHandle": body["TaskHandle"]})
    assert status == 200, cancelled
    moved = cancelled["ApproximateNumberOfMessagesMoved"]
    assert 1 <= moved < 10
    [task] = _tasks(nimbus, dlq_arn)
    assert task["Status"] == "CANCELLED" and task["ApproximateNumberOfMessagesMoved"] == moved
    sqsutil.advance(nimbus, "30s")
    # nothing moves any more; what moved is in the source, the rest still in the dead-letter queue
    assert _count(sqs, src) == moved and _count(sqs, dlq) == 10 - moved
    [task] = _tasks(nimbus, dlq_arn)
    assert task["Status"] == "CANCELLED" and task["ApproximateNumberOfMessagesMoved"] == moved
    # a new task may start now, and finishes the job
    status, _, body = jcall(nimbus, "StartMessageMoveTask", {"SourceArn": dlq_arn})
    assert status == 200
    assert _count(sqs, src) == 10 and _count(sqs, dlq) == 0
    assert [t["Status"] for t in _tasks(nimbus, dlq_arn)] == ["COMPLETED", "CANCELLED"]


def test_queue_policy_must_be_a_resource_policy(sqs, nimbus):
    url = sqs.create_queue(QueueName="policed")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    good = {"Version": "2012-10-17", "Statement": [{
        "Sid": "sns", "Effect": "Allow", "Principal": {"Service": "sns.amazonaws.com"}, "Action": "sqs:SendMessage",
        "Resource": arn, "Condition": {"ArnEquals": {"aws:SourceArn": "arn:aws:sns:us-east-1:000000000000:t"}}}]}
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": json.dumps(good)})
    for bad in [{"Version": "2012-10-17"}, {"Statement": [{"Effect": "Maybe", "Principal": "*", "Action": "sqs:*"}]},
                {"Statement": [{"Effect": "Allow", "Action": "sqs:SendMessage", "Resource": arn}]}]:
        e = err(sqs.set_queue_attributes, QueueUrl=url, Attributes={"Policy": json.dumps(bad)})
        assert (e["Code"], e["Message"]) == ("InvalidAttributeValue", "Invalid value for the parameter Policy."), bad
        assert jerr(nimbus, "CreateQueue", {"QueueName": "policed2", "Attributes": {"Policy": json.dumps(bad)}})[
            2] == "InvalidAttributeValue"
    # the refused ones left the policy alone
    assert json.loads(sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["Policy"])["Attributes"]["Policy"]) == good


def test_dead_letters_name_their_source_queue(sqs, nimbus):
    src, src_arn, dlq, dlq_arn = _dlq_pair(sqs, "origin")
    trace = "Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1"
    sqs.send_message(QueueUrl=src, MessageBody="lost", MessageSystemAttributes={
        "AWSTraceHeader": {"DataType": "String", "StringValue": trace}})
    sqs.receive_message(QueueUrl=src, VisibilityTimeout=0)
    assert "Messages" not in sqs.receive_message(QueueUrl=src)
    [m] = sqs.receive_message(QueueUrl=dlq, AttributeNames=["All"], VisibilityTimeout=0)["Messages"]
    assert m["Attributes"]["DeadLetterQueueSourceArn"] == src_arn and m["Attributes"]["AWSTraceHeader"] == trace
    status, _, body = jcall(nimbus, "ReceiveMessage", {"QueueUrl": dlq, "VisibilityTimeout": 0,
                                                       "MessageSystemAttributeNames": ["DeadLetterQueueSourceArn"]})
    assert status == 200 and body["Messages"][0]["Attributes"] == {"DeadLetterQueueSourceArn": src_arn}
    # only asked for: other names leave it out
    status, _, body = jcall(nimbus, "ReceiveMessage", {"QueueUrl": dlq, "MessageSystemAttributeNames": ["SenderId"]})
    assert "DeadLetterQueueSourceArn" not in body["Messages"][0]["Attributes"]
    # a message sent straight to a queue has none
    sqs.send_message(QueueUrl=src, MessageBody="fresh")
    [m] = sqs.receive_message(QueueUrl=src, AttributeNames=["All"])["Messages"]
    assert "DeadLetterQueueSourceArn" not in m["Attributes"]
