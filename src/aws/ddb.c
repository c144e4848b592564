/*
 * ddb.c: DynamoDB PutItem, UpdateItem, GetItem and Query as JSON 1.0
 * requests through aws_call(): builds and checks each request body,
 * reads Item, Attributes, Items and LastEvaluatedKey from the reply, and
 * follows Query pages.  Signing, retries (throttling included), CRC-32
 * checks and error parsing are aws/aws.c's; it never sees credentials.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aws/ddb.h"
#include "aws/ddbexpr.h"
#include "aws/ddbjson.h"
#include "core/mem.h"

#define TARGET_PREFIX "DynamoDB_20120810."

enum kind { PUT, UPDATE, GET, QUERY };

static const char *const kind_names[] = {
    [PUT] = "PutItem", [UPDATE] = "UpdateItem", [GET] = "GetItem",
    [QUERY] = "Query",
};

struct ddb_op {
    struct aws *aws;
    struct aws_call *call;
    enum kind kind;
    ddb_done_cb cb;
    void *arg;
    char *body;      /* request text the running call borrows */
    char *old_body;  /* the previous page's, freed once that call ended */
    json_t *request; /* Query: the request, for the following pages */
    json_t *items;   /* Query: items of every page so far */
    size_t pages;
    size_t max_items;
    int all;         /* follow LastEvaluatedKey */
    char *job_id;    /* copies of the caller's log fields */
    char *national_day;
};

static void
op_free(struct ddb_op *op)
{
    if (op == NULL)
        return;
    free(op->body);
    free(op->old_body);
    json_decref(op->request);
    json_decref(op->items);
    free(op->job_id);
    free(op->national_day);
    free(op);
}

static struct log_ctx
op_log(const struct ddb_op *op)
{
    struct log_ctx c = {0};

    c.job_id = op->job_id;
    c.national_day = op->national_day;
    return c;
}

/* Table and index names: 3-255 of [A-Za-z0-9_.-]. */
static int
name_check(const char *what, const char *name, char err[ERR_LEN])
{
    size_t n = name != NULL ? strlen(name) : 0;

    if (n < 3 || n > 255 ||
        name[strspn(name, "abcdefghijklmnopqrstuvwxyz"
                          "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-")] != '\0') {
        snprintf(err, ERR_LEN, "%s name is not 3-255 of A-Z a-z 0-9 _ . -",
                 what);
        return ERR_FAIL;
    }
    return 0;
}

/* A map parameter (Item, Key, ExclusiveStartKey): present when required,
 * valid, not empty. */
static int
map_check(const char *what, const json_t *map, int required,
          char err[ERR_LEN])
{
    char why[ERR_LEN];

    if (map == NULL && !required)
        return 0;
    if (map == NULL || !json_is_object(map) || json_object_size(map) == 0) {
        snprintf(err, ERR_LEN, "%s: missing or empty", what);
        return ERR_FAIL;
    }
    if (ddbjson_check_map(map, why) != 0) {
        snprintf(err, ERR_LEN, "%s.%.200s", what, why);
        return ERR_FAIL;
    }
    return 0;
}

/* Add key = v to o when v is given (a string, or a non-empty object). */
static void
put_str(json_t *o, const char *key, const char *v)
{
    if (v != NULL)
        json_object_set_new(o, key, json_string(v));
}

static void
put_map(json_t *o, const char *key, const json_t *v)
{
    if (v != NULL && json_object_size(v) > 0)
        json_object_set_new(o, key, json_deep_copy(v));
}

/* The request skeleton every operation shares: table, expressions'
 * placeholder maps, after checking the expressions against them. */
static json_t *
request_new(const char *table, const struct ddbexpr *e, size_t n,
            const json_t *names, const json_t *values, char err[ERR_LEN])
{
    json_t *o;
    size_t i;

    if (name_check("table", table, err) != 0 ||
        ddbexpr_check(e, n, names, values, err) != 0)
        return NULL;
    o = json_object();
    put_str(o, "TableName", table);
    for (i = 0; i < n; i++)
        put_str(o, e[i].field, e[i].text);
    put_map(o, "ExpressionAttributeNames", names);
    put_map(o, "ExpressionAttributeValues", values);
    return o;
}

static json_t *
put_request(const struct ddb_put *r, char err[ERR_LEN])
{
    const struct ddbexpr e[] = {{"ConditionExpression", r->condition}};
    json_t *o;

    if (map_check("Item", r->item, 1, err) != 0)
        return NULL;
    o = request_new(r->table, e, 1, r->names, r->values, err);
    if (o == NULL)
        return NULL;
    put_map(o, "Item", r->item);
    if (r->return_old_on_fail)
        put_str(o, "ReturnValuesOnConditionCheckFailure", "ALL_OLD");
    return o;
}

static int
return_values_ok(const char *v)
{
    static const char *const ok[] = {"NONE", "ALL_OLD", "UPDATED_OLD",
                                     "ALL_NEW", "UPDATED_NEW"};
    size_t i;

    for (i = 0; v != NULL && i < sizeof(ok) / sizeof(ok[0]); i++)
        if (strcmp(v, ok[i]) == 0)
            return 1;
    return v == NULL;
}

static json_t *
update_request(const struct ddb_update *r, char err[ERR_LEN])
{
    const struct ddbexpr e[] = {{"UpdateExpression", r->update},
                                {"ConditionExpression", r->condition}};
    json_t *o;

    if (map_check("Key", r->key, 1, err) != 0)
        return NULL;
    if (r->update == NULL || !return_values_ok(r->return_values)) {
        snprintf(err, ERR_LEN, "UpdateExpression missing or ReturnValues "
                 "not NONE, ALL_OLD, UPDATED_OLD, ALL_NEW or UPDATED_NEW");
        return NULL;
    }
    o = request_new(r->table, e, 2, r->names, r->values, err);
    if (o == NULL)
        return NULL;
    put_map(o, "Key", r->key);
    put_str(o, "ReturnValues", r->return_values);
    return o;
}

static json_t *
get_request(const struct ddb_get *r, char err[ERR_LEN])
{
    const struct ddbexpr e[] = {{"ProjectionExpression", r->projection}};
    json_t *o;

    if (map_check("Key", r->key, 1, err) != 0)
        return NULL;
    o = request_new(r->table, e, 1, r->names, NULL, err);
    if (o == NULL)
        return NULL;
    put_map(o, "Key", r->key);
    if (r->consistent)
        json_object_set_new(o, "ConsistentRead", json_true());
    return o;
}

static json_t *
query_request(const struct ddb_query *r, char err[ERR_LEN])
{
    const struct ddbexpr e[] = {
        {"KeyConditionExpression", r->key_condition},
        {"FilterExpression", r->filter}};
    json_t *o;

    if ((r->index != NULL && name_check("index", r->index, err) != 0) ||
        map_check("ExclusiveStartKey", r->start_key, 0, err) != 0)
        return NULL;
    if (r->key_condition == NULL || r->limit < 0) {
        snprintf(err, ERR_LEN, "KeyConditionExpression missing or Limit "
                 "negative");
        return NULL;
    }
    o = request_new(r->table, e, 2, r->names, r->values, err);
    if (o == NULL)
        return NULL;
    put_str(o, "IndexName", r->index);
    if (r->limit > 0)
        json_object_set_new(o, "Limit", json_integer(r->limit));
    if (r->backward)
        json_object_set_new(o, "ScanIndexForward", json_false());
    if (r->consistent)
        json_object_set_new(o, "ConsistentRead", json_true());
    put_map(o, "ExclusiveStartKey", r->start_key);
    return o;
}

static json_t *
no_request(char err[ERR_LEN])
{
    snprintf(err, ERR_LEN, "no request");
    return NULL;
}

static void done(const struct aws_result *res, void *arg);

/* Send request as one call of op's kind; op keeps the text until that
 * call has ended. */
static int
send_request(struct ddb_op *op, const json_t *request, char err[ERR_LEN])
{
    char target[sizeof(TARGET_PREFIX) + 16];
    struct aws_header h[2];
    struct aws_request ar = {0};
    struct log_ctx ctx = op_log(op);

    free(op->old_body);
    op->old_body = op->body;
    op->body = ddbjson_dump(request);
    snprintf(target, sizeof(target), TARGET_PREFIX "%s",
             kind_names[op->kind]);
    h[0].name = "Content-Type";
    h[0].value = "application/x-amz-json-1.0";
    h[1].name = "X-Amz-Target";
    h[1].value = target;
    ar.service = AWS_DYNAMODB;
    ar.method = "POST";
    ar.headers = h;
    ar.n_headers = 2;
    ar.body = op->body;
    ar.body_len = strlen(op->body);
    ar.log = &ctx;
    op->call = aws_call(op->aws, &ar, done, op, err);
    return op->call != NULL ? 0 : ERR_FAIL;
}

/* Check-and-build result, then the first call. */
static struct ddb_op *
start(struct aws *aws, enum kind kind, json_t *request,
      const struct log_ctx *log, ddb_done_cb cb, void *arg,
      char err[ERR_LEN])
{
    struct ddb_op *op;
    char why[ERR_LEN];

    if (request == NULL) {
        snprintf(why, sizeof(why), "%s", err);
        snprintf(err, ERR_LEN, "%s: %.200s", kind_names[kind], why);
        return NULL;
    }
    if (aws == NULL || cb == NULL) {
        snprintf(err, ERR_LEN, "%s: missing context or callback",
                 kind_names[kind]);
        json_decref(request);
        return NULL;
    }
    op = mem_calloc(1, sizeof(*op));
    op->aws = aws;
    op->kind = kind;
    op->cb = cb;
    op->arg = arg;
    op->request = request;
    if (log != NULL) {
        op->job_id = mem_strdup(log->job_id);
        op->national_day = mem_strdup(log->national_day);
    }
    if (kind == QUERY)
        op->items = json_array();
    if (send_request(op, request, err) != 0) {
        op_free(op);
        return NULL;
    }
    return op;
}

struct ddb_op *
ddb_put_item(struct aws *aws, const struct ddb_put *req, ddb_done_cb cb,
             void *arg, char err[ERR_LEN])
{
    json_t *o = req != NULL ? put_request(req, err) : no_request(err);

    return start(aws, PUT, o, o != NULL ? req->log : NULL, cb, arg, err);
}

struct ddb_op *
ddb_update_item(struct aws *aws, const struct ddb_update *req,
                ddb_done_cb cb, void *arg, char err[ERR_LEN])
{
    json_t *o = req != NULL ? update_request(req, err) : no_request(err);

    return start(aws, UPDATE, o, o != NULL ? req->log : NULL, cb, arg, err);
}

struct ddb_op *
ddb_get_item(struct aws *aws, const struct ddb_get *req, ddb_done_cb cb,
             void *arg, char err[ERR_LEN])
{
    json_t *o = req != NULL ? get_request(req, err) : no_request(err);

    return start(aws, GET, o, o != NULL ? req->log : NULL, cb, arg, err);
}

struct ddb_op *
ddb_query(struct aws *aws, const struct ddb_query *req, ddb_done_cb cb,
          void *arg, char err[ERR_LEN])
{
    json_t *o = req != NULL ? query_request(req, err) : no_request(err);

    return start(aws, QUERY, o, o != NULL ? req->log : NULL, cb, arg, err);
}

struct ddb_op *
ddb_query_all(struct aws *aws, const struct ddb_query *req,
              size_t max_items, ddb_done_cb cb, void *arg, char err[ERR_LEN])
{
    struct ddb_op *op = ddb_query(aws, req, cb, arg, err);

    if (op != NULL) {
        op->all = 1;
        op->max_items = max_items;
    }
    return op;
}

void
ddb_cancel(struct ddb_op *op)
{
    if (op == NULL)
        return;
    aws_call_cancel(op->call);
    op_free(op);
}

/* An optional map member of the reply: absent is fine, else it must be
 * a valid map.  0 with *out (borrowed from reply, or NULL), or ERR_RETRY. */
static int
reply_map(const json_t *reply, const char *name, json_t **out,
          char err[ERR_LEN])
{
    json_t *m = json_object_get(reply, name);

    *out = NULL;
    if (m == NULL)
        return 0;
    if (map_check(name, m, 0, err) != 0)
        return ERR_RETRY;
    *out = m;
    return 0;
}

/* The items of a Query page appended to op->items. */
static int
reply_items(struct ddb_op *op, const json_t *reply, char err[ERR_LEN])
{
    json_t *items = json_object_get(reply, "Items"), *it;
    size_t i;

    if (!json_is_array(items)) {
        snprintf(err, ERR_LEN, "Items: missing or not an array");
        return ERR_RETRY;
    }
    json_array_foreach(items, i, it) {
        if (map_check("Items[]", it, 1, err) != 0)
            return ERR_RETRY;
        json_array_append(op->items, it);
    }
    return 0;
}

/* What the reply of a successful call holds, by kind. */
static int
read_reply(struct ddb_op *op, json_t *reply, struct ddb_result *r,
           char err[ERR_LEN])
{
    switch (op->kind) {
    case GET:
        return reply_map(reply, "Item", &r->item, err);
    case UPDATE:
        return reply_map(reply, "Attributes", &r->item, err);
    case PUT:
        return 0;
    case QUERY:
        op->pages++;
        r->items = op->items;
        r->pages = op->pages;
        if (reply_items(op, reply, err) != 0)
            return ERR_RETRY;
        return reply_map(reply, "LastEvaluatedKey", &r->last_key, err);
    }
    return ERR_FAIL;
}

/* After a Query page: 1 when the next page was sent, 0 when the result
 * is complete, ERR_FAIL with err when paging cannot go on. */
static int
next_page(struct ddb_op *op, const json_t *last_key, char err[ERR_LEN])
{
    struct log_ctx c = op_log(op);
    const json_t *from = json_object_get(op->request, "ExclusiveStartKey");

    if (!op->all || last_key == NULL ||
        (op->max_items > 0 && json_array_size(op->items) >= op->max_items))
        return 0;
    if (from != NULL && json_equal(from, last_key)) {
        snprintf(err, ERR_LEN, "Query: page %zu returned the key it "
                 "started from", op->pages);
        return ERR_FAIL;
    }
    if (op->pages >= DDB_QUERY_MAX_PAGES) {
        snprintf(err, ERR_LEN, "Query: more than %d pages",
                 DDB_QUERY_MAX_PAGES);
        return ERR_FAIL;
    }
    log_debug(&c, "DynamoDB Query: page %zu, %zu items so far", op->pages,
              json_array_size(op->items));
    json_object_set(op->request, "ExclusiveStartKey", (json_t *)last_key);
    return send_request(op, op->request, err) == 0 ? 1 : ERR_FAIL;
}

/* Parse the reply body: a JSON object, else NULL with err. */
static json_t *
parse_reply(const struct buf *body, char err[ERR_LEN])
{
    json_error_t je;
    json_t *reply = json_loadb(body->data != NULL ? body->data : "",
                               body->len, JSON_REJECT_DUPLICATES, &je);

    if (reply == NULL) {
        snprintf(err, ERR_LEN, "reply is not JSON (line %d column %d: %s)",
                 je.line, je.column, je.text);
        return NULL;
    }
    if (!json_is_object(reply)) {
        snprintf(err, ERR_LEN, "reply is not a JSON object");
        json_decref(reply);
        return NULL;
    }
    return reply;
}

/* A reply that was not what DynamoDB sends: logged here, where the detail
 * is, and reported as transient (a proxy or the network garbled it). */
static void
bad_reply(struct ddb_op *op, const struct aws_result *res,
          struct ddb_result *r, const char *why)
{
    struct log_ctx c = op_log(op);

    c.request_id = res->request_id;
    c.http_status = (int)res->status;
    log_warn(&c, "DynamoDB %s: %s", kind_names[op->kind], why);
    r->rc = ERR_RETRY;
    r->err = why;
    r->item = r->last_key = NULL;
}

static void
done(const struct aws_result *res, void *arg)
{
    struct ddb_op *op = arg;
    struct ddb_result r = {0};
    json_t *reply = NULL;
    char err[ERR_LEN] = "";
    int rc;

    r.rc = res->rc;
    r.status = res->status;
    r.code = res->code;
    r.request_id = res->request_id;
    r.err = res->err;
    r.attempts = res->attempts;
    r.items = op->items;
    r.pages = op->pages;
    if (res->rc == 0 || res->rc == DDB_CONDITION_FAILED)
        reply = parse_reply(res->body, err);
    if (res->rc == 0 && (reply == NULL || read_reply(op, reply, &r, err)))
        bad_reply(op, res, &r, err);
    else if (res->rc == DDB_CONDITION_FAILED && reply != NULL)
        reply_map(reply, "Item", &r.item, err);
    if (r.rc == 0 && op->kind == QUERY) {
        rc = next_page(op, r.last_key, err);
        if (rc == 1) {
            json_decref(reply);
            return;
        }
        if (rc < 0) {
            r.rc = rc;
            r.err = err;
        }
    }
    op->cb(&r, op->arg);
    json_decref(reply);
    op_free(op);
}
