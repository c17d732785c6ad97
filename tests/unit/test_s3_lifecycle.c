/* test_s3_lifecycle.c: S3 storage classes and lifecycle day arithmetic: AWS's midnight rounding
 * (creation + N days, then the next midnight UTC), the class table (waterfall ranks, minimum
 * sizes and durations, archive classes), the HTTP dates of x-amz-expiration / x-amz-restore. */
#include "svc/s3/lifecycle.h"
#include "unit.h"

int main(void)
{
    /* 2014-01-15 10:30 UTC + 3 days -> 2014-01-19 00:00 UTC (AWS's documented example) */
    double t = 1389781800.0;
    CHECK(nb_s3_lc_due(t, 3) == 1390089600.0);
    /* exactly at midnight: the next midnight after creation + N days */
    CHECK(nb_s3_lc_due(1389744000.0, 1) == 1389744000.0 + 2 * 86400.0);
    CHECK(nb_s3_lc_due(t, 0) == 1389830400.0);

    char d[40];
    nb_s3_http_date(1390089600.0, d);
    CHECK_STR(d, "Sun, 19 Jan 2014 00:00:00 GMT");

    static const char *const all[] = {"STANDARD", "REDUCED_REDUNDANCY", "STANDARD_IA",
                                      "ONEZONE_IA", "INTELLIGENT_TIERING", "GLACIER_IR",
                                      "GLACIER", "DEEP_ARCHIVE"};
    for (size_t i = 0; i < sizeof all / sizeof *all; i++) CHECK(nb_s3_class_get(all[i]) != NULL);
    CHECK(nb_s3_class_get("OUTPOSTS") == NULL);
    CHECK(nb_s3_class_get("standard") == NULL);
    CHECK(nb_s3_class_get(NULL) == NULL);
    CHECK(nb_s3_class_is_archive("GLACIER") && nb_s3_class_is_archive("DEEP_ARCHIVE"));
    CHECK(!nb_s3_class_is_archive("GLACIER_IR") && !nb_s3_class_is_archive("STANDARD"));
    CHECK(nb_s3_class_get("STANDARD_IA")->min_size == 128 * 1024);
    CHECK(nb_s3_class_get("ONEZONE_IA")->min_days == 30);
    CHECK(nb_s3_class_get("GLACIER_IR")->min_days == 90);
    CHECK(nb_s3_class_get("GLACIER")->min_days == 90);
    CHECK(nb_s3_class_get("DEEP_ARCHIVE")->min_days == 180);
    CHECK(nb_s3_class_get("STANDARD")->min_days == 0);
    /* the waterfall: each lifecycle target ranks below the next colder one */
    CHECK(nb_s3_class_get("STANDARD")->rank < nb_s3_class_get("STANDARD_IA")->rank);
    CHECK(nb_s3_class_get("STANDARD_IA")->rank < nb_s3_class_get("GLACIER_IR")->rank);
    CHECK(nb_s3_class_get("GLACIER_IR")->rank < nb_s3_class_get("GLACIER")->rank);
    CHECK(nb_s3_class_get("GLACIER")->rank < nb_s3_class_get("DEEP_ARCHIVE")->rank);
    CHECK(!nb_s3_class_get("STANDARD")->transition_to);
    CHECK(nb_s3_class_get("DEEP_ARCHIVE")->transition_to);
    UNIT_DONE();
}
