"""Requests the HTTP core refuses before any service sees them (a request line or header it
cannot parse, bad or repeated Content-Length, a header section over the limits, a
Transfer-Encoding other than chunked) are answered the way S3 answers them: an XML <Error>
document with Code, Message, RequestId and HostId, and x-amz-request-id / x-amz-id-2 headers
naming the same request. Also the body errors the protocol layer answers for a request whose
body cannot be read (IncompleteBody, a broken chunked body, a body over the limit)."""
import base64
import re
import socket

import pytest

from conftest import client


def connect(server):
    s = socket.create_connection((server.host, server.port), timeout=10)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


def read_all(s, timeout=10):
    """Everything the server sends until it closes the connection."""
    s.settimeout(timeout)
    out = b""
    while True:
        try:
            d = s.recv(65536)
        except ConnectionResetError:
            break
        if not d:
            break
        out += d
    return out


def exchange(server, data, half_close=False):
    """Send raw bytes, read until the server closes; (status, headers, body)."""
    s = connect(server)
    try:
        s.sendall(data)
        if half_close:
            s.shutdown(socket.SHUT_WR)
        raw = read_all(s)
    finally:
        s.close()
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {}
    for line in lines[1:]:
        k, v = line.split(":", 1)
        headers[k.strip().lower()] = v.strip()
    return status, headers, body


def assert_s3_error(status, headers, body, want_status, want_code, want_message=None):
    assert status == want_status, (status, body)
    assert headers.get("content-type") == "application/xml"
    assert int(headers["content-length"]) == len(body)
    assert body.startswith(b'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>')
    text = body.decode()
    assert re.search(r"<Code>([^<]*)</Code>", text).group(1) == want_code
    if want_message:
        assert re.search(r"<Message>([^<]*)</Message>", text).group(1) == want_message
    rid = headers["x-amz-request-id"]
    assert re.fullmatch(r"[0-9a-f-]{36}", rid), rid
    assert "<RequestId>%s</RequestId>" % rid in text
    host_id = re.search(r"<HostId>([^<]*)</HostId>", text).group(1)
    assert host_id and headers["x-amz-id-2"] == host_id
    assert base64.b64decode(host_id)  # an opaque token, as S3's
    return text


PARSE_MSG = "An error occurred when parsing the HTTP request."

UNPARSABLE = {
    "garbage": b"\x00\x01\x02 this is not http \xff\xfe\r\n\r\n",
    "unknown_method": b"FROB / HTTP/1.1\r\nHost: x\r\n\r\n",
    "bad_version": b"GET / HTTP/x.y\r\nHost: x\r\n\r\n",
    "space_in_target": b"GET /a b/c HTTP/1.1\r\nHost: x\r\n\r\n",
    "non_numeric_length": b"PUT /b/k HTTP/1.1\r\nHost: x\r\nContent-Length: 12abc\r\n\r\n",
    "negative_length": b"PUT /b/k HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n",
    "overflowing_length": b"PUT /b/k HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999999999\r\n\r\n",
    "duplicate_length": b"PUT /b/k HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd",
    "duplicate_length_third": b"PUT /b/k HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\ncontent-length: 3\r\n"
                              b"Content-Length: 4\r\n\r\nabcd",
    "duplicate_equal_length_and_chunked": b"PUT /b/k HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n"
                                          b"Content-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n"
                                          b"3\r\nabc\r\n0\r\n\r\n",
    "length_and_chunked": b"PUT /b/k HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n"
                          b"Transfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
}


@pytest.mark.parametrize("name", sorted(UNPARSABLE))
def test_unparsable_requests_get_s3_bad_request(nimbus, name):
    status, headers, body = exchange(nimbus, UNPARSABLE[name])
    assert_s3_error(status, headers, body, 400, "BadRequest", PARSE_MSG)
    assert headers.get("connection") == "close"


def test_repeated_equal_content_length_is_one_value(nimbus):
    """RFC 9112 6.3: Content-Length repeated with one value is that value. Go clients that sign
    their own lowercase header send two (rclone --s3-use-presigned-request), and S3 takes them."""
    s3 = client(nimbus, "s3")
    s3.create_bucket(Bucket="cl-dup")
    url = s3.generate_presigned_url("put_object", Params={"Bucket": "cl-dup", "Key": "k"})
    target = url.split(str(nimbus.port), 1)[1].encode()
    req = (b"PUT " + target + b" HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nContent-Length: 3\r\n"
           b"content-length: 3\r\nConnection: close\r\n\r\nabc" % nimbus.port)
    status, _, body = exchange(nimbus, req)
    assert status == 200, body
    assert s3.get_object(Bucket="cl-dup", Key="k")["Body"].read() == b"abc"


def test_header_named_like_content_length_split_across_reads(nimbus):
    """A header whose name starts with "Content-Length" after a real one, arriving in two reads
    split right after those letters, is another header, not a repeated Content-Length."""
    import time
    s = connect(nimbus)
    try:
        s.sendall(b"PUT /cl-split/k HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Length")
        time.sleep(0.3)
        s.sendall(b"-Extra: 4\r\nConnection: close\r\n\r\nabc")
        raw = read_all(s)
    finally:
        s.close()
    status = int(raw.split(b" ", 2)[1])
    assert status == 404 and b"<Code>NoSuchBucket</Code>" in raw, raw  # S3's answer, not a parse error


def test_each_refusal_names_its_own_request_id(nimbus):
    ids = set()
    for _ in range(3):
        status, headers, body = exchange(nimbus, UNPARSABLE["garbage"])
        assert_s3_error(status, headers, body, 400, "BadRequest")
        ids.add(headers["x-amz-request-id"])
    assert len(ids) == 3


def test_header_section_over_the_limit(nimbus):
    big = b"GET /b HTTP/1.1\r\nHost: x\r\nX-Big: " + b"b" * (100 * 1024) + b"\r\n\r\n"
    status, headers, body = exchange(nimbus, big)
    assert_s3_error(status, headers, body, 400, "RequestHeaderSectionTooLarge",
                    "Your request header section exceeds the maximum allowed size.")
    many = b"".join(b"X-H%d: v\r\n" % i for i in range(1000))
    status, headers, body = exchange(nimbus, b"GET /b HTTP/1.1\r\nHost: x\r\n" + many + b"\r\n")
    assert_s3_error(status, headers, body, 400, "RequestHeaderSectionTooLarge")
    long_target = b"GET /b/" + b"k" * (100 * 1024) + b" HTTP/1.1\r\nHost: x\r\n\r\n"
    status, headers, body = exchange(nimbus, long_target)
    assert_s3_error(status, headers, body, 400, "RequestHeaderSectionTooLarge")


def test_head_refusal_has_the_headers_and_no_body(nimbus):
    big = b"HEAD /b/k HTTP/1.1\r\nHost: x\r\nX-Big: " + b"b" * (100 * 1024) + b"\r\n\r\n"
    status, headers, body = exchange(nimbus, big)
    assert status == 400
    assert body == b""
    assert re.fullmatch(r"[0-9a-f-]{36}", headers["x-amz-request-id"])
    assert headers["x-amz-id-2"]
    assert headers.get("content-type") == "application/xml"
    assert headers.get("connection") == "close"


@pytest.mark.parametrize("te", [b"gzip", b"identity", b"gzip, chunked", b"chunked, chunked"])
def test_unsupported_transfer_encoding_is_not_implemented(nimbus, te):
    req = (b"PUT /b/k HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: " + te + b"\r\n\r\n"
           b"3\r\nabc\r\n0\r\n\r\n")
    status, headers, body = exchange(nimbus, req)
    text = assert_s3_error(status, headers, body, 501, "NotImplemented",
                           "A header you provided implies functionality that is not implemented")
    assert "<Header>Transfer-Encoding</Header>" in text
    # The field twice, even both chunked: the body's framing is in doubt.
    req = (b"PUT /b/k HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
           b"Transfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n")
    status, headers, body = exchange(nimbus, req)
    assert_s3_error(status, headers, body, 501, "NotImplemented")


def test_chunked_alone_is_still_served(nimbus):
    """The one coding the core takes: an anonymous chunked PUT reaches S3 (which refuses the
    anonymous write with its own error, not the core's)."""
    s3 = client(nimbus, "s3")
    s3.create_bucket(Bucket="te-ok")
    req = (b"PUT /te-ok/k HTTP/1.1\r\nHost: x\r\nTransfer-Encoding:  Chunked \r\n"
           b"Connection: close\r\n\r\n3\r\nabc\r\n0\r\n\r\n")
    status, headers, body = exchange(nimbus, req)
    assert status == 403 and b"<Code>AccessDenied</Code>" in body


def test_body_shorter_than_content_length_is_incomplete_body(nimbus):
    client(nimbus, "s3").create_bucket(Bucket="short-body")
    req = (b"PUT /short-body?tagging HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n"
           b"<Tagging>")
    status, headers, body = exchange(nimbus, req, half_close=True)
    assert_s3_error(status, headers, body, 400, "IncompleteBody",
                    "You did not provide the number of bytes specified by the Content-Length "
                    "HTTP header")


def test_broken_chunked_body_is_bad_request(nimbus):
    client(nimbus, "s3").create_bucket(Bucket="bad-chunks")
    req = (b"PUT /bad-chunks?tagging HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
           b"zz\r\n<Tagging>\r\n0\r\n\r\n")
    status, headers, body = exchange(nimbus, req)
    assert_s3_error(status, headers, body, 400, "BadRequest", PARSE_MSG)


def test_body_over_the_limit_is_refused_before_it_is_sent(nimbus):
    """S3's EntityTooLarge is a 400; the declared length alone decides, the body is never
    read (no 100 Continue)."""
    client(nimbus, "s3").create_bucket(Bucket="big-body")
    req = (b"PUT /big-body?tagging HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n"
           b"Expect: 100-continue\r\n\r\n" % (200 << 20))
    status, headers, body = exchange(nimbus, req)
    assert_s3_error(status, headers, body, 400, "EntityTooLarge")


def test_header_section_that_stops_arriving_is_request_timeout(nimbus_factory):
    server = nimbus_factory(env={"NIMBUS_HEADER_TIMEOUT_MS": "1000"})
    status, headers, body = exchange(server, b"GET /b HTTP/1.1\r\nHost: x\r\nX-Half: ")
    assert_s3_error(status, headers, body, 400, "RequestTimeout",
                    "Your socket connection to the server was not read from or written to "
                    "within the timeout period. Idle connections will be closed.")
