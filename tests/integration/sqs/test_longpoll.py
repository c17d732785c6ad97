"""SQS long polling holds no worker thread: waiting ReceiveMessage calls are parked and finished
later (a message arrives, the wait ends, the client hangs up, the server stops). More long polls
than the server has workers (64) must not stop S3 or SQS requests, a message sent to a waited-on
queue reaches its waiter, clients that hang up while waiting cost nothing, and a stopping server
answers its waiters with an empty receive."""
import socket
import threading
import time
import urllib.parse

from conftest import client
from sqsutil import json_call
import sigv4util

NPOLLS = 110  # well over the 64 worker threads


def _sqs(server, pool=16):
    return client(server, "sqs", config_kw={"max_pool_connections": pool, "read_timeout": 60})


def test_long_polls_do_not_starve_other_requests_and_get_their_messages(nimbus):
    sqs = _sqs(nimbus, pool=NPOLLS + 8)
    urls = [sqs.create_queue(QueueName="lp-%d" % i)["QueueUrl"] for i in range(NPOLLS)]
    other = sqs.create_queue(QueueName="other")["QueueUrl"]
    s3 = client(nimbus, "s3")
    s3.create_bucket(Bucket="lp-bucket")

    results = [None] * NPOLLS
    done = [None] * NPOLLS  # time each long poll returned

    def poll(i):
        try:
            results[i] = sqs.receive_message(QueueUrl=urls[i], WaitTimeSeconds=20)
        except Exception as e:  # noqa: BLE001 - reported by the asserts below
            results[i] = e
        done[i] = time.monotonic()

    threads = [threading.Thread(target=poll, args=(i,)) for i in range(NPOLLS)]
    for t in threads:
        t.start()
    time.sleep(2)  # let every long poll reach the server and wait

    # While they all wait, the rest of the server answers: S3 and SQS.
    s3.put_object(Bucket="lp-bucket", Key="k", Body=b"payload")
    assert s3.get_object(Bucket="lp-bucket", Key="k")["Body"].read() == b"payload"
    sqs.send_message(QueueUrl=other, MessageBody="hello")
    got = sqs.receive_message(QueueUrl=other)
    assert [m["Body"] for m in got["Messages"]] == ["hello"]
    # ... before any long poll came back (they would only at their 20 s timeout).
    assert all(d is None for d in done), "a long poll returned before the other requests were answered"

    # Each waiter gets the message sent to its queue, well before its own timeout.
    for i, u in enumerate(urls):
        sqs.send_message(QueueUrl=u, MessageBody="m%d" % i)
    for t in threads:
        t.join(30)
    for i, r in enumerate(results):
        assert not isinstance(r, Exception), r
        assert [m["Body"] for m in r.get("Messages", [])] == ["m%d" % i]


def _raw_receive(server, queue_url, wait, visibility=0):
    """A signed query-protocol long poll on a raw socket (left open: the caller hangs up)."""
    body = urllib.parse.urlencode({"Action": "ReceiveMessage", "Version": "2012-11-05", "QueueUrl": queue_url,
                                   "WaitTimeSeconds": str(wait), "VisibilityTimeout": str(visibility)}).encode()
    host = "%s:%d" % (server.host, server.port)
    h = sigv4util.sign("POST", host, "/", [], {"Content-Type": "application/x-www-form-urlencoded"}, body,
                       service="sqs")
    h["Content-Length"] = str(len(body))
    req = "POST / HTTP/1.1\r\n" + "".join("%s: %s\r\n" % kv for kv in h.items()) + "\r\n"
    s = socket.create_connection((server.host, server.port))
    s.sendall(req.encode() + body)
    return s


def test_clients_hanging_up_while_waiting_free_their_waiters(nimbus):
    sqs = _sqs(nimbus)
    url = sqs.create_queue(QueueName="hangup")["QueueUrl"]
    for round_ in range(3):
        socks = [_raw_receive(nimbus, url, 20) for _ in range(40)]
        time.sleep(0.5)
        for s in socks:
            s.close()
    time.sleep(0.5)
    # The server keeps serving, and the queue's message goes to a live receiver (the ones that
    # hung up asked for visibility 0, so even a message one of them took is visible again).
    sqs.send_message(QueueUrl=url, MessageBody="after")
    r = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=10)
    assert [m["Body"] for m in r["Messages"]] == ["after"]
    # A client that half-closes its side while waiting gets an empty answer at once.
    s = _raw_receive(nimbus, sqs.create_queue(QueueName="halfclose")["QueueUrl"], 20)
    time.sleep(0.3)
    s.shutdown(socket.SHUT_WR)
    s.settimeout(15)
    data = b""
    while True:
        chunk = s.recv(65536)
        if not chunk:
            break
        data += chunk
    s.close()
    assert data.startswith(b"HTTP/1.1 200"), data[:200]
    assert b"<ReceiveMessageResult" in data and b"<Message>" not in data


def test_json_long_poll_gets_a_message(nimbus):
    sqs = _sqs(nimbus)
    url = sqs.create_queue(QueueName="lpjson")["QueueUrl"]
    out = {}

    def poll():
        out["r"] = json_call(nimbus, "ReceiveMessage", {"QueueUrl": url, "WaitTimeSeconds": 20})

    t = threading.Thread(target=poll)
    t.start()
    time.sleep(1)
    sqs.send_message(QueueUrl=url, MessageBody="to-json")
    t.join(30)
    st, _, body = out["r"]
    assert st == 200 and [m["Body"] for m in body["Messages"]] == ["to-json"]


def test_long_poll_sees_a_message_whose_delay_ends(nimbus):
    sqs = _sqs(nimbus)
    url = sqs.create_queue(QueueName="lpdelay")["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="late", DelaySeconds=2)
    r = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=15)
    assert [m["Body"] for m in r["Messages"]] == ["late"]


def test_deleting_the_queue_ends_its_long_polls(nimbus):
    sqs = _sqs(nimbus)
    url = sqs.create_queue(QueueName="lpdel")["QueueUrl"]
    out = {}

    def poll():
        try:
            out["r"] = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=20)
        except Exception as e:  # noqa: BLE001
            out["r"] = e

    t = threading.Thread(target=poll)
    t.start()
    time.sleep(1)
    sqs.delete_queue(QueueUrl=url)
    t.join(30)
    assert out["r"].response["Error"]["Code"] == "AWS.SimpleQueueService.NonExistentQueue"


def test_stopping_server_answers_waiting_long_polls(nimbus_factory):
    server = nimbus_factory()
    sqs = _sqs(server)
    urls = [sqs.create_queue(QueueName="stop-%d" % i)["QueueUrl"] for i in range(5)]
    results = [None] * len(urls)

    def poll(i):
        try:
            results[i] = sqs.receive_message(QueueUrl=urls[i], WaitTimeSeconds=20)
        except Exception as e:  # noqa: BLE001
            results[i] = e

    threads = [threading.Thread(target=poll, args=(i,)) for i in range(len(urls))]
    for t in threads:
        t.start()
    time.sleep(1.5)
    rc = server.stop()
    for t in threads:
        t.join(30)
    assert rc in (0, -15)
    for r in results:  # an empty receive, not a dropped connection
        assert isinstance(r, dict) and "Messages" not in r, r


def _poll_in_thread(sqs, url, **kw):
    out = {}

    def poll():
        try:
            out["r"] = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=20, **kw)
        except Exception as e:  # noqa: BLE001
            out["r"] = e

    t = threading.Thread(target=poll)
    t.start()
    return t, out


def test_fifo_long_poll_gets_a_message(nimbus):
    sqs = _sqs(nimbus)
    url = sqs.create_queue(QueueName="lp.fifo", Attributes={"FifoQueue": "true"})["QueueUrl"]
    t, out = _poll_in_thread(sqs, url)
    time.sleep(1)
    sqs.send_message(QueueUrl=url, MessageBody="first", MessageGroupId="g", MessageDeduplicationId="d1")
    t.join(30)
    assert [m["Body"] for m in out["r"]["Messages"]] == ["first"]


def test_visibility_change_to_zero_wakes_a_long_poll(nimbus):
    sqs = _sqs(nimbus)
    url = sqs.create_queue(QueueName="lpvis")["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="again")
    handle = sqs.receive_message(QueueUrl=url, VisibilityTimeout=600)["Messages"][0]["ReceiptHandle"]
    t, out = _poll_in_thread(sqs, url)
    time.sleep(1)
    sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=handle, VisibilityTimeout=0)
    t.join(30)
    assert [m["Body"] for m in out["r"]["Messages"]] == ["again"]
