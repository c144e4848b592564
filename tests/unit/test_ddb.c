/* Unit tests for the request bodies ddb.c builds (it is included to reach
 * its statics): which members appear, which are left out, and what is
 * refused before anything is sent. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "aws/ddb.c"

#define TABLE "spooky-jobs"

/* request must equal the JSON text want; both are released. */
static void
expect_request(json_t *request, const char *want_text)
{
    json_error_t je;
    json_t *want = json_loads(want_text, 0, &je);
    char *got;

    assert_non_null(want);
    assert_non_null(request);
    got = ddbjson_dump(request);
    if (!json_equal(request, want))
        fail_msg("got  %s\nwant %s", got, want_text);
    free(got);
    json_decref(want);
    json_decref(request);
}

static json_t *
key_of(const char *job_id, int64_t ts)
{
    json_t *k = json_object();

    ddbjson_set_s(k, "job_id", job_id);
    ddbjson_set_i64(k, "timestamp", ts);
    return k;
}

static void
test_put_body(void **state)
{
    json_t *item = key_of("j1", 1783670400);
    json_t *names = json_pack("{s:s}", "#j", "job_id");
    json_t *empty = json_object();
    struct ddb_put p = {TABLE, item, "attribute_not_exists(#j)", names,
                        empty, 1, NULL};
    char err[ERR_LEN] = "";

    (void)state;
    ddbjson_set_s(item, "status", "pending");
    expect_request(put_request(&p, err),
                   "{\"TableName\":\"" TABLE "\","
                   "\"ConditionExpression\":\"attribute_not_exists(#j)\","
                   "\"ExpressionAttributeNames\":{\"#j\":\"job_id\"},"
                   "\"Item\":{\"job_id\":{\"S\":\"j1\"},"
                   "\"timestamp\":{\"N\":\"1783670400\"},"
                   "\"status\":{\"S\":\"pending\"}},"
                   "\"ReturnValuesOnConditionCheckFailure\":\"ALL_OLD\"}");
    /* Unconditional: no expression members at all. */
    p.condition = NULL;
    p.names = NULL;
    p.return_old_on_fail = 0;
    expect_request(put_request(&p, err),
                   "{\"TableName\":\"" TABLE "\",\"Item\":{"
                   "\"job_id\":{\"S\":\"j1\"},"
                   "\"timestamp\":{\"N\":\"1783670400\"},"
                   "\"status\":{\"S\":\"pending\"}}}");
    json_decref(item);
    json_decref(names);
    json_decref(empty);
}

static void
test_update_body(void **state)
{
    json_t *key = key_of("j1", 5);
    json_t *names = json_pack("{s:s}", "#s", "status");
    json_t *values = json_pack("{s:{s:s}, s:{s:s}}", ":new", "S", "posted",
                               ":old", "S", "pending");
    struct ddb_update u = {TABLE, key, "SET #s = :new", "#s = :old",
                           names, values, "UPDATED_NEW", NULL};
    char err[ERR_LEN] = "";

    (void)state;
    expect_request(update_request(&u, err),
                   "{\"TableName\":\"" TABLE "\","
                   "\"UpdateExpression\":\"SET #s = :new\","
                   "\"ConditionExpression\":\"#s = :old\","
                   "\"ExpressionAttributeNames\":{\"#s\":\"status\"},"
                   "\"ExpressionAttributeValues\":{"
                   "\":new\":{\"S\":\"posted\"},\":old\":{\"S\":\"pending\"}},"
                   "\"Key\":{\"job_id\":{\"S\":\"j1\"},"
                   "\"timestamp\":{\"N\":\"5\"}},"
                   "\"ReturnValues\":\"UPDATED_NEW\"}");
    u.return_values = "ALL";
    assert_null(update_request(&u, err));
    assert_string_equal(err, "UpdateExpression missing or ReturnValues not "
                             "NONE, ALL_OLD, UPDATED_OLD, ALL_NEW or "
                             "UPDATED_NEW");
    u.return_values = NULL;
    u.condition = NULL;
    assert_null(update_request(&u, err));
    assert_string_equal(err, "ExpressionAttributeValues: :old is not used "
                             "by any expression");
    json_decref(key);
    json_decref(names);
    json_decref(values);
}

static void
test_get_body(void **state)
{
    json_t *key = key_of("j2", 9);
    struct ddb_get g = {TABLE, key, 1, NULL, NULL, NULL};
    char err[ERR_LEN] = "";

    (void)state;
    expect_request(get_request(&g, err),
                   "{\"TableName\":\"" TABLE "\",\"Key\":{"
                   "\"job_id\":{\"S\":\"j2\"},\"timestamp\":{\"N\":\"9\"}},"
                   "\"ConsistentRead\":true}");
    json_decref(key);
    g.key = json_object();
    assert_null(get_request(&g, err));
    assert_string_equal(err, "Key: missing or empty");
    json_decref((json_t *)g.key);
}

static void
test_query_body(void **state)
{
    json_t *names = json_pack("{s:s}", "#s", "status");
    json_t *values = json_pack("{s:{s:s}}", ":s", "S", "pending");
    json_t *start = key_of("j3", 3);
    struct ddb_query q = {TABLE, "status-timestamp-index", "#s = :s", NULL,
                          names, values, 2, 1, 0, start, NULL};
    char err[ERR_LEN] = "";

    (void)state;
    ddbjson_set_s(start, "status", "pending");
    expect_request(query_request(&q, err),
                   "{\"TableName\":\"" TABLE "\","
                   "\"KeyConditionExpression\":\"#s = :s\","
                   "\"ExpressionAttributeNames\":{\"#s\":\"status\"},"
                   "\"ExpressionAttributeValues\":{\":s\":{\"S\":"
                   "\"pending\"}},"
                   "\"IndexName\":\"status-timestamp-index\",\"Limit\":2,"
                   "\"ScanIndexForward\":false,"
                   "\"ExclusiveStartKey\":{\"job_id\":{\"S\":\"j3\"},"
                   "\"timestamp\":{\"N\":\"3\"},"
                   "\"status\":{\"S\":\"pending\"}}}");
    q.limit = -1;
    assert_null(query_request(&q, err));
    assert_string_equal(err, "KeyConditionExpression missing or Limit "
                             "negative");
    q.limit = 0;
    q.index = "ix";
    assert_null(query_request(&q, err));
    assert_string_equal(err, "index name is not 3-255 of A-Z a-z 0-9 _ . -");
    json_decref(names);
    json_decref(values);
    json_decref(start);
}

static void
done_never(const struct ddb_result *res, void *arg)
{
    (void)res;
    (void)arg;
    fail_msg("callback ran for a refused request");
}

/* Refusals come back at once, prefixed with the operation, and leak
 * nothing (valgrind and ASan runs check that). */
static void
test_refusals(void **state)
{
    json_t *item = key_of("j4", 4);
    struct ddb_put p = {"bad table!", item, NULL, NULL, NULL, 0, NULL};
    char err[ERR_LEN] = "";

    (void)state;
    assert_null(ddb_put_item(NULL, NULL, done_never, NULL, err));
    assert_string_equal(err, "PutItem: no request");
    assert_null(ddb_put_item(NULL, &p, done_never, NULL, err));
    assert_string_equal(err, "PutItem: table name is not 3-255 of A-Z a-z "
                             "0-9 _ . -");
    p.table = TABLE;
    assert_null(ddb_put_item(NULL, &p, done_never, NULL, err));
    assert_string_equal(err, "PutItem: missing context or callback");
    ddbjson_set(item, "bad", json_pack("{s:i}", "N", 1));
    assert_null(ddb_put_item(NULL, &p, done_never, NULL, err));
    assert_string_equal(err, "PutItem: Item.bad: N value is not a JSON "
                             "string");
    assert_null(ddb_query(NULL, NULL, done_never, NULL, err));
    assert_string_equal(err, "Query: no request");
    ddb_cancel(NULL);
    json_decref(item);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_put_body),
        cmocka_unit_test(test_update_body),
        cmocka_unit_test(test_get_body),
        cmocka_unit_test(test_query_body),
        cmocka_unit_test(test_refusals),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
