"""SQS through Debian's boto3 (query protocol), the aws CLI, and raw JSON-protocol requests (what
current SDKs send): queues and attributes, messages with AWS's MD5 digests, visibility, long
polling, FIFO order and deduplication, dead-letter queues, batches, retention on the region clock,
durability across restarts."""
import base64
import hashlib
import threading
import time

import pytest
from botocore.exceptions import ClientError

from conftest import client, run_aws
from sqsutil import advance, json_call, md5_of_attributes


@pytest.fixture
def sqs(nimbus):
    return client(nimbus, "sqs")


def code(e):
    return e.value.response["Error"]["Code"]


def test_queue_lifecycle_and_attributes(sqs, nimbus):
    url = sqs.create_queue(QueueName="orders", Attributes={"VisibilityTimeout": "45"},
                           tags={"team": "shop"})["QueueUrl"]
    assert url == "%s/000000000000/orders" % nimbus.endpoint
    # idempotent with the same attributes, refused with different ones
    assert sqs.create_queue(QueueName="orders", Attributes={"VisibilityTimeout": "45"})["QueueUrl"] == url
    with pytest.raises(ClientError) as e:
        sqs.create_queue(QueueName="orders", Attributes={"VisibilityTimeout": "46"})
    assert code(e) == "QueueAlreadyExists"
    assert sqs.get_queue_url(QueueName="orders")["QueueUrl"] == url
    a = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert a["VisibilityTimeout"] == "45"
    assert a["QueueArn"] == "arn:aws:sqs:us-east-1:000000000000:orders"
    assert a["MessageRetentionPeriod"] == "345600" and a["MaximumMessageSize"] == "1048576"  # 1 MiB since August 2025
    assert a["ApproximateNumberOfMessages"] == "0"
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"DelaySeconds": "5"})
    assert sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["DelaySeconds"])["Attributes"] == {"DelaySeconds": "5"}
    with pytest.raises(ClientError) as e:
        sqs.set_queue_attributes(QueueUrl=url, Attributes={"VisibilityTimeout": "99999"})
    assert code(e) == "InvalidAttributeValue"
    with pytest.raises(ClientError) as e:
        sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["Bogus"])
    assert code(e) == "InvalidAttributeName"
    assert sqs.list_queue_tags(QueueUrl=url)["Tags"] == {"team": "shop"}
    sqs.tag_queue(QueueUrl=url, Tags={"env": "test"})
    sqs.untag_queue(QueueUrl=url, TagKeys=["team"])
    assert sqs.list_queue_tags(QueueUrl=url)["Tags"] == {"env": "test"}
    sqs.create_queue(QueueName="orders-dlq")
    sqs.create_queue(QueueName="other")
    assert len(sqs.list_queues()["QueueUrls"]) == 3
    assert sqs.list_queues(QueueNamePrefix="orders")["QueueUrls"] == [url, url + "-dlq"]
    page = sqs.list_queues(MaxResults=2)
    assert len(page["QueueUrls"]) == 2 and "NextToken" in page
    assert len(sqs.list_queues(MaxResults=2, NextToken=page["NextToken"])["QueueUrls"]) == 1
    sqs.delete_queue(QueueUrl=url)
    with pytest.raises(ClientError) as e:
        sqs.get_queue_url(QueueName="orders")
    assert code(e) == "AWS.SimpleQueueService.NonExistentQueue"
    for bad in ["", "a" * 81, "has space", "x.fifo"]:
        with pytest.raises(ClientError) as e:
            sqs.create_queue(QueueName=bad)
        assert code(e) in ("InvalidParameterValue", "MissingParameter")


def test_send_receive_delete_with_md5s(sqs):
    url = sqs.create_queue(QueueName="m")["QueueUrl"]
    attrs = {"color": {"DataType": "String", "StringValue": "blue"},
             "size": {"DataType": "Number", "StringValue": "42"},
             "blob": {"DataType": "Binary", "BinaryValue": b"\x00\xffraw"},
             "kind": {"DataType": "String.custom", "StringValue": "x"}}
    body = "héllo wörld"
    r = sqs.send_message(QueueUrl=url, MessageBody=body, MessageAttributes=attrs,
                         MessageSystemAttributes={"AWSTraceHeader": {"DataType": "String",
                                                                     "StringValue": "Root=1-5759e988-bd862e3fe1be46a994272793"}})
    assert r["MD5OfMessageBody"] == hashlib.md5(body.encode()).hexdigest()
    assert r["MD5OfMessageAttributes"] == md5_of_attributes(attrs)
    assert r["MD5OfMessageSystemAttributes"] == md5_of_attributes(
        {"AWSTraceHeader": {"DataType": "String", "StringValue": "Root=1-5759e988-bd862e3fe1be46a994272793"}})
    m = sqs.receive_message(QueueUrl=url, MessageAttributeNames=["All"], AttributeNames=["All"])["Messages"]
    assert len(m) == 1
    m = m[0]
    assert m["Body"] == body and m["MessageId"] == r["MessageId"]
    assert m["MD5OfBody"] == r["MD5OfMessageBody"]
    assert m["MessageAttributes"] == attrs
    assert m["MD5OfMessageAttributes"] == md5_of_attributes(attrs)
    assert m["Attributes"]["ApproximateReceiveCount"] == "1"
    assert m["Attributes"]["SenderId"] == "000000000000"
    assert m["Attributes"]["AWSTraceHeader"].startswith("Root=1-")
    assert abs(int(m["Attributes"]["SentTimestamp"]) / 1000 - time.time()) < 60
    # only the attributes asked for, and their digest
    sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"], VisibilityTimeout=0)
    m2 = sqs.receive_message(QueueUrl=url, MessageAttributeNames=["color", "size"])["Messages"][0]
    assert set(m2["MessageAttributes"]) == {"color", "size"}
    assert m2["MD5OfMessageAttributes"] == md5_of_attributes({k: attrs[k] for k in ("color", "size")})
    sqs.delete_message(QueueUrl=url, ReceiptHandle=m2["ReceiptHandle"])
    assert "Messages" not in sqs.receive_message(QueueUrl=url)
    with pytest.raises(ClientError) as e:
        sqs.delete_message(QueueUrl=url, ReceiptHandle="not-a-handle")
    assert code(e) == "ReceiptHandleIsInvalid"


def test_message_validation(sqs):
    url = sqs.create_queue(QueueName="v", Attributes={"MaximumMessageSize": "1024"})["QueueUrl"]
    with pytest.raises(ClientError) as e:
        sqs.send_message(QueueUrl=url, MessageBody="x" * 1025)
    assert code(e) == "InvalidParameterValue" and "shorter than 1024" in str(e.value)
    with pytest.raises(ClientError) as e:
        sqs.send_message(QueueUrl=url, MessageBody="bad \x01 char")
    assert code(e) == "InvalidMessageContents"
    with pytest.raises(ClientError) as e:
        sqs.send_message(QueueUrl=url, MessageBody="x", MessageAttributes={"n": {"DataType": "Number", "StringValue": "abc"}})
    assert code(e) == "InvalidParameterValue"
    with pytest.raises(ClientError) as e:
        sqs.send_message(QueueUrl=url, MessageBody="x", DelaySeconds=901)
    assert code(e) == "InvalidParameterValue"
    with pytest.raises(ClientError) as e:
        sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=11)
    assert code(e) == "InvalidParameterValue"


def test_visibility_and_delay_on_the_region_clock(sqs, nimbus):
    url = sqs.create_queue(QueueName="vis", Attributes={"VisibilityTimeout": "600"})["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="a")
    m = sqs.receive_message(QueueUrl=url)["Messages"][0]
    assert "Messages" not in sqs.receive_message(QueueUrl=url)
    a = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert a["ApproximateNumberOfMessagesNotVisible"] == "1"
    advance(nimbus, "11m")
    again = sqs.receive_message(QueueUrl=url, AttributeNames=["ApproximateReceiveCount"])["Messages"][0]
    assert again["MessageId"] == m["MessageId"]
    assert again["Attributes"]["ApproximateReceiveCount"] == "2"
    # the old handle is stale for visibility changes once the message was received again
    sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=again["ReceiptHandle"], VisibilityTimeout=0)
    sqs.delete_message(QueueUrl=url, ReceiptHandle=sqs.receive_message(QueueUrl=url)["Messages"][0]["ReceiptHandle"])
    with pytest.raises(ClientError) as e:
        sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=again["ReceiptHandle"], VisibilityTimeout=10)
    assert code(e) == "AWS.SimpleQueueService.MessageNotInflight"
    sqs.send_message(QueueUrl=url, MessageBody="later", DelaySeconds=300)
    assert sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessagesDelayed"])[
        "Attributes"]["ApproximateNumberOfMessagesDelayed"] == "1"
    assert "Messages" not in sqs.receive_message(QueueUrl=url)
    advance(nimbus, "301s")
    assert sqs.receive_message(QueueUrl=url)["Messages"][0]["Body"] == "later"


def test_long_polling_returns_when_a_message_arrives(sqs):
    url = sqs.create_queue(QueueName="lp")["QueueUrl"]
    t0 = time.time()
    assert "Messages" not in sqs.receive_message(QueueUrl=url, WaitTimeSeconds=1)
    assert 0.9 <= time.time() - t0 < 3
    other = client_for(sqs)

    def later():
        time.sleep(1.0)
        other.send_message(QueueUrl=url, MessageBody="wake")

    th = threading.Thread(target=later)
    th.start()
    t0 = time.time()
    r = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=15)
    took = time.time() - t0
    th.join()
    assert r["Messages"][0]["Body"] == "wake"
    assert 0.8 < took < 4, took


def client_for(c):
    import boto3
    from botocore.config import Config
    return boto3.client("sqs", endpoint_url=c.meta.endpoint_url, region_name="us-east-1",
                        aws_access_key_id="test", aws_secret_access_key="test",
                        config=Config(retries={"max_attempts": 1}))


def test_long_polling_from_queue_attribute(sqs):
    url = sqs.create_queue(QueueName="lp2", Attributes={"ReceiveMessageWaitTimeSeconds": "2"})["QueueUrl"]
    t0 = time.time()
    sqs.receive_message(QueueUrl=url)
    assert time.time() - t0 >= 1.8


def test_fifo_order_and_deduplication(sqs):
    url = sqs.create_queue(QueueName="f.fifo", Attributes={"FifoQueue": "true"})["QueueUrl"]
    with pytest.raises(ClientError) as e:
        sqs.send_message(QueueUrl=url, MessageBody="x", MessageGroupId="g")
    assert code(e) == "InvalidParameterValue"  # no dedup id, no content-based deduplication
    with pytest.raises(ClientError) as e:
        sqs.send_message(QueueUrl=url, MessageBody="x", MessageDeduplicationId="d")
    assert code(e) == "MissingParameter"
    seqs = []
    for i in range(6):
        r = sqs.send_message(QueueUrl=url, MessageBody="m%d" % i, MessageGroupId="g%d" % (i % 2),
                             MessageDeduplicationId="d%d" % i)
        seqs.append(int(r["SequenceNumber"]))
    assert seqs == sorted(seqs)
    dup = sqs.send_message(QueueUrl=url, MessageBody="again", MessageGroupId="g0", MessageDeduplicationId="d0")
    assert int(dup["SequenceNumber"]) == seqs[0]
    got = []
    while True:
        r = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, AttributeNames=["All"])
        if "Messages" not in r:
            break
        for m in r["Messages"]:
            got.append((m["Attributes"]["MessageGroupId"], m["Body"]))
            sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
    assert [b for g, b in got if g == "g0"] == ["m0", "m2", "m4"]
    assert [b for g, b in got if g == "g1"] == ["m1", "m3", "m5"]
    assert len(got) == 6  # the duplicate was dropped


def test_fifo_group_is_locked_while_in_flight(sqs):
    url = sqs.create_queue(QueueName="lock.fifo", Attributes={"FifoQueue": "true",
                                                               "ContentBasedDeduplication": "true"})["QueueUrl"]
    for b in ["a1", "a2", "b1"]:
        sqs.send_message(QueueUrl=url, MessageBody=b, MessageGroupId=b[0])
    first = sqs.receive_message(QueueUrl=url)["Messages"][0]
    assert first["Body"] == "a1"
    second = sqs.receive_message(QueueUrl=url)["Messages"][0]
    assert second["Body"] == "b1"  # group a is locked until a1 is deleted
    assert "Messages" not in sqs.receive_message(QueueUrl=url)
    sqs.delete_message(QueueUrl=url, ReceiptHandle=first["ReceiptHandle"])
    assert sqs.receive_message(QueueUrl=url)["Messages"][0]["Body"] == "a2"


def test_dead_letter_queue_and_move_back(sqs, nimbus):
    dlq = sqs.create_queue(QueueName="dead")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    with pytest.raises(ClientError) as e:
        sqs.create_queue(QueueName="src", Attributes={"RedrivePolicy": '{"deadLetterTargetArn":"%s","maxReceiveCount":0}' % dlq_arn})
    assert code(e) in ("InvalidParameterValue", "InvalidAttributeValue")
    src = sqs.create_queue(QueueName="src", Attributes={
        "VisibilityTimeout": "1",
        "RedrivePolicy": '{"deadLetterTargetArn":"%s","maxReceiveCount":2}' % dlq_arn})["QueueUrl"]
    sqs.send_message(QueueUrl=src, MessageBody="poison")
    for _ in range(2):
        assert sqs.receive_message(QueueUrl=src)["Messages"][0]["Body"] == "poison"
        advance(nimbus, "2s")
    assert "Messages" not in sqs.receive_message(QueueUrl=src)
    m = sqs.receive_message(QueueUrl=dlq)["Messages"][0]
    assert m["Body"] == "poison"
    assert sqs.list_dead_letter_source_queues(QueueUrl=dlq)["queueUrls"] == [src]
    # StartMessageMoveTask (JSON protocol only) sends it back to the source
    advance(nimbus, "40s")
    st, _, body = json_call(nimbus, "StartMessageMoveTask", {"SourceArn": dlq_arn})
    assert st == 200 and body["TaskHandle"]
    st, _, body = json_call(nimbus, "ListMessageMoveTasks", {"SourceArn": dlq_arn})
    assert body["Results"][0]["Status"] == "COMPLETED"
    assert body["Results"][0]["ApproximateNumberOfMessagesMoved"] == 1
    assert sqs.receive_message(QueueUrl=src)["Messages"][0]["Body"] == "poison"


def test_batches(sqs):
    url = sqs.create_queue(QueueName="b")["QueueUrl"]
    r = sqs.send_message_batch(QueueUrl=url, Entries=[
        {"Id": "one", "MessageBody": "1"},
        {"Id": "two", "MessageBody": "2", "MessageAttributes": {"k": {"DataType": "String", "StringValue": "v"}}},
        {"Id": "bad", "MessageBody": "x", "DelaySeconds": 1000}])
    assert sorted(s["Id"] for s in r["Successful"]) == ["one", "two"]
    assert r["Failed"][0]["Id"] == "bad" and r["Failed"][0]["SenderFault"] is True
    two = [s for s in r["Successful"] if s["Id"] == "two"][0]
    assert two["MD5OfMessageAttributes"] == md5_of_attributes({"k": {"DataType": "String", "StringValue": "v"}})
    msgs = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
    assert sorted(m["Body"] for m in msgs) == ["1", "2"]
    r = sqs.change_message_visibility_batch(QueueUrl=url, Entries=[
        {"Id": "a", "ReceiptHandle": msgs[0]["ReceiptHandle"], "VisibilityTimeout": 100},
        {"Id": "b", "ReceiptHandle": "junk", "VisibilityTimeout": 100}])
    assert [s["Id"] for s in r["Successful"]] == ["a"] and r["Failed"][0]["Code"] == "ReceiptHandleIsInvalid"
    r = sqs.delete_message_batch(QueueUrl=url, Entries=[{"Id": "x%d" % i, "ReceiptHandle": m["ReceiptHandle"]}
                                                        for i, m in enumerate(msgs)])
    assert len(r["Successful"]) == 2
    # botocore sends an empty list as "Entries=" (the member's name, not its items'): that is
    # an empty batch, not a missing parameter
    for call, what in [(sqs.send_message_batch, "SendMessageBatchRequestEntry"),
                       (sqs.delete_message_batch, "DeleteMessageBatchRequestEntry"),
                       (sqs.change_message_visibility_batch, "ChangeMessageVisibilityBatchRequestEntry")]:
        with pytest.raises(ClientError) as e:
            call(QueueUrl=url, Entries=[])
        assert code(e) == "AWS.SimpleQueueService.EmptyBatchRequest"
        assert e.value.response["Error"]["Message"] == "There should be at least one %s in the request." % what
    for entries, err in [([{"Id": str(i), "MessageBody": "x"} for i in range(11)],
                          "AWS.SimpleQueueService.TooManyEntriesInBatchRequest"),
                         ([{"Id": "same", "MessageBody": "x"}, {"Id": "same", "MessageBody": "y"}],
                          "AWS.SimpleQueueService.BatchEntryIdsNotDistinct"),
                         ([{"Id": "bad id!", "MessageBody": "x"}], "AWS.SimpleQueueService.InvalidBatchEntryId")]:
        with pytest.raises(ClientError) as e:
            sqs.send_message_batch(QueueUrl=url, Entries=entries)
        assert code(e) == err


def test_purge_and_retention(sqs, nimbus):
    url = sqs.create_queue(QueueName="p", Attributes={"MessageRetentionPeriod": "60"})["QueueUrl"]
    for i in range(3):
        sqs.send_message(QueueUrl=url, MessageBody=str(i))
    sqs.purge_queue(QueueUrl=url)
    with pytest.raises(ClientError) as e:
        sqs.purge_queue(QueueUrl=url)
    assert code(e) == "AWS.SimpleQueueService.PurgeQueueInProgress"
    assert "Messages" not in sqs.receive_message(QueueUrl=url)
    sqs.send_message(QueueUrl=url, MessageBody="old")
    advance(nimbus, "2m")
    assert "Messages" not in sqs.receive_message(QueueUrl=url)


def test_permissions_edit_the_queue_policy(sqs):
    url = sqs.create_queue(QueueName="perm")["QueueUrl"]
    sqs.add_permission(QueueUrl=url, Label="l1", AWSAccountIds=["111122223333"], Actions=["SendMessage"])
    import json
    pol = json.loads(sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["Policy"])["Attributes"]["Policy"])
    assert pol["Statement"][0]["Sid"] == "l1"
    assert pol["Statement"][0]["Action"] == "SQS:SendMessage"  # a lone action is a string, as AWS writes it
    with pytest.raises(ClientError):
        sqs.add_permission(QueueUrl=url, Label="l1", AWSAccountIds=["111122223333"], Actions=["SendMessage"])
    sqs.remove_permission(QueueUrl=url, Label="l1")


def test_messages_survive_a_restart(nimbus_factory):
    srv = nimbus_factory()
    c = client(srv, "sqs")
    url = c.create_queue(QueueName="durable", Attributes={"VisibilityTimeout": "300"})["QueueUrl"]
    f = c.create_queue(QueueName="durable.fifo", Attributes={"FifoQueue": "true"})["QueueUrl"]
    c.send_message(QueueUrl=url, MessageBody="kept", MessageAttributes={"a": {"DataType": "String", "StringValue": "b"}})
    c.send_message(QueueUrl=url, MessageBody="in-flight")
    inflight = c.receive_message(QueueUrl=url)["Messages"][0]
    c.send_message(QueueUrl=f, MessageBody="x", MessageGroupId="g", MessageDeduplicationId="once")
    data_dir, port = srv.data_dir, srv.port
    srv.stop()
    srv2 = nimbus_factory(data_dir=data_dir, port=port)
    c = client(srv2, "sqs")
    # in-flight messages stay invisible, dedup ids stay remembered
    r = c.receive_message(QueueUrl=url, MaxNumberOfMessages=10, MessageAttributeNames=["All"])["Messages"]
    assert [m["Body"] for m in r] == ["kept" if inflight["Body"] == "in-flight" else "in-flight"]
    dup = c.send_message(QueueUrl=f, MessageBody="x", MessageGroupId="g", MessageDeduplicationId="once")
    assert c.receive_message(QueueUrl=f, MaxNumberOfMessages=10)["Messages"][0]["MessageId"] == dup["MessageId"]
    c.delete_message(QueueUrl=url, ReceiptHandle=inflight["ReceiptHandle"])  # old handles still work
    a = c.get_queue_attributes(QueueUrl=url, AttributeNames=["VisibilityTimeout"])["Attributes"]
    assert a["VisibilityTimeout"] == "300"


def test_json_protocol(nimbus):
    st, h, body = json_call(nimbus, "CreateQueue", {"QueueName": "jq", "Attributes": {"DelaySeconds": "0"}})
    assert st == 200, body
    assert h["content-type"].startswith("application/x-amz-json-1.0")
    url = body["QueueUrl"]
    attrs = {"n": {"DataType": "Number", "StringValue": "7"},
             "b": {"DataType": "Binary", "BinaryValue": base64.b64encode(b"\x01\x02").decode()}}
    st, h, body = json_call(nimbus, "SendMessage", {"QueueUrl": url, "MessageBody": "json!", "MessageAttributes": attrs})
    assert st == 200
    assert body["MD5OfMessageBody"] == hashlib.md5(b"json!").hexdigest()
    assert body["MD5OfMessageAttributes"] == md5_of_attributes(
        {"n": attrs["n"], "b": {"DataType": "Binary", "BinaryValue": b"\x01\x02"}})
    st, h, body = json_call(nimbus, "ReceiveMessage", {"QueueUrl": url, "MessageAttributeNames": ["All"],
                                                      "MessageSystemAttributeNames": ["SentTimestamp"],
                                                      "MaxNumberOfMessages": 5})
    m = body["Messages"][0]
    assert m["Body"] == "json!" and m["MessageAttributes"]["b"]["BinaryValue"] == attrs["b"]["BinaryValue"]
    assert "SentTimestamp" in m["Attributes"]
    st, h, body = json_call(nimbus, "DeleteMessage", {"QueueUrl": url, "ReceiptHandle": m["ReceiptHandle"]})
    assert st == 200
    st, h, body = json_call(nimbus, "GetQueueAttributes", {"QueueUrl": url, "AttributeNames": ["All"]})
    assert body["Attributes"]["ApproximateNumberOfMessages"] == "0"
    st, h, body = json_call(nimbus, "ListQueues", {})
    assert body["QueueUrls"] == [url]
    # errors: __type names the shape, x-amzn-query-error carries the query code
    st, h, body = json_call(nimbus, "GetQueueUrl", {"QueueName": "missing"})
    assert st == 400
    assert body["__type"] == "com.amazonaws.sqs#QueueDoesNotExist"
    assert h["x-amzn-query-error"] == "AWS.SimpleQueueService.NonExistentQueue;Sender"
    st, h, body = json_call(nimbus, "SendMessageBatch", {"QueueUrl": url, "Entries": []})
    assert st == 400 and h["x-amzn-query-error"].startswith("AWS.SimpleQueueService.EmptyBatchRequest;")
    # the query protocol still works side by side
    c = client(nimbus, "sqs")
    assert c.get_queue_url(QueueName="jq")["QueueUrl"] == url


def test_cli(nimbus):
    url = run_aws(nimbus, "sqs", "create-queue", "--queue-name", "cli")["QueueUrl"]
    run_aws(nimbus, "sqs", "send-message", "--queue-url", url, "--message-body", "from the cli")
    r = run_aws(nimbus, "sqs", "receive-message", "--queue-url", url, "--wait-time-seconds", "1")
    assert r["Messages"][0]["Body"] == "from the cli"
    run_aws(nimbus, "sqs", "delete-message", "--queue-url", url, "--receipt-handle", r["Messages"][0]["ReceiptHandle"])
    assert run_aws(nimbus, "sqs", "list-queues")["QueueUrls"] == [url]
    p = run_aws(nimbus, "sqs", "get-queue-url", "--queue-name", "nope", check=False, parse=False)
    assert p.returncode != 0 and "NonExistentQueue" in p.stderr
