/* fuzz_http.c: libFuzzer target for the HTTP/1.1 request path: arbitrary bytes go through
 * a socketless server connection (parsing, limits, bodies, pipelining, chunked framing, the
 * response writer) with a handler that reads the body and answers. */
#include "http/http_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static bool init;
    if (!init) {
        nb_http_access_log = false;
        nb_log_level = NB_LOG_ERROR;
        init = true;
    }
    nb_http_fuzz_feed(data, size);
    return 0;
}
