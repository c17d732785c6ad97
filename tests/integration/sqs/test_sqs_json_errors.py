"""SQS over AWS JSON 1.0 (what current SDKs send): every error carries x-amzn-query-error
"<query code>;Sender|Receiver" (the awsQueryCompatible trait: SDKs take the error code from it),
also those raised before the SQS handler runs (unknown key, bad signature, missing signature,
access denied, unknown operation, validation). And message bodies with characters outside XML's
set, NUL included, get 400 InvalidMessageContents in both protocols, while a NUL elsewhere (and
in other services) is refused instead of silently cutting the string short."""
import json
import urllib.parse

import pytest

from conftest import client
from sqsutil import json_call
import sigv4util

INVALID = ("Invalid characters found. Valid unicode characters are #x9 | #xA | #xD | #x20 to #xD7FF | "
           "#xE000 to #xFFFD | #x10000 to #x10FFFF")


def _type(body):
    return body["__type"].rsplit("#", 1)[-1]


def test_errors_before_the_handler_carry_the_query_code(nimbus):
    st, h, body = json_call(nimbus, "ListQueues", {}, access_key="AKIANOSUCHKEY0000000")
    assert st == 403 and h["x-amzn-query-error"] == "InvalidClientTokenId;Sender"
    assert _type(body) == "UnrecognizedClientException"

    st, h, body = json_call(nimbus, "ListQueues", {}, secret="not-the-secret")
    assert st == 403 and h["x-amzn-query-error"] == "SignatureDoesNotMatch;Sender"
    assert _type(body) == "InvalidSignatureException"

    st, h, body = json_call(nimbus, "NoSuchOperation", {})
    assert st == 400 and h["x-amzn-query-error"] == "InvalidAction;Sender"
    assert _type(body) == "UnknownOperationException"

    st, h, body = json_call(nimbus, "SendMessage", {"MessageBody": "no queue url"})
    assert st == 400 and h["x-amzn-query-error"].endswith(";Sender")
    assert h["x-amzn-query-error"] != ";Sender"

    # unsigned
    payload = b"{}"
    st, hdrs, data = sigv4util.request(nimbus, "POST", "/", {
        "Content-Type": "application/x-amz-json-1.0", "X-Amz-Target": "AmazonSQS.ListQueues"}, payload)
    hdrs = {k.lower(): v for k, v in hdrs.items()}
    assert st in (400, 403) and hdrs["x-amzn-query-error"] == "MissingAuthenticationToken;Sender"


def test_access_denied_carries_the_query_code(nimbus):
    iam = client(nimbus, "iam")
    iam.create_user(UserName="nobody")
    key = iam.create_access_key(UserName="nobody")["AccessKey"]
    url = client(nimbus, "sqs").create_queue(QueueName="guarded")["QueueUrl"]
    st, h, body = json_call(nimbus, "SendMessage", {"QueueUrl": url, "MessageBody": "x"},
                            access_key=key["AccessKeyId"], secret=key["SecretAccessKey"])
    assert h["x-amzn-query-error"] == "AccessDenied;Sender"
    assert _type(body) == "AccessDeniedException"
    assert "sqs:SendMessage" in body["message"]


def test_handler_errors_keep_their_modeled_query_codes(nimbus):
    url = client(nimbus, "sqs").create_queue(QueueName="codes")["QueueUrl"]
    st, h, body = json_call(nimbus, "GetQueueUrl", {"QueueName": "missing"})
    assert (st, h["x-amzn-query-error"], _type(body)) == (
        400, "AWS.SimpleQueueService.NonExistentQueue;Sender", "QueueDoesNotExist")
    st, h, body = json_call(nimbus, "DeleteMessage", {"QueueUrl": url, "ReceiptHandle": "garbage"})
    assert st == 400 and h["x-amzn-query-error"] == "ReceiptHandleIsInvalid;Sender"


@pytest.mark.parametrize("body", ["a\u0000b", "\u0000", "a\u0001", "a\ufffeb", "\uffff"])
def test_json_invalid_message_contents(nimbus, body):
    sqs = client(nimbus, "sqs")
    url = sqs.create_queue(QueueName="contents")["QueueUrl"]
    st, h, out = json_call(nimbus, "SendMessage", {"QueueUrl": url, "MessageBody": body})
    assert st == 400 and _type(out) == "InvalidMessageContents" and out["message"] == INVALID
    assert h["x-amzn-query-error"] == "InvalidMessageContents;Sender"
    # in a batch, the entry fails and the others go through
    st, h, out = json_call(nimbus, "SendMessageBatch", {"QueueUrl": url, "Entries": [
        {"Id": "bad", "MessageBody": body}, {"Id": "good", "MessageBody": "fine"}]})
    assert st == 200
    assert [e["Id"] for e in out["Successful"]] == ["good"]
    assert [(e["Id"], e["Code"], e["SenderFault"]) for e in out["Failed"]] == [("bad", "InvalidMessageContents", True)]
    got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
    assert [m["Body"] for m in got] == ["fine"]  # nothing cut short at the NUL was stored


def _query(server, params, service="sqs"):
    body = urllib.parse.urlencode(params).encode()
    host = "%s:%d" % (server.host, server.port)
    h = sigv4util.sign("POST", host, "/", [], {"Content-Type": "application/x-www-form-urlencoded"}, body,
                       service=service)
    return sigv4util.request(server, "POST", "/", h, body)


def test_query_nul_in_message_body_is_invalid_message_contents(nimbus):
    sqs = client(nimbus, "sqs")
    url = sqs.create_queue(QueueName="qnul")["QueueUrl"]
    st, _, data = _query(nimbus, {"Action": "SendMessage", "Version": "2012-11-05", "QueueUrl": url,
                                  "MessageBody": "a\u0000b"})
    assert st == 400 and b"<Code>InvalidMessageContents</Code>" in data, data
    st, _, data = _query(nimbus, {"Action": "SendMessageBatch", "Version": "2012-11-05", "QueueUrl": url,
                                  "SendMessageBatchRequestEntry.1.Id": "bad",
                                  "SendMessageBatchRequestEntry.1.MessageBody": "\u0000",
                                  "SendMessageBatchRequestEntry.2.Id": "good",
                                  "SendMessageBatchRequestEntry.2.MessageBody": "fine"})
    assert st == 200 and b"<Code>InvalidMessageContents</Code>" in data and b"<Id>good</Id>" in data
    got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
    assert [m["Body"] for m in got] == ["fine"]


def test_nul_outside_message_contents_is_refused_not_truncated(nimbus):
    sqs = client(nimbus, "sqs")
    sqs.create_queue(QueueName="named")
    # SQS: another member
    st, h, out = json_call(nimbus, "GetQueueUrl", {"QueueName": "named\u0000tail"})
    assert st == 400 and h["x-amzn-query-error"] == "InvalidParameterValue;Sender"
    st, _, data = _query(nimbus, {"Action": "CreateQueue", "Version": "2012-11-05", "QueueName": "cut\u0000short"})
    assert st == 400 and b"InvalidParameterValue" in data
    assert "QueueUrls" not in sqs.list_queues(QueueNamePrefix="cut")
    # other services: query (IAM) and JSON (CloudWatch Logs) refuse it before their handlers
    st, _, data = _query(nimbus, {"Action": "CreateUser", "Version": "2010-05-08", "UserName": "cut\u0000short"},
                         service="iam")
    assert st == 400, data
    assert [u["UserName"] for u in client(nimbus, "iam").list_users()["Users"]] == []
    body = json.dumps({"logGroupName": "cut\u0000short"}).encode()
    host = "%s:%d" % (nimbus.host, nimbus.port)
    h = sigv4util.sign("POST", host, "/", [], {"Content-Type": "application/x-amz-json-1.1",
                                               "X-Amz-Target": "Logs_20140328.CreateLogGroup"}, body, service="logs")
    st, _, data = sigv4util.request(nimbus, "POST", "/", h, body)
    assert st == 400 and json.loads(data)["__type"] == "ValidationException"
    assert client(nimbus, "logs").describe_log_groups()["logGroups"] == []
