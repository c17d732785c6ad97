/* test_proto_botocore.c: runs tests/unit/proto_botocore.py, which checks every operation of 21
 * services both ways against botocore: botocore's serializer -> our parser, our serializer ->
 * botocore's parser, and our errors -> botocore's error parser. Skipped (passes) when python3 or
 * the script is not there; run from the repository root like the other unit tests. */
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "unit.h"

int main(void)
{
    const char *script = "tests/unit/proto_botocore.py";
    if (access("/usr/bin/python3", X_OK) != 0 || access(script, R_OK) != 0) {
        fprintf(stderr, "test_proto_botocore: python3 or %s missing, skipped\n", script);
        UNIT_DONE();
    }
    int rc = system("/usr/bin/python3 tests/unit/proto_botocore.py");
    CHECK(rc != -1 && WIFEXITED(rc) && WEXITSTATUS(rc) == 0);
    UNIT_DONE();
}
