/* test_sqs_md5.c: the digests SQS answers with, against values computed by AWS's documented
 * algorithm (cross-checked with boto3 and moto), and the message checks of SendMessage. */
#include <stdlib.h>

#include "svc/sqs/sqs_internal.h"
#include "unit.h"

static void test_digests(void)
{
    char out[33];
    nb_sqs_md5_hex("hello", 5, out);
    CHECK_STR(out, "5d41402abc4b2a76b9719d911017c592");
    /* String + Binary + Number attributes: the value the AWS SDKs compute for this set. */
    json_t *a = json_loads("{\"a\":{\"DataType\":\"String\",\"StringValue\":\"x\"},"
                           "\"b\":{\"DataType\":\"Binary\",\"BinaryValue\":\"AAE=\"},"
                           "\"n\":{\"DataType\":\"Number\",\"StringValue\":\"12\"}}",
                           0, NULL);
    CHECK(nb_sqs_md5_attrs(a, out) == 0);
    CHECK_STR(out, "f67a13c367c670df78d99c7dfb30afb7");
    json_decref(a);
    a = json_loads("{\"a\":{\"DataType\":\"String\",\"StringValue\":\"x\"},\"b\":{\"DataType\":\"Binary\",\"BinaryValue\":\"AAE=\"}}",
                   0, NULL);
    CHECK(nb_sqs_md5_attrs(a, out) == 0);
    CHECK_STR(out, "fa20e2def088daf7b14bc51e836c5547");
    json_decref(a);
    json_t *empty = json_object();
    CHECK(nb_sqs_md5_attrs(empty, out) == 0);
    CHECK_STR(out, "");
    json_decref(empty);
}

static void test_attribute_checks(void)
{
    char msg[400];
    json_t *a = json_loads("{\"n\":{\"DataType\":\"Number\",\"StringValue\":\"abc\"}}", 0, NULL);
    CHECK(nb_sqs_attrs_validate(a, false, msg, sizeof(msg)) < 0);
    CHECK_STR(msg, "Can't cast the value of message (user) attribute 'n' to a number.");
    json_decref(a);
    a = json_loads("{\"AWS.x\":{\"DataType\":\"String\",\"StringValue\":\"v\"}}", 0, NULL);
    CHECK(nb_sqs_attrs_validate(a, false, msg, sizeof(msg)) < 0);
    json_decref(a);
    a = json_loads("{\"k\":{\"DataType\":\"Strange\",\"StringValue\":\"v\"}}", 0, NULL);
    CHECK(nb_sqs_attrs_validate(a, false, msg, sizeof(msg)) < 0);
    json_decref(a);
    a = json_loads("{\"k\":{\"DataType\":\"String.custom\",\"StringValue\":\"v\"}}", 0, NULL);
    CHECK(nb_sqs_attrs_validate(a, false, msg, sizeof(msg)) == 0);
    json_decref(a);
    CHECK(nb_sqs_body_valid("plain \t\n text \xc3\xa9", 16));
    CHECK(!nb_sqs_body_valid("bad \x01", 5));
    CHECK(!nb_sqs_body_valid("\xef\xbf\xbe", 3)); /* U+FFFE */
    CHECK(!nb_sqs_body_valid("\xc3", 1));         /* truncated UTF-8 */
}

static void test_receipts(void)
{
    nb_arena *ar = nb_arena_new(1024);
    sqs_queue q;
    memset(&q, 0, sizeof(q));
    q.id = 42;
    sqs_msg m;
    memset(&m, 0, sizeof(m));
    m.seq = 7;
    m.nonce = 12345;
    strcpy(m.id, "0f8fad5b-d9cb-469f-a165-70867728950e");
    char *h = nb_sqs_receipt(ar, &q, &m);
    int64_t qid;
    uint64_t seq;
    uint32_t nonce;
    CHECK(h && nb_sqs_receipt_parse(h, &qid, &seq, &nonce) == 0);
    CHECK(qid == 42 && seq == 7 && nonce == 12345);
    CHECK(nb_sqs_receipt_parse("garbage", &qid, &seq, &nonce) < 0);
    CHECK(nb_sqs_receipt_parse("", &qid, &seq, &nonce) < 0);
    nb_arena_free(ar);
}

int main(void)
{
    test_digests();
    test_attribute_checks();
    test_receipts();
    UNIT_DONE();
}
