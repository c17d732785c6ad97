"""S3 static website hosting: Put/Get/DeleteBucketWebsite with AWS's validation, and the website
endpoint checked with curl (Host <bucket>.s3-website.localhost on the main port, and any Host on
--website-port): index and error documents, folder redirects, routing rules, per-object
x-amz-website-redirect-location, AWS's HTML error pages, access governed by the bucket policy."""
import json
import subprocess
import uuid

import pytest
from botocore.exceptions import ClientError

from conftest import client, free_port
from s3util import err, s3  # noqa: F401 (fixtures)


def curl(server, path, host, method="GET", port=None, headers=()):
    """(status, headers dict (lowercase names), body) of one curl request."""
    cmd = ["curl", "-s", "-i", "-X", method, "-H", "Host: " + host]
    if method == "HEAD":
        cmd = ["curl", "-s", "-I", "-H", "Host: " + host]
    for h in headers:
        cmd += ["-H", h]
    cmd.append("http://127.0.0.1:%d%s" % (port or server.port, path))
    out = subprocess.run(cmd, capture_output=True, timeout=30).stdout
    head, _, body = out.partition(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    status = int(lines[0].split()[1])
    hdrs = {}
    for line in lines[1:]:
        k, _, v = line.partition(":")
        hdrs[k.strip().lower()] = v.strip()
    return status, hdrs, body


def public_site(s3, name):
    s3.create_bucket(Bucket=name)
    s3.delete_public_access_block(Bucket=name)
    s3.put_bucket_policy(Bucket=name, Policy=json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Sid": "PublicRead", "Effect": "Allow", "Principal": "*",
                       "Action": "s3:GetObject", "Resource": "arn:aws:s3:::%s/*" % name},
                      # missing keys are 404 (not 403) only for readers who may list
                      {"Sid": "PublicList", "Effect": "Allow", "Principal": "*",
                       "Action": "s3:ListBucket", "Resource": "arn:aws:s3:::%s" % name}]}))
    s3.put_object(Bucket=name, Key="index.html", Body=b"<h1>home</h1>", ContentType="text/html")
    s3.put_object(Bucket=name, Key="docs/index.html", Body=b"<h1>docs</h1>", ContentType="text/html")
    s3.put_object(Bucket=name, Key="docs/page.html", Body=b"<p>page</p>", ContentType="text/html")
    s3.put_object(Bucket=name, Key="error.html", Body=b"<h1>custom error</h1>", ContentType="text/html")
    s3.put_object(Bucket=name, Key="moved.html", Body=b"", WebsiteRedirectLocation="/docs/page.html")


@pytest.fixture
def site(s3, nimbus):
    name = "site-" + uuid.uuid4().hex[:8]
    public_site(s3, name)
    s3.put_bucket_website(Bucket=name, WebsiteConfiguration={
        "IndexDocument": {"Suffix": "index.html"},
        "ErrorDocument": {"Key": "error.html"},
        "RoutingRules": [
            {"Condition": {"KeyPrefixEquals": "old/"},
             "Redirect": {"ReplaceKeyPrefixWith": "docs/"}},
            {"Condition": {"KeyPrefixEquals": "gone/", "HttpErrorCodeReturnedEquals": "404"},
             "Redirect": {"HostName": "example.com", "Protocol": "https", "ReplaceKeyWith": "lost.html",
                          "HttpRedirectCode": "302"}},
        ]})
    return name


def test_config_round_trip_and_delete(s3, site):
    w = s3.get_bucket_website(Bucket=site)
    assert w["IndexDocument"] == {"Suffix": "index.html"}
    assert w["ErrorDocument"] == {"Key": "error.html"}
    assert w["RoutingRules"][0]["Redirect"]["ReplaceKeyPrefixWith"] == "docs/"
    s3.delete_bucket_website(Bucket=site)
    with pytest.raises(ClientError) as e:
        s3.get_bucket_website(Bucket=site)
    assert err(e) == (404, "NoSuchWebsiteConfiguration")


def test_validation(s3, site):
    with pytest.raises(ClientError) as e:
        s3.put_bucket_website(Bucket=site, WebsiteConfiguration={"ErrorDocument": {"Key": "e.html"}})
    assert err(e) == (400, "InvalidArgument")
    with pytest.raises(ClientError) as e:
        s3.put_bucket_website(Bucket=site, WebsiteConfiguration={"IndexDocument": {"Suffix": "a/b.html"}})
    assert err(e) == (400, "InvalidArgument")
    with pytest.raises(ClientError) as e:
        s3.put_bucket_website(Bucket=site, WebsiteConfiguration={
            "IndexDocument": {"Suffix": "index.html"},
            "RoutingRules": [{"Redirect": {"ReplaceKeyWith": "a", "ReplaceKeyPrefixWith": "b"}}]})
    assert err(e) == (400, "InvalidRequest")
    with pytest.raises(ClientError) as e:
        s3.put_bucket_website(Bucket=site, WebsiteConfiguration={
            "RedirectAllRequestsTo": {"HostName": "example.com"},
            "IndexDocument": {"Suffix": "index.html"}})
    assert err(e) == (400, "InvalidArgument")


def test_index_and_error_documents(nimbus, site):
    host = site + ".s3-website.localhost"
    st, h, body = curl(nimbus, "/", host)
    assert (st, body) == (200, b"<h1>home</h1>")
    assert h["content-type"] == "text/html"
    st, _, body = curl(nimbus, "/docs/", host)
    assert (st, body) == (200, b"<h1>docs</h1>")
    st, _, body = curl(nimbus, "/docs/page.html", host)
    assert (st, body) == (200, b"<p>page</p>")
    # a "folder" without its slash is redirected to it
    st, h, _ = curl(nimbus, "/docs", host)
    assert st == 302 and h["location"] == "/docs/"
    # a missing key gets the ErrorDocument with the error's status
    st, _, body = curl(nimbus, "/missing.html", host)
    assert (st, body) == (404, b"<h1>custom error</h1>")
    # HEAD
    st, h, _ = curl(nimbus, "/docs/page.html", host, method="HEAD")
    assert st == 200 and h["content-length"] == "11"
    # region-style host names work too
    st, _, body = curl(nimbus, "/", site + ".s3-website-us-east-1.localhost")
    assert (st, body) == (200, b"<h1>home</h1>")
    st, _, body = curl(nimbus, "/", site + ".s3-website.us-east-1.s3.localhost")
    assert (st, body) == (200, b"<h1>home</h1>")


def test_routing_rules_and_object_redirects(nimbus, site):
    host = site + ".s3-website.localhost"
    st, h, _ = curl(nimbus, "/old/page.html", host)
    assert st == 301 and h["location"] == "http://%s/docs/page.html" % host
    # error-code condition: only when the key is missing
    st, h, _ = curl(nimbus, "/gone/thing", host)
    assert st == 302 and h["location"] == "https://example.com/lost.html"
    st, h, _ = curl(nimbus, "/moved.html", host)
    assert st == 301 and h["location"] == "/docs/page.html"


def test_html_error_pages(s3, nimbus):
    name = "site-" + uuid.uuid4().hex[:8]
    public_site(s3, name)
    host = name + ".s3-website.localhost"
    # no website configuration
    st, _, body = curl(nimbus, "/", host)
    assert st == 404 and b"<li>Code: NoSuchWebsiteConfiguration</li>" in body
    s3.put_bucket_website(Bucket=name, WebsiteConfiguration={
        "IndexDocument": {"Suffix": "index.html"}, "ErrorDocument": {"Key": "nope.html"}})
    st, h, body = curl(nimbus, "/missing", host)
    assert st == 404
    assert h["content-type"].startswith("text/html")
    assert b"<title>404 Not Found</title>" in body
    assert b"<li>Code: NoSuchKey</li>" in body
    assert b"<li>Message: The specified key does not exist.</li>" in body
    assert b"<li>Key: missing</li>" in body
    assert b"<li>RequestId: " in body and b"<li>HostId: " in body
    assert b"An Error Occurred While Attempting to Retrieve a Custom Error Document" in body
    assert h["x-amz-error-code"] == "NoSuchKey"
    # HEAD: no page; the headers say what it would have (as AWS's website endpoint does)
    st, h, body = curl(nimbus, "/missing", host, method="HEAD")
    assert st == 404 and body == b""
    assert h["x-amz-error-code"] == "NoSuchKey"
    assert h["x-amz-error-message"] == "The specified key does not exist."
    assert h["x-amz-error-detail-key"] == "missing"
    assert h["x-amz-request-id"] and h["x-amz-id-2"] and h["x-amz-id-2"] != h["x-amz-request-id"]
    assert h["content-type"].startswith("text/html")
    # unknown bucket
    st, _, body = curl(nimbus, "/", "no-such-bucket-xyz.s3-website.localhost")
    assert st == 404 and b"<li>Code: NoSuchBucket</li>" in body
    # only GET and HEAD
    st, _, body = curl(nimbus, "/index.html", host, method="DELETE")
    assert st == 405 and b"MethodNotAllowed" in body


def test_access_is_the_bucket_policy(s3, nimbus):
    """Without a public policy the website answers 403 AccessDenied: it reads anonymously."""
    name = "site-" + uuid.uuid4().hex[:8]
    s3.create_bucket(Bucket=name)
    s3.put_object(Bucket=name, Key="index.html", Body=b"hi")
    s3.put_bucket_website(Bucket=name, WebsiteConfiguration={"IndexDocument": {"Suffix": "index.html"}})
    host = name + ".s3-website.localhost"
    st, _, body = curl(nimbus, "/", host)
    assert st == 403 and b"<li>Code: AccessDenied</li>" in body
    s3.delete_public_access_block(Bucket=name)
    s3.put_bucket_policy(Bucket=name, Policy=json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
                       "Resource": "arn:aws:s3:::%s/*" % name}]}))
    st, _, body = curl(nimbus, "/", host)
    assert (st, body) == (200, b"hi")


def test_redirect_all_requests(s3, nimbus):
    name = "site-" + uuid.uuid4().hex[:8]
    s3.create_bucket(Bucket=name)
    s3.put_bucket_website(Bucket=name, WebsiteConfiguration={
        "RedirectAllRequestsTo": {"HostName": "www.example.org", "Protocol": "https"}})
    st, h, _ = curl(nimbus, "/a/b.html", name + ".s3-website.localhost")
    assert st == 301 and h["location"] == "https://www.example.org/a/b.html"


def test_website_port(nimbus_factory):
    port = free_port()
    srv = nimbus_factory(args=["--website-port", str(port)])
    s3c = client(srv, "s3")
    name = "www.example-" + uuid.uuid4().hex[:6] + ".com"
    public_site(s3c, name)
    s3c.put_bucket_website(Bucket=name, WebsiteConfiguration={"IndexDocument": {"Suffix": "index.html"}})
    st, _, body = curl(srv, "/", name, port=port)
    assert (st, body) == (200, b"<h1>home</h1>")
    st, _, body = curl(srv, "/docs/", name + ":%d" % port, port=port)
    assert (st, body) == (200, b"<h1>docs</h1>")
    st, _, body = curl(srv, "/missing", name, port=port)
    assert st == 404 and b"NoSuchKey" in body
