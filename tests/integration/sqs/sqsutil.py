"""Helpers for the SQS tests: AWS's MD5OfMessageAttributes computed independently, a JSON-protocol
client (X-Amz-Target: AmazonSQS.*, as current SDKs send; Debian's boto3 only speaks query), and
the admin clock."""
import hashlib
import json
import struct
import urllib.request

import sigv4util


def md5_of_attributes(attrs):
    """AWS's documented encoding: per attribute in name order, length-prefixed name, data type,
    a transport byte (1 string, 2 binary) and the length-prefixed value."""
    h = hashlib.md5()
    for name in sorted(attrs):
        v = attrs[name]
        for part in (name.encode(), v["DataType"].encode()):
            h.update(struct.pack(">I", len(part)) + part)
        if "StringValue" in v:
            data = v["StringValue"].encode()
            h.update(b"\x01" + struct.pack(">I", len(data)) + data)
        else:
            data = v["BinaryValue"]
            h.update(b"\x02" + struct.pack(">I", len(data)) + data)
    return h.hexdigest()


def json_call(server, op, params, access_key="test", secret="test"):
    """One SQS call in the JSON protocol, signed with SigV4. Returns (status, headers, body)."""
    body = json.dumps(params).encode()
    host = "%s:%d" % (server.host, server.port)
    headers = {"Content-Type": "application/x-amz-json-1.0", "X-Amz-Target": "AmazonSQS." + op,
               "x-amzn-query-mode": "true"}
    headers = sigv4util.sign("POST", host, "/", [], headers, body, access_key=access_key, secret=secret,
                             service="sqs")
    status, hdrs, data = sigv4util.request(server, "POST", "/", headers, body)
    return status, {k.lower(): v for k, v in hdrs.items()}, json.loads(data) if data else {}


def advance(server, spec):
    req = urllib.request.Request(server.endpoint + "/_nimbus/clock", data=json.dumps({"advance": spec}).encode(),
                                 method="POST", headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as r:
        return json.loads(r.read())
