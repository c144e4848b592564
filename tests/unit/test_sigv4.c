/*
 * Unit tests for aws/sigv4.c: AWS's published SigV4 test suite and the S3
 * worked examples (tests/vectors/sigv4/), the canonicalisation rules one
 * at a time, error paths, the key cache, and a randomised cross-check in
 * which botocore re-signs every request (tests/tools/sigv4_verify.py).
 */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "aws/sigv4.h"
#include "core/buf.h"
#include "core/mem.h"

#define EMPTY_SHA                                                              \
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
#define T_20150830 1440938160 /* 2015-08-30T12:36:00Z */

static const struct sigv4_creds test_creds = {
    "AKIDEXAMPLE",
    "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
    NULL,
};

/* ---- small helpers ---------------------------------------------------- */

static char *
slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    struct buf b;
    char chunk[4096];
    size_t n;

    if (f == NULL)
        return NULL;
    buf_init(&b);
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
        buf_append(&b, chunk, n);
    fclose(f);
    return buf_steal(&b);
}

/* slurp() of dir/name.ext, or of dir/name when ext is NULL. */
static char *
slurp_in(const char *dir, const char *name, const char *ext)
{
    char *path = ext ? mem_printf("%s/%s.%s", dir, name, ext)
                     : mem_printf("%s/%s", dir, name);
    char *text = slurp(path);

    free(path);
    return text;
}

static const char *
top_dir(void)
{
    const char *t = getenv("SPOOKYD_TOP");

    return t != NULL && *t != '\0' ? t : ".";
}

/* Line n (from 0) of s, in a static buffer. */
static const char *
line_of(const char *s, int n)
{
    static char out[4096];
    const char *end;

    for (; n > 0 && s != NULL; n--) {
        s = strchr(s, '\n');
        s = s ? s + 1 : NULL;
    }
    if (s == NULL)
        return "(none)";
    end = strchrnul(s, '\n');
    snprintf(out, sizeof(out), "%.*s", (int)(end - s), s);
    return out;
}

/* A plain GET request on a non-S3 service, for tests to modify. */
static struct sigv4_request
base_request(void)
{
    struct sigv4_request r;

    memset(&r, 0, sizeof(r));
    r.method = "GET";
    r.host = "example.amazonaws.com";
    r.path = "/";
    r.region = "us-east-1";
    r.service = "service";
    return r;
}

static void
sign_ok(const struct sigv4_request *r, const struct sigv4_creds *c, time_t t,
        struct sigv4_signed *out)
{
    char err[ERR_LEN];
    int rc = sigv4_sign(r, c, t, NULL, out, err);

    if (rc != 0)
        print_error("sigv4_sign: %s\n", err);
    assert_int_equal(rc, 0);
}

/* ---- the vectors ---------------------------------------------------------
 * Each case directory holds <case>.req (the request), and whichever of
 * .creq, .sts, .authz, .sreq its source published.  The signing context
 * comes from default.context, overridden by the case's own "context". */

struct kv {
    char *key[32];
    char *val[32];
    size_t n;
};

static void
kv_load(struct kv *kv, const char *dir, const char *file)
{
    char *text = slurp_in(dir, file, NULL), *line, *save = NULL;

    if (text == NULL)
        return;
    for (line = strtok_r(text, "\n", &save); line != NULL;
         line = strtok_r(NULL, "\n", &save)) {
        char *eq = strchr(line, '=');

        if (line[0] == '#' || eq == NULL || kv->n == 32)
            continue;
        kv->key[kv->n] = mem_strndup(line, (size_t)(eq - line));
        kv->val[kv->n++] = mem_strdup(eq + 1);
    }
    free(text);
}

static const char *
kv_get(const struct kv *kv, const char *key)
{
    for (size_t i = kv->n; i > 0; i--)
        if (strcmp(kv->key[i - 1], key) == 0)
            return kv->val[i - 1];
    return NULL;
}

static void
kv_free(struct kv *kv)
{
    for (size_t i = 0; i < kv->n; i++) {
        free(kv->key[i]);
        free(kv->val[i]);
    }
    kv->n = 0;
}

struct vreq {
    struct sigv4_request req;
    struct sigv4_header hdr[16];
    const char *date, *token, *content_sha;
    int folded;
};

static char *
skip_blanks(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    return s;
}

static void
vreq_header(struct vreq *v, char *name, char *value)
{
    if (strcasecmp(name, "Host") == 0)
        v->req.host = skip_blanks(value);
    else if (strcasecmp(name, "X-Amz-Date") == 0)
        v->date = skip_blanks(value);
    else if (strcasecmp(name, "X-Amz-Security-Token") == 0)
        v->token = skip_blanks(value);
    else if (strcasecmp(name, "x-amz-content-sha256") == 0)
        v->content_sha = skip_blanks(value);
    else if (v->req.n_headers < 16)
        v->hdr[v->req.n_headers++] = (struct sigv4_header){name, value};
}

/* Parse the HTTP request in text (modified in place). */
static int
vreq_parse(struct vreq *v, char *text)
{
    char *line = text, *next = strchr(text, '\n'), *sp, *http, *q;

    memset(v, 0, sizeof(*v));
    v->req.headers = v->hdr;
    if (next != NULL)
        *next++ = '\0';
    sp = strchr(line, ' ');
    http = sp ? strstr(sp + 1, " HTTP/") : NULL;
    if (http == NULL)
        return -1;
    *sp = *http = '\0';
    v->req.method = line;
    v->req.path = sp + 1;
    if ((q = strchr(sp + 1, '?')) != NULL) {
        *q = '\0';
        v->req.query = q + 1;
    }
    while ((line = next) != NULL) {
        char *colon;

        if ((next = strchr(line, '\n')) != NULL)
            *next++ = '\0';
        if (*line == '\0')
            break;
        if (*line == ' ' || *line == '\t') {
            v->folded = 1;
            continue;
        }
        if ((colon = strchr(line, ':')) == NULL)
            return -1;
        *colon = '\0';
        vreq_header(v, line, colon + 1);
    }
    if (next != NULL && *next != '\0') {
        v->req.body = next;
        v->req.body_len = strlen(next);
    }
    return 0;
}

static time_t
parse_amz_date(const char *s)
{
    struct tm tm;

    memset(&tm, 0, sizeof(tm));
    if (s == NULL ||
        sscanf(s, "%4d%2d%2dT%2d%2d%2dZ", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
               &tm.tm_hour, &tm.tm_min, &tm.tm_sec) != 6)
        return (time_t)-1;
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    return timegm(&tm);
}

/* Authorization values compare equal whether the parts are separated by
 * ", " (the suite, botocore, us) or "," (the S3 examples): AWS takes both. */
static int
authz_equal(const char *a, const char *b)
{
    while (*a != '\0' && *b != '\0') {
        if (*a != *b)
            return 0;
        if (*a == ',') {
            a += a[1] == ' ';
            b += b[1] == ' ';
        }
        a++;
        b++;
    }
    return *a == *b;
}

struct tally {
    int full, creq_only, authz_only, skipped, failed;
};

static int
expect_file(const char *dir, const char *name, const char *ext, const char *got,
            int authz)
{
    char *want;
    int ok;

    if ((want = slurp_in(dir, name, ext)) == NULL)
        return -1; /* not published for this case */
    ok = authz ? authz_equal(want, got) : strcmp(want, got) == 0;
    if (!ok)
        print_error("%s: .%s differs\n--- want\n%s\n--- got\n%s\n", name, ext,
                    want, got);
    free(want);
    return ok ? 1 : 0;
}

/* Compare out with the files the case has.  Returns -1 on a difference
 * or when nothing was compared, else 1 when a .creq was compared, 0 when
 * only the Authorization was. */
static int
check_signed(const char *dir, const char *name, const struct vreq *v,
             const struct sigv4_signed *out, int creq_only)
{
    char *sreq;
    int r, seen = 0, bad = 0, has_creq;

    if ((r = expect_file(dir, name, "creq", out->canonical_request, 0)) >= 0)
        seen++, bad += !r;
    has_creq = seen;
    if (creq_only)
        return seen == 1 && !bad ? 1 : -1;
    if ((r = expect_file(dir, name, "sts", out->string_to_sign, 0)) >= 0)
        seen++, bad += !r;
    if ((r = expect_file(dir, name, "authz", out->authorization, 1)) >= 0)
        seen++, bad += !r;
    if ((sreq = slurp_in(dir, name, "sreq")) != NULL) {
        if (strstr(sreq, out->authorization) == NULL)
            bad++, print_error("%s: .sreq lacks our Authorization\n", name);
        free(sreq);
    }
    if (v->content_sha && strcmp(v->content_sha, out->payload_hash) != 0)
        bad++, print_error("%s: x-amz-content-sha256 differs\n", name);
    return seen > 0 && !bad ? has_creq : -1;
}

static void
run_case(const char *base, const char *name, struct tally *t)
{
    char *dir = mem_printf("%s/%s", base, name);
    struct kv kv = {0};
    struct vreq v;
    struct sigv4_signed out;
    struct sigv4_creds c;
    char err[ERR_LEN], *text;
    const char *skip, *check;

    kv_load(&kv, base, "default.context");
    kv_load(&kv, dir, "context");
    text = slurp_in(dir, name, "req");
    skip = kv_get(&kv, "skip");
    check = kv_get(&kv, "check");
    if (skip != NULL) {
        print_message("skip %s: %s\n", name, skip);
        t->skipped++;
    } else if (text == NULL || vreq_parse(&v, text) < 0 || v.folded) {
        print_error("%s: .req missing, malformed or folded\n", name);
        t->failed++;
    } else {
        c.access_key_id = kv_get(&kv, "access_key");
        c.secret_access_key = kv_get(&kv, "secret_key");
        c.session_token = v.token;
        v.req.region = kv_get(&kv, "region");
        v.req.service = kv_get(&kv, "service");
        v.req.s3 = atoi(kv_get(&kv, "s3") ? kv_get(&kv, "s3") : "0");
        if (sigv4_sign(&v.req, &c, parse_amz_date(v.date), NULL, &out, err) !=
            0) {
            print_error("%s: %s\n", name, err);
            t->failed++;
        } else {
            int creq_only = check && strcmp(check, "creq") == 0;
            int r = check_signed(dir, name, &v, &out, creq_only);

            if (r < 0)
                t->failed++;
            else if (creq_only)
                t->creq_only++;
            else if (r == 1)
                t->full++;
            else
                t->authz_only++;
            if (r >= 0)
                print_message("ok   %s%s\n", name,
                              creq_only ? " (canonical request only)"
                              : r == 0  ? " (Authorization only)"
                                        : "");
            sigv4_signed_cleanup(&out);
        }
    }
    free(text);
    free(dir);
    kv_free(&kv);
}

static int
cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void
test_vectors(void **state)
{
    char base[1024];
    DIR *d;
    struct dirent *e;
    char *names[128];
    size_t n = 0;
    struct tally t = {0};

    (void)state;
    snprintf(base, sizeof(base), "%s/tests/vectors/sigv4", top_dir());
    d = opendir(base);
    if (d == NULL)
        fail_msg("cannot open %s", base);
    while ((e = readdir(d)) != NULL && n < 128)
        if (e->d_name[0] != '.' && e->d_type == DT_DIR)
            names[n++] = mem_strdup(e->d_name);
    closedir(d);
    qsort(names, n, sizeof(*names), cmp_names);
    for (size_t i = 0; i < n; i++) {
        run_case(base, names[i], &t);
        free(names[i]);
    }
    print_message("vectors: %d full, %d canonical request only, %d "
                  "Authorization only, %d skipped, %d failed\n",
                  t.full, t.creq_only, t.authz_only, t.skipped, t.failed);
    assert_int_equal(t.failed, 0);
    /* The vectors must really be there: 31 suite cases, 2 from
     * aws-c-auth, 4 S3 examples; 2 are known not to apply. */
    assert_true(t.full + t.creq_only + t.authz_only >= 35);
    assert_true(t.skipped <= 2);
}

/* ---- helpers other modules use ----------------------------------------- */

static void
test_uri_encode(void **state)
{
    static const struct {
        const char *in;
        int slash;
        const char *want;
    } cases[] = {
        {"AZaz09-_.~", 0, "AZaz09-_.~"},
        {"a b+c", 1, "a%20b%2Bc"},
        {"a/b", 1, "a/b"},
        {"a/b", 0, "a%2Fb"},
        {"100%", 0, "100%25"},
        {"=&?#", 0, "%3D%26%3F%23"},
        {"\x01\xff", 0, "%01%FF"},
        {"images/2026-07-10_0_PiñaColada.png", 1,
         "images/2026-07-10_0_Pi%C3%B1aColada.png"},
        {"Don't Cry & Smile + 1.png", 1,
         "Don%27t%20Cry%20%26%20Smile%20%2B%201.png"},
        {"", 1, ""},
    };

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *got = sigv4_uri_encode(cases[i].in, cases[i].slash);

        assert_string_equal(got, cases[i].want);
        free(got);
    }
}

static void
test_sha256_and_date(void **state)
{
    char hex[SIGV4_HEX_LEN + 1], date[SIGV4_DATE_LEN + 1];

    (void)state;
    assert_int_equal(sigv4_sha256_hex(NULL, 0, hex), 0);
    assert_string_equal(hex, EMPTY_SHA);
    assert_int_equal(sigv4_sha256_hex("abc", 3, hex), 0); /* FIPS 180-2 */
    assert_string_equal(
        hex,
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    assert_int_equal(sigv4_format_date(T_20150830, date), 0);
    assert_string_equal(date, "20150830T123600Z");
    assert_int_equal(sigv4_format_date(0, date), 0);
    assert_string_equal(date, "19700101T000000Z");
    assert_int_equal(sigv4_format_date(-1, date), ERR_FAIL);
    assert_int_equal(sigv4_format_date((time_t)253402300800LL, date),
                     ERR_FAIL); /* year 10000 */
}

/* ---- canonicalisation rules --------------------------------------------- */

static void
test_s3_keys_encoded_once(void **state)
{
    static const char *const keys[] = {
        "images/2026-07-10_0_PiñaColada.png",
        "Don't Cry Over Spilled Milk/a & b + c.png",
        "a//b/../c/./d", /* S3 keeps dot segments and "//" */
    };
    struct sigv4_request r = base_request();
    struct sigv4_signed out;

    (void)state;
    r.s3 = 1;
    r.service = "s3";
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        char *enc = sigv4_uri_encode(keys[i], 1);
        char *path = mem_printf("/%s", enc);

        r.path = path;
        sign_ok(&r, &test_creds, T_20150830, &out);
        assert_string_equal(line_of(out.canonical_request, 1), path);
        sigv4_signed_cleanup(&out);
        free(path);
        free(enc);
    }
    /* What the wire holds is decoded and encoded once, as S3 does: a raw
     * '$' and lowercase hex come out as in the S3 PUT example. */
    r.path = "/test$file.text%c3%b1";
    sign_ok(&r, &test_creds, T_20150830, &out);
    assert_string_equal(line_of(out.canonical_request, 1),
                        "/test%24file.text%C3%B1");
    sigv4_signed_cleanup(&out);
}

static void
test_other_services_normalise_and_encode_twice(void **state)
{
    static const struct {
        const char *path, *want;
    } cases[] = {
        {"/a%20b/./c//d/", "/a%2520b/c/d/"},
        {"/a/b/../..", "/"},
        {"/a/b/..", "/a"},
        {"//", "/"},
        {"/%2E%2E/x", "/%252E%252E/x"}, /* escaped dots are not dots */
        {"/Piña", "/Pi%C3%B1a"},
    };
    struct sigv4_request r = base_request();
    struct sigv4_signed out;

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        r.path = cases[i].path;
        sign_ok(&r, &test_creds, T_20150830, &out);
        assert_string_equal(line_of(out.canonical_request, 1), cases[i].want);
        sigv4_signed_cleanup(&out);
    }
}

static void
test_query_rules(void **state)
{
    struct sigv4_request r = base_request();
    struct sigv4_signed out;

    (void)state;
    /* decoded then re-encoded, valueless as "name=", empty pieces dropped,
     * sorted after encoding, repeated names ordered by value, '+' kept */
    r.query = "b=2&a=x%20y&a=%2b&lifecycle&c=&&Param=2&%e1%88%b4=1&"
              "k=v=w&s=a+b&t=~!'()*";
    sign_ok(&r, &test_creds, T_20150830, &out);
    assert_string_equal(line_of(out.canonical_request, 2),
                        "%E1%88%B4=1&Param=2&a=%2B&a=x%20y&b=2&c=&k=v%3Dw&"
                        "lifecycle=&s=a%2Bb&t=~%21%27%28%29%2A");
    sigv4_signed_cleanup(&out);
    r.query = "";
    sign_ok(&r, &test_creds, T_20150830, &out);
    assert_string_equal(line_of(out.canonical_request, 2), "");
    sigv4_signed_cleanup(&out);
}

static void
test_header_rules(void **state)
{
    static const struct sigv4_header h[] = {
        {"My-Header", "  a   b\t\tc  "}, {"x-amz-meta-a-b", "2"},
        {"X-Amz-Meta-A", "1"},           {"my-header", "second"},
        {"Content-Type", "text/plain"},  {"X-Empty", ""},
    };
    struct sigv4_request r = base_request();
    struct sigv4_signed out;

    (void)state;
    r.host = "localhost:4566";
    r.headers = h;
    r.n_headers = sizeof(h) / sizeof(h[0]);
    sign_ok(&r, &test_creds, T_20150830, &out);
    assert_string_equal(strstr(out.canonical_request, "content-type:"),
                        "content-type:text/plain\n"
                        "host:localhost:4566\n"
                        "my-header:a b c,second\n"
                        "x-amz-date:20150830T123600Z\n"
                        "x-amz-meta-a:1\n"
                        "x-amz-meta-a-b:2\n"
                        "x-empty:\n"
                        "\n"
                        "content-type;host;my-header;x-amz-date;"
                        "x-amz-meta-a;x-amz-meta-a-b;x-empty\n" EMPTY_SHA);
    assert_non_null(strstr(out.authorization,
                           ", SignedHeaders=content-type;host;my-header;"
                           "x-amz-date;x-amz-meta-a;x-amz-meta-a-b;x-empty, "
                           "Signature="));
    sigv4_signed_cleanup(&out);
}

static void
test_added_headers(void **state)
{
    static const char body[] = "spooky bytes";
    struct sigv4_request r = base_request();
    struct sigv4_creds c = test_creds;
    struct sigv4_signed out;
    char hash[SIGV4_HEX_LEN + 1];

    (void)state;
    r.method = "PUT";
    r.s3 = 1;
    r.service = "s3";
    r.path = "/k";
    r.body = body;
    r.body_len = sizeof(body) - 1;
    c.session_token = "FQoGZXIvYXdzE//token+/=";
    sign_ok(&r, &c, T_20150830, &out);
    assert_int_equal(sigv4_sha256_hex(body, sizeof(body) - 1, hash), 0);
    assert_int_equal(out.n_add, 4);
    assert_string_equal(out.add[0].name, "X-Amz-Date");
    assert_string_equal(out.add[0].value, "20150830T123600Z");
    assert_string_equal(out.add[1].name, "x-amz-content-sha256");
    assert_string_equal(out.add[1].value, hash);
    assert_string_equal(out.add[2].name, "X-Amz-Security-Token");
    assert_string_equal(out.add[2].value, c.session_token);
    assert_string_equal(out.add[3].name, "Authorization");
    assert_ptr_equal(out.add[3].value, out.authorization);
    assert_string_equal(line_of(out.canonical_request, 8),
                        "host;x-amz-content-sha256;x-amz-date;"
                        "x-amz-security-token");
    assert_string_equal(line_of(out.canonical_request, 9), hash);
    sigv4_signed_cleanup(&out);

    /* Other services: no x-amz-content-sha256, no token header without a
     * token; UNSIGNED-PAYLOAD passes through for S3. */
    r.s3 = 0;
    r.service = "dynamodb";
    sign_ok(&r, &test_creds, T_20150830, &out);
    assert_int_equal(out.n_add, 2);
    assert_string_equal(out.add[1].name, "Authorization");
    assert_null(strstr(out.canonical_request, "x-amz-content-sha256"));
    sigv4_signed_cleanup(&out);
    r.s3 = 1;
    r.body = NULL;
    r.body_len = 0;
    r.payload_hash = SIGV4_UNSIGNED_PAYLOAD;
    sign_ok(&r, &test_creds, T_20150830, &out);
    assert_string_equal(out.add[1].value, "UNSIGNED-PAYLOAD");
    assert_string_equal(line_of(out.canonical_request, 8), "UNSIGNED-PAYLOAD");
    sigv4_signed_cleanup(&out);
}

/* Every input that feeds the signature changes it. */
static void
test_every_input_counts(void **state)
{
    static const struct sigv4_header h1[] = {{"X-A", "1"}};
    static const struct sigv4_header h2[] = {{"X-A", "2"}};
    struct sigv4_request base = base_request(), r;
    struct sigv4_creds c = test_creds;
    struct sigv4_signed ref, out;
    char sig[80];

    (void)state;
    base.headers = h1;
    base.n_headers = 1;
    sign_ok(&base, &c, T_20150830, &ref);
    for (int k = 0; k < 8; k++) {
        r = base;
        c = test_creds;
        time_t t = T_20150830;

        switch (k) {
        case 0:
            c.secret_access_key = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEZ";
            break;
        case 1:
            t += 1;
            break;
        case 2:
            r.region = "us-east-2";
            break;
        case 3:
            r.service = "dynamodb";
            break;
        case 4:
            r.headers = h2;
            break;
        case 5:
            r.query = "a=b";
            break;
        case 6:
            r.body = "x";
            r.body_len = 1;
            break;
        default:
            r.method = "POST";
            break;
        }
        sign_ok(&r, &c, t, &out);
        snprintf(sig, sizeof(sig), "%s",
                 strstr(ref.authorization, "Signature="));
        assert_string_not_equal(strstr(out.authorization, "Signature="), sig);
        sigv4_signed_cleanup(&out);
    }
    sigv4_signed_cleanup(&ref);
}

static void
test_errors(void **state)
{
    static const struct sigv4_header crlf[] = {{"X-A", "secretvalue\r\nX: y"}};
    static const struct sigv4_header own[] = {{"x-amz-DATE", "x"}};
    static const struct sigv4_header ua[] = {{"User-Agent", "x"}};
    static const struct sigv4_header badname[] = {{"X A", "x"}};
    struct sigv4_request r;
    struct sigv4_creds c;
    struct sigv4_signed out;
    char err[ERR_LEN];

    (void)state;
    for (int k = 0; k < 17; k++) {
        time_t t = T_20150830;

        r = base_request();
        c = test_creds;
        switch (k) {
        case 0:
            r.method = NULL;
            break;
        case 1:
            r.host = "";
            break;
        case 2:
            r.path = "relative";
            break;
        case 3:
            r.region = "us/east";
            break;
        case 4:
            r.service = NULL;
            break;
        case 5:
            c.access_key_id = "AK ID";
            break;
        case 6:
            c.secret_access_key = "";
            break;
        case 7:
            c.session_token = "tok en";
            break;
        case 8:
            r.headers = crlf;
            r.n_headers = 1;
            break;
        case 9:
            r.headers = own;
            r.n_headers = 1;
            break;
        case 10:
            r.headers = ua;
            r.n_headers = 1;
            break;
        case 11:
            r.headers = badname;
            r.n_headers = 1;
            break;
        case 12:
            r.query = "a=%zz";
            break;
        case 13:
            r.s3 = 1;
            r.path = "/key%4";
            break;
        case 14:
            r.payload_hash = "ABC";
            break;
        case 15:
            r.payload_hash = EMPTY_SHA;
            r.body = "x";
            r.body_len = 1;
            break;
        default:
            t = -86400;
            break;
        }
        memset(&out, 0x5a, sizeof(out));
        assert_int_equal(sigv4_sign(&r, &c, t, NULL, &out, err), ERR_FAIL);
        assert_true(err[0] != '\0');
        assert_null(strstr(err, "secretvalue"));
        assert_null(strstr(err, "EXAMPLEKEY"));
        assert_null(out.authorization);
        assert_null(out.canonical_request);
        assert_int_equal(out.n_add, 0);
        sigv4_signed_cleanup(&out);
    }
    assert_int_equal(sigv4_sign(NULL, &test_creds, 0, NULL, &out, err),
                     ERR_FAIL);
    sigv4_signed_cleanup(NULL);
    sigv4_cache_cleanup(NULL);
}

static void
test_key_cache(void **state)
{
    struct sigv4_request r = base_request();
    struct sigv4_creds c = test_creds;
    struct sigv4_cache cache;
    struct sigv4_signed a, b;
    char err[ERR_LEN];
    static const unsigned char zero[sizeof(struct sigv4_cache)];

    (void)state;
    sigv4_cache_init(&cache);
    sign_ok(&r, &c, T_20150830, &a);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(sigv4_sign(&r, &c, T_20150830 + i, &cache, &b, err),
                         0);
        if (i == 0)
            assert_string_equal(a.authorization, b.authorization);
        sigv4_signed_cleanup(&b);
    }
    assert_int_equal(cache.misses, 1);
    assert_int_equal(cache.hits, 2);
    /* a rotated secret must not reuse the old key */
    c.secret_access_key = "another-secret";
    assert_int_equal(sigv4_sign(&r, &c, T_20150830, &cache, &b, err), 0);
    assert_string_not_equal(a.authorization, b.authorization);
    sigv4_signed_cleanup(&b);
    assert_int_equal(cache.misses, 2);
    /* next day, other region, other service: each a new key */
    assert_int_equal(sigv4_sign(&r, &c, T_20150830 + 86400, &cache, &b, err),
                     0);
    sigv4_signed_cleanup(&b);
    r.region = "eu-west-3";
    assert_int_equal(sigv4_sign(&r, &c, T_20150830, &cache, &b, err), 0);
    sigv4_signed_cleanup(&b);
    assert_int_equal(cache.misses, 4);
    sigv4_cache_cleanup(&cache);
    assert_memory_equal(&cache, zero, sizeof(cache));
    sigv4_signed_cleanup(&a);
}

/* ---- randomised cross-check with botocore -------------------------------- */

static uint64_t rng;

static uint64_t
rnd(void) /* splitmix64 */
{
    uint64_t z = (rng += 0x9e3779b97f4a7c15ULL);

    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static size_t
pick(size_t n)
{
    return (size_t)(rnd() % n);
}

#define PICK(a) ((a)[pick(sizeof(a) / sizeof((a)[0]))])

static const char *const pieces[] = {
    "a", "Z",    "0",      "9",          "-",     "_",    ".", "~",
    " ", "  ",   "'",      "&",          "+",     "$",    "@", "=",
    ";", ":",    ",",      "?",          "#",     "%",    "!", "(",
    ")", "*",    "[",      "]",          "\"",    "<",    ">", "^",
    "`", "{",    "}",      "|",          "\\",    "ñ",    "é", "日本",
    "🎃", "Piña", "Colada", "2026-07-10", "Don't", "x%41",
};

static char *
random_text(size_t max_pieces)
{
    struct buf b;
    size_t n = 1 + pick(max_pieces);

    buf_init(&b);
    for (size_t i = 0; i < n; i++)
        buf_appends(&b, PICK(pieces));
    return buf_steal(&b);
}

/* A key with '/', "//" and dot segments, which S3 signs as they are. */
static char *
random_key(void)
{
    static const char *const seps[] = {"/", "/", "//", "/./", "/../"};
    struct buf b;
    size_t n = 1 + pick(4);

    if (pick(8) == 0)
        return mem_strdup("images/2026-07-10_0_PiñaColada.png");
    buf_init(&b);
    for (size_t i = 0; i < n; i++) {
        char *t = random_text(4);

        if (i > 0)
            buf_appends(&b, PICK(seps));
        buf_appends(&b, t);
        free(t);
    }
    return buf_steal(&b);
}

#define RAW_NAME "!$'()*,;:@/?"
#define RAW_VALUE RAW_NAME "="
#define RAW_PATH "!$'()*,;:@=&+"

/* One byte as some client might have put it on the wire: unreserved
 * bytes raw or escaped, bytes of `raw` (legal unescaped there) sometimes
 * raw, the rest escaped with upper or lower case hex. */
static void
wire_byte(struct buf *b, unsigned char c, const char *raw)
{
    const char *digits = pick(2) ? "0123456789ABCDEF" : "0123456789abcdef";
    int unreserved = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                     (c >= '0' && c <= '9') || strchr("-_.~", c);

    if ((unreserved && pick(8)) || (strchr(raw, c) && pick(3) == 0)) {
        buf_appendc(b, (char)c);
    } else {
        char e[3] = {'%', digits[c >> 4], digits[c & 15]};

        buf_append(b, e, 3);
    }
}

static void
wire_part(struct buf *b, const char *s, const char *raw)
{
    for (; *s != '\0'; s++)
        wire_byte(b, (unsigned char)*s, raw);
}

/* Raw query for the signer, decoded pairs for botocore. */
static char *
random_query(json_t *pairs)
{
    struct buf q;
    size_t n = pick(6);

    buf_init(&q);
    for (size_t i = 0; i < n; i++) {
        char *name = random_text(3);
        char *value = pick(4) ? random_text(4) : mem_strdup("");
        int valueless = value[0] == '\0' && pick(2);

        if (q.len > 0)
            buf_appends(&q, pick(6) ? "&" : "&&");
        wire_part(&q, name, RAW_NAME);
        if (!valueless) {
            buf_appendc(&q, '=');
            wire_part(&q, value, RAW_VALUE);
        }
        json_array_append_new(pairs, json_pack("[ss]", name, value));
        free(name);
        free(value);
    }
    return buf_steal(&q);
}

/* Path for a non-S3 service: encoded segments (some with lowercase hex),
 * raw sub-delimiters, dot segments and empty segments to normalise. */
static char *
random_service_path(void)
{
    static const char *const raw[] = {"!", "$", "&", "'", "(", ")", "*",
                                      "+", ",", ";", "=", ":", "@", "."};
    struct buf b;
    size_t n = pick(5);

    buf_init(&b);
    for (size_t i = 0; i < n; i++) {
        size_t kind = pick(6);

        buf_appendc(&b, '/');
        if (kind == 0)
            buf_appends(&b, pick(2) ? "." : "..");
        else if (kind == 1)
            buf_appends(&b, PICK(raw));
        else if (kind > 2) { /* kind 2: empty segment */
            char *t = random_text(3);

            wire_part(&b, t, RAW_PATH);
            free(t);
        }
    }
    if (b.len == 0 || pick(4) == 0)
        buf_appendc(&b, '/');
    return buf_steal(&b);
}

static char *
random_header_value(void)
{
    static const char *const bits[] = {
        "a",          "b c",        "  ",
        "\t",         " \t ",       "\"quoted   text\"",
        "x=1; y=2",   "text/plain", "*",
        "W/\"etag\"", "bytes=0-9",  ",",
        "AES256",
    };
    struct buf b;
    size_t n = 1 + pick(4);

    buf_init(&b);
    for (size_t i = 0; i < n; i++)
        buf_appends(&b, PICK(bits));
    return buf_steal(&b);
}

static char *
random_case(const char *s)
{
    char *r = mem_strdup(s);

    for (char *p = r; *p != '\0'; p++)
        if (pick(4) == 0 &&
            ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z')))
            *p ^= 0x20;
    return r;
}

static char *
random_secret(size_t n)
{
    static const char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=";
    char *s = mem_alloc(n + 1);

    for (size_t i = 0; i < n; i++)
        s[i] = alphabet[pick(sizeof(alphabet) - 1)];
    s[n] = '\0';
    return s;
}

struct xreq {
    struct sigv4_request req;
    struct sigv4_header hdr[6];
    char *hname[6], *hval[6];
    char *host_path, *query, *body, *akid, *secret, *token, *key;
    unsigned char bytes[64];
};

static void
xreq_free(struct xreq *x)
{
    for (size_t i = 0; i < x->req.n_headers; i++) {
        free(x->hname[i]);
        free(x->hval[i]);
    }
    free(x->host_path);
    free(x->query);
    free(x->akid);
    free(x->secret);
    free(x->token);
    free(x->key);
}

static void
random_headers(struct xreq *x, json_t *jh)
{
    static const char *const names[] = {
        "X-Amz-Meta-Day",      "x-amz-meta-a",  "x-amz-meta-a-b",
        "Content-Type",        "Cache-Control", "If-None-Match",
        "x-amz-storage-class", "Range",         "X-Amz-Server-Side-Encryption",
        "X-Amz-Target",        "My-Header1",
    };
    size_t n = pick(6);

    for (size_t i = 0; i < n; i++) {
        /* sometimes repeat the previous name in another case */
        const char *base =
            i > 0 && pick(4) == 0 ? x->hname[i - 1] : PICK(names);

        x->hname[i] = random_case(base);
        x->hval[i] = random_header_value();
        x->hdr[i] = (struct sigv4_header){x->hname[i], x->hval[i]};
        json_array_append_new(jh, json_pack("[ss]", x->hname[i], x->hval[i]));
    }
    x->req.headers = x->hdr;
    x->req.n_headers = n;
}

/* Fill x with a random request and describe it in j for botocore. */
static void
random_request(struct xreq *x, json_t *j)
{
    static const char *const methods[] = {"GET", "PUT", "POST", "DELETE",
                                          "HEAD"};
    static const char *const regions[] = {"us-east-1", "eu-west-3",
                                          "ap-southeast-2", "us-gov-west-1"};
    static const char *const s3_hosts[] = {"spooky.s3.eu-west-3.amazonaws.com",
                                           "s3.us-east-1.amazonaws.com",
                                           "localhost:4566", "127.0.0.1:9000"};
    static const char *const services[][2] = {
        {"dynamodb", "dynamodb.us-east-1.amazonaws.com"},
        {"secretsmanager", "secretsmanager.eu-west-3.amazonaws.com"},
        {"service", "localhost:8000"}};
    json_t *pairs = json_array(), *jh = json_array();
    char *enc;
    size_t svc = pick(3);

    memset(x, 0, sizeof(*x));
    x->req.s3 = pick(2);
    x->req.method = PICK(methods);
    x->req.region = PICK(regions);
    x->req.service = x->req.s3 ? "s3" : services[svc][0];
    x->req.host = x->req.s3 ? PICK(s3_hosts) : services[svc][1];
    if (x->req.s3) {
        x->key = random_key();
        enc = sigv4_uri_encode(x->key, 1);
        x->host_path = mem_printf("%s%s", pick(2) ? "/" : "/my.bucket/", enc);
        free(enc);
    } else {
        x->host_path = random_service_path();
    }
    x->req.path = x->host_path;
    x->query = random_query(pairs);
    x->req.query = x->query;
    random_headers(x, jh);
    json_object_set_new(j, "query", pairs);
    json_object_set_new(j, "headers", jh);
}

static void
random_payload(struct xreq *x, json_t *j, char hash[SIGV4_HEX_LEN + 1])
{
    size_t n = pick(sizeof(x->bytes) + 1), kind = pick(6);
    char hex[2 * sizeof(x->bytes) + 1];

    for (size_t i = 0; i < n; i++)
        x->bytes[i] = (unsigned char)rnd();
    for (size_t i = 0; i < n; i++)
        snprintf(hex + 2 * i, 3, "%02x", x->bytes[i]);
    hex[2 * n] = '\0';
    if (x->req.s3 && kind == 0) {
        x->req.payload_hash = SIGV4_UNSIGNED_PAYLOAD;
        json_object_set_new(j, "unsigned_payload", json_true());
        return;
    }
    json_object_set_new(j, "body_hex", json_string(hex));
    if (kind == 1) { /* caller hashed it already */
        assert_int_equal(sigv4_sha256_hex(x->bytes, n, hash), 0);
        x->req.payload_hash = hash;
    } else if (n > 0) {
        x->req.body = x->bytes;
        x->req.body_len = n;
    }
}

static json_t *
ours_json(const struct sigv4_signed *out)
{
    json_t *o = json_object();

    json_t *v;

    for (size_t i = 0; i < out->n_add; i++) {
        assert_non_null(v = json_string(out->add[i].value));
        json_object_set_new(o, out->add[i].name, v);
    }
    assert_non_null(v = json_string(out->canonical_request));
    json_object_set_new(o, "canonical_request", v);
    return o;
}

/* Sign one random request (with a wrong secret when tamper) and append
 * its JSON line to f. */
static void
cross_one(FILE *f, int id, int tamper)
{
    struct xreq x;
    struct sigv4_creds c;
    struct sigv4_signed out;
    char hash[SIGV4_HEX_LEN + 1], *line;
    json_t *j = json_object();
    time_t t = (time_t)(946684800 + pick(1104537600)); /* 2000-2034 */

    random_request(&x, j);
    random_payload(&x, j, hash);
    x.akid = mem_strdup("AKIASPOOKYD0TESTKEY1");
    x.secret = random_secret(40);
    x.token = pick(2) ? random_secret(24 + pick(200)) : NULL;
    c.access_key_id = x.akid;
    c.secret_access_key = x.secret;
    c.session_token = x.token;
    if (tamper)
        c.secret_access_key = x.token ? x.token : "not-the-secret";
    sign_ok(&x.req, &c, t, &out);
    json_object_set_new(j, "id", json_integer(id));
    json_object_set_new(j, "method", json_string(x.req.method));
    json_object_set_new(j, "host", json_string(x.req.host));
    json_object_set_new(j, "path", json_string(x.req.path));
    json_object_set_new(j, "s3", json_boolean(x.req.s3));
    json_object_set_new(j, "region", json_string(x.req.region));
    json_object_set_new(j, "service", json_string(x.req.service));
    json_object_set_new(j, "access_key_id", json_string(x.akid));
    json_object_set_new(j, "secret_access_key", json_string(x.secret));
    json_object_set_new(j, "session_token",
                        x.token ? json_string(x.token) : json_null());
    json_object_set_new(j, "time", json_integer((json_int_t)t));
    json_object_set_new(j, "ours", ours_json(&out));
    line = json_dumps(j, JSON_COMPACT);
    assert_non_null(line);
    fprintf(f, "%s\n", line);
    free(line);
    json_decref(j);
    sigv4_signed_cleanup(&out);
    xreq_free(&x);
}

static int
run_verifier(const char *in, const char *out)
{
    char script[1024];
    pid_t pid;
    int status;

    snprintf(script, sizeof(script), "%s/tests/tools/sigv4_verify.py",
             top_dir());
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        execl("/usr/bin/python3", "python3", script, in, out, (char *)NULL);
        _exit(126);
    }
    assert_int_equal(waitpid(pid, &status, 0), pid);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

#define CROSS_N 400
#define TAMPER_EVERY 10

static void
test_botocore_cross_check(void **state)
{
    char dir[] = "/tmp/sigv4-cross-XXXXXX", in[64], outp[64], line[256];
    const char *seed = getenv("SIGV4_SEED");
    int ok = 0, caught = 0, rc;
    FILE *f;

    (void)state;
    if (access("/usr/bin/python3", X_OK) != 0)
        skip();
    rng = seed ? strtoull(seed, NULL, 0) : 20261203;
    print_message("cross-check seed %llu (set SIGV4_SEED to vary)\n",
                  (unsigned long long)rng);
    assert_non_null(mkdtemp(dir));
    snprintf(in, sizeof(in), "%s/in.jsonl", dir);
    snprintf(outp, sizeof(outp), "%s/out.txt", dir);
    assert_non_null(f = fopen(in, "w"));
    for (int i = 0; i < CROSS_N; i++)
        cross_one(f, i, i % TAMPER_EVERY == TAMPER_EVERY - 1);
    fclose(f);
    rc = run_verifier(in, outp);
    if (rc == 77) {
        unlink(in);
        rmdir(dir);
        skip();
    }
    assert_int_equal(rc, 0);
    assert_non_null(f = fopen(outp, "r"));
    for (int i = 0; fgets(line, sizeof(line), f) != NULL; i++) {
        char want[64];
        int tamper = i % TAMPER_EVERY == TAMPER_EVERY - 1;

        snprintf(want, sizeof(want),
                 tamper ? "mismatch %d authorization\n" : "ok %d\n", i);
        if (strcmp(line, want) != 0)
            print_error("request %d: botocore says %s", i, line);
        else if (tamper)
            caught++;
        else
            ok++;
    }
    fclose(f);
    if (getenv("SIGV4_KEEP") != NULL) {
        print_message("kept %s and %s\n", in, outp);
    } else {
        unlink(in);
        unlink(outp);
        rmdir(dir);
    }
    print_message("botocore agreed on %d requests and caught %d wrong "
                  "secrets\n",
                  ok, caught);
    assert_int_equal(ok, CROSS_N - CROSS_N / TAMPER_EVERY);
    assert_int_equal(caught, CROSS_N / TAMPER_EVERY);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vectors),
        cmocka_unit_test(test_uri_encode),
        cmocka_unit_test(test_sha256_and_date),
        cmocka_unit_test(test_s3_keys_encoded_once),
        cmocka_unit_test(test_other_services_normalise_and_encode_twice),
        cmocka_unit_test(test_query_rules),
        cmocka_unit_test(test_header_rules),
        cmocka_unit_test(test_added_headers),
        cmocka_unit_test(test_every_input_counts),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_key_cache),
        cmocka_unit_test(test_botocore_cross_check),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
