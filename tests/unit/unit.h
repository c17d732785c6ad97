/* unit.h: a tiny test harness: CHECK(expr) records a failure and goes on; main returns the
 * count of failures. Each test file defines its tests and calls them from main. */
#ifndef NB_TESTS_UNIT_H
#define NB_TESTS_UNIT_H

#include <stdio.h>
#include <string.h>

static int unit_failures, unit_checks;

#define CHECK(c)                                                                                   \
    do {                                                                                           \
        unit_checks++;                                                                             \
        if (!(c)) {                                                                                \
            unit_failures++;                                                                       \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #c);                  \
        }                                                                                          \
    } while (0)

#define CHECK_STR(a, b)                                                                            \
    do {                                                                                           \
        const char *a_ = (a), *b_ = (b);                                                           \
        unit_checks++;                                                                             \
        if (!a_ || !b_ || strcmp(a_, b_) != 0) {                                                   \
            unit_failures++;                                                                       \
            fprintf(stderr, "%s:%d: CHECK_STR failed:\n  got:  %s\n  want: %s\n", __FILE__,      \
                    __LINE__, a_ ? a_ : "(null)", b_ ? b_ : "(null)");                             \
        }                                                                                          \
    } while (0)

#define UNIT_DONE()                                                                                \
    do {                                                                                           \
        fprintf(stderr, "%s: %d checks, %d failed\n", __FILE__, unit_checks, unit_failures);      \
        return unit_failures ? 1 : 0;                                                              \
    } while (0)

#endif
