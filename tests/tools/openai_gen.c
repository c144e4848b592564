/*
 * openai_gen: runs one openai_generate() on a real uv loop, for
 * tests/proc/test_openai_client.py.  The key comes from $OPENAI_API_KEY,
 * never argv.  A repeating timer counts loop turns while the request is
 * in flight.  Prints the result as key=value lines on stdout, writes the
 * image to OUT, logs to stderr.
 * usage: openai_gen OUT NAME=VALUE...  (names: see set_opt())
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <uv.h>

#include "core/http.h"
#include "core/log.h"
#include "openai/openai.h"

struct run {
    struct http *http;
    struct openai_gen *gen;
    uv_timer_t tick, stop;
    const char *out;
    long ticks;
    int done;
    int close_engine; /* the stop timer closes the engine (else cancels) */
};

static void
closed(uv_handle_t *h)
{
    (void)h;
}

static void
finish(struct run *r)
{
    uv_timer_stop(&r->tick);
    uv_close((uv_handle_t *)&r->tick, closed);
    uv_close((uv_handle_t *)&r->stop, closed);
    http_close(r->http, NULL, NULL);
}

static int
write_file(const char *path, const unsigned char *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    int ok = f != NULL && fwrite(data, 1, len, f) == len;

    if (f != NULL && fclose(f) != 0)
        ok = 0;
    return ok ? 0 : -1;
}

static void
done(struct openai_result *res, void *arg)
{
    struct run *r = arg;
    unsigned char *img;
    size_t len = 0;

    r->done = 1;
    printf("rc=%d\nerror=%s\nrefused=%d\nquota_exhausted=%d\n", res->rc,
           res->error, res->refused, res->quota_exhausted);
    printf("retry_after_ms=%lld\nhttp_status=%ld\nattempts=%d\n",
           (long long)res->retry_after_ms, res->http_status, res->attempts);
    printf("request_id=%s\nticks=%ld\n", res->request_id, r->ticks);
    printf("input_tokens=%lld\noutput_tokens=%lld\ntotal_tokens=%lld\n",
           res->usage.input_tokens, res->usage.output_tokens,
           res->usage.total_tokens);
    img = openai_result_take_image(res, &len);
    if (img != NULL) {
        printf("content_type=%s\nextension=%s\nwidth=%u\nheight=%u\n",
               res->info.content_type, res->info.extension, res->info.width,
               res->info.height);
        printf("image_len=%zu\n", len);
        if (write_file(r->out, img, len) != 0)
            printf("write_error=1\n");
        free(img);
    }
    fflush(stdout);
    finish(r);
}

static void
on_tick(uv_timer_t *t)
{
    struct run *r = t->data;

    r->ticks++;
}

static void
on_stop(uv_timer_t *t)
{
    struct run *r = t->data;

    if (r->close_engine) {
        /* every request completes inside http_close(): done() runs */
        http_close(r->http, NULL, NULL);
        return;
    }
    openai_cancel(r->gen);
    r->gen = NULL;
    printf("cancelled=1\nticks=%ld\n", r->ticks);
    fflush(stdout);
    finish(r);
}

/* The string options, by the name used on the command line. */
static const struct {
    const char *name;
    size_t off;
} str_opts[] = {
    {"base_url", offsetof(struct openai_opts, base_url)},
    {"key_ref", offsetof(struct openai_opts, api_key_ref)},
    {"model", offsetof(struct openai_opts, model)},
    {"size", offsetof(struct openai_opts, size)},
    {"quality", offsetof(struct openai_opts, quality)},
    {"format", offsetof(struct openai_opts, output_format)},
    {"organization", offsetof(struct openai_opts, organization)},
    {"project", offsetof(struct openai_opts, project)},
    {"job_id", offsetof(struct openai_opts, job_id)},
};

/* Also: compression, timeout_ms, prompt, cancel_after_ms, close_after_ms
 * (the last two stop the request that long after it started). */
static int
set_opt(struct openai_opts *o, const char *name, const char *v,
        const char **prompt, long *stop_ms, struct run *r)
{
    for (size_t i = 0; i < sizeof(str_opts) / sizeof(str_opts[0]); i++) {
        if (strcmp(name, str_opts[i].name) == 0) {
            *(const char **)((char *)o + str_opts[i].off) = v;
            return 0;
        }
    }
    if (strcmp(name, "compression") == 0)
        o->output_compression = atoi(v);
    else if (strcmp(name, "timeout_ms") == 0)
        o->timeout_ms = atol(v);
    else if (strcmp(name, "prompt") == 0)
        *prompt = v;
    else if (strcmp(name, "cancel_after_ms") == 0)
        *stop_ms = atol(v);
    else if (strcmp(name, "close_after_ms") == 0)
        *stop_ms = atol(v), r->close_engine = 1;
    else
        return -1;
    return 0;
}

int
main(int argc, char **argv)
{
    struct openai_opts o;
    struct run r = {0};
    const char *prompt = NULL, *level = getenv("SPOOKYD_LOG_LEVEL");
    long stop_ms = 0;
    uv_loop_t loop;

    openai_opts_init(&o);
    o.api_key = getenv("OPENAI_API_KEY");
    if (argc < 2)
        return 2;
    r.out = argv[1];
    for (int i = 2; i < argc; i++) {
        char *eq = strchr(argv[i], '=');

        if (eq == NULL)
            return 2;
        *eq = '\0';
        if (set_opt(&o, argv[i], eq + 1, &prompt, &stop_ms, &r) != 0) {
            fprintf(stderr, "openai_gen: unknown option %s\n", argv[i]);
            return 2;
        }
    }
    log_init(LOG_TARGET_STDERR);
    log_set_level(level ? log_level_parse(level) : LOG_INFO);
    if (uv_loop_init(&loop) != 0 || (r.http = http_new(&loop)) == NULL)
        return 1;
    uv_timer_init(&loop, &r.tick);
    uv_timer_init(&loop, &r.stop);
    r.tick.data = r.stop.data = &r;
    r.gen = openai_generate(r.http, &o, prompt, done, &r);
    if (r.gen == NULL) {
        printf("not_started=1\n");
        finish(&r);
    } else {
        uv_timer_start(&r.tick, on_tick, 10, 10);
        if (stop_ms > 0)
            uv_timer_start(&r.stop, on_stop, (uint64_t)stop_ms, 0);
    }
    uv_run(&loop, UV_RUN_DEFAULT);
    if (uv_loop_close(&loop) != 0) {
        fprintf(stderr, "openai_gen: handles left open\n");
        return 1;
    }
    return 0;
}
