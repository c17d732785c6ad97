/* fuzz_awschunked.c: libFuzzer target for the aws-chunked body decoder in its three modes.
 * Input: mode byte, split byte (how the body is cut into feed() calls), then the body. The
 * signed modes use the S3 documentation's key, date, scope and seed signatures, so corpus
 * entries made from valid streams get past the signature checks. */
#include <stdlib.h>

#include "proto/sigv4.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static unsigned char key[32];
    static bool init;
    if (!init) {
        nb_sigv4_signing_key("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "20130524", "us-east-1",
                             "s3", key);
        init = true;
    }
    if (size < 2) return 0;
    enum nb_chunked_mode mode = (enum nb_chunked_mode)(data[0] % 3);
    size_t step = (size_t)data[1] * 37 + 1;
    const char *seed = mode == NB_CHUNKED_SIGNED_TRAILER
                           ? "106e2a8a18243abcf37539882f36619c00e2dfc72633413f02d3b74544bfeb8e"
                           : "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9";
    nb_awschunked *d = nb_awschunked_new(mode, key, "20130524T000000Z",
                                         "20130524/us-east-1/s3/aws4_request", seed);
    if (!d) return 0;
    if (data[0] & 0x80) nb_awschunked_expect(d, (uint64_t)data[1] << 10);
    nb_buf out;
    nb_buf_init(&out);
    nb_sigv4_error e;
    memset(&e, 0, sizeof(e));
    const char *body = (const char *)data + 2;
    size_t n = size - 2, off = 0;
    int rc = 0;
    while (off < n && rc == 0) {
        size_t take = n - off < step ? n - off : step;
        rc = nb_awschunked_feed(d, body + off, take, &out, &e);
        off += take;
        /* Decoded output never exceeds the input, and the count matches what was handed out. */
        if (out.len > off || nb_awschunked_decoded(d) != out.len) abort();
    }
    if (rc < 0 && (!e.code[0] || e.status < 400)) abort();
    if (rc == 0) {
        bool done = nb_awschunked_done(d);
        int f = nb_awschunked_finish(d, &e);
        if (done && !(data[0] & 0x80) && f != 0) abort();
    }
    (void)nb_awschunked_trailer(d, "x-amz-checksum-crc32");
    nb_buf_free(&out);
    nb_awschunked_free(d);
    return 0;
}
