/*
 * OpenAI Images API client: one picture per call from POST
 * {base_url}/images/generations (api-notes section 6), run on the HTTP
 * engine's loop, retried here on throttling and server trouble, checked
 * to be a real PNG/JPEG/WebP small enough for X.  No edits, streaming or
 * n > 1.  Relies on core/http, core/retry, core/image and jansson.
 */
#ifndef SPOOKYD_OPENAI_OPENAI_H
#define SPOOKYD_OPENAI_OPENAI_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "core/http.h"
#include "core/image.h"

/* Whole-attempt timeout when the options give none: generation takes tens
 * of seconds, complex prompts up to about two minutes. */
#define OPENAI_DEFAULT_TIMEOUT_MS 300000L
/* X refuses larger images, so a bigger answer is a permanent failure. */
#define OPENAI_MAX_IMAGE_BYTES (5u << 20)
/* Response cap: base64 of a 5 MiB image (7 MiB) plus the JSON around it. */
#define OPENAI_MAX_RESPONSE (8u << 20)
/* The API's limit on the prompt, in characters (code points). */
#define OPENAI_PROMPT_MAX 32000

/* What to ask for.  The strings are borrowed for the openai_generate()
 * call only; it copies what it keeps. */
struct openai_opts {
    const char *base_url;      /* "https://api.openai.com/v1" */
    const char *api_key;       /* the resolved key; never logged */
    const char *api_key_ref;   /* where it came from ("env:OPENAI_API_KEY"),
                                * named in errors; NULL: "the API key" */
    const char *model;         /* e.g. "gpt-image-2-2026-04-21" */
    const char *size;          /* NULL sends "auto" */
    const char *quality;       /* NULL sends "auto" */
    const char *output_format; /* "png", "jpeg", "webp"; NULL sends "png" */
    int output_compression;    /* 0-100 for jpeg/webp; -1: not sent */
    long timeout_ms;           /* per attempt; 0: OPENAI_DEFAULT_TIMEOUT_MS */
    const char *organization;  /* OpenAI-Organization header, or NULL */
    const char *project;       /* OpenAI-Project header, or NULL */
    const char *job_id;        /* JOB_ID of the log lines, or NULL */
};

/* Token counts from the response's usage object; -1 when absent. */
struct openai_usage {
    long long input_tokens;
    long long output_tokens;
    long long total_tokens;
};

/* The outcome handed to the callback; valid only while it runs. */
struct openai_result {
    int rc;                 /* 0, ERR_RETRY (try later) or ERR_FAIL */
    char error[ERR_LEN];    /* why, fit for a job's last_error; "" on success */
    int refused;            /* the safety system refused the prompt */
    int quota_exhausted;    /* 429 insufficient_quota: billing needs a human;
                             * rc is ERR_FAIL and nothing was retried */
    int64_t retry_after_ms; /* the server's last requested wait, or -1 */
    long http_status;       /* of the last attempt; 0 when none arrived */
    int attempts;           /* HTTP attempts made */
    char request_id[128];   /* x-request-id of the last answer, or "" */
    unsigned char *image;   /* the picture when rc is 0, else NULL; freed
                             * after the callback unless taken */
    size_t image_len;
    struct image_info info; /* type, content type, extension, pixels */
    struct openai_usage usage;
};

/* Called once per openai_generate() that returned a handle, on the loop
 * thread; the handle is gone by then. */
typedef void (*openai_done_cb)(struct openai_result *res, void *arg);

/* One generation in flight. */
struct openai_gen;

/* Defaults: every string NULL, output_compression -1, timeout 0. */
void openai_opts_init(struct openai_opts *o);

/* Check the options and the prompt (non-empty UTF-8 of at most
 * OPENAI_PROMPT_MAX characters) without any I/O, e.g. at config load.
 * 0, or ERR_FAIL with err (which never quotes the key). */
int openai_check(const struct openai_opts *o, const char *prompt,
                 char err[ERR_LEN]);

/* Start generating one image for prompt on h.  Attempts are retried here
 * (retry_policy_api: 3 in all) on 408/409/429 rate limits/5xx and network
 * errors, honouring retry-after-ms, retry-after and x-should-retry; never
 * on refusals, quota, 4xx, or a second attempt that ran into the whole
 * timeout (a finished image is billed even if its answer never arrives).
 * Returns a handle, or NULL (logged; cb never runs) when openai_check()
 * fails or the engine refuses the request (shutting down). */
struct openai_gen *openai_generate(struct http *h,
                                   const struct openai_opts *opts,
                                   const char *prompt, openai_done_cb cb,
                                   void *arg);

/* Stop a generation; its callback never runs.  NULL is a no-op.  Not
 * from inside its own callback (the handle is already gone). */
void openai_cancel(struct openai_gen *g);

/* Take the image out of res: the caller frees it with free(); *len gets
 * its size.  NULL when there is none or it was taken already. */
unsigned char *openai_result_take_image(struct openai_result *res, size_t *len);

#endif
