/*
 * libFuzzer target: what X sends back, reached by including x.c as its
 * unit test does: xerr_parse() of problem+json bodies, x_reply_id() of
 * success bodies, x_creds_parse() of the credentials secret, and
 * xerr_rate_limit_wait_ms() with the input's first six lines as the
 * rate-limit headers.  Checks: problem fields are NUL-terminated and free
 * of control characters, and all empty when nothing was found; a 2xx
 * without a problem is no error; descriptions fit any buffer; an id is
 * 1-19 digits; waits stay within 1 s .. the cap plus jitter; refused
 * credentials come with a message.
 */
#include "x/x.c"

#include "fuzz.h"

static const struct xerr_problem zero_problem;

static void
check_problem(const uint8_t *data, size_t size)
{
    static const long statuses[] = {200, 201, 400, 401, 402, 403, 429, 503};
    struct xerr_problem p;
    char small[8], line[256];
    int rc;

    memset(&p, 'P', sizeof(p));
    rc = xerr_parse((const char *)data, size, &p);
    FUZZ_CHECK(fuzz_clean_str(p.type, sizeof(p.type)));
    FUZZ_CHECK(fuzz_clean_str(p.title, sizeof(p.title)));
    FUZZ_CHECK(fuzz_clean_str(p.detail, sizeof(p.detail)));
    if (rc != 0)
        FUZZ_CHECK(rc == ERR_FAIL && memcmp(&p, &zero_problem, sizeof(p)) == 0);
    for (size_t i = 0; i < sizeof(statuses) / sizeof(statuses[0]); i++) {
        enum xerr_class c = xerr_classify(statuses[i], rc == 0 ? &p : NULL);

        FUZZ_CHECK(strcmp(xerr_class_name(c), "unknown") != 0);
        if (rc != 0 && statuses[i] < 300)
            FUZZ_CHECK(c == XERR_NONE);
        xerr_describe(statuses[i], &p, small, sizeof(small));
        FUZZ_CHECK(memchr(small, '\0', sizeof(small)) != NULL);
        xerr_describe(statuses[i], &p, line, sizeof(line));
        FUZZ_CHECK(strncmp(line, "HTTP ", 5) == 0);
    }
}

static void
check_reply_id(const uint8_t *data, size_t size)
{
    struct http_resp resp;
    char id[X_ID_LEN];

    memset(&resp, 0, sizeof(resp));
    resp.status = 201;
    resp.body.data = fuzz_strndup(data, size);
    resp.body.len = size;
    resp.body.cap = size + 1;
    if (x_reply_id(&resp, id) == 0)
        FUZZ_CHECK(x_id_ok(id));
    free(resp.body.data);
}

static void
check_wait(char *text)
{
    const char *h[6] = {0};
    struct xerr_limits l;
    char *p = text;
    uint64_t w;

    for (int i = 0; i < 6 && p != NULL; i++) {
        char *nl = strchr(p, '\n');

        h[i] = p;
        if (nl != NULL)
            *nl++ = '\0';
        p = nl;
    }
    l = (struct xerr_limits){h[0], h[1], h[2], h[3], h[4], h[5]};
    w = xerr_rate_limit_wait_ms(&l, 1764720000, 0.5);

    FUZZ_CHECK(w >= 1000 && w <= XERR_MAX_WAIT_MS + 1000 + XERR_JITTER_MS);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = fuzz_strndup(data, size);
    char err[ERR_LEN];
    struct x_creds *c;

    check_problem(data, size);
    check_reply_id(data, size);
    fuzz_err_poison(err);
    c = x_creds_parse(text, err);
    if (c == NULL) {
        FUZZ_CHECK(fuzz_err_set(err));
    } else {
        FUZZ_CHECK(c->consumer_key[0] && c->consumer_secret[0] && c->token[0] &&
                   c->token_secret[0]);
        x_creds_free(c);
    }
    check_wait(text);
    free(text);
    return 0;
}
