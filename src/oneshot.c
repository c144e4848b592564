/*
 * oneshot.c: a private loop for the one-shot commands.  The HTTP engine
 * is closed once the last generation is gone, and uv_run() returns when
 * nothing is left, so a command ends by simply finishing its work.
 */
#include <string.h>
#include <uv.h>

#include "context.h"
#include "core/http.h"
#include "core/log.h"
#include "oneshot.h"

struct oneshot {
    struct http *http;
    oneshot_fn fn;
    void *arg;
    int rc;
};

static void
on_none_live(void *arg)
{
    struct oneshot *o = arg;

    http_free(o->http);
    o->http = NULL;
}

static void
on_built(struct context *ctx, const char *errors, void *arg)
{
    struct oneshot *o = arg;
    const char *p = errors;

    if (ctx == NULL) {
        while (*p) {
            int n = (int)strcspn(p, "\n");

            log_err(NULL, "%.*s", n, p);
            p += n + (p[n] == '\n');
        }
        o->rc = 1;
        return;
    }
    o->rc = 0;
    o->fn(ctx, o->arg);
    context_unref(ctx);
}

int
oneshot_run(struct cfg *cfg, struct calendar *cal, oneshot_fn fn, void *arg)
{
    struct oneshot o = {NULL, fn, arg, 1};
    uv_loop_t loop;

    uv_loop_init(&loop);
    o.http = http_new(&loop);
    if (o.http == NULL) {
        log_err(NULL, "cannot create the HTTP engine");
        uv_loop_close(&loop);
        return 1;
    }
    context_on_none_live(on_none_live, &o);
    context_build(&loop, o.http, cfg, cal, on_built, &o);
    uv_run(&loop, UV_RUN_DEFAULT);
    uv_loop_close(&loop);
    return o.rc;
}
