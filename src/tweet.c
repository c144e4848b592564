/*
 * tweet.c: the tweet step's per-job state machine,
 *
 *   claim (UpdateItem uploaded|stale posting -> posting, with a lease)
 *   -> wait for post_spacing -> S3 GetObject (sha256 checked) -> X upload,
 *   alt text, post -> UpdateItem posted
 *
 * and the poller that finds work in the status index.  Every write after
 * the claim is conditional on still holding the lease.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "aws/ddb.h"
#include "aws/ddbjson.h"
#include "aws/s3.h"
#include "aws/sigv4.h"
#include "calendar.h"
#include "context.h"
#include "core/cfg.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/retry.h"
#include "core/template.h"
#include "tweet.h"
#include "x/x.h"
#include "x/xtext.h"

/* How long a claimed job is ours: uploads, retries and the spacing wait. */
#define POST_LEASE_S 900
/* After X refuses our credentials or credits, stop asking for this long
 * rather than storm it; a reload (new secret) lifts the pause. */
#define PAUSE_ON_REFUSAL_MS (60 * 60 * 1000)
/* The longest rate-limit wait a claimed job sits out under its lease. */
#define RATE_LIMIT_WAIT_MAX_MS (5 * 60 * 1000)
/* Jobs of each status one poll looks at. */
#define POLL_LIMIT 25

struct post {
    struct tweet *t;
    struct context *ctx;
    struct post *next;
    char *job_id;
    json_t *key;
    struct job job;
    char *caption, *alt;
    char *image;
    size_t image_len;
    struct ddb_op *ddb;
    struct s3_op *s3;
    struct x_op *xop;
    uv_timer_t wait;
    struct log_ctx log;
    char *dead_owner; /* lease holder we take over from, or NULL */
    char media_id[X_ID_LEN];
    char tweet_id[X_ID_LEN];
    int stage; /* enum post_stage */
    enum job_status final;
};

struct tweet {
    uv_loop_t *loop;
    struct context *ctx;
    uv_timer_t poll;
    int polling;
    struct post *posts;
    unsigned busy;
    uint64_t next_post_at; /* uv_now() ms: post_spacing */
    uint64_t paused_until; /* uv_now() ms: rate limit or refusal */
    struct ddb_op *query[3];
    tweet_job_cb on_job;
    tweet_stale_cb on_stale;
    void *arg;
};

static void on_poll_timer(uv_timer_t *timer);

static int64_t
now_s(void)
{
    return (int64_t)time(NULL);
}

static void
post_closed(uv_handle_t *h)
{
    struct post *p = h->data;

    job_cleanup(&p->job);
    json_decref(p->key);
    free(p->job_id);
    free(p->caption);
    free(p->alt);
    free(p->image);
    free(p->dead_owner);
    context_unref(p->ctx);
    free(p);
}

static void
post_unlink(struct post *p)
{
    struct post **pp;

    for (pp = &p->t->posts; *pp != NULL && *pp != p; pp = &(*pp)->next)
        ;
    if (*pp == p)
        *pp = p->next;
    p->t->busy--;
}

static void
post_end(struct post *p, enum job_status st, const char *detail)
{
    struct tweet *t = p->t;

    post_unlink(p);
    if (t->on_job != NULL)
        t->on_job(p->job_id, st, detail ? detail : "", t->arg);
    uv_close((uv_handle_t *)&p->wait, post_closed);
}

/* UpdateItem on the job, conditional on our lease unless cond says
 * otherwise.  Takes vals. */
static void
update(struct post *p, const char *expr, const char *cond, json_t *vals,
       ddb_done_cb cb)
{
    struct ddb_update req = {0};
    json_t *names = job_names(expr, cond);
    char err[ERR_LEN];

    req.table = p->ctx->cfg->aws.table;
    req.key = p->key;
    req.update = expr;
    req.condition = cond;
    req.names = names;
    req.values = vals;
    req.return_values = "ALL_NEW";
    req.log = &p->log;
    p->ddb = ddb_update_item(p->ctx->aws, &req, cb, p, err);
    json_decref(names);
    json_decref(vals);
    if (p->ddb == NULL) {
        log_err(&p->log, "job update refused: %s", err);
        post_end(p, JOB_UNKNOWN, err);
    }
}

static json_t *
lease_values(void)
{
    json_t *v = json_object();

    ddbjson_set_s(v, ":me", job_lease_owner());
    ddbjson_set_i64(v, ":now", now_s());
    return v;
}

static void
on_recorded(const struct ddb_result *res, void *arg)
{
    struct post *p = arg;

    p->ddb = NULL;
    if (res->rc == DDB_CONDITION_FAILED) {
        log_warn(&p->log, "lost the job's lease before recording it");
        post_end(p, JOB_UNKNOWN, "lease lost");
    } else if (res->rc != 0) {
        log_err(&p->log, "cannot record the job as %s: %s",
                job_status_name(p->final), res->err);
        post_end(p, JOB_POSTING, res->err);
    } else {
        post_end(p, p->final, p->job.last_error);
    }
}

static void
record_failed(struct post *p, const char *why)
{
    json_t *v = lease_values();

    log_err(&p->log, "job failed: %s", why);
    free(p->job.last_error);
    p->job.last_error = mem_strdup(why);
    p->final = JOB_FAILED;
    ddbjson_set_s(v, ":failed", "failed");
    ddbjson_set_s(v, ":err", why);
    update(p, "SET #status = :failed, #last_error = :err, "
              "#updated_at = :now REMOVE #lease_owner, #lease_expires",
           "#lease_owner = :me", v, on_recorded);
}

/* Back to `uploaded` for a later try; a rate limit does not count as an
 * attempt. */
static void
release(struct post *p, const char *why, int count_attempt)
{
    json_t *v = lease_values();

    if (count_attempt && p->job.attempts >= p->ctx->cfg->x.max_attempts) {
        char msg[ERR_LEN + 64];

        snprintf(msg, sizeof(msg), "gave up after %d attempts: %s",
                 p->ctx->cfg->x.max_attempts, why);
        record_failed(p, msg);
        return;
    }
    log_warn(&p->log, "job will be posted later: %s", why);
    free(p->job.last_error);
    p->job.last_error = mem_strdup(why);
    p->final = JOB_UPLOADED;
    ddbjson_set_s(v, ":up", "uploaded");
    ddbjson_set_s(v, ":err", why);
    ddbjson_set_i64(v, ":one", count_attempt ? 0 : 1);
    update(p, "SET #status = :up, #last_error = :err, #updated_at = :now, "
              "#post_attempts = #post_attempts - :one "
              "REMOVE #lease_owner, #lease_expires",
           "#lease_owner = :me", v, on_recorded);
}

static void
record_posted(struct post *p, int duplicate)
{
    json_t *v = lease_values();

    p->final = JOB_POSTED;
    ddbjson_set_s(v, ":posted", "posted");
    ddbjson_set_s(v, ":caption", p->caption);
    ddbjson_set_i64(v, ":at", now_s());
    if (!duplicate)
        ddbjson_set_s(v, ":tweet", p->tweet_id);
    if (p->media_id[0] != '\0')
        ddbjson_set_s(v, ":media", p->media_id);
    update(p, duplicate ? (p->media_id[0] ? "SET #status = :posted, "
                           "#caption = :caption, #posted_at = :at, "
                           "#media_id = :media, #updated_at = :now "
                           "REMOVE #lease_owner, #lease_expires"
                         : "SET #status = :posted, #caption = :caption, "
                           "#posted_at = :at, #updated_at = :now "
                           "REMOVE #lease_owner, #lease_expires")
                        : "SET #status = :posted, #tweet_id = :tweet, "
                          "#media_id = :media, #caption = :caption, "
                          "#posted_at = :at, #updated_at = :now "
                          "REMOVE #lease_owner, #lease_expires, "
                          "#last_error",
           "#lease_owner = :me", v, on_recorded);
}

/* The X part runs one call at a time so a rate limit or a wait for
 * post_spacing resumes exactly where it stopped. */
enum post_stage { STAGE_UPLOAD, STAGE_METADATA, STAGE_TWEET };

static void x_stage(struct post *p);

static void
x_stage_timer(uv_timer_t *timer)
{
    x_stage(timer->data);
}

/* Run the current stage now, or when the pause and, for the post itself,
 * [x] post_spacing allow. */
static void
x_stage_when_allowed(struct post *p)
{
    struct tweet *t = p->t;
    uint64_t now = uv_now(t->loop), at = now;

    if (t->paused_until > now + RATE_LIMIT_WAIT_MAX_MS) {
        /* X refused the account or set a long limit: hand the job back
         * rather than sit on its lease, and ask X nothing meanwhile. */
        release(p, "posting paused: X refused the last request; see the "
                   "log", 0);
        return;
    }
    if (t->paused_until > at)
        at = t->paused_until;
    if (p->stage == STAGE_TWEET) {
        /* Spacing is between posts, so it is kept right before each. */
        if (t->next_post_at > at)
            at = t->next_post_at;
        t->next_post_at = at + (uint64_t)p->ctx->cfg->x.post_spacing_ms;
    }
    if (at == now)
        x_stage(p);
    else
        uv_timer_start(&p->wait, x_stage_timer, at - now, 0);
}

static void
on_x(const struct x_result *res, void *arg)
{
    struct post *p = arg;
    struct tweet *t = p->t;

    p->xop = NULL;
    switch (res->outcome) {
    case X_DONE:
        if (p->stage == STAGE_UPLOAD) {
            snprintf(p->media_id, sizeof(p->media_id), "%s", res->media_id);
            p->stage = *p->alt ? STAGE_METADATA : STAGE_TWEET;
            x_stage_when_allowed(p);
        } else if (p->stage == STAGE_METADATA) {
            p->stage = STAGE_TWEET;
            x_stage_when_allowed(p);
        } else {
            snprintf(p->tweet_id, sizeof(p->tweet_id), "%s", res->tweet_id);
            p->log.tweet_id = p->tweet_id;
            log_info(&p->log, "posted to X");
            record_posted(p, 0);
        }
        break;
    case X_DUPLICATE:
        /* An earlier attempt posted it and died before recording it. */
        log_notice(&p->log, "X already has this post (duplicate content); "
                            "recording it as posted");
        record_posted(p, 1);
        break;
    case X_RATE_LIMITED:
        /* Pause all posting until the limit resets.  A short wait is
         * sat out holding the lease; a long one hands the job back. */
        t->paused_until = uv_now(t->loop) + res->wait_ms;
        if (res->wait_ms <= RATE_LIMIT_WAIT_MAX_MS) {
            log_notice(&p->log, "X rate limit: posting again in %llu s",
                       (unsigned long long)res->wait_ms / 1000);
            x_stage_when_allowed(p);
            break;
        }
        if (t->polling)
            uv_timer_start(&t->poll, on_poll_timer, res->wait_ms, 0);
        release(p, res->err, 0);
        break;
    case X_RETRY:
        release(p, res->err, 1);
        break;
    case X_FAIL:
        if (res->credits_depleted || res->auth_failed) {
            log_err(&p->log, "X refused the account (%s): posting paused "
                             "for an hour; fix it and reload",
                    res->credits_depleted ? "credits depleted"
                                          : "credentials rejected");
            t->paused_until = uv_now(t->loop) + PAUSE_ON_REFUSAL_MS;
        }
        record_failed(p, res->err);
        break;
    }
}

static void fetch_image(struct post *p);

static void
x_stage(struct post *p)
{
    const char *ids[1] = {p->media_id};
    char err[ERR_LEN];

    switch (p->stage) {
    case STAGE_UPLOAD:
        if (p->image == NULL) {
            fetch_image(p); /* freed by an attempt that had to wait */
            return;
        }
        p->xop = x_media_upload(p->ctx->x, p->image, p->image_len,
                                p->job.content_type, p->job_id, on_x, p,
                                err);
        /* The request body is a copy: keeping ours as well would double
         * the memory of each upload in flight.  An upload that has to
         * wait for a rate limit reads the image from S3 again. */
        free(p->image);
        p->image = NULL;
        break;
    case STAGE_METADATA:
        p->xop = x_media_metadata(p->ctx->x, p->media_id, p->alt,
                                  p->job_id, on_x, p, err);
        break;
    case STAGE_TWEET:
        p->xop = x_tweet(p->ctx->x, p->caption, ids, 1, p->job_id, on_x, p,
                         err);
        break;
    }
    if (p->xop == NULL)
        record_failed(p, err);
}

static void
on_image(const struct s3_get_result *res, void *arg)
{
    struct post *p = arg;
    char hex[SIGV4_HEX_LEN + 1];

    p->s3 = NULL;
    if (res->rc != 0) {
        /* A refusal (403, 400) stays a refusal; a 404, or a 2xx whose
         * body was unusable (larger than the limit), may be a bad read
         * of a good object: another attempt, counted. */
        if (res->rc == ERR_FAIL && res->status != 404 &&
            (res->status < 200 || res->status > 299))
            record_failed(p, res->err);
        else
            release(p, res->err, 1);
        return;
    }
    p->image_len = res->body->len;
    p->image = buf_steal(res->body);
    if (p->job.sha256 != NULL &&
        (sigv4_sha256_hex(p->image, p->image_len, hex) != 0 ||
         strcmp(hex, p->job.sha256) != 0)) {
        /* The item records what was stored: these bytes were damaged on
         * the way, or the object replaced; max_attempts tells which. */
        release(p, "the image read from S3 does not match the sha256 the "
                   "generate step recorded", 1);
        return;
    }
    p->stage = STAGE_UPLOAD;
    x_stage_when_allowed(p);
}

static void
fetch_image(struct post *p)
{
    char err[ERR_LEN];

    p->s3 = s3_get(p->ctx->aws, p->ctx->cfg->aws.bucket, p->job.s3_key,
                   X_IMAGE_MAX, &p->log, on_image, p, err);
    if (p->s3 == NULL)
        record_failed(p, err);
}

static void read_claimed(struct post *p);

static int
make_texts(struct post *p, char err[ERR_LEN])
{
    struct template_vars v = {p->job.national_day, p->job.date};

    if (p->job.national_day == NULL || p->job.date == NULL ||
        p->job.s3_key == NULL || p->job.content_type == NULL) {
        snprintf(err, ERR_LEN, "job item lacks national_day, date, s3_key "
                               "or content_type");
        return ERR_FAIL;
    }
    p->caption = template_expand(p->ctx->cfg->calendar.caption, &v);
    p->alt = template_expand(p->ctx->cfg->calendar.alt_text, &v);
    return 0;
}

static void
on_claimed(const struct ddb_result *res, void *arg)
{
    struct post *p = arg;
    char err[ERR_LEN];

    p->ddb = NULL;
    if (res->rc == DDB_CONDITION_FAILED) {
        if (p->dead_owner == NULL) {
            read_claimed(p);
            return;
        }
        log_debug(&p->log, "job not ready to post or taken by another run");
        post_end(p, JOB_UNKNOWN, "not claimable");
        return;
    }
    if (res->rc != 0 || res->item == NULL ||
        job_from_item(res->item, &p->job, err) != 0) {
        post_end(p, JOB_UNKNOWN, res->rc ? res->err : err);
        return;
    }
    p->log.national_day = p->job.national_day;
    p->log.s3_key = p->job.s3_key;
    p->job.attempts = 0;
    ddbjson_get_i64(res->item, "post_attempts", &p->job.attempts, err);
    p->log.attempt = (int)p->job.attempts;
    if (make_texts(p, err) != 0) {
        record_failed(p, err);
        return;
    }
    log_info(&p->log, "job claimed for posting");
    fetch_image(p);
}

static void claim(struct post *p);

/* The claim failed: if the job is being posted by a process of this host
 * that has died (a crash or restart), take it over now instead of
 * waiting the lease out, as the generate step does. */
static void
on_read(const struct ddb_result *res, void *arg)
{
    struct post *p = arg;
    struct job j;
    char err[ERR_LEN];

    p->ddb = NULL;
    if (res->rc == 0 && res->item != NULL &&
        job_from_item(res->item, &j, err) == 0) {
        if (j.status == JOB_POSTING && j.lease_owner != NULL &&
            job_lease_stale(&j, now_s())) {
            p->dead_owner = mem_strdup(j.lease_owner);
            log_info(&p->log, "taking over from a dead process (%s)",
                     j.lease_owner);
            job_cleanup(&j);
            claim(p);
            return;
        }
        job_cleanup(&j);
    }
    log_debug(&p->log, "job not ready to post or taken by another run");
    post_end(p, JOB_UNKNOWN, "not claimable");
}

static void
read_claimed(struct post *p)
{
    struct ddb_get req = {0};
    char err[ERR_LEN];

    req.table = p->ctx->cfg->aws.table;
    req.key = p->key;
    req.consistent = 1;
    req.log = &p->log;
    p->ddb = ddb_get_item(p->ctx->aws, &req, on_read, p, err);
    if (p->ddb == NULL)
        post_end(p, JOB_UNKNOWN, err);
}

static void
claim(struct post *p)
{
    struct tweet *t = p->t;
    json_t *v = lease_values();
    uint64_t now = uv_now(t->loop), wait = 0;

    if (t->next_post_at > now)
        wait = (t->next_post_at - now) / 1000;
    if (p->dead_owner == NULL)
        ddbjson_set_s(v, ":up", "uploaded");
    ddbjson_set_s(v, ":posting", "posting");
    ddbjson_set_i64(v, ":exp", now_s() + POST_LEASE_S + (int64_t)wait);
    ddbjson_set_i64(v, ":zero", 0);
    ddbjson_set_i64(v, ":one", 1);
    if (p->dead_owner != NULL)
        ddbjson_set_s(v, ":dead", p->dead_owner);
    update(p, "SET #status = :posting, #lease_owner = :me, "
              "#lease_expires = :exp, #updated_at = :now, "
              "#post_attempts = if_not_exists(#post_attempts, :zero) + :one",
           p->dead_owner == NULL
               ? "#status = :up OR (#status = :posting AND "
                 "#lease_expires < :now)"
               : "#status = :posting AND #lease_owner = :dead",
           v, on_claimed);
}

int
tweet_job(struct tweet *t, const char *job_id, int64_t timestamp)
{
    struct post *p;

    if (t->ctx == NULL)
        return -1;
    for (p = t->posts; p != NULL; p = p->next)
        if (strcmp(p->job_id, job_id) == 0)
            return -1; /* already ours */
    p = mem_calloc(1, sizeof(*p));
    p->t = t;
    p->ctx = context_ref(t->ctx);
    p->job_id = mem_strdup(job_id);
    p->key = job_key(job_id, timestamp);
    p->log.job_id = p->job_id;
    uv_timer_init(t->loop, &p->wait);
    p->wait.data = p;
    p->next = t->posts;
    t->posts = p;
    t->busy++;
    claim(p);
    return 0;
}

/* --- the poller --- */

enum { Q_UPLOADED, Q_POSTING, Q_GENERATING };

static void
on_polled(const struct ddb_result *res, void *arg, int which)
{
    struct tweet *t = arg;
    size_t n = json_array_size(res->items);
    char last_date[11] = "";

    t->query[which] = NULL;
    if (res->rc != 0) {
        log_warn(NULL, "poll of the job table failed: %s", res->err);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        const json_t *it = json_array_get(res->items, i);
        const char *id = ddbjson_get_s(it, "job_id");
        const char *date = ddbjson_get_s(it, "date");
        int64_t ts;
        char err[ERR_LEN];

        if (id == NULL || ddbjson_get_i64(it, "timestamp", &ts, err) != 0)
            continue;
        if (which != Q_GENERATING) {
            tweet_job(t, id, ts);
        } else if (date != NULL && strlen(date) == 10 &&
                   strcmp(date, last_date) != 0 && t->on_stale != NULL) {
            /* Oldest first: one call per date is enough. */
            snprintf(last_date, sizeof(last_date), "%s", date);
            t->on_stale(date, t->arg);
        }
    }
}

static void
on_uploaded_page(const struct ddb_result *res, void *arg)
{
    on_polled(res, arg, Q_UPLOADED);
}

static void
on_posting_page(const struct ddb_result *res, void *arg)
{
    on_polled(res, arg, Q_POSTING);
}

static void
on_generating_page(const struct ddb_result *res, void *arg)
{
    on_polled(res, arg, Q_GENERATING);
}

static void
poll_status(struct tweet *t, int which, const char *status, ddb_done_cb cb)
{
    struct ddb_query q = {0};
    json_t *v;
    char err[ERR_LEN];

    if (t->query[which] != NULL)
        return; /* the last poll of this kind has not answered yet */
    v = json_object();
    ddbjson_set_s(v, ":st", status);
    q.table = t->ctx->cfg->aws.table;
    q.index = JOBS_STATUS_INDEX;
    q.key_condition = "#status = :st";
    if (which == Q_GENERATING) {
        /* Jobs whose lease ran out, and those leased by this host, whose
         * holder may be gone (a crash: the generate step's claim checks);
         * a live lease of another host is left to run out.  Posting jobs
         * are all looked at: their claim does the same check. */
        const char *owner = job_lease_owner();
        char host[300];

        snprintf(host, sizeof(host), "%.*s", (int)strcspn(owner, "/") + 1,
                 owner);
        ddbjson_set_i64(v, ":now", now_s());
        ddbjson_set_s(v, ":host", host);
        q.filter = "#lease_expires < :now OR "
                   "begins_with(#lease_owner, :host)";
    }
    q.names = job_names(q.key_condition, q.filter);
    q.values = v;
    q.limit = POLL_LIMIT;
    t->query[which] = ddb_query(t->ctx->aws, &q, cb, t, err);
    if (t->query[which] == NULL)
        log_err(NULL, "poll refused: %s", err);
    json_decref((json_t *)q.names);
    json_decref(v);
}

static void arm_poll(struct tweet *t);

static void
on_poll_timer(uv_timer_t *timer)
{
    struct tweet *t = timer->data;

    if (uv_now(t->loop) >= t->paused_until) {
        poll_status(t, Q_UPLOADED, "uploaded", on_uploaded_page);
        poll_status(t, Q_POSTING, "posting", on_posting_page);
    }
    poll_status(t, Q_GENERATING, "generating", on_generating_page);
    arm_poll(t);
}

/* Next poll in poll_interval +-10%, so instances sharing a table spread
 * out instead of polling in lockstep. */
static void
arm_poll(struct tweet *t)
{
    uint64_t base = (uint64_t)t->ctx->cfg->x.poll_interval_ms;
    double jitter = (retry_random() - 0.5) * 0.2;

    uv_timer_start(&t->poll, on_poll_timer,
                   (uint64_t)((double)base * (1 + jitter)), 0);
}

struct tweet *
tweet_new(uv_loop_t *loop, tweet_job_cb on_job, tweet_stale_cb on_stale,
          void *arg)
{
    struct tweet *t = mem_calloc(1, sizeof(*t));

    t->loop = loop;
    t->on_job = on_job;
    t->on_stale = on_stale;
    t->arg = arg;
    uv_timer_init(loop, &t->poll);
    t->poll.data = t;
    return t;
}

void
tweet_set_context(struct tweet *t, struct context *ctx, int poll)
{
    struct context *old = t->ctx;

    t->ctx = context_ref(ctx);
    context_unref(old);
    t->paused_until = 0; /* a reload may carry new credentials */
    t->polling = poll;
    if (poll)
        uv_timer_start(&t->poll, on_poll_timer, 0, 0);
}

unsigned
tweet_busy(const struct tweet *t)
{
    return t->busy;
}

void
tweet_stop(struct tweet *t)
{
    t->polling = 0;
    uv_timer_stop(&t->poll);
}

static void
tweet_closed(uv_handle_t *h)
{
    struct tweet *t = h->data;

    context_unref(t->ctx);
    free(t);
}

void
tweet_free(struct tweet *t)
{
    if (t == NULL)
        return;
    for (int i = 0; i < 3; i++)
        ddb_cancel(t->query[i]);
    while (t->posts != NULL) {
        struct post *p = t->posts;

        ddb_cancel(p->ddb);
        s3_cancel(p->s3);
        x_op_cancel(p->xop);
        t->posts = p->next;
        uv_close((uv_handle_t *)&p->wait, post_closed);
    }
    uv_close((uv_handle_t *)&t->poll, tweet_closed);
}

int
tweet_check_captions(const struct cfg *cfg, const struct calendar *cal,
                      struct buf *errors)
{
    int bad = 0;

    /* Every date of a leap year, so february 29 is seen too. */
    for (int m = 1; m <= 12; m++)
        for (int d = 1; d <= 31; d++) {
            const char *const *days;
            size_t n = calendar_days(cal, m, d, &days);
            char date[32], err[ERR_LEN]; /* room the compiler can see */

            snprintf(date, sizeof(date), "2028-%02d-%02d", m, d);
            for (size_t i = 0; i < n; i++) {
                struct template_vars v = {days[i], date};
                char *caption = template_expand(cfg->calendar.caption, &v);

                if (xtext_check(caption, err) != 0) {
                    buf_printf(errors, "%s: [calendar] caption for "
                               "\"%s\": %s\n", cfg->path, days[i], err);
                    bad++;
                }
                free(caption);
            }
        }
    return bad ? ERR_FAIL : 0;
}

