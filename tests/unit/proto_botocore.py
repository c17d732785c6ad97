#!/usr/bin/python3
"""proto_botocore.py: check the protocol layer against botocore's own serializers and parsers.

For every operation of a set of services (those in services.def plus more, so that every
protocol feature botocore knows is covered: query maps, flattened lists, Route 53 and CloudFront
XML, ...), it builds a sample input from the model, lets botocore's serializer turn it into an
HTTP request, and checks that our parser (nb_proto_match + nb_proto_parse) finds the same
operation and decodes the same document. Then it builds a sample output, serializes it with
nb_proto_serialize and checks that botocore's response parser reads back the same document,
and that botocore reads our errors' codes and messages.

Our side runs in tests/unit/proto_driver.c, built here against a models file generated for
these services. Run from the repository root: /usr/bin/python3 tests/unit/proto_botocore.py
Prints 'proto_botocore: N passed, M failed'; exit status 1 on a failure, 0 (with a note) when
botocore or a compiler is missing.
"""

import base64
import datetime
import json
import os
import subprocess
import sys
import tempfile

try:
    import botocore.model
    import botocore.serialize
    import botocore.parsers
    from botocore.awsrequest import HeadersDict
    from botocore.utils import percent_encode_sequence
except ImportError:
    print("proto_botocore: botocore missing, skipped")
    sys.exit(0)

SERVICES = ["sts", "s3", "logs", "lambda", "ec2", "iam", "sns", "cloudwatch", "elb", "elbv2",
            "autoscaling", "rds", "elasticache", "route53", "cloudfront", "events", "acm",
            "waf", "inspector", "efs", "shield"]
BOTOCORE = "/usr/lib/python3/dist-packages/botocore/data"
PROTO_SRCS = ["model", "timefmt", "escape", "errors", "parse", "query", "json_in", "xml_in", "xmllib",
              "match", "rest", "serialize"]
T0 = datetime.datetime(2023, 11, 14, 22, 13, 20, tzinfo=datetime.timezone.utc)

# Differences that are botocore's doing, not the wire format's.
SKIP_INPUT = {
    # deprecated twins of the same route: AWS (and we) serve the current operation
    ("s3", "GetBucketLifecycle"): "GetBucketLifecycleConfiguration",
    ("s3", "PutBucketLifecycle"): "PutBucketLifecycleConfiguration",
    ("s3", "GetBucketNotification"): "GetBucketNotificationConfiguration",
    ("s3", "PutBucketNotification"): "PutBucketNotificationConfiguration",
}
SKIP_OUTPUT = {
    ("s3", "GetBucketNotification"): "Event and Events both use the element <Event>",
    ("s3", "GetBucketLocation"): "botocore parses it in a handler, not the parser",
    ("s3", "SelectObjectContent"): "event stream",
}


def build_driver(tmp):
    models = os.path.join(tmp, "models.c")
    subprocess.run([sys.executable, "tools/gen_models.py", "--services", "src/svc/services.def",
                    "--botocore", BOTOCORE, "--out", models, "--models", ",".join(SERVICES)],
                   check=True)
    exe = os.path.join(tmp, "proto_driver")
    cc = os.environ.get("CC", "cc")
    cmd = [cc, "-std=c17", "-D_GNU_SOURCE", "-Isrc", "-I/usr/include/libxml2", "-O1", "-g",
           "-w", "tests/unit/proto_driver.c", "src/core/nb.c", models]
    cmd += ["src/proto/%s.c" % s for s in PROTO_SRCS]
    cmd += ["-ljansson", "-lxml2", "-lm", "-pthread", "-o", exe]
    try:
        subprocess.run(cmd, check=True)
    except (OSError, subprocess.CalledProcessError) as e:
        # A driver that no longer builds is a broken test, not a missing tool.
        print("proto_botocore: cannot build the driver (%s)" % e)
        sys.exit(1)
    return exe


class Driver:
    def __init__(self, exe):
        self.p = subprocess.Popen([exe], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  text=True, bufsize=1)

    def ask(self, q):
        self.p.stdin.write(json.dumps(q) + "\n")
        line = self.p.stdout.readline()
        if not line:
            raise RuntimeError("driver died on %r" % (q,))
        return json.loads(line)

    def close(self):
        self.p.stdin.close()
        self.p.wait()


# ---- sample documents from the model ----

NASTY = " /+&=%?#<>\"'~*;,:@$!"


def utf16_len(s):
    return len(s.encode("utf-16-le")) // 2


def fit(s, md):
    """Pad or cut s to the model's length limits (counted in UTF-16 units, as AWS does)."""
    lo, hi = md.get("min", 0), md.get("max", 1 << 30)
    while hi >= 1 and utf16_len(s) > hi:
        s = s[:-1]
    if utf16_len(s) < lo:
        s += "x" * (lo - utf16_len(s))
    return s


PROTO = None  # protocol of the service being sampled


def fractional_ok(shape, loc):
    """Does botocore keep sub-second time for this timestamp? Only in ISO 8601 text."""
    fmt = shape.serialization.get("timestampFormat")
    if loc in ("header", "headers"):
        return False  # botocore writes whole seconds into headers whatever the format
    if fmt:
        return fmt == "iso8601"
    if loc == "querystring":
        return True
    return PROTO in ("query", "ec2", "rest-xml")


def sample(shape, name, depth, where, active=(), nasty=False, loc=None):
    """An example value of shape; recursive shapes are cut where they would repeat. nasty: use
    reserved characters, non-ASCII text and fractional timestamps where the wire allows them."""
    t = shape.type_name
    md = shape.metadata
    if t == "structure":
        if depth > 14 or shape.name in active or shape.serialization.get("eventstream"):
            return None
        active = active + (shape.name,)
        out = {}
        for mn, ms in shape.members.items():
            if ms.serialization.get("eventstream") or getattr(ms, "is_document_type", False):
                continue
            if ms.serialization.get("location") == "statusCode":
                out[mn] = 200
                continue
            mloc = ms.serialization.get("location") if depth == 0 else loc
            v = sample(ms, mn, depth + 1, where, active, nasty, mloc)
            if v is not None:
                out[mn] = v
        return out
    if t == "list":
        n = max(2 if nasty else 1, min(md.get("min", 1), 3))
        if "max" in md:
            n = min(n, md["max"])
        items = [sample(shape.member, name, depth + 1, where, active, nasty, loc) for _ in range(n)]
        if any(x is None for x in items):
            return None
        if n > 1 and shape.member.type_name == "string" and not shape.member.enum:
            items = [fit("%d%s" % (i, x), shape.member.metadata) for i, x in enumerate(items)]
        return items
    if t == "map":
        v = sample(shape.value, name, depth + 1, where, active, nasty, loc)
        if v is None:
            return None
        k = shape.key.enum[0] if shape.key.enum else ("k1" if not nasty or loc else "k 1/é")
        return {k: v}
    if t == "string":
        if shape.enum:
            return shape.enum[0]
        s = "v-" + name
        if nasty:
            if loc in ("header", "headers"):
                s += " a,b;c=d"  # header text: printable ASCII
            elif loc in ("uri", "querystring"):
                s += NASTY + "\u00e9"
            else:
                s += NASTY + "\u00e9\u4e2d\U0001f600 \t\n"
        return fit(s, md)
    if t in ("integer", "long"):
        lo, hi = md.get("min", 0), md.get("max", 1 << 31)
        if nasty and t == "long" and hi > 1 << 40 and lo <= 0:
            return 1 << 40  # beyond 32 bits
        return int(max(lo, min(hi, 3)))
    if t == "boolean":
        return not nasty
    if t in ("float", "double"):
        lo, hi = md.get("min", 0), md.get("max", 1e9)
        return float(max(lo, min(hi, 0.1 if nasty else 1.5)))
    if t == "timestamp":
        if nasty and fractional_ok(shape, loc):
            return T0 + datetime.timedelta(milliseconds=250)
        return T0
    if t == "blob":
        return b"" if nasty and loc in ("header",) else (b"\x00\xff\xfe" * 7 if nasty else b"hi\x00\xff")
    return None


def to_doc(shape, v):
    """A botocore value in our document conventions."""
    t = shape.type_name
    if v is None:
        return None
    if t == "structure":
        return {k: to_doc(shape.members[k], x) for k, x in v.items() if k in shape.members}
    if t == "list":
        return [to_doc(shape.member, x) for x in v]
    if t == "map":
        return {k: to_doc(shape.value, x) for k, x in v.items()}
    if t == "timestamp":
        if isinstance(v, datetime.datetime):
            if v.tzinfo is None:
                v = v.replace(tzinfo=datetime.timezone.utc)
            return v.timestamp()
        return v
    if t == "blob":
        if hasattr(v, "read"):
            v = v.read()
        if isinstance(v, str):
            v = v.encode()
        return base64.b64encode(v).decode()
    if t in ("float", "double"):
        return float(v)
    return v


def same(a, b):
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, (int, float)) and isinstance(b, (int, float)) and not isinstance(a, bool) \
            and not isinstance(b, bool):
        return abs(a - b) < 1e-6
    return a == b


def lower_meta_keys(shape, doc):
    """Maps carried in prefixed headers come back with lower-case keys (HTTP names)."""
    for mn, ms in shape.members.items():
        if ms.serialization.get("location") == "headers" and mn in doc:
            doc[mn] = {k.lower(): v for k, v in doc[mn].items()}


# ---- the checks ----

class Result:
    def __init__(self):
        self.passed = 0
        self.failed = 0

    def ok(self, cond, what, detail=""):
        if cond:
            self.passed += 1
        else:
            self.failed += 1
            if self.failed <= 60:
                print("FAIL %s %s" % (what, detail))


def check_input(drv, res, svc, proto, op, nasty):
    if (svc, op.name) in SKIP_INPUT:
        return
    params = sample(op.input_shape, op.name, 0, "in", nasty=nasty) if op.input_shape else {}
    if params is None:
        return
    ser = botocore.serialize.create_serializer(proto, include_validation=False)
    req = ser.serialize_to_request(params, op)
    path = req["url_path"]
    query = req["query_string"]
    if isinstance(query, dict):
        query = percent_encode_sequence(query)
    if "?" in path:
        path, lit = path.split("?", 1)
        query = lit + ("&" + query if query else "")
    body = req["body"]
    if isinstance(body, dict):
        body = percent_encode_sequence(body)
    if hasattr(body, "read"):
        body = body.read()
    if isinstance(body, str):
        body = body.encode()
    body = body or b""
    streaming = op.has_streaming_input
    headers = {k: (v.decode() if isinstance(v, bytes) else str(v)) for k, v in req["headers"].items()}
    ans = drv.ask({"cmd": "parse", "service": svc, "method": req["method"], "path": path,
                   "query": query, "headers": headers,
                   "body_b64": "" if streaming else base64.b64encode(body).decode()})
    what = "input %s.%s%s" % (svc, op.name, " (nasty)" if nasty else "")
    if "error" in ans:
        res.ok(False, what, "-> %s" % ans["error"])
        return
    if ans["op"] != op.name:
        res.ok(False, what, "matched %s" % ans.get("op"))
        return
    want = to_doc(op.input_shape, params) if op.input_shape else {}
    if streaming:
        want.pop(op.input_shape.serialization.get("payload"), None)
    if op.input_shape:
        lower_meta_keys(op.input_shape, want)
    res.ok(same(ans["doc"], want), what, "\n  got  %s\n  want %s" % (
        json.dumps(ans["doc"], sort_keys=True), json.dumps(want, sort_keys=True)))


def check_output(drv, res, svc, proto, op, nasty):
    if not op.output_shape or (svc, op.name) in SKIP_OUTPUT or op.has_streaming_output:
        return
    params = sample(op.output_shape, op.name, 0, "out", nasty=nasty)
    if params is None:
        return
    doc = to_doc(op.output_shape, params)
    ans = drv.ask({"cmd": "serialize", "service": svc, "op": op.name, "doc": doc})
    what = "output %s.%s%s" % (svc, op.name, " (nasty)" if nasty else "")
    if "fatal" in ans:
        res.ok(False, what, ans["fatal"])
        return
    hd = HeadersDict()
    for k, v in ans["headers"].items():
        hd[k] = v
    parser = botocore.parsers.create_parser(proto)
    parsed = parser.parse({"status_code": ans["status"], "headers": hd,
                           "body": base64.b64decode(ans["body_b64"])}, op.output_shape)
    parsed.pop("ResponseMetadata", None)
    got = to_doc(op.output_shape, parsed)
    want = dict(doc)
    for mn, ms in op.output_shape.members.items():
        # The server writes Content-Length itself; the serializer leaves it out.
        if ms.serialization.get("name", "").lower() == "content-length":
            want.pop(mn, None)
    lower_meta_keys(op.output_shape, want)
    res.ok(same(got, want), what, "\n  got  %s\n  want %s\n  body %s" % (
        json.dumps(got, sort_keys=True, default=repr), json.dumps(want, sort_keys=True),
        base64.b64decode(ans["body_b64"])[:600]))


def check_errors(drv, res, svc, proto, model):
    shapes = [model.shape_for(n) for n in model.shape_names]
    errs = [s for s in shapes if s.metadata.get("exception")][:5]
    for s in errs:
        code = s.metadata.get("error", {}).get("code", s.name)
        status = s.metadata.get("error", {}).get("httpStatusCode", 400)
        ans = drv.ask({"cmd": "error", "service": svc, "status": status, "code": code,
                       "message": "it <broke> & \"went\" away"})
        hd = HeadersDict()
        for k, v in ans["headers"].items():
            hd[k] = v
        parser = botocore.parsers.create_parser(proto)
        parsed = parser.parse({"status_code": ans["status"], "headers": hd,
                               "body": base64.b64decode(ans["body_b64"])}, None)
        err = parsed.get("Error", {})
        res.ok(err.get("Code") == code and err.get("Message") == "it <broke> & \"went\" away"
               and ans["status"] == status,
               "error %s.%s" % (svc, code), "-> %s status %s" % (err, ans["status"]))
        rid = parsed.get("ResponseMetadata", {}).get("RequestId")
        res.ok(rid == "req-1", "error request id %s" % svc, repr(rid))


def load_model(svc):
    base = os.path.join(BOTOCORE, svc)
    version = sorted(os.listdir(base))[-1]
    with open(os.path.join(base, version, "service-2.json")) as f:
        return botocore.model.ServiceModel(json.load(f), service_name=svc)


def main():
    if not os.path.exists("tools/gen_models.py"):
        os.chdir(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
    res = Result()
    with tempfile.TemporaryDirectory() as tmp:
        drv = Driver(build_driver(tmp))
        try:
            for svc in SERVICES:
                # the raw model, as tools/gen_models.py reads it (no sdk-extras: those add
                # client-side parameters such as RDS SourceRegion that never go on the wire)
                model = load_model(svc)
                proto = model.metadata["protocol"]
                global PROTO
                PROTO = proto
                for name in model.operation_names:
                    op = model.operation_model(name)
                    for nasty in (False, True):
                        check_input(drv, res, svc, proto, op, nasty)
                        check_output(drv, res, svc, proto, op, nasty)
                check_errors(drv, res, svc, proto, model)
        finally:
            drv.close()
    print("proto_botocore: %d passed, %d failed" % (res.passed, res.failed))
    return 1 if res.failed else 0


if __name__ == "__main__":
    sys.exit(main())
