/*
 * DynamoDB PutItem, UpdateItem, GetItem and Query (JSON 1.0 protocol) on
 * top of aws_call(), with a Query helper that follows LastEvaluatedKey
 * through every page.  Requests are checked before they leave: items and
 * values with aws/ddbjson.h, expressions for bare attribute names and
 * unused or missing placeholders.  A failed condition is an answer
 * (DDB_CONDITION_FAILED), not an error.  No Scan, batch or transactions.
 */
#ifndef SPOOKYD_AWS_DDB_H
#define SPOOKYD_AWS_DDB_H

#include <stddef.h>

#include <jansson.h>

#include "aws/aws.h"
#include "core/err.h"
#include "core/log.h"

/* ddb_result.rc when ConditionExpression was false
 * (ConditionalCheckFailedException): "already exists" for a create,
 * "someone else moved it" for a state change. */
#define DDB_CONDITION_FAILED AWS_CONDITION_FAILED

/* Pages ddb_query_all() reads at most before giving up. */
#define DDB_QUERY_MAX_PAGES 1000

/* PutItem.  Borrowed pointers need only live during ddb_put_item(). */
struct ddb_put {
    const char *table;
    const json_t *item;       /* map of AttributeValues */
    const char *condition;    /* ConditionExpression or NULL */
    const json_t *names;      /* ExpressionAttributeNames or NULL */
    const json_t *values;     /* ExpressionAttributeValues or NULL */
    int return_old_on_fail;   /* ask for the existing item when the
                               * condition fails (ALL_OLD) */
    const struct log_ctx *log; /* job fields for log lines; may be NULL */
};

/* UpdateItem. */
struct ddb_update {
    const char *table;
    const json_t *key;        /* the full primary key */
    const char *update;       /* UpdateExpression, required */
    const char *condition;    /* or NULL */
    const json_t *names;
    const json_t *values;
    const char *return_values; /* NULL ("NONE"), "ALL_OLD", "UPDATED_OLD",
                                * "ALL_NEW" or "UPDATED_NEW" */
    const struct log_ctx *log;
};

/* GetItem. */
struct ddb_get {
    const char *table;
    const json_t *key;
    int consistent;           /* ConsistentRead */
    const char *projection;   /* ProjectionExpression or NULL */
    const json_t *names;      /* for the projection */
    const struct log_ctx *log;
};

/* Query, one page. */
struct ddb_query {
    const char *table;
    const char *index;         /* IndexName or NULL for the table */
    const char *key_condition; /* KeyConditionExpression, required */
    const char *filter;        /* FilterExpression or NULL */
    const json_t *names;
    const json_t *values;
    int limit;                 /* Limit per page; 0: none (1 MB pages) */
    int backward;              /* ScanIndexForward false: descending */
    int consistent;            /* ConsistentRead (not on a GSI) */
    const json_t *start_key;   /* ExclusiveStartKey, passed verbatim */
    const struct log_ctx *log;
};

/* How an operation ended; valid during the callback only.  The callback
 * may keep a JSON value with json_incref(). */
struct ddb_result {
    int rc;              /* 0, DDB_CONDITION_FAILED, ERR_RETRY, ERR_FAIL */
    long status;         /* last HTTP status, 0 if none */
    json_t *item;        /* GetItem: the item, NULL when there is none;
                          * UpdateItem: Attributes (NULL for NONE);
                          * PutItem: on DDB_CONDITION_FAILED the existing
                          * item if asked for and sent, else NULL */
    json_t *items;       /* Query: array of items (ddb_query_all(): of
                          * every page read); NULL for the others */
    json_t *last_key;    /* Query: LastEvaluatedKey, NULL when done */
    size_t pages;        /* Query pages read */
    const char *code;    /* DynamoDB error code or "" */
    const char *request_id;
    const char *err;     /* one loggable line on failure, else "" */
    int attempts;        /* attempts of the last request sent */
};

typedef void (*ddb_done_cb)(const struct ddb_result *res, void *arg);

/* A pending DynamoDB operation. */
struct ddb_op;

/* Start PutItem.  Returns the pending operation, or NULL with err for a
 * request DynamoDB would refuse (bad table name, invalid item or values,
 * bare attribute name or unused placeholder in an expression); cb then
 * never runs.  Otherwise cb(res, arg) runs once on the loop (unless
 * cancelled) and the operation frees itself after it. */
struct ddb_op *ddb_put_item(struct aws *aws, const struct ddb_put *req,
                            ddb_done_cb cb, void *arg, char err[ERR_LEN]);

/* Start UpdateItem; as ddb_put_item(). */
struct ddb_op *ddb_update_item(struct aws *aws, const struct ddb_update *req,
                               ddb_done_cb cb, void *arg,
                               char err[ERR_LEN]);

/* Start GetItem; as ddb_put_item().  Not found is rc 0 with item NULL. */
struct ddb_op *ddb_get_item(struct aws *aws, const struct ddb_get *req,
                            ddb_done_cb cb, void *arg, char err[ERR_LEN]);

/* Start one Query page; as ddb_put_item(). */
struct ddb_op *ddb_query(struct aws *aws, const struct ddb_query *req,
                         ddb_done_cb cb, void *arg, char err[ERR_LEN]);

/* Query page after page, each starting at the previous LastEvaluatedKey,
 * until there is none, max_items items are collected (0: no limit; the
 * last page may overshoot it, and last_key then says where to go on) or
 * DDB_QUERY_MAX_PAGES pages were read (ERR_FAIL).  A page that returns the
 * key it started from is ERR_FAIL (it would loop).  On failure items holds
 * what earlier pages returned.  As ddb_put_item() otherwise. */
struct ddb_op *ddb_query_all(struct aws *aws, const struct ddb_query *req,
                             size_t max_items, ddb_done_cb cb, void *arg,
                             char err[ERR_LEN]);

/* Stop a pending operation; its callback does not run.  Not from inside
 * that callback.  NULL is a no-op. */
void ddb_cancel(struct ddb_op *op);

#endif
