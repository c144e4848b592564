/* Unit tests for ddbexpr.c: placeholders defined and used, bare
 * attribute names refused, keywords and functions allowed. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "aws/ddbexpr.h"
#include "aws/ddbjson.h"

static json_t *
names_status_ts(void)
{
    return json_pack("{s:s, s:s}", "#s", "status", "#t", "timestamp");
}

static json_t *
values_pending(void)
{
    json_t *v = json_object();

    ddbjson_set_s(v, ":old", "pending");
    ddbjson_set_s(v, ":new", "posted");
    ddbjson_set_i64(v, ":now", 1783670400);
    return v;
}

static void
expect_expr(const char *update, const char *cond, json_t *names,
            json_t *values, const char *want)
{
    const struct ddbexpr e[] = {
        {"UpdateExpression", update},
        {"ConditionExpression", cond},
    };
    char err[ERR_LEN] = "";
    int rc = ddbexpr_check(e, 2, names, values, err);

    if (want == NULL && rc != 0)
        fail_msg("refused %s / %s: %s", update, cond, err);
    if (want != NULL && (rc != ERR_FAIL || strcmp(err, want) != 0))
        fail_msg("for %s / %s\n got: %d %s\nwant: %s", update, cond, rc,
                 err, want);
    json_decref(names);
    json_decref(values);
}

static void
test_expressions(void **state)
{
    (void)state;
    expect_expr("SET #s = :new, #t = :now", "#s = :old", names_status_ts(),
                values_pending(), NULL);
    expect_expr("set #s = :new REMOVE #t", "attribute_exists (#s) and "
                "NOT begins_with(#t, :old) OR #t BETWEEN :now AND :new",
                names_status_ts(), values_pending(), NULL);
    expect_expr(NULL, "attribute_not_exists(#s) AND attribute_not_exists(#t)",
                names_status_ts(), NULL, NULL);
    expect_expr("SET #s = :new", "#s = :old", names_status_ts(),
                values_pending(),
                "ExpressionAttributeNames: #t is not used by any expression");
    expect_expr("SET status = :new, #t = :now", "#s = :old",
                names_status_ts(), values_pending(),
                "UpdateExpression: bare attribute name 'status': use a "
                "#placeholder");
    expect_expr("SET #s = :new, #t = :now", "#s = :old AND size > :old",
                names_status_ts(), values_pending(),
                "ConditionExpression: bare attribute name 'size': use a "
                "#placeholder");
    expect_expr("SET #s = :new, #t = :now", "#s = :gone",
                names_status_ts(), values_pending(),
                "ConditionExpression: :gone is not in "
                "ExpressionAttributeValues");
    expect_expr("SET #x = :new, #t = :now", "#s = :old", names_status_ts(),
                values_pending(),
                "UpdateExpression: #x is not in ExpressionAttributeNames");
    expect_expr("SET #s = :new", "#s = :old", json_pack("{s:s}", "#s",
                "status"), values_pending(),
                "ExpressionAttributeValues: :now is not used by any "
                "expression");
    expect_expr("SET #s = :new; DROP", NULL, json_pack("{s:s}", "#s",
                "status"), json_pack("{s:{s:s}}", ":new", "S", "x"),
                "UpdateExpression: unexpected character 0x3b");
    expect_expr("", NULL, NULL, NULL, "UpdateExpression: empty expression");
    expect_expr("SET # = :v", NULL, NULL, NULL,
                "UpdateExpression: '#' needs a name of 1-62 characters");
    expect_expr("SET #s = :v", NULL, json_pack("{s:s}", "s", "status"),
                NULL, "ExpressionAttributeNames: key 's' is not '#' and a "
                "name");
    expect_expr("SET #s = :v", NULL, json_pack("{s:s}", "#s", ""), NULL,
                "ExpressionAttributeNames: #s is not a non-empty string");
    expect_expr("SET #s = :v", NULL, json_pack("{s:s}", "#s", "status"),
                json_pack("{s:{s:s}}", ":v", "N", "many"),
                ":v: N value is not a DynamoDB number");
    expect_expr("SET #s = :v", NULL, json_array(), NULL,
                "ExpressionAttributeNames: not a JSON object");
    expect_expr("SET #s[0].#s = list_append(#s, :v)", NULL,
                json_pack("{s:s}", "#s", "l"),
                json_pack("{s:{s:[]}}", ":v", "L"), NULL);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_expressions),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
