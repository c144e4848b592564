/*
 * Unit tests for the pure parts of the X client: credentials parsing
 * (x/x.c, included to reach its statics), input checks, the multipart and
 * JSON bodies, and x/xerr.c's problem parsing, classification and
 * rate-limit waits for the error bodies of docs/api-notes.md section 7.
 * The requests themselves are tested against the stand-in
 * (tests/proc/test_x_client.py).
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "x/x.c"
#include "x/xerr.c"

/* ---- credentials ---- */

#define GOOD_CREDS                                                             \
    "{\"API_KEY\":\"ck-abc\",\"API_SECRET\":\"cs/sec+ret=1\","                 \
    "\"ACCESS_TOKEN\":\"1712-tok\",\"ACCESS_TOKEN_SECRET\":\"ts~sec.2\","      \
    "\"BEARER_TOKEN\":\"AAAA%2Fbearer\"}"

static const char *const secret_values[] = {
    "ck-abc", "cs/sec+ret=1", "1712-tok", "ts~sec.2", "AAAA%2Fbearer",
};

static void
assert_no_secret(const char *text)
{
    for (size_t i = 0; i < sizeof(secret_values) / sizeof(*secret_values); i++)
        assert_null(strstr(text, secret_values[i]));
}

static void
test_creds_good(void **state)
{
    char err[ERR_LEN] = "";
    struct x_creds *c = x_creds_parse(GOOD_CREDS, err);

    assert_non_null(c);
    assert_string_equal(c->consumer_key, "ck-abc");
    assert_string_equal(c->consumer_secret, "cs/sec+ret=1");
    assert_string_equal(c->token, "1712-tok");
    assert_string_equal(c->token_secret, "ts~sec.2");
    assert_string_equal(err, "");
    x_creds_free(c);
    x_creds_free(NULL);
}

/* Every subset of the four fields left out: the error names exactly the
 * missing ones and quotes no value. */
static void
test_creds_missing_fields(void **state)
{
    static const char *const vals[4] = {"ck-abc", "cs/sec+ret=1", "1712-tok",
                                        "ts~sec.2"};

    for (int mask = 0; mask < 15; mask++) {
        json_t *o = json_pack("{s:s}", "BEARER_TOKEN", "AAAA%2Fbearer");
        char err[ERR_LEN] = "", *text, want[64];
        struct x_creds *c;

        for (int i = 0; i < 4; i++)
            if (mask & (1 << i))
                json_object_set_new(o, x_cred_names[i], json_string(vals[i]));
        text = json_dumps(o, 0);
        c = x_creds_parse(text, err);
        assert_null(c);
        assert_non_null(strstr(err, "X credentials"));
        for (int i = 0; i < 4; i++) {
            snprintf(want, sizeof(want), "%s missing", x_cred_names[i]);
            if (mask & (1 << i))
                assert_null(strstr(err, want));
            else
                assert_non_null(strstr(err, want));
        }
        assert_no_secret(err);
        free(text);
        json_decref(o);
    }
}

static void
test_creds_bad_values(void **state)
{
    static const struct {
        const char *json, *want;
    } cases[] = {
        {"{\"API_KEY\":\"\",\"API_SECRET\":\"cs/sec+ret=1\","
         "\"ACCESS_TOKEN\":\"1712-tok\",\"ACCESS_TOKEN_SECRET\":\"ts~sec.2\"}",
         "API_KEY not a non-empty string"},
        {"{\"API_KEY\":12,\"API_SECRET\":\"cs/sec+ret=1\","
         "\"ACCESS_TOKEN\":\"1712-tok\",\"ACCESS_TOKEN_SECRET\":\"ts~sec.2\"}",
         "API_KEY not a non-empty string"},
        {"{\"API_KEY\":\"ck-abc\",\"API_SECRET\":\"cs/sec+ret=1\\n\","
         "\"ACCESS_TOKEN\":\"1712-tok\",\"ACCESS_TOKEN_SECRET\":\"ts~sec.2\"}",
         "API_SECRET has surrounding blanks"},
        {"{\"API_KEY\":\"ck-abc\",\"API_SECRET\":\"cs/sec+ret=1\","
         "\"ACCESS_TOKEN\":\" 1712-tok\",\"ACCESS_TOKEN_SECRET\":\"ts~sec.2\"}",
         "ACCESS_TOKEN has surrounding blanks"},
        {"{\"API_KEY\":\"ck-abc\",\"API_SECRET\":\"cs/sec+ret=1\","
         "\"ACCESS_TOKEN\":\"1712-tok\",\"ACCESS_TOKEN_SECRET\":\"ts\\u0001~"
         "sec.2\"}",
         "ACCESS_TOKEN_SECRET has surrounding blanks or control"},
        {"{\"API_KEY\":null,\"API_SECRET\":[\"cs/sec+ret=1\"],"
         "\"ACCESS_TOKEN\":\"1712-tok\",\"ACCESS_TOKEN_SECRET\":\"ts~sec.2\"}",
         "API_KEY not a non-empty string; API_SECRET not a non-empty"},
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
        char err[ERR_LEN] = "";

        assert_null(x_creds_parse(cases[i].json, err));
        assert_non_null(strstr(err, cases[i].want));
        assert_no_secret(err);
    }
}

static void
test_creds_not_json(void **state)
{
    static const char *const inputs[] = {
        "", "API_KEY=ck-abc", "{\"API_KEY\":\"ck-abc\"", "[\"ck-abc\"]",
        "\"cs/sec+ret=1\"", "null",
        /* a duplicate key */
        ("{\"API_KEY\":\"ck-abc\",\"API_KEY\":\"cs/sec+ret=1\"}"),
        "{\"API_KEY\":\"ck-abc\xff\"}", /* not UTF-8 */
    };

    for (size_t i = 0; i < sizeof(inputs) / sizeof(*inputs); i++) {
        char err[ERR_LEN] = "";

        assert_null(x_creds_parse(inputs[i], err));
        assert_non_null(strstr(err, "X credentials are not"));
        assert_no_secret(err);
        assert_null(strstr(err, "API_KEY="));
    }
    {
        char err[ERR_LEN] = "";

        assert_null(x_creds_parse(NULL, err));
        assert_non_null(strstr(err, "not a JSON object"));
    }
}

/* Parsing swaps in a wiping free for jansson and must put the caller's
 * allocator functions back, on success and on failure. */
static void *
spy_malloc(size_t n)
{
    return malloc(n);
}

static void
spy_free(void *p)
{
    free(p);
}

static void
test_creds_restore_allocators(void **state)
{
    json_malloc_t m;
    json_free_t f;
    char err[ERR_LEN];

    json_set_alloc_funcs(spy_malloc, spy_free);
    x_creds_free(x_creds_parse(GOOD_CREDS, err));
    json_get_alloc_funcs(&m, &f);
    assert_ptr_equal(m, spy_malloc);
    assert_ptr_equal(f, spy_free);
    assert_null(x_creds_parse("{", err));
    json_get_alloc_funcs(&m, &f);
    assert_ptr_equal(m, spy_malloc);
    assert_ptr_equal(f, spy_free);
    json_set_alloc_funcs(malloc, free);
}

/* ---- input checks ---- */

static void
test_id_ok(void **state)
{
    assert_true(x_id_ok("1"));
    assert_true(x_id_ok("1880028106020515840"));
    assert_true(x_id_ok("9999999999999999999"));   /* 19 digits */
    assert_false(x_id_ok("18800281060205158401")); /* 20 */
    assert_false(x_id_ok(""));
    assert_false(x_id_ok(NULL));
    assert_false(x_id_ok("12a"));
    assert_false(x_id_ok("-1"));
    assert_false(x_id_ok(" 1"));
    assert_false(x_id_ok("1\n"));
}

static void
test_image_check(void **state)
{
    static const unsigned char png[] = "\x89PNG\r\n\x1a\n\0\0\0\rIHDR";
    static const unsigned char jpg[] = "\xff\xd8\xff\xe0\0\x10JFIF";
    static const unsigned char webp[] = "RIFF\x10\0\0\0WEBPVP8 ";
    char err[ERR_LEN];
    unsigned char *big;

    assert_int_equal(x_image_check(png, sizeof(png), "image/png", err), 0);
    assert_int_equal(x_image_check(jpg, sizeof(jpg), "image/jpeg", err), 0);
    assert_int_equal(x_image_check(webp, sizeof(webp), "image/webp", err), 0);
    assert_int_equal(x_image_check(png, sizeof(png), "image/jpeg", err),
                     ERR_FAIL);
    assert_non_null(strstr(err, "not image/jpeg"));
    assert_int_equal(x_image_check(jpg, sizeof(jpg), "image/webp", err),
                     ERR_FAIL);
    assert_int_equal(x_image_check(webp, 7, "image/webp", err), ERR_FAIL);
    assert_int_equal(x_image_check(png, sizeof(png), "image/gif", err),
                     ERR_FAIL);
    assert_non_null(strstr(err, "media type"));
    assert_int_equal(x_image_check(png, sizeof(png), "image/png\r\nX: y", err),
                     ERR_FAIL);
    assert_int_equal(x_image_check(png, sizeof(png), NULL, err), ERR_FAIL);
    assert_int_equal(x_image_check(png, 0, "image/png", err), ERR_FAIL);
    assert_non_null(strstr(err, "empty"));
    assert_int_equal(x_image_check(NULL, 10, "image/png", err), ERR_FAIL);
    big = mem_calloc(1, X_IMAGE_MAX + 1);
    memcpy(big, png, 8);
    assert_int_equal(x_image_check(big, X_IMAGE_MAX, "image/png", err), 0);
    assert_int_equal(x_image_check(big, X_IMAGE_MAX + 1, "image/png", err),
                     ERR_FAIL);
    assert_non_null(strstr(err, "5242881 bytes"));
    free(big);
}

static char *
repeat(const char *unit, size_t n)
{
    struct buf b;

    buf_init(&b);
    for (size_t i = 0; i < n; i++)
        buf_appends(&b, unit);
    return buf_steal(&b);
}

/* X counts characters, not bytes: 1000 of any width pass, 1001 fail. */
static void
test_alt_check(void **state)
{
    static const char *const units[] = {"a", "\xc3\xa9", "\xe2\x82\xac",
                                        "\xf0\x9f\x8e\x83"};
    char err[ERR_LEN];

    for (size_t i = 0; i < 4; i++) {
        char *ok = repeat(units[i], X_ALT_TEXT_MAX);
        char *over = repeat(units[i], X_ALT_TEXT_MAX + 1);

        assert_int_equal(x_alt_check(ok, err), 0);
        assert_int_equal(x_alt_check(over, err), ERR_FAIL);
        assert_non_null(strstr(err, "1001 characters"));
        free(ok);
        free(over);
    }
    assert_int_equal(x_alt_check("", err), ERR_FAIL);
    assert_int_equal(x_alt_check(NULL, err), ERR_FAIL);
}

static void
test_ids_check(void **state)
{
    const char *ids[] = {"1", "22", "333", "4444", "55555"};
    const char *rep[] = {"1", "22", "1"};
    const char *bad[] = {"1", "2x"};
    char err[ERR_LEN];

    assert_int_equal(x_ids_check(ids, 0, err), 0);
    assert_int_equal(x_ids_check(NULL, 0, err), 0);
    assert_int_equal(x_ids_check(ids, 4, err), 0);
    assert_int_equal(x_ids_check(ids, 5, err), ERR_FAIL);
    assert_int_equal(x_ids_check(NULL, 1, err), ERR_FAIL);
    assert_int_equal(x_ids_check(rep, 3, err), ERR_FAIL);
    assert_non_null(strstr(err, "repeated"));
    assert_int_equal(x_ids_check(bad, 2, err), ERR_FAIL);
    assert_non_null(strstr(err, "media id 2"));
}

static void
test_text_check(void **state)
{
    char err[ERR_LEN];

    assert_int_equal(x_text_check("boo", 0, err), 0);
    assert_int_equal(x_text_check("", 1, err), 0);
    assert_int_equal(x_text_check("", 0, err), ERR_FAIL);
    assert_int_equal(x_text_check(NULL, 1, err), ERR_FAIL);
    assert_int_equal(x_text_check("bad \xc3 utf-8", 1, err), ERR_FAIL);
    assert_int_equal(x_text_check("overlong \xc0\xaf", 1, err), ERR_FAIL);
    assert_int_equal(x_text_check("surrogate \xed\xa0\x80", 1, err), ERR_FAIL);
    /* X's weighted length: 140 CJK characters weigh 280, 141 too many */
    {
        char *ok = repeat("\xe6\x9c\x88", 140);
        char *over = repeat("\xe6\x9c\x88", 141);

        assert_int_equal(x_text_check(ok, 0, err), 0);
        assert_int_equal(x_text_check(over, 1, err), ERR_FAIL);
        assert_non_null(strstr(err, "282"));
        free(ok);
        free(over);
    }
    assert_int_equal(x_text_check("bad \xef\xbb\xbf BOM", 0, err), ERR_FAIL);
}

static void
test_base_url(void **state)
{
    assert_true(x_base_url_ok("https://api.x.com"));
    assert_true(x_base_url_ok("https://api.x.com/"));
    assert_true(x_base_url_ok("http://127.0.0.1:8080"));
    assert_false(x_base_url_ok("ftp://api.x.com"));
    assert_false(x_base_url_ok("https://"));
    assert_false(x_base_url_ok("https:///2"));
    assert_false(x_base_url_ok("https://api.x.com?a=b"));
    assert_false(x_base_url_ok("https://api.x.com#f"));
    assert_false(x_base_url_ok("https://user:pw@api.x.com"));
    assert_false(x_base_url_ok("https://api.x.com /"));
    assert_false(x_base_url_ok(NULL));
}

static void
never_called(const struct x_result *res, void *arg)
{
    fail_msg("callback of a refused operation ran");
}

/* x_new() validates, copies and normalises; x_free() takes NULL. */
static void
test_new_and_refusals(void **state)
{
    struct x_creds creds = {"ck", "cs", "tok", "ts"};
    struct x_config cfg = {"https://api.x.com//", "env:X", NULL, 0, 0};
    char err[ERR_LEN] = "";
    uv_loop_t loop;
    struct http *engine;
    struct x *x;

    uv_loop_init(&loop);
    engine = http_new(&loop);
    assert_non_null(engine);
    x = x_new(&loop, engine, &creds, &cfg, err);
    assert_non_null(x);
    assert_string_equal(x->base_url, "https://api.x.com");
    assert_ptr_not_equal(x->creds.consumer_secret, creds.consumer_secret);
    assert_ptr_equal(x->policy, &retry_policy_api);
    assert_int_equal(x->timeout_ms, X_TIMEOUT_MS);
    /* bad input is refused before anything is sent or scheduled */
    assert_null(x_tweet(x, "", NULL, 0, NULL, never_called, NULL, err));
    assert_null(x_tweet(x, "hi", NULL, 0, NULL, NULL, NULL, err));
    assert_null(x_media_metadata(x, "1", "", NULL, never_called, NULL, err));
    assert_null(
        x_media_metadata(x, "x1", "alt", NULL, never_called, NULL, err));
    assert_null(x_media_upload(x, "GIF89a", 6, "image/gif", NULL, never_called,
                               NULL, err));
    assert_null(x_post_image(x, NULL, never_called, NULL, err));
    assert_null(x->ops);
    x_free(x);
    x_free(NULL);

    cfg.api_base_url = "https://api.x.com?x=1";
    assert_null(x_new(&loop, engine, &creds, &cfg, err));
    assert_non_null(strstr(err, "base URL"));
    cfg.api_base_url = "https://api.x.com";
    creds.token_secret = "";
    assert_null(x_new(&loop, engine, &creds, &cfg, err));
    assert_non_null(strstr(err, "ACCESS_TOKEN_SECRET"));
    assert_null(x_new(&loop, engine, NULL, &cfg, err));
    http_free(engine);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&loop), 0);
}

/* ---- request bodies ---- */

static void
test_boundary(void **state)
{
    unsigned char data[4096];
    char a[48], b[48], err[ERR_LEN];

    for (size_t i = 0; i < sizeof(data); i++)
        data[i] = (unsigned char)(i * 7);
    assert_int_equal(x_boundary(data, sizeof(data), a, err), 0);
    assert_int_equal(x_boundary(data, sizeof(data), b, err), 0);
    assert_int_equal(strlen(a), 8 + 32);
    assert_memory_equal(a, "spookyd-", 8);
    assert_int_equal(strspn(a + 8, "0123456789abcdef"), 32);
    assert_string_not_equal(a, b);
    assert_null(memmem(data, sizeof(data), a, strlen(a)));
}

/* What RFC 7578 asks for, byte for byte, for a tiny image. */
static void
test_multipart_exact(void **state)
{
    static const char img[] = "\x89PNG\r\n\x1a\n\0--B\r\n";
    static const char head[] =
        "--B\r\n"
        "Content-Disposition: form-data; name=\"media_category\"\r\n"
        "\r\n"
        "tweet_image\r\n"
        "--B\r\n"
        "Content-Disposition: form-data; name=\"media_type\"\r\n"
        "\r\n"
        "image/png\r\n"
        "--B\r\n"
        "Content-Disposition: form-data; name=\"media\"; "
        "filename=\"image.png\"\r\n"
        "Content-Type: image/png\r\n"
        "\r\n";
    static const char tail[] = "\r\n--B--\r\n";
    size_t len, img_len = sizeof(img) - 1;
    char *body = x_multipart(img, img_len, "image/png", "B", &len);

    assert_int_equal(len, strlen(head) + img_len + strlen(tail));
    assert_memory_equal(body, head, strlen(head));
    assert_memory_equal(body + strlen(head), img, img_len);
    assert_memory_equal(body + strlen(head) + img_len, tail, strlen(tail));
    free(body);
}

/* A small independent reader: split at CRLF--boundary, return part i's
 * headers and content. */
static int
part_at(const char *body, size_t len, const char *boundary, int want,
        const char **head, const char **content, size_t *content_len)
{
    char delim[64];
    const char *p = body, *end = body + len, *next;
    size_t dl;
    int i = 0;

    snprintf(delim, sizeof(delim), "\r\n--%s", boundary);
    dl = strlen(delim);
    if (len < dl - 2 || memcmp(body, delim + 2, dl - 2) != 0)
        return -1;
    p += dl - 2;
    for (;; i++) {
        if (end - p >= 2 && memcmp(p, "--", 2) == 0)
            return -1; /* closing delimiter: no such part */
        if (end - p < 2 || memcmp(p, "\r\n", 2) != 0)
            return -1;
        p += 2;
        next = memmem(p, (size_t)(end - p), delim, dl);
        if (next == NULL)
            return -1;
        if (i == want) {
            const char *blank = memmem(p, (size_t)(next - p), "\r\n\r\n", 4);

            if (blank == NULL)
                return -1;
            *head = p;
            *content = blank + 4;
            *content_len = (size_t)(next - blank - 4);
            return 0;
        }
        p = next + dl;
    }
}

static void
test_multipart_binary(void **state)
{
    size_t n = 70000, len, clen;
    unsigned char *img = mem_alloc(n);
    char boundary[48], err[ERR_LEN], *body;
    const char *head, *content;

    memcpy(img, "\xff\xd8\xff", 3);
    for (size_t i = 3; i < n; i++) /* CR, LF, '-', NUL and the rest */
        img[i] = "\r\n-\0ab"[i % 6] ^ (unsigned char)(i / 6 % 3);
    assert_int_equal(x_boundary(img, n, boundary, err), 0);
    body = x_multipart(img, n, "image/jpeg", boundary, &len);
    assert_int_equal(part_at(body, len, boundary, 0, &head, &content, &clen),
                     0);
    assert_int_equal(clen, strlen("tweet_image"));
    assert_memory_equal(content, "tweet_image", clen);
    assert_int_equal(part_at(body, len, boundary, 1, &head, &content, &clen),
                     0);
    assert_memory_equal(content, "image/jpeg", clen);
    assert_int_equal(part_at(body, len, boundary, 2, &head, &content, &clen),
                     0);
    assert_true(strncmp(head,
                        "Content-Disposition: form-data; "
                        "name=\"media\"; filename=\"image.jpeg\"\r\n"
                        "Content-Type: image/jpeg\r\n\r\n",
                        (size_t)(content - head)) == 0);
    assert_int_equal(clen, n);
    assert_memory_equal(content, img, n);
    assert_int_equal(part_at(body, len, boundary, 3, &head, &content, &clen),
                     -1);
    assert_memory_equal(body + len - strlen(boundary) - 8, "\r\n--", 4);
    assert_memory_equal(body + len - 4, "--\r\n", 4);
    free(body);
    free(img);
}

static json_t *
load(const char *s)
{
    json_t *j = json_loads(s, 0, NULL);

    assert_non_null(j);
    return j;
}

static void
assert_no_raw_control(const char *s)
{
    for (; *s; s++)
        assert_true((unsigned char)*s >= 0x20);
}

static const char tricky[] = "A \"spooky\" moon \\ over Pi\xc3\xb1"
                             "a "
                             "Colada\n\ttab \x01 </script> \xf0\x9f\x8e\x83"
                             " \xe2\x80\xa8";

static void
test_json_metadata(void **state)
{
    char err[ERR_LEN];
    char *s = x_json_metadata("1880028106020515840", tricky, err);
    json_t *j, *alt;

    assert_non_null(s);
    assert_no_raw_control(s);
    assert_non_null(strstr(s, "\\\"spooky\\\""));
    assert_non_null(strstr(s, "\\\\ over"));
    assert_non_null(strstr(s, "\\n\\ttab \\u0001"));
    j = load(s);
    assert_int_equal(json_object_size(j), 2);
    assert_string_equal(json_string_value(json_object_get(j, "id")),
                        "1880028106020515840");
    alt = json_object_get(json_object_get(j, "metadata"), "alt_text");
    assert_int_equal(json_object_size(json_object_get(j, "metadata")), 1);
    assert_int_equal(json_object_size(alt), 1);
    assert_string_equal(json_string_value(json_object_get(alt, "text")),
                        tricky);
    json_decref(j);
    free(s);
    assert_null(x_json_metadata("1", "bad \xff", err));
    assert_non_null(strstr(err, "not valid UTF-8"));
}

static void
test_json_tweet(void **state)
{
    char *ids[] = {"9223372036854775807", "1880028106020515840"};
    char err[ERR_LEN], *s;
    json_t *j, *arr;

    s = x_json_tweet(tricky, NULL, 0, err);
    assert_non_null(s);
    assert_no_raw_control(s);
    j = load(s);
    assert_int_equal(json_object_size(j), 1);
    assert_string_equal(json_string_value(json_object_get(j, "text")), tricky);
    json_decref(j);
    free(s);

    s = x_json_tweet("", ids, 2, err);
    assert_non_null(s);
    j = load(s);
    assert_string_equal(json_string_value(json_object_get(j, "text")), "");
    arr = json_object_get(json_object_get(j, "media"), "media_ids");
    assert_int_equal(json_array_size(arr), 2);
    for (size_t i = 0; i < 2; i++) /* strings, never numbers */
        assert_string_equal(json_string_value(json_array_get(arr, i)), ids[i]);
    /* the digits are quoted in the text itself */
    assert_non_null(strstr(s, "[\"9223372036854775807\","));
    json_decref(j);
    free(s);
    assert_null(x_json_tweet("\xc3(", ids, 1, err));
    assert_non_null(strstr(err, "post: text is not valid UTF-8"));
}

/* ---- problems (docs/api-notes.md section 7) ---- */

struct problem_case {
    long status;
    const char *body;
    enum xerr_class cls;
    const char *type;   /* expected segment; NULL: no problem parsed */
    const char *detail; /* substring of the detail */
};

static const struct problem_case problems[] = {
    /* duplicate text, as seen in the wild */
    {403,
     "{\"detail\":\"You are not allowed to create a Tweet with duplicate "
     "content.\",\"type\":\"about:blank\",\"title\":\"Forbidden\","
     "\"status\":403}",
     XERR_DUPLICATE, "blank", "duplicate content"},
    /* no credits: the api.twitter.com problem URI live replies use */
    {402,
     "{\"account_id\":1712345678901234567,\"title\":\"CreditsDepleted\","
     "\"detail\":\"Your enrolled account [1712345678901234567] does not "
     "have any credits to fulfill this request.\",\"type\":"
     "\"https://api.twitter.com/2/problems/credits\"}",
     XERR_CREDITS, "credits", "does not have any credits"},
    /* the same under the documented api.x.com URI and another status */
    {403,
     "{\"title\":\"Payment Required\",\"detail\":\"no credits\",\"type\":"
     "\"https://api.x.com/2/problems/credits\"}",
     XERR_CREDITS, "credits", "no credits"},
    {401,
     "{\"title\":\"Unauthorized\",\"type\":\"about:blank\",\"status\":401,"
     "\"detail\":\"Unauthorized\"}",
     XERR_AUTH, "blank", "Unauthorized"},
    {403,
     "{\"title\":\"Client Forbidden\",\"detail\":\"This request must be "
     "made using an approved developer account that is enrolled in the "
     "requested endpoint.\",\"type\":"
     "\"https://api.twitter.com/2/problems/client-forbidden\","
     "\"reason\":\"client-not-enrolled\"}",
     XERR_AUTH, "client-forbidden", "approved developer account"},
    {403,
     "{\"title\":\"Forbidden\",\"detail\":\"not authorized\",\"type\":"
     "\"https://api.x.com/2/problems/not-authorized-for-resource\"}",
     XERR_AUTH, "not-authorized-for-resource", "not authorized"},
    {403,
     "{\"title\":\"Forbidden\",\"detail\":\"not authorized\",\"type\":"
     "\"https://api.twitter.com/2/problems/not-authorized-for-resource\"}",
     XERR_AUTH, "not-authorized-for-resource", "not authorized"},
    /* invalid-request on both hosts: the message of errors[0] is kept */
    {400,
     "{\"errors\":[{\"parameters\":{\"id\":[]},\"message\":\"media id 123 "
     "not found\"}],\"title\":\"Invalid Request\",\"detail\":\"One or more "
     "parameters to your request was invalid.\",\"type\":"
     "\"https://api.twitter.com/2/problems/invalid-request\"}",
     XERR_PERMANENT, "invalid-request", "invalid. (media id 123 not found)"},
    {400,
     "{\"errors\":[{\"message\":\"text is too long\"}],\"title\":\"Invalid "
     "Request\",\"detail\":\"One or more parameters to your request was "
     "invalid.\",\"type\":\"https://api.x.com/2/problems/invalid-request\"}",
     XERR_PERMANENT, "invalid-request", "text is too long"},
    {404,
     "{\"title\":\"Not Found Error\",\"detail\":\"Could not find media\","
     "\"type\":\"https://api.x.com/2/problems/resource-not-found\"}",
     XERR_PERMANENT, "resource-not-found", "Could not find media"},
    {429,
     "{\"title\":\"UsageCapExceeded\",\"detail\":\"Usage cap exceeded: "
     "Monthly product cap\",\"type\":"
     "\"https://api.twitter.com/2/problems/usage-capped\"}",
     XERR_CREDITS, "usage-capped", "Monthly product cap"},
    {429,
     "{\"title\":\"Too Many Requests\",\"detail\":\"Too Many Requests\","
     "\"type\":\"https://api.x.com/2/problems/rate-limit-exceeded\"}",
     XERR_RATE_LIMITED, "rate-limit-exceeded", "Too Many Requests"},
    {429,
     "{\"title\":\"Too Many Requests\",\"detail\":\"Too Many Requests\","
     "\"type\":\"about:blank\",\"status\":429}",
     XERR_RATE_LIMITED, "blank", "Too Many Requests"},
    /* a 200 that carries only an errors array */
    {200,
     "{\"errors\":[{\"title\":\"Forbidden\",\"detail\":\"You are not "
     "allowed to create a Tweet with duplicate content.\",\"type\":"
     "\"about:blank\"}]}",
     XERR_DUPLICATE, "blank", "duplicate content"},
    {200,
     "{\"errors\":[{\"title\":\"Not Found Error\",\"detail\":\"Could not "
     "find media with id: [1].\",\"type\":"
     "\"https://api.twitter.com/2/problems/resource-not-found\"}]}",
     XERR_PERMANENT, "resource-not-found", "Could not find media"},
    /* a 200 with data and nothing wrong */
    {200, "{\"data\":{\"id\":\"1880028106020515840\"}}", XERR_NONE, NULL, NULL},
    {201, "{\"data\":{\"id\":\"1\",\"text\":\"hi\"},\"errors\":[]}", XERR_NONE,
     NULL, NULL},
    /* v1.1-style body */
    {404,
     "{\"errors\":[{\"message\":\"Sorry, that page does not exist\","
     "\"code\":34}]}",
     XERR_PERMANENT, "", "page does not exist"},
    {503,
     "{\"title\":\"Service Unavailable\",\"detail\":\"Service Unavailable\""
     ",\"type\":\"about:blank\",\"status\":503}",
     XERR_TRANSIENT, "blank", "Service Unavailable"},
    {502, "<html><body>Bad Gateway</body></html>", XERR_TRANSIENT, NULL, NULL},
    {500, "", XERR_TRANSIENT, NULL, NULL},
    {504, "{}", XERR_TRANSIENT, NULL, NULL},
    {408, "null", XERR_TRANSIENT, NULL, NULL},
    {501, "[]", XERR_PERMANENT, NULL, NULL},
    {402, "Payment Required", XERR_CREDITS, NULL, NULL},
    {429, "{\"data\":1}", XERR_RATE_LIMITED, NULL, NULL},
    {401, "", XERR_AUTH, NULL, NULL},
    {403,
     "{\"title\":\"Forbidden\",\"detail\":\"You are not permitted to "
     "perform this action.\",\"type\":\"about:blank\"}",
     XERR_PERMANENT, "blank", "not permitted"},
    {413, "{\"title\":\"Payload Too Large\",\"type\":\"about:blank\"}",
     XERR_PERMANENT, "blank", ""},
};

static void
test_problems(void **state)
{
    for (size_t i = 0; i < sizeof(problems) / sizeof(*problems); i++) {
        const struct problem_case *c = &problems[i];
        struct xerr_problem p;
        int rc = xerr_parse(c->body, strlen(c->body), &p);

        enum xerr_class cls = xerr_classify(c->status, rc == 0 ? &p : NULL);
        int ok = rc == (c->type != NULL ? 0 : ERR_FAIL) && cls == c->cls;

        if (c->type != NULL)
            ok = ok && strcmp(p.type, c->type) == 0 &&
                 strstr(p.detail, c->detail) != NULL;
        else
            ok = ok && p.type[0] == '\0' && p.title[0] == '\0' &&
                 p.detail[0] == '\0';
        if (!ok)
            fail_msg("case %zu (HTTP %ld): rc %d, class %s, type \"%s\", "
                     "detail \"%s\"",
                     i, c->status, rc, xerr_class_name(cls), p.type, p.detail);
    }
}

/* The type is matched on its last path segment whatever the host, with
 * query, fragment and trailing slash ignored. */
static void
test_problem_type_segment(void **state)
{
    static const char *const uris[] = {
        "https://api.x.com/2/problems/credits",
        "https://api.twitter.com/2/problems/credits",
        "https://api.x.com/2/problems/credits/",
        "https://api.x.com/2/problems/credits?lang=en#top",
        "credits",
        "urn:x:credits",
    };
    char seg[XERR_TYPE_LEN];

    for (size_t i = 0; i < sizeof(uris) / sizeof(*uris); i++) {
        xerr_type_segment(seg, sizeof(seg), uris[i]);
        assert_string_equal(seg, "credits");
    }
    xerr_type_segment(seg, sizeof(seg), "about:blank");
    assert_string_equal(seg, "blank");
    xerr_type_segment(seg, sizeof(seg), "");
    assert_string_equal(seg, "");
    xerr_type_segment(seg, sizeof(seg), NULL);
    assert_string_equal(seg, "");
    xerr_type_segment(seg, 4, "https://a/credits");
    assert_string_equal(seg, "cre");
}

static void
test_problem_sanitised(void **state)
{
    char body[2048], why[ERR_LEN];
    struct xerr_problem p;

    snprintf(body, sizeof(body),
             "{\"title\":\"Bad\\r\\nX-Injected: 1\","
             "\"detail\":\"%0*d\",\"type\":\"about:blank\"}",
             1500, 7);
    assert_int_equal(xerr_parse(body, strlen(body), &p), 0);
    assert_string_equal(p.title, "Bad??X-Injected: 1");
    assert_int_equal(strlen(p.detail), XERR_DETAIL_LEN - 1);
    xerr_describe(400, &p, why, sizeof(why));
    assert_null(strchr(why, '\n'));
    assert_true(strlen(why) < sizeof(why));
    /* not NUL-terminated input: only len bytes are read */
    assert_int_equal(xerr_parse("{\"title\":\"T\"}XXXX", 13, &p), 0);
    assert_string_equal(p.title, "T");
    assert_int_equal(xerr_parse(NULL, 0, &p), ERR_FAIL);
}

static void
test_describe(void **state)
{
    struct xerr_problem p;
    char out[ERR_LEN];

    memset(&p, 0, sizeof(p));
    xerr_describe(503, NULL, out, sizeof(out));
    assert_string_equal(out, "HTTP 503");
    strcpy(p.title, "Unauthorized");
    strcpy(p.detail, "Unauthorized");
    xerr_describe(401, &p, out, sizeof(out));
    assert_string_equal(out, "HTTP 401: Unauthorized");
    strcpy(p.title, "Forbidden");
    strcpy(p.detail, "You are not allowed");
    xerr_describe(403, &p, out, sizeof(out));
    assert_string_equal(out, "HTTP 403 Forbidden: You are not allowed");
    p.detail[0] = '\0';
    xerr_describe(403, &p, out, sizeof(out));
    assert_string_equal(out, "HTTP 403 Forbidden");
    xerr_describe(403, &p, out, 5);
    assert_string_equal(out, "HTTP");
    for (int c = XERR_NONE; c <= XERR_PERMANENT; c++)
        assert_string_not_equal(xerr_class_name((enum xerr_class)c), "unknown");
    for (int o = X_DONE; o <= X_FAIL; o++)
        assert_string_not_equal(x_outcome_name((enum x_outcome)o), "unknown");
}

/* ---- rate-limit waits ---- */

#define NOW 1800000000LL

static char *
at(long long offset)
{
    static char bufs[8][24];
    static int next;
    char *b = bufs[next++ % 8];

    snprintf(b, sizeof(bufs[0]), "%lld", NOW + offset);
    return b;
}

static void
test_rate_limit_wait(void **state)
{
    struct xerr_limits l;

    /* the 15-minute window, spent: its reset, + 1 s + jitter */
    memset(&l, 0, sizeof(l));
    l.reset = at(120);
    l.remaining = "0";
    assert_int_equal(xerr_rate_limit_wait_ms(&l, NOW, 0.0), 121000);
    assert_int_equal(xerr_rate_limit_wait_ms(&l, NOW, 0.5), 123500);
    assert_int_equal(xerr_rate_limit_wait_ms(&l, NOW, 1.0), 126000);
    assert_int_equal(xerr_rate_limit_wait_ms(&l, NOW, 7.0), 126000);
    assert_int_equal(xerr_rate_limit_wait_ms(&l, NOW, -1.0), 121000);
    assert_int_equal(xerr_rate_limit_wait_ms(&l, NOW, NAN), 121000);
    /* the user's 24-hour limit spent while the window is not */
    l.remaining = "57";
    l.reset = at(900);
    l.user_day_remaining = "0";
    l.user_day_reset = at(7200);
    assert_int_equal(xerr_rate_limit_wait_ms(&l, NOW, 0.0), 7201000);
    /* both spent: the later reset */
    l.remaining = "0";
    l.user_day_reset = at(60);
    assert_int_equal(xerr_rate_limit_wait_ms(&l, NOW, 0.0), 901000);
    /* the app's 24-hour limit counts too */
    l.app_day_remaining = " 0 ";
    l.app_day_reset = at(40000);
    assert_int_equal(xerr_rate_limit_wait_ms(&l, NOW, 0.0), 40001000);
    /* nothing says 0: x-rate-limit-reset is still the best guess */
    memset(&l, 0, sizeof(l));
    l.reset = at(300);
    l.remaining = "3";
    l.user_day_remaining = "10";
    l.user_day_reset = at(80000);
    assert_int_equal(xerr_rate_limit_wait_ms(&l, NOW, 0.0), 301000);
    /* a reset already past: just the second and jitter */
    l.reset = at(-30);
    assert_int_equal(xerr_rate_limit_wait_ms(&l, NOW, 0.0), 1000);
    /* absurdly far ahead: a day at most */
    l.reset = "999999999999999";
    assert_int_equal(xerr_rate_limit_wait_ms(&l, NOW, 0.0),
                     XERR_MAX_WAIT_MS + 1000);
}

static void
test_rate_limit_wait_malformed(void **state)
{
    static const char *const bad[] = {
        "",    "abc",         "-5",         "12.5",
        "1e9", "1800000120x", "0x6B49D200", "1234567890123456"};
    struct xerr_limits l;

    assert_int_equal(xerr_rate_limit_wait_ms(NULL, NOW, 0.0),
                     XERR_DEFAULT_WAIT_MS + 1000);
    for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
        memset(&l, 0, sizeof(l));
        l.reset = bad[i];
        l.remaining = "0";
        l.user_day_reset = bad[i];
        l.user_day_remaining = "0";
        assert_int_equal(xerr_rate_limit_wait_ms(&l, NOW, 0.0),
                         XERR_DEFAULT_WAIT_MS + 1000);
    }
    /* a malformed remaining does not count as spent */
    memset(&l, 0, sizeof(l));
    l.reset = at(100);
    l.remaining = "zero";
    l.user_day_reset = at(5000);
    l.user_day_remaining = "";
    assert_int_equal(xerr_rate_limit_wait_ms(&l, NOW, 0.0), 101000);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_creds_good),
        cmocka_unit_test(test_creds_missing_fields),
        cmocka_unit_test(test_creds_bad_values),
        cmocka_unit_test(test_creds_not_json),
        cmocka_unit_test(test_creds_restore_allocators),
        cmocka_unit_test(test_id_ok),
        cmocka_unit_test(test_image_check),
        cmocka_unit_test(test_alt_check),
        cmocka_unit_test(test_ids_check),
        cmocka_unit_test(test_text_check),
        cmocka_unit_test(test_base_url),
        cmocka_unit_test(test_new_and_refusals),
        cmocka_unit_test(test_boundary),
        cmocka_unit_test(test_multipart_exact),
        cmocka_unit_test(test_multipart_binary),
        cmocka_unit_test(test_json_metadata),
        cmocka_unit_test(test_json_tweet),
        cmocka_unit_test(test_problems),
        cmocka_unit_test(test_problem_type_segment),
        cmocka_unit_test(test_problem_sanitised),
        cmocka_unit_test(test_describe),
        cmocka_unit_test(test_rate_limit_wait),
        cmocka_unit_test(test_rate_limit_wait_malformed),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
