/*
 * The one HTTP engine every spookyd client (AWS, OpenAI, X) uses: libcurl's
 * multi-socket API driven by a libuv loop, so requests run concurrently on
 * the loop thread and share one connection cache.  It does not sign, parse
 * bodies or retry on its own (callers use core/retry.h).  Needs libcurl
 * 7.88 and libuv 1.44 or later.
 */
#ifndef SPOOKYD_CORE_HTTP_H
#define SPOOKYD_CORE_HTTP_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <curl/curl.h>
#include <uv.h>

#include "core/buf.h"
#include "core/err.h"

/* Defaults a request starts with. */
#define HTTP_CONNECT_TIMEOUT_MS 10000
#define HTTP_TOTAL_TIMEOUT_MS 60000
#define HTTP_MAX_RESPONSE (16u << 20)
/* Response headers beyond this many bytes abort the transfer. */
#define HTTP_MAX_HEADER_BYTES (64u << 10)

/* An engine: one curl multi handle on one uv loop. */
struct http;

/* One request; reusable for later attempts once it has completed. */
struct http_req;

/* What an attempt produced.  Valid until the request is restarted or
 * freed; the callback may take the body with buf_steal(&resp->body). */
struct http_resp {
    CURLcode curl_code; /* CURLE_OK when a complete response arrived */
    long status;        /* final HTTP status; 0 when none arrived */
    struct buf body;    /* the body; partial when curl_code says so */
    long duration_ms;   /* this attempt, from start to completion */
    char error[CURL_ERROR_SIZE]; /* why curl_code is not CURLE_OK, else "" */
    struct buf headers; /* private: "name\0value\0" pairs, see below */
};

/* Called once per started attempt, on the loop thread, after the request
 * is idle again: it may free the request or start it once more. */
typedef void (*http_done_cb)(struct http_req *req, struct http_resp *resp,
                             void *arg);

/* Called when an engine closed by http_close() has released everything. */
typedef void (*http_closed_cb)(void *arg);

/* New engine on loop (curl_global_init is done here).  NULL when curl
 * cannot make a multi handle.  Release with http_close() or http_free(). */
struct http *http_new(uv_loop_t *loop);

/* Shut the engine down: every waiting or running request completes at
 * once, inside this call, with CURLE_ABORTED_BY_CALLBACK ("HTTP engine
 * shut down"); later http_start() calls fail.  The uv handles close
 * asynchronously: the memory is freed and cb(arg) (cb may be NULL) runs
 * from the loop once their close callbacks have run, so the loop must run
 * again before uv_loop_close().  NULL or a second call is a no-op. */
void http_close(struct http *h, http_closed_cb cb, void *arg);

/* http_close(h, NULL, NULL): the memory goes on the next uv_run(). */
void http_free(struct http *h);

/* New idle request.  method is an upper-case token ("GET", "PUT", ...),
 * url an absolute http or https URL.  NULL when either is malformed
 * (empty, lower case, spaces or control characters).  The caller frees it
 * with http_req_free(). */
struct http_req *http_req_new(const char *method, const char *url);

/* Cancel the request if busy (its callback does not run) and free it.
 * NULL is a no-op.  Allowed inside the request's own callback. */
void http_req_free(struct http_req *req);

/* Add the header line "Name: value" (copied).  "Name:" removes a header
 * curl would add.  ERR_FAIL for NULL, a missing name or colon, or CR/LF
 * inside the line (header injection).  Only while idle. */
int http_req_add_header(struct http_req *req, const char *line);

/* Body sent with the request, borrowed: data must stay valid and
 * unchanged until the last attempt has completed or been cancelled.  It
 * is never copied, so a multi-megabyte image costs nothing extra.  Any
 * method may carry one; POST and PUT without one send Content-Length: 0.
 * Only while idle. */
void http_req_set_body(struct http_req *req, const void *data, size_t len);

/* Like http_req_set_body(), but the request takes data (from malloc) and
 * frees it when freed itself or given another body. */
void http_req_take_body(struct http_req *req, void *data, size_t len);

/* Connect timeout and whole-attempt timeout in milliseconds; 0 keeps the
 * defaults above.  Only while idle. */
void http_req_set_timeouts(struct http_req *req, long connect_ms,
                           long total_ms);

/* Abort the attempt when fewer than bytes_per_s bytes per second flow for
 * secs seconds in a row (CURLE_OPERATION_TIMEDOUT).  0 turns it off, the
 * default.  Only while idle. */
void http_req_set_low_speed(struct http_req *req, long bytes_per_s,
                            long secs);

/* Send each attempt on a new connection, closed after it.  libcurl sends
 * a request again, unasked, when a reused connection dies before any
 * byte of the answer, although the server may have acted on it: a
 * request that must not arrive twice (a post, or one signed with a
 * single-use OAuth nonce, which a replay turns into a 401) leaves that
 * decision to its caller this way.  Only while idle. */
void http_req_set_fresh_connect(struct http_req *req);

/* Largest response body accepted; 0 restores HTTP_MAX_RESPONSE.  A larger
 * one aborts the transfer as soon as it is known (from Content-Length or
 * while streaming), without buffering the rest, with curl_code
 * CURLE_FILESIZE_EXCEEDED and an error naming the limit. */
void http_req_set_max_response(struct http_req *req, size_t max_bytes);

/* Start an attempt of an idle request; cb(req, resp, arg) runs on the
 * loop when it ends.  0, or ERR_FAIL (busy request, closing engine, curl
 * refusing the handle) and cb will not run.  The loop must be running or
 * run later for anything to happen. */
int http_start(struct http *h, struct http_req *req, http_done_cb cb,
               void *arg);

/* http_start() after delay_ms on the loop (a uv timer), for retries.
 * Cancelling or shutting down during the wait behaves as for a running
 * attempt.  Same return values. */
int http_start_after(struct http *h, struct http_req *req,
                     uint64_t delay_ms, http_done_cb cb, void *arg);

/* Stop a waiting or running attempt; its callback does not run and the
 * request is idle on return (the connection is closed).  No-op when idle
 * or NULL. */
void http_cancel(struct http_req *req);

/* True while an attempt is waiting or running. */
int http_req_busy(const struct http_req *req);

/* Value of the final response's first header called name, compared
 * case-insensitively, with surrounding blanks removed; NULL if absent.
 * Points into resp. */
const char *http_resp_header(const struct http_resp *resp, const char *name);

/* Parse an HTTP date (RFC 9110 section 5.6.7: IMF-fixdate such as "Sun,
 * 06 Nov 1994 08:49:37 GMT", and the obsolete RFC 850 and asctime forms
 * recipients must accept) into *out.  0, or ERR_FAIL for anything else. */
int http_parse_date(const char *s, time_t *out);

/* The response's Date header, parsed as above (for clock-skew
 * correction).  0 or ERR_FAIL (absent or malformed). */
int http_resp_date(const struct http_resp *resp, time_t *out);

/* Parse a Retry-After value (delay-seconds, or an HTTP date read against
 * now; a past date gives 0) into milliseconds.  0 or ERR_FAIL. */
int http_parse_retry_after(const char *value, time_t now, uint64_t *ms);

/* The wait the server asked for, in milliseconds, from the first present
 * and valid of retry-after-ms (OpenAI), x-amz-retry-after (milliseconds)
 * and Retry-After.  0 and *ms, or ERR_FAIL when none is usable.  Values
 * are not clamped here: retry_next() does that. */
int http_resp_retry_after_ms(const struct http_resp *resp, time_t now,
                             uint64_t *ms);

#endif
