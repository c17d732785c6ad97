#!/usr/bin/python3
"""gen_models.py: turn botocore's service-2.json models into compact const C tables.

Reads src/svc/services.def (lines `NB_SERVICE(folder, "botocore-model")`), loads the newest
version of each named model from the botocore data directory and writes one C file (build step,
see the Makefile rule for build/gen/models.c) with the layout declared in
src/proto/model_internal.h: per model its metadata, operations sorted by name, shapes, members,
errors, enum values and min/max limits; all strings in one shared pool. Python 3 stdlib only.

The tables are const data: the server parses nothing at start-up.
"""

import argparse
import gzip
import json
import os
import re
import sys

import s3_model_additions

# ---- AWS wire facts that botocore's models do not carry ----

# S3 responses whose body is not a payload member are rooted in an element named by the
# Smithy @xmlName of the output structure, which botocore drops. These are the names S3 sends.
S3_OUTPUT_ROOTS = {
    "CompleteMultipartUpload": "CompleteMultipartUploadResult",
    "CreateMultipartUpload": "InitiateMultipartUploadResult",
    "DeleteObjects": "DeleteResult",
    "GetBucketAccelerateConfiguration": "AccelerateConfiguration",
    "GetBucketAcl": "AccessControlPolicy",
    "GetBucketCors": "CORSConfiguration",
    "GetBucketLifecycle": "LifecycleConfiguration",
    "GetBucketLifecycleConfiguration": "LifecycleConfiguration",
    "GetBucketLocation": "LocationConstraint",
    "GetBucketLogging": "BucketLoggingStatus",
    "GetBucketNotification": "NotificationConfiguration",
    "GetBucketNotificationConfiguration": "NotificationConfiguration",
    "GetBucketRequestPayment": "RequestPaymentConfiguration",
    "GetBucketTagging": "Tagging",
    "GetBucketVersioning": "VersioningConfiguration",
    "GetBucketWebsite": "WebsiteConfiguration",
    "GetObjectAcl": "AccessControlPolicy",
    "GetObjectAttributes": "GetObjectAttributesResponse",
    "GetObjectTagging": "Tagging",
    "ListBucketAnalyticsConfigurations": "ListBucketAnalyticsConfigurationResult",
    "ListBucketIntelligentTieringConfigurations": "ListBucketIntelligentTieringConfigurationsOutput",
    "ListBucketInventoryConfigurations": "ListInventoryConfigurationsResult",
    "ListBucketMetricsConfigurations": "ListMetricsConfigurationsResult",
    "ListBuckets": "ListAllMyBucketsResult",
    "ListMultipartUploads": "ListMultipartUploadsResult",
    "ListObjectVersions": "ListVersionsResult",
    "ListObjects": "ListBucketResult",
    "ListObjectsV2": "ListBucketResult",
    "ListParts": "ListPartsResult",
}
# GetBucketLocation's body is <LocationConstraint xmlns="...">region</LocationConstraint>: the
# member is the root's text (botocore special-cases the parse the same way).
TEXT_ROOT_OPS = {("s3", "GetBucketLocation")}

PROTOCOLS = {"query": 1, "ec2": 2, "json": 3, "rest-json": 4, "rest-xml": 5}
TYPES = {"structure": 1, "list": 2, "map": 3, "string": 4, "integer": 5, "long": 6,
         "boolean": 7, "float": 8, "double": 9, "timestamp": 10, "blob": 11}
LOCATIONS = {None: 0, "uri": 1, "querystring": 2, "header": 3, "headers": 4, "statusCode": 5}
TSFMT = {None: 0, "iso8601": 1, "rfc822": 2, "unixTimestamp": 3}
METHODS = {"GET": 1, "POST": 2, "PUT": 3, "DELETE": 4, "HEAD": 5, "PATCH": 6, "OPTIONS": 7}

MF_REQUIRED, MF_XMLATTR, MF_FLATTENED, MF_STREAMING = 0x1, 0x2, 0x4, 0x8
MF_IDEMPOTENCY, MF_HOSTLABEL, MF_JSONVALUE, MF_EVENTPAYLOAD, MF_DEPRECATED = (
    0x10, 0x20, 0x40, 0x80, 0x100)
SF_EXCEPTION, SF_FAULT, SF_SENDER, SF_STREAMING, SF_EVENTSTREAM, SF_HAS_MIN, SF_HAS_MAX = (
    0x1, 0x2, 0x4, 0x8, 0x10, 0x20, 0x40)
OF_DEPRECATED, OF_STREAM_IN, OF_STREAM_OUT, OF_AUTH_NONE, OF_UNSIGNED_BODY, OF_TEXT_ROOT = (
    0x1, 0x2, 0x4, 0x8, 0x10, 0x20)


class Pool:
    """One string pool: offset 0 is the empty string, meaning absent."""

    def __init__(self):
        self.offsets = {"": 0}
        self.parts = [""]
        self.size = 1

    def add(self, s):
        if s is None:
            return 0
        off = self.offsets.get(s)
        if off is None:
            off = self.size
            self.offsets[s] = off
            self.parts.append(s)
            self.size += len(s.encode("utf-8")) + 1
        return off


def c_string(s):
    out = []
    for ch in s.encode("utf-8"):
        c = chr(ch)
        if c in '"\\':
            out.append("\\" + c)
        elif 32 <= ch < 127 and c != "?":  # '?' avoided: trigraphs
            out.append(c)
        else:
            out.append("\\%03o" % ch)
    return "".join(out)


def read_services(path):
    with open(path) as f:
        text = f.read()
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    text = re.sub(r"//[^\n]*", "", text)
    return re.findall(r'NB_SERVICE\(\s*\w+\s*,\s*"([^"]+)"\s*\)', text)


def load_model(botocore, name):
    base = os.path.join(botocore, name)
    if not os.path.isdir(base):
        sys.exit("gen_models: no botocore model folder %s" % base)
    for version in sorted(os.listdir(base), reverse=True):
        for fn in ("service-2.json", "service-2.json.gz"):
            p = os.path.join(base, version, fn)
            if os.path.exists(p):
                opener = gzip.open if fn.endswith(".gz") else open
                with opener(p, "rt", encoding="utf-8") as f:
                    return json.load(f)
    sys.exit("gen_models: no service-2.json under %s" % base)


def reachable_shapes(model):
    """Shapes reachable from the operations (inputs, outputs, errors), sorted by name."""
    shapes = model["shapes"]
    seen = set()
    stack = []
    for op in model["operations"].values():
        for key in ("input", "output"):
            if key in op:
                stack.append(op[key]["shape"])
        for err in op.get("errors", []):
            stack.append(err["shape"])
    while stack:
        n = stack.pop()
        if n in seen:
            continue
        seen.add(n)
        s = shapes[n]
        for ref in s.get("members", {}).values():
            stack.append(ref["shape"])
        for k in ("member", "key", "value"):
            if k in s:
                stack.append(s[k]["shape"])
    return sorted(seen)


def default_xml_namespace(model):
    md = model["metadata"]
    ns = md.get("xmlNamespace")
    if ns:
        if md["protocol"] == "ec2" and not ns.endswith("/"):
            ns += "/"  # EC2 answers with the trailing slash its model omits
        return ns
    if md["protocol"] != "rest-xml":
        return None
    # rest-xml models name their namespace only on input roots / payload members.
    for op in model["operations"].values():
        uri = op.get("input", {}).get("xmlNamespace", {}).get("uri")
        if uri:
            return uri
    for s in model["shapes"].values():
        for ref in s.get("members", {}).values():
            uri = ref.get("xmlNamespace", {}).get("uri")
            if uri and "XMLSchema-instance" not in uri:
                return uri
    return "https://%s.amazonaws.com/doc/%s/" % (md["endpointPrefix"], md["apiVersion"])


# ---- SQS over the JSON protocol (synthesized) ----
# Debian's botocore 1.29 models SQS as `query` only; current SDKs speak awsJson1_0 to it
# (X-Amz-Target: AmazonSQS.<Op>). The JSON model is the same shapes with the XML naming
# traits dropped (JSON keys are member names), plus the message-move operations that newer
# models add. It is emitted after the query model under the same folder name "sqs", so the
# folder/signing-name aliases keep pointing at the query model while the target prefix
# "AmazonSQS" finds this one, and both resolve to the same service (src/svc/sqs/).
SQS_JSON_EXTRA_SHAPES = {
    "NbMoveString": {"type": "string"},
    "NbMoveInt": {"type": "integer"},
    "NbMoveLong": {"type": "long"},
    "StartMessageMoveTaskRequest": {"type": "structure", "required": ["SourceArn"], "members": {
        "SourceArn": {"shape": "NbMoveString"}, "DestinationArn": {"shape": "NbMoveString"},
        "MaxNumberOfMessagesPerSecond": {"shape": "NbMoveInt"}}},
    "StartMessageMoveTaskResult": {"type": "structure", "members": {
        "TaskHandle": {"shape": "NbMoveString"}}},
    "CancelMessageMoveTaskRequest": {"type": "structure", "required": ["TaskHandle"], "members": {
        "TaskHandle": {"shape": "NbMoveString"}}},
    "CancelMessageMoveTaskResult": {"type": "structure", "members": {
        "ApproximateNumberOfMessagesMoved": {"shape": "NbMoveLong"}}},
    "ListMessageMoveTasksRequest": {"type": "structure", "required": ["SourceArn"], "members": {
        "SourceArn": {"shape": "NbMoveString"}, "MaxResults": {"shape": "NbMoveInt"}}},
    "ListMessageMoveTasksResult": {"type": "structure", "members": {
        "Results": {"shape": "ListMessageMoveTasksResultEntryList"}}},
    "ListMessageMoveTasksResultEntryList": {"type": "list", "member": {
        "shape": "ListMessageMoveTasksResultEntry"}},
    "ListMessageMoveTasksResultEntry": {"type": "structure", "members": {
        "TaskHandle": {"shape": "NbMoveString"}, "Status": {"shape": "NbMoveString"},
        "SourceArn": {"shape": "NbMoveString"}, "DestinationArn": {"shape": "NbMoveString"},
        "MaxNumberOfMessagesPerSecond": {"shape": "NbMoveInt"},
        "ApproximateNumberOfMessagesMoved": {"shape": "NbMoveLong"},
        "ApproximateNumberOfMessagesToMove": {"shape": "NbMoveLong"},
        "FailureReason": {"shape": "NbMoveString"}, "StartedTimestamp": {"shape": "NbMoveLong"}}},
    "NbMessageSystemAttributeList": {"type": "list", "member": {"shape": "NbMoveString"}},
}


def sqs_json_variant(query_model):
    m = json.loads(json.dumps(query_model))
    md = m["metadata"]
    md.update(protocol="json", jsonVersion="1.0", targetPrefix="AmazonSQS", awsQueryCompatible={})
    md.pop("xmlNamespace", None)
    xml_traits = ("locationName", "queryName", "flattened", "xmlNamespace", "xmlAttribute")
    for s in m["shapes"].values():
        for t in xml_traits:
            s.pop(t, None)
        refs = list(s.get("members", {}).values()) + [s[k] for k in ("member", "key", "value") if k in s]
        for ref in refs:
            for t in xml_traits:
                ref.pop(t, None)
    for op in m["operations"].values():
        if "output" in op:
            op["output"].pop("resultWrapper", None)
    m["shapes"].update(json.loads(json.dumps(SQS_JSON_EXTRA_SHAPES)))
    m["shapes"]["ReceiveMessageRequest"]["members"]["MessageSystemAttributeNames"] = {
        "shape": "NbMessageSystemAttributeList"}
    for op in ("StartMessageMoveTask", "CancelMessageMoveTask", "ListMessageMoveTasks"):
        m["operations"][op] = {"name": op, "http": {"method": "POST", "requestUri": "/"},
                               "input": {"shape": op + "Request"},
                               "output": {"shape": op + "Result"}}
    return m


class ModelGen:
    def __init__(self, idx, folder, model, pool):
        self.idx = idx
        self.folder = folder
        self.model = model
        self.pool = pool
        self.members = []  # tuples
        self.extras = []
        self.extra_index = {}
        self.enums = []
        self.limits = []
        self.errors = []
        self.shape_rows = []
        self.op_rows = []
        shapes = model["shapes"]
        self.names = reachable_shapes(model)
        self.index = {n: i for i, n in enumerate(self.names)}
        # Build shapes; members of each shape are emitted contiguously.
        for n in self.names:
            self.shape_rows.append(self.build_shape(n, shapes[n]))
        self.build_ops()

    def member_row(self, ref, name, required):
        shapes = self.model["shapes"]
        target = shapes[ref["shape"]]
        P = self.pool

        def trait(k):
            return ref[k] if k in ref else target.get(k)

        flags = 0
        if required:
            flags |= MF_REQUIRED
        if ref.get("xmlAttribute"):
            flags |= MF_XMLATTR
        if trait("flattened"):
            flags |= MF_FLATTENED
        if trait("streaming"):
            flags |= MF_STREAMING
        if ref.get("idempotencyToken"):
            flags |= MF_IDEMPOTENCY
        if ref.get("hostLabel"):
            flags |= MF_HOSTLABEL
        if trait("jsonvalue"):
            flags |= MF_JSONVALUE
        if ref.get("eventpayload"):
            flags |= MF_EVENTPAYLOAD
        if ref.get("deprecated"):
            flags |= MF_DEPRECATED
        loc = ref.get("location")
        if loc not in LOCATIONS:
            sys.exit("gen_models: unknown location %r" % loc)
        ts = trait("timestampFormat")
        if ts not in TSFMT:
            sys.exit("gen_models: unknown timestampFormat %r" % ts)
        ns = trait("xmlNamespace") or {}
        extra = 0
        qn = ref.get("queryName")
        if qn or ns:
            key = (P.add(qn), P.add(ns.get("uri")), P.add(ns.get("prefix")))
            if key not in self.extra_index:
                self.extras.append(key)
                self.extra_index[key] = len(self.extras)
            extra = self.extra_index[key]
        return (P.add(name), P.add(trait("locationName")), self.index[ref["shape"]],
                LOCATIONS[loc], TSFMT[ts], flags, extra)

    def build_shape(self, name, s):
        P = self.pool
        t = s["type"]
        if t not in TYPES:
            sys.exit("gen_models: unknown shape type %r in %s" % (t, name))
        first = len(self.members)
        nmembers = 0
        payload = 0
        if t == "structure":
            members = s.get("members", {})
            order = list(members)
            if "xmlOrder" in s:  # CloudWatch: XML element order differs from member order
                order = [m for m in s["xmlOrder"] if m in members] + \
                        [m for m in order if m not in s["xmlOrder"]]
            required = set(s.get("required", []))
            for mn in order:
                self.members.append(self.member_row(members[mn], mn, mn in required))
                if s.get("payload") == mn:
                    payload = len(order[:order.index(mn)]) + 1
            nmembers = len(order)
        elif t == "list":
            self.members.append(self.member_row(s["member"], "", False))
            nmembers = 1
        elif t == "map":
            self.members.append(self.member_row(s["key"], "", False))
            self.members.append(self.member_row(s["value"], "", False))
            nmembers = 2
        flags = 0
        if s.get("exception"):
            flags |= SF_EXCEPTION
        if s.get("fault"):
            flags |= SF_FAULT
        err = s.get("error", {})
        if err.get("senderFault"):
            flags |= SF_SENDER
        if s.get("streaming"):
            flags |= SF_STREAMING
        if s.get("eventstream"):
            flags |= SF_EVENTSTREAM
        limits = 0
        if "min" in s or "max" in s:
            if "min" in s:
                flags |= SF_HAS_MIN
            if "max" in s:
                flags |= SF_HAS_MAX
            self.limits.append((s.get("min", 0), s.get("max", 0)))
            limits = len(self.limits)
        enums = len(self.enums)
        for v in s.get("enum", []):
            self.enums.append(P.add(v))
        nenums = len(self.enums) - enums
        if nmembers > 0xFFFF or nenums > 0xFFFF:
            sys.exit("gen_models: shape %s too large" % name)
        return (P.add(name), first, P.add(err.get("code")), enums, nmembers, nenums, payload,
                err.get("httpStatusCode", 0), limits, TYPES[t], flags, TSFMT[s.get("timestampFormat")])

    def payload_streaming(self, shape_name):
        s = self.model["shapes"][shape_name]
        p = s.get("payload")
        if not p:
            return False
        ref = s["members"][p]
        target = self.model["shapes"][ref["shape"]]
        return bool(ref.get("streaming") or target.get("streaming")) and target["type"] in (
            "blob", "string")

    def build_ops(self):
        P = self.pool
        model = self.model
        proto = model["metadata"]["protocol"]
        for name in sorted(model["operations"]):
            op = model["operations"][name]
            http = op.get("http", {})
            method = http.get("method", "POST")
            if method not in METHODS:
                sys.exit("gen_models: unknown method %s" % method)
            inp = op.get("input")
            out = op.get("output")
            flags = 0
            if op.get("deprecated"):
                flags |= OF_DEPRECATED
            if inp and self.payload_streaming(inp["shape"]):
                flags |= OF_STREAM_IN
            if out and self.payload_streaming(out["shape"]):
                flags |= OF_STREAM_OUT
            if op.get("authtype") == "none":
                flags |= OF_AUTH_NONE
            if op.get("authtype") == "v4-unsigned-body":
                flags |= OF_UNSIGNED_BODY
            if (self.folder, name) in TEXT_ROOT_OPS:
                flags |= OF_TEXT_ROOT
            output_wire = None
            if proto == "rest-xml" and out:
                oshape = model["shapes"][out["shape"]]
                if self.folder == "s3" and name in S3_OUTPUT_ROOTS:
                    output_wire = S3_OUTPUT_ROOTS[name]
                else:
                    output_wire = out.get("locationName") or oshape.get("locationName")
            errs = len(self.errors)
            for e in op.get("errors", []):
                self.errors.append(self.index[e["shape"]])
            self.op_rows.append((
                P.add(name), P.add(http.get("requestUri", "/")),
                P.add(out.get("resultWrapper") if out else None),
                P.add(inp.get("locationName") if inp else None),
                P.add(inp.get("xmlNamespace", {}).get("uri") if inp else None),
                P.add(output_wire),
                self.index[inp["shape"]] + 1 if inp else 0,
                self.index[out["shape"]] + 1 if out else 0,
                errs, len(self.errors) - errs, http.get("responseCode", 0),
                len(self.op_rows), METHODS[method], flags))

    def emit(self, w):
        i = self.idx
        w("static const struct nb_member m%d_members[] = {\n" % i)
        for r in self.members:
            w("{%d,%d,%d,%d,%d,%d,%d},\n" % r)
        if not self.members:
            w("{0,0,0,0,0,0,0},\n")
        w("};\nstatic const struct nb_member_extra m%d_extras[] = {\n" % i)
        for r in self.extras:
            w("{%d,%d,%d},\n" % r)
        if not self.extras:
            w("{0,0,0},\n")
        w("};\nstatic const struct nb_shape m%d_shapes[] = {\n" % i)
        for r in self.shape_rows:
            w("{%d,%d,%d,%d,%d,%d,%d,%d,%d,%d,%d,%d},\n" % r)
        w("};\nstatic const struct nb_limits m%d_limits[] = {\n" % i)
        for lo, hi in self.limits:
            w("{%r,%r},\n" % (float(lo), float(hi)))
        if not self.limits:
            w("{0,0},\n")
        w("};\nstatic const uint16_t m%d_errors[] = {" % i)
        w(",".join(str(e) for e in self.errors) or "0")
        w("};\nstatic const uint32_t m%d_enums[] = {" % i)
        for k in range(0, len(self.enums), 16):
            w(",".join(str(e) for e in self.enums[k:k + 16]) + ",\n")
        if not self.enums:
            w("0")
        w("};\nstatic const struct nb_op m%d_ops[] = {\n" % i)
        for r in self.op_rows:
            w("{%d,%d,%d,%d,%d,%d,%d,%d,%d,%d,%d,%d,%d,%d,%d},\n" % (r[:12] + (i,) + r[12:]))
        w("};\n\n")

    def model_row(self):
        P = self.pool
        md = self.model["metadata"]
        proto = md["protocol"]
        if proto not in PROTOCOLS:
            sys.exit("gen_models: unknown protocol %s" % proto)
        i = self.idx
        return ("{nb_gen_strings,%d,%d,%d,%d,%d,%d,%d,%d,%d,%d,%d,%d,%d,m%d_ops,m%d_shapes,"
                "m%d_members,m%d_extras,m%d_errors,m%d_enums,m%d_limits}" % (
                    P.add(self.folder), P.add(proto), P.add(md["apiVersion"]),
                    P.add(md["endpointPrefix"]), P.add(md.get("signingName") or md["endpointPrefix"]),
                    P.add(md.get("targetPrefix")), P.add(md.get("jsonVersion")),
                    P.add(default_xml_namespace(self.model)), P.add(md.get("serviceId")),
                    PROTOCOLS[proto], 1 if "awsQueryCompatible" in md else 0,
                    len(self.op_rows), len(self.shape_rows),
                    i, i, i, i, i, i, i))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--services", required=True, help="services.def")
    ap.add_argument("--botocore", required=True, help="botocore data directory")
    ap.add_argument("--out", required=True, help="C file to write")
    ap.add_argument("--models", help="comma-separated model folders (overrides --services)")
    args = ap.parse_args()

    folders = args.models.split(",") if args.models else read_services(args.services)
    seen = set()
    folders = [f for f in folders if not (f in seen or seen.add(f))]
    pool = Pool()
    models = [load_model(args.botocore, f) for f in folders]
    if "s3" in folders:  # members AWS added after Debian's botocore (s3_model_additions.py)
        s3_model_additions.apply(models[folders.index("s3")])
    gens = [ModelGen(i, f, m, pool) for i, (f, m) in enumerate(zip(folders, models))]
    if "sqs" in folders:  # after every botocore model: the query model keeps the "sqs" aliases
        gens.append(ModelGen(len(gens), "sqs", sqs_json_variant(gens[folders.index("sqs")].model), pool))

    aliases, signing, targets = {}, {}, {}
    for g in gens:
        md = g.model["metadata"]
        sn = md.get("signingName") or md["endpointPrefix"]
        for a in (g.folder, md["endpointPrefix"], sn):
            aliases.setdefault(a, g.idx)  # first in services.def wins a shared prefix
        signing.setdefault(sn, g.idx)
        if md.get("targetPrefix"):
            targets.setdefault(md["targetPrefix"], g.idx)
    rows = [g.model_row() for g in gens]  # adds the metadata strings to the pool

    chunks = []
    w = chunks.append
    w("/* models.c: generated by tools/gen_models.py from botocore's models; do not edit. */\n")
    w('#include "proto/model_internal.h"\n\n')
    w("static const char nb_gen_strings[%d] =\n" % max(pool.size, 1))
    line = []
    for s in pool.parts:
        line.append('"%s\\0"' % c_string(s))
        if len(line) >= 8:
            w("  " + " ".join(line) + "\n")
            line = []
    if line:
        w("  " + " ".join(line) + "\n")
    w(";\n\n")
    for g in gens:
        g.emit(w)
    w("const struct nb_model nb_gen_models[] = {\n")
    for r in rows:
        w(r + ",\n")
    if not rows:
        w("{0}\n")
    w("};\nconst size_t nb_gen_nmodels = %d;\n\n" % len(rows))
    for cname, table in (("aliases", aliases), ("signing", signing), ("targets", targets)):
        w("const struct nb_model_alias nb_gen_%s[] = {\n" % cname)
        keys = sorted(table, key=lambda k: k.encode("utf-8"))
        for k in keys:
            w('{"%s",%d},\n' % (c_string(k), table[k]))
        if not keys:
            w('{"",0},\n')
        w("};\nconst size_t nb_gen_n%s = %d;\n\n" % (cname, len(keys)))

    text = "".join(chunks)
    tmp = args.out + ".tmp"
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with open(tmp, "w") as f:
        f.write(text)
    os.replace(tmp, args.out)


if __name__ == "__main__":
    main()
