/*
 * imds.c: IMDSv2 GETs on the loop.  One token is shared by every GET;
 * GETs that need it queue while it is fetched.  Never logs: the caller
 * gets an error line.  Relies on core/http for transport.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aws/endpoint.h"
#include "aws/imds.h"
#include "core/http.h"
#include "core/mem.h"

#define TOKEN_PATH "/latest/api/token"
#define MAX_BODY 65536
#define MAX_TOKEN 512
/* A token is renewed this long before its TTL runs out. */
#define TOKEN_MARGIN_MS 60000
#define BACKOFF_MS 100

struct imds {
    uv_loop_t *loop;
    struct http *http;
    char *base;
    char *token;                /* NULL when none is held */
    uint64_t token_until;       /* uv_now() deadline for using it */
    struct http_req *token_req; /* PUT in flight, or NULL */
    int token_attempts;
    struct imds_get *gets; /* pending GETs */
};

struct imds_get {
    struct imds *m;
    struct imds_get *next;
    char *path;
    imds_done_cb cb;
    void *arg;
    int attempts;
    int want_token;       /* queued behind the token PUT */
    struct http_req *req; /* GET in flight, or NULL */
};

static int get_send(struct imds_get *g, uint64_t delay_ms);
static int token_fetch(struct imds *m, uint64_t delay_ms);

struct imds *
imds_new(uv_loop_t *loop, struct http *http, const char *endpoint,
         char err[ERR_LEN])
{
    struct endpoint ep;
    struct imds *m;

    if (endpoint == NULL || *endpoint == '\0')
        endpoint = IMDS_DEFAULT_ENDPOINT;
    /* Same URL rules as the service endpoints: scheme, host, port. */
    if (endpoint_resolve(ENDPOINT_S3, endpoint, NULL, NULL, &ep, err) != 0) {
        snprintf(err, ERR_LEN, "IMDS endpoint must be http://host[:port]");
        return NULL;
    }
    m = mem_calloc(1, sizeof(*m));
    m->loop = loop;
    m->http = http;
    m->base = mem_strdup(ep.base);
    endpoint_cleanup(&ep);
    return m;
}

static void
token_drop(struct imds *m)
{
    mem_free_secret_str(m->token);
    m->token = NULL;
}

void
imds_free(struct imds *m)
{
    if (m == NULL)
        return;
    while (m->gets != NULL) {
        struct imds_get *g = m->gets;

        m->gets = g->next;
        http_req_free(g->req);
        free(g->path);
        free(g);
    }
    http_req_free(m->token_req);
    token_drop(m);
    free(m->base);
    free(m);
}

static void
get_unlink(struct imds_get *g)
{
    struct imds_get **pp = &g->m->gets;

    while (*pp != NULL && *pp != g)
        pp = &(*pp)->next;
    if (*pp == g)
        *pp = g->next;
}

static void
get_free(struct imds_get *g)
{
    get_unlink(g);
    http_req_free(g->req);
    free(g->path);
    free(g);
}

/* End g: the callback runs, then g is gone. */
static void
get_finish(struct imds_get *g, int rc, const char *body, size_t len,
           const char *err)
{
    imds_done_cb cb = g->cb;
    void *arg = g->arg;

    get_unlink(g);
    g->m = NULL;
    cb(rc, body, len, err, arg);
    http_req_free(g->req);
    free(g->path);
    free(g);
}

static int
token_valid(const struct imds *m)
{
    return m->token != NULL && uv_now(m->loop) < m->token_until;
}

/* Transport failures and 5xx answers may go away on another attempt. */
static int
transient(const struct http_resp *resp)
{
    return resp->curl_code != CURLE_OK || resp->status >= 500;
}

static void
describe(const struct http_resp *resp, const char *what, char err[ERR_LEN])
{
    if (resp->curl_code != CURLE_OK)
        snprintf(err, ERR_LEN,
                 "IMDS %.60s: %.100s (not on EC2, or the "
                 "token hop limit too low for a container?)",
                 what, resp->error);
    else if (resp->status == 403)
        snprintf(err, ERR_LEN,
                 "IMDS %.60s: HTTP 403 (metadata service "
                 "turned off)",
                 what);
    else if (resp->status == 404)
        snprintf(err, ERR_LEN,
                 "IMDS %.60s: HTTP 404 (not there; no instance "
                 "profile?)",
                 what);
    else
        snprintf(err, ERR_LEN, "IMDS %.60s: HTTP %ld", what, resp->status);
}

/* The token PUT failed for good: every GET waiting for it fails too.
 * The list is searched anew after each callback, which may change it. */
static void
token_fail(struct imds *m, int rc, const char *err)
{
    struct imds_get *g;

    for (;;) {
        for (g = m->gets; g != NULL && !g->want_token; g = g->next)
            ;
        if (g == NULL)
            return;
        get_finish(g, rc, NULL, 0, err);
    }
}

static int
token_store(struct imds *m, const struct http_resp *resp)
{
    const char *t = resp->body.data;
    size_t n = resp->body.len;

    if (t == NULL || n == 0 || n > MAX_TOKEN || strlen(t) != n ||
        strpbrk(t, "\r\n") != NULL)
        return ERR_FAIL;
    token_drop(m);
    m->token = mem_strndup(t, n);
    m->token_until =
        uv_now(m->loop) + IMDS_TOKEN_TTL_S * 1000ull - TOKEN_MARGIN_MS;
    return 0;
}

/* Send every GET that waited for the token. */
static void
token_release(struct imds *m)
{
    struct imds_get *g;

    for (;;) {
        for (g = m->gets; g != NULL && !g->want_token; g = g->next)
            ;
        if (g == NULL)
            return;
        if (get_send(g, 0) != 0)
            get_finish(g, ERR_RETRY, NULL, 0, "IMDS: cannot start the request");
    }
}

static void
token_done(struct http_req *req, struct http_resp *resp, void *arg)
{
    struct imds *m = arg;
    char err[ERR_LEN];
    int again;

    m->token_req = NULL;
    if (resp->curl_code == CURLE_OK && resp->status == 200 &&
        token_store(m, resp) == 0) {
        http_req_free(req);
        m->token_attempts = 0;
        token_release(m);
        return;
    }
    describe(resp, "token", err);
    if (resp->curl_code == CURLE_OK && resp->status == 200)
        snprintf(err, ERR_LEN, "IMDS token: malformed reply");
    again = transient(resp);
    http_req_free(req); /* resp goes with it */
    if (again && ++m->token_attempts < IMDS_ATTEMPTS &&
        token_fetch(m, BACKOFF_MS << m->token_attempts) == 0)
        return;
    m->token_attempts = 0;
    token_fail(m, again ? ERR_RETRY : ERR_FAIL, err);
}

static struct http_req *
new_req(struct imds *m, const char *method, const char *path)
{
    char *url = mem_printf("%s%s", m->base, path);
    struct http_req *req = http_req_new(method, url);

    free(url);
    if (req == NULL)
        return NULL;
    http_req_set_timeouts(req, IMDS_CONNECT_TIMEOUT_MS,
                          IMDS_ATTEMPT_TIMEOUT_MS);
    http_req_set_max_response(req, MAX_BODY);
    return req;
}

/* Start the token PUT unless one is running.  0, or ERR_RETRY when it
 * cannot start (nothing is called then). */
static int
token_fetch(struct imds *m, uint64_t delay_ms)
{
    char line[64];

    if (m->token_req != NULL)
        return 0;
    m->token_req = new_req(m, "PUT", TOKEN_PATH);
    snprintf(line, sizeof(line), "X-aws-ec2-metadata-token-ttl-seconds: %d",
             IMDS_TOKEN_TTL_S);
    if (m->token_req == NULL || http_req_add_header(m->token_req, line) != 0 ||
        http_start_after(m->http, m->token_req, delay_ms, token_done, m) != 0) {
        http_req_free(m->token_req);
        m->token_req = NULL;
        return ERR_RETRY;
    }
    return 0;
}

/* Run g once a token is at hand.  0, or ERR_RETRY when nothing could be
 * started (nothing is called then). */
static int
get_step(struct imds_get *g, uint64_t delay_ms)
{
    if (token_valid(g->m))
        return get_send(g, delay_ms);
    g->want_token = 1;
    return token_fetch(g->m, delay_ms);
}

static void
get_done(struct http_req *req, struct http_resp *resp, void *arg)
{
    struct imds_get *g = arg;
    char err[ERR_LEN];
    int again, expired;

    (void)req;
    g->attempts++;
    if (resp->curl_code == CURLE_OK && resp->status == 200) {
        get_finish(g, 0, buf_str(&resp->body), resp->body.len, "");
        return;
    }
    describe(resp, g->path, err);
    /* 401: the token lapsed or the service restarted; get a new one. */
    expired = resp->curl_code == CURLE_OK && resp->status == 401;
    again = transient(resp) || expired;
    if (expired)
        token_drop(g->m);
    if (again && g->attempts < IMDS_ATTEMPTS) {
        http_req_free(g->req); /* resp goes with it */
        g->req = NULL;
        if (get_step(g, expired ? 0 : BACKOFF_MS << g->attempts) == 0)
            return;
    }
    get_finish(g, again ? ERR_RETRY : ERR_FAIL, NULL, 0, err);
}

/* Send the GET with the current token.  0, or ERR_RETRY when it cannot
 * start (nothing is called then). */
static int
get_send(struct imds_get *g, uint64_t delay_ms)
{
    struct imds *m = g->m;
    char *line;
    int rc;

    g->want_token = 0;
    g->req = new_req(m, "GET", g->path);
    if (g->req == NULL)
        return ERR_RETRY;
    line = mem_printf("X-aws-ec2-metadata-token: %s", m->token);
    rc = http_req_add_header(g->req, line);
    mem_free_secret_str(line);
    if (rc == 0)
        rc = http_start_after(m->http, g->req, delay_ms, get_done, g);
    if (rc != 0) {
        http_req_free(g->req);
        g->req = NULL;
        return ERR_RETRY;
    }
    return 0;
}

struct imds_get *
imds_get(struct imds *m, const char *path, imds_done_cb cb, void *arg,
         char err[ERR_LEN])
{
    struct imds_get *g;

    if (path == NULL || path[0] != '/' || strpbrk(path, " \r\n?#") != NULL) {
        snprintf(err, ERR_LEN, "IMDS path must start with '/'");
        return NULL;
    }
    g = mem_calloc(1, sizeof(*g));
    g->m = m;
    g->path = mem_strdup(path);
    g->cb = cb;
    g->arg = arg;
    g->next = m->gets;
    m->gets = g;
    if (get_step(g, 0) != 0) {
        get_free(g);
        snprintf(err, ERR_LEN, "IMDS: cannot start the request");
        return NULL;
    }
    return g;
}

void
imds_get_cancel(struct imds_get *g)
{
    if (g == NULL || g->m == NULL)
        return;
    get_free(g);
}
