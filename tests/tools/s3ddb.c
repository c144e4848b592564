/*
 * s3ddb: drives aws/s3.c and aws/ddb.c for tests/proc/test_aws_s3_ddb.py.
 * Reads one JSON request per line on stdin, runs it on a uv loop against
 * the endpoints and keys in the environment (AWS_REGION,
 * AWS_ENDPOINT_URL_*, AWS_ACCESS_KEY_ID, ...), and prints one JSON result
 * line.  One process serves a whole test file, so valgrind starts once.
 * Ops: s3_put, s3_get, put_item, update_item, get_item, query, query_all;
 * with "cancel": true the operation is cancelled right after it started.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <uv.h>

#include "aws/aws.h"
#include "aws/ddb.h"
#include "aws/s3.h"
#include "core/buf.h"
#include "core/http.h"
#include "core/log.h"
#include "core/mem.h"

struct driver {
    uv_loop_t loop;
    struct http *http;
    struct aws *aws;
    json_t *out; /* the result of the running request, once it ended */
    struct s3_op *s3op;   /* the running operation */
    struct ddb_op *ddbop;
};

static const char *
str(const json_t *req, const char *name)
{
    return json_string_value(json_object_get(req, name));
}

static int
flag(const json_t *req, const char *name)
{
    return json_is_true(json_object_get(req, name));
}

static void
put_done(const struct s3_put_result *r, void *arg)
{
    struct driver *d = arg;

    d->out = json_pack("{si si ss ss ss ss ss si}", "rc", r->rc, "status",
                       (int)r->status, "etag", r->etag, "version_id",
                       r->version_id, "request_id", r->request_id, "code",
                       r->code, "err", r->err, "attempts", r->attempts);
}

static void
get_done(const struct s3_get_result *r, void *arg)
{
    struct driver *d = arg;
    struct s3_digest dg = {"", ""};
    char err[ERR_LEN];

    if (r->rc == 0)
        s3_digest(r->body->data, r->body->len, &dg, err);
    d->out = json_pack("{si si ss ss ss ss ss ss si si ss}", "rc", r->rc,
                       "status", (int)r->status, "content_type",
                       r->content_type, "cache_control", r->cache_control,
                       "etag", r->etag, "request_id", r->request_id, "code",
                       r->code, "err", r->err, "attempts", r->attempts,
                       "body_len", r->rc == 0 ? (int)r->body->len : -1,
                       "body_sha256", dg.hex);
}

static void
ddb_done(const struct ddb_result *r, void *arg)
{
    struct driver *d = arg;

    d->out = json_pack("{si si ss ss ss si sO? sO? sO? si}", "rc", r->rc,
                       "status", (int)r->status, "code", r->code,
                       "request_id", r->request_id, "err", r->err,
                       "attempts", r->attempts, "item", r->item, "items",
                       r->items, "last_key", r->last_key, "pages",
                       (int)r->pages);
}

/* The whole of a file, for PUT bodies. */
static char *
slurp(const char *path, size_t *len)
{
    struct buf b;
    char chunk[65536];
    size_t n;
    FILE *f = fopen(path, "rb");

    if (f == NULL)
        return NULL;
    buf_init(&b);
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
        buf_append(&b, chunk, n);
    fclose(f);
    *len = b.len;
    return buf_steal(&b);
}

static int
start_s3_put(struct driver *d, const json_t *req, char **body,
             char err[ERR_LEN])
{
    struct s3_put_req p = {0};
    const char *file = str(req, "body_file");

    if (file != NULL && (*body = slurp(file, &p.len)) == NULL) {
        snprintf(err, ERR_LEN, "cannot read %s", file);
        return -1;
    }
    if (file == NULL && str(req, "body") != NULL) {
        *body = mem_strdup(str(req, "body"));
        p.len = strlen(*body);
    }
    p.body = *body;
    p.bucket = str(req, "bucket");
    p.key = str(req, "key");
    p.content_type = str(req, "content_type");
    p.cache_control = str(req, "cache_control");
    p.kms_key_id = str(req, "kms_key_id");
    p.write_once = flag(req, "write_once");
    d->s3op = s3_put(d->aws, &p, put_done, d, err);
    return d->s3op != NULL ? 0 : -1;
}

static int
start_ddb(struct driver *d, const char *op, const json_t *req,
          char err[ERR_LEN])
{
    const json_t *names = json_object_get(req, "names");
    const json_t *values = json_object_get(req, "values");
    const char *table = str(req, "table");

    if (strcmp(op, "put_item") == 0) {
        struct ddb_put p = {table, json_object_get(req, "item"),
                            str(req, "condition"), names, values,
                            flag(req, "return_old_on_fail"), NULL};

        d->ddbop = ddb_put_item(d->aws, &p, ddb_done, d, err);
        return d->ddbop != NULL ? 0 : -1;
    }
    if (strcmp(op, "update_item") == 0) {
        struct ddb_update u = {table, json_object_get(req, "key"),
                               str(req, "update"), str(req, "condition"),
                               names, values, str(req, "return_values"),
                               NULL};

        d->ddbop = ddb_update_item(d->aws, &u, ddb_done, d, err);
        return d->ddbop != NULL ? 0 : -1;
    }
    if (strcmp(op, "get_item") == 0) {
        struct ddb_get g = {table, json_object_get(req, "key"),
                            flag(req, "consistent"), str(req, "projection"),
                            names, NULL};

        d->ddbop = ddb_get_item(d->aws, &g, ddb_done, d, err);
        return d->ddbop != NULL ? 0 : -1;
    }
    {
        struct ddb_query q = {
            table, str(req, "index"), str(req, "key_condition"),
            str(req, "filter"), names, values,
            (int)json_integer_value(json_object_get(req, "limit")),
            flag(req, "backward"), flag(req, "consistent"),
            json_object_get(req, "start_key"), NULL};
        size_t max = (size_t)json_integer_value(
            json_object_get(req, "max_items"));

        if (strcmp(op, "query") == 0)
            d->ddbop = ddb_query(d->aws, &q, ddb_done, d, err);
        else
            d->ddbop = ddb_query_all(d->aws, &q, max, ddb_done, d, err);
        return d->ddbop != NULL ? 0 : -1;
    }
}

/* Run one request line to completion; returns the result to print. */
static json_t *
run_one(struct driver *d, const json_t *req)
{
    const char *op = str(req, "op");
    char err[ERR_LEN] = "", *body = NULL;
    int rc;

    if (op == NULL)
        return json_pack("{ss}", "start_error", "no op");
    if (strcmp(op, "s3_put") == 0)
        rc = start_s3_put(d, req, &body, err);
    else if (strcmp(op, "s3_get") == 0)
        rc = (d->s3op = s3_get(d->aws, str(req, "bucket"), str(req, "key"),
                               (size_t)json_integer_value(
                                   json_object_get(req, "max_bytes")),
                               NULL, get_done, d, err)) != NULL ? 0 : -1;
    else
        rc = start_ddb(d, op, req, err);
    if (rc != 0) {
        free(body);
        return json_pack("{ss}", "start_error", err);
    }
    if (flag(req, "cancel")) {
        s3_cancel(d->s3op);
        ddb_cancel(d->ddbop);
        free(body);
        return json_pack("{sb}", "cancelled", 1);
    }
    /* A failed json_pack() in a callback leaves out NULL: avoid a hang by
     * also stopping when the loop has nothing left to do. */
    while (d->out == NULL && uv_run(&d->loop, UV_RUN_ONCE) != 0)
        ;
    free(body);
    return d->out != NULL ? d->out
                          : json_pack("{ss}", "start_error", "no result");
}

static int
setup(struct driver *d)
{
    struct aws_settings s = {0};
    char err[ERR_LEN] = "";

    log_init(LOG_TARGET_STDERR);
    log_set_level(getenv("S3DDB_DEBUG") != NULL ? LOG_DEBUG : LOG_NOTICE);
    if (uv_loop_init(&d->loop) != 0)
        return -1;
    d->http = http_new(&d->loop);
    if (d->http == NULL)
        return -1;
    d->aws = aws_new(&d->loop, d->http, &s, err);
    if (d->aws == NULL) {
        fprintf(stderr, "s3ddb: %s\n", err);
        return -1;
    }
    return 0;
}

static void
teardown(struct driver *d)
{
    aws_free(d->aws);
    http_free(d->http);
    uv_run(&d->loop, UV_RUN_DEFAULT);
    if (uv_loop_close(&d->loop) != 0)
        fprintf(stderr, "s3ddb: loop still has handles\n");
}

int
main(void)
{
    struct driver d = {0};
    json_error_t je;
    char *line = NULL, *text;
    size_t cap = 0;
    json_t *req, *out;

    if (setup(&d) != 0)
        return 1;
    while (getline(&line, &cap, stdin) > 0) {
        req = json_loads(line, 0, &je);
        out = req != NULL ? run_one(&d, req)
                          : json_pack("{ss}", "start_error", je.text);
        d.out = NULL;
        d.s3op = NULL;
        d.ddbop = NULL;
        text = json_dumps(out, JSON_COMPACT);
        printf("%s\n", text);
        fflush(stdout);
        free(text);
        json_decref(out);
        json_decref(req);
    }
    free(line);
    teardown(&d);
    return 0;
}
