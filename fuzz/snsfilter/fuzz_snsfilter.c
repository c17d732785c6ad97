/* fuzz_snsfilter.c: libFuzzer target for SNS filter policies: the input is split at the first
 * NUL into a policy and a message (the first byte picks the scope); whatever parses is matched
 * against the message as a JSON body and against a fixed set of message attributes of every
 * type, so validation, nesting, $or and every operator run on hostile documents. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "svc/sns/filter.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static json_t *attrs;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!attrs)
        attrs = json_loads("{\"color\":{\"DataType\":\"String\",\"StringValue\":\"red\"},"
                           "\"price\":{\"DataType\":\"Number\",\"StringValue\":\"12.5\"},"
                           "\"tags\":{\"DataType\":\"String.Array\",\"StringValue\":\"[\\\"a\\\",1,true,null]\"},"
                           "\"ip\":{\"DataType\":\"String\",\"StringValue\":\"10.1.2.3\"},"
                           "\"bin\":{\"DataType\":\"Binary\",\"BinaryValue\":\"AAE=\"}}",
                           0, NULL);
    if (size < 1) return 0;
    bool body = data[0] & 1;
    const char *p = (const char *)data + 1;
    size_t n = size - 1;
    const char *nul = memchr(p, 0, n);
    size_t pl = nul ? (size_t)(nul - p) : n;
    const char *msg = nul ? nul + 1 : "{\"color\":\"red\",\"a\":{\"b\":[1,2,{\"c\":\"x\"}]}}";
    size_t ml = nul ? n - pl - 1 : strlen(msg);
    char err[400];
    nb_sns_filter *f = nb_sns_filter_parse(p, pl, body, err, sizeof(err));
    if (f) {
        nb_sns_filter_match(f, attrs, msg, ml);
        nb_sns_filter_free(f);
    }
    return 0;
}
