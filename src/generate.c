/*
 * generate.c: the generate step's per-job state machine,
 *
 *   claim (PutItem if absent) -> [taken: GetItem -> take over a stale
 *   lease, or leave it] -> OpenAI -> S3 PutObject -> UpdateItem uploaded
 *
 * with every write after the claim conditional on still holding the
 * lease, so a slow run that lost its job to another cannot overwrite it.
 * Up to [daemon] max_parallel jobs run at once.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "aws/ddb.h"
#include "aws/ddbjson.h"
#include "aws/s3.h"
#include "calendar.h"
#include "context.h"
#include "core/cfg.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/template.h"
#include "core/tz.h"
#include "generate.h"
#include "openai/openai.h"

#define DEFAULT_PROMPT_PREFIX                                                \
    "A spooky, atmospheric illustration celebrating National "

struct gen_job {
    struct generate *g;
    struct generate_outcome out;
    int index;
    char *job_id;
    char *prompt;
    char *s3_key;
    char *detail;
    json_t *key;
    int64_t attempts;
    unsigned char *image;
    size_t image_len;
    struct image_info info;
    struct s3_digest digest;
    struct ddb_op *ddb;
    struct openai_gen *ai;
    struct s3_op *s3;
    struct log_ctx log;
    int started, finished;
};

struct generate {
    struct context *ctx;
    char date[11];
    int64_t timestamp;
    struct gen_job *jobs;
    struct generate_outcome *outcomes;
    size_t njobs, next, running, finished;
    generate_done_cb done;
    generate_uploaded_cb uploaded;
    void *arg;
    uv_timer_t kick; /* starts the run, then reports its end */
};

static void job_next(struct generate *g);

static void
on_finish(uv_timer_t *t)
{
    struct generate *g = t->data;

    g->done(g, g->arg);
}

/* Report from the loop, so the callback may free the run. */
static void
finish_later(struct generate *g)
{
    uv_timer_start(&g->kick, on_finish, 0, 0);
}

static int64_t
now_s(void)
{
    return (int64_t)time(NULL);
}

static int64_t
lease_s(const struct cfg *cfg)
{
    /* Long enough for OpenAI's slowest answer plus the upload, short
     * enough that a crashed run's job is retried the same morning. */
    return cfg->openai.timeout_ms / 1000 * 2 + 300;
}

static void
job_end(struct gen_job *j, enum job_status st, const char *detail,
        int retryable)
{
    struct generate *g = j->g;
    char *copy = mem_strdup(detail ? detail : ""); /* detail may be ours */

    free(j->detail);
    j->detail = copy;
    j->out.status = st;
    j->out.detail = j->detail;
    j->out.retryable = retryable;
    j->finished = 1;
    free(j->image);
    j->image = NULL;
    g->running--;
    g->finished++;
    g->outcomes[j - g->jobs] = j->out;
    if (g->finished == g->njobs)
        finish_later(g);
    else
        job_next(g);
}

static json_t *
values(void)
{
    return json_object();
}

/* UpdateItem on j's key; cb gets j.  Ends j on a request we could not
 * even send (a bug, never the network). */
static void
update(struct gen_job *j, const char *expr, const char *cond, json_t *vals,
       ddb_done_cb cb)
{
    struct ddb_update req = {0};
    json_t *names = job_names(expr, cond);
    char err[ERR_LEN];

    req.table = j->g->ctx->cfg->aws.table;
    req.key = j->key;
    req.update = expr;
    req.condition = cond;
    req.names = names;
    req.values = vals;
    req.log = &j->log;
    j->ddb = ddb_update_item(j->g->ctx->aws, &req, cb, j, err);
    json_decref(names);
    json_decref(vals);
    if (j->ddb == NULL) {
        log_err(&j->log, "job update refused: %s", err);
        job_end(j, JOB_UNKNOWN, err, 0);
    }
}

static void
on_recorded_end(const struct ddb_result *res, void *arg, enum job_status st)
{
    struct gen_job *j = arg;

    j->ddb = NULL;
    if (res->rc == DDB_CONDITION_FAILED) {
        log_warn(&j->log, "lost the job's lease to another run; "
                          "leaving it to that run");
        job_end(j, JOB_UNKNOWN, "lease lost to another run", 0);
    } else if (res->rc != 0) {
        log_err(&j->log, "cannot record the job as %s: %s",
                job_status_name(st), res->err);
        job_end(j, JOB_GENERATING, res->err, 1);
    } else {
        job_end(j, st, j->detail, st != JOB_FAILED);
    }
}

static void
on_failed_recorded(const struct ddb_result *res, void *arg)
{
    struct gen_job *j = arg;

    on_recorded_end(res, arg, j->out.status);
}

/* Give up on j for good (ERR_FAIL) or for now (ERR_RETRY: the lease is
 * released so the next run takes it at once). */
static void
job_fail(struct gen_job *j, int rc, const char *why)
{
    int final = rc == ERR_FAIL ||
                j->attempts >= JOBS_MAX_GENERATE_ATTEMPTS;
    json_t *v = values();

    free(j->detail);
    j->detail = mem_strdup(why);
    ddbjson_set_s(v, ":me", job_lease_owner());
    ddbjson_set_s(v, ":gen", "generating");
    ddbjson_set_s(v, ":err", why);
    ddbjson_set_i64(v, ":now", now_s());
    if (final) {
        log_err(&j->log, "job failed: %s", why);
        j->out.status = JOB_FAILED;
        ddbjson_set_s(v, ":failed", "failed");
        update(j, "SET #status = :failed, #last_error = :err, "
                  "#updated_at = :now REMOVE #lease_owner, #lease_expires",
               "#status = :gen AND #lease_owner = :me", v,
               on_failed_recorded);
        return;
    }
    log_warn(&j->log, "job will be retried by a later run: %s", why);
    j->out.status = JOB_GENERATING;
    ddbjson_set_i64(v, ":zero", 0);
    update(j, "SET #last_error = :err, #updated_at = :now, "
              "#lease_expires = :zero",
           "#status = :gen AND #lease_owner = :me", v,
           on_failed_recorded);
}

static void
on_uploaded_recorded(const struct ddb_result *res, void *arg)
{
    struct gen_job *j = arg;
    enum job_status st = j->g->ctx->cfg->x.review ? JOB_HELD : JOB_UPLOADED;

    on_recorded_end(res, arg, st);
    if (res->rc == 0 && st == JOB_UPLOADED && j->g->uploaded != NULL)
        j->g->uploaded(j->job_id, j->g->timestamp, j->g->arg);
}

static void
record_uploaded(struct gen_job *j)
{
    const struct cfg *cfg = j->g->ctx->cfg;
    json_t *v = values();

    ddbjson_set_s(v, ":st", cfg->x.review ? "held" : "uploaded");
    ddbjson_set_s(v, ":gen", "generating");
    ddbjson_set_s(v, ":me", job_lease_owner());
    ddbjson_set_s(v, ":key", j->s3_key);
    ddbjson_set_s(v, ":ct", j->info.content_type);
    ddbjson_set_i64(v, ":bytes", (int64_t)j->image_len);
    ddbjson_set_s(v, ":sha", j->digest.hex);
    ddbjson_set_s(v, ":model", cfg->openai.model);
    ddbjson_set_i64(v, ":now", now_s());
    update(j, "SET #status = :st, #s3_key = :key, #content_type = :ct, "
              "#bytes = :bytes, #sha256 = :sha, #model = :model, "
              "#updated_at = :now REMOVE #lease_owner, #lease_expires, "
              "#last_error",
           "#status = :gen AND #lease_owner = :me", v,
           on_uploaded_recorded);
}

static void
on_put(const struct s3_put_result *res, void *arg)
{
    struct gen_job *j = arg;

    j->s3 = NULL;
    if (res->rc != 0) {
        job_fail(j, res->rc == ERR_FAIL ? ERR_FAIL : ERR_RETRY, res->err);
        return;
    }
    log_info(&j->log, "image stored in S3 (%zu bytes)", j->image_len);
    free(j->image); /* the bytes are in S3 now; hold memory no longer */
    j->image = NULL;
    record_uploaded(j);
}

static void
upload(struct gen_job *j)
{
    const struct cfg *cfg = j->g->ctx->cfg;
    struct s3_put_req req = {0};
    char err[ERR_LEN];

    j->s3_key = mem_printf("%s%s.%s", cfg->aws.prefix ? cfg->aws.prefix : "",
                           j->job_id, j->info.extension);
    j->log.s3_key = j->s3_key;
    if (s3_digest(j->image, j->image_len, &j->digest, err) != 0) {
        job_fail(j, ERR_RETRY, err);
        return;
    }
    req.bucket = cfg->aws.bucket;
    req.key = j->s3_key;
    req.body = j->image;
    req.len = j->image_len;
    req.content_type = j->info.content_type;
    req.cache_control = cfg->aws.cache_control;
    req.kms_key_id = cfg->aws.kms_key_id;
    req.digest = &j->digest;
    req.log = &j->log;
    j->s3 = s3_put(j->g->ctx->aws, &req, on_put, j, err);
    if (j->s3 == NULL)
        job_fail(j, ERR_FAIL, err);
}

static void
on_image(struct openai_result *res, void *arg)
{
    struct gen_job *j = arg;

    j->ai = NULL;
    if (res->rc != 0) {
        if (res->quota_exhausted)
            log_err(&j->log, "OpenAI quota exhausted: billing needs a "
                             "human; no image can be made until then");
        job_fail(j, res->rc, res->error);
        return;
    }
    j->info = res->info;
    j->image = openai_result_take_image(res, &j->image_len);
    log_info(&j->log, "image generated: %zu bytes %s %ux%u", j->image_len,
             j->info.content_type, j->info.width, j->info.height);
    upload(j);
}

static void
generate_image(struct gen_job *j)
{
    const struct context *ctx = j->g->ctx;
    struct openai_opts o;
    char err[ERR_LEN];

    openai_opts_init(&o);
    o.base_url = ctx->cfg->openai.base_url;
    o.api_key = ctx->openai_key;
    o.api_key_ref = secret_ref_str(&ctx->cfg->openai.api_key);
    o.model = ctx->cfg->openai.model;
    o.size = ctx->cfg->openai.size;
    o.quality = ctx->cfg->openai.quality;
    o.output_format = ctx->cfg->openai.output_format;
    o.output_compression = ctx->cfg->openai.output_compression;
    o.timeout_ms = (long)ctx->cfg->openai.timeout_ms;
    o.job_id = j->job_id;
    if (openai_check(&o, j->prompt, err) != 0) {
        job_fail(j, ERR_FAIL, err);
        return;
    }
    j->ai = openai_generate(ctx->http, &o, j->prompt, on_image, j);
}

static void
on_taken_over(const struct ddb_result *res, void *arg)
{
    struct gen_job *j = arg;

    j->ddb = NULL;
    if (res->rc == DDB_CONDITION_FAILED) {
        job_end(j, JOB_GENERATING, "taken over by another run", 0);
    } else if (res->rc != 0) {
        job_end(j, JOB_GENERATING, res->err, 1);
    } else if (j->attempts > JOBS_MAX_GENERATE_ATTEMPTS) {
        job_fail(j, ERR_FAIL, "gave up: every attempt to make the image "
                              "was interrupted");
    } else {
        log_info(&j->log, "took over a stale job (attempt %lld)",
                 (long long)j->attempts);
        generate_image(j);
    }
}

static void
take_over(struct gen_job *j, const struct job *old)
{
    const struct cfg *cfg = j->g->ctx->cfg;
    json_t *v = values();

    j->attempts = old->attempts + 1;
    j->log.attempt = (int)j->attempts;
    ddbjson_set_s(v, ":gen", "generating");
    if (old->lease_owner != NULL)
        ddbjson_set_s(v, ":old", old->lease_owner);
    ddbjson_set_i64(v, ":oldexp", old->lease_expires);
    ddbjson_set_s(v, ":me", job_lease_owner());
    ddbjson_set_i64(v, ":exp", now_s() + lease_s(cfg));
    ddbjson_set_i64(v, ":att", j->attempts);
    ddbjson_set_s(v, ":prompt", j->prompt);
    ddbjson_set_i64(v, ":now", now_s());
    /* Exactly the lease we saw, so two runs cannot both take it. */
    update(j, "SET #lease_owner = :me, #lease_expires = :exp, "
              "#attempts = :att, #prompt = :prompt, #updated_at = :now",
           old->lease_owner != NULL
               ? "#status = :gen AND #lease_owner = :old AND "
                 "#lease_expires = :oldexp"
               : "#status = :gen AND attribute_not_exists(#lease_owner) "
                 "AND #lease_expires = :oldexp",
           v, on_taken_over);
}

static void
on_existing(const struct ddb_result *res, void *arg)
{
    struct gen_job *j = arg;
    struct job old;
    char err[ERR_LEN], why[ERR_LEN + 64];

    j->ddb = NULL;
    if (res->rc != 0 || res->item == NULL) {
        job_end(j, JOB_UNKNOWN, res->rc ? res->err : "item vanished", 1);
        return;
    }
    if (job_from_item(res->item, &old, err) != 0) {
        job_end(j, JOB_UNKNOWN, err, 0);
        return;
    }
    if (old.status == JOB_GENERATING && job_lease_stale(&old, now_s())) {
        take_over(j, &old);
    } else {
        snprintf(why, sizeof(why), "already %s%s%s",
                 job_status_name(old.status),
                 old.last_error ? ": " : "",
                 old.last_error ? old.last_error : "");
        log_debug(&j->log, "job is %s: nothing to do",
                  job_status_name(old.status));
        if (old.status == JOB_GENERATING)
            snprintf(why, sizeof(why), "in progress in another run (%s)",
                     old.lease_owner ? old.lease_owner : "?");
        job_end(j, old.status,
                old.status == JOB_FAILED || old.status == JOB_GENERATING
                    ? why : "", old.status == JOB_GENERATING);
    }
    job_cleanup(&old);
}

static void
on_claimed(const struct ddb_result *res, void *arg)
{
    struct gen_job *j = arg;
    struct ddb_get req = {0};
    char err[ERR_LEN];

    j->ddb = NULL;
    if (res->rc == 0) {
        log_info(&j->log, "job claimed");
        generate_image(j);
        return;
    }
    if (res->rc != DDB_CONDITION_FAILED) {
        job_end(j, JOB_UNKNOWN, res->err, 1);
        return;
    }
    /* Someone made this job before: read it to see whether it is done,
     * failed, or abandoned by a crashed run. */
    req.table = j->g->ctx->cfg->aws.table;
    req.key = j->key;
    req.consistent = 1;
    req.log = &j->log;
    j->ddb = ddb_get_item(j->g->ctx->aws, &req, on_existing, j, err);
    if (j->ddb == NULL)
        job_end(j, JOB_UNKNOWN, err, 0);
}

static void
claim(struct gen_job *j)
{
    const struct cfg *cfg = j->g->ctx->cfg;
    struct ddb_put req = {0};
    json_t *item = job_key(j->job_id, j->g->timestamp), *names;
    int64_t now = now_s();
    char err[ERR_LEN];

    ddbjson_set_s(item, "status", "generating");
    ddbjson_set_s(item, "date", j->g->date);
    ddbjson_set_s(item, "national_day", j->out.national_day);
    ddbjson_set_i64(item, "day_index", j->index);
    ddbjson_set_s(item, "prompt", j->prompt);
    ddbjson_set_s(item, "model", cfg->openai.model);
    ddbjson_set_s(item, "lease_owner", job_lease_owner());
    ddbjson_set_i64(item, "lease_expires", now + lease_s(cfg));
    ddbjson_set_i64(item, "attempts", 1);
    ddbjson_set_i64(item, "created_at", now);
    ddbjson_set_i64(item, "updated_at", now);
    if (cfg->aws.retention_days > 0)
        ddbjson_set_i64(item, "ttl", j->g->timestamp +
                                         cfg->aws.retention_days * 86400LL);
    j->attempts = 1;
    j->log.attempt = 1;
    req.table = cfg->aws.table;
    req.item = item;
    req.condition = "attribute_not_exists(#job_id)";
    req.names = names = job_names(req.condition, NULL);
    req.log = &j->log;
    j->ddb = ddb_put_item(j->g->ctx->aws, &req, on_claimed, j, err);
    json_decref(item);
    json_decref(names);
    if (j->ddb == NULL) {
        log_err(&j->log, "job claim refused: %s", err);
        job_end(j, JOB_UNKNOWN, err, 0);
    }
}

static void
job_next(struct generate *g)
{
    int max = g->ctx->cfg->daemon.max_parallel;

    while (g->next < g->njobs && g->running < (size_t)max) {
        struct gen_job *j = &g->jobs[g->next++];

        g->running++;
        j->started = 1;
        if (j->job_id == NULL)
            job_end(j, JOB_FAILED, "the name has no letters or digits for "
                                   "a job id", 0);
        else
            claim(j);
    }
}

static char *
make_prompt(const struct context *ctx, const char *day, const char *date)
{
    const char *prefix = calendar_prompt_prefix(ctx->cal);
    struct template_vars v = {day, date};

    if (ctx->cfg->calendar.prompt != NULL)
        return template_expand(ctx->cfg->calendar.prompt, &v);
    /* The serverless app's rule: Prompt + name + " Day." */
    return mem_printf("%s%s Day.", prefix ? prefix : DEFAULT_PROMPT_PREFIX,
                      day);
}

static void
on_kick(uv_timer_t *t)
{
    struct generate *g = t->data;

    if (g->njobs == 0)
        g->done(g, g->arg);
    else
        job_next(g);  /* may finish every job: on_finish reports */
}

static void
setup_jobs(struct generate *g, const char *const *days, size_t n)
{
    g->jobs = mem_calloc(n ? n : 1, sizeof(*g->jobs));
    g->outcomes = mem_calloc(n ? n : 1, sizeof(*g->outcomes));
    g->njobs = n;
    for (size_t i = 0; i < n; i++) {
        struct gen_job *j = &g->jobs[i];

        j->g = g;
        j->index = (int)i;
        j->job_id = job_id_make(g->date, (int)i, days[i]);
        j->prompt = make_prompt(g->ctx, days[i], g->date);
        j->key = job_key(j->job_id ? j->job_id : "", g->timestamp);
        j->out.job_id = j->job_id ? j->job_id : days[i];
        j->out.national_day = days[i];
        j->out.detail = "";
        j->log.job_id = j->job_id;
        j->log.national_day = days[i];
        g->outcomes[i] = j->out;
    }
}

struct generate *
generate_start(struct context *ctx, const char *date, generate_done_cb done,
               generate_uploaded_cb uploaded, void *arg)
{
    struct generate *g = mem_calloc(1, sizeof(*g));
    const char *const *days = NULL;
    int y = 0, m = 0, d = 0;
    size_t n = 0;

    g->ctx = context_ref(ctx);
    snprintf(g->date, sizeof(g->date), "%s", date);
    g->done = done;
    g->uploaded = uploaded;
    g->arg = arg;
    if (sscanf(date, "%d-%d-%d", &y, &m, &d) == 3 &&
        tz_midnight(ctx->cfg->schedule.timezone, y, m, d, &g->timestamp) ==
            0)
        n = calendar_days(ctx->cal, m, d, &days);
    log_info(NULL, "generate step for %s: %zu national day%s", date, n,
             n == 1 ? "" : "s");
    setup_jobs(g, days, n);
    uv_timer_init(ctx->loop, &g->kick);
    g->kick.data = g;
    uv_timer_start(&g->kick, on_kick, 0, 0);
    return g;
}

size_t
generate_outcomes(const struct generate *g,
                  const struct generate_outcome **out)
{
    *out = g->outcomes;
    return g->njobs;
}

int64_t
generate_timestamp(const struct generate *g)
{
    return g->timestamp;
}

static void
on_kick_closed(uv_handle_t *h)
{
    struct generate *g = h->data;

    context_unref(g->ctx);
    free(g->jobs);
    free(g->outcomes);
    free(g);
}

void
generate_free(struct generate *g)
{
    if (g == NULL)
        return;
    for (size_t i = 0; i < g->njobs; i++) {
        struct gen_job *j = &g->jobs[i];

        ddb_cancel(j->ddb);
        openai_cancel(j->ai);
        s3_cancel(j->s3);
        json_decref(j->key);
        free(j->job_id);
        free(j->prompt);
        free(j->s3_key);
        free(j->detail);
        free(j->image);
    }
    uv_close((uv_handle_t *)&g->kick, on_kick_closed);
}
