"""Helpers for the SNS tests: an HTTP endpoint in the test process that verifies every message's
signature against the certificate it downloads from SigningCertURL (as AWS's SDK message
validators do), confirms subscriptions by visiting SubscribeURL, and can fail on purpose; plus the
admin clock and mailbox."""
import base64
import json
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding

NOTIFICATION_KEYS = ["Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"]
CONFIRMATION_KEYS = ["Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type"]

_certs = {}


def string_to_sign(msg):
    keys = NOTIFICATION_KEYS if msg["Type"] == "Notification" else CONFIRMATION_KEYS
    return "".join("%s\n%s\n" % (k, msg[k]) for k in keys if k in msg)


def verify(msg):
    """True when msg's Signature verifies with the certificate at its SigningCertURL."""
    url = msg["SigningCertURL"]
    if url not in _certs:
        with urllib.request.urlopen(url, timeout=10) as r:
            _certs[url] = x509.load_pem_x509_certificate(r.read())
    h = hashes.SHA256() if msg["SignatureVersion"] == "2" else hashes.SHA1()
    try:
        _certs[url].public_key().verify(base64.b64decode(msg["Signature"]), string_to_sign(msg).encode(),
                                        padding.PKCS1v15(), h)
        return True
    except Exception:
        return False


class Endpoint:
    """POSTs land in .received (dicts with headers, body, parsed json, verified flag).
    fail_first: answer 500 to that many notifications first; always_fail: answer 500 forever."""

    def __init__(self, fail_first=0, always_fail=False, auto_confirm=True):
        self.received = []
        self.attempts = 0
        self.fail_first = fail_first
        self.always_fail = always_fail
        self.auto_confirm = auto_confirm
        self.lock = threading.Lock()
        ep = self

        class H(BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def do_POST(self):
                n = int(self.headers.get("Content-Length", 0))
                body = self.rfile.read(n).decode()
                try:
                    doc = json.loads(body)
                except ValueError:
                    doc = None
                kind = self.headers.get("x-amz-sns-message-type")
                status = 200
                with ep.lock:
                    if kind == "Notification":
                        ep.attempts += 1
                        if ep.always_fail or ep.attempts <= ep.fail_first:
                            status = 500
                    if status == 200:
                        ep.received.append({"headers": dict(self.headers), "body": body, "json": doc,
                                            "verified": bool(doc and "Signature" in doc and verify(doc))})
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()
                if status == 200 and kind == "SubscriptionConfirmation" and ep.auto_confirm:
                    threading.Thread(target=lambda: urllib.request.urlopen(doc["SubscribeURL"], timeout=10).read()).start()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.url = "http://127.0.0.1:%d/hook" % self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def notifications(self):
        with self.lock:
            return [r for r in self.received if r["headers"].get("x-amz-sns-message-type") == "Notification"]

    def wait(self, pred, timeout=10):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if pred():
                return True
            time.sleep(0.05)
        return False

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def advance(server, spec):
    req = urllib.request.Request(server.endpoint + "/_nimbus/clock", data=json.dumps({"advance": spec}).encode(),
                                 method="POST", headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as r:
        return json.loads(r.read())


def admin_get(server, path):
    with urllib.request.urlopen(server.endpoint + path, timeout=10) as r:
        return json.loads(r.read())


def mailbox(server, to=None):
    return admin_get(server, "/_nimbus/sns/mailbox" + ("?to=" + to if to else ""))["messages"]


@pytest.fixture
def endpoint():
    """make(**kw) starts an Endpoint (closed at the end of the test)."""
    eps = []

    def make(**kw):
        e = Endpoint(**kw)
        eps.append(e)
        return e

    yield make
    for e in eps:
        e.close()
