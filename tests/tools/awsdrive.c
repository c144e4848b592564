/*
 * awsdrive: runs aws_call() and secrets_get() on a real loop for the
 * process tests.  Reads one command per line on stdin, a JSON array of
 * strings, and answers each with one JSON line on stdout; logs go to
 * stderr.  Settings come from the usual AWS_* environment
 * (AWSDRIVE_FAST_RETRY=1: 10 ms backoff bases; AWSDRIVE_LOG=debug).
 *
 *   ["secret", ID]                   GetSecretValue
 *   ["json", SERVICE, TARGET, BODY]  POST / with X-Amz-Target (dynamodb,
 *                                    secretsmanager)
 *   ["s3", METHOD, BUCKET, KEY, BODY?]  one S3 request
 *   ["parallel", N, COMMAND...]      N copies at once; answers in a list
 *   ["timeout", MS]                  whole-attempt timeout of later calls
 *   ["state"]                        region and clock offset
 *   quit                             (also end of input)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <uv.h>

#include "aws/aws.h"
#include "aws/secrets.h"
#include "core/http.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/retry.h"

#define MAX_PARALLEL 64

static uv_loop_t *loop;
static uv_pipe_t in;
static struct buf input;
static struct http *http;
static struct aws *aws;
static long timeout_ms;
static int busy, eof;
static json_t *results; /* answers of the command running */
static json_t *command; /* the command running: calls borrow its body */
static int pending;

static struct retry_policy fast_policy;

static void next_command(void);

static void
emit(json_t *obj)
{
    char *s = json_dumps(obj, JSON_COMPACT | JSON_SORT_KEYS);

    printf("%s\n", s);
    fflush(stdout);
    free(s);
    json_decref(obj);
}

/* One answer arrived; the command is done when all have. */
static void
answer(json_t *obj)
{
    json_array_append_new(results, obj);
    if (--pending > 0)
        return;
    if (json_array_size(results) == 1)
        emit(json_incref(json_array_get(results, 0)));
    else
        emit(json_incref(results));
    json_decref(results);
    results = NULL;
    json_decref(command);
    command = NULL;
    busy = 0;
    next_command();
}

static void
secret_done(int rc, const char *value, size_t len, const char *err, void *arg)
{
    json_t *obj = json_pack("{s:i, s:s}", "rc", rc, "err", err);
    char *hex = mem_alloc(2 * len + 1);

    (void)arg;
    for (size_t i = 0; i < len; i++)
        snprintf(hex + 2 * i, 3, "%02x", (unsigned char)value[i]);
    hex[2 * len] = '\0';
    json_object_set_new(obj, "value_hex", json_string(hex));
    /* NULL (left out) when the value is not UTF-8. */
    json_object_set_new(obj, "value", json_stringn(value ? value : "", len));
    free(hex);
    answer(obj);
}

static void
call_done(const struct aws_result *res, void *arg)
{
    const char *crc = aws_result_header(res, "x-amz-crc32");

    (void)arg;
    answer(json_pack("{s:i, s:i, s:s, s:s, s:s, s:i, s:s, s:s%, s:i, s:s?}",
                     "rc", res->rc, "status", (int)res->status, "code",
                     res->code, "message", res->message, "request_id",
                     res->request_id, "attempts", res->attempts, "err",
                     res->err, "body", buf_str(res->body), res->body->len,
                     "offset", (int)aws_clock_offset(aws), "crc32", crc));
}

static void
fail_now(const char *err)
{
    answer(json_pack("{s:i, s:s}", "rc", ERR_FAIL, "err", err));
}

static enum aws_service
service_of(const char *name)
{
    if (strcmp(name, "s3") == 0)
        return AWS_S3;
    if (strcmp(name, "dynamodb") == 0)
        return AWS_DYNAMODB;
    return AWS_SECRETSMANAGER;
}

/* Start one JSON-protocol call; argv: SERVICE TARGET BODY. */
static void
start_json(char **argv, int argc)
{
    struct aws_header h[2];
    struct aws_request r = {0};
    char err[ERR_LEN];

    if (argc < 3) {
        fail_now("usage: json SERVICE TARGET BODY");
        return;
    }
    r.service = service_of(argv[0]);
    h[0].name = "Content-Type";
    h[0].value = r.service == AWS_DYNAMODB ? "application/x-amz-json-1.0"
                                           : "application/x-amz-json-1.1";
    h[1].name = "X-Amz-Target";
    h[1].value = argv[1];
    r.method = "POST";
    r.headers = h;
    r.n_headers = 2;
    r.body = argv[2];
    r.body_len = strlen(argv[2]);
    r.timeout_ms = timeout_ms;
    if (aws_call(aws, &r, call_done, NULL, err) == NULL)
        fail_now(err);
}

/* argv: METHOD BUCKET KEY [BODY] */
static void
start_s3(char **argv, int argc)
{
    struct aws_request r = {0};
    struct log_ctx ctx = {0};
    char err[ERR_LEN];

    if (argc < 3) {
        fail_now("usage: s3 METHOD BUCKET KEY [BODY]");
        return;
    }
    r.service = AWS_S3;
    r.method = argv[0];
    r.bucket = argv[1];
    r.key = argv[2];
    ctx.s3_key = argv[2];
    r.log = &ctx;
    if (argc > 3) {
        r.body = argv[3];
        r.body_len = strlen(argv[3]);
    }
    r.timeout_ms = timeout_ms;
    if (aws_call(aws, &r, call_done, NULL, err) == NULL)
        fail_now(err);
}

static void
start_one(char **argv, int argc)
{
    char err[ERR_LEN];

    if (strcmp(argv[0], "secret") == 0 && argc == 2) {
        if (secrets_get(aws, argv[1], secret_done, NULL, err) == NULL)
            fail_now(err);
    } else if (strcmp(argv[0], "json") == 0) {
        start_json(argv + 1, argc - 1);
    } else if (strcmp(argv[0], "s3") == 0) {
        start_s3(argv + 1, argc - 1);
    } else {
        fail_now("unknown command");
    }
}

/* Run one command: a JSON array of strings. */
static void
run_line(const char *line)
{
    json_t *cmd = json_loads(line, 0, NULL);
    char *argv[8];
    int argc = 0, copies = 1, skip = 0;

    for (size_t i = 0;
         json_is_array(cmd) && i < json_array_size(cmd) && argc < 8; i++)
        argv[argc++] = (char *)json_string_value(json_array_get(cmd, i));
    for (int i = 0; i < argc; i++)
        if (argv[i] == NULL)
            argc = 0;
    if (argc == 0) {
        emit(json_pack("{s:i, s:s}", "rc", ERR_FAIL, "err",
                       "commands are JSON arrays of strings"));
    } else if (strcmp(argv[0], "timeout") == 0 && argc == 2) {
        timeout_ms = atol(argv[1]);
        emit(json_pack("{s:i}", "rc", 0));
    } else if (strcmp(argv[0], "state") == 0) {
        emit(json_pack("{s:s?, s:i}", "region", aws_region(aws), "offset",
                       (int)aws_clock_offset(aws)));
    } else {
        command = json_incref(cmd);
        if (strcmp(argv[0], "parallel") == 0 && argc > 2) {
            copies = atoi(argv[1]);
            if (copies < 1 || copies > MAX_PARALLEL)
                copies = 1;
            skip = 2;
        }
        busy = 1;
        results = json_array();
        pending = copies;
        /* aws_call() copies what it needs: argv may go after this. */
        for (int i = 0; i < copies; i++)
            start_one(argv + skip, argc - skip);
    }
    json_decref(cmd);
}

static void
finish(void)
{
    uv_close((uv_handle_t *)&in, NULL);
    aws_free(aws);
    aws = NULL;
    http_close(http, NULL, NULL);
}

static void
next_command(void)
{
    char *nl;

    while (!busy && aws != NULL &&
           (nl = memchr(input.data ? input.data : "", '\n', input.len))) {
        size_t n = (size_t)(nl - input.data) + 1;
        char *line = mem_strndup(input.data, n - 1);

        memmove(input.data, input.data + n, input.len - n);
        input.len -= n;
        input.data[input.len] = '\0';
        if (strcmp(line, "quit") == 0)
            eof = 1;
        else
            run_line(line);
        free(line);
        if (eof)
            break;
    }
    if (!busy && eof && aws != NULL)
        finish();
}

static void
alloc_cb(uv_handle_t *h, size_t suggested, uv_buf_t *b)
{
    (void)h;
    buf_reserve(&input, suggested);
    b->base = input.data + input.len;
    b->len = suggested;
}

static void
read_cb(uv_stream_t *s, ssize_t n, const uv_buf_t *b)
{
    (void)b;
    if (n < 0) {
        uv_read_stop(s);
        eof = 1;
    } else {
        input.len += (size_t)n;
        input.data[input.len] = '\0';
    }
    next_command();
}

int
main(void)
{
    struct aws_settings s = {0};
    char err[ERR_LEN];
    const char *lvl = getenv("AWSDRIVE_LOG");

    log_init(LOG_TARGET_STDERR);
    log_set_level(lvl ? log_level_parse(lvl) : LOG_INFO);
    loop = uv_default_loop();
    http = http_new(loop);
    if (getenv("AWSDRIVE_FAST_RETRY") != NULL) {
        fast_policy = retry_policy_aws;
        fast_policy.transient_base_ms = 10;
        fast_policy.throttle_base_ms = 10;
        fast_policy.server_max_ms = 2000;
        for (int i = 0; i < ENDPOINT_N_SERVICES; i++)
            s.policy[i] = &fast_policy;
    }
    s.s3_path_style = getenv("AWSDRIVE_PATH_STYLE") != NULL;
    aws = aws_new(loop, http, &s, err);
    if (http == NULL || aws == NULL) {
        printf("{\"rc\":-2,\"err\":\"%s\"}\n", err);
        http_free(http);
        uv_run(loop, UV_RUN_DEFAULT);
        return 1;
    }
    buf_init(&input);
    buf_reserve(&input, 1);
    uv_pipe_init(loop, &in, 0);
    uv_pipe_open(&in, 0);
    uv_read_start((uv_stream_t *)&in, alloc_cb, read_cb);
    uv_run(loop, UV_RUN_DEFAULT);
    buf_cleanup(&input);
    uv_loop_close(loop);
    return 0;
}
