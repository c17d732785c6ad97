"""A small independent SigV4 signer for tests that need requests no SDK would send
(skewed clocks, expired presigned URLs, broken headers)."""
import datetime
import hashlib
import hmac
import http.client
import urllib.parse


def _hmac(key, msg):
    return hmac.new(key, msg.encode(), hashlib.sha256).digest()


def signing_key(secret, date, region, service):
    k = _hmac(("AWS4" + secret).encode(), date)
    k = _hmac(k, region)
    k = _hmac(k, service)
    return _hmac(k, "aws4_request")


def _enc(s, safe="-_.~"):
    return urllib.parse.quote(s, safe=safe)


def canonical_query(params):
    return "&".join("%s=%s" % (_enc(k), _enc(v)) for k, v in sorted(params))


def sign(method, host, path, params, headers, body, access_key="test", secret="test",
         region="us-east-1", service="sts", when=None, payload_hash=None):
    """Returns headers (dict) with Authorization and X-Amz-Date added."""
    when = when or datetime.datetime.utcnow()
    amz_date = when.strftime("%Y%m%dT%H%M%SZ")
    date = amz_date[:8]
    headers = dict(headers)
    headers["Host"] = host
    headers["X-Amz-Date"] = amz_date
    payload_hash = payload_hash or hashlib.sha256(body).hexdigest()
    names = sorted(h.lower() for h in headers)
    lower = {k.lower(): " ".join(str(v).split()) for k, v in headers.items()}
    creq = "\n".join([method, path, canonical_query(params),
                      "".join("%s:%s\n" % (n, lower[n]) for n in names), ";".join(names), payload_hash])
    scope = "%s/%s/%s/aws4_request" % (date, region, service)
    sts = "\n".join(["AWS4-HMAC-SHA256", amz_date, scope, hashlib.sha256(creq.encode()).hexdigest()])
    sig = hmac.new(signing_key(secret, date, region, service), sts.encode(), hashlib.sha256).hexdigest()
    headers["Authorization"] = "AWS4-HMAC-SHA256 Credential=%s/%s, SignedHeaders=%s, Signature=%s" % (
        access_key, scope, ";".join(names), sig)
    return headers


def presign(method, host, path, params, access_key="test", secret="test", region="us-east-1",
            service="sts", when=None, expires=60):
    when = when or datetime.datetime.utcnow()
    amz_date = when.strftime("%Y%m%dT%H%M%SZ")
    date = amz_date[:8]
    scope = "%s/%s/%s/aws4_request" % (date, region, service)
    q = list(params) + [("X-Amz-Algorithm", "AWS4-HMAC-SHA256"), ("X-Amz-Credential", access_key + "/" + scope),
                        ("X-Amz-Date", amz_date), ("X-Amz-Expires", str(expires)), ("X-Amz-SignedHeaders", "host")]
    payload = "UNSIGNED-PAYLOAD" if service == "s3" else hashlib.sha256(b"").hexdigest()
    creq = "\n".join([method, path, canonical_query(q), "host:%s\n" % host, "host", payload])
    sts = "\n".join(["AWS4-HMAC-SHA256", amz_date, scope, hashlib.sha256(creq.encode()).hexdigest()])
    sig = hmac.new(signing_key(secret, date, region, service), sts.encode(), hashlib.sha256).hexdigest()
    return path + "?" + canonical_query(q + [("X-Amz-Signature", sig)])


def request(server, method, path, headers=None, body=b""):
    c = http.client.HTTPConnection(server.host, server.port, timeout=30)
    c.request(method, path, body=body, headers=headers or {})
    r = c.getresponse()
    data = r.read()
    c.close()
    return r.status, dict(r.getheaders()), data
