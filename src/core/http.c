/*
 * http.c: libcurl multi-socket transfers on a libuv loop.  curl says which
 * sockets to watch (one uv_poll_t each) and when to wake it (one
 * uv_timer_t); finished transfers are collected with curl_multi_info_read
 * after each curl_multi_socket_action.  No retries, signing or body
 * parsing here; the HTTP date and Retry-After parsers at the end are pure.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>

#include "core/http.h"
#include "core/log.h"
#include "core/mem.h"

#ifndef SPOOKYD_VERSION
#define SPOOKYD_VERSION "dev"
#endif

enum http_state { HTTP_IDLE, HTTP_WAITING, HTTP_RUNNING };

struct http_sock;

struct http {
    uv_loop_t *loop;
    CURLM *multi;            /* NULL once closing has cleaned it up */
    uv_timer_t timer;        /* curl's single timeout */
    struct http_sock *socks; /* sockets being watched */
    struct http_req *busy;   /* requests waiting or running */
    int handles;             /* uv handles whose close callback is due */
    int closing;
    http_closed_cb closed_cb;
    void *closed_arg;
};

struct http_sock {
    uv_poll_t poll;
    curl_socket_t fd;
    int events; /* what curl asked for */
    int closing;
    struct http *engine;
    struct http_sock *prev, *next;
};

/* The wait before a delayed attempt; a separate allocation because the
 * timer's memory must outlive its uv_close() while the request may not. */
struct http_delay {
    uv_timer_t timer;
    struct http *engine;
    struct http_req *req;
};

struct http_req {
    char *method;
    char *url;
    char *log_url; /* scheme, host and path only */
    struct curl_slist *headers;
    int has_content_type;
    int content_type_removed;
    const char *body;
    size_t body_len;
    void *body_owned;
    int has_body;
    long connect_ms, total_ms, low_speed_bytes, low_speed_secs;
    size_t max_response;
    long fresh_connect; /* 1: no reused connection, none kept */

    enum http_state state;
    struct http *engine; /* while busy */
    CURL *easy;          /* while running */
    struct http_delay *delay; /* while waiting */
    http_done_cb cb;
    void *arg;
    size_t header_bytes;
    int body_too_large, headers_too_large;
    struct http_req *prev, *next;
    char errbuf[CURL_ERROR_SIZE];
    struct http_resp resp;
};

static void http_check_done(struct http *h);

/* curl_slist_append() returns NULL only when out of memory; take the same
 * exit as every other allocation (mem_alloc logs and exits). */
static struct curl_slist *
http_slist_add(struct curl_slist *list, const char *line)
{
    struct curl_slist *l = curl_slist_append(list, line);

    if (l == NULL)
        mem_alloc(SIZE_MAX);
    return l;
}

/* Header lines may hold credentials (Authorization, session tokens). */
static void
http_slist_free_secret(struct curl_slist *list)
{
    for (struct curl_slist *l = list; l != NULL; l = l->next)
        OPENSSL_cleanse(l->data, strlen(l->data));
    curl_slist_free_all(list);
}

/* ---- engine bookkeeping ---- */

static void
http_unref(struct http *h)
{
    http_closed_cb cb = h->closed_cb;
    void *arg = h->closed_arg;

    if (--h->handles > 0 || !h->closing)
        return;
    free(h);
    curl_global_cleanup();
    if (cb != NULL)
        cb(arg);
}

static void
http_handle_closed(uv_handle_t *handle)
{
    http_unref(handle->data);
}

static void
http_busy_link(struct http *h, struct http_req *req)
{
    req->engine = h;
    req->prev = NULL;
    req->next = h->busy;
    if (h->busy != NULL)
        h->busy->prev = req;
    h->busy = req;
}

static void
http_busy_unlink(struct http_req *req)
{
    if (req->prev != NULL)
        req->prev->next = req->next;
    else
        req->engine->busy = req->next;
    if (req->next != NULL)
        req->next->prev = req->prev;
    req->prev = req->next = NULL;
}

/* ---- sockets and the timer: the curl/uv glue ---- */

static void
http_sock_closed(uv_handle_t *handle)
{
    struct http_sock *s = handle->data;
    struct http *h = s->engine;

    free(s);
    http_unref(h);
}

static void
http_sock_close(struct http *h, struct http_sock *s)
{
    if (s->prev != NULL)
        s->prev->next = s->next;
    else
        h->socks = s->next;
    if (s->next != NULL)
        s->next->prev = s->prev;
    if (h->multi != NULL)
        curl_multi_assign(h->multi, s->fd, NULL);
    s->closing = 1;
    uv_close((uv_handle_t *)&s->poll, http_sock_closed);
}

static void
http_poll_cb(uv_poll_t *poll, int status, int events)
{
    struct http_sock *s = poll->data;
    struct http *h = s->engine;
    int flags = 0, running;

    /* On POLLERR libuv stops the handle and reports UV_EBADF.  Passing
     * CURL_CSELECT_ERR would make curl fail with a vague "select/poll
     * returned error"; letting it read and write instead surfaces the real
     * cause ("Connection reset by peer"). */
    if (status < 0)
        events = UV_READABLE | UV_WRITABLE;
    if (events & UV_READABLE)
        flags |= CURL_CSELECT_IN;
    if (events & UV_WRITABLE)
        flags |= CURL_CSELECT_OUT;
    /* s may be closed inside this call; its memory lives until the close
     * callback runs on a later loop iteration. */
    curl_multi_socket_action(h->multi, s->fd, flags, &running);
    if (status < 0 && !s->closing && s->events != 0)
        uv_poll_start(&s->poll, s->events, http_poll_cb);
    http_check_done(h);
}

static struct http_sock *
http_sock_open(struct http *h, curl_socket_t fd)
{
    struct http_sock *s = mem_calloc(1, sizeof(*s));
    int rc = uv_poll_init_socket(h->loop, &s->poll, fd);

    if (rc != 0) {
        log_warn(NULL, "http: cannot watch socket %d: %s", (int)fd,
                 uv_strerror(rc));
        free(s);
        return NULL;
    }
    s->poll.data = s;
    s->fd = fd;
    s->engine = h;
    s->next = h->socks;
    if (h->socks != NULL)
        h->socks->prev = s;
    h->socks = s;
    h->handles++;
    curl_multi_assign(h->multi, fd, s);
    return s;
}

/* CURLMOPT_SOCKETFUNCTION: start, change or stop watching fd. */
static int
http_socket_cb(CURL *easy, curl_socket_t fd, int what, void *userp,
               void *socketp)
{
    struct http *h = userp;
    struct http_sock *s = socketp;
    int events = 0;

    if (what == CURL_POLL_REMOVE) {
        if (s != NULL)
            http_sock_close(h, s);
        return 0;
    }
    if (h->closing)
        return 0;
    if (s == NULL && (s = http_sock_open(h, fd)) == NULL)
        return -1;
    if (what & CURL_POLL_IN)
        events |= UV_READABLE;
    if (what & CURL_POLL_OUT)
        events |= UV_WRITABLE;
    s->events = events;
    return uv_poll_start(&s->poll, events, http_poll_cb) == 0 ? 0 : -1;
}

static void
http_timeout_cb(uv_timer_t *timer)
{
    struct http *h = timer->data;
    int running;

    curl_multi_socket_action(h->multi, CURL_SOCKET_TIMEOUT, 0, &running);
    http_check_done(h);
}

/* CURLMOPT_TIMERFUNCTION.  Never drive curl from in here (curl may be in
 * the middle of its own bookkeeping): a 0 ms timeout simply fires on the
 * next loop iteration. */
static int
http_timer_cb(CURLM *multi, long timeout_ms, void *userp)
{
    struct http *h = userp;
    int rc;

    if (h->closing)
        return 0;
    if (timeout_ms < 0)
        rc = uv_timer_stop(&h->timer);
    else
        rc = uv_timer_start(&h->timer, http_timeout_cb,
                            (uint64_t)timeout_ms, 0);
    return rc == 0 ? 0 : -1;
}

struct http *
http_new(uv_loop_t *loop)
{
    struct http *h;

    if (loop == NULL || curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        return NULL;
    h = mem_calloc(1, sizeof(*h));
    h->loop = loop;
    h->multi = curl_multi_init();
    if (h->multi == NULL ||
        curl_multi_setopt(h->multi, CURLMOPT_SOCKETFUNCTION,
                          http_socket_cb) != CURLM_OK ||
        curl_multi_setopt(h->multi, CURLMOPT_SOCKETDATA, h) != CURLM_OK ||
        curl_multi_setopt(h->multi, CURLMOPT_TIMERFUNCTION,
                          http_timer_cb) != CURLM_OK ||
        curl_multi_setopt(h->multi, CURLMOPT_TIMERDATA, h) != CURLM_OK) {
        curl_multi_cleanup(h->multi);
        free(h);
        curl_global_cleanup();
        return NULL;
    }
    uv_timer_init(loop, &h->timer);
    h->timer.data = h;
    h->handles = 1;
    return h;
}

/* ---- requests ---- */

static int
http_token_ok(const char *s)
{
    size_t n = s == NULL ? 0 : strlen(s);

    if (n == 0 || n > 16)
        return 0;
    return strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") == n;
}

static int
http_url_ok(const char *url)
{
    if (url == NULL || (strncasecmp(url, "http://", 7) != 0 &&
                        strncasecmp(url, "https://", 8) != 0))
        return 0;
    for (const unsigned char *p = (const unsigned char *)url; *p; p++)
        if (*p <= 0x20 || *p == 0x7f)
            return 0;
    return 1;
}

/* scheme://host[:port]/path of url: no user info, query or fragment, so
 * neither credentials nor presigned signatures reach a log line. */
static char *
http_url_for_log(const char *url)
{
    const char *host = strstr(url, "://") + 3;
    size_t auth = strcspn(host, "/?#");
    const char *at = memrchr(host, '@', auth);

    if (at != NULL)
        host = at + 1;
    return mem_printf("%.*s%.*s", (int)(strstr(url, "://") + 3 - url), url,
                      (int)strcspn(host, "?#"), host);
}

struct http_req *
http_req_new(const char *method, const char *url)
{
    struct http_req *req;

    if (!http_token_ok(method) || !http_url_ok(url))
        return NULL;
    req = mem_calloc(1, sizeof(*req));
    req->method = mem_strdup(method);
    req->url = mem_strdup(url);
    req->log_url = http_url_for_log(url);
    /* curl 7.88 adds "Expect: 100-continue" to PUT uploads and to POSTs
     * over 1 MiB, then waits up to a second for a reply nobody needs. */
    req->headers = http_slist_add(NULL, "Expect:");
    req->max_response = HTTP_MAX_RESPONSE;
    buf_init(&req->resp.body);
    buf_init(&req->resp.headers);
    return req;
}

static void
http_req_drop_body(struct http_req *req)
{
    free(req->body_owned);
    req->body_owned = NULL;
    req->body = NULL;
    req->body_len = 0;
    req->has_body = 0;
}

void
http_req_free(struct http_req *req)
{
    if (req == NULL)
        return;
    http_cancel(req);
    http_req_drop_body(req);
    http_slist_free_secret(req->headers);
    free(req->method);
    free(req->url);
    free(req->log_url);
    /* Responses may carry secrets (Secrets Manager, IMDS credentials). */
    buf_cleanup_secret(&req->resp.body);
    buf_cleanup(&req->resp.headers);
    free(req);
}

int
http_req_add_header(struct http_req *req, const char *line)
{
    const char *colon;

    if (req == NULL || line == NULL || req->state != HTTP_IDLE)
        return ERR_FAIL;
    colon = strchr(line, ':');
    if (colon == NULL || colon == line || strpbrk(line, "\r\n") != NULL ||
        memchr(line, ' ', (size_t)(colon - line)) != NULL)
        return ERR_FAIL;
    if (strncasecmp(line, "content-type:", 13) == 0)
        req->has_content_type = 1;
    req->headers = http_slist_add(req->headers, line);
    return 0;
}

void
http_req_set_body(struct http_req *req, const void *data, size_t len)
{
    if (req == NULL || req->state != HTTP_IDLE)
        return;
    http_req_drop_body(req);
    req->body = data;
    req->body_len = data == NULL ? 0 : len;
    req->has_body = 1;
}

void
http_req_take_body(struct http_req *req, void *data, size_t len)
{
    if (req == NULL || req->state != HTTP_IDLE) {
        free(data);
        return;
    }
    http_req_set_body(req, data, len);
    req->body_owned = data;
}

void
http_req_set_timeouts(struct http_req *req, long connect_ms, long total_ms)
{
    if (req == NULL || req->state != HTTP_IDLE)
        return;
    req->connect_ms = connect_ms > 0 ? connect_ms : 0;
    req->total_ms = total_ms > 0 ? total_ms : 0;
}

void
http_req_set_low_speed(struct http_req *req, long bytes_per_s, long secs)
{
    if (req == NULL || req->state != HTTP_IDLE)
        return;
    req->low_speed_bytes = bytes_per_s > 0 && secs > 0 ? bytes_per_s : 0;
    req->low_speed_secs = bytes_per_s > 0 && secs > 0 ? secs : 0;
}

void
http_req_set_fresh_connect(struct http_req *req)
{
    if (req == NULL || req->state != HTTP_IDLE)
        return;
    req->fresh_connect = 1;
}

void
http_req_set_max_response(struct http_req *req, size_t max_bytes)
{
    if (req == NULL || req->state != HTTP_IDLE)
        return;
    req->max_response = max_bytes > 0 ? max_bytes : HTTP_MAX_RESPONSE;
}

int
http_req_busy(const struct http_req *req)
{
    return req != NULL && req->state != HTTP_IDLE;
}

/* ---- receiving ---- */

static size_t
http_write_cb(char *data, size_t size, size_t n, void *userp)
{
    struct http_req *req = userp;
    struct buf *b = &req->resp.body;
    curl_off_t length = -1;
    size_t len = size * n; /* size is always 1 */

    if (len > req->max_response - b->len) {
        req->body_too_large = 1;
        return 0; /* curl aborts the transfer: nothing more is read */
    }
    /* Size the buffer once from Content-Length (already checked against
     * the cap by CURLOPT_MAXFILESIZE_LARGE) instead of doubling through
     * several copies of a multi-megabyte body. */
    if (b->data == NULL &&
        curl_easy_getinfo(req->easy, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T,
                          &length) == CURLE_OK &&
        length > 0 && (uint64_t)length <= req->max_response)
        buf_reserve(b, (size_t)length);
    buf_append(b, data, len);
    return len;
}

/* Keep one "name: value" line as "name\0value\0"; a line starting with a
 * blank continues the previous value (obsolete folding). */
static void
http_store_header(struct buf *b, const char *line, size_t len)
{
    const char *colon;
    size_t name_len;

    while (len > 0 && (line[len - 1] == '\r' || line[len - 1] == '\n' ||
                       line[len - 1] == ' ' || line[len - 1] == '\t'))
        len--;
    /* RFC 9110 forbids NUL in a field; one would split the stored
     * "name\0value\0" pairs out of step, so such a line is dropped. */
    if (len == 0 || memchr(line, '\0', len) != NULL)
        return;
    if (line[0] == ' ' || line[0] == '\t') {
        if (b->len == 0)
            return;
        b->len--; /* reopen the last value */
        buf_appendc(b, ' ');
        while (*line == ' ' || *line == '\t')
            line++, len--;
        buf_append(b, line, len);
        buf_appendc(b, '\0');
        return;
    }
    colon = memchr(line, ':', len);
    if (colon == NULL)
        return;
    name_len = (size_t)(colon - line);
    buf_append(b, line, name_len);
    buf_appendc(b, '\0');
    len -= name_len + 1;
    line = colon + 1;
    while (len > 0 && (*line == ' ' || *line == '\t'))
        line++, len--;
    buf_append(b, line, len);
    buf_appendc(b, '\0');
}

static size_t
http_header_cb(char *data, size_t size, size_t n, void *userp)
{
    struct http_req *req = userp;
    size_t len = size * n; /* size is always 1 */

    req->header_bytes += len;
    if (req->header_bytes > HTTP_MAX_HEADER_BYTES) {
        req->headers_too_large = 1;
        return 0;
    }
    /* A status line starts a new response (after 100 Continue, say):
     * only the final response's headers are kept. */
    if (len >= 5 && memcmp(data, "HTTP/", 5) == 0)
        buf_reset(&req->resp.headers);
    else
        http_store_header(&req->resp.headers, data, len);
    return len;
}

/* ---- sending ---- */

static int
http_easy_method(struct http_req *req)
{
    CURL *e = req->easy;
    int post = strcmp(req->method, "POST") == 0;
    int bad = 0;

    if (strcmp(req->method, "HEAD") == 0)
        return curl_easy_setopt(e, CURLOPT_NOBODY, 1L) != CURLE_OK;
    /* CURLOPT_POSTFIELDS sends the caller's bytes in place (no copy), and
     * curl can resend them itself if a reused connection turns out dead;
     * CUSTOMREQUEST then names the real method. */
    if (req->has_body || post || strcmp(req->method, "PUT") == 0) {
        bad |= curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE,
                                (curl_off_t)req->body_len) != CURLE_OK;
        bad |= curl_easy_setopt(e, CURLOPT_POSTFIELDS,
                                req->body != NULL ? req->body : "") !=
               CURLE_OK;
        if (!req->has_content_type && !req->content_type_removed) {
            /* else curl claims application/x-www-form-urlencoded */
            req->headers = http_slist_add(req->headers, "Content-Type:");
            req->content_type_removed = 1;
        }
    }
    if (!post && (strcmp(req->method, "GET") != 0 || req->has_body))
        bad |= curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, req->method) !=
               CURLE_OK;
    return bad;
}

static int
http_easy_limits(struct http_req *req)
{
    CURL *e = req->easy;
    long connect_ms = req->connect_ms ? req->connect_ms
                                      : HTTP_CONNECT_TIMEOUT_MS;
    long total_ms = req->total_ms ? req->total_ms : HTTP_TOTAL_TIMEOUT_MS;
    int bad = 0;

    bad |= curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, connect_ms) !=
           CURLE_OK;
    bad |= curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, total_ms) != CURLE_OK;
    bad |= curl_easy_setopt(e, CURLOPT_LOW_SPEED_LIMIT,
                            req->low_speed_bytes) != CURLE_OK;
    bad |= curl_easy_setopt(e, CURLOPT_LOW_SPEED_TIME,
                            req->low_speed_secs) != CURLE_OK;
    /* Refuses a declared Content-Length above the cap before any body
     * byte arrives; http_write_cb() catches bodies of unknown length. */
    bad |= curl_easy_setopt(e, CURLOPT_MAXFILESIZE_LARGE,
                            (curl_off_t)req->max_response) != CURLE_OK;
    bad |= curl_easy_setopt(e, CURLOPT_FRESH_CONNECT, req->fresh_connect) !=
           CURLE_OK;
    bad |= curl_easy_setopt(e, CURLOPT_FORBID_REUSE, req->fresh_connect) !=
           CURLE_OK;
    return bad;
}

/* Options every request gets.  Deliberately absent: CURLOPT_ACCEPT_ENCODING
 * (DynamoDB's x-amz-crc32 covers the raw body), FOLLOWLOCATION (no API we
 * call redirects), VERBOSE (prints headers). */
static int
http_easy_setup(struct http_req *req)
{
    CURL *e = req->easy;
    int bad = 0;

    bad |= curl_easy_setopt(e, CURLOPT_URL, req->url) != CURLE_OK;
    bad |= curl_easy_setopt(e, CURLOPT_PRIVATE, req) != CURLE_OK;
    bad |= curl_easy_setopt(e, CURLOPT_ERRORBUFFER, req->errbuf) !=
           CURLE_OK;
    bad |= curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L) != CURLE_OK;
    bad |= curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https") !=
           CURLE_OK;
    bad |= curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 1L) != CURLE_OK;
    bad |= curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 2L) != CURLE_OK;
    bad |= curl_easy_setopt(e, CURLOPT_USERAGENT,
                            "spookyd/" SPOOKYD_VERSION) != CURLE_OK;
    bad |= curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, http_write_cb) !=
           CURLE_OK;
    bad |= curl_easy_setopt(e, CURLOPT_WRITEDATA, req) != CURLE_OK;
    bad |= curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, http_header_cb) !=
           CURLE_OK;
    bad |= curl_easy_setopt(e, CURLOPT_HEADERDATA, req) != CURLE_OK;
    bad |= http_easy_limits(req);
    bad |= http_easy_method(req);
    /* after http_easy_method(), which may extend the list */
    bad |= curl_easy_setopt(e, CURLOPT_HTTPHEADER, req->headers) !=
           CURLE_OK;
    return bad ? ERR_FAIL : 0;
}

/* Hand a linked request to curl; on failure it is still linked. */
static int
http_launch(struct http_req *req)
{
    req->easy = curl_easy_init();
    if (req->easy == NULL || http_easy_setup(req) != 0 ||
        curl_multi_add_handle(req->engine->multi, req->easy) != CURLM_OK) {
        curl_easy_cleanup(req->easy);
        req->easy = NULL;
        return ERR_FAIL;
    }
    req->state = HTTP_RUNNING;
    return 0;
}

/* ---- completion ---- */

static void
http_notify(struct http_req *req)
{
    struct http_resp *r = &req->resp;
    struct log_ctx ctx = {0};

    ctx.http_method = req->method;
    ctx.url = req->log_url;
    ctx.http_status = (int)r->status;
    ctx.duration_ms = r->duration_ms;
    if (r->curl_code == CURLE_OK)
        log_debug(&ctx, "http request done");
    else
        log_debug(&ctx, "http request failed: %s", r->error);
    req->cb(req, r, req->arg);
}

/* End an attempt that never reached curl or was pulled out of it. */
static void
http_complete(struct http_req *req, CURLcode code, const char *why)
{
    http_cancel(req);
    req->resp.curl_code = code;
    snprintf(req->resp.error, sizeof(req->resp.error), "%s", why);
    http_notify(req);
}

static void
http_set_error(struct http_req *req, CURLcode code)
{
    struct http_resp *r = &req->resp;

    r->curl_code = code;
    if (code == CURLE_OK) {
        r->error[0] = '\0';
    } else if (req->body_too_large || code == CURLE_FILESIZE_EXCEEDED) {
        r->curl_code = CURLE_FILESIZE_EXCEEDED;
        snprintf(r->error, sizeof(r->error),
                 "response body larger than the %zu-byte limit",
                 req->max_response);
    } else if (req->headers_too_large) {
        r->curl_code = CURLE_FILESIZE_EXCEEDED;
        snprintf(r->error, sizeof(r->error),
                 "response headers larger than %u bytes",
                 HTTP_MAX_HEADER_BYTES);
    } else {
        snprintf(r->error, sizeof(r->error), "%s",
                 req->errbuf[0] ? req->errbuf : curl_easy_strerror(code));
    }
}

static void
http_finish(struct http_req *req, CURLcode code)
{
    curl_off_t us = 0;
    long status = 0;

    if (curl_easy_getinfo(req->easy, CURLINFO_RESPONSE_CODE, &status) ==
        CURLE_OK)
        req->resp.status = status;
    /* Rounded up: log lines leave out a DURATION_MS of 0 as unset, and a
     * request answered within a millisecond still took time. */
    if (curl_easy_getinfo(req->easy, CURLINFO_TOTAL_TIME_T, &us) ==
        CURLE_OK)
        req->resp.duration_ms = (long)((us + 999) / 1000);
    http_set_error(req, code);
    http_cancel(req); /* detach from curl: the request is idle again */
    http_notify(req);
}

static void
http_check_done(struct http *h)
{
    CURLMsg *msg;
    int left;

    /* A callback may close the engine, which clears h->multi. */
    while (h->multi != NULL &&
           (msg = curl_multi_info_read(h->multi, &left)) != NULL) {
        char *priv = NULL;
        CURLcode code = msg->data.result;

        if (msg->msg != CURLMSG_DONE ||
            curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &priv) !=
                CURLE_OK ||
            priv == NULL)
            continue;
        http_finish((struct http_req *)priv, code);
    }
}

/* ---- starting, waiting, cancelling, closing ---- */

static int
http_prepare(struct http *h, struct http_req *req, http_done_cb cb,
             void *arg)
{
    struct http_resp *r = &req->resp;

    if (h == NULL || req == NULL || cb == NULL || h->closing ||
        req->state != HTTP_IDLE)
        return ERR_FAIL;
    buf_cleanup_secret(&r->body);
    buf_reset(&r->headers);
    r->curl_code = CURLE_OK;
    r->status = 0;
    r->duration_ms = 0;
    r->error[0] = '\0';
    req->errbuf[0] = '\0';
    req->header_bytes = 0;
    req->body_too_large = req->headers_too_large = 0;
    req->cb = cb;
    req->arg = arg;
    http_busy_link(h, req);
    return 0;
}

int
http_start(struct http *h, struct http_req *req, http_done_cb cb,
           void *arg)
{
    if (http_prepare(h, req, cb, arg) != 0)
        return ERR_FAIL;
    if (http_launch(req) != 0) {
        http_busy_unlink(req);
        return ERR_FAIL;
    }
    return 0;
}

static void
http_delay_closed(uv_handle_t *handle)
{
    struct http_delay *d = handle->data;
    struct http *h = d->engine;

    free(d);
    http_unref(h);
}

static void
http_delay_stop(struct http_req *req)
{
    struct http_delay *d = req->delay;

    req->delay = NULL;
    uv_close((uv_handle_t *)&d->timer, http_delay_closed);
}

static void
http_delay_fire(uv_timer_t *timer)
{
    struct http_delay *d = timer->data;
    struct http_req *req = d->req;

    http_delay_stop(req);
    if (http_launch(req) != 0)
        http_complete(req, CURLE_FAILED_INIT, "cannot start the transfer");
}

int
http_start_after(struct http *h, struct http_req *req, uint64_t delay_ms,
                 http_done_cb cb, void *arg)
{
    struct http_delay *d;

    if (http_prepare(h, req, cb, arg) != 0)
        return ERR_FAIL;
    d = mem_calloc(1, sizeof(*d));
    d->engine = h;
    d->req = req;
    uv_timer_init(h->loop, &d->timer);
    d->timer.data = d;
    h->handles++;
    req->delay = d;
    req->state = HTTP_WAITING;
    uv_timer_start(&d->timer, http_delay_fire, delay_ms, 0);
    return 0;
}

void
http_cancel(struct http_req *req)
{
    if (req == NULL || req->state == HTTP_IDLE)
        return;
    if (req->delay != NULL)
        http_delay_stop(req);
    if (req->easy != NULL) {
        curl_multi_remove_handle(req->engine->multi, req->easy);
        curl_easy_cleanup(req->easy);
        req->easy = NULL;
    }
    http_busy_unlink(req);
    req->state = HTTP_IDLE;
}

void
http_close(struct http *h, http_closed_cb cb, void *arg)
{
    if (h == NULL || h->closing)
        return;
    h->closing = 1;
    h->closed_cb = cb;
    h->closed_arg = arg;
    while (h->busy != NULL)
        http_complete(h->busy, CURLE_ABORTED_BY_CALLBACK,
                      "HTTP engine shut down");
    /* Unwatch before curl closes the sockets, so no uv_poll_t is left
     * holding a descriptor number the kernel may hand out again. */
    while (h->socks != NULL)
        http_sock_close(h, h->socks);
    curl_multi_cleanup(h->multi);
    h->multi = NULL;
    uv_close((uv_handle_t *)&h->timer, http_handle_closed);
}

void
http_free(struct http *h)
{
    http_close(h, NULL, NULL);
}

/* ---- response headers ---- */

const char *
http_resp_header(const struct http_resp *resp, const char *name)
{
    const char *p, *end, *value;

    if (resp == NULL || name == NULL || resp->headers.data == NULL)
        return NULL;
    p = resp->headers.data;
    end = p + resp->headers.len;
    while (p < end) {
        value = p + strlen(p) + 1;
        if (strcasecmp(p, name) == 0)
            return value;
        p = value + strlen(value) + 1;
    }
    return NULL;
}

/* ---- HTTP dates (RFC 9110 section 5.6.7) and Retry-After ---- */

struct http_tm {
    int year, mon, day, hour, min, sec; /* mon 0-11 */
};

static const char http_months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
static const char *const http_wdays[7] = {
    "Monday", "Tuesday", "Wednesday", "Thursday",
    "Friday", "Saturday", "Sunday",
};

/* Exactly width digits. */
static int
http_num(const char **p, int width, int *out)
{
    int v = 0;

    for (int i = 0; i < width; i++) {
        if (!isdigit((unsigned char)(*p)[i]))
            return -1;
        v = v * 10 + ((*p)[i] - '0');
    }
    *p += width;
    *out = v;
    return 0;
}

static int
http_lit(const char **p, const char *lit)
{
    size_t n = strlen(lit);

    if (strncmp(*p, lit, n) != 0)
        return -1;
    *p += n;
    return 0;
}

static int
http_month(const char **p, int *mon)
{
    for (int i = 0; i < 12; i++) {
        if (strncmp(*p, http_months + 3 * i, 3) == 0) {
            *mon = i;
            *p += 3;
            return 0;
        }
    }
    return -1;
}

static int
http_clock(const char **p, struct http_tm *tm)
{
    return http_num(p, 2, &tm->hour) || http_lit(p, ":") ||
           http_num(p, 2, &tm->min) || http_lit(p, ":") ||
           http_num(p, 2, &tm->sec);
}

/* 1 when the n letters at p are a day name: "Sun" or "Sunday" style. */
static int
http_wday(const char *p, size_t n, int full)
{
    for (int i = 0; i < 7; i++) {
        if (full ? strlen(http_wdays[i]) == n : n == 3)
            if (strncmp(p, http_wdays[i], n) == 0)
                return 1;
    }
    return 0;
}

/* ", 06 Nov 1994 08:49:37 GMT" after the day name */
static int
http_imf(const char **p, struct http_tm *tm)
{
    return http_lit(p, ", ") || http_num(p, 2, &tm->day) ||
           http_lit(p, " ") || http_month(p, &tm->mon) || http_lit(p, " ") ||
           http_num(p, 4, &tm->year) || http_lit(p, " ") ||
           http_clock(p, tm) || http_lit(p, " GMT");
}

/* ", 06-Nov-94 08:49:37 GMT" after the day name */
static int
http_rfc850(const char **p, struct http_tm *tm)
{
    if (http_lit(p, ", ") || http_num(p, 2, &tm->day) || http_lit(p, "-") ||
        http_month(p, &tm->mon) || http_lit(p, "-") ||
        http_num(p, 2, &tm->year) || http_lit(p, " ") ||
        http_clock(p, tm) || http_lit(p, " GMT"))
        return -1;
    /* Two-digit years: no clock here to apply RFC 9110's "more than 50
     * years ahead" rule, so 70-99 are 19xx and 00-69 are 20xx. */
    tm->year += tm->year < 70 ? 2000 : 1900;
    return 0;
}

/* " Nov  6 08:49:37 1994" after the day name */
static int
http_asctime(const char **p, struct http_tm *tm)
{
    if (http_lit(p, " ") || http_month(p, &tm->mon) || http_lit(p, " "))
        return -1;
    if (**p == ' ') {
        (*p)++;
        if (http_num(p, 1, &tm->day))
            return -1;
    } else if (http_num(p, 2, &tm->day)) {
        return -1;
    }
    return http_lit(p, " ") || http_clock(p, tm) || http_lit(p, " ") ||
           http_num(p, 4, &tm->year);
}

static int
http_leap(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int
http_tm_to_time(const struct http_tm *tm, time_t *out)
{
    static const int before[12] = {0,   31,  59,  90,  120, 151,
                                   181, 212, 243, 273, 304, 334};
    static const int mdays[12] = {31, 28, 31, 30, 31, 30,
                                  31, 31, 30, 31, 30, 31};
    long long y = tm->year, days;
    int leap = http_leap(tm->year);

    if (tm->year < 1970 || tm->day < 1 ||
        tm->day > mdays[tm->mon] + (tm->mon == 1 && leap) ||
        tm->hour > 23 || tm->min > 59 || tm->sec > 60)
        return ERR_FAIL;
    /* whole days since 1970-01-01: years, the leap days they held, then
     * the months of this year */
    days = 365 * (y - 1970) + ((y - 1) / 4 - (y - 1) / 100 + (y - 1) / 400) -
           (1969 / 4 - 1969 / 100 + 1969 / 400);
    days += before[tm->mon] + (tm->mon > 1 && leap) + tm->day - 1;
    *out = (time_t)(days * 86400 + tm->hour * 3600 + tm->min * 60 + tm->sec);
    return 0;
}

int
http_parse_date(const char *s, time_t *out)
{
    struct http_tm tm = {0};
    const char *p;
    size_t n;
    int rc;

    if (s == NULL || out == NULL)
        return ERR_FAIL;
    p = s + strspn(s, " \t");
    for (n = 0; isalpha((unsigned char)p[n]); n++)
        ;
    if (n == 3 && http_wday(p, n, 0)) {
        p += n;
        rc = *p == ',' ? http_imf(&p, &tm) : http_asctime(&p, &tm);
    } else if (http_wday(p, n, 1)) {
        p += n;
        rc = http_rfc850(&p, &tm);
    } else {
        return ERR_FAIL;
    }
    if (rc != 0 || p[strspn(p, " \t")] != '\0')
        return ERR_FAIL;
    return http_tm_to_time(&tm, out);
}

int
http_resp_date(const struct http_resp *resp, time_t *out)
{
    return http_parse_date(http_resp_header(resp, "date"), out);
}

/* Decimal digits, and with allow_fraction a ".ddd" part rounded up. */
static int
http_parse_uint(const char *s, int allow_fraction, uint64_t *out)
{
    const char *p = s + strspn(s, " \t");
    size_t n = strspn(p, "0123456789");
    uint64_t v = 0;

    if (n == 0 || n > 15) /* 15 digits leave room for a * 1000 */
        return -1;
    for (size_t i = 0; i < n; i++)
        v = v * 10 + (uint64_t)(p[i] - '0');
    p += n;
    if (allow_fraction && *p == '.') {
        n = strspn(++p, "0123456789");
        if (n == 0)
            return -1;
        if (strspn(p, "0") < n)
            v++;
        p += n;
    }
    if (p[strspn(p, " \t")] != '\0')
        return -1;
    *out = v;
    return 0;
}

int
http_parse_retry_after(const char *value, time_t now, uint64_t *ms)
{
    uint64_t secs;
    time_t at;

    if (value == NULL || ms == NULL)
        return ERR_FAIL;
    if (http_parse_uint(value, 0, &secs) == 0) {
        *ms = secs * 1000;
        return 0;
    }
    if (http_parse_date(value, &at) != 0)
        return ERR_FAIL;
    *ms = at > now ? (uint64_t)(at - now) * 1000 : 0;
    return 0;
}

int
http_resp_retry_after_ms(const struct http_resp *resp, time_t now,
                         uint64_t *ms)
{
    const char *v;

    if (resp == NULL || ms == NULL)
        return ERR_FAIL;
    v = http_resp_header(resp, "retry-after-ms");
    if (v != NULL && http_parse_uint(v, 1, ms) == 0)
        return 0;
    v = http_resp_header(resp, "x-amz-retry-after");
    if (v != NULL && http_parse_uint(v, 1, ms) == 0)
        return 0;
    return http_parse_retry_after(http_resp_header(resp, "retry-after"),
                                  now, ms);
}
