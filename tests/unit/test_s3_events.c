/* test_s3_events.c: the pieces of S3's event message (events.c): keys encoded as AWS's
 * records carry them, event times, event-name wildcards and prefix/suffix filters. */
#include <jansson.h>
#include <stdlib.h>

#include "svc/s3/events.h"
#include "unit.h"

static void key_is(const char *key, const char *want)
{
    nb_buf b;
    nb_buf_init(&b);
    CHECK(nb_s3_event_key(&b, key, strlen(key)) == 0);
    nb_buf_putc(&b, 0);
    CHECK_STR(b.data, want);
    nb_buf_free(&b);
}

static void test_keys(void)
{
    key_is("red flower.jpg", "red+flower.jpg"); /* AWS's own example */
    key_is("a/b/c.txt", "a/b/c.txt");           /* '/' kept */
    key_is("x(1)=y&z", "x%281%29%3Dy%26z");
    key_is("a+b", "a%2Bb"); /* so '+' can mean a space */
    key_is("k-_.*~", "k-_.*%7E");
    key_is("\xc3\xa9t\xc3\xa9", "%C3%A9t%C3%A9"); /* UTF-8 bytes */
}

static void test_time(void)
{
    char t[32];
    nb_s3_event_time(0, t);
    CHECK_STR(t, "1970-01-01T00:00:00.000Z");
    nb_s3_event_time(1413215822.089, t);
    CHECK_STR(t, "2014-10-13T15:57:02.089Z");
}

static void test_names(void)
{
    CHECK(nb_s3_event_name_matches("s3:ObjectCreated:*", "s3:ObjectCreated:Put"));
    CHECK(nb_s3_event_name_matches("s3:ObjectCreated:Put", "s3:ObjectCreated:Put"));
    CHECK(!nb_s3_event_name_matches("s3:ObjectCreated:Put", "s3:ObjectCreated:Copy"));
    CHECK(!nb_s3_event_name_matches("s3:ObjectCreated:*", "s3:ObjectRemoved:Delete"));
    CHECK(nb_s3_event_name_matches("s3:LifecycleExpiration:*", "s3:LifecycleExpiration:Delete"));
    CHECK(!nb_s3_event_name_matches("s3:LifecycleExpiration:*", "s3:LifecycleTransition"));
    CHECK(!nb_s3_event_name_matches("s3:ObjectCreated:*", "s3:ObjectCreated:"));
}

static bool filt(const char *cfg, const char *key)
{
    json_t *j = json_loads(cfg, 0, NULL);
    bool r = nb_s3_event_filter_matches(j, key, strlen(key));
    json_decref(j);
    return r;
}

static void test_filters(void)
{
    const char *both = "{\"Filter\":{\"Key\":{\"FilterRules\":[{\"Name\":\"Prefix\",\"Value\":\"img/\"},"
                       "{\"Name\":\"suffix\",\"Value\":\".jpg\"}]}}}";
    CHECK(filt(both, "img/a.jpg"));
    CHECK(!filt(both, "img/a.png"));
    CHECK(!filt(both, "IMG/a.jpg")); /* values are case-sensitive */
    CHECK(!filt(both, ".jpg"));
    CHECK(filt("{}", "anything"));
    CHECK(filt("{\"Filter\":{\"Key\":{\"FilterRules\":[{\"Name\":\"suffix\",\"Value\":\"\"}]}}}", "x"));
}

int main(void)
{
    test_keys();
    test_time();
    test_names();
    test_filters();
    UNIT_DONE();
}
