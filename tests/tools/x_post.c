/*
 * x_post: runs one x/x.c operation against a server (the X stand-in in
 * tests) on a real uv loop and HTTP engine, prints its result as one JSON
 * line on stdout and logs to stderr at debug level.  Test driver only.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <uv.h>

#include "core/http.h"
#include "core/log.h"
#include "core/mem.h"
#include "x/x.h"

struct run {
    struct http *engine;
    struct x *x;
    struct x_op *op;
    uv_timer_t cancel_timer;
    int timer_used;
};

static void
usage(void)
{
    fprintf(stderr,
            "usage: x_post [--creds-ref REF] [--job-id ID] [--timeout-ms N]"
            " [--cancel-after-ms N]\n"
            "              BASE_URL CREDS_FILE COMMAND ARGS...\n"
            "  post IMAGE MEDIA_TYPE ALT TEXT | upload IMAGE MEDIA_TYPE |\n"
            "  metadata MEDIA_ID ALT | tweet TEXT [MEDIA_ID...]\n");
    exit(2);
}

static char *
slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    struct buf b;
    char chunk[65536];
    size_t n;

    if (f == NULL) {
        perror(path);
        exit(2);
    }
    buf_init(&b);
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
        buf_append(&b, chunk, n);
    fclose(f);
    *len = b.len;
    return buf_steal(&b);
}

static void
print_result(const struct x_result *r)
{
    static const char *const steps[] = {"upload", "metadata", "tweet"};
    json_t *o = json_pack(
        "{s:s, s:i, s:s, s:i, s:I, s:b, s:b, s:i, s:s, s:s, s:s}", "outcome",
        x_outcome_name(r->outcome), "rc", r->rc, "step", steps[r->step],
        "http_status", (int)r->http_status, "wait_ms", (json_int_t)r->wait_ms,
        "credits_depleted", r->credits_depleted, "auth_failed", r->auth_failed,
        "attempts", r->attempts, "media_id", r->media_id, "tweet_id",
        r->tweet_id, "err", r->err);
    char *s = json_dumps(o, JSON_COMPACT);

    printf("%s\n", s);
    fflush(stdout);
    free(s);
    json_decref(o);
}

static void
shut_down(struct run *run)
{
    x_free(run->x);
    run->x = NULL;
    if (run->timer_used)
        uv_close((uv_handle_t *)&run->cancel_timer, NULL);
    run->timer_used = 0;
    http_close(run->engine, NULL, NULL);
}

static void
done(const struct x_result *res, void *arg)
{
    struct run *run = arg;

    run->op = NULL;
    print_result(res);
    shut_down(run);
}

static void
cancel_now(uv_timer_t *t)
{
    struct run *run = t->data;

    x_op_cancel(run->op);
    run->op = NULL;
    printf("{\"outcome\":\"cancelled\"}\n");
    fflush(stdout);
    shut_down(run);
}

static struct x_op *
start(struct run *run, int argc, char **argv, const char *job_id,
      char err[ERR_LEN])
{
    const char *cmd = argv[0];
    size_t len = 0;
    char *image = NULL;
    struct x_op *op = NULL;

    if (strcmp(cmd, "post") == 0 && argc == 5) {
        struct x_post p = {NULL, 0, argv[2], argv[3], argv[4], job_id};

        p.image = image = slurp(argv[1], &len);
        p.image_len = len;
        op = x_post_image(run->x, &p, done, run, err);
    } else if (strcmp(cmd, "upload") == 0 && argc == 3) {
        image = slurp(argv[1], &len);
        op =
            x_media_upload(run->x, image, len, argv[2], job_id, done, run, err);
    } else if (strcmp(cmd, "metadata") == 0 && argc == 3) {
        op = x_media_metadata(run->x, argv[1], argv[2], job_id, done, run, err);
    } else if (strcmp(cmd, "tweet") == 0 && argc >= 2) {
        op = x_tweet(run->x, argv[1], (const char *const *)argv + 2,
                     (size_t)argc - 2, job_id, done, run, err);
    } else {
        usage();
    }
    free(image); /* the client copied it */
    return op;
}

int
main(int argc, char **argv)
{
    struct x_config cfg = {0};
    struct run run = {0};
    const char *job_id = NULL;
    long cancel_ms = -1;
    char err[ERR_LEN] = "", *json;
    struct x_creds *creds;
    uv_loop_t loop;
    size_t len;
    int i = 1, rc;

    for (; i + 1 < argc && strncmp(argv[i], "--", 2) == 0; i += 2) {
        if (strcmp(argv[i], "--creds-ref") == 0)
            cfg.creds_ref = argv[i + 1];
        else if (strcmp(argv[i], "--job-id") == 0)
            job_id = argv[i + 1];
        else if (strcmp(argv[i], "--timeout-ms") == 0)
            cfg.timeout_ms = cfg.upload_timeout_ms = atol(argv[i + 1]);
        else if (strcmp(argv[i], "--cancel-after-ms") == 0)
            cancel_ms = atol(argv[i + 1]);
        else
            usage();
    }
    if (argc - i < 3)
        usage();
    log_init(LOG_TARGET_STDERR);
    log_set_level(LOG_DEBUG);
    cfg.api_base_url = argv[i];
    json = slurp(argv[i + 1], &len);
    creds = x_creds_parse(json, err);
    mem_free_secret(json, len);
    if (creds == NULL) {
        json_t *o = json_pack("{s:s, s:s}", "outcome", "creds", "err", err);
        char *s = json_dumps(o, JSON_COMPACT);

        printf("%s\n", s);
        free(s);
        json_decref(o);
        return 3;
    }
    uv_loop_init(&loop);
    run.engine = http_new(&loop);
    run.x = x_new(&loop, run.engine, creds, &cfg, err);
    x_creds_free(creds);
    if (run.x != NULL)
        run.op = start(&run, argc - i - 2, argv + i + 2, job_id, err);
    if (run.op == NULL) {
        json_t *o = json_pack("{s:s, s:s}", "outcome", "refused", "err", err);
        char *s = json_dumps(o, JSON_COMPACT);

        printf("%s\n", s);
        free(s);
        json_decref(o);
        shut_down(&run);
    } else if (cancel_ms >= 0) {
        uv_timer_init(&loop, &run.cancel_timer);
        run.cancel_timer.data = &run;
        run.timer_used = 1;
        uv_timer_start(&run.cancel_timer, cancel_now, (uint64_t)cancel_ms, 0);
    }
    uv_run(&loop, UV_RUN_DEFAULT);
    rc = uv_loop_close(&loop);
    if (rc != 0) {
        fprintf(stderr, "x_post: handles left open: %s\n", uv_strerror(rc));
        return 4;
    }
    return 0;
}
