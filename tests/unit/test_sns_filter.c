/* test_sns_filter.c: SNS filter policies: AWS's validation messages, and matching with every
 * operator in both scopes (message attributes and JSON bodies). */
#include <stdlib.h>

#include "svc/sns/filter.h"
#include "unit.h"

static json_t *attrs(const char *json) { return json_loads(json, 0, NULL); }

/* Does policy (attribute scope) match the attributes document? */
static int m_attr(const char *policy, const char *a)
{
    char err[300];
    nb_sns_filter *f = nb_sns_filter_parse(policy, strlen(policy), false, err, sizeof(err));
    if (!f) {
        fprintf(stderr, "unexpected parse error for %s: %s\n", policy, err);
        return -1;
    }
    json_t *d = attrs(a);
    int r = nb_sns_filter_match(f, d, "", 0);
    json_decref(d);
    nb_sns_filter_free(f);
    return r;
}

static int m_body(const char *policy, const char *body)
{
    char err[300];
    nb_sns_filter *f = nb_sns_filter_parse(policy, strlen(policy), true, err, sizeof(err));
    if (!f) {
        fprintf(stderr, "unexpected parse error for %s: %s\n", policy, err);
        return -1;
    }
    int r = nb_sns_filter_match(f, NULL, body, strlen(body));
    nb_sns_filter_free(f);
    return r;
}

static const char *invalid(const char *policy, bool body)
{
    static char err[300];
    err[0] = 0;
    nb_sns_filter *f = nb_sns_filter_parse(policy, strlen(policy), body, err, sizeof(err));
    if (f) {
        nb_sns_filter_free(f);
        return "(accepted)";
    }
    return err;
}

#define S(k, v) "\"" k "\":{\"DataType\":\"String\",\"StringValue\":\"" v "\"}"
#define N(k, v) "\"" k "\":{\"DataType\":\"Number\",\"StringValue\":\"" v "\"}"

static void test_attribute_matching(void)
{
    CHECK(m_attr("{\"c\":[\"red\"]}", "{" S("c", "red") "}") == 1);
    CHECK(m_attr("{\"c\":[\"red\"]}", "{" S("c", "blue") "}") == 0);
    CHECK(m_attr("{\"c\":[\"red\"]}", "{}") == 0);
    CHECK(m_attr("{\"c\":[{\"prefix\":\"re\"}]}", "{" S("c", "red") "}") == 1);
    CHECK(m_attr("{\"c\":[{\"suffix\":\"ed\"}]}", "{" S("c", "red") "}") == 1);
    CHECK(m_attr("{\"c\":[{\"suffix\":\"xx\"}]}", "{" S("c", "red") "}") == 0);
    CHECK(m_attr("{\"c\":[{\"equals-ignore-case\":\"RED\"}]}", "{" S("c", "rEd") "}") == 1);
    CHECK(m_attr("{\"c\":[{\"anything-but\":[\"red\",\"blue\"]}]}", "{" S("c", "green") "}") == 1);
    CHECK(m_attr("{\"c\":[{\"anything-but\":[\"red\",\"blue\"]}]}", "{" S("c", "red") "}") == 0);
    CHECK(m_attr("{\"c\":[{\"anything-but\":\"red\"}]}", "{}") == 0);
    CHECK(m_attr("{\"c\":[{\"anything-but\":{\"prefix\":\"r\"}}]}", "{" S("c", "red") "}") == 0);
    CHECK(m_attr("{\"c\":[{\"anything-but\":{\"prefix\":\"r\"}}]}", "{" S("c", "blue") "}") == 1);
    CHECK(m_attr("{\"p\":[{\"numeric\":[\">=\",10,\"<\",20]}]}", "{" N("p", "10") "}") == 1);
    CHECK(m_attr("{\"p\":[{\"numeric\":[\">=\",10,\"<\",20]}]}", "{" N("p", "20") "}") == 0);
    CHECK(m_attr("{\"p\":[{\"numeric\":[\"=\",3.5]}]}", "{" N("p", "3.50") "}") == 1);
    CHECK(m_attr("{\"p\":[5]}", "{" N("p", "5") "}") == 1);
    CHECK(m_attr("{\"p\":[5]}", "{" S("p", "5") "}") == 0); /* a String attribute is not a number */
    CHECK(m_attr("{\"v\":[{\"exists\":true}]}", "{" S("v", "x") "}") == 1);
    CHECK(m_attr("{\"v\":[{\"exists\":false}]}", "{" S("v", "x") "}") == 0);
    CHECK(m_attr("{\"v\":[{\"exists\":false}]}", "{}") == 1);
    CHECK(m_attr("{\"t\":[\"b\"]}", "{\"t\":{\"DataType\":\"String.Array\",\"StringValue\":\"[\\\"a\\\",\\\"b\\\"]\"}}") == 1);
    CHECK(m_attr("{\"ip\":[{\"cidr\":\"10.0.0.0/24\"}]}", "{" S("ip", "10.0.0.7") "}") == 1);
    CHECK(m_attr("{\"ip\":[{\"cidr\":\"10.0.0.0/24\"}]}", "{" S("ip", "10.0.1.7") "}") == 0);
    /* keys AND, values OR, $or */
    CHECK(m_attr("{\"a\":[\"1\"],\"b\":[\"2\"]}", "{" S("a", "1") "," S("b", "2") "}") == 1);
    CHECK(m_attr("{\"a\":[\"1\"],\"b\":[\"2\"]}", "{" S("a", "1") "," S("b", "3") "}") == 0);
    CHECK(m_attr("{\"a\":[\"1\",\"9\"]}", "{" S("a", "9") "}") == 1);
    CHECK(m_attr("{\"$or\":[{\"a\":[\"1\"]},{\"b\":[\"2\"]}]}", "{" S("b", "2") "}") == 1);
    CHECK(m_attr("{\"$or\":[{\"a\":[\"1\"]},{\"b\":[\"2\"]}]}", "{" S("b", "3") "}") == 0);
    /* Binary attributes are not seen by filters */
    CHECK(m_attr("{\"b\":[{\"exists\":true}]}", "{\"b\":{\"DataType\":\"Binary\",\"BinaryValue\":\"AAE=\"}}") == 0);
}

static void test_body_matching(void)
{
    const char *order = "{\"order\":{\"status\":\"shipped\",\"total\":42,\"gift\":true,\"items\":[{\"sku\":\"a-1\"},{\"sku\":\"b-x\"}]}}";
    CHECK(m_body("{\"order\":{\"status\":[\"shipped\"]}}", order) == 1);
    CHECK(m_body("{\"order\":{\"status\":[\"pending\"]}}", order) == 0);
    CHECK(m_body("{\"order\":{\"total\":[{\"numeric\":[\">\",40]}]}}", order) == 1);
    CHECK(m_body("{\"order\":{\"gift\":[true]}}", order) == 1);
    CHECK(m_body("{\"order\":{\"items\":{\"sku\":[{\"suffix\":\"-x\"}]}}}", order) == 1);
    CHECK(m_body("{\"order\":{\"items\":{\"sku\":[{\"prefix\":\"z\"}]}}}", order) == 0);
    CHECK(m_body("{\"order\":{\"coupon\":[{\"exists\":false}]}}", order) == 1);
    CHECK(m_body("{\"order\":{\"status\":[\"shipped\"]}}", "not json") == 0);
    CHECK(m_body("{\"a\":[null]}", "{\"a\":null}") == 1);
    CHECK(m_body("{\"$or\":[{\"a\":[1]},{\"b\":{\"c\":[2]}}]}", "{\"b\":{\"c\":2}}") == 1);
}

static void test_validation_messages(void)
{
    CHECK_STR(invalid("{\"a\":\"x\"}", false), "Invalid parameter: FilterPolicy: \"a\" must be an object or an array");
    CHECK_STR(invalid("{\"a\":[{\"bogus\":1}]}", false), "Invalid parameter: FilterPolicy: Unrecognized match type bogus");
    CHECK_STR(invalid("{\"a\":[{\"exists\":1}]}", false),
              "Invalid parameter: FilterPolicy: exists match pattern must be either true or false.");
    CHECK_STR(invalid("{\"a\":{\"b\":[1]}}", false),
              "Invalid parameter: Filter policy scope MessageAttributes does not support nested filter policy");
    CHECK_STR(invalid("{\"a\":{\"b\":[1]}}", true), "(accepted)");
    CHECK_STR(invalid("{\"a\":[1],\"b\":[1],\"c\":[1],\"d\":[1],\"e\":[1],\"f\":[1]}", false),
              "Invalid parameter: FilterPolicy: Filter policy can not have more than 5 keys");
    CHECK_STR(invalid("{\"a\":[{\"numeric\":[\">\",5,\"<\",1]}]}", false),
              "Invalid parameter: Attributes Reason: FilterPolicy: Bottom must be less than top\n at ...");
    CHECK_STR(invalid("{\"a\":[{\"numeric\":[\"<\",1,\">\",0]}]}", false),
              "Invalid parameter: Attributes Reason: FilterPolicy: Too many elements in numeric expression\n at ...");
    CHECK_STR(invalid("{\"a\":[{\"numeric\":[\"!\",1]}]}", false),
              "Invalid parameter: Attributes Reason: FilterPolicy: Unrecognized numeric range operator: !\n at ...");
    CHECK_STR(invalid("{\"a\":[{\"numeric\":[\"<\",\"x\"]}]}", false),
              "Invalid parameter: Attributes Reason: FilterPolicy: Value of < must be numeric\n at ...");
    CHECK_STR(invalid("{\"a\":[[1]]}", false),
              "Invalid parameter: FilterPolicy: Match value must be String, number, true, false, or null");
    CHECK_STR(invalid("{\"a\":[{\"prefix\":1}]}", false), "Invalid parameter: FilterPolicy: prefix match pattern must be a string");
    char big[400] = "{\"a\":[0";
    for (int i = 1; i < 13; i++) sprintf(big + strlen(big), ",%d", i);
    strcat(big, "],\"b\":[0");
    for (int i = 1; i < 13; i++) sprintf(big + strlen(big), ",%d", i);
    strcat(big, "]}");
    CHECK_STR(invalid(big, false), "Invalid parameter: FilterPolicy: Filter policy is too complex");
    CHECK(!strncmp(invalid("[1]", false), "Invalid parameter: FilterPolicy:", 32));
    CHECK(!strncmp(invalid("{", false), "Invalid parameter: FilterPolicy: failed to parse JSON", 52));
}

int main(void)
{
    test_attribute_matching();
    test_body_matching();
    test_validation_messages();
    UNIT_DONE();
}
