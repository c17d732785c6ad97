/* test_proto.c: the model-driven protocol layer against the real generated models (sts, s3,
 * logs, lambda, ec2): operation matching, input decoding and validation, output and error
 * encoding, byte for byte where AWS's shape is fixed. */
#include <stdlib.h>
#include <time.h>

#include "proto/model_internal.h"
#include "unit.h"

/* ---- helpers ---- */

static nb_wire_req mkreq(const char *method, const char *path, const char *query,
                         const nb_header *h, size_t nh, const char *body)
{
    nb_wire_req w = {method, path, strlen(path),           query, query ? strlen(query) : 0, h,
                     nh,     body, body ? strlen(body) : 0};
    return w;
}

#define HDR(n, v)                                                                                  \
    {                                                                                              \
        (n), sizeof(n) - 1, (v), sizeof(v) - 1                                                     \
    }

static char *dump(json_t *v)
{
    return v ? json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY) : NULL;
}

#define CHECK_JSON(doc, expect)                                                                    \
    do {                                                                                           \
        char *d_ = dump(doc);                                                                      \
        CHECK_STR(d_, expect);                                                                     \
        free(d_);                                                                                  \
    } while (0)

/* Match + parse; checks the matched operation's name. Returns the document or NULL (e set). */
static json_t *parse_req(const nb_model *m, const char *want_op, nb_wire_req *w, nb_aws_error *e)
{
    nb_aws_error_clear(e);
    const nb_op *op = nb_proto_match(m, w, e);
    if (!op) {
        if (want_op) fprintf(stderr, "no match for %s: %s %s\n", want_op, e->code, e->message);
        CHECK(want_op == NULL);
        return NULL;
    }
    const char *name = nb_mstr(m, op->name); /* also right for the hand-made model below */
    CHECK_STR(name, want_op);
    if (!want_op || strcmp(name, want_op) != 0) return NULL;
    json_t *in = NULL;
    if (nb_proto_parse(m, op, w, &in, e) != 0) return NULL;
    return in;
}

static const char *hdr(const nb_wire_resp *r, const char *name)
{
    static char buf[512];
    for (size_t i = 0; i < r->nheaders; i++)
        if (nb_mem_ieq(r->headers[i].name, r->headers[i].name_len, name, strlen(name))) {
            snprintf(buf, sizeof(buf), "%.*s", (int)r->headers[i].value_len, r->headers[i].value);
            return buf;
        }
    return NULL;
}

/* Serialize a JSON text as the output of op; returns the body (owned by out). */
static const char *ser(const nb_model *m, const char *opname, const char *json, nb_arena *a,
                       nb_wire_resp *out)
{
    json_error_t err;
    json_t *doc = json ? json_loads(json, 0, &err) : NULL;
    if (json && !doc) fprintf(stderr, "bad test json: %s\n", err.text);
    const nb_op *op = nb_model_op(m, opname);
    CHECK(op != NULL);
    if (!op) return "";
    int rc = nb_proto_serialize(m, op, doc, "req-1", a, out);
    CHECK(rc == 0);
    json_decref(doc);
    return out->body.data ? out->body.data : "";
}

/* ---- models and helpers ---- */

static void test_models(void)
{
    const nb_model *sts = nb_model_find("sts"), *s3 = nb_model_find("s3"),
                   *logs = nb_model_find("logs"), *lam = nb_model_find("lambda"),
                   *ec2 = nb_model_find("ec2");
    CHECK(sts && s3 && logs && lam && ec2);
    CHECK(nb_model_find("nope") == NULL);
    CHECK(nb_model_find("STS") == NULL); /* lower-case only */
    CHECK_STR(nb_model_protocol(sts), "query");
    CHECK_STR(nb_model_protocol(s3), "rest-xml");
    CHECK_STR(nb_model_protocol(logs), "json");
    CHECK_STR(nb_model_protocol(lam), "rest-json");
    CHECK_STR(nb_model_protocol(ec2), "ec2");
    CHECK_STR(nb_model_api_version(sts), "2011-06-15");
    CHECK_STR(nb_model_endpoint_prefix(logs), "logs");
    CHECK_STR(nb_model_signing_name(s3), "s3");
    CHECK_STR(nb_model_target_prefix(logs), "Logs_20140328");
    CHECK(nb_model_target_prefix(sts) == NULL);
    CHECK(nb_model_by_target_prefix("Logs_20140328", 13) == logs);
    CHECK(nb_model_by_target_prefix("Logs_20140328.X", 13) == logs);
    CHECK(nb_model_by_target_prefix("Logs_2014032", 12) == NULL);
    CHECK(nb_model_by_signing_name("lambda") == lam);
    CHECK(nb_model_by_signing_name("zzz") == NULL);
    CHECK_STR(nb_model_name(ec2), "ec2");

    const nb_op *ar = nb_model_op(sts, "AssumeRole");
    CHECK(ar && strcmp(nb_op_name(ar), "AssumeRole") == 0);
    CHECK(ar && nb_model_op_at(sts, nb_op_index(ar)) == ar);
    CHECK(nb_model_op(sts, "AssumeRol") == NULL);
    CHECK(nb_model_op(sts, "AssumeRoleX") == NULL);
    CHECK(nb_model_nops(sts) == 8);
    CHECK(nb_model_op_at(sts, 8) == NULL);
    /* every op is found by its own name (the table is sorted) */
    int bad = 0;
    for (size_t i = 0; i < nb_model_nops(ec2); i++) {
        const nb_op *op = nb_model_op_at(ec2, i);
        if (nb_model_op(ec2, nb_op_name(op)) != op || nb_op_index(op) != i) bad++;
    }
    CHECK(bad == 0);
    CHECK(nb_op_streaming_input(nb_model_op(s3, "PutObject")));
    CHECK(nb_op_streaming_input(nb_model_op(s3, "UploadPart")));
    CHECK(!nb_op_streaming_output(nb_model_op(s3, "PutObject")));
    CHECK(nb_op_streaming_output(nb_model_op(s3, "GetObject")));
    CHECK(!nb_op_streaming_input(nb_model_op(s3, "PutBucketTagging")));
    CHECK(!nb_op_streaming_input(nb_model_op(lam, "Invoke")));
    CHECK(!nb_op_streaming_output(nb_model_op(lam, "Invoke")));
}

static void test_time(void)
{
    char b[32];
    nb_time_iso8601(0, b);
    CHECK_STR(b, "1970-01-01T00:00:00.000Z");
    nb_time_iso8601(1398796238.5, b);
    CHECK_STR(b, "2014-04-29T18:30:38.500Z");
    nb_time_iso8601(1700000000.9996, b);
    CHECK_STR(b, "2023-11-14T22:13:21.000Z");
    nb_time_iso8601(951782400, b); /* leap day 2000 */
    CHECK_STR(b, "2000-02-29T00:00:00.000Z");
    nb_time_rfc822(1398796238, b);
    CHECK_STR(b, "Tue, 29 Apr 2014 18:30:38 GMT");
    nb_time_rfc822(0, b);
    CHECK_STR(b, "Thu, 01 Jan 1970 00:00:00 GMT");
    /* Last-Modified is formatted by hand: it must agree with strftime (years 1000-9999; below,
     * strftime drops the leading zeros that HTTP dates keep). */
    int rfc_bad = 0;
    for (int64_t t = -30610224000LL; t < 253402300800LL; t += 86399LL * 37 + 3601) {
        time_t tt = (time_t)t;
        struct tm tm;
        char want[64];
        gmtime_r(&tt, &tm);
        strftime(want, sizeof want, "%a, %d %b %Y %H:%M:%S GMT", &tm);
        nb_time_rfc822((double)t, b);
        if (strcmp(b, want) != 0 && rfc_bad++ < 3) CHECK_STR(b, want);
    }
    CHECK(rfc_bad == 0);
    nb_time_rfc822(-62135596800.0, b); /* year 1: four digits, as before */
    CHECK_STR(b, "Mon, 01 Jan 0001 00:00:00 GMT");
    nb_time_epoch(1398796238, b);
    CHECK_STR(b, "1398796238");
    nb_time_epoch(1398796238.25, b);
    CHECK_STR(b, "1398796238.25");

    static const struct {
        const char *s;
        double t;
    } ok[] = {
        {"2014-04-29T18:30:38Z", 1398796238},
        {"2014-04-29T18:30:38.500Z", 1398796238.5},
        {"2014-04-29T18:30:38.123456Z", 1398796238.123456},
        {"2014-04-29T20:30:38+02:00", 1398796238},
        {"2014-04-29T17:30:38-0100", 1398796238},
        {"2014-04-29T18:30:38", 1398796238},
        {"2014-04-29", 1398729600},
        {"Tue, 29 Apr 2014 18:30:38 GMT", 1398796238},
        {"29 Apr 2014 18:30:38 GMT", 1398796238},
        {"Tuesday, 29-Apr-14 18:30:38 GMT", 1398796238},
        {"Tue, 29 Apr 2014 20:30:38 +0200", 1398796238},
        {"1398796238", 1398796238},
        {"1398796238.5", 1398796238.5},
        {"1.398796238E9", 1398796238},
        {" 1398796238 ", 1398796238},
    };
    for (size_t i = 0; i < NB_ARRAY_LEN(ok); i++) {
        double t = -1;
        int rc = nb_time_parse(ok[i].s, strlen(ok[i].s), &t);
        if (rc != 0 || t < ok[i].t - 1e-6 || t > ok[i].t + 1e-6)
            fprintf(stderr, "time parse %s -> %d %f\n", ok[i].s, rc, t);
        CHECK(rc == 0 && t > ok[i].t - 1e-6 && t < ok[i].t + 1e-6);
    }
    static const char *bad[] = {"",
                                "abc",
                                "2014-13-01T00:00:00Z",
                                "2014-02-30",
                                "2014-04-29T25:00:00Z",
                                "2014-04-29T18:30:38Zjunk",
                                "Tue, 29 Foo 2014 18:30:38 GMT",
                                "12a",
                                "2014-04-29T18:30",
                                "--1",
                                "."};
    for (size_t i = 0; i < NB_ARRAY_LEN(bad); i++) {
        double t;
        int rc = nb_time_parse(bad[i], strlen(bad[i]), &t);
        if (rc == 0 && strcmp(bad[i], "2014-04-29T18:30") != 0)
            fprintf(stderr, "time parse accepted %s\n", bad[i]);
        if (strcmp(bad[i], "2014-04-29T18:30") == 0)
            CHECK(rc == 0); /* minutes precision is valid ISO 8601 */
        else
            CHECK(rc == -1);
    }

    nb_buf x;
    nb_buf_init(&x);
    nb_xml_escape(&x, "a<b>&\"c'\r\x01\n", 11);
    CHECK_STR(x.data, "a&lt;b&gt;&amp;&quot;c'&#13;&#x1;\n");
    nb_buf_free(&x);
    nb_buf_init(&x);
    nb_json_escape(&x, "q\"\\\n\x02\xc3\xa9", 7);
    CHECK_STR(x.data, "\"q\\\"\\\\\\n\\u0002\xc3\xa9\"");
    nb_buf_free(&x);

    char d[32];
    nb_fmt_double(1.5, d);
    CHECK_STR(d, "1.5");
    nb_fmt_double(0.1, d);
    CHECK_STR(d, "0.1");
    nb_fmt_double(3, d);
    CHECK_STR(d, "3.0");
}

static void test_errors(void)
{
    nb_aws_error e = {0};
    CHECK(nb_aws_error_set(&e, 404, "NoSuchKey", "The specified key %s.", "does not exist") == -1);
    CHECK(e.status == 404 && e.sender_fault);
    CHECK_STR(e.code, "NoSuchKey");
    CHECK_STR(e.message, "The specified key does not exist.");
    e.extra = json_pack("{s:s}", "Key", "k");
    nb_aws_error_set(&e, 500, "InternalError", "x"); /* frees extra */
    CHECK(e.extra == NULL && !e.sender_fault);
    nb_aws_error_clear(&e);
    CHECK(e.status == 0 && e.code[0] == 0);
}

/* ---- query: STS ---- */

static void test_sts(void)
{
    const nb_model *m = nb_model_find("sts");
    nb_aws_error e = {0};
    const char *body =
        "Action=AssumeRole&Version=2011-06-15"
        "&RoleArn=arn%3Aaws%3Aiam%3A%3A123456789012%3Arole%2Fdemo&RoleSessionName=s+1"
        "&DurationSeconds=3600&PolicyArns.member.1.arn=arn%3Aaws%3Aiam%3A%3Aaws%3Apolicy%2Fone"
        "&PolicyArns.member.2.arn=arn%3Aaws%3Aiam%3A%3Aaws%3Apolicy%2Ftwo"
        "&Tags.member.2.Key=k2&Tags.member.2.Value=v2&Tags.member.1.Key=k1&Tags.member.1.Value=v1"
        "&TransitiveTagKeys.member.1=k1";
    nb_header h[] = {HDR("Content-Type", "application/x-www-form-urlencoded")};
    nb_wire_req w = mkreq("POST", "/", "", h, 1, body);
    json_t *in = parse_req(m, "AssumeRole", &w, &e);
    CHECK_JSON(
        in, "{\"DurationSeconds\":3600,\"PolicyArns\":[{\"arn\":\"arn:aws:iam::aws:policy/one\"},"
            "{\"arn\":\"arn:aws:iam::aws:policy/"
            "two\"}],\"RoleArn\":\"arn:aws:iam::123456789012:role/demo\","
            "\"RoleSessionName\":\"s "
            "1\",\"Tags\":[{\"Key\":\"k1\",\"Value\":\"v1\"},{\"Key\":\"k2\",\"Value\":\"v2\"}],"
            "\"TransitiveTagKeys\":[\"k1\"]}");
    json_decref(in);

    /* GET with the parameters in the query string; lists of 12 keep numeric order */
    nb_buf q;
    nb_buf_init(&q);
    nb_buf_puts(&q, "Action=AssumeRole&Version=2011-06-15&RoleArn=arn:aws:iam::123456789012:role/"
                    "demo&RoleSessionName=s1");
    for (int i = 12; i >= 1; i--)
        nb_buf_printf(&q, "&TransitiveTagKeys.member.%d=k%d", i, i);
    w = mkreq("GET", "/", q.data, NULL, 0, NULL);
    in = parse_req(m, "AssumeRole", &w, &e);
    CHECK_JSON(
        json_object_get(in, "TransitiveTagKeys"),
        "[\"k1\",\"k2\",\"k3\",\"k4\",\"k5\",\"k6\",\"k7\",\"k8\",\"k9\",\"k10\",\"k11\",\"k12\"]");
    json_decref(in);
    nb_buf_free(&q);

    /* an empty list is sent as "Name=" */
    w = mkreq("POST", "/", NULL, NULL, 0,
              "Action=AssumeRole&RoleArn=arn:aws:iam::123456789012:role/"
              "demo&RoleSessionName=s1&PolicyArns=");
    in = parse_req(m, "AssumeRole", &w, &e);
    CHECK_JSON(json_object_get(in, "PolicyArns"), "[]");
    json_decref(in);

    w = mkreq("POST", "/", NULL, NULL, 0, "Action=GetCallerIdentity&Version=2011-06-15");
    in = parse_req(m, "GetCallerIdentity", &w, &e);
    CHECK_JSON(in, "{}");
    json_decref(in);

    /* validation, as STS words it */
    w = mkreq("POST", "/", NULL, NULL, 0,
              "Action=AssumeRole&Version=2011-06-15&RoleSessionName=s1");
    CHECK(parse_req(m, "AssumeRole", &w, &e) == NULL);
    CHECK(e.status == 400);
    CHECK_STR(e.code, "ValidationError");
    CHECK_STR(e.message, "1 validation error detected: Value null at 'roleArn' failed to satisfy "
                         "constraint: Member must not be null");
    w = mkreq("POST", "/", NULL, NULL, 0, "Action=AssumeRole&Version=2011-06-15");
    CHECK(parse_req(m, "AssumeRole", &w, &e) == NULL);
    CHECK_STR(e.message,
              "2 validation errors detected: Value null at 'roleArn' failed to satisfy "
              "constraint: Member must not be null; Value null at 'roleSessionName' failed "
              "to satisfy constraint: Member must not be null");
    w = mkreq("POST", "/", NULL, NULL, 0,
              "Action=AssumeRole&RoleArn=arn:aws:iam::123456789012:role/"
              "demo&RoleSessionName=s1&DurationSeconds=100");
    CHECK(parse_req(m, "AssumeRole", &w, &e) == NULL);
    CHECK_STR(e.message, "1 validation error detected: Value '100' at 'durationSeconds' failed to "
                         "satisfy constraint: Member must have value greater than or equal to 900");
    w = mkreq("POST", "/", NULL, NULL, 0, "Action=AssumeRole&RoleArn=short&RoleSessionName=s1");
    CHECK(parse_req(m, "AssumeRole", &w, &e) == NULL);
    CHECK_STR(e.message, "1 validation error detected: Value 'short' at 'roleArn' failed to "
                         "satisfy constraint: Member must have length greater than or equal to 20");
    w = mkreq("POST", "/", NULL, NULL, 0,
              "Action=AssumeRole&RoleArn=arn:aws:iam::123456789012:role/"
              "demo&RoleSessionName=s1&Tags.member.1.Key=k");
    CHECK(parse_req(m, "AssumeRole", &w, &e) == NULL);
    CHECK_STR(e.message, "1 validation error detected: Value null at 'tags.1.member.value' failed "
                         "to satisfy constraint: Member must not be null");
    w = mkreq("POST", "/", NULL, NULL, 0,
              "Action=AssumeRole&RoleArn=arn:aws:iam::123456789012:role/"
              "demo&RoleSessionName=s1&DurationSeconds=abc");
    CHECK(parse_req(m, "AssumeRole", &w, &e) == NULL);
    CHECK_STR(e.code, "ValidationError");
    CHECK(strstr(e.message, "'abc' at 'durationSeconds'") != NULL);

    /* operation matching */
    w = mkreq("POST", "/", NULL, NULL, 0, "Version=2011-06-15");
    CHECK(parse_req(m, NULL, &w, &e) == NULL);
    CHECK_STR(e.code, "MissingAction");
    w = mkreq("POST", "/", NULL, NULL, 0, "Action=Nope&Version=2011-06-15");
    CHECK(parse_req(m, NULL, &w, &e) == NULL);
    CHECK_STR(e.code, "InvalidAction");
    CHECK_STR(e.message, "Could not find operation Nope for version 2011-06-15");
    CHECK(e.status == 400);

    /* output */
    nb_arena *a = nb_arena_new(4096);
    nb_wire_resp r;
    const char *b = ser(m, "GetCallerIdentity",
                        "{\"UserId\":\"AIDAEXAMPLE\",\"Account\":\"000000000000\",\"Arn\":\"arn:"
                        "aws:iam::000000000000:root\"}",
                        a, &r);
    CHECK_STR(b,
              "<GetCallerIdentityResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">"
              "<GetCallerIdentityResult><UserId>AIDAEXAMPLE</UserId><Account>000000000000</Account>"
              "<Arn>arn:aws:iam::000000000000:root</Arn></GetCallerIdentityResult>"
              "<ResponseMetadata><RequestId>req-1</RequestId></ResponseMetadata>"
              "</GetCallerIdentityResponse>");
    CHECK(r.status == 200);
    CHECK_STR(hdr(&r, "Content-Type"), "text/xml");
    CHECK_STR(hdr(&r, "x-amzn-RequestId"), "req-1");
    nb_buf_free(&r.body);

    b = ser(m, "AssumeRole",
            "{\"Credentials\":{\"AccessKeyId\":\"ASIA1\",\"SecretAccessKey\":\"s<&>\","
            "\"SessionToken\":\"t\","
            "\"Expiration\":1700000000},\"AssumedRoleUser\":{\"AssumedRoleId\":\"AROA1:s\",\"Arn\":"
            "\"arn\"},"
            "\"PackedPolicySize\":6,\"Unknown\":1}",
            a, &r);
    CHECK_STR(
        b,
        "<AssumeRoleResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><AssumeRoleResult>"
        "<Credentials><AccessKeyId>ASIA1</AccessKeyId><SecretAccessKey>s&lt;&amp;&gt;</"
        "SecretAccessKey>"
        "<SessionToken>t</SessionToken><Expiration>2023-11-14T22:13:20.000Z</Expiration></"
        "Credentials>"
        "<AssumedRoleUser><AssumedRoleId>AROA1:s</AssumedRoleId><Arn>arn</Arn></AssumedRoleUser>"
        "<PackedPolicySize>6</PackedPolicySize></AssumeRoleResult>"
        "<ResponseMetadata><RequestId>req-1</RequestId></ResponseMetadata></AssumeRoleResponse>");
    nb_buf_free(&r.body);
    /* timestamps given as ISO text are re-written in the protocol's format */
    b = ser(m, "AssumeRole", "{\"Credentials\":{\"Expiration\":\"2023-11-14T23:13:20+01:00\"}}", a,
            &r);
    CHECK(strstr(b, "<Expiration>2023-11-14T22:13:20.000Z</Expiration>") != NULL);
    nb_buf_free(&r.body);

    /* errors */
    nb_aws_error_set(&e, 400, "ValidationError", "Bad <thing>");
    CHECK(nb_proto_serialize_error(m, NULL, &e, "req-1", NULL, a, &r) == 0);
    CHECK_STR(r.body.data,
              "<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><Error>"
              "<Type>Sender</Type><Code>ValidationError</Code><Message>Bad &lt;thing&gt;</Message>"
              "</Error><RequestId>req-1</RequestId></ErrorResponse>");
    CHECK(r.status == 400);
    CHECK_STR(hdr(&r, "Content-Type"), "text/xml");
    CHECK_STR(hdr(&r, "x-amzn-RequestId"), "req-1");
    nb_buf_free(&r.body);
    nb_aws_error_set(&e, 500, "InternalFailure", "oops");
    nb_proto_serialize_error(NULL, NULL, &e, "req-2", NULL, a, &r);
    CHECK_STR(r.body.data,
              "<ErrorResponse><Error><Type>Receiver</Type><Code>InternalFailure</Code>"
              "<Message>oops</Message></Error><RequestId>req-2</RequestId></ErrorResponse>");
    CHECK(r.status == 500);
    nb_buf_free(&r.body);
    nb_aws_error_clear(&e);
    nb_arena_free(a);
}

/* ---- ec2 ---- */

static void test_ec2(void)
{
    const nb_model *m = nb_model_find("ec2");
    nb_aws_error e = {0};
    nb_wire_req w =
        mkreq("POST", "/", NULL, NULL, 0,
              "Action=DescribeRegions&Version=2016-11-15&Filter.1.Name=region-name"
              "&Filter.1.Value.1=us-east-1&Filter.1.Value.2=eu-west-1&Filter.2.Name=opt-in-status"
              "&Filter.2.Value.1=opted-in&RegionName.1=us-east-1&AllRegions=true&DryRun=false");
    json_t *in = parse_req(m, "DescribeRegions", &w, &e);
    CHECK_JSON(
        in,
        "{\"AllRegions\":true,\"DryRun\":false,\"Filters\":[{\"Name\":\"region-name\",\"Values\":"
        "[\"us-east-1\",\"eu-west-1\"]},{\"Name\":\"opt-in-status\",\"Values\":[\"opted-in\"]}],"
        "\"RegionNames\":[\"us-east-1\"]}");
    json_decref(in);

    w = mkreq("POST", "/", NULL, NULL, 0,
              "Action=DescribeInstanceAttribute&Version=2016-11-15&InstanceId=i-1");
    CHECK(parse_req(m, "DescribeInstanceAttribute", &w, &e) == NULL);
    CHECK_STR(e.code, "MissingParameter");
    CHECK_STR(e.message, "The request must contain the parameter Attribute");
    w = mkreq("POST", "/", NULL, NULL, 0, "Action=DescribeInstances&MaxResults=abc");
    CHECK(parse_req(m, "DescribeInstances", &w, &e) == NULL);
    CHECK_STR(e.code, "InvalidParameterValue");
    w = mkreq("POST", "/", NULL, NULL, 0, "Action=DescribeUnicorns&Version=2016-11-15");
    CHECK(parse_req(m, NULL, &w, &e) == NULL);
    CHECK_STR(e.code, "InvalidAction");
    CHECK_STR(e.message, "The action DescribeUnicorns is not valid for this web service.");

    nb_arena *a = nb_arena_new(4096);
    nb_wire_resp r;
    const char *b = ser(
        m, "DescribeRegions",
        "{\"Regions\":[{\"Endpoint\":\"ec2.us-east-1.amazonaws.com\",\"RegionName\":\"us-east-1\","
        "\"OptInStatus\":\"opt-in-not-required\"}]}",
        a, &r);
    CHECK_STR(
        b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<DescribeRegionsResponse "
           "xmlns=\"http://ec2.amazonaws.com/doc/2016-11-15/\"><requestId>req-1</requestId>"
           "<regionInfo><item><regionEndpoint>ec2.us-east-1.amazonaws.com</regionEndpoint>"
           "<regionName>us-east-1</regionName><optInStatus>opt-in-not-required</optInStatus></item>"
           "</regionInfo></DescribeRegionsResponse>");
    CHECK(hdr(&r, "x-amzn-RequestId") == NULL);
    nb_buf_free(&r.body);
    b = ser(m, "DescribeRegions", "{\"Regions\":[]}", a, &r);
    CHECK(strstr(b, "<requestId>req-1</requestId><regionInfo/></DescribeRegionsResponse>") != NULL);
    nb_buf_free(&r.body);

    nb_aws_error_set(&e, 400, "InvalidInstanceID.NotFound", "The instance ID 'i-1' does not exist");
    nb_proto_serialize_error(m, NULL, &e, "req-1", NULL, a, &r);
    CHECK_STR(r.body.data,
              "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Response><Errors><Error>"
              "<Code>InvalidInstanceID.NotFound</Code><Message>The instance ID 'i-1' does not exist"
              "</Message></Error></Errors><RequestID>req-1</RequestID></Response>");
    nb_buf_free(&r.body);
    nb_aws_error_clear(&e);
    nb_arena_free(a);
}

/* ---- json: logs ---- */

static void test_logs(void)
{
    const nb_model *m = nb_model_find("logs");
    nb_aws_error e = {0};
    nb_header h[] = {HDR("X-Amz-Target", "Logs_20140328.DescribeLogGroups"),
                     HDR("Content-Type", "application/x-amz-json-1.1")};
    nb_wire_req w = mkreq(
        "POST", "/", NULL, h, 2,
        "{\"logGroupNamePrefix\":\"/aws/\",\"limit\":5,\"includeLinkedAccounts\":false,\"x\":1}");
    json_t *in = parse_req(m, "DescribeLogGroups", &w, &e);
    CHECK_JSON(in,
               "{\"includeLinkedAccounts\":false,\"limit\":5,\"logGroupNamePrefix\":\"/aws/\"}");
    json_decref(in);
    w.body = "";
    w.body_len = 0;
    in = parse_req(m, "DescribeLogGroups", &w, &e);
    CHECK_JSON(in, "{}");
    json_decref(in);

    w.body = "{\"limit\":0}";
    w.body_len = strlen(w.body);
    CHECK(parse_req(m, "DescribeLogGroups", &w, &e) == NULL);
    CHECK_STR(e.code, "ValidationException");
    CHECK_STR(e.message, "1 validation error detected: Value '0' at 'limit' failed to satisfy "
                         "constraint: Member must have value greater than or equal to 1");
    w.body = "{\"limit\":\"abc\"}";
    w.body_len = strlen(w.body);
    CHECK(parse_req(m, "DescribeLogGroups", &w, &e) == NULL);
    CHECK_STR(e.code, "SerializationException");
    /* Coral names the JSON token, not the member */
    CHECK_STR(e.message, "STRING_VALUE can not be converted to an Integer");
    w.body = "{\"logGroupNamePrefix\":{}}";
    w.body_len = strlen(w.body);
    CHECK(parse_req(m, "DescribeLogGroups", &w, &e) == NULL);
    CHECK_STR(e.message, "Start of structure or map found where not expected.");
    w.body = "{\"limit\":";
    w.body_len = strlen(w.body);
    CHECK(parse_req(m, "DescribeLogGroups", &w, &e) == NULL);
    CHECK_STR(e.code, "SerializationException");
    CHECK(e.status == 400);
    w.body = "[1]";
    w.body_len = strlen(w.body);
    CHECK(parse_req(m, "DescribeLogGroups", &w, &e) == NULL);
    CHECK_STR(e.code, "SerializationException");

    nb_header h2[] = {HDR("X-Amz-Target", "Logs_20140328.CreateLogGroup")};
    w = mkreq("POST", "/", NULL, h2, 1, "{}");
    CHECK(parse_req(m, "CreateLogGroup", &w, &e) == NULL);
    CHECK_STR(e.message, "1 validation error detected: Value null at 'logGroupName' failed to "
                         "satisfy constraint: Member must not be null");
    nb_header h3[] = {HDR("X-Amz-Target", "Logs_20140328.PutLogEvents")};
    w = mkreq("POST", "/", NULL, h3, 1,
              "{\"logGroupName\":\"g\",\"logStreamName\":\"s\",\"logEvents\":[{\"timestamp\":"
              "1700000000000,\"message\":\"hi\"},{\"message\":\"x\"}]}");
    CHECK(parse_req(m, "PutLogEvents", &w, &e) == NULL);
    CHECK_STR(e.message,
              "1 validation error detected: Value null at 'logEvents.2.member.timestamp' "
              "failed to satisfy constraint: Member must not be null");

    /* a list too long is printed as Java prints it, whole elements only, then "..." */
    nb_header h6[] = {HDR("X-Amz-Target", "Logs_20140328.FilterLogEvents")};
    nb_buf lb;
    nb_buf_init(&lb);
    nb_buf_puts(&lb, "{\"logGroupName\":\"g\",\"logStreamNames\":[");
    for (int i = 0; i < 101; i++)
        nb_buf_printf(&lb, "%s\"stream-%03d\"", i ? "," : "", i);
    nb_buf_puts(&lb, "]}");
    w = mkreq("POST", "/", NULL, h6, 1, lb.data);
    CHECK(parse_req(m, "FilterLogEvents", &w, &e) == NULL);
    CHECK(strncmp(e.message,
                  "1 validation error detected: Value '[stream-000, stream-001, stream-002, ",
                  73) == 0);
    const char *tail = ", ...]' at 'logStreamNames' failed to satisfy constraint: Member must "
                       "have length less than or equal to 100";
    CHECK(strlen(e.message) > strlen(tail) &&
          strcmp(e.message + strlen(e.message) - strlen(tail), tail) == 0);
    CHECK(strstr(e.message, ", ,") == NULL);
    nb_buf_free(&lb);

    nb_header h4[] = {HDR("X-Amz-Target", "Logs_20140328.Nope")};
    w = mkreq("POST", "/", NULL, h4, 1, "{}");
    CHECK(parse_req(m, NULL, &w, &e) == NULL);
    CHECK_STR(e.code, "UnknownOperationException");
    nb_header h5[] = {HDR("X-Amz-Target", "Other_1.DescribeLogGroups")};
    w = mkreq("POST", "/", NULL, h5, 1, "{}");
    CHECK(parse_req(m, NULL, &w, &e) == NULL);
    CHECK_STR(e.code, "UnknownOperationException");

    nb_arena *a = nb_arena_new(4096);
    nb_wire_resp r;
    const char *b =
        ser(m, "DescribeLogGroups",
            "{\"logGroups\":[{\"logGroupName\":\"g\\\"1\",\"creationTime\":1700000000000,"
            "\"storedBytes\":0,\"retentionInDays\":null}],\"nextToken\":\"n\"}",
            a, &r);
    CHECK_STR(b, "{\"logGroups\":[{\"logGroupName\":\"g\\\"1\",\"creationTime\":1700000000000,"
                 "\"storedBytes\":0}],"
                 "\"nextToken\":\"n\"}");
    CHECK_STR(hdr(&r, "Content-Type"), "application/x-amz-json-1.1");
    CHECK_STR(hdr(&r, "x-amzn-RequestId"), "req-1");
    nb_buf_free(&r.body);
    b = ser(m, "CreateLogGroup", NULL, a, &r);
    CHECK_STR(b, "{}");
    nb_buf_free(&r.body);

    nb_aws_error_set(&e, 400, "ResourceNotFoundException",
                     "The specified log group does not exist.");
    nb_proto_serialize_error(m, NULL, &e, "req-1", NULL, a, &r);
    CHECK_STR(r.body.data, "{\"__type\":\"ResourceNotFoundException\",\"message\":\"The specified "
                           "log group does not exist.\"}");
    CHECK_STR(hdr(&r, "Content-Type"), "application/x-amz-json-1.1");
    CHECK(r.status == 400);
    nb_buf_free(&r.body);
    nb_aws_error_clear(&e);
    nb_arena_free(a);
}

/* ---- rest-json: lambda ---- */

static void test_lambda(void)
{
    const nb_model *m = nb_model_find("lambda");
    nb_aws_error e = {0};
    nb_wire_req w =
        mkreq("GET", "/2015-03-31/functions/", "MaxItems=10&Marker=abc%3D", NULL, 0, NULL);
    json_t *in = parse_req(m, "ListFunctions", &w, &e);
    CHECK_JSON(in, "{\"Marker\":\"abc=\",\"MaxItems\":10}");
    json_decref(in);
    w = mkreq("GET", "/2015-03-31/functions", "", NULL, 0, NULL);
    in = parse_req(m, "ListFunctions", &w, &e);
    CHECK_JSON(in, "{}");
    json_decref(in);
    w = mkreq("GET", "/2015-03-31/functions/", "MaxItems=0", NULL, 0, NULL);
    CHECK(parse_req(m, "ListFunctions", &w, &e) == NULL);
    CHECK_STR(e.code, "ValidationException");
    CHECK_STR(e.message, "1 validation error detected: Value '0' at 'maxItems' failed to satisfy "
                         "constraint: Member must have value greater than or equal to 1");

    w = mkreq("GET",
              "/2015-03-31/functions/arn%3Aaws%3Alambda%3Aus-east-1%3A000000000000%3Afunction%3Af1",
              "Qualifier=%24LATEST", NULL, 0, NULL);
    in = parse_req(m, "GetFunction", &w, &e);
    CHECK_JSON(in, "{\"FunctionName\":\"arn:aws:lambda:us-east-1:000000000000:function:f1\","
                   "\"Qualifier\":\"$LATEST\"}");
    json_decref(in);

    nb_header h[] = {HDR("X-Amz-Invocation-Type", "Event"), HDR("X-Amz-Log-Type", "Tail")};
    w = mkreq("POST", "/2015-03-31/functions/my-fn/invocations", NULL, h, 2, "{\"a\":1}");
    in = parse_req(m, "Invoke", &w, &e);
    CHECK_JSON(in, "{\"FunctionName\":\"my-fn\",\"InvocationType\":\"Event\",\"LogType\":\"Tail\","
                   "\"Payload\":\"eyJhIjoxfQ==\"}");
    json_decref(in);

    w = mkreq("POST", "/2015-03-31/functions", NULL, NULL, 0,
              "{\"FunctionName\":\"f\",\"Role\":\"arn:aws:iam::000000000000:role/"
              "r\",\"Runtime\":\"python3.9\","
              "\"Handler\":\"h.h\",\"Code\":{\"ZipFile\":\"UEsDBA==\"},\"Timeout\":30,"
              "\"Environment\":{\"Variables\":{\"A\":\"1\"}},\"Publish\":true}");
    in = parse_req(m, "CreateFunction", &w, &e);
    CHECK_JSON(in,
               "{\"Code\":{\"ZipFile\":\"UEsDBA==\"},\"Environment\":{\"Variables\":{\"A\":\"1\"}},"
               "\"FunctionName\":\"f\",\"Handler\":\"h.h\",\"Publish\":true,\"Role\":\"arn:aws:iam:"
               ":000000000000:role/r\","
               "\"Runtime\":\"python3.9\",\"Timeout\":30}");
    json_decref(in);
    w.body = "{\"FunctionName\":\"f\",\"Role\":\"r\",\"Code\":{\"ZipFile\":\"!!notbase64\"}}";
    w.body_len = strlen(w.body);
    CHECK(parse_req(m, "CreateFunction", &w, &e) == NULL);
    CHECK_STR(e.code, "InvalidRequestContentException");
    w.body = "{nope";
    w.body_len = strlen(w.body);
    CHECK(parse_req(m, "CreateFunction", &w, &e) == NULL);
    CHECK_STR(e.code, "InvalidRequestContentException");

    w = mkreq("PUT", "/2019-09-25/functions/f/event-invoke-config", NULL, NULL, 0,
              "{\"MaximumRetryAttempts\":5}");
    CHECK(parse_req(m, "PutFunctionEventInvokeConfig", &w, &e) == NULL);
    CHECK_STR(e.message,
              "1 validation error detected: Value '5' at 'maximumRetryAttempts' failed to "
              "satisfy constraint: Member must have value less than or equal to 2");

    w = mkreq("GET", "/2018-10-31/layers", "find=LayerVersion&Arn=arn%3Ax", NULL, 0, NULL);
    in = parse_req(m, "GetLayerVersionByArn", &w, &e);
    CHECK_JSON(in, "{\"Arn\":\"arn:x\"}");
    json_decref(in);
    w = mkreq("GET", "/2018-10-31/layers", "", NULL, 0, NULL);
    in = parse_req(m, "ListLayers", &w, &e);
    json_decref(in);
    w = mkreq("GET", "/2018-10-31/layers/L/versions/7", NULL, NULL, 0, NULL);
    in = parse_req(m, "GetLayerVersion", &w, &e);
    CHECK_JSON(in, "{\"LayerName\":\"L\",\"VersionNumber\":7}");
    json_decref(in);
    w = mkreq("GET", "/2015-03-31/nothing-here", NULL, NULL, 0, NULL);
    CHECK(parse_req(m, NULL, &w, &e) == NULL);
    CHECK_STR(e.code, "UnknownOperationException");
    CHECK(e.status == 404);

    nb_arena *a = nb_arena_new(4096);
    nb_wire_resp r;
    const char *b =
        ser(m, "Invoke",
            "{\"StatusCode\":202,\"FunctionError\":\"Unhandled\",\"Payload\":\"eyJhIjoxfQ==\","
            "\"ExecutedVersion\":\"$LATEST\"}",
            a, &r);
    CHECK_STR(b, "{\"a\":1}");
    CHECK(r.status == 202);
    CHECK_STR(hdr(&r, "X-Amz-Function-Error"), "Unhandled");
    CHECK_STR(hdr(&r, "X-Amz-Executed-Version"), "$LATEST");
    CHECK_STR(hdr(&r, "x-amzn-RequestId"), "req-1");
    nb_buf_free(&r.body);
    b = ser(m, "GetFunctionEventInvokeConfig",
            "{\"LastModified\":1700000000.5,\"FunctionArn\":\"arn\",\"MaximumRetryAttempts\":1}", a,
            &r);
    CHECK_STR(b,
              "{\"LastModified\":1700000000.5,\"FunctionArn\":\"arn\",\"MaximumRetryAttempts\":1}");
    CHECK_STR(hdr(&r, "Content-Type"), "application/json");
    nb_buf_free(&r.body);
    b = ser(m, "ListFunctions",
            "{\"Functions\":[{\"FunctionName\":\"f\",\"Timeout\":3,\"Environment\":"
            "{\"Variables\":{\"A\":\"1\"}}}]}",
            a, &r);
    CHECK_STR(b, "{\"Functions\":[{\"FunctionName\":\"f\",\"Timeout\":3,\"Environment\":{"
                 "\"Variables\":{\"A\":\"1\"}}}]}");
    nb_buf_free(&r.body);
    b = ser(m, "DeleteFunction", NULL, a, &r);
    CHECK_STR(b, "");
    CHECK(r.status == 204);
    nb_buf_free(&r.body);

    nb_aws_error_set(&e, 404, "ResourceNotFoundException", "Function not found: arn:f");
    nb_proto_serialize_error(m, NULL, &e, "req-1", NULL, a, &r);
    CHECK_STR(r.body.data, "{\"Type\":\"User\",\"Message\":\"Function not found: arn:f\"}");
    CHECK_STR(hdr(&r, "x-amzn-ErrorType"), "ResourceNotFoundException");
    CHECK(r.status == 404);
    nb_buf_free(&r.body);
    nb_aws_error_set(&e, 400, "ValidationException", "bad");
    nb_proto_serialize_error(m, NULL, &e, "req-1", NULL, a, &r);
    CHECK_STR(r.body.data, "{\"message\":\"bad\"}");
    nb_buf_free(&r.body);
    nb_aws_error_clear(&e);
    nb_arena_free(a);
}

/* ---- rest-xml: s3 ---- */

static void test_s3_match(void)
{
    const nb_model *m = nb_model_find("s3");
    nb_aws_error e = {0};
    static const struct {
        const char *method, *path, *query, *hname, *hval, *op;
    } cases[] = {
        {"GET", "/", "", NULL, NULL, "ListBuckets"},
        {"GET", "/b", "", NULL, NULL, "ListObjects"},
        {"GET", "/b/", "", NULL, NULL, "ListObjects"},
        {"GET", "/b", "prefix=a&delimiter=%2F", NULL, NULL, "ListObjects"},
        {"GET", "/b", "list-type=2&prefix=a", NULL, NULL, "ListObjectsV2"},
        {"GET", "/b", "prefix=a&list-type=2", NULL, NULL, "ListObjectsV2"},
        {"GET", "/b", "list-type=1", NULL, NULL, "ListObjects"},
        {"GET", "/b", "tagging", NULL, NULL, "GetBucketTagging"},
        {"GET", "/b", "tagging=", NULL, NULL, "GetBucketTagging"},
        {"GET", "/b", "location", NULL, NULL, "GetBucketLocation"},
        {"GET", "/b", "versions&prefix=x", NULL, NULL, "ListObjectVersions"},
        {"GET", "/b", "uploads", NULL, NULL, "ListMultipartUploads"},
        {"GET", "/b", "analytics", NULL, NULL, "ListBucketAnalyticsConfigurations"},
        {"GET", "/b", "analytics&id=x", NULL, NULL, "GetBucketAnalyticsConfiguration"},
        {"GET", "/b", "lifecycle", NULL, NULL, "GetBucketLifecycleConfiguration"},
        {"GET", "/b", "notification", NULL, NULL, "GetBucketNotificationConfiguration"},
        {"GET", "/b/k", "", NULL, NULL, "GetObject"},
        {"GET", "/b/dir/sub/k.txt", "versionId=3", NULL, NULL, "GetObject"},
        {"GET", "/b/k", "uploadId=u", NULL, NULL, "ListParts"},
        {"GET", "/b/k", "tagging", NULL, NULL, "GetObjectTagging"},
        {"GET", "/b/k", "acl", NULL, NULL, "GetObjectAcl"},
        {"HEAD", "/b", "", NULL, NULL, "HeadBucket"},
        {"HEAD", "/b/k", "", NULL, NULL, "HeadObject"},
        {"PUT", "/b", "", NULL, NULL, "CreateBucket"},
        {"PUT", "/b", "tagging", NULL, NULL, "PutBucketTagging"},
        {"PUT", "/b/k", "", NULL, NULL, "PutObject"},
        {"PUT", "/b/k", "partNumber=1&uploadId=u", NULL, NULL, "UploadPart"},
        {"PUT", "/b/k", "", "x-amz-copy-source", "/s/k", "CopyObject"},
        {"PUT", "/b/k", "partNumber=1&uploadId=u", "x-amz-copy-source", "/s/k", "UploadPartCopy"},
        {"PUT", "/b/k", "tagging", NULL, NULL, "PutObjectTagging"},
        {"POST", "/b", "delete", NULL, NULL, "DeleteObjects"},
        {"POST", "/b/k", "uploads", NULL, NULL, "CreateMultipartUpload"},
        {"POST", "/b/k", "uploadId=u", NULL, NULL, "CompleteMultipartUpload"},
        {"POST", "/b/k", "select&select-type=2", NULL, NULL, "SelectObjectContent"},
        {"DELETE", "/b", "", NULL, NULL, "DeleteBucket"},
        {"DELETE", "/b", "tagging", NULL, NULL, "DeleteBucketTagging"},
        {"DELETE", "/b/k", "", NULL, NULL, "DeleteObject"},
        {"DELETE", "/b/k", "uploadId=u", NULL, NULL, "AbortMultipartUpload"},
        {"DELETE", "/b//", "", NULL, NULL, "DeleteObject"},
    };
    for (size_t i = 0; i < NB_ARRAY_LEN(cases); i++) {
        nb_header h[1] = {{cases[i].hname, cases[i].hname ? strlen(cases[i].hname) : 0,
                           cases[i].hval, cases[i].hval ? strlen(cases[i].hval) : 0}};
        nb_wire_req w =
            mkreq(cases[i].method, cases[i].path, cases[i].query, h, cases[i].hname ? 1 : 0, NULL);
        nb_aws_error_clear(&e);
        const nb_op *op = nb_proto_match(m, &w, &e);
        if (!op || strcmp(nb_op_name(op), cases[i].op) != 0)
            fprintf(stderr, "s3 match %s %s?%s: got %s want %s\n", cases[i].method, cases[i].path,
                    cases[i].query, op ? nb_op_name(op) : e.code, cases[i].op);
        CHECK(op && strcmp(nb_op_name(op), cases[i].op) == 0);
    }
    nb_wire_req w = mkreq("POST", "/b/k", "", NULL, 0, NULL);
    CHECK(nb_proto_match(m, &w, &e) == NULL);
    CHECK(e.status == 405);
    CHECK_STR(e.code, "MethodNotAllowed");
    CHECK_STR(json_string_value(json_object_get(e.extra, "ResourceType")), "OBJECT");
    w = mkreq("PATCH", "/b", "", NULL, 0, NULL);
    CHECK(nb_proto_match(m, &w, &e) == NULL);
    CHECK_STR(json_string_value(json_object_get(e.extra, "ResourceType")), "BUCKET");
    nb_aws_error_clear(&e);
}

static void test_s3_parse(void)
{
    const nb_model *m = nb_model_find("s3");
    nb_aws_error e = {0};
    nb_wire_req w = mkreq("GET", "/bucket",
                          "list-type=2&prefix=a+b%2Fc&max-keys=10&fetch-owner=true", NULL, 0, NULL);
    json_t *in = parse_req(m, "ListObjectsV2", &w, &e);
    CHECK_JSON(in,
               "{\"Bucket\":\"bucket\",\"FetchOwner\":true,\"MaxKeys\":10,\"Prefix\":\"a b/c\"}");
    json_decref(in);
    w = mkreq("GET", "/bucket", "list-type=2&max-keys=abc", NULL, 0, NULL);
    CHECK(parse_req(m, "ListObjectsV2", &w, &e) == NULL);
    CHECK_STR(e.code, "InvalidArgument");
    CHECK_STR(e.message, "Provided max-keys not an integer or within integer range");
    CHECK_STR(json_string_value(json_object_get(e.extra, "ArgumentName")), "max-keys");

    nb_header h[] = {HDR("Content-Type", "text/plain"),
                     HDR("Content-Length", "5"),
                     HDR("x-amz-meta-Color", " red "),
                     HDR("X-Amz-Meta-size", "big"),
                     HDR("x-amz-storage-class", "STANDARD_IA"),
                     HDR("If-Modified-Since", "not a date"),
                     HDR("Expires", "Tue, 29 Apr 2014 18:30:38 GMT"),
                     HDR("x-amz-server-side-encryption-bucket-key-enabled", "true")};
    w = mkreq("PUT", "/bucket/dir/a%20b+c.txt", "", h, NB_ARRAY_LEN(h), NULL);
    in = parse_req(m, "PutObject", &w, &e);
    CHECK_JSON(in, "{\"Bucket\":\"bucket\",\"BucketKeyEnabled\":true,\"ContentLength\":5,"
                   "\"ContentType\":\"text/plain\","
                   "\"Expires\":1398796238,\"Key\":\"dir/a "
                   "b+c.txt\",\"Metadata\":{\"color\":\"red\",\"size\":\"big\"},"
                   "\"StorageClass\":\"STANDARD_IA\"}");
    json_decref(in);

    nb_header hc[] = {HDR("x-amz-copy-source", "/src/key"),
                      HDR("x-amz-copy-source-if-modified-since", "Tue, 29 Apr 2014 18:30:38 GMT")};
    w = mkreq("PUT", "/b/k", "partNumber=3&uploadId=U1", hc, 2, NULL);
    in = parse_req(m, "UploadPartCopy", &w, &e);
    CHECK_JSON(
        in,
        "{\"Bucket\":\"b\",\"CopySource\":\"/src/key\",\"CopySourceIfModifiedSince\":1398796238,"
        "\"Key\":\"k\",\"PartNumber\":3,\"UploadId\":\"U1\"}");
    json_decref(in);

    w = mkreq("PUT", "/b", "tagging", NULL, 0,
              "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Tagging "
              "xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
              "<TagSet><Tag><Key>k1</Key><Value>v &amp; "
              "1</Value></Tag><Tag><Key>k2</Key><Value></Value></Tag>"
              "</TagSet></Tagging>");
    in = parse_req(m, "PutBucketTagging", &w, &e);
    CHECK_JSON(in, "{\"Bucket\":\"b\",\"Tagging\":{\"TagSet\":[{\"Key\":\"k1\",\"Value\":\"v & "
                   "1\"},{\"Key\":\"k2\",\"Value\":\"\"}]}}");
    json_decref(in);
    w.body = "";
    w.body_len = 0;
    CHECK(parse_req(m, "PutBucketTagging", &w, &e) == NULL);
    CHECK_STR(e.code, "MalformedXML");
    CHECK_STR(e.message, "The XML you provided was not well-formed or did not validate against our "
                         "published schema");
    w.body = "<Tagging><TagSet><Tag><Key>k</Key></Tag></TagSet>";
    w.body_len = strlen(w.body);
    CHECK(parse_req(m, "PutBucketTagging", &w, &e) == NULL);
    CHECK_STR(e.code, "MalformedXML");
    w.body = "<Tagging><TagSet><Tag><Key>k</Key></Tag></TagSet></Tagging>"; /* Value required */
    w.body_len = strlen(w.body);
    CHECK(parse_req(m, "PutBucketTagging", &w, &e) == NULL);
    CHECK_STR(e.code, "MalformedXML");
    w.body = "<?xml version=\"1.0\"?><!DOCTYPE r [<!ENTITY x SYSTEM \"file:///etc/passwd\">]>"
             "<Tagging><TagSet><Tag><Key>&x;</Key><Value>v</Value></Tag></TagSet></Tagging>";
    w.body_len = strlen(w.body);
    CHECK(parse_req(m, "PutBucketTagging", &w, &e) == NULL);
    CHECK_STR(e.code, "MalformedXML");

    w = mkreq(
        "POST", "/b", "delete", NULL, 0,
        "<Delete xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Object><Key>a</Key></Object>"
        "<Object><Key>b/c</Key><VersionId>v1</VersionId></Object><Quiet>true</Quiet></Delete>");
    in = parse_req(m, "DeleteObjects", &w, &e);
    CHECK_JSON(in, "{\"Bucket\":\"b\",\"Delete\":{\"Objects\":[{\"Key\":\"a\"},{\"Key\":\"b/"
                   "c\",\"VersionId\":\"v1\"}],\"Quiet\":true}}");
    json_decref(in);
    w.body = "<Delete><Object><Key>a</Key></Object><Quiet>maybe</Quiet></Delete>";
    w.body_len = strlen(w.body);
    CHECK(parse_req(m, "DeleteObjects", &w, &e) == NULL);
    CHECK_STR(e.code, "MalformedXML");

    w = mkreq(
        "POST", "/b/big.bin", "uploadId=U", NULL, 0,
        "<CompleteMultipartUpload><Part><ETag>\"e1\"</ETag><PartNumber>1</PartNumber></Part>"
        "<Part><PartNumber>2</PartNumber><ETag>\"e2\"</ETag></Part></CompleteMultipartUpload>");
    in = parse_req(m, "CompleteMultipartUpload", &w, &e);
    CHECK_JSON(in, "{\"Bucket\":\"b\",\"Key\":\"big.bin\",\"MultipartUpload\":{\"Parts\":[{"
                   "\"ETag\":\"\\\"e1\\\"\",\"PartNumber\":1},"
                   "{\"ETag\":\"\\\"e2\\\"\",\"PartNumber\":2}]},\"UploadId\":\"U\"}");
    json_decref(in);

    w = mkreq("PUT", "/b", "", NULL, 0,
              "<CreateBucketConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
              "<LocationConstraint>eu-west-1</LocationConstraint></CreateBucketConfiguration>");
    in = parse_req(m, "CreateBucket", &w, &e);
    CHECK_JSON(
        in,
        "{\"Bucket\":\"b\",\"CreateBucketConfiguration\":{\"LocationConstraint\":\"eu-west-1\"}}");
    json_decref(in);
    w.body = NULL;
    w.body_len = 0;
    in = parse_req(m, "CreateBucket", &w, &e);
    CHECK_JSON(in, "{\"Bucket\":\"b\"}");
    json_decref(in);

    w = mkreq("PUT", "/b", "acl", NULL, 0,
              "<AccessControlPolicy><AccessControlList><Grant><Grantee "
              "xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" "
              "xsi:type=\"CanonicalUser\"><ID>id1</ID></Grantee><Permission>READ</Permission></"
              "Grant></AccessControlList>"
              "<Owner><ID>id1</ID></Owner></AccessControlPolicy>");
    in = parse_req(m, "PutBucketAcl", &w, &e);
    CHECK_JSON(in, "{\"AccessControlPolicy\":{\"Grants\":[{\"Grantee\":{\"ID\":\"id1\",\"Type\":"
                   "\"CanonicalUser\"},"
                   "\"Permission\":\"READ\"}],\"Owner\":{\"ID\":\"id1\"}},\"Bucket\":\"b\"}");
    json_decref(in);

    w = mkreq("PUT", "/b", "policy", NULL, 0, "{\"Version\":\"2012-10-17\"}");
    in = parse_req(m, "PutBucketPolicy", &w, &e);
    CHECK_JSON(in, "{\"Bucket\":\"b\",\"Policy\":\"{\\\"Version\\\":\\\"2012-10-17\\\"}\"}");
    json_decref(in);

    /* streaming input: the body is never read (the dispatcher passes none) */
    w = mkreq("PUT", "/b/k", "partNumber=1&uploadId=u", NULL, 0, NULL);
    in = parse_req(m, "UploadPart", &w, &e);
    CHECK_JSON(in, "{\"Bucket\":\"b\",\"Key\":\"k\",\"PartNumber\":1,\"UploadId\":\"u\"}");
    json_decref(in);
    nb_aws_error_clear(&e);
}

static void test_s3_serialize(void)
{
    const nb_model *m = nb_model_find("s3");
    nb_arena *a = nb_arena_new(4096);
    nb_wire_resp r;
    const char *b =
        ser(m, "ListBuckets",
            "{\"Buckets\":[{\"Name\":\"b1\",\"CreationDate\":1700000000},{\"Name\":\"b2\","
            "\"CreationDate\":"
            "\"2023-11-14T22:13:21.000Z\"}],\"Owner\":{\"DisplayName\":\"me\",\"ID\":\"abc\"}}",
            a, &r);
    CHECK_STR(b,
              "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ListAllMyBucketsResult "
              "xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
              "<Buckets><Bucket><Name>b1</Name><CreationDate>2023-11-14T22:13:20.000Z</"
              "CreationDate></Bucket>"
              "<Bucket><Name>b2</Name><CreationDate>2023-11-14T22:13:21.000Z</CreationDate></"
              "Bucket></Buckets>"
              "<Owner><DisplayName>me</DisplayName><ID>abc</ID></Owner></ListAllMyBucketsResult>");
    CHECK(r.status == 200);
    CHECK_STR(hdr(&r, "Content-Type"), "application/xml");
    CHECK_STR(hdr(&r, "x-amz-request-id"), "req-1");
    CHECK_STR(hdr(&r, "x-amz-id-2"), "cmVxLTE=");
    nb_buf_free(&r.body);

    b = ser(m, "ListObjectsV2",
            "{\"IsTruncated\":false,\"Contents\":[{\"Key\":\"a&b\",\"LastModified\":1700000000,"
            "\"ETag\":\"\\\"e\\\"\","
            "\"Size\":3,\"StorageClass\":\"STANDARD\"},{\"Key\":\"c\",\"Size\":0}],\"Name\":\"bk\","
            "\"Prefix\":\"\","
            "\"MaxKeys\":1000,\"CommonPrefixes\":[{\"Prefix\":\"d/\"},{\"Prefix\":\"e/"
            "\"}],\"KeyCount\":2}",
            a, &r);
    CHECK_STR(
        b,
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ListBucketResult "
        "xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
        "<IsTruncated>false</IsTruncated><Contents><Key>a&amp;b</"
        "Key><LastModified>2023-11-14T22:13:20.000Z</LastModified>"
        "<ETag>&quot;e&quot;</ETag><Size>3</Size><StorageClass>STANDARD</StorageClass></Contents>"
        "<Contents><Key>c</Key><Size>0</Size></Contents><Name>bk</Name><Prefix></"
        "Prefix><MaxKeys>1000</MaxKeys>"
        "<CommonPrefixes><Prefix>d/</Prefix></CommonPrefixes><CommonPrefixes><Prefix>e/</Prefix></"
        "CommonPrefixes>"
        "<KeyCount>2</KeyCount></ListBucketResult>");
    nb_buf_free(&r.body);

    b = ser(m, "GetObject",
            "{\"LastModified\":1398796238,\"ContentLength\":5,\"ETag\":\"\\\"abc\\\"\","
            "\"ContentType\":\"text/plain\","
            "\"Metadata\":{\"color\":\"red\"},\"AcceptRanges\":\"bytes\",\"DeleteMarker\":false,"
            "\"Body\":\"eA==\"}",
            a, &r);
    CHECK_STR(b, "");
    CHECK_STR(hdr(&r, "Last-Modified"), "Tue, 29 Apr 2014 18:30:38 GMT");
    CHECK_STR(hdr(&r, "ETag"), "\"abc\"");
    CHECK_STR(hdr(&r, "Content-Type"), "text/plain");
    CHECK_STR(hdr(&r, "x-amz-meta-color"), "red");
    CHECK_STR(hdr(&r, "accept-ranges"), "bytes");
    CHECK_STR(hdr(&r, "x-amz-delete-marker"), "false");
    CHECK(hdr(&r, "Content-Length") == NULL); /* the server frames the body */
    nb_buf_free(&r.body);

    b = ser(m, "GetBucketLocation", "{\"LocationConstraint\":\"eu-west-1\"}", a, &r);
    CHECK_STR(b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<LocationConstraint "
                 "xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
                 "eu-west-1</LocationConstraint>");
    nb_buf_free(&r.body);
    b = ser(m, "GetBucketLocation", "{}", a, &r);
    CHECK_STR(b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<LocationConstraint "
                 "xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"/>");
    nb_buf_free(&r.body);

    b = ser(m, "GetBucketAcl",
            "{\"Owner\":{\"ID\":\"id1\"},\"Grants\":[{\"Grantee\":{\"Type\":\"CanonicalUser\","
            "\"ID\":\"id1\"},"
            "\"Permission\":\"FULL_CONTROL\"},{\"Grantee\":{\"Type\":\"Group\",\"URI\":\"http://"
            "acs.amazonaws.com/groups/global/AllUsers\"},"
            "\"Permission\":\"READ\"}]}",
            a, &r);
    CHECK_STR(b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<AccessControlPolicy "
                 "xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
                 "<Owner><ID>id1</ID></Owner><AccessControlList><Grant><Grantee "
                 "xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" "
                 "xsi:type=\"CanonicalUser\"><ID>id1</ID></Grantee><Permission>FULL_CONTROL</"
                 "Permission></Grant>"
                 "<Grant><Grantee xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" "
                 "xsi:type=\"Group\">"
                 "<URI>http://acs.amazonaws.com/groups/global/AllUsers</URI></"
                 "Grantee><Permission>READ</Permission></Grant>"
                 "</AccessControlList></AccessControlPolicy>");
    nb_buf_free(&r.body);

    b = ser(
        m, "CopyObject",
        "{\"CopyObjectResult\":{\"ETag\":\"\\\"e\\\"\",\"LastModified\":0},\"VersionId\":\"v\"}", a,
        &r);
    CHECK_STR(b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<CopyObjectResult "
                 "xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
                 "<ETag>&quot;e&quot;</ETag><LastModified>1970-01-01T00:00:00.000Z</LastModified></"
                 "CopyObjectResult>");
    CHECK_STR(hdr(&r, "x-amz-version-id"), "v");
    nb_buf_free(&r.body);

    b = ser(m, "GetBucketPolicy", "{\"Policy\":\"{\\\"Version\\\":\\\"2012-10-17\\\"}\"}", a, &r);
    CHECK_STR(b, "{\"Version\":\"2012-10-17\"}");
    nb_buf_free(&r.body);
    b = ser(m, "PutObject", "{\"ETag\":\"\\\"e\\\"\"}", a, &r);
    CHECK_STR(b, "");
    CHECK_STR(hdr(&r, "ETag"), "\"e\"");
    CHECK(hdr(&r, "Content-Type") == NULL);
    nb_buf_free(&r.body);
    b = ser(m, "DeleteBucket", NULL, a, &r);
    CHECK(r.status == 204);
    nb_buf_free(&r.body);

    b = ser(m, "GetBucketTagging", "{\"TagSet\":[{\"Key\":\"k\",\"Value\":\"v\"}]}", a, &r);
    CHECK_STR(b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Tagging "
                 "xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
                 "<TagSet><Tag><Key>k</Key><Value>v</Value></Tag></TagSet></Tagging>");
    nb_buf_free(&r.body);

    nb_aws_error e = {0};
    nb_aws_error_set(&e, 404, "NoSuchBucket", "The specified bucket does not exist");
    e.extra = json_pack("{s:s}", "BucketName", "nob");
    CHECK(nb_proto_serialize_error(m, NULL, &e, "req-1", "/nob", a, &r) == 0);
    CHECK_STR(
        r.body.data,
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>NoSuchBucket</Code>"
        "<Message>The specified bucket does not exist</Message><BucketName>nob</BucketName>"
        "<Resource>/nob</Resource><RequestId>req-1</RequestId><HostId>cmVxLTE=</HostId></Error>");
    CHECK(r.status == 404);
    CHECK_STR(hdr(&r, "Content-Type"), "application/xml");
    CHECK_STR(hdr(&r, "x-amz-request-id"), "req-1");
    nb_buf_free(&r.body);
    /* unknown service, rest-xml: the S3 form (anonymous requests go to S3) */
    nb_aws_error_set(&e, 403, "AccessDenied", "Access Denied");
    nb_proto_serialize_error(NULL, "rest-xml", &e, "r2", NULL, a, &r);
    CHECK_STR(
        r.body.data,
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>AccessDenied</Code>"
        "<Message>Access Denied</Message><RequestId>r2</RequestId><HostId>cjI=</HostId></Error>");
    nb_buf_free(&r.body);
    nb_aws_error_set(&e, 400, "X", "y");
    nb_proto_serialize_error(NULL, "json", &e, "r2", NULL, a, &r);
    CHECK_STR(r.body.data, "{\"__type\":\"X\",\"message\":\"y\"}");
    nb_buf_free(&r.body);
    nb_aws_error_clear(&e);
    nb_arena_free(a);
}

/* ---- a hand-made query model: maps and flattened lists, which STS does not have ---- */

static char fpool[512];
static size_t fpool_len = 1;
static uint32_t S(const char *s)
{
    uint32_t off = (uint32_t)fpool_len;
    memcpy(fpool + fpool_len, s, strlen(s) + 1);
    fpool_len += strlen(s) + 1;
    return off;
}

static void test_fake_query(void)
{
    enum { STR, MAP, FLATLIST, FLATMAP, NAMEDLIST, TS, BLOB, DBL, NESTED, IO, NSHAPES };
    static struct nb_shape shapes[NSHAPES];
    static struct nb_member mem[32];
    static struct nb_op op;
    static struct nb_model fm;
    uint32_t n = 0;
    shapes[STR] = (struct nb_shape){.name = S("String"), .type = NB_TYPE_STRING};
    shapes[TS] = (struct nb_shape){.name = S("Ts"), .type = NB_TYPE_TIMESTAMP};
    shapes[BLOB] = (struct nb_shape){.name = S("Blob"), .type = NB_TYPE_BLOB};
    shapes[DBL] = (struct nb_shape){.name = S("Dbl"), .type = NB_TYPE_DOUBLE};
    shapes[MAP] =
        (struct nb_shape){.name = S("Map"), .type = NB_TYPE_MAP, .first = n, .nmembers = 2};
    mem[n++] = (struct nb_member){.shape = STR};
    mem[n++] = (struct nb_member){.shape = STR};
    shapes[FLATLIST] =
        (struct nb_shape){.name = S("FlatList"), .type = NB_TYPE_LIST, .first = n, .nmembers = 1};
    mem[n++] = (struct nb_member){.shape = STR, .wire = S("Item")};
    shapes[FLATMAP] =
        (struct nb_shape){.name = S("FlatMap"), .type = NB_TYPE_MAP, .first = n, .nmembers = 2};
    mem[n++] = (struct nb_member){.shape = STR, .wire = S("Name")};
    mem[n++] = (struct nb_member){.shape = STR, .wire = S("Val")};
    shapes[NAMEDLIST] =
        (struct nb_shape){.name = S("NamedList"), .type = NB_TYPE_LIST, .first = n, .nmembers = 1};
    mem[n++] = (struct nb_member){.shape = STR, .wire = S("Thing")};
    shapes[NESTED] = (struct nb_shape){
        .name = S("Nested"), .type = NB_TYPE_STRUCTURE, .first = n, .nmembers = 1};
    mem[n++] = (struct nb_member){.name = S("Inner"), .shape = STR, .flags = NB_MF_REQUIRED};
    shapes[IO] =
        (struct nb_shape){.name = S("IO"), .type = NB_TYPE_STRUCTURE, .first = n, .nmembers = 8};
    mem[n++] = (struct nb_member){.name = S("Attributes"), .shape = MAP};
    mem[n++] = (struct nb_member){.name = S("Flat"), .shape = FLATLIST, .flags = NB_MF_FLATTENED};
    mem[n++] = (struct nb_member){.name = S("FlatMap"), .shape = FLATMAP, .flags = NB_MF_FLATTENED};
    mem[n++] = (struct nb_member){.name = S("Named"), .shape = NAMEDLIST};
    mem[n++] = (struct nb_member){.name = S("When"), .shape = TS};
    mem[n++] = (struct nb_member){.name = S("Data"), .shape = BLOB};
    mem[n++] = (struct nb_member){.name = S("Ratio"), .shape = DBL};
    mem[n++] = (struct nb_member){.name = S("Nested"), .shape = NESTED};
    op = (struct nb_op){.model = 0xFFFF,
                        .name = S("SetThings"),
                        .uri = S("/"),
                        .result_wrapper = S("SetThingsResult"),
                        .input = IO + 1,
                        .output = IO + 1,
                        .method = NB_HTTP_POST};
    fm = (struct nb_model){.strings = fpool,
                           .name = S("fake"),
                           .protocol_name = S("query"),
                           .api_version = S("2020-01-01"),
                           .endpoint_prefix = S("fake"),
                           .signing_name = S("fake"),
                           .xml_namespace = S("urn:fake"),
                           .protocol = NB_PROTO_QUERY,
                           .nops = 1,
                           .nshapes = NSHAPES,
                           .ops = &op,
                           .shapes = shapes,
                           .members = mem};

    nb_aws_error e = {0};
    nb_wire_req w =
        mkreq("POST", "/", NULL, NULL, 0,
              "Action=SetThings&Attributes.entry.1.key=a&Attributes.entry.1.value=1"
              "&Attributes.entry.2.key=b&Attributes.entry.2.value=2&Item.1=x&Item.2=y"
              "&FlatMap.1.Name=k&FlatMap.1.Val=v&Named.Thing.1=t&When=2014-04-29T18%3A30%3A38Z"
              "&Data=eA%3D%3D&Ratio=0.5&Nested.Inner=in");
    json_t *in = parse_req(&fm, "SetThings", &w, &e);
    CHECK_JSON(
        in,
        "{\"Attributes\":{\"a\":\"1\",\"b\":\"2\"},\"Data\":\"eA==\",\"Flat\":[\"x\",\"y\"],"
        "\"FlatMap\":{\"k\":\"v\"},\"Named\":[\"t\"],\"Nested\":{\"Inner\":\"in\"},\"Ratio\":0.5,"
        "\"When\":1398796238}");

    nb_arena *a = nb_arena_new(4096);
    nb_wire_resp r;
    CHECK(nb_proto_serialize(&fm, &op, in, "req-1", a, &r) == 0);
    CHECK_STR(
        r.body.data,
        "<SetThingsResponse xmlns=\"urn:fake\"><SetThingsResult>"
        "<Attributes><entry><key>a</key><value>1</value></entry><entry><key>b</key><value>2</value>"
        "</entry></Attributes><Item>x</Item><Item>y</Item><FlatMap><Name>k</Name><Val>v</Val></"
        "FlatMap>"
        "<Named><Thing>t</Thing></Named><When>2014-04-29T18:30:38.000Z</When><Data>eA==</Data>"
        "<Ratio>0.5</Ratio><Nested><Inner>in</Inner></Nested></SetThingsResult>"
        "<ResponseMetadata><RequestId>req-1</RequestId></ResponseMetadata></SetThingsResponse>");
    nb_buf_free(&r.body);
    json_decref(in);

    w = mkreq("POST", "/", NULL, NULL, 0, "Action=SetThings&Data=not*base64&Nested.Inner=x");
    CHECK(parse_req(&fm, "SetThings", &w, &e) == NULL);
    CHECK_STR(e.code, "ValidationError");
    w = mkreq("POST", "/", NULL, NULL, 0, "Action=SetThings&Nested.Other=x");
    CHECK(parse_req(&fm, "SetThings", &w, &e) == NULL);
    CHECK_STR(e.message,
              "1 validation error detected: Value null at 'nested.inner' failed to satisfy "
              "constraint: Member must not be null");
    /* deep junk keys and many parameters are cheap and harmless */
    nb_buf big;
    nb_buf_init(&big);
    nb_buf_puts(&big, "Action=SetThings");
    for (int i = 20000; i >= 1; i--)
        nb_buf_printf(&big, "&Item.%d=v%d", i, i);
    for (int i = 0; i < 200; i++)
        nb_buf_puts(&big, ".a");
    nb_buf_puts(&big, "=1");
    w = mkreq("POST", "/", NULL, NULL, 0, big.data);
    int64_t t0 = nb_mono_us();
    in = parse_req(&fm, "SetThings", &w, &e);
    int64_t dt = nb_mono_us() - t0;
    CHECK(json_array_size(json_object_get(in, "Flat")) == 20000);
    CHECK_STR(json_string_value(json_array_get(json_object_get(in, "Flat"), 19999)), "v20000");
    CHECK(dt < 2000000);
    json_decref(in);
    nb_buf_free(&big);
    nb_aws_error_clear(&e);
    nb_arena_free(a);
}

/* ---- speed: what one small query request costs (reported, not asserted) ---- */

static void bench(void)
{
    const nb_model *m = nb_model_find("sts");
    const nb_op *op = nb_model_op(m, "GetCallerIdentity");
    json_t *doc = json_pack("{s:s,s:s,s:s}", "UserId", "000000000000", "Account", "000000000000",
                            "Arn", "arn:aws:iam::000000000000:root");
    nb_wire_req w =
        mkreq("POST", "/", NULL, NULL, 0, "Action=GetCallerIdentity&Version=2011-06-15");
    nb_aws_error e = {0};
    int n = 20000;
    int64_t t0 = nb_mono_us();
    for (int i = 0; i < n; i++) {
        nb_arena *a = nb_arena_new(1024);
        const nb_op *o = nb_proto_match(m, &w, &e);
        json_t *in = NULL;
        nb_proto_parse(m, o, &w, &in, &e);
        json_decref(in);
        nb_wire_resp r;
        nb_proto_serialize(m, op, doc, "0123456789abcdef0123456789abcdef0123", a, &r);
        nb_buf_free(&r.body);
        nb_arena_free(a);
    }
    int64_t dt = nb_mono_us() - t0;
    fprintf(stderr, "test_proto: GetCallerIdentity match+parse+serialize: %.2f us/request\n",
            (double)dt / n);
    const nb_model *s3 = nb_model_find("s3");
    nb_wire_req w2 = mkreq("GET", "/bucket/some/key.txt", "versionId=1", NULL, 0, NULL);
    t0 = nb_mono_us();
    for (int i = 0; i < n; i++) {
        const nb_op *o = nb_proto_match(s3, &w2, &e);
        json_t *in = NULL;
        nb_proto_parse(s3, o, &w2, &in, &e);
        json_decref(in);
    }
    dt = nb_mono_us() - t0;
    fprintf(stderr, "test_proto: S3 GetObject match+parse: %.2f us/request\n", (double)dt / n);
    json_decref(doc);
}

int main(void)
{
    test_models();
    test_time();
    test_errors();
    test_sts();
    test_ec2();
    test_logs();
    test_lambda();
    test_s3_match();
    test_s3_parse();
    test_s3_serialize();
    test_fake_query();
    bench();
    UNIT_DONE();
}
