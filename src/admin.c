/*
 * admin.c: --jobs, --retry and --approve.  Every change is conditional on
 * the status the operator expects, so a command racing the daemon either
 * wins cleanly or says what the job is now.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "admin.h"
#include "aws/ddb.h"
#include "aws/ddbjson.h"
#include "context.h"
#include "core/cfg.h"
#include "core/log.h"
#include "core/tz.h"
#include "jobs.h"
#include "oneshot.h"

#define NLISTED 6

struct admin {
    const char *date;
    const char *job_id;
    enum job_status from; /* --retry: failed, --approve: held */
    struct context *ctx;
    json_t *key;
    json_t *found; /* --jobs: every item */
    int pending;
    int rc;
};

static const enum job_status listed[NLISTED] = {
    JOB_GENERATING, JOB_UPLOADED, JOB_HELD,
    JOB_POSTING,    JOB_POSTED,   JOB_FAILED,
};

/* The range key of a job: its date's local midnight.  The date is the
 * first ten characters of the job id. */
static int
job_timestamp(const struct cfg *cfg, const char *job_id, int64_t *ts)
{
    int y, m, d;
    time_t t;

    if (strlen(job_id) < 12 || job_id[10] != '_' ||
        sscanf(job_id, "%4d-%2d-%2d", &y, &m, &d) != 3 ||
        tz_midnight(cfg->schedule.timezone, y, m, d, &t) != 0)
        return ERR_FAIL;
    *ts = t;
    return 0;
}

static int
cmp_items(const void *a, const void *b)
{
    const json_t *x = *(json_t *const *)a, *y = *(json_t *const *)b;
    const char *tx = ddbjson_get_n(x, "timestamp");
    const char *ty = ddbjson_get_n(y, "timestamp");
    int64_t nx = tx ? atoll(tx) : 0, ny = ty ? atoll(ty) : 0;

    if (nx != ny)
        return nx < ny ? -1 : 1;
    return strcmp(ddbjson_get_s(x, "job_id"), ddbjson_get_s(y, "job_id"));
}

static void
print_jobs(struct admin *a)
{
    size_t n = json_array_size(a->found);
    json_t **v = calloc(n ? n : 1, sizeof(*v));

    for (size_t i = 0; i < n; i++)
        v[i] = json_array_get(a->found, i);
    qsort(v, n, sizeof(*v), cmp_items);
    for (size_t i = 0; i < n; i++) {
        struct job j;
        char err[ERR_LEN];

        if (job_from_item(v[i], &j, err) != 0)
            continue;
        printf("%s %s \"%s\" %s\n", j.job_id, job_status_name(j.status),
               j.national_day ? j.national_day : "",
               j.tweet_id ? j.tweet_id
                          : j.last_error ? j.last_error : "-");
        job_cleanup(&j);
    }
    if (n == 0)
        printf("no jobs%s%s\n", a->date ? " for " : "",
               a->date ? a->date : "");
    free(v);
}

/* One query (or the start-up hold) is over; the last prints. */
static void
page_done(struct admin *a)
{
    if (--a->pending == 0) {
        if (a->rc == 0)
            print_jobs(a);
        json_decref(a->found);
        context_unref(a->ctx);
    }
}

static void
on_page(const struct ddb_result *res, void *arg)
{
    struct admin *a = arg;

    if (res->rc != 0) {
        log_err(NULL, "listing jobs: %s", res->err);
        a->rc = 1;
    } else {
        json_array_extend(a->found, res->items);
    }
    page_done(a);
}

static void
start_jobs(struct context *ctx, void *arg)
{
    struct admin *a = arg;
    int64_t ts = 0;
    char err[ERR_LEN], id[16];

    a->ctx = context_ref(ctx);
    a->found = json_array();
    a->rc = 0;
    if (a->date != NULL) {
        snprintf(id, sizeof(id), "%s_0", a->date);
        job_timestamp(ctx->cfg, id, &ts);
    }
    a->pending = 1;
    for (int i = 0; i < NLISTED; i++) {
        struct ddb_query q = {0};
        json_t *v = json_object();

        ddbjson_set_s(v, ":st", job_status_name(listed[i]));
        if (a->date != NULL)
            ddbjson_set_i64(v, ":ts", ts);
        q.table = ctx->cfg->aws.table;
        q.index = JOBS_STATUS_INDEX;
        q.key_condition = a->date ? "#status = :st AND #timestamp = :ts"
                                  : "#status = :st";
        q.names = job_names(q.key_condition, NULL);
        q.values = v;
        a->pending++;
        if (ddb_query_all(ctx->aws, &q, 0, on_page, a, err) == NULL) {
            log_err(NULL, "listing jobs: %s", err);
            a->rc = 1;
            a->pending--;
        }
        json_decref((json_t *)q.names);
        json_decref(v);
    }
    page_done(a);
}

static void
on_changed(const struct ddb_result *res, void *arg)
{
    struct admin *a = arg;
    struct job j = {0};
    char err[ERR_LEN];

    if (res->rc == DDB_CONDITION_FAILED) {
        /* The Attributes are absent on a failed condition: say what we
         * expected instead of guessing what it is now. */
        fprintf(stderr, "spookyd: %s is not %s (or does not exist)\n",
                a->job_id, job_status_name(a->from));
        a->rc = 1;
    } else if (res->rc != 0) {
        log_err(NULL, "%s: %s", a->job_id, res->err);
        a->rc = 1;
    } else if (job_from_item(res->item, &j, err) == 0) {
        printf("%s: %s -> %s\n", a->job_id, job_status_name(a->from),
               job_status_name(j.status));
        a->rc = 0;
        job_cleanup(&j);
    }
    json_decref(a->key);
    context_unref(a->ctx);
}

static void
change(struct admin *a, enum job_status to)
{
    struct ddb_update u = {0};
    json_t *v = json_object();
    char err[ERR_LEN];

    ddbjson_set_s(v, ":from", job_status_name(a->from));
    ddbjson_set_s(v, ":to", job_status_name(to));
    ddbjson_set_i64(v, ":now", (int64_t)time(NULL));
    if (a->from == JOB_FAILED) {
        /* A fresh attempt budget and no lease, for the next run. */
        ddbjson_set_i64(v, ":zero", 0);
        u.update = "SET #status = :to, #attempts = :zero, "
                   "#post_attempts = :zero, #lease_expires = :zero, "
                   "#updated_at = :now REMOVE #last_error";
    } else {
        u.update = "SET #status = :to, #updated_at = :now";
    }
    u.table = a->ctx->cfg->aws.table;
    u.key = a->key;
    u.condition = "#status = :from";
    u.names = job_names(u.update, u.condition);
    u.values = v;
    u.return_values = "ALL_NEW";
    if (ddb_update_item(a->ctx->aws, &u, on_changed, a, err) == NULL) {
        log_err(NULL, "%s: %s", a->job_id, err);
        json_decref(a->key);
        context_unref(a->ctx);
    }
    json_decref((json_t *)u.names);
    json_decref(v);
}

/* --retry: a failed job whose image is in S3 goes back to the tweet step,
 * one without an image back to the generate step. */
static void
on_got(const struct ddb_result *res, void *arg)
{
    struct admin *a = arg;

    if (res->rc != 0 || res->item == NULL) {
        fprintf(stderr, "spookyd: %s: %s\n", a->job_id,
                res->rc ? res->err : "no such job");
        json_decref(a->key);
        context_unref(a->ctx);
        return;
    }
    change(a, ddbjson_get_s(res->item, "s3_key") ? JOB_UPLOADED
                                                  : JOB_GENERATING);
}

static void
start_change(struct context *ctx, void *arg)
{
    struct admin *a = arg;
    struct ddb_get g = {0};
    int64_t ts;
    char err[ERR_LEN];

    a->ctx = context_ref(ctx);
    if (job_timestamp(ctx->cfg, a->job_id, &ts) != 0) {
        fprintf(stderr, "spookyd: '%s' is not a job id "
                        "(YYYY-MM-DD_N_Name)\n", a->job_id);
        context_unref(a->ctx);
        return;
    }
    a->key = job_key(a->job_id, ts);
    if (a->from == JOB_HELD) {
        change(a, JOB_UPLOADED);
        return;
    }
    g.table = ctx->cfg->aws.table;
    g.key = a->key;
    g.consistent = 1;
    if (ddb_get_item(ctx->aws, &g, on_got, a, err) == NULL) {
        log_err(NULL, "%s: %s", a->job_id, err);
        json_decref(a->key);
        context_unref(a->ctx);
    }
}

int
admin_jobs(struct cfg *cfg, struct calendar *cal, const char *date)
{
    struct admin a = {.date = date, .rc = 1};

    if (oneshot_run(cfg, cal, start_jobs, &a) != 0)
        return 1;
    return a.rc;
}

int
admin_retry(struct cfg *cfg, struct calendar *cal, const char *job_id)
{
    struct admin a = {.job_id = job_id, .from = JOB_FAILED, .rc = 1};

    if (oneshot_run(cfg, cal, start_change, &a) != 0)
        return 1;
    return a.rc;
}

int
admin_approve(struct cfg *cfg, struct calendar *cal, const char *job_id)
{
    struct admin a = {.job_id = job_id, .from = JOB_HELD, .rc = 1};

    if (oneshot_run(cfg, cal, start_change, &a) != 0)
        return 1;
    return a.rc;
}
