/*
 * Tests for core/http.c against tests/lib/http_test_server.py, started
 * here on 127.0.0.1 (it prints its port).  Every test runs a real uv loop
 * and checks what the server saw or reports; none asserts on elapsed time.
 * http.c is included to reach the static URL helper.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cmocka.h>
#include <fcntl.h>
#include <time.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <unistd.h>

#include "core/http.c"
#include "core/log.h"
#include "core/retry.h"

extern char **environ;

static pid_t server_pid;
static int server_stdin = -1;
static int server_port;

/* ---- the server ---- */

static int
server_start(void **state)
{
    const char *top = getenv("SPOOKYD_TOP");
    char script[4096], line[64] = "";
    char *argv[] = {"/usr/bin/python3", script, NULL};
    posix_spawn_file_actions_t fa;
    int in[2], out[2];
    FILE *f;

    (void)state;
    /* Loopback must not go through a proxy taken from the environment. */
    unsetenv("http_proxy");
    unsetenv("HTTP_PROXY");
    unsetenv("all_proxy");
    unsetenv("ALL_PROXY");
    snprintf(script, sizeof(script), "%s/tests/lib/http_test_server.py",
             top != NULL ? top : ".");
    if (pipe2(in, O_CLOEXEC) != 0 || pipe2(out, O_CLOEXEC) != 0)
        return -1;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, in[0], 0);
    posix_spawn_file_actions_adddup2(&fa, out[1], 1);
    if (posix_spawn(&server_pid, argv[0], &fa, NULL, argv, environ) != 0)
        return -1;
    posix_spawn_file_actions_destroy(&fa);
    close(in[0]);
    close(out[1]);
    server_stdin = in[1];
    f = fdopen(out[0], "r");
    if (f == NULL || fgets(line, sizeof(line), f) == NULL ||
        sscanf(line, "PORT %d", &server_port) != 1) {
        fprintf(stderr, "test server did not start: '%s'\n", line);
        return -1;
    }
    fclose(f);
    return 0;
}

static int
server_stop(void **state)
{
    int status;

    (void)state;
    close(server_stdin); /* the server exits when its stdin closes */
    kill(server_pid, SIGTERM);
    waitpid(server_pid, &status, 0);
    return 0;
}

/* ---- fixtures and helpers ---- */

struct fx {
    uv_loop_t loop;
    struct http *h;
};

static int
fx_setup(void **state)
{
    struct fx *fx = mem_calloc(1, sizeof(*fx));

    assert_int_equal(uv_loop_init(&fx->loop), 0);
    fx->h = http_new(&fx->loop);
    assert_non_null(fx->h);
    *state = fx;
    return 0;
}

static void
count_closed(void *arg)
{
    (*(int *)arg)++;
}

static int
fx_teardown(void **state)
{
    struct fx *fx = *state;
    int closed = 0;

    http_close(fx->h, count_closed, &closed);
    assert_int_equal(uv_run(&fx->loop, UV_RUN_DEFAULT), 0);
    assert_int_equal(closed, 1);
    assert_int_equal(uv_loop_close(&fx->loop), 0); /* no handle left */
    free(fx);
    return 0;
}

/* One finished attempt, as the test saw it. */
struct result {
    int done;
    struct http_resp *resp;
};

static void
on_done(struct http_req *req, struct http_resp *resp, void *arg)
{
    struct result *r = arg;

    (void)req;
    r->done++;
    r->resp = resp;
}

static struct http_req *mkreq(const char *method, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* New request for a path on the test server. */
static struct http_req *
mkreq(const char *method, const char *fmt, ...)
{
    char url[512];
    int n = snprintf(url, sizeof(url), "http://127.0.0.1:%d", server_port);
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(url + n, sizeof(url) - (size_t)n, fmt, ap);
    va_end(ap);
    return http_req_new(method, url);
}

/* Run the loop until *flag is set; fail if the loop runs dry first. */
static void
run_until(uv_loop_t *loop, const int *flag)
{
    while (!*flag)
        if (uv_run(loop, UV_RUN_ONCE) == 0 && !*flag)
            fail_msg("loop ran out of work before the test's event");
}

/* Start req, wait for it, return the response (req still owns it). */
static struct http_resp *
perform(struct fx *fx, struct http_req *req, struct result *r)
{
    memset(r, 0, sizeof(*r));
    assert_non_null(req);
    assert_int_equal(http_start(fx->h, req, on_done, r), 0);
    assert_true(http_req_busy(req));
    run_until(&fx->loop, &r->done);
    assert_int_equal(r->done, 1);
    assert_false(http_req_busy(req));
    return r->resp;
}

static json_t *
body_json(const struct http_resp *resp)
{
    json_error_t je;
    json_t *j = json_loadb(resp->body.data, resp->body.len, 0, &je);

    if (j == NULL)
        fail_msg("bad JSON from server: %s", je.text);
    return j;
}

/* Value of the request header name the echo server received, or NULL. */
static const char *
echoed_header(json_t *echo, const char *name)
{
    size_t i;
    json_t *pair;

    json_array_foreach(json_object_get(echo, "headers"), i, pair)
    {
        if (strcasecmp(json_string_value(json_array_get(pair, 0)), name) ==
            0)
            return json_string_value(json_array_get(pair, 1));
    }
    return NULL;
}

/* GET /stats, optionally waiting until counter key reaches min. */
static json_t *
server_stats(struct fx *fx, const char *key, long min)
{
    struct http_req *req =
        key ? mkreq("GET", "/stats?wait=%s&min=%ld", key, min)
            : mkreq("GET", "/stats");
    struct result r;
    json_t *j = body_json(perform(fx, req, &r));

    http_req_free(req);
    return j;
}

static long
stat_long(json_t *stats, const char *key)
{
    return (long)json_integer_value(json_object_get(stats, key));
}

/* ---- requests and what the server received ---- */

static void
test_get_headers_echoed(void **state)
{
    struct fx *fx = *state;
    struct http_req *req = mkreq("GET", "/echo?a=1&b=two");
    struct http_resp *resp;
    struct result r;
    json_t *echo;

    assert_int_equal(http_req_add_header(req, "X-Test: hello world"), 0);
    assert_int_equal(http_req_add_header(req, "Authorization: Bearer k"), 0);
    resp = perform(fx, req, &r);
    assert_int_equal(resp->curl_code, CURLE_OK);
    assert_int_equal(resp->status, 200);
    assert_string_equal(resp->error, "");
    echo = body_json(resp);
    assert_string_equal(json_string_value(json_object_get(echo, "method")),
                        "GET");
    assert_string_equal(json_string_value(json_object_get(echo, "query")),
                        "a=1&b=two");
    assert_string_equal(echoed_header(echo, "x-test"), "hello world");
    assert_string_equal(echoed_header(echo, "authorization"), "Bearer k");
    assert_non_null(strstr(echoed_header(echo, "user-agent"), "spookyd/"));
    assert_null(echoed_header(echo, "expect"));
    assert_null(echoed_header(echo, "accept-encoding"));
    assert_null(echoed_header(echo, "content-length"));
    json_decref(echo);
    http_req_free(req);
}

static void
test_put_binary_body_exact(void **state)
{
    struct fx *fx = *state;
    static const char body[] = "bin\0ary\r\n\xff body";
    struct http_req *req = mkreq("PUT", "/echo");
    struct result r;
    char hex[2 * sizeof(body) + 1];
    json_t *echo;

    for (size_t i = 0; i < sizeof(body) - 1; i++)
        snprintf(hex + 2 * i, 3, "%02x", (unsigned char)body[i]);
    assert_int_equal(http_req_add_header(req, "Content-Type: image/png"), 0);
    http_req_set_body(req, body, sizeof(body) - 1);
    echo = body_json(perform(fx, req, &r));
    assert_string_equal(json_string_value(json_object_get(echo, "method")),
                        "PUT");
    assert_string_equal(
        json_string_value(json_object_get(echo, "body_hex")), hex);
    assert_string_equal(echoed_header(echo, "content-type"), "image/png");
    assert_null(echoed_header(echo, "expect"));
    json_decref(echo);
    http_req_free(req);
}

static void
test_put_3mb_upload(void **state)
{
    struct fx *fx = *state;
    size_t len = 3u << 20;
    unsigned char *img = mem_alloc(len), md[32];
    char hex[65];
    struct http_req *req = mkreq("PUT", "/echo");
    struct result r;
    json_t *echo;
    uint32_t x = 2463534242u;

    for (size_t i = 0; i < len; i++) { /* xorshift: varied bytes */
        x ^= x << 13, x ^= x >> 17, x ^= x << 5;
        img[i] = (unsigned char)x;
    }
    assert_int_equal(EVP_Digest(img, len, md, NULL, EVP_sha256(), NULL), 1);
    for (int i = 0; i < 32; i++)
        snprintf(hex + 2 * i, 3, "%02x", md[i]);
    http_req_add_header(req, "Content-Type: image/png");
    http_req_take_body(req, img, len);
    echo = body_json(perform(fx, req, &r));
    assert_int_equal(json_integer_value(json_object_get(echo, "body_len")),
                     len);
    assert_string_equal(
        json_string_value(json_object_get(echo, "body_sha256")), hex);
    assert_null(echoed_header(echo, "expect"));
    assert_string_equal(echoed_header(echo, "content-length"), "3145728");
    json_decref(echo);
    http_req_free(req);
}

static void
test_post_put_delete_head(void **state)
{
    struct fx *fx = *state;
    struct http_req *req = mkreq("POST", "/echo");
    struct result r;
    json_t *echo;

    http_req_take_body(req, mem_strdup("{\"a\":1}"), 7);
    echo = body_json(perform(fx, req, &r));
    assert_string_equal(json_string_value(json_object_get(echo, "method")),
                        "POST");
    assert_string_equal(echoed_header(echo, "content-length"), "7");
    /* no body type given: none sent (not curl's form default) */
    assert_null(echoed_header(echo, "content-type"));
    json_decref(echo);
    http_req_free(req);

    req = mkreq("PUT", "/echo"); /* PUT without a body */
    echo = body_json(perform(fx, req, &r));
    assert_string_equal(echoed_header(echo, "content-length"), "0");
    json_decref(echo);
    http_req_free(req);

    req = mkreq("DELETE", "/echo");
    echo = body_json(perform(fx, req, &r));
    assert_string_equal(json_string_value(json_object_get(echo, "method")),
                        "DELETE");
    json_decref(echo);
    http_req_free(req);

    req = mkreq("HEAD", "/echo");
    assert_int_equal(perform(fx, req, &r)->status, 200);
    assert_int_equal(r.resp->curl_code, CURLE_OK);
    assert_int_equal(r.resp->body.len, 0);
    http_req_free(req);
}

/* ---- concurrency and reuse ---- */

#define N_CONCURRENT 16

static void
test_concurrent_requests_overlap(void **state)
{
    struct fx *fx = *state;
    struct http_req *reqs[N_CONCURRENT];
    struct result res[N_CONCURRENT];
    int done = 0;

    memset(res, 0, sizeof(res));
    for (int i = 0; i < N_CONCURRENT; i++) {
        reqs[i] = mkreq("GET", "/barrier?n=%d&group=overlap", N_CONCURRENT);
        assert_int_equal(http_start(fx->h, reqs[i], on_done, &res[i]), 0);
    }
    while (done < N_CONCURRENT) {
        int alive = uv_run(&fx->loop, UV_RUN_ONCE);

        done = 0;
        for (int i = 0; i < N_CONCURRENT; i++)
            done += res[i].done;
        if (!alive && done < N_CONCURRENT)
            fail_msg("loop ran dry with %d of %d done", done, N_CONCURRENT);
    }
    /* The server held every request until all were inside at once. */
    for (int i = 0; i < N_CONCURRENT; i++) {
        json_t *j = body_json(res[i].resp);

        assert_int_equal(res[i].resp->status, 200);
        assert_int_equal(json_integer_value(json_object_get(j, "max")),
                         N_CONCURRENT);
        json_decref(j);
        http_req_free(reqs[i]);
    }
}

static void
test_connection_reused(void **state)
{
    struct fx *fx = *state;
    struct http_req *req = mkreq("GET", "/echo");
    struct result r;
    json_int_t port1, port2;
    json_t *echo;

    echo = body_json(perform(fx, req, &r));
    port1 = json_integer_value(json_object_get(echo, "peer_port"));
    json_decref(echo);
    echo = body_json(perform(fx, req, &r)); /* same request, again */
    port2 = json_integer_value(json_object_get(echo, "peer_port"));
    json_decref(echo);
    assert_true(port1 > 0);
    assert_int_equal(port1, port2);
    http_req_free(req);
}

/* ---- failures ---- */

static void
test_total_timeout_on_stall(void **state)
{
    struct fx *fx = *state;
    struct http_req *req = mkreq("GET", "/stall?ms=5000");
    struct retry_outcome o = {0};
    struct result r;

    http_req_set_timeouts(req, 0, 300);
    perform(fx, req, &r);
    assert_int_equal(r.resp->curl_code, CURLE_OPERATION_TIMEDOUT);
    assert_int_equal(r.resp->status, 200); /* headers had arrived */
    assert_int_equal(r.resp->body.len, 10);
    assert_string_not_equal(r.resp->error, "");
    o.curl_code = r.resp->curl_code;
    o.status = r.resp->status;
    assert_int_equal(retry_classify(&o), RETRY_TRANSIENT);
    http_req_free(req);
}

static void
test_low_speed_limit(void **state)
{
    struct fx *fx = *state;
    struct http_req *req = mkreq("GET", "/stall?ms=5000");
    struct result r;

    http_req_set_low_speed(req, 1000, 1);
    perform(fx, req, &r);
    assert_int_equal(r.resp->curl_code, CURLE_OPERATION_TIMEDOUT);
    assert_non_null(strstr(r.resp->error, "Less than 1000 bytes/sec"));
    http_req_free(req);
}

static void
test_connect_refused(void **state)
{
    struct fx *fx = *state;
    struct sockaddr_in sa = {.sin_family = AF_INET};
    socklen_t sl = sizeof(sa);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct http_req *req;
    char url[64];
    struct result r;

    /* a port that was just free and nobody listens on */
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &sl), 0);
    close(fd);
    snprintf(url, sizeof(url), "http://127.0.0.1:%d/", ntohs(sa.sin_port));
    req = http_req_new("GET", url);
    perform(fx, req, &r);
    assert_int_equal(r.resp->curl_code, CURLE_COULDNT_CONNECT);
    assert_int_equal(r.resp->status, 0);
    http_req_free(req);
}

static void
test_reset_mid_body(void **state)
{
    struct fx *fx = *state;
    struct http_req *req = mkreq("GET", "/reset");
    struct retry_outcome o = {0};
    struct result r;

    perform(fx, req, &r);
    assert_int_equal(r.resp->curl_code, CURLE_RECV_ERROR);
    assert_non_null(strstr(r.resp->error, "reset"));
    o.curl_code = r.resp->curl_code;
    assert_int_equal(retry_classify(&o), RETRY_TRANSIENT);
    http_req_free(req);
}

static void
test_truncated_body(void **state)
{
    struct fx *fx = *state;
    struct http_req *req = mkreq("GET", "/truncated");
    struct result r;

    perform(fx, req, &r);
    assert_int_equal(r.resp->curl_code, CURLE_PARTIAL_FILE);
    assert_int_equal(r.resp->status, 200);
    assert_int_equal(r.resp->body.len, 100);
    http_req_free(req);
}

static void
test_size_cap_streamed(void **state)
{
    struct fx *fx = *state;
    size_t cap = 1u << 20, total = 64u << 20;
    struct http_req *req = mkreq("GET", "/big?n=%zu&chunked=1", total);
    struct result r;
    json_t *stats, *big;
    char want[64];

    http_req_set_max_response(req, cap);
    perform(fx, req, &r);
    assert_int_equal(r.resp->curl_code, CURLE_FILESIZE_EXCEEDED);
    snprintf(want, sizeof(want), "%zu-byte limit", cap);
    assert_non_null(strstr(r.resp->error, want));
    assert_true(r.resp->body.len <= cap);
    http_req_free(req);
    /* The server could not push the whole body: the transfer was cut. */
    stats = server_stats(fx, "big", 1);
    big = json_array_get(json_object_get(stats, "big"), 0);
    assert_int_equal(json_integer_value(json_object_get(big, "total")),
                     total);
    assert_true(json_integer_value(json_object_get(big, "sent")) <
                (json_int_t)total / 2);
    json_decref(stats);
}

static void
test_size_cap_declared_and_boundary(void **state)
{
    struct fx *fx = *state;
    size_t cap = 1u << 20;
    struct http_req *req = mkreq("GET", "/big?n=%zu", cap + 1);
    struct result r;

    http_req_set_max_response(req, cap);
    perform(fx, req, &r);
    assert_int_equal(r.resp->curl_code, CURLE_FILESIZE_EXCEEDED);
    assert_int_equal(r.resp->body.len, 0); /* refused before any byte */
    assert_non_null(strstr(r.resp->error, "limit"));
    http_req_free(req);

    req = mkreq("GET", "/big?n=%zu&chunked=1", cap); /* exactly the cap */
    http_req_set_max_response(req, cap);
    perform(fx, req, &r);
    assert_int_equal(r.resp->curl_code, CURLE_OK);
    assert_int_equal(r.resp->body.len, cap);
    http_req_free(req);
}

static void
test_header_cap(void **state)
{
    struct fx *fx = *state;
    struct http_req *req = mkreq("GET", "/bigheaders?n=80");
    struct result r;

    perform(fx, req, &r);
    assert_int_equal(r.resp->curl_code, CURLE_FILESIZE_EXCEEDED);
    assert_string_equal(r.resp->error, "response headers larger than "
                                       "65536 bytes");
    http_req_free(req);

    req = mkreq("GET", "/bigheaders?n=50"); /* 50 kB: fine */
    perform(fx, req, &r);
    assert_int_equal(r.resp->curl_code, CURLE_OK);
    assert_int_equal(strlen(http_resp_header(r.resp, "x-fill-49")), 1000);
    http_req_free(req);
}

/* ---- response headers ---- */

static void
test_503_retry_after(void **state)
{
    struct fx *fx = *state;
    struct http_req *req =
        mkreq("GET", "/status?code=503&h=Retry-After:7&body=busy");
    struct retry_outcome o = {0};
    struct retry_state st;
    uint64_t ms = 0, delay = 0;
    char err[ERR_LEN];
    struct result r;

    perform(fx, req, &r);
    assert_int_equal(r.resp->curl_code, CURLE_OK);
    assert_int_equal(r.resp->status, 503);
    assert_string_equal(r.resp->body.data, "busy");
    assert_int_equal(http_resp_retry_after_ms(r.resp, 0, &ms), 0);
    assert_int_equal(ms, 7000);
    o.status = r.resp->status;
    retry_state_init(&st);
    assert_int_equal(retry_next(&retry_policy_api, NULL, &st, &o, 0.5,
                                (int64_t)ms, &delay, err),
                     0);
    assert_int_equal(delay, 7000);
    http_req_free(req);

    req = mkreq("GET", "/status?code=429&h=retry-after-ms:1500.2"
                       "&h=Retry-After:9");
    perform(fx, req, &r);
    assert_int_equal(http_resp_retry_after_ms(r.resp, 0, &ms), 0);
    assert_int_equal(ms, 1501); /* the ms header wins, rounded up */
    http_req_free(req);

    req = mkreq("GET", "/status?code=200");
    perform(fx, req, &r);
    assert_int_equal(http_resp_retry_after_ms(r.resp, 0, &ms), ERR_FAIL);
    http_req_free(req);
}

static void
test_header_lookup(void **state)
{
    struct fx *fx = *state;
    struct http_req *req = mkreq("GET", "/headers");
    struct result r;
    time_t date;

    perform(fx, req, &r);
    assert_string_equal(http_resp_header(r.resp, "x-amz-request-id"),
                        "req-123");
    assert_string_equal(http_resp_header(r.resp, "X-AMZ-REQUEST-ID"),
                        "req-123");
    assert_string_equal(http_resp_header(r.resp, "Content-Type"),
                        "text/plain");
    assert_string_equal(http_resp_header(r.resp, "x-multi"), "one");
    assert_string_equal(http_resp_header(r.resp, "x-padded"),
                        "padded value");
    assert_string_equal(http_resp_header(r.resp, "x-folded"),
                        "first second");
    assert_string_equal(http_resp_header(r.resp, "content-length"), "2");
    assert_null(http_resp_header(r.resp, "x-amz-request"));
    assert_null(http_resp_header(r.resp, "HTTP/1.1 200 OK"));
    assert_int_equal(http_resp_date(r.resp, &date), 0);
    assert_int_equal(date,
                     atol(http_resp_header(r.resp, "x-date-epoch")));
    http_req_free(req);
}

/* ---- cancel, shutdown, retries on the loop, loop liveness ---- */

static void
never_called(struct http_req *req, struct http_resp *resp, void *arg)
{
    (void)req, (void)resp, (void)arg;
    fail_msg("callback of a cancelled request ran");
}

static void
test_cancel_in_flight(void **state)
{
    struct fx *fx = *state;
    struct http_req *hang = mkreq("GET", "/hang");
    long closed_before, started_before;
    json_t *stats;

    stats = server_stats(fx, NULL, 0);
    closed_before = stat_long(stats, "hang_closed");
    started_before = stat_long(stats, "hang_started");
    json_decref(stats);
    assert_int_equal(http_start(fx->h, hang, never_called, NULL), 0);
    /* this returns once the server has the hanging request */
    json_decref(server_stats(fx, "hang_started", started_before + 1));
    http_cancel(hang);
    assert_false(http_req_busy(hang));
    stats = server_stats(fx, "hang_closed", closed_before + 1);
    assert_int_equal(stat_long(stats, "hang_closed"), closed_before + 1);
    json_decref(stats);
    http_cancel(hang); /* idle: no-op */

    /* a waiting (delayed) attempt cancels too, and frees with the req */
    assert_int_equal(
        http_start_after(fx->h, hang, 60000, never_called, NULL), 0);
    assert_true(http_req_busy(hang));
    http_req_free(hang);
}

struct aborted {
    int count;
    CURLcode code;
    char error[CURL_ERROR_SIZE];
};

static void
on_aborted(struct http_req *req, struct http_resp *resp, void *arg)
{
    struct aborted *a = arg;

    a->count++;
    a->code = resp->curl_code;
    snprintf(a->error, sizeof(a->error), "%s", resp->error);
    http_req_free(req); /* allowed inside the callback */
}

static void
test_shutdown_with_requests_in_flight(void **state)
{
    struct fx *fx = *state;
    struct aborted a = {0};
    struct http *h = http_new(&fx->loop);
    struct http_req *extra;
    long started, closed;
    json_t *stats;

    stats = server_stats(fx, NULL, 0);
    started = stat_long(stats, "hang_started");
    closed = stat_long(stats, "hang_closed");
    json_decref(stats);
    for (int i = 0; i < 3; i++)
        assert_int_equal(http_start(h, mkreq("GET", "/hang"), on_aborted, &a),
                         0);
    assert_int_equal(http_start_after(h, mkreq("GET", "/echo"), 60000,
                                      on_aborted, &a),
                     0);
    json_decref(server_stats(fx, "hang_started", started + 3));
    http_free(h); /* the second engine; fx->h stays */
    assert_int_equal(a.count, 4);
    assert_int_equal(a.code, CURLE_ABORTED_BY_CALLBACK);
    assert_string_equal(a.error, "HTTP engine shut down");
    extra = mkreq("GET", "/echo");
    assert_int_equal(http_start(h, extra, on_aborted, &a), ERR_FAIL);
    http_req_free(extra);
    /* the server saw all three connections go away */
    stats = server_stats(fx, "hang_closed", closed + 3);
    assert_int_equal(stat_long(stats, "hang_closed"), closed + 3);
    json_decref(stats);
}

struct flaky {
    struct http *h;
    struct retry_state st;
    struct retry_quota q;
    int done, rc;
    char err[ERR_LEN];
};

static void
on_flaky(struct http_req *req, struct http_resp *resp, void *arg)
{
    struct flaky *f = arg;
    struct retry_outcome o = {resp->curl_code, resp->status, NULL, NULL, 0};
    uint64_t server = 0, delay;

    if (resp->curl_code == CURLE_OK && resp->status == 200) {
        retry_success(&f->q, &f->st);
        f->done = 1;
        return;
    }
    assert_int_equal(http_resp_retry_after_ms(resp, time(NULL), &server), 0);
    f->rc = retry_next(&retry_policy_aws, &f->q, &f->st, &o, retry_random(),
                       (int64_t)server, &delay, f->err);
    if (f->rc != 0) {
        f->done = 1;
        return;
    }
    assert_true(delay <= 50 * 2);
    assert_int_equal(http_start_after(f->h, req, delay, on_flaky, f), 0);
}

static void
test_retry_on_the_loop(void **state)
{
    struct fx *fx = *state;
    struct flaky f = {.h = fx->h};
    struct http_req *req = mkreq("GET", "/flaky?key=k1&fail=2");
    json_t *j;

    retry_state_init(&f.st);
    retry_quota_init(&f.q, 0);
    assert_int_equal(http_start(fx->h, req, on_flaky, &f), 0);
    run_until(&fx->loop, &f.done);
    assert_int_equal(f.rc, 0);
    j = body_json(&((struct http_req *)req)->resp);
    assert_int_equal(json_integer_value(json_object_get(j, "attempt")), 3);
    json_decref(j);
    assert_int_equal(f.st.attempts, 2);
    assert_int_equal(f.q.tokens, RETRY_QUOTA_TOKENS - 14);
    http_req_free(req);

    /* one failure more than the policy allows: gives up with ERR_RETRY */
    memset(&f, 0, sizeof(f));
    f.h = fx->h;
    retry_state_init(&f.st);
    retry_quota_init(&f.q, 0);
    req = mkreq("GET", "/flaky?key=k2&fail=3");
    assert_int_equal(http_start(fx->h, req, on_flaky, &f), 0);
    run_until(&fx->loop, &f.done);
    assert_int_equal(f.rc, ERR_RETRY);
    assert_string_equal(f.err, "gave up after 3 attempts");
    http_req_free(req);
}

struct ticker {
    uv_timer_t timer;
    int ticks;
};

static void
on_tick(uv_timer_t *t)
{
    ((struct ticker *)t->data)->ticks++;
}

static void
test_loop_not_blocked(void **state)
{
    struct fx *fx = *state;
    struct ticker tk = {.ticks = 0};
    struct http_req *req = mkreq("GET", "/slow?ms=1000");
    struct result r;

    uv_timer_init(&fx->loop, &tk.timer);
    tk.timer.data = &tk;
    uv_timer_start(&tk.timer, on_tick, 10, 10);
    perform(fx, req, &r);
    assert_int_equal(r.resp->status, 200);
    /* a blocked loop would tick once or twice; about 100 are due */
    assert_true(tk.ticks >= 20);
    uv_close((uv_handle_t *)&tk.timer, NULL);
    uv_run(&fx->loop, UV_RUN_NOWAIT); /* tk lives on this stack */
    http_req_free(req);
}

/* One debug line per request, with method, URL without the query, status;
 * no header, body or query string. */
static void
test_debug_log_line(void **state)
{
    struct fx *fx = *state;
    struct http_req *req = mkreq("POST", "/echo?X-Amz-Signature=sekrit1");
    FILE *tmp = tmpfile();
    int saved = dup(2), lines = 0;
    char text[8192], url[128];
    struct result r;
    size_t n;

    assert_non_null(tmp);
    http_req_add_header(req, "Authorization: Bearer sekrit2");
    http_req_set_body(req, "sekrit3", 7);
    log_init(LOG_TARGET_STDERR);
    log_set_level(LOG_DEBUG);
    fflush(stderr);
    dup2(fileno(tmp), 2);
    perform(fx, req, &r);
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    log_set_level(LOG_INFO);
    rewind(tmp);
    n = fread(text, 1, sizeof(text) - 1, tmp);
    text[n] = '\0';
    fclose(tmp);
    for (char *p = text; (p = strchr(p, '\n')) != NULL; p++)
        lines++;
    assert_int_equal(lines, 1);
    assert_non_null(strstr(text, "debug: http request done"));
    assert_non_null(strstr(text, " HTTP_METHOD=POST"));
    snprintf(url, sizeof(url), " URL=http://127.0.0.1:%d/echo ",
             server_port);
    assert_non_null(strstr(text, url));
    assert_non_null(strstr(text, " HTTP_STATUS=200"));
    assert_null(strstr(text, "sekrit"));
    http_req_free(req);
}

/* ---- input checks and pure helpers ---- */

static void
test_bad_input(void **state)
{
    struct fx *fx = *state;
    struct http_req *req;

    assert_null(http_req_new("get", "http://x/"));
    assert_null(http_req_new("", "http://x/"));
    assert_null(http_req_new("GET", "ftp://x/"));
    assert_null(http_req_new("GET", "http://x/a b"));
    assert_null(http_req_new("GET", "http://x/\r\nX: y"));
    assert_null(http_req_new(NULL, NULL));
    req = mkreq("GET", "/slow?ms=1");
    assert_int_equal(http_req_add_header(req, "X: a\r\nY: b"), ERR_FAIL);
    assert_int_equal(http_req_add_header(req, "no colon"), ERR_FAIL);
    assert_int_equal(http_req_add_header(req, ": empty name"), ERR_FAIL);
    assert_int_equal(http_req_add_header(req, "Bad Name: v"), ERR_FAIL);
    assert_int_equal(http_req_add_header(NULL, "X: y"), ERR_FAIL);
    assert_int_equal(http_start(fx->h, req, NULL, NULL), ERR_FAIL);
    assert_int_equal(http_start(NULL, req, on_done, NULL), ERR_FAIL);
    assert_int_equal(http_start(fx->h, req, never_called, NULL), 0);
    /* busy: no second start, no changes */
    assert_int_equal(http_start(fx->h, req, never_called, NULL), ERR_FAIL);
    assert_int_equal(http_req_add_header(req, "X: y"), ERR_FAIL);
    http_req_free(req); /* frees a running request */
    http_req_free(NULL);
    http_cancel(NULL);
    http_free(NULL);
    assert_null(http_resp_header(NULL, "x"));
}

static void
test_url_for_log(void **state)
{
    char *s;

    (void)state;
    s = http_url_for_log("https://AKID:secret@bucket.s3.amazonaws.com:8443"
                         "/a/b%20c?X-Amz-Signature=abc#frag");
    assert_string_equal(s, "https://bucket.s3.amazonaws.com:8443/a/b%20c");
    free(s);
    s = http_url_for_log("http://host?token=x");
    assert_string_equal(s, "http://host");
    free(s);
    s = http_url_for_log("http://h/p@q?x=@");
    assert_string_equal(s, "http://h/p@q");
    free(s);
}

static void
test_parse_date(void **state)
{
    static const char *const same[] = {
        "Sun, 06 Nov 1994 08:49:37 GMT",  /* IMF-fixdate */
        "Sunday, 06-Nov-94 08:49:37 GMT", /* RFC 850 */
        "Sun Nov  6 08:49:37 1994",       /* asctime */
        "  Sun, 06 Nov 1994 08:49:37 GMT  ",
    };
    static const char *const bad[] = {
        "", "Sun, 06 Nov 1994 08:49:37", "Sun, 06 Nov 1994 08:49:37 UTC",
        "Sun, 6 Nov 1994 08:49:37 GMT", "Sun, 31 Apr 1994 08:49:37 GMT",
        "Sun, 29 Feb 2023 08:49:37 GMT", "Sun, 06 Nov 1994 24:00:00 GMT",
        "Sun, 06 Nov 1994 08:49:37 GMT x", "Xyz, 06 Nov 1994 08:49:37 GMT",
        "Sunday, 06 Nov 1994 08:49:37 GMT", "Sun, 06 Foo 1994 08:49:37 GMT",
        "Sun, 06 Nov 1969 08:49:37 GMT", "1994-11-06T08:49:37Z",
    };
    struct tm tm = {0};
    time_t t;

    (void)state;
    tm.tm_year = 94, tm.tm_mon = 10, tm.tm_mday = 6;
    tm.tm_hour = 8, tm.tm_min = 49, tm.tm_sec = 37;
    for (size_t i = 0; i < sizeof(same) / sizeof(same[0]); i++) {
        assert_int_equal(http_parse_date(same[i], &t), 0);
        assert_int_equal(t, timegm(&tm));
    }
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        if (http_parse_date(bad[i], &t) != ERR_FAIL)
            fail_msg("accepted '%s'", bad[i]);
    assert_int_equal(http_parse_date(NULL, &t), ERR_FAIL);

    /* every day of 1970-2400 against libc's timegm(): leap years, the
     * 2100 non-leap and the 2000 leap century */
    for (int y = 1970; y <= 2400; y += 1) {
        for (int m = 0; m < 12; m++) {
            char s[64];
            static const char *const mon[] = {"Jan", "Feb", "Mar", "Apr",
                                              "May", "Jun", "Jul", "Aug",
                                              "Sep", "Oct", "Nov", "Dec"};
            int d = m == 1 ? (y % 4 == 0 && (y % 100 || y % 400 == 0) ? 29
                                                                      : 28)
                           : 28;

            snprintf(s, sizeof(s), "Mon, %02d %s %04d 23:59:60 GMT", d,
                     mon[m], y);
            memset(&tm, 0, sizeof(tm));
            tm.tm_year = y - 1900, tm.tm_mon = m, tm.tm_mday = d;
            tm.tm_hour = 23, tm.tm_min = 59, tm.tm_sec = 60;
            assert_int_equal(http_parse_date(s, &t), 0);
            assert_int_equal(t, timegm(&tm));
        }
    }
}

static void
test_parse_retry_after(void **state)
{
    uint64_t ms = 1;

    (void)state;
    assert_int_equal(http_parse_retry_after("120", 0, &ms), 0);
    assert_int_equal(ms, 120000);
    assert_int_equal(http_parse_retry_after(" 0 ", 0, &ms), 0);
    assert_int_equal(ms, 0);
    /* 784111777 is Sun, 06 Nov 1994 08:49:37 GMT */
    assert_int_equal(http_parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT",
                                            784111777 - 5, &ms),
                     0);
    assert_int_equal(ms, 5000);
    assert_int_equal(http_parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT",
                                            784111777 + 60, &ms),
                     0);
    assert_int_equal(ms, 0); /* a date in the past: go now */
    assert_int_equal(http_parse_retry_after("-1", 0, &ms), ERR_FAIL);
    assert_int_equal(http_parse_retry_after("1.5", 0, &ms), ERR_FAIL);
    assert_int_equal(http_parse_retry_after("soon", 0, &ms), ERR_FAIL);
    assert_int_equal(http_parse_retry_after("", 0, &ms), ERR_FAIL);
    assert_int_equal(http_parse_retry_after("9999999999999999", 0, &ms),
                     ERR_FAIL); /* would overflow in milliseconds */
    assert_int_equal(http_parse_retry_after(NULL, 0, &ms), ERR_FAIL);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, fx_setup, fx_teardown)
        T(test_get_headers_echoed),
        T(test_put_binary_body_exact),
        T(test_put_3mb_upload),
        T(test_post_put_delete_head),
        T(test_concurrent_requests_overlap),
        T(test_connection_reused),
        T(test_total_timeout_on_stall),
        T(test_low_speed_limit),
        T(test_connect_refused),
        T(test_reset_mid_body),
        T(test_truncated_body),
        T(test_size_cap_streamed),
        T(test_size_cap_declared_and_boundary),
        T(test_header_cap),
        T(test_503_retry_after),
        T(test_header_lookup),
        T(test_cancel_in_flight),
        T(test_shutdown_with_requests_in_flight),
        T(test_retry_on_the_loop),
        T(test_loop_not_blocked),
        T(test_debug_log_line),
        T(test_bad_input),
#undef T
        cmocka_unit_test(test_url_for_log),
        cmocka_unit_test(test_parse_date),
        cmocka_unit_test(test_parse_retry_after),
    };

    return cmocka_run_group_tests(tests, server_start, server_stop);
}
