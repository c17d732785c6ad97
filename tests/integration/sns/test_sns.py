"""SNS through Debian's boto3 and the aws CLI: a topic fans out to SQS queues, a signature-
verifying HTTP endpoint and an email mailbox; filter policies route; HTTP retries follow the
delivery policy on the region clock and end in the dead-letter queue; FIFO topics keep order and
deduplicate; raw delivery, MessageStructure=json, SMS and platform endpoints, persistence."""
import json
import re
import time
import urllib.request

import pytest
from botocore.exceptions import ClientError

from conftest import client, run_aws
from snsutil import Endpoint, admin_get, advance, endpoint, mailbox, verify  # noqa: F401 (fixture)


@pytest.fixture
def sns(nimbus):
    return client(nimbus, "sns")


@pytest.fixture
def sqs(nimbus):
    return client(nimbus, "sqs")


def code(e):
    return e.value.response["Error"]["Code"]


def queue(sqs, name, **attrs):
    url = sqs.create_queue(QueueName=name, Attributes=attrs)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    return url, arn


def drain(sqs, url, wait=0):
    out = []
    while True:
        r = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=wait,
                                MessageAttributeNames=["All"])
        if "Messages" not in r:
            return out
        for m in r["Messages"]:
            out.append(m)
            sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
        wait = 0


def test_fanout_to_queues_http_and_email(nimbus, sns, sqs, endpoint):
    topic = sns.create_topic(Name="news", Attributes={"DisplayName": "News"})["TopicArn"]
    assert topic == "arn:aws:sns:us-east-1:000000000000:news"
    queues = [queue(sqs, "fan%d" % i) for i in range(3)]
    for _, arn in queues:
        r = sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn)
        assert r["SubscriptionArn"].startswith(topic + ":")
    ep = endpoint()
    r = sns.subscribe(TopicArn=topic, Protocol="http", Endpoint=ep.url)
    assert r["SubscriptionArn"] == "pending confirmation"
    # the endpoint gets a signed SubscriptionConfirmation and visits SubscribeURL
    assert ep.wait(lambda: ep.received)
    conf = ep.received[0]
    assert conf["json"]["Type"] == "SubscriptionConfirmation" and conf["verified"]
    assert conf["headers"]["x-amz-sns-message-type"] == "SubscriptionConfirmation"
    assert conf["headers"]["x-amz-sns-topic-arn"] == topic
    sns.subscribe(TopicArn=topic, Protocol="email", Endpoint="reader@example.com")
    # the confirmation mail is sent after Subscribe answers: wait for it
    assert ep.wait(lambda: len(mailbox(nimbus, "reader@example.com")) >= 1)
    mails = mailbox(nimbus, "reader@example.com")
    assert len(mails) == 1 and mails[0]["subject"] == "AWS Notification - Subscription Confirmation"
    link = re.search(r"(http://\S+/_nimbus/sns/confirm\S+)", mails[0]["body"]).group(1)
    with urllib.request.urlopen(link, timeout=10) as resp:
        assert b"ConfirmSubscriptionResult" in resp.read()

    def all_confirmed():
        subs = sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]
        return len(subs) == 5 and all(s["SubscriptionArn"] != "PendingConfirmation" for s in subs)
    assert ep.wait(all_confirmed)
    attrs = sns.get_topic_attributes(TopicArn=topic)["Attributes"]
    assert attrs["SubscriptionsConfirmed"] == "5" and attrs["DisplayName"] == "News"

    msg = sns.publish(TopicArn=topic, Subject="Hello", Message="fan out!",
                      MessageAttributes={"kind": {"DataType": "String", "StringValue": "greeting"}})
    for url, _ in queues:
        got = drain(sqs, url)
        assert len(got) == 1
        env = json.loads(got[0]["Body"])
        assert env["Type"] == "Notification" and env["MessageId"] == msg["MessageId"]
        assert env["TopicArn"] == topic and env["Subject"] == "Hello" and env["Message"] == "fan out!"
        assert env["MessageAttributes"] == {"kind": {"Type": "String", "Value": "greeting"}}
        assert env["SignatureVersion"] == "1" and verify(env)
        assert env["UnsubscribeURL"].startswith(nimbus.endpoint)
    assert ep.wait(lambda: ep.notifications())
    n = ep.notifications()[0]
    assert n["verified"] and n["json"]["Message"] == "fan out!"
    assert n["headers"]["x-amz-sns-message-id"] == msg["MessageId"]
    assert n["headers"]["x-amz-sns-subscription-arn"].startswith(topic + ":")
    assert n["headers"]["Content-Type"].startswith("text/plain")
    assert ep.wait(lambda: len(mailbox(nimbus, "reader@example.com")) == 2)
    mail = mailbox(nimbus, "reader@example.com")[1]
    assert mail["subject"] == "Hello" and mail["body"].startswith("fan out!")


def test_signature_version_2(nimbus, sns, endpoint):
    topic = sns.create_topic(Name="v2", Attributes={"SignatureVersion": "2"})["TopicArn"]
    ep = endpoint()
    sns.subscribe(TopicArn=topic, Protocol="http", Endpoint=ep.url)
    assert ep.wait(lambda: len(sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]) == 1 and
                   sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"][0]["SubscriptionArn"] != "PendingConfirmation")
    sns.publish(TopicArn=topic, Message="signed with sha256")
    assert ep.wait(lambda: ep.notifications())
    n = ep.notifications()[0]["json"]
    assert n["SignatureVersion"] == "2" and verify(n)
    n["Message"] = "tampered"
    assert not verify(n)


def test_filter_policies_route_messages(sns, sqs):
    topic = sns.create_topic(Name="routed")["TopicArn"]
    policies = {
        "exact": ({"color": ["red"]}, None),
        "prefix": ({"color": [{"prefix": "bl"}]}, None),
        "numeric": ({"price": [{"numeric": [">=", 10, "<", 20]}]}, None),
        "anything": ({"color": [{"anything-but": ["red", "blue"]}]}, None),
        "exists": ({"vip": [{"exists": False}]}, None),
        "ignorecase": ({"color": [{"equals-ignore-case": "GREEN"}]}, None),
        "or": ({"$or": [{"color": ["red"]}, {"price": [{"numeric": [">", 100]}]}]}, None),
        "body": ({"order": {"status": ["shipped"], "items": {"sku": [{"suffix": "-x"}]}}}, "MessageBody"),
        "array": ({"tags": ["b"]}, None),
    }
    urls = {}
    for name, (pol, scope) in policies.items():
        url, arn = queue(sqs, "f-" + name)
        attrs = {"FilterPolicy": json.dumps(pol), "RawMessageDelivery": "true"}
        if scope:
            attrs["FilterPolicyScope"] = scope
        sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn, Attributes=attrs)
        urls[name] = url

    def pub(msg, **attrs):
        ma = {}
        for k, v in attrs.items():
            if isinstance(v, list):
                ma[k] = {"DataType": "String.Array", "StringValue": json.dumps(v)}
            elif isinstance(v, (int, float)):
                ma[k] = {"DataType": "Number", "StringValue": str(v)}
            else:
                ma[k] = {"DataType": "String", "StringValue": v}
        sns.publish(TopicArn=topic, Message=msg, MessageAttributes=ma)

    pub("m1", color="red", price=15)
    pub("m2", color="blue", vip="yes")
    pub("m3", color="Green", price=150)
    pub("m4", color="black", tags=["a", "b"])
    pub(json.dumps({"order": {"status": "shipped", "items": [{"sku": "a-y"}, {"sku": "b-x"}]}}))
    pub(json.dumps({"order": {"status": "pending", "items": [{"sku": "b-x"}]}}))
    got = {name: sorted(m["Body"] for m in drain(sqs, url)) for name, url in urls.items()}
    assert got["exact"] == ["m1"]
    assert got["prefix"] == ["m2", "m4"]
    assert got["numeric"] == ["m1"]
    assert got["anything"] == ["m3", "m4"]
    assert got["exists"] == sorted(["m1", "m3", "m4"] + [b for b in got["body"]] +
                                   [json.dumps({"order": {"status": "pending", "items": [{"sku": "b-x"}]}})])
    assert got["ignorecase"] == ["m3"]
    assert got["or"] == ["m1", "m3"]
    assert len(got["body"]) == 1 and json.loads(got["body"][0])["order"]["status"] == "shipped"
    assert got["array"] == ["m4"]


@pytest.mark.parametrize("policy,message", [
    ('{"a": "x"}', 'FilterPolicy: "a" must be an object or an array'),
    ('{"a": [{"bogus": 1}]}', "Unrecognized match type bogus"),
    ('{"a": [{"exists": "yes"}]}', "exists match pattern must be either true or false."),
    ('{"a": [{"numeric": ["<", "x"]}]}', "Value of < must be numeric"),
    ('{"a": [{"numeric": [">", 5, "<", 1]}]}', "Bottom must be less than top"),
    ('{"a": [{"numeric": ["==", 5]}]}', "Unrecognized numeric range operator: =="),
    ('{"a": [{"prefix": 5}]}', "prefix match pattern must be a string"),
    ('{"a": {"b": ["c"]}}', "Filter policy scope MessageAttributes does not support nested filter policy"),
    ('{"a":[1],"b":[1],"c":[1],"d":[1],"e":[1],"f":[1]}', "Filter policy can not have more than 5 keys"),
    ('{"a": [%s], "b": [%s]}' % (",".join(str(i) for i in range(13)), ",".join(str(i) for i in range(13))),
     "Filter policy is too complex"),
    ('not json', "FilterPolicy: failed to parse JSON"),
])
def test_filter_policy_validation(sns, sqs, policy, message):
    topic = sns.create_topic(Name="strict")["TopicArn"]
    _, arn = queue(sqs, "strict")
    with pytest.raises(ClientError) as e:
        sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn, Attributes={"FilterPolicy": policy})
    assert code(e) == "InvalidParameter"
    assert message in e.value.response["Error"]["Message"]


def confirmed_http(sns, topic, ep, **attrs):
    sns.subscribe(TopicArn=topic, Protocol="http", Endpoint=ep.url, Attributes=attrs)
    assert ep.wait(lambda: all(s["SubscriptionArn"] != "PendingConfirmation"
                               for s in sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]))
    return sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"][0]["SubscriptionArn"]


def test_http_endpoint_gets_the_message_on_the_fourth_try(nimbus, sns, endpoint):
    topic = sns.create_topic(Name="flaky")["TopicArn"]
    ep = endpoint(fail_first=3)
    confirmed_http(sns, topic, ep)
    sns.publish(TopicArn=topic, Message="persist")
    assert ep.wait(lambda: ep.attempts >= 1)
    # the default policy retries 3 times, 20 s apart on the region clock
    for _ in range(20):
        if ep.notifications():
            break
        advance(nimbus, "30s")
        time.sleep(0.2)
    assert ep.attempts == 4
    n = ep.notifications()
    assert len(n) == 1 and n[0]["json"]["Message"] == "persist" and n[0]["verified"]


def test_always_failing_endpoint_redrives_to_the_dlq(nimbus, sns, sqs, endpoint):
    topic = sns.create_topic(Name="broken")["TopicArn"]
    dlq_url, dlq_arn = queue(sqs, "sns-dlq")
    ep = endpoint(always_fail=True)
    confirmed_http(sns, topic, ep, RedrivePolicy=json.dumps({"deadLetterTargetArn": dlq_arn}),
                   DeliveryPolicy=json.dumps({"healthyRetryPolicy": {"numRetries": 2, "minDelayTarget": 5,
                                                                     "maxDelayTarget": 5}}))
    msg = sns.publish(TopicArn=topic, Message="lost?")
    got = []
    for _ in range(20):
        got = drain(sqs, dlq_url)
        if got:
            break
        advance(nimbus, "1h")
        time.sleep(0.2)
    assert ep.attempts == 3
    assert len(got) == 1
    env = json.loads(got[0]["Body"])
    assert env["MessageId"] == msg["MessageId"] and env["Message"] == "lost?"


def test_fifo_topic_order_and_deduplication(sns, sqs):
    topic = sns.create_topic(Name="t.fifo", Attributes={"FifoTopic": "true"})["TopicArn"]
    url, arn = queue(sqs, "q.fifo", FifoQueue="true")
    _, std_arn = queue(sqs, "std")
    with pytest.raises(ClientError):
        sns.subscribe(TopicArn=topic, Protocol="http", Endpoint="http://127.0.0.1:9/x")
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn, Attributes={"RawMessageDelivery": "true"})
    with pytest.raises(ClientError) as e:
        sns.publish(TopicArn=topic, Message="x")
    assert "MessageGroupId" in str(e.value)
    with pytest.raises(ClientError) as e:
        sns.publish(TopicArn=topic, Message="x", MessageGroupId="g")
    assert "ContentBasedDeduplication" in str(e.value)
    seq = []
    for i in range(5):
        r = sns.publish(TopicArn=topic, Message="m%d" % i, MessageGroupId="g", MessageDeduplicationId="d%d" % i)
        seq.append(int(r["SequenceNumber"]))
    dup = sns.publish(TopicArn=topic, Message="m0 again", MessageGroupId="g", MessageDeduplicationId="d0")
    assert int(dup["SequenceNumber"]) == seq[0] and seq == sorted(seq)
    bodies = []
    while True:
        r = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)
        if "Messages" not in r:
            break
        for m in r["Messages"]:
            bodies.append(m["Body"])
            sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
    assert bodies == ["m0", "m1", "m2", "m3", "m4"]
    # a FIFO queue cannot hang off a standard topic
    std_topic = sns.create_topic(Name="plain")["TopicArn"]
    with pytest.raises(ClientError):
        sns.subscribe(TopicArn=std_topic, Protocol="sqs", Endpoint=arn)
    sns.subscribe(TopicArn=std_topic, Protocol="sqs", Endpoint=std_arn)


def test_raw_delivery_structure_and_batch(sns, sqs):
    topic = sns.create_topic(Name="raw")["TopicArn"]
    url, arn = queue(sqs, "raw")
    sub = sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn, Attributes={"RawMessageDelivery": "true"})
    a = sns.get_subscription_attributes(SubscriptionArn=sub["SubscriptionArn"])["Attributes"]
    assert a["RawMessageDelivery"] == "true" and a["Protocol"] == "sqs" and a["PendingConfirmation"] == "false"
    sns.publish(TopicArn=topic, Message="plain", MessageAttributes={"n": {"DataType": "Number", "StringValue": "3"}})
    m = drain(sqs, url)[0]
    assert m["Body"] == "plain" and m["MessageAttributes"]["n"]["StringValue"] == "3"
    sns.publish(TopicArn=topic, MessageStructure="json", Message=json.dumps({"default": "d", "sqs": "for queues"}))
    assert drain(sqs, url)[0]["Body"] == "for queues"
    with pytest.raises(ClientError) as e:
        sns.publish(TopicArn=topic, MessageStructure="json", Message=json.dumps({"sqs": "x"}))
    assert "No default entry" in str(e.value)
    r = sns.publish_batch(TopicArn=topic, PublishBatchRequestEntries=[
        {"Id": "a", "Message": "one"}, {"Id": "b", "Message": "two"}, {"Id": "c", "Message": ""}])
    assert sorted(s["Id"] for s in r["Successful"]) == ["a", "b"] and r["Failed"][0]["Id"] == "c"
    assert sorted(m["Body"] for m in drain(sqs, url)) == ["one", "two"]
    sns.set_subscription_attributes(SubscriptionArn=sub["SubscriptionArn"], AttributeName="RawMessageDelivery",
                                    AttributeValue="false")
    sns.publish(TopicArn=topic, Message="wrapped")
    assert json.loads(drain(sqs, url)[0]["Body"])["Message"] == "wrapped"
    with pytest.raises(ClientError) as e:
        sns.publish(TopicArn=topic, Message="x" * 262145)
    assert code(e) == "InvalidParameter"
    with pytest.raises(ClientError) as e:
        sns.publish(TopicArn=topic + "-nope", Message="x")
    assert code(e) == "NotFound"


def test_unsubscribe_url_and_topic_admin(nimbus, sns, sqs):
    topic = sns.create_topic(Name="admin", Tags=[{"Key": "a", "Value": "1"}])["TopicArn"]
    url, arn = queue(sqs, "adm")
    sub = sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn)["SubscriptionArn"]
    sns.publish(TopicArn=topic, Message="bye")
    env = json.loads(drain(sqs, url)[0]["Body"])
    with urllib.request.urlopen(env["UnsubscribeURL"], timeout=10) as r:
        assert b"UnsubscribeResponse" in r.read()
    assert sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"] == []
    with pytest.raises(ClientError) as e:
        sns.get_subscription_attributes(SubscriptionArn=sub)
    assert code(e) == "NotFound"
    sns.tag_resource(ResourceArn=topic, Tags=[{"Key": "b", "Value": "2"}])
    sns.untag_resource(ResourceArn=topic, TagKeys=["a"])
    assert sns.list_tags_for_resource(ResourceArn=topic)["Tags"] == [{"Key": "b", "Value": "2"}]
    sns.set_topic_attributes(TopicArn=topic, AttributeName="DisplayName", AttributeValue="Admin")
    with pytest.raises(ClientError) as e:
        sns.set_topic_attributes(TopicArn=topic, AttributeName="Bogus", AttributeValue="x")
    assert code(e) == "InvalidParameter"
    sns.add_permission(TopicArn=topic, Label="pub", AWSAccountId=["111122223333"], ActionName=["Publish"])
    pol = json.loads(sns.get_topic_attributes(TopicArn=topic)["Attributes"]["Policy"])
    assert any(s["Sid"] == "pub" for s in pol["Statement"])
    sns.remove_permission(TopicArn=topic, Label="pub")
    assert [t["TopicArn"] for t in sns.list_topics()["Topics"]] == [topic]
    sns.delete_topic(TopicArn=topic)
    assert sns.list_topics()["Topics"] == []
    for bad in ["has space", "x" * 257]:
        with pytest.raises(ClientError) as e:
            sns.create_topic(Name=bad)
        assert code(e) == "InvalidParameter"


def test_sms_and_platform_endpoints_are_recorded(nimbus, sns):
    sns.publish(PhoneNumber="+15555550100", Message="your code is 1234")
    sns.set_sms_attributes(attributes={"DefaultSMSType": "Transactional"})
    assert sns.get_sms_attributes()["attributes"]["DefaultSMSType"] == "Transactional"
    req = urllib.request.Request(nimbus.endpoint + "/_nimbus/sns/opt-out?phone=%2B15555550199", method="POST")
    urllib.request.urlopen(req, timeout=10).read()
    assert sns.check_if_phone_number_is_opted_out(phoneNumber="+15555550199")["isOptedOut"] is True
    assert sns.list_phone_numbers_opted_out()["phoneNumbers"] == ["+15555550199"]
    sns.publish(PhoneNumber="+15555550199", Message="not delivered")
    sns.opt_in_phone_number(phoneNumber="+15555550199")
    sms = admin_get(nimbus, "/_nimbus/sns/messages?protocol=sms")["messages"]
    assert [(m["endpoint"], m["message"]) for m in sms] == [("+15555550100", "your code is 1234")]
    app = sns.create_platform_application(Name="app", Platform="GCM",
                                          Attributes={"PlatformCredential": "secret"})["PlatformApplicationArn"]
    assert "PlatformCredential" not in sns.get_platform_application_attributes(PlatformApplicationArn=app)["Attributes"]
    ep = sns.create_platform_endpoint(PlatformApplicationArn=app, Token="device-1")["EndpointArn"]
    assert sns.create_platform_endpoint(PlatformApplicationArn=app, Token="device-1")["EndpointArn"] == ep
    sns.publish(TargetArn=ep, Message="push!")
    pushes = admin_get(nimbus, "/_nimbus/sns/messages?protocol=application")["messages"]
    assert pushes[0]["endpoint"] == ep and pushes[0]["message"] == "push!"
    sns.set_endpoint_attributes(EndpointArn=ep, Attributes={"Enabled": "false"})
    with pytest.raises(ClientError) as e:
        sns.publish(TargetArn=ep, Message="x")
    assert code(e) == "EndpointDisabled"
    assert len(sns.list_endpoints_by_platform_application(PlatformApplicationArn=app)["Endpoints"]) == 1
    topic = sns.create_topic(Name="fn")["TopicArn"]
    sns.subscribe(TopicArn=topic, Protocol="lambda", Endpoint="arn:aws:lambda:us-east-1:000000000000:function:f")
    sns.publish(TopicArn=topic, Message="to lambda")
    rec = admin_get(nimbus, "/_nimbus/sns/messages?protocol=lambda")["messages"]
    assert rec[0]["message"] == "to lambda"


def test_cli_and_persistence(nimbus_factory):
    srv = nimbus_factory()
    topic = run_aws(srv, "sns", "create-topic", "--name", "cli-topic")["TopicArn"]
    q = run_aws(srv, "sqs", "create-queue", "--queue-name", "cli-q")["QueueUrl"]
    qarn = run_aws(srv, "sqs", "get-queue-attributes", "--queue-url", q, "--attribute-names", "QueueArn")["Attributes"]["QueueArn"]
    run_aws(srv, "sns", "subscribe", "--topic-arn", topic, "--protocol", "sqs", "--notification-endpoint", qarn,
            "--attributes", '{"FilterPolicy": "{\\"k\\": [\\"v\\"]}"}')
    data_dir, port = srv.data_dir, srv.port
    srv.stop()
    srv2 = nimbus_factory(data_dir=data_dir, port=port)
    subs = run_aws(srv2, "sns", "list-subscriptions")["Subscriptions"]
    assert len(subs) == 1 and subs[0]["Endpoint"] == qarn
    run_aws(srv2, "sns", "publish", "--topic-arn", topic, "--message", "filtered out")
    run_aws(srv2, "sns", "publish", "--topic-arn", topic, "--message", "kept",
            "--message-attributes", '{"k": {"DataType": "String", "StringValue": "v"}}')
    r = run_aws(srv2, "sqs", "receive-message", "--queue-url", q, "--max-number-of-messages", "10")
    assert [json.loads(m["Body"])["Message"] for m in r["Messages"]] == ["kept"]
