/*
 * X API v2 client for posting one image with alt text as a bot: media
 * upload (multipart), alt text (media metadata), then the post, each
 * request signed with OAuth 1.0a and run on the shared HTTP engine on the
 * uv loop.  It retries only transient failures (5xx, timeouts, resets);
 * rate limits, duplicates and refusals go back to the caller to decide.
 */
#ifndef SPOOKYD_X_X_H
#define SPOOKYD_X_X_H

#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#include "core/err.h"
#include "core/http.h"
#include "core/retry.h"

/* Room for an X id (1-19 decimal digits; never parse one as a number:
 * they exceed 2^53) and its NUL. */
#define X_ID_LEN 24
/* Longest alt text X accepts, in Unicode code points. */
#define X_ALT_TEXT_MAX 1000
/* Largest image X accepts in one upload (5 MiB). */
#define X_IMAGE_MAX (5u * 1024 * 1024)
/* Most media one post may carry. */
#define X_MEDIA_IDS_MAX 4
/* Per-attempt timeouts when struct x_config leaves them 0. */
#define X_TIMEOUT_MS 30000
#define X_UPLOAD_TIMEOUT_MS 120000

/* The four OAuth 1.0a user-context credentials, owned by the struct. */
struct x_creds {
    char *consumer_key;    /* API_KEY */
    char *consumer_secret; /* API_SECRET */
    char *token;           /* ACCESS_TOKEN */
    char *token_secret;    /* ACCESS_TOKEN_SECRET */
};

/*
 * Parse credentials stored as the old app kept them in Secrets Manager: a
 * JSON object with string members API_KEY, API_SECRET, ACCESS_TOKEN and
 * ACCESS_TOKEN_SECRET (others, such as BEARER_TOKEN, are ignored).
 * Returns a new struct (free with x_creds_free()), or NULL with err
 * naming what is missing or wrong; err never quotes a value, and the
 * parser's copies are wiped.
 */
struct x_creds *x_creds_parse(const char *json, char err[ERR_LEN]);

/* Wipe (OPENSSL_cleanse) and free c.  NULL is a no-op. */
void x_creds_free(struct x_creds *c);

/* How to reach X.  Strings are copied by x_new(). */
struct x_config {
    const char *api_base_url; /* "https://api.x.com"; no query, fragment
                               * or user info; a trailing '/' is dropped */
    const char *creds_ref;    /* where the credentials came from, named in
                               * errors ("secretsmanager:spooky/x");
                               * NULL: "the X credentials" */
    const struct retry_policy *policy; /* NULL: retry_policy_api */
    long timeout_ms;                   /* metadata and post; 0: X_TIMEOUT_MS */
    long upload_timeout_ms; /* media upload; 0: X_UPLOAD_TIMEOUT_MS */
};

/* A client: credentials, base URL and retry quota, on one engine. */
struct x;

/*
 * New client sending through engine (which must outlive it) on loop.
 * creds are copied.  NULL with err filled when the config is unusable.
 * Free with x_free().
 */
struct x *x_new(uv_loop_t *loop, struct http *engine,
                const struct x_creds *creds, const struct x_config *cfg,
                char err[ERR_LEN]);

/* Cancel every running operation (their callbacks do not run), wipe the
 * credentials and free x.  Timers close on the next loop iteration, so
 * run the loop once more before uv_loop_close().  NULL is a no-op. */
void x_free(struct x *x);

/* How an operation ended. */
enum x_outcome {
    X_DONE,         /* done: the ids in the result are set */
    X_RETRY,        /* transient trouble outlasted the retries: try later */
    X_RATE_LIMITED, /* 429: try again after wait_ms; not a failed attempt */
    X_DUPLICATE,    /* 403 duplicate content: the text is already posted
                     * (by us, if an earlier attempt's reply was lost) */
    X_FAIL,         /* permanent: this request will never succeed */
};

/* The request an operation was on when it ended. */
enum x_step {
    X_STEP_UPLOAD,   /* POST /2/media/upload */
    X_STEP_METADATA, /* POST /2/media/metadata */
    X_STEP_TWEET,    /* POST /2/tweets */
};

/* What an operation's callback receives; valid during the callback. */
struct x_result {
    enum x_outcome outcome;
    int rc; /* 0; ERR_RETRY for X_RETRY and X_RATE_LIMITED;
             * ERR_FAIL for X_DUPLICATE and X_FAIL */
    enum x_step step;
    long http_status;        /* of the last reply, 0 if none arrived */
    uint64_t wait_ms;        /* X_RATE_LIMITED: until the limit resets, with
                              * jitter (the 24-hour reset when that is spent) */
    int credits_depleted;    /* X_FAIL: 402 / no credits / usage cap: alert */
    int auth_failed;         /* X_FAIL: X refused the credentials */
    int attempts;            /* HTTP requests this operation sent */
    char media_id[X_ID_LEN]; /* uploaded or given media, "" if none */
    char tweet_id[X_ID_LEN]; /* the new post, "" if none */
    char err[ERR_LEN];       /* why, when outcome is not X_DONE */
};

/* One running operation.  The pointer is dead once the callback starts. */
struct x_op;

/* Called once, on the loop, when an operation ends; not called for an
 * operation refused up front or cancelled. */
typedef void (*x_done_cb)(const struct x_result *res, void *arg);

/*
 * Upload image[0..len) (copied into the request body before returning,
 * so the caller may free it at once) of media_type ("image/png",
 * "image/jpeg" or "image/webp"; the bytes must match) as a tweet_image.
 * job_id (may be NULL) tags the log lines.  Returns the operation, or
 * NULL with err filled (bad input; the callback will not run).  On X_DONE
 * res->media_id holds data.id.
 */
struct x_op *x_media_upload(struct x *x, const void *image, size_t len,
                            const char *media_type, const char *job_id,
                            x_done_cb cb, void *arg, char err[ERR_LEN]);

/*
 * Set the alt text (UTF-8, 1 to X_ALT_TEXT_MAX code points) of uploaded
 * media.  Same conventions as x_media_upload().
 */
struct x_op *x_media_metadata(struct x *x, const char *media_id,
                              const char *alt_text, const char *job_id,
                              x_done_cb cb, void *arg, char err[ERR_LEN]);

/*
 * Post text (UTF-8; may be "" only with media) with media_ids[0..n)
 * (0 to X_MEDIA_IDS_MAX, no repeats).  On X_DONE res->tweet_id holds the
 * new post's id (X answers 201).  A retry after a lost reply can meet
 * X_DUPLICATE: the first attempt did post.
 */
struct x_op *x_tweet(struct x *x, const char *text,
                     const char *const *media_ids, size_t n, const char *job_id,
                     x_done_cb cb, void *arg, char err[ERR_LEN]);

/* One image post for x_post_image(); everything is copied. */
struct x_post {
    const void *image;
    size_t image_len;
    const char *media_type;
    const char *alt_text; /* NULL or "": no metadata request */
    const char *text;
    const char *job_id; /* may be NULL */
};

/*
 * Upload, set the alt text, post: each step starts when the one before
 * succeeded.  The result names the step that ended it and carries the
 * media id once uploaded, so a caller that meets X_RATE_LIMITED at the
 * post can later call x_tweet() with it (media stay usable for about a
 * day).  NULL with err filled when the input is refused up front.
 */
struct x_op *x_post_image(struct x *x, const struct x_post *post, x_done_cb cb,
                          void *arg, char err[ERR_LEN]);

/* Stop op (a request in flight is abandoned, a wait cancelled) and free
 * it; its callback does not run.  NULL is a no-op. */
void x_op_cancel(struct x_op *op);

/* "ok", "retry", "rate limited", "duplicate", "fail". */
const char *x_outcome_name(enum x_outcome o);

#endif
