/* Unit tests for core/log.c: field selection, order and line format. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "core/log.h"

static void
test_fields_in_order_and_empty_skipped(void **state)
{
    struct log_ctx ctx = {
        .job_id = "2026-01-15_0_Hat",
        .national_day = "Hat",
        .http_method = "PUT",
        .url = "https://b.s3.amazonaws.com/images/x.png?X-Amz-Signature=abc",
        .http_status = 200,
        .duration_ms = 41,
        .attempt = 2,
    };
    struct log_field f[LOG_MAX_FIELDS];
    size_t n;

    (void)state;
    n = log_fields(&ctx, f);
    assert_int_equal(n, 7);
    assert_string_equal(f[0].name, "JOB_ID");
    assert_string_equal(f[1].name, "NATIONAL_DAY");
    assert_string_equal(f[2].name, "HTTP_METHOD");
    assert_string_equal(f[3].name, "URL");
    /* The query string (a presigned signature here) never reaches a log. */
    assert_string_equal(f[3].value,
                        "https://b.s3.amazonaws.com/images/x.png");
    assert_string_equal(f[4].name, "HTTP_STATUS");
    assert_string_equal(f[4].value, "200");
    assert_string_equal(f[5].name, "DURATION_MS");
    assert_string_equal(f[6].name, "ATTEMPT");
    assert_int_equal(log_fields(NULL, f), 0);
}

static void
test_line_quotes_values(void **state)
{
    struct log_ctx ctx = {.national_day = "Don't \"Cry\" Over\nMilk",
                          .tweet_id = "1880028106020515840"};
    char line[256];

    (void)state;
    log_format_line(line, sizeof(line), LOG_WARNING, "posted", &ctx);
    assert_string_equal(line,
                        "warning: posted NATIONAL_DAY=\"Don't \\\"Cry\\\" "
                        "Over\\x0aMilk\" TWEET_ID=1880028106020515840");
    log_format_line(line, sizeof(line), LOG_INFO, "plain", NULL);
    assert_string_equal(line, "info: plain");
}

static void
test_line_truncates_safely(void **state)
{
    struct log_ctx ctx = {.job_id = "a-very-long-job-id-for-a-small-buffer"};
    char line[24];

    (void)state;
    log_format_line(line, sizeof(line), LOG_INFO, "message", &ctx);
    assert_true(strlen(line) < sizeof(line));
    assert_memory_equal(line, "info: message", 13);
}

static void
test_levels(void **state)
{
    (void)state;
    assert_int_equal(log_level_parse("debug"), LOG_DEBUG);
    assert_int_equal(log_level_parse("INFO"), LOG_INFO);
    assert_int_equal(log_level_parse("notice"), LOG_NOTICE);
    assert_int_equal(log_level_parse("warning"), LOG_WARNING);
    assert_int_equal(log_level_parse("err"), LOG_ERR);
    assert_int_equal(log_level_parse("error"), LOG_ERR);
    assert_int_equal(log_level_parse("trace"), -1);
    assert_string_equal(log_level_name(LOG_WARNING), "warning");
    log_set_level(LOG_NOTICE);
    assert_true(log_enabled(LOG_ERR));
    assert_true(log_enabled(LOG_NOTICE));
    assert_false(log_enabled(LOG_INFO));
    log_set_level(LOG_INFO);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fields_in_order_and_empty_skipped),
        cmocka_unit_test(test_line_quotes_values),
        cmocka_unit_test(test_line_truncates_safely),
        cmocka_unit_test(test_levels),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
