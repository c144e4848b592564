/*
 * aws.c: the AWS context (region, endpoints, credentials, key cache,
 * retry quotas, clock offset) and aws_call(), a SigV4-signed request with
 * retries.  Logs one line per failed attempt: method, URL without query,
 * status, request id, attempt, AWS code; never headers, bodies or keys.
 * Relies on core/http, core/retry, aws/sigv4, aws/creds, aws/imds.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "aws/aws.h"
#include "aws/awserr.h"
#include "aws/creds.h"
#include "aws/imds.h"
#include "aws/sigv4.h"
#include "core/http.h"
#include "core/mem.h"
#include "core/retry.h"

#define REGION_PATH "/latest/meta-data/placement/region"
#define IMDS_IPV6_ENDPOINT "http://[fd00:ec2::254]"

enum call_state {
    CALL_KICK,        /* timer: first step on the next loop turn */
    CALL_WAIT_REGION, /* region being asked from IMDS */
    CALL_WAIT_CREDS,  /* queued in the credential chain */
    CALL_DELAY,       /* timer: backing off before the next attempt */
    CALL_SENDING,     /* HTTP attempt running */
};

struct aws {
    uv_loop_t *loop;
    struct http *http;
    endpoint_getenv_fn env;
    char *region; /* NULL while asking IMDS */
    char *cfg_endpoint[ENDPOINT_N_SERVICES];
    struct endpoint ep[ENDPOINT_N_SERVICES]; /* set once region is known */
    int s3_path_style;
    const struct retry_policy *policy[ENDPOINT_N_SERVICES];
    struct retry_quota quota[ENDPOINT_N_SERVICES];
    struct sigv4_cache keys;
    struct imds *imds;
    struct creds *creds;
    struct imds_get *region_get;
    long offset_s;
    struct aws_call *calls; /* every pending call */
};

struct aws_call {
    struct aws *aws;
    struct aws_call *next, *prev;
    enum call_state state;
    aws_done_cb cb;
    void *arg;
    enum aws_service svc;
    char *method, *bucket, *key, *path, *query;
    struct sigv4_header *headers;
    size_t n_headers;
    const void *body;
    size_t body_len;
    char payload_hash[SIGV4_HEX_LEN + 1];
    long timeout_ms;
    size_t max_response;
    char *job_id, *national_day, *s3_key;
    char *url, *log_url, *host, *wire_path; /* built once region known */
    struct creds_waiter waiter;
    uv_timer_t *timer;
    struct http_req *req;
    struct retry_state rs;
    int attempts;
    int token_refreshed;
    long signed_offset;
    char *signed_akid;
};

/* --- Calls --- */

static const char *
env_get(endpoint_getenv_fn env, const char *name)
{
    const char *v = env != NULL ? env(name) : getenv(name);

    return v != NULL && *v != '\0' ? v : NULL;
}

static void
timer_closed(uv_handle_t *h)
{
    free(h);
}

static void
call_unlink(struct aws_call *c)
{
    if (c->aws == NULL)
        return;
    if (c->prev != NULL)
        c->prev->next = c->next;
    else
        c->aws->calls = c->next;
    if (c->next != NULL)
        c->next->prev = c->prev;
    c->next = c->prev = NULL;
}

/* Stop whatever the call waits for; it is idle afterwards. */
static void
call_stop(struct aws_call *c)
{
    if (c->state == CALL_WAIT_CREDS)
        creds_wait_cancel(c->aws->creds, &c->waiter);
    uv_timer_stop(c->timer);
    http_cancel(c->req);
}

static void
call_free(struct aws_call *c)
{
    http_req_free(c->req);
    c->timer->data = NULL;
    uv_close((uv_handle_t *)c->timer, timer_closed);
    for (size_t i = 0; i < c->n_headers; i++) {
        free((char *)c->headers[i].name);
        free((char *)c->headers[i].value);
    }
    free(c->headers);
    free(c->method);
    free(c->bucket);
    free(c->key);
    free(c->path);
    free(c->query);
    free(c->job_id);
    free(c->national_day);
    free(c->s3_key);
    free(c->url);
    free(c->log_url);
    free(c->host);
    free(c->wire_path);
    free(c->signed_akid);
    free(c);
}

/* End the call: the callback runs, then the call is freed. */
static void
call_finish(struct aws_call *c, int rc, const char *err, struct http_resp *resp,
            const struct awserr *e)
{
    struct aws_result res;
    struct buf empty;

    buf_init(&empty);
    memset(&res, 0, sizeof(res));
    res.rc = rc;
    res.status = resp != NULL ? resp->status : 0;
    res.body = resp != NULL ? &resp->body : &empty;
    res.code = e != NULL ? e->code : "";
    res.message = e != NULL ? e->message : "";
    res.request_id = e != NULL ? e->request_id : "";
    res.attempts = c->attempts;
    res.err = err != NULL ? err : "";
    res.resp = resp;
    call_unlink(c);
    c->aws = NULL;
    c->cb(&res, c->arg);
    buf_cleanup(&empty);
    call_free(c);
}

static void call_step(struct aws_call *c);
static void call_wait_creds(struct aws_call *c);
static void call_refuse(struct aws_call *c, const char *err);

static void
timer_fire(uv_timer_t *t)
{
    struct aws_call *c = t->data;

    if (c->state == CALL_KICK)
        call_step(c);
    else
        call_wait_creds(c);
}

/* The log fields of an attempt. */
static void
attempt_ctx(const struct aws_call *c, const struct http_resp *resp,
            const struct awserr *e, struct log_ctx *ctx)
{
    memset(ctx, 0, sizeof(*ctx));
    ctx->job_id = c->job_id;
    ctx->national_day = c->national_day;
    ctx->s3_key = c->s3_key;
    ctx->http_method = c->method;
    ctx->url = c->log_url;
    ctx->attempt = c->attempts;
    if (e != NULL && e->request_id[0] != '\0')
        ctx->request_id = e->request_id;
    if (resp != NULL) {
        ctx->http_status = (int)resp->status;
        ctx->duration_ms = resp->duration_ms;
    }
}

/* --- Region --- */

static int
resolve_endpoints(struct aws *aws, const char *region, char err[ERR_LEN])
{
    for (int i = 0; i < ENDPOINT_N_SERVICES; i++) {
        endpoint_cleanup(&aws->ep[i]);
        if (endpoint_resolve((enum endpoint_service)i, aws->cfg_endpoint[i],
                             region, aws->env, &aws->ep[i], err) != 0)
            return ERR_FAIL;
    }
    return 0;
}

/* First call waiting for the region, or NULL. */
static struct aws_call *
region_waiter(struct aws *aws)
{
    struct aws_call *c = aws->calls;

    while (c != NULL && c->state != CALL_WAIT_REGION)
        c = c->next;
    return c;
}

static void
region_fail(struct aws *aws, int rc, const char *err)
{
    struct aws_call *c;

    log_warn(NULL, "AWS region unknown: %s", err);
    while ((c = region_waiter(aws)) != NULL)
        call_finish(c, rc, err, NULL, NULL);
}

static void
region_done(int rc, const char *body, size_t len, const char *err, void *arg)
{
    struct aws *aws = arg;
    struct aws_call *c;
    char why[ERR_LEN], *name;

    aws->region_get = NULL;
    if (rc != 0) {
        region_fail(aws, rc, err);
        return;
    }
    name = mem_strndup(body, strcspn(body, " \t\r\n"));
    if (!endpoint_region_valid(name) || strlen(name) + 2 < len) {
        free(name);
        region_fail(aws, ERR_RETRY, "IMDS: malformed region name");
        return;
    }
    if (resolve_endpoints(aws, name, why) != 0) {
        free(name);
        region_fail(aws, ERR_FAIL, why);
        return;
    }
    aws->region = name;
    log_info(NULL, "AWS region %s from IMDS", name);
    while ((c = region_waiter(aws)) != NULL)
        call_step(c);
}

static void
region_fetch(struct aws *aws)
{
    char err[ERR_LEN];

    if (aws->region_get != NULL)
        return;
    if (aws->imds == NULL) {
        region_fail(aws, ERR_FAIL,
                    "no AWS region: set it in the config "
                    "or AWS_REGION, or enable IMDS");
        return;
    }
    aws->region_get = imds_get(aws->imds, REGION_PATH, region_done, aws, err);
    if (aws->region_get == NULL)
        region_fail(aws, ERR_RETRY, err);
}

/* --- Sending --- */

/* URL, Host and wire path of the call; 0 or ERR_FAIL with err. */
static int
call_target(struct aws_call *c, char err[ERR_LEN])
{
    const struct endpoint *ep = &c->aws->ep[c->svc];
    struct endpoint_target t;

    if (c->svc == AWS_S3) {
        if (endpoint_s3_object(ep, c->bucket, c->key, c->aws->s3_path_style, &t,
                               err) != 0)
            return ERR_FAIL;
        c->log_url = t.url;
        c->host = t.host;
        c->wire_path = t.path;
    } else {
        c->wire_path = mem_strdup(c->path != NULL ? c->path : "/");
        c->log_url = mem_printf("%s%s", ep->base, c->wire_path);
        c->host = mem_strdup(ep->host);
    }
    if (c->query != NULL && *c->query != '\0')
        c->url = mem_printf("%s?%s", c->log_url, c->query);
    else
        c->url = mem_strdup(c->log_url);
    return 0;
}

static void
call_step(struct aws_call *c)
{
    char err[ERR_LEN];

    if (c->aws->region == NULL) {
        c->state = CALL_WAIT_REGION;
        region_fetch(c->aws);
        return;
    }
    if (c->url == NULL && call_target(c, err) != 0) {
        call_refuse(c, err);
        return;
    }
    call_wait_creds(c);
}

/* Add "name: value" to req; the line is wiped (it may hold a token). */
static int
add_header(struct http_req *req, const char *name, const char *value)
{
    char *line = mem_printf("%s: %s", name, value);
    int rc = http_req_add_header(req, line);

    mem_free_secret_str(line);
    return rc;
}

/* A request carrying sig's headers plus the caller's; NULL on failure. */
static struct http_req *
build_req(const struct aws_call *c, const struct sigv4_signed *sig)
{
    struct http_req *req = http_req_new(c->method, c->url);
    int rc = req == NULL ? ERR_FAIL : 0;

    for (size_t i = 0; rc == 0 && i < c->n_headers; i++)
        rc = add_header(req, c->headers[i].name, c->headers[i].value);
    for (size_t i = 0; rc == 0 && i < sig->n_add; i++)
        rc = add_header(req, sig->add[i].name, sig->add[i].value);
    if (rc == 0)
        rc = add_header(req, "Host", c->host);
    if (rc != 0) {
        http_req_free(req);
        return NULL;
    }
    if (c->body != NULL)
        http_req_set_body(req, c->body, c->body_len);
    http_req_set_timeouts(req, 0, c->timeout_ms);
    http_req_set_max_response(req, c->max_response);
    return req;
}

static int sign(struct aws_call *c, const struct creds_keys *k,
                struct sigv4_signed *sig, char err[ERR_LEN]);
static void attempt_done(struct http_req *req, struct http_resp *resp,
                         void *arg);

/* The request can never be sent as given: log once and fail. */
static void
call_refuse(struct aws_call *c, const char *err)
{
    struct log_ctx ctx;

    attempt_ctx(c, NULL, NULL, &ctx);
    log_warn(&ctx, "%s request not sent: %s",
             endpoint_service_name((enum endpoint_service)c->svc), err);
    call_finish(c, ERR_FAIL, err, NULL, NULL);
}

static void
call_send(struct aws_call *c)
{
    const struct creds_keys *k = creds_current(c->aws->creds);
    struct sigv4_signed sig;
    char err[ERR_LEN];

    memset(&sig, 0, sizeof(sig));
    if (k == NULL) { /* expired between the wait and now */
        call_wait_creds(c);
        return;
    }
    if (sign(c, k, &sig, err) != 0) {
        call_refuse(c, err);
        return;
    }
    http_req_free(c->req);
    c->req = build_req(c, &sig);
    sigv4_signed_cleanup(&sig);
    if (c->req == NULL) {
        call_refuse(c, "malformed URL or header");
        return;
    }
    free(c->signed_akid);
    c->signed_akid = mem_strdup(k->access_key_id);
    c->signed_offset = c->aws->offset_s;
    c->state = CALL_SENDING;
    if (http_start(c->aws->http, c->req, attempt_done, c) != 0)
        call_finish(c, ERR_RETRY, "the HTTP engine refused the request", NULL,
                    NULL);
}

static int
sign(struct aws_call *c, const struct creds_keys *k, struct sigv4_signed *sig,
     char err[ERR_LEN])
{
    struct sigv4_request r;
    struct sigv4_creds sc;

    memset(&r, 0, sizeof(r));
    r.method = c->method;
    r.host = c->host;
    r.path = c->wire_path;
    r.query = c->query;
    r.headers = c->headers;
    r.n_headers = c->n_headers;
    r.payload_hash = c->payload_hash;
    r.region = c->aws->region;
    r.service = endpoint_service_name((enum endpoint_service)c->svc);
    r.s3 = c->svc == AWS_S3;
    sc.access_key_id = k->access_key_id;
    sc.secret_access_key = k->secret_access_key;
    sc.session_token = k->session_token;
    return sigv4_sign(&r, &sc, time(NULL) + c->aws->offset_s, &c->aws->keys,
                      sig, err);
}

static void
creds_ready(int rc, const char *err, void *arg)
{
    struct aws_call *c = arg;
    struct log_ctx ctx;

    if (rc != 0) {
        attempt_ctx(c, NULL, NULL, &ctx);
        log_warn(&ctx, "%s request not sent: %s",
                 endpoint_service_name((enum endpoint_service)c->svc), err);
        call_finish(c, rc, err, NULL, NULL);
        return;
    }
    call_send(c);
}

static void
call_wait_creds(struct aws_call *c)
{
    c->state = CALL_WAIT_CREDS;
    creds_wait(c->aws->creds, &c->waiter, creds_ready, c);
}

/* --- Attempt outcomes --- */

/* Learn the clock offset from a skew-like error's Date header.  True when
 * a new signature will use another offset than the failed one. */
static int
learn_offset(struct aws_call *c, const struct http_resp *resp,
             const struct awserr *e)
{
    struct aws *aws = c->aws;
    time_t server;
    long off;

    if (!awserr_is_skew(e->code, e->message) &&
        strcmp(e->code, "SignatureDoesNotMatch") != 0 &&
        strcmp(e->code, "AuthFailure") != 0)
        return 0;
    if (http_resp_date(resp, &server) != 0)
        return aws->offset_s != c->signed_offset;
    off = awserr_skew_offset(server, time(NULL), aws->offset_s);
    if (off != aws->offset_s) {
        struct log_ctx ctx;

        attempt_ctx(c, resp, e, &ctx);
        log_notice(&ctx,
                   "local clock is %ld s %s AWS time; signing with "
                   "that offset from now on",
                   off < 0 ? -off : off, off > 0 ? "behind" : "ahead of");
        aws->offset_s = off;
        creds_set_clock_offset(aws->creds, off);
    }
    return aws->offset_s != c->signed_offset;
}

/* One line saying why the call failed, safe to log. */
static void
describe(const struct http_resp *resp, const struct awserr *e, const char *why,
         char err[ERR_LEN])
{
    struct buf b;

    buf_init(&b);
    if (resp->curl_code != CURLE_OK) {
        buf_appends(&b, resp->error);
    } else {
        buf_printf(&b, "HTTP %ld", resp->status);
        if (e->code[0] != '\0')
            buf_printf(&b, " %s", e->code);
        /* Signature errors quote the canonical request: keep them out. */
        if (e->message[0] != '\0' && strstr(e->code, "Signature") == NULL)
            buf_printf(&b, ": %.120s", e->message);
    }
    if (*why != '\0' && strncmp(why, "not retryable", 13) != 0)
        buf_printf(&b, " (%s)", why);
    snprintf(err, ERR_LEN, "%s", buf_str(&b));
    buf_cleanup(&b);
}

/* Retry per the policy or give up with err. */
static void
call_retry(struct aws_call *c, struct http_resp *resp, const struct awserr *e,
           int corrected, const char *damaged)
{
    struct retry_outcome o = {resp->curl_code, resp->status,
                              e->code[0] ? e->code : NULL,
                              e->message[0] ? e->message : NULL, corrected};
    struct aws *aws = c->aws;
    uint64_t delay = 0, server = 0;
    char why[ERR_LEN], err[ERR_LEN];
    struct log_ctx ctx;
    int rc;

    if (damaged != NULL)
        o.curl_code = CURLE_RECV_ERROR;
    rc = retry_next(aws->policy[c->svc], &aws->quota[c->svc], &c->rs, &o,
                    retry_random(),
                    http_resp_retry_after_ms(resp, time(NULL), &server) == 0
                        ? (int64_t)server
                        : -1,
                    &delay, why);
    describe(resp, e, rc == 0 ? "" : why, err);
    if (damaged != NULL)
        snprintf(err, ERR_LEN, "%s", damaged);
    attempt_ctx(c, resp, e, &ctx);
    if (rc != 0) {
        log_warn(&ctx, "%s request failed: %s",
                 endpoint_service_name((enum endpoint_service)c->svc), err);
        call_finish(c, rc, err, resp, e);
        return;
    }
    log_info(&ctx, "%s request failed: %s; retrying in %llu ms",
             endpoint_service_name((enum endpoint_service)c->svc), err,
             (unsigned long long)delay);
    c->state = CALL_DELAY;
    uv_timer_start(c->timer, timer_fire, delay, 0);
}

/* ExpiredToken: new keys (once), then sign again. */
static void
call_expired(struct aws_call *c, struct http_resp *resp, const struct awserr *e)
{
    struct log_ctx ctx;

    c->token_refreshed = 1;
    attempt_ctx(c, resp, e, &ctx);
    if (creds_expired(c->aws->creds, c->signed_akid) != 0) {
        log_warn(&ctx, "%s request failed: %s (static credentials)",
                 endpoint_service_name((enum endpoint_service)c->svc), e->code);
        call_finish(c, ERR_FAIL, "AWS credentials expired", resp, e);
        return;
    }
    log_info(&ctx, "%s request failed: %s; fetching new credentials",
             endpoint_service_name((enum endpoint_service)c->svc), e->code);
    call_wait_creds(c);
}

static void
request_id(const struct http_resp *resp, struct awserr *e)
{
    const char *id = http_resp_header(resp, "x-amz-request-id");

    if (id == NULL)
        id = http_resp_header(resp, "x-amzn-RequestId");
    awserr_set_request_id(e, id);
}

static void
attempt_done(struct http_req *req, struct http_resp *resp, void *arg)
{
    struct aws_call *c = arg;
    struct awserr e;
    char err[ERR_LEN];

    (void)req;
    c->attempts++;
    memset(&e, 0, sizeof(e));
    if (resp->curl_code != CURLE_OK) {
        call_retry(c, resp, &e, 0, NULL);
        return;
    }
    if (resp->status < 200 || resp->status > 299)
        awserr_parse(resp->body.data, resp->body.len,
                     http_resp_header(resp, "x-amzn-ErrorType"), &e);
    if (e.request_id[0] == '\0')
        request_id(resp, &e);
    if (resp->status >= 200 && resp->status <= 299) {
        /* Compressed bodies are not what the checksum covers. */
        if (http_resp_header(resp, "Content-Encoding") == NULL &&
            awserr_crc32_check(http_resp_header(resp, "x-amz-crc32"),
                               resp->body.data, resp->body.len, err) != 0) {
            call_retry(c, resp, &e, 0, err);
            return;
        }
        retry_success(&c->aws->quota[c->svc], &c->rs);
        call_finish(c, 0, "", resp, &e);
    } else if (awserr_is_condition(e.code)) {
        call_finish(c, AWS_CONDITION_FAILED, "condition failed", resp, &e);
    } else if (awserr_is_expired_token(e.code) && !c->token_refreshed) {
        call_expired(c, resp, &e);
    } else {
        call_retry(c, resp, &e, learn_offset(c, resp, &e), NULL);
    }
}

/* --- The context --- */

/* IMDS client unless AWS_EC2_METADATA_DISABLED=true.  0 (*out may be
 * NULL) or ERR_FAIL with err for a bad endpoint. */
static int
make_imds(struct aws *aws, struct imds **out, char err[ERR_LEN])
{
    const char *v = env_get(aws->env, "AWS_EC2_METADATA_DISABLED");
    const char *ep = env_get(aws->env, "AWS_EC2_METADATA_SERVICE_ENDPOINT");
    const char *mode =
        env_get(aws->env, "AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE");

    *out = NULL;
    if (v != NULL && strcasecmp(v, "true") == 0)
        return 0;
    if (ep == NULL && mode != NULL && strcasecmp(mode, "IPv6") == 0)
        ep = IMDS_IPV6_ENDPOINT;
    *out = imds_new(aws->loop, aws->http, ep, err);
    return *out != NULL ? 0 : ERR_FAIL;
}

/* Check the configured endpoints before the region is known. */
static int
check_endpoints(struct aws *aws, char err[ERR_LEN])
{
    struct endpoint ep;

    for (int i = 0; i < ENDPOINT_N_SERVICES; i++) {
        if (endpoint_resolve((enum endpoint_service)i, aws->cfg_endpoint[i],
                             "us-east-1", aws->env, &ep, err) != 0)
            return ERR_FAIL;
        endpoint_cleanup(&ep);
    }
    return 0;
}

static void
aws_free_parts(struct aws *aws)
{
    imds_get_cancel(aws->region_get);
    creds_free(aws->creds);
    imds_free(aws->imds);
    sigv4_cache_cleanup(&aws->keys);
    for (int i = 0; i < ENDPOINT_N_SERVICES; i++) {
        endpoint_cleanup(&aws->ep[i]);
        free(aws->cfg_endpoint[i]);
    }
    free(aws->region);
    free(aws);
}

static void
aws_init_settings(struct aws *aws, const struct aws_settings *s)
{
    for (int i = 0; i < ENDPOINT_N_SERVICES; i++) {
        aws->cfg_endpoint[i] = mem_strdup(s->endpoint[i]);
        aws->policy[i] = s->policy[i];
        if (aws->policy[i] == NULL)
            aws->policy[i] = i == ENDPOINT_DYNAMODB ? &retry_policy_dynamodb
                                                    : &retry_policy_aws;
        retry_quota_init(&aws->quota[i], 0);
    }
    aws->s3_path_style = s->s3_path_style;
    aws->env = s->env;
}

struct aws *
aws_new(uv_loop_t *loop, struct http *http, const struct aws_settings *s,
        char err[ERR_LEN])
{
    struct aws *aws = mem_calloc(1, sizeof(*aws));
    int rc;

    aws->loop = loop;
    aws->http = http;
    aws_init_settings(aws, s);
    sigv4_cache_init(&aws->keys);
    rc = endpoint_region(s->region, aws->env, &aws->region, err);
    if (rc == ERR_FAIL)
        goto fail;
    if (rc == 0 && resolve_endpoints(aws, aws->region, err) != 0)
        goto fail;
    if (rc == 1 && check_endpoints(aws, err) != 0)
        goto fail;
    if (make_imds(aws, &aws->imds, err) != 0)
        goto fail;
    aws->creds = creds_new(loop, aws->imds, aws->env, err);
    if (aws->creds == NULL)
        goto fail;
    if (aws->region != NULL)
        log_info(NULL, "AWS region %s", aws->region);
    return aws;
fail:
    aws_free_parts(aws);
    return NULL;
}

void
aws_free(struct aws *aws)
{
    struct aws_call *c;

    if (aws == NULL)
        return;
    while ((c = aws->calls) != NULL) {
        call_stop(c);
        call_finish(c, ERR_RETRY, "AWS client shut down", NULL, NULL);
    }
    aws_free_parts(aws);
}

/* Check what can be checked before anything is sent. */
static int
check_request(const struct aws_request *r, char err[ERR_LEN])
{
    size_t n = r->method != NULL ? strlen(r->method) : 0;

    if ((unsigned)r->service >= ENDPOINT_N_SERVICES) {
        snprintf(err, ERR_LEN, "unknown AWS service");
        return ERR_FAIL;
    }
    if (n == 0 || strspn(r->method, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") != n) {
        snprintf(err, ERR_LEN, "method must be an upper-case word");
        return ERR_FAIL;
    }
    if (r->service == AWS_S3 && !endpoint_bucket_valid(r->bucket)) {
        snprintf(err, ERR_LEN, "S3 call without a valid bucket name");
        return ERR_FAIL;
    }
    if (r->service != AWS_S3 && r->path != NULL &&
        (r->path[0] != '/' || strpbrk(r->path, " ?#\r\n") != NULL)) {
        snprintf(err, ERR_LEN,
                 "path must start with '/' and hold no "
                 "query");
        return ERR_FAIL;
    }
    if (r->query != NULL && strpbrk(r->query, " #\r\n") != NULL) {
        snprintf(err, ERR_LEN, "query holds a space, '#' or a newline");
        return ERR_FAIL;
    }
    if (r->n_headers > 0 && r->headers == NULL) {
        snprintf(err, ERR_LEN, "n_headers without headers");
        return ERR_FAIL;
    }
    return 0;
}

static void
copy_request(struct aws_call *c, const struct aws_request *r)
{
    c->svc = r->service;
    c->method = mem_strdup(r->method);
    c->bucket = mem_strdup(r->bucket);
    c->key = mem_strdup(r->key);
    c->path = mem_strdup(r->path);
    c->query = mem_strdup(r->query);
    c->n_headers = r->n_headers;
    c->headers = mem_calloc(r->n_headers + 1, sizeof(*c->headers));
    for (size_t i = 0; i < r->n_headers; i++) {
        c->headers[i].name = mem_strdup(r->headers[i].name);
        c->headers[i].value = mem_strdup(r->headers[i].value);
    }
    c->body = r->body;
    c->body_len = r->body_len;
    c->timeout_ms = r->timeout_ms;
    c->max_response = r->max_response;
    if (r->log != NULL) {
        c->job_id = mem_strdup(r->log->job_id);
        c->national_day = mem_strdup(r->log->national_day);
        c->s3_key = mem_strdup(r->log->s3_key);
    }
}

struct aws_call *
aws_call(struct aws *aws, const struct aws_request *r, aws_done_cb cb,
         void *arg, char err[ERR_LEN])
{
    struct aws_call *c;

    if (aws == NULL || r == NULL || cb == NULL) {
        snprintf(err, ERR_LEN, "aws_call: missing argument");
        return NULL;
    }
    if (check_request(r, err) != 0)
        return NULL;
    if (r->payload_hash != NULL && strlen(r->payload_hash) > SIGV4_HEX_LEN) {
        snprintf(err, ERR_LEN, "payload hash longer than %d characters",
                 SIGV4_HEX_LEN);
        return NULL;
    }
    c = mem_calloc(1, sizeof(*c));
    if (r->payload_hash != NULL)
        snprintf(c->payload_hash, sizeof(c->payload_hash), "%s",
                 r->payload_hash);
    else if (sigv4_sha256_hex(r->body, r->body != NULL ? r->body_len : 0,
                              c->payload_hash) != 0) {
        free(c);
        snprintf(err, ERR_LEN, "cannot hash the body");
        return NULL;
    }
    copy_request(c, r);
    c->aws = aws;
    c->cb = cb;
    c->arg = arg;
    retry_state_init(&c->rs);
    c->timer = mem_calloc(1, sizeof(*c->timer));
    uv_timer_init(aws->loop, c->timer);
    c->timer->data = c;
    c->next = aws->calls;
    if (aws->calls != NULL)
        aws->calls->prev = c;
    aws->calls = c;
    /* The first step runs from the loop, so cb never runs in here. */
    c->state = CALL_KICK;
    uv_timer_start(c->timer, timer_fire, 0, 0);
    return c;
}

void
aws_call_cancel(struct aws_call *c)
{
    if (c == NULL || c->aws == NULL)
        return;
    call_stop(c);
    call_unlink(c);
    call_free(c);
}

const char *
aws_result_header(const struct aws_result *res, const char *name)
{
    return res->resp != NULL ? http_resp_header(res->resp, name) : NULL;
}

const char *
aws_region(const struct aws *aws)
{
    return aws->region;
}

long
aws_clock_offset(const struct aws *aws)
{
    return aws->offset_s;
}

int
aws_s3_target(const struct aws *aws, const char *bucket, const char *key,
              struct endpoint_target *out, char err[ERR_LEN])
{
    memset(out, 0, sizeof(*out));
    if (aws->region == NULL) {
        snprintf(err, ERR_LEN, "AWS region not known yet");
        return ERR_RETRY;
    }
    return endpoint_s3_object(&aws->ep[AWS_S3], bucket, key, aws->s3_path_style,
                              out, err);
}
