"""SNS against the API reference: FIFO topics delivering to FIFO and standard SQS queues, SQS
subscriptions redriven to their dead-letter queue when the queue is gone, raw delivery with a
MessageBody-scope filter policy, message attribute and SMS attribute validation, platform
application credentials."""
import hashlib
import json

import pytest

from conftest import client, error_of as err
from snsutil import endpoint  # noqa: F401 (fixture)


@pytest.fixture
def sns(nimbus):
    return client(nimbus, "sns")


@pytest.fixture
def sqs(nimbus):
    return client(nimbus, "sqs")


def arn_of(sqs, url):
    return sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]


def test_fifo_topic_delivers_in_order_to_fifo_and_standard_queues(sns, sqs):
    topic = sns.create_topic(Name="orders.fifo", Attributes={"FifoTopic": "true",
                                                             "ContentBasedDeduplication": "true"})["TopicArn"]
    fq = sqs.create_queue(QueueName="orders-q.fifo", Attributes={"FifoQueue": "true"})["QueueUrl"]
    sq = sqs.create_queue(QueueName="orders-std")["QueueUrl"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn_of(sqs, fq), Attributes={"RawMessageDelivery": "true"})
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn_of(sqs, sq))
    seqs = [sns.publish(TopicArn=topic, Message="m%d" % i, MessageGroupId="g1")["SequenceNumber"] for i in range(4)]
    assert seqs == sorted(seqs, key=int) and len(set(seqs)) == 4
    # a duplicate within 5 minutes is the first message again and is not delivered twice
    again = sns.publish(TopicArn=topic, Message="m0", MessageGroupId="g1")
    assert again["SequenceNumber"] == seqs[0]
    got = []
    while True:
        r = sqs.receive_message(QueueUrl=fq, MaxNumberOfMessages=10, AttributeNames=["All"])
        if "Messages" not in r:
            break
        for m in r["Messages"]:
            got.append(m)
            sqs.delete_message(QueueUrl=fq, ReceiptHandle=m["ReceiptHandle"])
    assert [m["Body"] for m in got] == ["m0", "m1", "m2", "m3"]
    for m in got:
        assert m["Attributes"]["MessageGroupId"] == "g1"
        # content-based deduplication: the SHA-256 of the body
        assert m["Attributes"]["MessageDeduplicationId"] == hashlib.sha256(m["Body"].encode()).hexdigest()
    # the standard queue gets every message too (it has no group or deduplication of its own)
    bodies = []
    for _ in range(4):
        r = sqs.receive_message(QueueUrl=sq, MaxNumberOfMessages=10, AttributeNames=["All"])
        for m in r.get("Messages", []):
            env = json.loads(m["Body"])
            bodies.append((env["Message"], env["SequenceNumber"]))
            assert "MessageGroupId" not in m["Attributes"]
            sqs.delete_message(QueueUrl=sq, ReceiptHandle=m["ReceiptHandle"])
    assert sorted(bodies) == sorted(zip(["m0", "m1", "m2", "m3"], seqs))


def test_sqs_subscription_redrives_to_its_dead_letter_queue_when_the_queue_is_gone(sns, sqs):
    topic = sns.create_topic(Name="alerts")["TopicArn"]
    q = sqs.create_queue(QueueName="alerts-q")["QueueUrl"]
    dlq = sqs.create_queue(QueueName="alerts-dlq")["QueueUrl"]
    sub = sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn_of(sqs, q), ReturnSubscriptionArn=True,
                        Attributes={"RedrivePolicy": json.dumps({"deadLetterTargetArn": arn_of(sqs, dlq)})})[
        "SubscriptionArn"]
    sns.publish(TopicArn=topic, Message="delivered")
    assert sqs.receive_message(QueueUrl=q)["Messages"][0]["Body"].find("delivered") > 0
    sqs.delete_queue(QueueUrl=q)
    mid = sns.publish(TopicArn=topic, Message="undeliverable", Subject="s",
                      MessageAttributes={"k": {"DataType": "String", "StringValue": "v"}})["MessageId"]
    [m] = sqs.receive_message(QueueUrl=dlq, MaxNumberOfMessages=10)["Messages"]
    env = json.loads(m["Body"])
    assert (env["Type"], env["MessageId"], env["Message"], env["Subject"], env["TopicArn"]) == (
        "Notification", mid, "undeliverable", "s", topic)
    assert env["MessageAttributes"] == {"k": {"Type": "String", "Value": "v"}}
    assert env["UnsubscribeURL"].endswith(sub.replace(":", "%3A"))


def test_raw_delivery_with_a_message_body_filter(sns, sqs):
    topic = sns.create_topic(Name="shipments")["TopicArn"]
    q = sqs.create_queue(QueueName="shipments-q")["QueueUrl"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn_of(sqs, q), Attributes={
        "RawMessageDelivery": "true", "FilterPolicyScope": "MessageBody",
        "FilterPolicy": json.dumps({"status": ["shipped"], "weight": [{"numeric": [">", 10]}]})})
    sns.publish(TopicArn=topic, Message=json.dumps({"status": "shipped", "weight": 5}))
    sns.publish(TopicArn=topic, Message=json.dumps({"status": "pending", "weight": 50}))
    sns.publish(TopicArn=topic, Message="not json at all")
    match = json.dumps({"status": "shipped", "weight": 50, "id": 7})
    # attributes do not take part in a body-scope filter, and ride along as SQS attributes
    sns.publish(TopicArn=topic, Message=match, MessageAttributes={"status": {"DataType": "String",
                                                                             "StringValue": "nope"}})
    [m] = sqs.receive_message(QueueUrl=q, MaxNumberOfMessages=10, MessageAttributeNames=["All"])["Messages"]
    assert m["Body"] == match
    assert m["MessageAttributes"] == {"status": {"DataType": "String", "StringValue": "nope"}}


@pytest.mark.parametrize("value", ["1e127", "1e-129", "inf", "NaN", "0x10", "1." + "1" * 38])
def test_number_attributes_outside_aws_range_are_refused(sns, value):
    topic = sns.create_topic(Name="numbers")["TopicArn"]
    e = err(sns.publish, TopicArn=topic, Message="x", MessageAttributes={"n": {"DataType": "Number",
                                                                              "StringValue": value}})
    assert (e["Code"], e["Message"]) == ("ParameterValueInvalid", "Could not cast message attribute 'n' value to number.")
    r = sns.publish_batch(TopicArn=topic, PublishBatchRequestEntries=[
        {"Id": "bad", "Message": "x", "MessageAttributes": {"n": {"DataType": "Number", "StringValue": value}}},
        {"Id": "good", "Message": "x", "MessageAttributes": {"n": {"DataType": "Number", "StringValue": "-1.5e3"}}}])
    assert [s["Id"] for s in r["Successful"]] == ["good"]
    assert [(f["Id"], f["Code"]) for f in r["Failed"]] == [("bad", "ParameterValueInvalid")]


def test_sms_attributes_are_validated(sns):
    sns.set_sms_attributes(attributes={"DefaultSMSType": "Transactional", "MonthlySpendLimit": "5",
                                       "DefaultSenderID": "Nimbus1", "DeliveryStatusSuccessSamplingRate": "50"})
    for attrs, name in [({"DefaultSMSType": "Bogus"}, "DefaultSMSType"), ({"Unknown": "x"}, "Unknown"),
                        ({"MonthlySpendLimit": "-1"}, "MonthlySpendLimit"),
                        ({"DeliveryStatusSuccessSamplingRate": "101"}, "DeliveryStatusSuccessSamplingRate"),
                        ({"DefaultSenderID": "has space"}, "DefaultSenderID")]:
        e = err(sns.set_sms_attributes, attributes=attrs)
        assert e["Code"] == "InvalidParameter" and name in e["Message"], (attrs, e)
    # nothing refused was stored
    assert sns.get_sms_attributes()["attributes"] == {"DefaultSMSType": "Transactional", "MonthlySpendLimit": "5",
                                                      "DefaultSenderID": "Nimbus1",
                                                      "DeliveryStatusSuccessSamplingRate": "50"}
    assert sns.get_sms_attributes(attributes=["DefaultSMSType"])["attributes"] == {"DefaultSMSType": "Transactional"}


def test_platform_applications_need_credentials(sns):
    e = err(sns.create_platform_application, Name="nocred", Platform="GCM", Attributes={"PlatformPrincipal": "p"})
    assert e["Code"] == "InvalidParameter" and "PlatformCredential" in e["Message"]
    e = err(sns.create_platform_application, Name="nocert", Platform="APNS", Attributes={"PlatformCredential": "key"})
    assert e["Code"] == "InvalidParameter" and "PlatformPrincipal" in e["Message"]
    assert sns.list_platform_applications()["PlatformApplications"] == []
    arn = sns.create_platform_application(Name="ok", Platform="GCM", Attributes={"PlatformCredential": "key"})[
        "PlatformApplicationArn"]
    assert arn.endswith(":app/GCM/ok")
    # the credential is never shown back
    assert "PlatformCredential" not in sns.get_platform_application_attributes(PlatformApplicationArn=arn)["Attributes"]


DPP = {"Name": "block-ssn", "Description": "", "Version": "2021-06-01", "Statement": [
    {"Sid": "deny", "DataDirection": "Inbound", "Principal": ["*"],
     "DataIdentifier": ["arn:aws:dataprotection::aws:data-identifier/UsSocialSecurityNumber"],
     "Operation": {"Deny": {}}}]}


def test_data_protection_policies_are_stored_and_validated(sns):
    topic = sns.create_topic(Name="guarded")["TopicArn"]
    assert sns.get_data_protection_policy(ResourceArn=topic).get("DataProtectionPolicy", "") == ""
    sns.put_data_protection_policy(ResourceArn=topic, DataProtectionPolicy=json.dumps(DPP))
    assert json.loads(sns.get_data_protection_policy(ResourceArn=topic)["DataProtectionPolicy"]) == DPP
    for bad, why in [("not json", "Failed to parse JSON"), ("{}", "Name"),
                     (dict(DPP, Version="2012-10-17"), "Version"), (dict(DPP, Statement=[]), "Statement"),
                     (dict(DPP, Statement=[{"Sid": "x"}]), "DataIdentifier")]:
        text = bad if isinstance(bad, str) else json.dumps(bad)
        e = err(sns.put_data_protection_policy, ResourceArn=topic, DataProtectionPolicy=text)
        assert e["Code"] == "InvalidParameter" and why in e["Message"], (bad, e)
        e = err(sns.create_topic, Name="guarded2", DataProtectionPolicy=text)
        assert e["Code"] == "InvalidParameter", (bad, e)
    # the refused ones changed nothing
    assert json.loads(sns.get_data_protection_policy(ResourceArn=topic)["DataProtectionPolicy"]) == DPP
    t2 = sns.create_topic(Name="guarded2", DataProtectionPolicy=json.dumps(DPP))["TopicArn"]
    assert json.loads(sns.get_data_protection_policy(ResourceArn=t2)["DataProtectionPolicy"]) == DPP
    # an empty policy removes it
    sns.put_data_protection_policy(ResourceArn=topic, DataProtectionPolicy="")
    assert sns.get_data_protection_policy(ResourceArn=topic).get("DataProtectionPolicy", "") == ""
    e = err(sns.get_data_protection_policy, ResourceArn=topic + "-none")
    assert e["Code"] == "NotFound"


def test_fifo_throughput_scope(sns):
    fifo = sns.create_topic(Name="fast.fifo", Attributes={"FifoTopic": "true",
                                                          "FifoThroughputScope": "MessageGroup"})["TopicArn"]
    assert sns.get_topic_attributes(TopicArn=fifo)["Attributes"]["FifoThroughputScope"] == "MessageGroup"
    sns.set_topic_attributes(TopicArn=fifo, AttributeName="FifoThroughputScope", AttributeValue="Topic")
    assert sns.get_topic_attributes(TopicArn=fifo)["Attributes"]["FifoThroughputScope"] == "Topic"
    e = err(sns.set_topic_attributes, TopicArn=fifo, AttributeName="FifoThroughputScope", AttributeValue="Queue")
    assert e["Code"] == "InvalidParameter" and "FifoThroughputScope" in e["Message"]
    std = sns.create_topic(Name="slow")["TopicArn"]
    e = err(sns.set_topic_attributes, TopicArn=std, AttributeName="FifoThroughputScope", AttributeValue="Topic")
    assert e["Code"] == "InvalidParameter" and "FIFO" in e["Message"]
    e = err(sns.create_topic, Name="slow2", Attributes={"FifoThroughputScope": "Topic"})
    assert e["Code"] == "InvalidParameter"


def test_subscription_dead_letter_queue_matches_the_topic_type(sns, sqs):
    std = sns.create_topic(Name="dlq-std")["TopicArn"]
    fifo = sns.create_topic(Name="dlq-fifo.fifo", Attributes={"FifoTopic": "true"})["TopicArn"]
    sq = arn_of(sqs, sqs.create_queue(QueueName="dlq-std-q")["QueueUrl"])
    fq = arn_of(sqs, sqs.create_queue(QueueName="dlq-fifo-q.fifo", Attributes={"FifoQueue": "true"})["QueueUrl"])
    for topic, endpoint, dlq in [(std, sq, fq), (fifo, fq, sq)]:
        e = err(sns.subscribe, TopicArn=topic, Protocol="sqs", Endpoint=endpoint,
                Attributes={"RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq})})
        assert e["Code"] == "InvalidParameter" and "RedrivePolicy" in e["Message"], e
        sub = sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=endpoint, ReturnSubscriptionArn=True)[
            "SubscriptionArn"]
        e = err(sns.set_subscription_attributes, SubscriptionArn=sub, AttributeName="RedrivePolicy",
                AttributeValue=json.dumps({"deadLetterTargetArn": dlq}))
        assert e["Code"] == "InvalidParameter" and "RedrivePolicy" in e["Message"], e
        good = fq if topic == fifo else sq
        sns.set_subscription_attributes(SubscriptionArn=sub, AttributeName="RedrivePolicy",
                                        AttributeValue=json.dumps({"deadLetterTargetArn": good}))
        assert json.loads(sns.get_subscription_attributes(SubscriptionArn=sub)["Attributes"]["RedrivePolicy"]) == {
            "deadLetterTargetArn": good}


@pytest.mark.parametrize("policy, what", [
    ({"numRetries": 101}, "numRetries"), ({"numRetries": -1}, "numRetries"),
    ({"minDelayTarget": 0, "maxDelayTarget": 5}, "minDelayTarget"),
    ({"minDelayTarget": 30, "maxDelayTarget": 20}, "minDelayTarget"),
    ({"minDelayTarget": 1, "maxDelayTarget": 3601}, "maxDelayTarget"),
    ({"numRetries": 2, "numNoDelayRetries": 2, "numMinDelayRetries": 1}, "numRetries"),
    ({"backoffFunction": "quadratic"}, "backoffFunction"), ({"numRetries": "3"}, "numRetries")])
def test_delivery_policies_are_checked_against_aws_bounds(sns, policy, what):
    topic = sns.create_topic(Name="policed")["TopicArn"]
    sub = sns.subscribe(TopicArn=topic, Protocol="http", Endpoint="http://127.0.0.1:9/",
                        ReturnSubscriptionArn=True)["SubscriptionArn"]
    e = err(sns.set_subscription_attributes, SubscriptionArn=sub, AttributeName="DeliveryPolicy",
            AttributeValue=json.dumps({"healthyRetryPolicy": policy}))
    assert e["Code"] == "InvalidParameter" and "DeliveryPolicy" in e["Message"] and what in e["Message"], e
    e = err(sns.set_topic_attributes, TopicArn=topic, AttributeName="DeliveryPolicy",
            AttributeValue=json.dumps({"http": {"defaultHealthyRetryPolicy": policy}}))
    assert e["Code"] == "InvalidParameter" and what in e["Message"], e
    # within the bounds they are taken
    ok = {"numRetries": 5, "numNoDelayRetries": 1, "minDelayTarget": 1, "maxDelayTarget": 3600,
          "backoffFunction": "exponential"}
    sns.set_subscription_attributes(SubscriptionArn=sub, AttributeName="DeliveryPolicy",
                                    AttributeValue=json.dumps({"healthyRetryPolicy": ok}))
    sns.set_topic_attributes(TopicArn=topic, AttributeName="DeliveryPolicy",
                             AttributeValue=json.dumps({"http": {"defaultHealthyRetryPolicy": ok,
                                                                 "disableSubscriptionOverrides": False}}))
    attrs = sns.get_subscription_attributes(SubscriptionArn=sub)["Attributes"]
    assert json.loads(attrs["DeliveryPolicy"]) == {"healthyRetryPolicy": ok}


def test_sms_sandbox_numbers_are_verified_with_the_code_sent_to_them(sns, nimbus):
    from snsutil import admin_get
    phone = "+15555550123"
    sns.create_sms_sandbox_phone_number(PhoneNumber=phone)
    assert sns.list_sms_sandbox_phone_numbers()["PhoneNumbers"] == [{"PhoneNumber": phone, "Status": "Pending"}]
    sms = [m for m in admin_get(nimbus, "/_nimbus/sns/messages?protocol=sms")["messages"] if m["endpoint"] == phone]
    assert len(sms) == 1
    code = sms[0]["message"].rsplit(" ", 1)[1]
    assert len(code) == 6 and code.isdigit()
    wrong = "000000" if code != "000000" else "111111"
    e = err(sns.verify_sms_sandbox_phone_number, PhoneNumber=phone, OneTimePassword=wrong)
    assert e["Code"] == "VerificationException"
    assert sns.list_sms_sandbox_phone_numbers()["PhoneNumbers"][0]["Status"] == "Pending"
    sns.verify_sms_sandbox_phone_number(PhoneNumber=phone, OneTimePassword=code)
    assert sns.list_sms_sandbox_phone_numbers()["PhoneNumbers"] == [{"PhoneNumber": phone, "Status": "Verified"}]
    e = err(sns.verify_sms_sandbox_phone_number, PhoneNumber="+15555550199", OneTimePassword=code)
    assert e["Code"] == "ResourceNotFound"
    sns.delete_sms_sandbox_phone_number(PhoneNumber=phone)
    assert sns.list_sms_sandbox_phone_numbers()["PhoneNumbers"] == []


def test_platform_and_endpoint_attributes_are_validated(sns):
    app = sns.create_platform_application(Name="attrs", Platform="GCM", Attributes={"PlatformCredential": "k"})[
        "PlatformApplicationArn"]
    e = err(sns.set_platform_application_attributes, PlatformApplicationArn=app, Attributes={"Bogus": "1"})
    assert e["Code"] == "InvalidParameter" and "Bogus" in e["Message"]
    e = err(sns.set_platform_application_attributes, PlatformApplicationArn=app,
            Attributes={"SuccessFeedbackSampleRate": "101"})
    assert e["Code"] == "InvalidParameter" and "SuccessFeedbackSampleRate" in e["Message"]
    e = err(sns.create_platform_application, Name="attrs2", Platform="GCM",
            Attributes={"PlatformCredential": "k", "EventEndpointCreated": "not-an-arn"})
    assert e["Code"] == "InvalidParameter" and "EventEndpointCreated" in e["Message"]
    sns.set_platform_application_attributes(PlatformApplicationArn=app, Attributes={
        "SuccessFeedbackSampleRate": "50", "EventEndpointCreated": "arn:aws:sns:us-east-1:000000000000:events"})
    attrs = sns.get_platform_application_attributes(PlatformApplicationArn=app)["Attributes"]
    assert attrs["SuccessFeedbackSampleRate"] == "50" and "Bogus" not in attrs
    e = err(sns.create_platform_endpoint, PlatformApplicationArn=app, Token="")
    assert e["Code"] == "InvalidParameter" and "Token" in e["Message"]
    e = err(sns.create_platform_endpoint, PlatformApplicationArn=app, Token="t", Attributes={"Colour": "red"})
    assert e["Code"] == "InvalidParameter" and "Colour" in e["Message"]
    ep = sns.create_platform_endpoint(PlatformApplicationArn=app, Token="t")["EndpointArn"]
    for attrs, what in [({"Enabled": "maybe"}, "Enabled"), ({"Token": ""}, "Token"), ({"Colour": "red"}, "Colour")]:
        e = err(sns.set_endpoint_attributes, EndpointArn=ep, Attributes=attrs)
        assert e["Code"] == "InvalidParameter" and what in e["Message"], (attrs, e)
    assert sns.get_endpoint_attributes(EndpointArn=ep)["Attributes"] == {"Token": "t", "Enabled": "true"}


def _confirmation(ep):
    assert ep.wait(lambda: any(r["headers"].get("x-amz-sns-message-type") == "SubscriptionConfirmation"
                               for r in ep.received))
    return [r["json"] for r in ep.received if r["headers"].get("x-amz-sns-message-type") == "SubscriptionConfirmation"][-1]


def test_authenticate_on_unsubscribe(sns, endpoint):
    import urllib.error
    import urllib.request
    topic = sns.create_topic(Name="guarded-subs")["TopicArn"]
    # confirmed through the SubscribeURL: not authenticated
    ep1 = endpoint(auto_confirm=False)
    sns.subscribe(TopicArn=topic, Protocol="http", Endpoint=ep1.url)
    with urllib.request.urlopen(_confirmation(ep1)["SubscribeURL"], timeout=10) as r:
        sub1 = r.read().decode().split("<SubscriptionArn>")[1].split("</SubscriptionArn>")[0]
    assert sns.get_subscription_attributes(SubscriptionArn=sub1)["Attributes"]["ConfirmationWasAuthenticated"] == "false"
    # confirmed by a signed call that asks for authenticated unsubscribes
    ep2 = endpoint(auto_confirm=False)
    sns.subscribe(TopicArn=topic, Protocol="http", Endpoint=ep2.url)
    sub2 = sns.confirm_subscription(TopicArn=topic, Token=_confirmation(ep2)["Token"],
                                    AuthenticateOnUnsubscribe="true")["SubscriptionArn"]
    assert sns.get_subscription_attributes(SubscriptionArn=sub2)["Attributes"]["ConfirmationWasAuthenticated"] == "true"
    sns.publish(TopicArn=topic, Message="hello")
    assert ep2.wait(lambda: ep2.notifications())
    with pytest.raises(urllib.error.HTTPError) as e:
        urllib.request.urlopen(ep2.notifications()[0]["json"]["UnsubscribeURL"], timeout=10)
    assert e.value.code == 403 and b"AuthorizationError" in e.value.read()
    arns = [s["SubscriptionArn"] for s in sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]]
    assert sub2 in arns
    # the link still works for the other one; a signed Unsubscribe works for both
    assert ep1.wait(lambda: ep1.notifications())
    with urllib.request.urlopen(ep1.notifications()[0]["json"]["UnsubscribeURL"], timeout=10) as r:
        assert b"UnsubscribeResponse" in r.read()
    sns.unsubscribe(SubscriptionArn=sub2)
    assert sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"] == []
    # the links answer errors in SNS's query form: a link to a gone subscription, a bad token
    unsub = ep1.notifications()[0]["json"]["UnsubscribeURL"]
    sub_url = _confirmation(ep1)["SubscribeURL"]
    bad_token = sub_url.split("Token=")[0] + "Token=nonsense"
    for url, status, code in [(unsub, 404, "NotFound"), (bad_token, 400, "InvalidParameter")]:
        with pytest.raises(urllib.error.HTTPError) as e:
            urllib.request.urlopen(url, timeout=10)
        body = e.value.read().decode()
        assert e.value.code == status and "<Type>Sender</Type><Code>%s</Code>" % code in body, body
        assert body.startswith("<ErrorResponse") and "<RequestId>" in body


def test_archive_policy_is_for_fifo_topics_within_365_days(sns):
    fifo = sns.create_topic(Name="archived.fifo", Attributes={
        "FifoTopic": "true", "ArchivePolicy": json.dumps({"MessageRetentionPeriod": "30"})})["TopicArn"]
    assert json.loads(sns.get_topic_attributes(TopicArn=fifo)["Attributes"]["ArchivePolicy"]) == {
        "MessageRetentionPeriod": "30"}
    for bad in [{"MessageRetentionPeriod": "0"}, {"MessageRetentionPeriod": "366"}, {"MessageRetentionPeriod": "x"},
                {"Other": "1"}, "not json"]:
        text = bad if isinstance(bad, str) else json.dumps(bad)
        e = err(sns.set_topic_attributes, TopicArn=fifo, AttributeName="ArchivePolicy", AttributeValue=text)
        assert e["Code"] == "InvalidParameter" and "ArchivePolicy" in e["Message"], (bad, e)
    sns.set_topic_attributes(TopicArn=fifo, AttributeName="ArchivePolicy",
                             AttributeValue=json.dumps({"MessageRetentionPeriod": 365}))
    std = sns.create_topic(Name="unarchived")["TopicArn"]
    e = err(sns.set_topic_attributes, TopicArn=std, AttributeName="ArchivePolicy",
            AttributeValue=json.dumps({"MessageRetentionPeriod": "30"}))
    assert e["Code"] == "InvalidParameter" and "FIFO" in e["Message"]


def test_topic_policy_must_be_a_resource_policy(sns):
    topic = sns.create_topic(Name="policed-topic")["TopicArn"]
    default = sns.get_topic_attributes(TopicArn=topic)["Attributes"]["Policy"]
    sns.set_topic_attributes(TopicArn=topic, AttributeName="Policy", AttributeValue=default)
    for bad, why in [({"Version": "2012-10-17"}, "Statement"),
                     ({"Statement": [{"Effect": "Allow", "Action": "sns:Publish", "Resource": topic}]}, "Principal")]:
        e = err(sns.set_topic_attributes, TopicArn=topic, AttributeName="Policy", AttributeValue=json.dumps(bad))
        assert e["Code"] == "InvalidParameter" and e["Message"].startswith("Invalid parameter: Policy Error: ") \
            and why in e["Message"], e
    assert sns.get_topic_attributes(TopicArn=topic)["Attributes"]["Policy"] == default


def test_firehose_subscriptions_need_a_stream_and_a_role(sns, nimbus):
    from snsutil import admin_get
    topic = sns.create_topic(Name="to-firehose")["TopicArn"]
    stream = "arn:aws:firehose:us-east-1:000000000000:deliverystream/s"
    role = "arn:aws:iam::000000000000:role/sns-firehose"
    e = err(sns.subscribe, TopicArn=topic, Protocol="firehose", Endpoint=stream)
    assert e["Code"] == "InvalidParameter" and "SubscriptionRoleArn" in e["Message"]
    e = err(sns.subscribe, TopicArn=topic, Protocol="firehose", Endpoint="arn:aws:s3:::bucket",
            Attributes={"SubscriptionRoleArn": role})
    assert e["Code"] == "InvalidParameter" and "Firehose" in e["Message"]
    e = err(sns.subscribe, TopicArn=topic, Protocol="firehose", Endpoint=stream,
            Attributes={"SubscriptionRoleArn": "not-a-role"})
    assert e["Code"] == "InvalidParameter" and "SubscriptionRoleArn" in e["Message"]
    e = err(sns.subscribe, TopicArn=topic, Protocol="sqs", Endpoint="arn:aws:sqs:us-east-1:000000000000:q",
            Attributes={"SubscriptionRoleArn": role})
    assert e["Code"] == "InvalidParameter" and "SubscriptionRoleArn" in e["Message"]
    sub = sns.subscribe(TopicArn=topic, Protocol="firehose", Endpoint=stream, Attributes={"SubscriptionRoleArn": role},
                        ReturnSubscriptionArn=True)["SubscriptionArn"]
    assert sns.get_subscription_attributes(SubscriptionArn=sub)["Attributes"]["SubscriptionRoleArn"] == role
    sns.publish(TopicArn=topic, Message="to the stream")
    rec = admin_get(nimbus, "/_nimbus/sns/messages?protocol=firehose")["messages"]
    assert [(r["endpoint"], r["message"]) for r in rec] == [(stream, "to the stream")]


@pytest.mark.parametrize("value, ok", [('["a", 1, 2.5, true, false, null]', True), ("[]", True),
                                       ('[["nested"]]', False), ('[{"x": 1}]', False), ('{"x": 1}', False),
                                       ('"a"', False), ("[1,", False)])
def test_string_array_attributes_hold_flat_values(sns, sqs, value, ok):
    topic = sns.create_topic(Name="arrays")["TopicArn"]
    attrs = {"tags": {"DataType": "String.Array", "StringValue": value}}
    if ok:
        q = sqs.create_queue(QueueName="arrays-q")["QueueUrl"]
        sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn_of(sqs, q), Attributes={"RawMessageDelivery": "true"})
        sns.publish(TopicArn=topic, Message="m", MessageAttributes=attrs)
        [m] = sqs.receive_message(QueueUrl=q, MessageAttributeNames=["All"])["Messages"]
        assert m["MessageAttributes"]["tags"] == {"DataType": "String.Array", "StringValue": value}
        return
    e = err(sns.publish, TopicArn=topic, Message="m", MessageAttributes=attrs)
    assert e["Code"] == "ParameterValueInvalid" and "String.Array" in e["Message"]


def test_message_group_throughput_scope_deduplicates_per_group(sns, sqs):
    scoped = sns.create_topic(Name="per-group.fifo", Attributes={"FifoTopic": "true",
                                                                 "FifoThroughputScope": "MessageGroup"})["TopicArn"]
    q = sqs.create_queue(QueueName="per-group-q.fifo", Attributes={
        "FifoQueue": "true", "DeduplicationScope": "messageGroup", "FifoThroughputLimit": "perMessageGroupId"})[
        "QueueUrl"]
    sns.subscribe(TopicArn=scoped, Protocol="sqs", Endpoint=arn_of(sqs, q), Attributes={"RawMessageDelivery": "true"})
    a = sns.publish(TopicArn=scoped, Message="a", MessageGroupId="g1", MessageDeduplicationId="same")["MessageId"]
    b = sns.publish(TopicArn=scoped, Message="b", MessageGroupId="g2", MessageDeduplicationId="same")["MessageId"]
    again = sns.publish(TopicArn=scoped, Message="c", MessageGroupId="g1", MessageDeduplicationId="same")["MessageId"]
    assert a != b and again == a
    got = sqs.receive_message(QueueUrl=q, MaxNumberOfMessages=10)["Messages"]
    assert sorted(m["Body"] for m in got) == ["a", "b"]
    # the default scope is the whole topic
    whole = sns.create_topic(Name="whole.fifo", Attributes={"FifoTopic": "true"})["TopicArn"]
    a = sns.publish(TopicArn=whole, Message="a", MessageGroupId="g1", MessageDeduplicationId="same")["MessageId"]
    b = sns.publish(TopicArn=whole, Message="b", MessageGroupId="g2", MessageDeduplicationId="same")["MessageId"]
    assert a == b


def test_publish_batch_errors(sns):
    topic = sns.create_topic(Name="batched")["TopicArn"]
    fifo = sns.create_topic(Name="batched.fifo", Attributes={"FifoTopic": "true"})["TopicArn"]
    one = [{"Id": "a", "Message": "x"}]
    cases = [([], "EmptyBatchRequest"),
             ([{"Id": str(i), "Message": "x"} for i in range(11)], "TooManyEntriesInBatchRequest"),
             ([{"Id": "a", "Message": "x"}, {"Id": "a", "Message": "y"}], "BatchEntryIdsNotDistinct"),
             ([{"Id": "a.b", "Message": "x"}], "InvalidBatchEntryId"),
             ([{"Id": "x" * 81, "Message": "x"}], "InvalidBatchEntryId"),
             ([{"Id": "a", "Message": "x" * 200000}, {"Id": "b", "Message": "x" * 70000}], "BatchRequestTooLong")]
    for entries, code in cases:
        assert err(sns.publish_batch, TopicArn=topic, PublishBatchRequestEntries=entries)["Code"] == code, code
    assert err(sns.publish_batch, TopicArn=topic + "-none", PublishBatchRequestEntries=one)["Code"] == "NotFound"
    r = sns.publish_batch(TopicArn=topic, PublishBatchRequestEntries=[
        {"Id": "ok", "Message": "fine"}, {"Id": "empty", "Message": ""},
        {"Id": "grouped", "Message": "x", "MessageGroupId": "g"},
        {"Id": "badattr", "Message": "x", "MessageAttributes": {"n": {"DataType": "Number", "StringValue": "NaN"}}}])
    assert [s["Id"] for s in r["Successful"]] == ["ok"]
    assert {f["Id"]: (f["Code"], f["SenderFault"]) for f in r["Failed"]} == {
        "empty": ("InvalidParameter", True), "grouped": ("InvalidParameter", True),
        "badattr": ("ParameterValueInvalid", True)}
    r = sns.publish_batch(TopicArn=fifo, PublishBatchRequestEntries=[
        {"Id": "nogroup", "Message": "x", "MessageDeduplicationId": "d0"},
        {"Id": "first", "Message": "x", "MessageGroupId": "g", "MessageDeduplicationId": "d1"},
        {"Id": "dup", "Message": "y", "MessageGroupId": "g", "MessageDeduplicationId": "d1"}])
    ok = {s["Id"]: s for s in r["Successful"]}
    assert set(ok) == {"first", "dup"} and ok["first"]["MessageId"] == ok["dup"]["MessageId"]
    assert ok["first"]["SequenceNumber"] == ok["dup"]["SequenceNumber"]
    assert [(f["Id"], f["Code"]) for f in r["Failed"]] == [("nogroup", "InvalidParameter")]


def test_concurrent_fifo_publishes_reach_the_queue_in_sequence_order(sns, sqs, nimbus):
    import threading
    topic = sns.create_topic(Name="busy.fifo", Attributes={"FifoTopic": "true",
                                                           "ContentBasedDeduplication": "true"})["TopicArn"]
    q = sqs.create_queue(QueueName="busy-q.fifo", Attributes={"FifoQueue": "true"})["QueueUrl"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn_of(sqs, q), Attributes={"RawMessageDelivery": "true"})
    published = []
    lock = threading.Lock()

    def worker(k):
        c = client(nimbus, "sns")
        for i in range(20):
            body = "w%d-%d" % (k, i)
            seq = c.publish(TopicArn=topic, Message=body, MessageGroupId="one")["SequenceNumber"]
            with lock:
                published.append((int(seq), body))

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    received = []
    while True:
        r = sqs.receive_message(QueueUrl=q, MaxNumberOfMessages=10)
        if "Messages" not in r:
            break
        for m in r["Messages"]:
            received.append(m["Body"])
        sqs.delete_message_batch(QueueUrl=q, Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]}
                                                      for i, m in enumerate(r["Messages"])])
    assert received == [body for _, body in sorted(published)]


def test_replay_policy_is_not_implemented(sns, sqs, nimbus):
    from conftest import call_error
    topic = sns.create_topic(Name="replayed.fifo", Attributes={
        "FifoTopic": "true", "ArchivePolicy": json.dumps({"MessageRetentionPeriod": "7"})})["TopicArn"]
    q = arn_of(sqs, sqs.create_queue(QueueName="replayed-q.fifo", Attributes={"FifoQueue": "true"})["QueueUrl"])
    replay = json.dumps({"PointType": "Timestamp", "StartingPoint": "2026-01-01T00:00:00Z"})
    status, code, _ = call_error(sns.subscribe, TopicArn=topic, Protocol="sqs", Endpoint=q,
                                 Attributes={"ReplayPolicy": replay})
    assert (status, code) == (501, "NotImplemented")
    assert sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"] == []
    sub = sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=q, ReturnSubscriptionArn=True)["SubscriptionArn"]
    status, code, _ = call_error(sns.set_subscription_attributes, SubscriptionArn=sub, AttributeName="ReplayPolicy",
                                 AttributeValue=replay)
    assert (status, code) == (501, "NotImplemented")
    assert "ReplayPolicy" not in sns.get_subscription_attributes(SubscriptionArn=sub)["Attributes"]
