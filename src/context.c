/*
 * context.c: build a generation (AWS client, secrets, calendar) with every
 * network step running at once on the loop, and free it on a later loop
 * pass when its last user lets go.
 */
#include <stdlib.h>
#include <string.h>

#include "aws/aws.h"
#include "aws/s3.h"
#include "aws/secrets.h"
#include "calendar.h"
#include "context.h"
#include "core/cfg.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/secret.h"
#include "x/x.h"

/* A generation is freed from a timer so that the last unref may come from
 * inside one of its own AWS callbacks (aws_free() must not run there). */
struct context_priv {
    struct context pub;
    uv_timer_t free_timer;
};

struct secret_slot {
    struct context_build *b;
    const struct secret_ref *ref;
    char **dest;
    struct secrets_get *get;
};

struct context_build {
    struct context_priv *ctx;
    context_done_cb cb;
    void *arg;
    struct buf errors;
    int pending;
    struct secret_slot secrets[2];
    struct s3_op *cal_op;
    uv_timer_t done_timer;
};

static int live;
static void (*none_live_cb)(void *);
static void *none_live_arg;

int
context_live(void)
{
    return live;
}

void
context_on_none_live(void (*cb)(void *arg), void *arg)
{
    none_live_cb = cb;
    none_live_arg = arg;
}

static void
ctx_closed(uv_handle_t *h)
{
    struct context_priv *p = h->data;

    mem_free_secret_str(p->pub.openai_key);
    mem_free_secret_str(p->pub.x_credentials);
    free(p);
    if (--live == 0 && none_live_cb != NULL)
        none_live_cb(none_live_arg);
}

static void
ctx_free_now(uv_timer_t *t)
{
    struct context_priv *p = t->data;

    x_free(p->pub.x);
    aws_free(p->pub.aws);
    calendar_free(p->pub.cal);
    cfg_unref(p->pub.cfg);
    uv_close((uv_handle_t *)&p->free_timer, ctx_closed);
}

struct context *
context_ref(struct context *ctx)
{
    ctx->refs++;
    return ctx;
}

void
context_unref(struct context *ctx)
{
    struct context_priv *p = (struct context_priv *)ctx;

    if (ctx == NULL || --ctx->refs > 0)
        return;
    uv_timer_start(&p->free_timer, ctx_free_now, 0, 0);
}

static void build_done(uv_timer_t *t);

/* One asynchronous step is over; the last one reports from a timer, so
 * the callback never runs inside context_build(). */
static void
build_finish(struct context_build *b)
{
    if (--b->pending == 0)
        uv_timer_start(&b->done_timer, build_done, 0, 0);
}

static void
build_closed(uv_handle_t *h)
{
    struct context_build *b = h->data;

    buf_cleanup(&b->errors);
    free(b);
}

/* The X client, once the credentials are known. */
static void
start_x(struct context_build *b)
{
    struct context *ctx = &b->ctx->pub;
    const char *ref = secret_ref_str(&ctx->cfg->x.credentials);
    struct x_config xc = {0};
    struct x_creds *creds;
    char err[ERR_LEN];

    creds = x_creds_parse(ctx->x_credentials, err);
    if (creds == NULL) {
        buf_printf(&b->errors, "%s: %s\n", ref, err);
        return;
    }
    xc.api_base_url = ctx->cfg->x.api_base_url;
    xc.creds_ref = ref;
    ctx->x = x_new(ctx->loop, ctx->http, creds, &xc, err);
    if (ctx->x == NULL)
        buf_printf(&b->errors, "[x]: %s\n", err);
    x_creds_free(creds);
}

static void
build_done(uv_timer_t *t)
{
    struct context_build *b = t->data;
    struct context *ctx = &b->ctx->pub;

    if (b->errors.len == 0)
        start_x(b);
    if (b->errors.len > 0) {
        context_unref(ctx);
        b->cb(NULL, buf_str(&b->errors), b->arg);
    } else {
        b->cb(ctx, "", b->arg);
    }
    uv_close((uv_handle_t *)&b->done_timer, build_closed);
}

static void
on_secret(int rc, const char *value, size_t len, const char *err,
          void *arg)
{
    struct secret_slot *s = arg;

    s->get = NULL;
    if (rc != 0)
        buf_printf(&s->b->errors, "%s: %s\n", secret_ref_str(s->ref), err);
    else if (memchr(value, '\0', len) != NULL)
        buf_printf(&s->b->errors, "%s: secret holds a NUL byte\n",
                   secret_ref_str(s->ref));
    else
        *s->dest = mem_strndup(value, len);
    build_finish(s->b);
}

static void
start_secret(struct context_build *b, int i, const struct secret_ref *ref,
             char **dest)
{
    struct secret_slot *s = &b->secrets[i];
    char err[ERR_LEN];

    s->b = b;
    s->ref = ref;
    s->dest = dest;
    if (secret_is_local(ref)) {
        if (secret_resolve_local(ref, dest, err) != 0)
            buf_printf(&b->errors, "%s\n", err);
        return;
    }
    s->get = secrets_get(b->ctx->pub.aws, ref->name, on_secret, s, err);
    if (s->get == NULL)
        buf_printf(&b->errors, "%s: %s\n", secret_ref_str(ref), err);
    else
        b->pending++;
}

static void
on_calendar(const struct s3_get_result *res, void *arg)
{
    struct context_build *b = arg;
    const char *src = b->ctx->pub.cfg->calendar.source;
    char err[ERR_LEN];

    b->cal_op = NULL;
    if (res->rc != 0) {
        buf_printf(&b->errors, "%s: %s\n", src, res->err);
    } else {
        b->ctx->pub.cal = calendar_parse(res->body->data, res->body->len,
                                         err);
        if (b->ctx->pub.cal == NULL)
            buf_printf(&b->errors, "%s: %s\n", src, err);
    }
    build_finish(b);
}

/* s3://bucket/key, already checked by the config parser. */
static void
start_calendar(struct context_build *b)
{
    const char *src = b->ctx->pub.cfg->calendar.source + 5;
    const char *slash = strchr(src, '/');
    char *bucket = mem_strndup(src, (size_t)(slash - src));
    char err[ERR_LEN];

    b->cal_op = s3_get(b->ctx->pub.aws, bucket, slash + 1,
                       CALENDAR_MAX_BYTES, NULL, on_calendar, b, err);
    if (b->cal_op == NULL)
        buf_printf(&b->errors, "%s: %s\n", b->ctx->pub.cfg->calendar.source,
                   err);
    else
        b->pending++;
    free(bucket);
}

static int
start_aws(struct context_build *b)
{
    const struct cfg *cfg = b->ctx->pub.cfg;
    struct aws_settings set = {0};
    char err[ERR_LEN];

    set.region = cfg->aws.region;
    set.endpoint[ENDPOINT_S3] = cfg->aws.s3_endpoint;
    set.endpoint[ENDPOINT_DYNAMODB] = cfg->aws.dynamodb_endpoint;
    set.endpoint[ENDPOINT_SECRETSMANAGER] = cfg->aws.secretsmanager_endpoint;
    set.s3_path_style = cfg->aws.s3_path_style;
    b->ctx->pub.aws = aws_new(b->ctx->pub.loop, b->ctx->pub.http, &set, err);
    if (b->ctx->pub.aws == NULL) {
        buf_printf(&b->errors, "%s: [aws]: %s\n", cfg->path, err);
        return -1;
    }
    return 0;
}

struct context_build *
context_build(uv_loop_t *loop, struct http *http, struct cfg *cfg,
              struct calendar *cal, context_done_cb cb, void *arg)
{
    struct context_build *b = mem_calloc(1, sizeof(*b));
    struct context_priv *p = mem_calloc(1, sizeof(*p));

    p->pub.refs = 1;
    p->pub.loop = loop;
    p->pub.http = http;
    p->pub.cfg = cfg_ref(cfg);
    p->pub.cal = cal;
    uv_timer_init(loop, &p->free_timer);
    p->free_timer.data = p;
    live++;
    b->ctx = p;
    b->cb = cb;
    b->arg = arg;
    buf_init(&b->errors);
    uv_timer_init(loop, &b->done_timer);
    b->done_timer.data = b;
    b->pending = 1; /* held until everything has been started */
    if (start_aws(b) == 0) {
        start_secret(b, 0, &cfg->openai.api_key, &p->pub.openai_key);
        start_secret(b, 1, &cfg->x.credentials, &p->pub.x_credentials);
        if (cal == NULL)
            start_calendar(b);
    }
    build_finish(b);
    return b;
}

void
context_build_cancel(struct context_build *b)
{
    if (b == NULL)
        return;
    for (int i = 0; i < 2; i++)
        secrets_get_cancel(b->secrets[i].get);
    s3_cancel(b->cal_op);
    uv_timer_stop(&b->done_timer);
    context_unref(&b->ctx->pub);
    uv_close((uv_handle_t *)&b->done_timer, build_closed);
}
