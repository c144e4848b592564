/* Unit tests for calendar.c: validation messages, a good calendar, file
 * loading with its size limit, and the shipped conf/national-days.json. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "calendar.h"
#include "core/buf.h"
#include "core/template.h"

/* Path of a file in the source tree; tests/run exports SPOOKYD_TOP. */
static const char *
top_path(const char *rel)
{
    static char path[4096];
    const char *top = getenv("SPOOKYD_TOP");

    snprintf(path, sizeof(path), "%s/%s", top != NULL ? top : ".", rel);
    return path;
}

static void
expect_error(const char *json, const char *want)
{
    char err[ERR_LEN] = "";
    struct calendar *cal = calendar_parse(json, strlen(json), err);

    if (cal != NULL)
        fail_msg("accepted: %s", json);
    assert_string_equal(err, want);
}

/* jansson writes the text; we promise the position. */
static void
expect_json_error(const char *json, const char *where, const char *what)
{
    char err[ERR_LEN] = "";

    assert_null(calendar_parse(json, strlen(json), err));
    assert_true(strncmp(err, where, strlen(where)) == 0);
    assert_non_null(strstr(err, what));
}

static void
test_day_errors(void **state)
{
    (void)state;
    expect_error("{\"december\": {\"32\": [\"X\"]}}",
                 "december.32: day out of range 1-31");
    expect_error("{\"february\": {\"30\": [\"X\"]}}",
                 "february.30: day out of range 1-29");
    expect_error("{\"april\": {\"31\": [\"X\"]}}",
                 "april.31: day out of range 1-30");
    expect_error("{\"january\": {\"0\": [\"X\"]}}",
                 "january.0: day out of range 1-31");
    expect_error("{\"january\": {\"123\": [\"X\"]}}",
                 "january.123: day out of range 1-31");
    expect_error("{\"january\": {\"01\": [\"X\"]}}",
                 "january.01: day must not have a leading zero");
    expect_error("{\"january\": {\"x\": [\"X\"]}}",
                 "january.x: day must be a decimal number");
    expect_error("{\"january\": {\"\": [\"X\"]}}",
                 "january.: day must be a decimal number");
    expect_error("{\"january\": {\"-1\": [\"X\"]}}",
                 "january.-1: day must be a decimal number");
    expect_error("{\"january\": {\" 1\": [\"X\"]}}",
                 "january. 1: day must be a decimal number");
    expect_error("{\"january\": {\"1.0\": [\"X\"]}}",
                 "january.1.0: day must be a decimal number");
    expect_error("{\"january\": {\"1\\n\": [\"X\"]}}",
                 "january.1?: day must be a decimal number");
}

static void
test_month_and_top_errors(void **state)
{
    (void)state;
    expect_error("{\"smarch\": {}}", "smarch: unknown month");
    expect_error("{\"January\": {}}",
                 "January: unknown month (write \"january\")");
    expect_error("{\"prompt\": \"x\"}",
                 "prompt: unknown key (the prefix key is \"Prompt\")");
    expect_error("{\"january\": []}", "january: expected an object");
    expect_error("{\"january\": \"15\"}", "january: expected an object");
    expect_error("[]", "top level: expected an object");
    expect_error("{\"Prompt\": 5}", "Prompt: expected a string");
    expect_error("{\"Prompt\": null}", "Prompt: expected a string");
    expect_error("{\"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\": 1}",
                 "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx...: "
                 "unknown month");
}

static void
test_name_errors(void **state)
{
    (void)state;
    expect_error("{\"january\": {\"15\": [\"A\", \"B\", 3]}}",
                 "january.15[2]: expected a string");
    expect_error("{\"january\": {\"15\": [\"\"]}}",
                 "january.15[0]: empty name");
    expect_error("{\"january\": {\"15\": \"Hat\"}}",
                 "january.15: expected an array of names");
    expect_error("{\"january\": {\"15\": []}}",
                 "january.15: expected 1-32 names");
    expect_error("{\"january\": {\"15\": [\"Hat\", \"Pie\", \"Hat\"]}}",
                 "january.15[2]: duplicate name \"Hat\"");
    expect_error("{\"january\": {\"15\": [\"Hat\", \"!!!\"]}}",
                 "january.15[1]: name has no letters or digits \"!!!\"");
    expect_error("{\"january\": {\"15\": [\"A\\nB\"]}}",
                 "january.15[0]: control character in name \"A?B\"");
    expect_error("{\"january\": {\"15\": [\" Hat\"]}}",
                 "january.15[0]: leading or trailing space in name \" Hat\"");
    expect_error("{\"january\": {\"15\": [\"Hat \"]}}",
                 "january.15[0]: leading or trailing space in name \"Hat \"");
}

static void
test_json_errors(void **state)
{
    (void)state;
    expect_json_error("{\n  \"january\": {\n    \"15\": [\"A\",]\n  }\n}",
                      "line 3 column 16: ", "unexpected token");
    /* Invalid UTF-8 in a name: jansson refuses it and says where. */
    expect_json_error("{\"january\": {\"15\": [\"A\xff\"]}}",
                      "line 1 column 22: ", "0xff");
    expect_json_error("{\"january\": {\"15\": [\"A\\ud800\"]}}",
                      "line 1 column ", "invalid Unicode");
    expect_json_error("{\"january\": {\"15\": [\"A\"], \"15\": [\"B\"]}}",
                      "line 1 column 30: ", "duplicate object key");
    expect_json_error("{\"january\": {}, \"january\": {}}",
                      "line 1 column ", "duplicate object key");
    expect_json_error("{\"january\": {\"15\": [\"A\\u0000B\"]}}",
                      "line 1 column ", "\\u0000");
    expect_json_error("", "line 1 column 0: ", "expected");
    expect_json_error("\"just a string\"", "line 1 column ", "expected");
}

static void
test_limits(void **state)
{
    struct buf b;
    char err[ERR_LEN];
    struct calendar *cal;

    (void)state;
    buf_init(&b);
    buf_printf(&b, "{\"january\": {\"15\": [\"%0200d\"]}}", 1);
    cal = calendar_parse(b.data, b.len, err);
    assert_non_null(cal); /* exactly CALENDAR_MAX_NAME bytes */
    calendar_free(cal);
    buf_reset(&b);
    buf_printf(&b, "{\"january\": {\"15\": [\"%0201d\"]}}", 1);
    assert_null(calendar_parse(b.data, b.len, err));
    assert_string_equal(err, "january.15[0]: name longer than 200 bytes "
                        "\"0000000000000000000000000000000000000000...\"");

    buf_reset(&b);
    buf_appends(&b, "{\"january\": {\"15\": [\"N0\"");
    for (int i = 1; i < CALENDAR_MAX_NAMES; i++)
        buf_printf(&b, ", \"N%d\"", i);
    buf_appends(&b, "]}}");
    cal = calendar_parse(b.data, b.len, err);
    assert_int_equal(calendar_days(cal, 1, 15, NULL), CALENDAR_MAX_NAMES);
    calendar_free(cal);
    b.len -= 3;
    buf_appends(&b, ", \"Nmore\"]}}");
    assert_null(calendar_parse(b.data, b.len, err));
    assert_string_equal(err, "january.15: expected 1-32 names");

    buf_reset(&b);
    buf_printf(&b, "{\"Prompt\": \"%01001d\"}", 7);
    assert_null(calendar_parse(b.data, b.len, err));
    assert_string_equal(err, "Prompt: longer than 1000 bytes");
    buf_cleanup(&b);
}

/* The first problem in document order is the one reported. */
static void
test_first_problem_wins(void **state)
{
    (void)state;
    expect_error("{\"smarch\": 1, \"december\": {\"32\": [\"X\"]}}",
                 "smarch: unknown month");
    expect_error("{\"december\": {\"32\": [\"X\"]}, \"smarch\": 1}",
                 "december.32: day out of range 1-31");
    expect_error("{\"may\": {\"1\": [\"\", 5]}}", "may.1[0]: empty name");
}

static void
test_good_calendar(void **state)
{
    const char *json =
        "{\"january\": {\"15\": [\"Hat\", \"Strawberry Ice Cream\", "
        "\"Bagel\"], \"1\": [\"Bloody Mary\"]},"
        " \"Prompt\": \"A spooky picture for National \","
        " \"february\": {\"29\": [\"Leap\"]},"
        " \"july\": {\"10\": [\"Piña Colada\", \"Kitten\"]}}";
    char err[ERR_LEN] = "";
    const char *const *names;
    struct calendar *cal = calendar_parse(json, strlen(json), err);

    (void)state;
    assert_non_null(cal);
    assert_string_equal(calendar_prompt_prefix(cal),
                        "A spooky picture for National ");
    assert_int_equal(calendar_date_count(cal), 4);
    assert_int_equal(calendar_days(cal, 1, 15, &names), 3);
    assert_string_equal(names[0], "Hat");
    assert_string_equal(names[1], "Strawberry Ice Cream");
    assert_string_equal(names[2], "Bagel");
    assert_int_equal(calendar_days(cal, 1, 1, &names), 1);
    assert_string_equal(names[0], "Bloody Mary");
    assert_int_equal(calendar_days(cal, 2, 29, &names), 1);
    assert_string_equal(names[0], "Leap");
    assert_int_equal(calendar_days(cal, 7, 10, &names), 2);
    assert_string_equal(names[0], "Piña Colada");
    assert_string_equal(names[1], "Kitten");
    assert_int_equal(calendar_days(cal, 1, 16, &names), 0);
    assert_null(names);
    calendar_free(cal);
}

static void
test_queries_out_of_range(void **state)
{
    const char *json = "{\"january\": {\"1\": [\"A\"]}}";
    const char *const *names = (const char *const *)&json;
    char err[ERR_LEN];
    struct calendar *cal = calendar_parse(json, strlen(json), err);

    (void)state;
    assert_null(calendar_prompt_prefix(cal));
    assert_int_equal(calendar_days(cal, 0, 1, &names), 0);
    assert_null(names);
    assert_int_equal(calendar_days(cal, 13, 1, &names), 0);
    assert_int_equal(calendar_days(cal, 1, 0, &names), 0);
    assert_int_equal(calendar_days(cal, 1, 32, &names), 0);
    assert_int_equal(calendar_days(cal, 1, 1, NULL), 1);
    assert_int_equal(calendar_days(NULL, 1, 1, &names), 0);
    assert_int_equal(calendar_date_count(NULL), 0);
    calendar_free(cal);
    calendar_free(NULL);

    cal = calendar_parse("{}", 2, err);
    assert_int_equal(calendar_date_count(cal), 0);
    calendar_free(cal);
    cal = calendar_parse("{\"Prompt\": \"\"}", 14, err);
    assert_string_equal(calendar_prompt_prefix(cal), "");
    calendar_free(cal);
}

/* err must read "<path>: <msg>". */
static void
expect_path_error(const char *err, const char *path, const char *msg)
{
    size_t n = strlen(path);

    assert_true(strncmp(err, path, n) == 0);
    assert_true(strncmp(err + n, ": ", 2) == 0);
    assert_string_equal(err + n + 2, msg);
}

static void
test_load_file(void **state)
{
    char err[ERR_LEN];
    const char *const *names;
    const char *path;
    struct calendar *cal;

    (void)state;
    path = top_path("tests/vectors/calendar/good.json");
    cal = calendar_load_file(path, err);
    assert_non_null(cal);
    assert_int_equal(calendar_date_count(cal), 5);
    assert_int_equal(calendar_days(cal, 12, 31, &names), 2);
    assert_string_equal(names[1], "Make Up Your Mind");
    calendar_free(cal);

    path = top_path("tests/vectors/calendar/bad-day.json");
    assert_null(calendar_load_file(path, err));
    expect_path_error(err, path, "december.32: day out of range 1-31");

    path = top_path("tests/vectors/calendar/missing.json");
    assert_null(calendar_load_file(path, err));
    expect_path_error(err, path, "No such file or directory");

    path = top_path("tests/vectors/calendar");
    assert_null(calendar_load_file(path, err));
    expect_path_error(err, path, "Is a directory");
}

/* A valid document padded with spaces to size bytes, in a temp file. */
static void
write_padded(const char *path, size_t size)
{
    const char *doc = "{\"january\": {\"1\": [\"A\"]}}";
    FILE *f = fopen(path, "w");

    assert_non_null(f);
    fputs(doc, f);
    for (size_t i = strlen(doc); i < size; i++)
        fputc(' ', f);
    assert_int_equal(fclose(f), 0);
}

static void
test_file_size_limit(void **state)
{
    char path[] = "/tmp/spookyd-calendar-XXXXXX";
    char err[ERR_LEN];
    struct calendar *cal;
    int fd;

    (void)state;
    fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    write_padded(path, CALENDAR_MAX_BYTES);
    cal = calendar_load_file(path, err);
    assert_non_null(cal);
    assert_int_equal(calendar_date_count(cal), 1);
    calendar_free(cal);

    write_padded(path, CALENDAR_MAX_BYTES + 1);
    assert_null(calendar_load_file(path, err));
    expect_path_error(err, path, "file is larger than 4194304 bytes (4 MiB)");
    unlink(path);

    assert_null(calendar_parse("{}", CALENDAR_MAX_BYTES + 1, err));
    assert_string_equal(err, "document is larger than 4194304 bytes (4 MiB)");
}

static int
has_word(const char *name, const char *word)
{
    size_t n = strlen(word);

    for (const char *p = strstr(name, word); p != NULL;
         p = strstr(p + 1, word))
        if ((p == name || p[-1] == ' ') && (p[n] == '\0' || p[n] == ' '))
            return 1;
    return 0;
}

static void
check_shipped_name(const char *name)
{
    struct template_vars v = {.day = name, .date = "2024-01-01"};
    char *tag;

    if (has_word(name, "National") || has_word(name, "Day"))
        fail_msg("name carries National or Day: %s", name);
    tag = template_expand("{hashtag}", &v);
    assert_true(strncmp(tag, "#National", 9) == 0);
    assert_true(strlen(tag) > strlen("#NationalDay"));
    assert_null(strchr(tag, ' '));
    free(tag);
}

/* Every date of a leap year, 1-4 names each. */
static void
test_shipped_calendar(void **state)
{
    static const int len[12] = {31, 29, 31, 30, 31, 30,
                                31, 31, 30, 31, 30, 31};
    const char *const *names;
    const char *prompt;
    char err[ERR_LEN] = "";
    struct calendar *cal;
    size_t n, dates = 0;

    (void)state;
    cal = calendar_load_file(top_path("conf/national-days.json"), err);
    if (cal == NULL)
        fail_msg("%s", err);
    for (int m = 1; m <= 12; m++) {
        for (int d = 1; d <= len[m - 1]; d++) {
            n = calendar_days(cal, m, d, &names);
            if (n < 1 || n > 4)
                fail_msg("%d-%d has %zu names", m, d, n);
            for (size_t i = 0; i < n; i++)
                check_shipped_name(names[i]);
            dates++;
        }
    }
    assert_int_equal(dates, 366);
    assert_int_equal(calendar_date_count(cal), 366);
    prompt = calendar_prompt_prefix(cal);
    assert_non_null(prompt);
    assert_true(strlen(prompt) > strlen("National "));
    assert_string_equal(prompt + strlen(prompt) - 9, "National ");
    calendar_free(cal);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_day_errors),
        cmocka_unit_test(test_month_and_top_errors),
        cmocka_unit_test(test_name_errors),
        cmocka_unit_test(test_json_errors),
        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_first_problem_wins),
        cmocka_unit_test(test_good_calendar),
        cmocka_unit_test(test_queries_out_of_range),
        cmocka_unit_test(test_load_file),
        cmocka_unit_test(test_file_size_limit),
        cmocka_unit_test(test_shipped_calendar),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
