/* Unit tests for ddbjson.c: DynamoDB number syntax, AttributeValue round
 * trips (big N strings, UTF-8, nested M and L), constructor refusals,
 * checker messages with paths, and typed readers. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "aws/ddbjson.h"

/* A twitter media id: above 2^53, so a double would change it. */
#define BIG_ID "1880028106020515840"
#define UTF8_NAME "Pi\xc3\xb1" "a Colada \xe2\x98\xa0"

static void
test_number_syntax(void **state)
{
    static const char *const good[] = {
        "0", "-0", "+7", "42", "-3.5", BIG_ID, ".5", "5.", "0000001",
        "1E+125", "1e-130", "-1E-130", "0.000E+99999",
        "9.9999999999999999999999999999999999999E+125",
        "12345678901234567890123456789012345678",
        "1234567890123456789012345678901234567800000",
        "0.00000000001234567890123456789012345678",
    };
    static const char *const bad[] = {
        "", "-", "+", ".", "abc", "1e", "1e+", "1.2.3", "0x10", " 1",
        "1 ", "NaN", "Infinity", "--1", "1,5", "1E+126", "1E-131",
        "10E+125", "0.1E-130",
        "123456789012345678901234567890123456789",
        "1.23456789012345678901234567890123456789",
    };
    char longest[DDBJSON_N_MAX_LEN + 2];
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(good) / sizeof(good[0]); i++)
        if (!ddbjson_number_ok(good[i]))
            fail_msg("refused %s", good[i]);
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        if (ddbjson_number_ok(bad[i]))
            fail_msg("accepted \"%s\"", bad[i]);
    assert_false(ddbjson_number_ok(NULL));
    memset(longest, '0', sizeof(longest) - 1);
    longest[DDBJSON_N_MAX_LEN] = '\0';
    assert_true(ddbjson_number_ok(longest));
    longest[DDBJSON_N_MAX_LEN] = '1';
    longest[DDBJSON_N_MAX_LEN + 1] = '\0';
    assert_false(ddbjson_number_ok(longest));
}

/* An item using every type the builder makes, three levels deep. */
static json_t *
sample_item(void)
{
    static const char *const tags[] = {"spooky", UTF8_NAME, ""};
    json_t *item = json_object(), *inner = json_object(), *list;

    assert_int_equal(ddbjson_set_s(item, "job_id", "2026-07-10#0"), 0);
    assert_int_equal(ddbjson_set_n(item, "timestamp", "1783670400"), 0);
    assert_int_equal(ddbjson_set_n(item, "media_id", BIG_ID), 0);
    assert_int_equal(ddbjson_set_n(item, "tiny", "-1.5E-100"), 0);
    assert_int_equal(ddbjson_set_i64(item, "min", INT64_MIN), 0);
    assert_int_equal(ddbjson_set_s(item, "national_day", UTF8_NAME), 0);
    assert_int_equal(ddbjson_set_s(item, "empty", ""), 0);
    assert_int_equal(ddbjson_set_bool(item, "posted", 1), 0);
    assert_int_equal(ddbjson_set_bool(item, "retried", 0), 0);
    assert_int_equal(ddbjson_set(item, "error", ddbjson_null()), 0);
    assert_int_equal(ddbjson_set(item, "tags", ddbjson_ss(tags, 3)), 0);
    assert_int_equal(ddbjson_set_n(inner, "w", "1024"), 0);
    list = json_array();
    json_array_append_new(list, ddbjson_s("a"));
    json_array_append_new(list, ddbjson_m(json_object()));
    json_array_append_new(list, ddbjson_n(BIG_ID));
    assert_int_equal(ddbjson_set(inner, "parts", ddbjson_l(list)), 0);
    assert_int_equal(ddbjson_set(item, "image", ddbjson_m(inner)), 0);
    return item;
}

static void
test_round_trip(void **state)
{
    json_t *item = sample_item(), *back, *parts;
    const json_t *image;
    char err[ERR_LEN] = "", *text, *again;
    int64_t v = 0;
    int b = -1;

    (void)state;
    assert_int_equal(ddbjson_check_map(item, err), 0);
    text = ddbjson_dump(item);
    assert_non_null(text);
    /* The big id travels as a JSON string, digit for digit. */
    assert_non_null(strstr(text, "\"media_id\":{\"N\":\"" BIG_ID "\"}"));
    back = ddbjson_parse_map(text, strlen(text), err);
    assert_non_null(back);
    assert_string_equal(err, "");
    assert_true(json_equal(item, back));
    again = ddbjson_dump(back);
    assert_string_equal(again, text);

    assert_string_equal(ddbjson_get_s(back, "job_id"), "2026-07-10#0");
    assert_string_equal(ddbjson_get_s(back, "national_day"), UTF8_NAME);
    assert_string_equal(ddbjson_get_s(back, "empty"), "");
    assert_string_equal(ddbjson_get_n(back, "media_id"), BIG_ID);
    assert_string_equal(ddbjson_get_n(back, "tiny"), "-1.5E-100");
    assert_int_equal(ddbjson_get_i64(back, "media_id", &v, err), 0);
    assert_true(v == INT64_C(1880028106020515840));
    assert_int_equal(ddbjson_get_i64(back, "min", &v, err), 0);
    assert_true(v == INT64_MIN);
    assert_int_equal(ddbjson_get_bool(back, "posted", &b), 0);
    assert_int_equal(b, 1);
    assert_int_equal(ddbjson_get_bool(back, "retried", &b), 0);
    assert_int_equal(b, 0);
    assert_int_equal(ddbjson_type(json_object_get(back, "error")),
                     DDBJSON_NULL);
    image = ddbjson_get_m(back, "image");
    assert_non_null(image);
    assert_string_equal(ddbjson_get_n(image, "w"), "1024");
    parts = (json_t *)ddbjson_get_l(image, "parts");
    assert_int_equal(json_array_size(parts), 3);
    assert_int_equal(ddbjson_type(json_array_get(parts, 1)), DDBJSON_M);
    assert_true(json_is_string(
        json_object_get(json_array_get(parts, 2), "N")));
    free(text);
    free(again);
    json_decref(back);
    json_decref(item);
}

/* Typed readers answer only for the type asked. */
static void
test_readers_by_type(void **state)
{
    json_t *item = sample_item();
    char err[ERR_LEN] = "";
    int64_t v = 7;
    int b = 7;

    (void)state;
    assert_null(ddbjson_get_s(item, "timestamp"));
    assert_null(ddbjson_get_n(item, "job_id"));
    assert_null(ddbjson_get_s(item, "absent"));
    assert_null(ddbjson_get_s(NULL, "job_id"));
    assert_null(ddbjson_get_m(item, "tags"));
    assert_null(ddbjson_get_l(item, "image"));
    assert_int_equal(ddbjson_get_bool(item, "job_id", &b), ERR_FAIL);
    assert_int_equal(b, 7);
    assert_int_equal(ddbjson_get_i64(item, "tiny", &v, err), ERR_FAIL);
    assert_string_equal(err, "tiny: not a plain integer");
    assert_int_equal(ddbjson_get_i64(item, "job_id", &v, err), ERR_FAIL);
    assert_string_equal(err, "job_id: missing or not an N");
    assert_int_equal(v, 7);
    assert_int_equal(ddbjson_set_n(item, "big", "9223372036854775808"), 0);
    assert_int_equal(ddbjson_get_i64(item, "big", &v, err), ERR_FAIL);
    assert_string_equal(err, "big: integer out of 64-bit range");
    assert_int_equal(ddbjson_set_n(item, "exp", "1E3"), 0);
    assert_int_equal(ddbjson_get_i64(item, "exp", &v, err), ERR_FAIL);
    assert_int_equal(ddbjson_set_n(item, "neg", "-12"), 0);
    assert_int_equal(ddbjson_get_i64(item, "neg", &v, err), 0);
    assert_int_equal(v, -12);
    json_decref(item);
}

static void
test_constructor_refusals(void **state)
{
    static const char *const dup[] = {"a", "b", "a"};
    static const char *const with_null[] = {"a", NULL};
    json_t *map = json_object();

    (void)state;
    assert_null(ddbjson_s(NULL));
    assert_null(ddbjson_s("bad \xff utf-8"));
    assert_null(ddbjson_n("12abc"));
    assert_null(ddbjson_n(NULL));
    assert_null(ddbjson_ss(dup, 3));
    assert_null(ddbjson_ss(dup, 0));
    assert_null(ddbjson_ss(with_null, 2));
    assert_null(ddbjson_ss(NULL, 1));
    assert_null(ddbjson_m(json_array()));
    assert_null(ddbjson_l(json_object()));
    assert_null(ddbjson_m(NULL));
    /* A failed constructor passed to a setter is an error, not a leak. */
    assert_int_equal(ddbjson_set(map, "n", ddbjson_n("x")), ERR_FAIL);
    assert_int_equal(ddbjson_set_s(map, "s", "\xc3"), ERR_FAIL);
    assert_int_equal(ddbjson_set_s(map, "", "x"), ERR_FAIL);
    assert_int_equal(ddbjson_set_s(map, NULL, "x"), ERR_FAIL);
    assert_int_equal(ddbjson_set_s(map, "\xff", "x"), ERR_FAIL);
    assert_int_equal(ddbjson_set(NULL, "x", ddbjson_null()), ERR_FAIL);
    assert_int_equal(ddbjson_set(json_array_get(map, 0), "x",
                                 ddbjson_bool(1)), ERR_FAIL);
    assert_int_equal(json_object_size(map), 0);
    /* Setting a name again replaces the value. */
    assert_int_equal(ddbjson_set_s(map, "k", "one"), 0);
    assert_int_equal(ddbjson_set_s(map, "k", "two"), 0);
    assert_string_equal(ddbjson_get_s(map, "k"), "two");
    assert_null(ddbjson_dump(NULL));
    json_decref(map);
}

static void
expect_bad(const char *json, const char *want)
{
    char err[ERR_LEN] = "";
    json_t *m = ddbjson_parse_map(json, strlen(json), err);

    if (m != NULL)
        fail_msg("accepted: %s", json);
    if (strcmp(err, want) != 0)
        fail_msg("for %s\n got: %s\nwant: %s", json, err, want);
}

static void
test_check_messages(void **state)
{
    (void)state;
    expect_bad("[]", "not a JSON object of attributes");
    expect_bad("{\"a\":{\"S\":1}}", "a: S value is not a JSON string");
    expect_bad("{\"a\":{\"N\":12}}", "a: N value is not a JSON string");
    expect_bad("{\"a\":{\"N\":\"1x\"}}",
               "a: N value is not a DynamoDB number");
    expect_bad("{\"a\":{\"S\":\"x\",\"N\":\"1\"}}",
               "a: not an AttributeValue (one key of S, N, B, BOOL, "
               "NULL, M, L, SS, NS, BS)");
    expect_bad("{\"a\":{}}", "a: not an AttributeValue (one key of S, N, "
                             "B, BOOL, NULL, M, L, SS, NS, BS)");
    expect_bad("{\"a\":{\"s\":\"x\"}}", "a: not an AttributeValue (one "
               "key of S, N, B, BOOL, NULL, M, L, SS, NS, BS)");
    expect_bad("{\"a\":{\"M\":{\"b\":{\"L\":[{\"N\":\"1\"},"
               "{\"N\":\"one\"}]}}}}",
               "a.b[1]: N value is not a DynamoDB number");
    expect_bad("{\"a\":{\"NULL\":false}}", "a: NULL value is not true");
    expect_bad("{\"a\":{\"BOOL\":\"true\"}}",
               "a: BOOL value is not true or false");
    expect_bad("{\"a\":{\"M\":[]}}", "a: M value is not a JSON object");
    expect_bad("{\"a\":{\"L\":{}}}", "a: L value is not a JSON array");
    expect_bad("{\"a\":{\"SS\":[]}}", "a: SS value is not a non-empty array");
    expect_bad("{\"a\":{\"SS\":[\"x\",2]}}",
               "a[1]: SS member is not a JSON string");
    expect_bad("{\"a\":{\"SS\":[\"x\",\"y\",\"x\"]}}",
               "a[2]: SS member repeats an earlier one");
    expect_bad("{\"a\":{\"NS\":[\"1\",\"z\"]}}",
               "a[1]: N value is not a DynamoDB number");
    expect_bad("{\"a\":{\"B\":\"abc\"}}", "a: B value is not base64");
    expect_bad("{\"a\":{\"BS\":[\"QQ==\",\"Q=Q=\"]}}",
               "a[1]: B value is not base64");
}

static void
test_check_accepts_read_only_types(void **state)
{
    static const char json[] =
        "{\"b\":{\"B\":\"3q2+7w==\"},\"bs\":{\"BS\":[\"QQ==\",\"Qg==\"]},"
        "\"ns\":{\"NS\":[\"1\",\"" BIG_ID "\",\"-2.5\"]}}";
    char err[ERR_LEN] = "";
    json_t *m = ddbjson_parse_map(json, strlen(json), err);

    (void)state;
    assert_non_null(m);
    assert_int_equal(ddbjson_type(json_object_get(m, "b")), DDBJSON_B);
    assert_int_equal(ddbjson_type(json_object_get(m, "bs")), DDBJSON_BS);
    assert_int_equal(ddbjson_type(json_object_get(m, "ns")), DDBJSON_NS);
    assert_string_equal(ddbjson_type_name(DDBJSON_NS), "NS");
    assert_string_equal(ddbjson_type_name(DDBJSON_INVALID), "?");
    assert_string_equal(ddbjson_type_name((enum ddbjson_type)99), "?");
    assert_int_equal(ddbjson_type(NULL), DDBJSON_INVALID);
    json_decref(m);
}

/* Malformed text: jansson's position comes through, nothing crashes. */
static void
test_malformed_json(void **state)
{
    static const char *const inputs[] = {
        "", "{", "{\"a\":{\"S\":\"x\"}", "{\"a\":{\"S\":\"\xff\"}}",
        "{\"a\":{\"S\":\"x\\u0000y\"}}", "null", "\"text\"",
    };
    char err[ERR_LEN];
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(inputs) / sizeof(inputs[0]); i++) {
        err[0] = '\0';
        assert_null(ddbjson_parse_map(inputs[i], strlen(inputs[i]), err));
        assert_true(err[0] != '\0');
    }
    err[0] = '\0';
    assert_null(ddbjson_parse_map("{", 1, err));
    assert_true(strncmp(err, "JSON line 1 column ", 19) == 0);
    /* A repeated name would hide one of two values: refused. */
    assert_null(ddbjson_parse_map("{\"a\":{\"S\":\"x\"},\"a\":{\"S\":\"y\"}}",
                                  30, err));
    assert_non_null(strstr(err, "duplicate object key"));
    assert_null(ddbjson_parse_map(NULL, 0, err));
    assert_string_equal(err, "no JSON text");
    /* Bytes past len are not read. */
    {
        json_t *m = ddbjson_parse_map("{}garbage", 2, err);

        assert_non_null(m);
        json_decref(m);
    }
}

/* Nesting: 32 levels of M pass, 33 fail with the deepest path cut. */
static void
test_depth_limit(void **state)
{
    char err[ERR_LEN] = "";
    json_t *av = ddbjson_s("leaf"), *map;
    int i;

    (void)state;
    for (i = 0; i < DDBJSON_MAX_DEPTH; i++) {
        json_t *m = json_object();

        ddbjson_set(m, "k", av);
        av = ddbjson_m(m);
    }
    assert_int_equal(ddbjson_check(av, err), 0);
    map = json_object();
    ddbjson_set(map, "k", av);
    av = ddbjson_m(map);
    map = json_object();
    ddbjson_set(map, "deep", av);
    assert_int_equal(ddbjson_check_map(map, err), ERR_FAIL);
    assert_true(strncmp(err, "deep.k.k.k", 10) == 0);
    assert_non_null(strstr(err, "nested more than 32 levels deep"));
    json_decref(map);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_number_syntax),
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_readers_by_type),
        cmocka_unit_test(test_constructor_refusals),
        cmocka_unit_test(test_check_messages),
        cmocka_unit_test(test_check_accepts_read_only_types),
        cmocka_unit_test(test_malformed_json),
        cmocka_unit_test(test_depth_limit),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
