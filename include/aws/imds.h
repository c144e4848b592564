/*
 * EC2 instance metadata client, IMDSv2 only: a session token from PUT
 * /latest/api/token (TTL 21600 s, renewed before it lapses and on 401),
 * then GETs carrying it.  1 s connect timeout, 2 s per attempt, 3 attempts.
 * Never falls back to IMDSv1.  Knows no metadata paths: callers do.
 */
#ifndef SPOOKYD_AWS_IMDS_H
#define SPOOKYD_AWS_IMDS_H

#include <stddef.h>

#include <uv.h>

#include "core/err.h"

#define IMDS_DEFAULT_ENDPOINT "http://169.254.169.254"
#define IMDS_TOKEN_TTL_S 21600
#define IMDS_ATTEMPTS 3
#define IMDS_CONNECT_TIMEOUT_MS 1000
#define IMDS_ATTEMPT_TIMEOUT_MS 2000

struct http;
struct imds;
struct imds_get;

/* Result of imds_get(): rc 0 with the body (len bytes, NUL-terminated,
 * valid during the callback), or ERR_FAIL (404 no such path, 403 IMDS
 * turned off, 400/405) or ERR_RETRY (unreachable, timeouts, 5xx, attempts
 * used up) with err saying why and body NULL. */
typedef void (*imds_done_cb)(int rc, const char *body, size_t len,
                             const char *err, void *arg);

/* Client for the metadata service at endpoint ("http://host[:port]"; NULL
 * or "" for IMDS_DEFAULT_ENDPOINT) on loop, sending through http
 * (borrowed).  NULL with err for a malformed endpoint.  Free with
 * imds_free(). */
struct imds *imds_new(uv_loop_t *loop, struct http *http, const char *endpoint,
                      char err[ERR_LEN]);

/* Cancel every pending GET (callbacks do not run) and free the client.
 * Timers close asynchronously: run the loop once more.  NULL is a no-op. */
void imds_free(struct imds *m);

/* GET path ("/latest/meta-data/...") with a valid token, fetching one
 * first when needed.  Returns a handle valid until the callback has run;
 * NULL with err when path does not start with '/' (cb never runs). */
struct imds_get *imds_get(struct imds *m, const char *path, imds_done_cb cb,
                          void *arg, char err[ERR_LEN]);

/* Stop a pending GET; its callback does not run.  NULL is a no-op. */
void imds_get_cancel(struct imds_get *g);

#endif
