/* Unit tests for the config contract: core/cfg.c, cfg_value.c, ini.c. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/cfg.h"
#include "core/cfg_value.h"
#include "core/log.h"

#define REQUIRED                                                             \
    "[aws]\nbucket = b\ntable = t\n[x]\ncredentials = env:X_CREDS\n"

static struct buf errors;

static struct cfg *
parse(const char *text)
{
    buf_reset(&errors);
    return cfg_parse("/etc/spookyd/test.conf", text, strlen(text), &errors);
}

/* Parse text that must fail; returns the error text. */
static const char *
parse_bad(const char *text)
{
    struct cfg *c = parse(text);

    if (c != NULL) {
        cfg_unref(c);
        fail_msg("config was accepted: %s", text);
    }
    return buf_str(&errors);
}

static int
setup(void **state)
{
    (void)state;
    buf_init(&errors);
    unsetenv("OPENAI_BASE_URL");
    return 0;
}

static int
teardown(void **state)
{
    (void)state;
    buf_cleanup(&errors);
    return 0;
}

static void
test_every_key(void **state)
{
    const char *text =
        "# full example\n"
        "[daemon]\nlog_level = debug\nmax_parallel = 7\n"
        "[schedule]\ncron = 30 0 9 * * 1-5\ntimezone = Europe/London\n"
        "catch_up = 1h30m\n"
        "[calendar]\nsource = days.json\nprompt = Spooky {day}\n"
        "caption = \"National {day} Day! {hashtag} #spooky\"\n"
        "alt_text = Alt {day} on {date}\n"
        "[openai]\napi_key = file:/run/keys/openai\n"
        "base_url = http://127.0.0.1:9000/v1/\nmodel = gpt-image-2.6-flare\n"
        "size = 1536x1024\nquality = medium\noutput_format = webp\n"
        "output_compression = 80\ntimeout = 2m\n"
        "[aws]\nregion = eu-west-1\nbucket = bkt\nprefix = img/\n"
        "kms_key_id = alias/k\ncache_control = max-age=60\ntable = jobs\n"
        "retention = 30\ns3_endpoint = http://127.0.0.1:4569\n"
        "dynamodb_endpoint = http://127.0.0.1:4567\n"
        "secretsmanager_endpoint = https://sm.example\n"
        "s3_path_style = yes\n"
        "[x]\ncredentials = secretsmanager:spookyd/x\n"
        "api_base_url = http://127.0.0.1:9001\npoll_interval = 90s\n"
        "post_spacing = 5m\nmax_attempts = 9\nreview = on\n";
    struct cfg *c = parse(text);

    (void)state;
    if (c == NULL)
        fail_msg("%s", buf_str(&errors));
    assert_int_equal(c->daemon.log_level, LOG_DEBUG);
    assert_int_equal(c->daemon.max_parallel, 7);
    assert_string_equal(c->schedule.cron_expr, "30 0 9 * * 1-5");
    assert_non_null(c->schedule.cron);
    assert_string_equal(c->schedule.timezone, "Europe/London");
    assert_int_equal(c->schedule.catch_up_ms, 90 * 60 * 1000);
    assert_string_equal(c->calendar.source, "/etc/spookyd/days.json");
    assert_string_equal(c->calendar.prompt, "Spooky {day}");
    assert_string_equal(c->calendar.caption,
                        "National {day} Day! {hashtag} #spooky");
    assert_string_equal(c->calendar.alt_text, "Alt {day} on {date}");
    assert_int_equal(c->openai.api_key.kind, SECRET_FILE);
    assert_string_equal(c->openai.api_key.name, "/run/keys/openai");
    assert_string_equal(c->openai.base_url, "http://127.0.0.1:9000/v1");
    assert_string_equal(c->openai.model, "gpt-image-2.6-flare");
    assert_string_equal(c->openai.size, "1536x1024");
    assert_string_equal(c->openai.quality, "medium");
    assert_string_equal(c->openai.output_format, "webp");
    assert_int_equal(c->openai.output_compression, 80);
    assert_int_equal(c->openai.timeout_ms, 120000);
    assert_string_equal(c->aws.region, "eu-west-1");
    assert_string_equal(c->aws.bucket, "bkt");
    assert_string_equal(c->aws.prefix, "img/");
    assert_string_equal(c->aws.kms_key_id, "alias/k");
    assert_string_equal(c->aws.cache_control, "max-age=60");
    assert_string_equal(c->aws.table, "jobs");
    assert_int_equal(c->aws.retention_days, 30);
    assert_string_equal(c->aws.s3_endpoint, "http://127.0.0.1:4569");
    assert_string_equal(c->aws.dynamodb_endpoint, "http://127.0.0.1:4567");
    assert_string_equal(c->aws.secretsmanager_endpoint, "https://sm.example");
    assert_true(c->aws.s3_path_style);
    assert_int_equal(c->x.credentials.kind, SECRET_SECRETSMANAGER);
    assert_string_equal(c->x.credentials.name, "spookyd/x");
    assert_string_equal(c->x.api_base_url, "http://127.0.0.1:9001");
    assert_int_equal(c->x.poll_interval_ms, 90000);
    assert_int_equal(c->x.post_spacing_ms, 300000);
    assert_int_equal(c->x.max_attempts, 9);
    assert_true(c->x.review);
    cfg_unref(c);
}

static void
test_defaults(void **state)
{
    struct cfg *c = parse(REQUIRED);

    (void)state;
    if (c == NULL)
        fail_msg("%s", buf_str(&errors));
    assert_int_equal(c->daemon.log_level, LOG_INFO);
    assert_int_equal(c->daemon.max_parallel, 4);
    assert_string_equal(c->schedule.cron_expr, "0 8 * * mon-fri");
    assert_string_equal(c->schedule.timezone, "America/New_York");
    assert_int_equal(c->schedule.catch_up_ms, 6 * 3600 * 1000);
    assert_string_equal(c->calendar.source,
                        SPOOKYD_SYSCONFDIR "/spookyd/national-days.json");
    assert_null(c->calendar.prompt);
    assert_string_equal(c->calendar.caption,
                        "National {day} Day! {hashtag}");
    assert_int_equal(c->openai.api_key.kind, SECRET_ENV);
    assert_string_equal(c->openai.api_key.name, "OPENAI_API_KEY");
    assert_string_equal(c->openai.base_url, "https://api.openai.com/v1");
    assert_string_equal(c->openai.model, "gpt-image-2");
    assert_string_equal(c->openai.size, "1024x1024");
    assert_string_equal(c->openai.quality, "high");
    assert_string_equal(c->openai.output_format, "png");
    assert_int_equal(c->openai.output_compression, -1);
    assert_int_equal(c->openai.timeout_ms, 300000);
    assert_null(c->aws.region);
    assert_string_equal(c->aws.prefix, "images/");
    assert_null(c->aws.kms_key_id);
    assert_string_equal(c->aws.cache_control,
                        "no-store, no-cache, must-revalidate, max-age=0");
    assert_int_equal(c->aws.retention_days, 0);
    assert_null(c->aws.s3_endpoint);
    assert_false(c->aws.s3_path_style);
    assert_string_equal(c->x.api_base_url, "https://api.x.com");
    assert_int_equal(c->x.poll_interval_ms, 60000);
    assert_int_equal(c->x.post_spacing_ms, 0);
    assert_int_equal(c->x.max_attempts, 5);
    assert_false(c->x.review);
    cfg_unref(c);
}

static void
test_openai_base_url_from_env(void **state)
{
    struct cfg *c;

    (void)state;
    setenv("OPENAI_BASE_URL", "http://127.0.0.1:1234/v1/", 1);
    c = parse(REQUIRED);
    assert_non_null(c);
    assert_string_equal(c->openai.base_url, "http://127.0.0.1:1234/v1");
    cfg_unref(c);
    /* The file wins over the environment. */
    c = parse(REQUIRED "[openai]\nbase_url = https://proxy.example/v1\n");
    assert_non_null(c);
    assert_string_equal(c->openai.base_url, "https://proxy.example/v1");
    cfg_unref(c);
    unsetenv("OPENAI_BASE_URL");
}

struct bad_case {
    const char *text;
    const char *error;
};

/* Each case is REQUIRED plus a snippet; the error text must contain the
 * expected "path:line: message". */
static const struct bad_case bad_values[] = {
    {"[daemon]\nlog_level = loud\n",
     "test.conf:7: log_level: 'loud' is not one of debug, info, notice, "
     "warning, err"},
    {"[daemon]\nmax_parallel = 0\n",
     "test.conf:7: max_parallel: '0' is not a whole number from 1 to 64"},
    {"[daemon]\nmax_parallel = 4x\n",
     "test.conf:7: max_parallel: '4x' is not a whole number"},
    {"[schedule]\ncatch_up = 6\n",
     "test.conf:7: catch_up: '6' is not a duration"},
    {"[schedule]\ncatch_up = 6y\n",
     "test.conf:7: catch_up: '6y' is not a duration"},
    {"[x]\npoll_interval = 10ms\n",
     "test.conf:7: poll_interval: '10ms' is not a duration of at least 1s"},
    {"[aws]\ns3_path_style = maybe\n",
     "test.conf:7: s3_path_style: 'maybe' is not yes/no/true/false/on/off"},
    {"[openai]\noutput_format = gif\n",
     "test.conf:7: output_format: 'gif' is not one of png, jpeg, webp"},
    {"[openai]\nmodel = dall-e-3\n",
     "test.conf:7: model: model 'dall-e-3' has been shut down by OpenAI"},
    {"[openai]\nsize = large\n",
     "test.conf:7: size: 'large' is not 'auto' or WIDTHxHEIGHT"},
    {"[openai]\nbase_url = ftp://x\n",
     "test.conf:7: base_url: 'ftp://x' is not an http:// or https:// URL"},
    {"[openai]\nbase_url = https://x/v1?key=1\n",
     "test.conf:7: base_url: 'https://x/v1?key=1' is not an http://"},
    {"[calendar]\nsource = s3://bucket-only\n",
     "test.conf:7: source: 's3://bucket-only' is not s3://bucket/key"},
    {"[calendar]\ncaption = Happy {dya}\n",
     "test.conf:7: caption: column 7: unknown placeholder"},
    {"[schedule]\ncron = 0 25 * * *\n", "test.conf:7: cron: column 3:"},
    {"[schedule]\ncron = 0 8 * *\n", "test.conf:7: cron:"},
    {"[schedule]\ntimezone = Mars/Olympus\n", "test.conf:7: timezone:"},
    {"[openai]\napi_key = env:\n",
     "test.conf:7: api_key: secret reference has an empty name"},
    {"[openai]\napi_key = env:1BAD\n", "test.conf:7: api_key: env: needs"},
    {"[openai]\napi_key = file:relative/key\n",
     "test.conf:7: api_key: file: needs an absolute path"},
    {"[openai]\napi_key = credential:../k\n",
     "test.conf:7: api_key: credential: needs a plain name"},
    {"[aws]\nbucket =\n", "test.conf:7: duplicate key 'bucket' in [aws] "
                          "(first set on line 2)"},
    {"[aws]\nflavour = mint\n", "test.conf:7: unknown key 'flavour' in "
                                "[aws]"},
    {"[extra]\nkey = v\n", "test.conf:6: unknown section [extra]"},
    {"[daemon\n", "test.conf:6: missing ']' in section header"},
    {"[daemon]\njust words\n", "test.conf:7: expected 'key = value'"},
    {"[daemon]\nLog_Level = info\n", "test.conf:7: bad key name"},
    {"[daemon]\nlog_level = \"info\n",
     "test.conf:7: unterminated quoted value"},
    {"[daemon]\nlog_level = \"info\" x\n",
     "test.conf:7: unexpected text after quoted value"},
    {"[daemon] junk\n", "test.conf:6: unexpected text after section"},
};

static void
test_bad_values(void **state)
{
    char text[1024];

    (void)state;
    for (size_t i = 0; i < sizeof(bad_values) / sizeof(bad_values[0]);
         i++) {
        const char *err;

        snprintf(text, sizeof(text), "%s%s", REQUIRED, bad_values[i].text);
        err = parse_bad(text);
        if (strstr(err, bad_values[i].error) == NULL)
            fail_msg("case %zu: want \"%s\"\n got \"%s\"", i,
                     bad_values[i].error, err);
    }
}

static void
test_inline_secret_is_refused_and_not_echoed(void **state)
{
    const char *err;

    (void)state;
    err = parse_bad("[aws]\nbucket = b\ntable = t\n[x]\n"
                    "credentials = sk-live-abcdef123456\n");
    assert_non_null(strstr(err, "test.conf:5: credentials: not a secret "
                                "reference (inline secrets are not "
                                "accepted"));
    assert_null(strstr(err, "sk-live-abcdef123456"));
}

static void
test_missing_required_keys(void **state)
{
    const char *err;

    (void)state;
    /* Section present: the error points at its header. */
    err = parse_bad("[daemon]\nlog_level = info\n[aws]\nbucket = b\n");
    assert_non_null(strstr(err, "test.conf:3: missing required key "
                                "'table' in [aws]\n"));
    /* Section absent: the error points at the last line. */
    assert_non_null(strstr(err, "test.conf:4: missing required key "
                                "'credentials' in [x]\n"));
    /* An empty file still names a line. */
    err = parse_bad("");
    assert_non_null(strstr(err, "test.conf:0: missing required key "
                                "'bucket' in [aws]"));
}

static void
test_all_problems_in_one_pass(void **state)
{
    const char *err;
    int lines = 0;

    (void)state;
    err = parse_bad("[daemon]\nlog_level = loud\nmax_parallel = 0\n"
                    "[nope]\n[schedule]\ncatch_up = soon\n");
    for (const char *p = err; *p; p++)
        lines += *p == '\n';
    /* 4 bad lines + 3 missing required keys */
    assert_int_equal(lines, 7);
    assert_non_null(strstr(err, "test.conf:2: log_level"));
    assert_non_null(strstr(err, "test.conf:3: max_parallel"));
    assert_non_null(strstr(err, "test.conf:4: unknown section [nope]"));
    assert_non_null(strstr(err, "test.conf:6: catch_up"));
}

static void
test_comments_and_quotes(void **state)
{
    struct cfg *c;

    (void)state;
    c = parse("; comment\n  # indented comment\n[aws] # trailing\n"
              "bucket = b#not-a-comment\ntable = t ; comment\n"
              "  prefix =   \"  spaced/ \"  # kept as quoted\n"
              "[x]\ncredentials = env:X\r\n");
    if (c == NULL)
        fail_msg("%s", buf_str(&errors));
    assert_string_equal(c->aws.bucket, "b#not-a-comment");
    assert_string_equal(c->aws.table, "t");
    assert_string_equal(c->aws.prefix, "  spaced/ ");
    assert_string_equal(c->x.credentials.name, "X");
    cfg_unref(c);
}

static void
test_empty_optional_means_unset(void **state)
{
    struct cfg *c;

    (void)state;
    c = parse(REQUIRED "[openai]\noutput_compression = 5\n"
                       "[calendar]\nprompt =\n");
    if (c == NULL)
        fail_msg("%s", buf_str(&errors));
    assert_null(c->calendar.prompt);
    cfg_unref(c);
}

static void
test_refcount_and_absolute_source(void **state)
{
    struct cfg *c;

    (void)state;
    c = parse(REQUIRED "[calendar]\nsource = s3://bkt/cal/days.json\n");
    assert_non_null(c);
    assert_string_equal(c->calendar.source, "s3://bkt/cal/days.json");
    assert_ptr_equal(cfg_ref(c), c);
    assert_int_equal(c->refs, 2);
    cfg_unref(c);
    assert_int_equal(c->refs, 1);
    cfg_unref(c);
    cfg_unref(NULL);
}

static void
test_load_missing_file(void **state)
{
    (void)state;
    buf_reset(&errors);
    assert_null(cfg_load("/nonexistent/spookyd.conf", &errors));
    assert_string_equal(buf_str(&errors),
                        "/nonexistent/spookyd.conf:0: cannot open: "
                        "No such file or directory\n");
}

static void
test_durations(void **state)
{
    static const struct {
        const char *text;
        int64_t ms;
    } good[] = {{"0", 0},       {"250ms", 250},     {"90s", 90000},
                {"5m", 300000}, {"1h30m", 5400000}, {"2d", 172800000},
                {"1m1ms", 60001}};
    static const char *const bad[] = {"", "5", "5x", "m", "-1s", "1.5h",
                                      "s5", "99999999999999999999d"};
    char back[32];
    int64_t ms;

    (void)state;
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        assert_int_equal(cfg_value_duration(good[i].text, &ms), 0);
        assert_int_equal(ms, good[i].ms);
        cfg_value_format_duration(ms, back, sizeof(back));
        assert_int_equal(cfg_value_duration(back, &ms), 0);
        assert_int_equal(ms, good[i].ms);
    }
    cfg_value_format_duration(5400000, back, sizeof(back));
    assert_string_equal(back, "1h30m");
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        if (cfg_value_duration(bad[i], &ms) == 0)
            fail_msg("'%s' was accepted", bad[i]);
}

static void
test_booleans(void **state)
{
    static const char *const yes[] = {"yes", "TRUE", "On", "1"};
    static const char *const no[] = {"no", "false", "OFF", "0"};
    bool b;

    (void)state;
    for (size_t i = 0; i < 4; i++) {
        assert_int_equal(cfg_value_bool(yes[i], &b), 0);
        assert_true(b);
        assert_int_equal(cfg_value_bool(no[i], &b), 0);
        assert_false(b);
    }
    assert_int_equal(cfg_value_bool("y", &b), ERR_FAIL);
    assert_int_equal(cfg_value_bool("", &b), ERR_FAIL);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_key),
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_openai_base_url_from_env),
        cmocka_unit_test(test_bad_values),
        cmocka_unit_test(test_inline_secret_is_refused_and_not_echoed),
        cmocka_unit_test(test_missing_required_keys),
        cmocka_unit_test(test_all_problems_in_one_pass),
        cmocka_unit_test(test_comments_and_quotes),
        cmocka_unit_test(test_empty_optional_means_unset),
        cmocka_unit_test(test_refcount_and_absolute_source),
        cmocka_unit_test(test_load_missing_file),
        cmocka_unit_test(test_durations),
        cmocka_unit_test(test_booleans),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
