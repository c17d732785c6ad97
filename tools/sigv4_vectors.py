#!/usr/bin/python3
"""sigv4_vectors.py: compute SigV4 signatures with botocore's own signers (SigV4Auth,
S3SigV4Auth, S3SigV4QueryAuth) for the requests used in tests/unit/test_sigv4.c, so the C
implementation is checked against the client library people actually use. Run with Debian's
/usr/bin/python3; paste changed outputs into test_sigv4.c (the "botocore" vectors).

    /usr/bin/python3 tools/sigv4_vectors.py
"""
import base64
import hashlib
import hmac

from botocore.auth import S3SigV4Auth, S3SigV4QueryAuth, SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

SUITE = Credentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")
S3DOC = Credentials("AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")


def sign(auth_cls, creds, service, region, ts, method, url, headers, body=b"", params=None):
    req = AWSRequest(method=method, url=url, data=body, params=params)
    for k, v in headers:
        req.headers.add_header(k, v) if k in req.headers else req.headers.__setitem__(k, v)
    req.context["timestamp"] = ts
    auth = auth_cls(creds, service, region)
    creq = auth.canonical_request(req)
    sts = auth.string_to_sign(req, creq)
    return auth.signature(sts, req), creq


def suite(name, method, path, headers, body=b"", params=None):
    hdrs = [("Host", "example.amazonaws.com"), ("X-Amz-Date", "20150830T123600Z")] + headers
    sig, creq = sign(SigV4Auth, SUITE, "service", "us-east-1", "20150830T123600Z", method,
                     "https://example.amazonaws.com" + path, hdrs, body, params)
    print(f"{name:40s} {sig}")
    return creq


def key(secret, date, region, service):
    k = hmac.new(("AWS4" + secret).encode(), date.encode(), hashlib.sha256).digest()
    for p in (region, service, "aws4_request"):
        k = hmac.new(k, p.encode(), hashlib.sha256).digest()
    return k.hex()


def main():
    print("# aws-sig-v4-test-suite requests (service 'service', us-east-1, 20150830T123600Z)")
    suite("get-vanilla", "GET", "/", [])
    suite("get-vanilla-query-order-key-case", "GET", "/?Param2=value2&Param1=value1", [])
    suite("get-vanilla-query-order-value", "GET", "/?Param1=value2&Param1=value1", [])
    suite("extra-query-order-value-case", "GET", "/?Param1=value2&Param1=Value1", [])
    unres = "-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
    suite("get-vanilla-query-unreserved", "GET", f"/?{unres}={unres}", [])
    suite("get-vanilla-utf8-query", "GET", "/", [], params={"\u1234": "bar"})
    suite("get-vanilla-empty-query-key", "GET", "/?Param1=value1", [])
    suite("get-utf8", "GET", "/\u1234", [])
    suite("get-space", "GET", "/example space/", [])
    suite("get-header-key-duplicate", "GET", "/",
          [("My-Header1", "value2"), ("My-Header1", "value2"), ("My-Header1", "value1")])
    suite("get-header-value-order", "GET", "/",
          [("My-Header1", "value4"), ("My-Header1", "value1"), ("My-Header1", "value3"),
           ("My-Header1", "value2")])
    suite("get-header-value-trim", "GET", "/",
          [("My-Header1", " value1"), ("My-Header2", ' "a   b   c"')])
    suite("get-relative", "GET", "/example/..", [])
    suite("get-relative-relative", "GET", "/example1/example2/../..", [])
    suite("get-slash", "GET", "//", [])
    suite("get-slash-dot-slash", "GET", "/./", [])
    suite("get-slash-pointless-dot", "GET", "/./example", [])
    suite("get-slashes", "GET", "//example//", [])
    suite("post-vanilla", "POST", "/", [])
    suite("post-vanilla-query", "POST", "/?Param1=value1", [])
    suite("post-header-key-sort", "POST", "/", [("My-Header1", "value1")])
    suite("post-header-value-case", "POST", "/", [("My-Header1", "VALUE1")])
    suite("post-x-www-form-urlencoded", "POST", "/",
          [("Content-Type", "application/x-www-form-urlencoded")], b"Param1=value1")
    suite("post-x-www-form-urlencoded-parameters", "POST", "/",
          [("Content-Type", "application/x-www-form-urlencoded; charset=utf8")], b"Param1=value1")
    # Extra: encoded path segments and a tilde, double-encoded by the non-S3 rules.
    suite("extra-encoded-path", "GET", "/a%3Ab/c~d/%E1%88%B4", [])

    print("# IAM ListUsers example of the SigV4 documentation")
    sig, creq = sign(SigV4Auth, SUITE, "iam", "us-east-1", "20150830T123600Z", "GET",
                     "https://iam.amazonaws.com/?Action=ListUsers&Version=2010-05-08",
                     [("Content-Type", "application/x-www-form-urlencoded; charset=utf-8"),
                      ("Host", "iam.amazonaws.com"), ("X-Amz-Date", "20150830T123600Z")])
    print(f"{'iam-listusers':40s} {sig} creq-sha256={hashlib.sha256(creq.encode()).hexdigest()}")
    print(f"{'ksigning 20150830 iam':40s} "
          f"{key('wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY', '20150830', 'us-east-1', 'iam')}")
    print(f"{'ksigning 20120215 iam':40s} "
          f"{key('wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY', '20120215', 'us-east-1', 'iam')}")

    print("# S3 documentation examples (examplebucket, 20130524T000000Z)")
    e = hashlib.sha256(b"").hexdigest()
    host = "examplebucket.s3.amazonaws.com"
    ts = "20130524T000000Z"

    def s3(name, method, path, headers, body=b""):
        hdrs = [("Host", host)] + headers + [("x-amz-date", ts)]
        sig, creq = sign(S3SigV4Auth, S3DOC, "s3", "us-east-1", ts, method,
                         "https://" + host + path, hdrs, body)
        print(f"{name:40s} {sig}")

    s3("s3-get-object", "GET", "/test.txt", [("Range", "bytes=0-9"), ("x-amz-content-sha256", e)])
    body = b"Welcome to Amazon S3."
    s3("s3-put-object", "PUT", "/test%24file.text",
       [("Date", "Fri, 24 May 2013 00:00:00 GMT"), ("x-amz-storage-class", "REDUCED_REDUNDANCY"),
        ("x-amz-content-sha256", hashlib.sha256(body).hexdigest())], body)
    s3("s3-get-lifecycle", "GET", "/?lifecycle", [("x-amz-content-sha256", e)])
    s3("s3-list-objects", "GET", "/?max-keys=2&prefix=J", [("x-amz-content-sha256", e)])
    # Extra: a key botocore encodes itself (space, plus, unicode, tilde), and a query with '+'.
    s3("extra-s3-odd-key", "PUT", "/a%20b%2Bc/%E1%88%B4~x.txt",
       [("x-amz-content-sha256", "UNSIGNED-PAYLOAD")])
    s3("extra-s3-query", "GET", "/?list-type=2&prefix=a%2Bb%20c&delimiter=%2F",
       [("x-amz-content-sha256", e)])

    # Presigned GET of the S3 documentation (expires 86400).
    req = AWSRequest(method="GET", url="https://" + host + "/test.txt")
    req.context["timestamp"] = ts
    auth = S3SigV4QueryAuth(S3DOC, "s3", "us-east-1", expires=86400)
    auth._modify_request_before_signing(req)
    creq = auth.canonical_request(req)
    sig = auth.signature(auth.string_to_sign(req, creq), req)
    print(f"{'s3-presigned-get':40s} {sig}")
    print(f"{'  query':40s} {req.url.split('?', 1)[1]}")


if __name__ == "__main__":
    main()
