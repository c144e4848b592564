/*
 * One generation of everything the config decides: the config, the AWS
 * client built from it, the resolved secrets and the calendar.  Building
 * one is asynchronous (Secrets Manager and an s3:// calendar are on the
 * network); the daemon swaps a new generation in only when it is
 * complete, and jobs hold a reference so they finish with the generation
 * they started with.
 */
#ifndef SPOOKYD_CONTEXT_H
#define SPOOKYD_CONTEXT_H

#include <uv.h>

#include "core/buf.h"

struct aws;
struct calendar;
struct cfg;
struct http;
struct x;

struct context {
    int refs;
    uv_loop_t *loop;
    struct http *http;   /* shared by every generation; not owned */
    struct cfg *cfg;
    struct aws *aws;
    struct calendar *cal;
    char *openai_key;    /* resolved secrets, wiped when freed */
    char *x_credentials; /* the X secret's JSON text */
    struct x *x;         /* X client signed with those credentials */
};

struct context_build;

/* Called once when a build ends: ctx with one reference for the caller,
 * or NULL and errors holding one line per problem. */
typedef void (*context_done_cb)(struct context *ctx, const char *errors,
                                void *arg);

/* Build a generation from cfg (a reference is taken) and cal (owned from
 * now on; NULL when the calendar is in S3).  cb runs on the loop, never
 * inside this call.  Returns the pending build. */
struct context_build *context_build(uv_loop_t *loop, struct http *http,
                                    struct cfg *cfg, struct calendar *cal,
                                    context_done_cb cb, void *arg);

/* Stop a pending build; its callback does not run. */
void context_build_cancel(struct context_build *b);

/* Take one more reference; returns ctx. */
struct context *context_ref(struct context *ctx);

/* Drop a reference.  The last one frees the generation on a later loop
 * pass (it may be dropped from inside one of its own AWS callbacks).
 * NULL is a no-op. */
void context_unref(struct context *ctx);

/* Generations not yet freed. */
int context_live(void);

/* Call cb(arg) each time the last live generation has been freed, so the
 * daemon knows when the HTTP engine they share can be closed. */
void context_on_none_live(void (*cb)(void *arg), void *arg);

#endif
