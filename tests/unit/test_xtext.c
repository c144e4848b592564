/*
 * Unit tests for x/xtext.c: twitter-text's conformance cases kept in
 * tests/vectors/xtext/, then weights, emoji sequences, URLs, bad UTF-8 and
 * the messages of xtext_check().  Includes xtext.c to test punycode_len().
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/buf.h"
#include "x/xtext.c"

static void
put_utf8(struct buf *b, uint32_t c)
{
    char u[4];

    if (c < 0x80) {
        buf_appendc(b, (char)c);
    } else if (c < 0x800) {
        u[0] = (char)(0xC0 | c >> 6);
        u[1] = (char)(0x80 | (c & 0x3F));
        buf_append(b, u, 2);
    } else if (c < 0x10000) {
        u[0] = (char)(0xE0 | c >> 12);
        u[1] = (char)(0x80 | (c >> 6 & 0x3F));
        u[2] = (char)(0x80 | (c & 0x3F));
        buf_append(b, u, 3);
    } else {
        u[0] = (char)(0xF0 | c >> 18);
        u[1] = (char)(0x80 | (c >> 12 & 0x3F));
        u[2] = (char)(0x80 | (c >> 6 & 0x3F));
        u[3] = (char)(0x80 | (c & 0x3F));
        buf_append(b, u, 4);
    }
}

/* Undo the vector file's escapes: \uXXXX, \UXXXXXXXX, \n, \\. */
static void
unescape(struct buf *b, const char *s)
{
    while (*s) {
        if (s[0] == '\\' && (s[1] == 'u' || s[1] == 'U')) {
            int digits = s[1] == 'u' ? 4 : 8;
            char hex[9] = {0};

            memcpy(hex, s + 2, (size_t)digits);
            put_utf8(b, (uint32_t)strtoul(hex, NULL, 16));
            s += 2 + digits;
        } else if (s[0] == '\\' && (s[1] == 'n' || s[1] == '\\')) {
            buf_appendc(b, s[1] == 'n' ? '\n' : '\\');
            s += 2;
        } else {
            buf_appendc(b, *s++);
        }
    }
}

struct vcase {
    char *name;
    struct buf text;
    long weight;
    int valid;
    char *skip;
};

static void
vcase_reset(struct vcase *c)
{
    free(c->name);
    free(c->skip);
    buf_cleanup(&c->text);
    c->name = c->skip = NULL;
    c->weight = -1;
    c->valid = -1;
}

/* Check one case; returns 1 if it ran, 0 if it is marked skip. */
static int
run_case(const struct vcase *c)
{
    char err[ERR_LEN];
    size_t len = 0;

    assert_non_null(c->name);
    assert_true(c->weight >= 0 && c->valid >= 0);
    if (c->skip != NULL) {
        print_message("skip: %s (%s)\n", c->name, c->skip);
        return 0;
    }
    assert_int_equal(xtext_weighted_length(buf_str(&c->text), &len, err), 0);
    if ((long)len != c->weight)
        fail_msg("%s: weighted length %zu, expected %ld", c->name, len,
                 c->weight);
    if ((xtext_check(buf_str(&c->text), err) == 0) != c->valid)
        fail_msg("%s: validity should be %d (%s)", c->name, c->valid, err);
    return 1;
}

static void
test_twitter_text_conformance(void **state)
{
    char path[512], *line = NULL, *val;
    struct vcase c = {NULL, {NULL, 0, 0}, -1, -1, NULL};
    size_t cap = 0;
    int ran = 0, skipped = 0, have = 0;
    const char *top = getenv("SPOOKYD_TOP");
    FILE *f;

    (void)state;
    snprintf(path, sizeof(path), "%s/tests/vectors/xtext/validate-v3.txt",
             top != NULL && *top != '\0' ? top : ".");
    f = fopen(path, "r");
    assert_non_null(f);
    for (;;) {
        ssize_t n = getline(&line, &cap, f);

        if (n > 0 && line[n - 1] == '\n')
            line[--n] = '\0';
        if (n <= 0 && have) { /* blank line or end: a case is complete */
            ran += run_case(&c);
            skipped += c.skip != NULL;
            vcase_reset(&c);
            have = 0;
        }
        if (n < 0)
            break;
        if (n == 0 || line[0] == '#' || (val = strstr(line, ": ")) == NULL)
            continue;
        *val = '\0';
        val += 2;
        have = 1;
        if (strcmp(line, "case") == 0)
            c.name = mem_strdup(val);
        else if (strcmp(line, "text") == 0)
            unescape(&c.text, val);
        else if (strcmp(line, "weight") == 0)
            c.weight = atol(val);
        else if (strcmp(line, "valid") == 0)
            c.valid = atoi(val);
        else if (strcmp(line, "skip") == 0)
            c.skip = mem_strdup(val);
    }
    free(line);
    fclose(f);
    vcase_reset(&c);
    print_message("conformance: %d run, %d skipped\n", ran, skipped);
    assert_int_equal(ran + skipped, 26);
    assert_true(ran >= 23);
}

/* Weighted length of the code points in cps (0-terminated). */
static size_t
weight_of_cps(const uint32_t *cps)
{
    struct buf b;
    char err[ERR_LEN];
    size_t len;

    buf_init(&b);
    while (*cps)
        put_utf8(&b, *cps++);
    assert_int_equal(xtext_weighted_length(buf_str(&b), &len, err), 0);
    buf_cleanup(&b);
    return len;
}

static size_t
weight_of(const char *s)
{
    char err[ERR_LEN];
    size_t len = 0;

    assert_int_equal(xtext_weighted_length(s, &len, err), 0);
    return len;
}

static void
test_code_point_weights(void **state)
{
    static const struct {
        uint32_t cp;
        size_t weight;
    } t[] = {
        {0x41, 1},   {0xE9, 1},   {0x10FF, 1}, {0x1100, 2},  {0x1FFF, 2},
        {0x2000, 1}, {0x200D, 1}, {0x200E, 2}, {0x200F, 2},  {0x2010, 1},
        {0x201F, 1}, {0x2020, 2}, {0x2031, 2}, {0x2032, 1},  {0x2037, 1},
        {0x2038, 2}, {0x3042, 2}, {0xFFFD, 2}, {0x10000, 2}, {0x10FFFF, 2},
    };

    (void)state;
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        uint32_t cps[2] = {t[i].cp, 0};

        if (weight_of_cps(cps) != t[i].weight)
            fail_msg("U+%04X should weigh %zu", (unsigned)t[i].cp, t[i].weight);
    }
    assert_int_equal(weight_of(""), 0);
    assert_int_equal(weight_of("a\nb"), 3);
}

/* Expected values agree with parseTweet() of twitter-text 3.1.0 (npm). */
static void
test_emoji_sequences(void **state)
{
    static const struct {
        uint32_t cps[10];
        size_t weight;
    } t[] = {
        {{0x31, 0xFE0F, 0x20E3}, 2},      /* keycap 1 */
        {{0x23, 0x20E3}, 2},              /* keycap # without VS16 */
        {{0x31, 0xFE0F}, 3},              /* not a keycap */
        {{0x1F1EB, 0x1F1F7}, 2},          /* flag FR */
        {{0x1F1EB, 0x1F1F7, 0x1F1E9}, 4}, /* flag + lone indicator */
        {{0x2764, 0xFE0F}, 2},            /* red heart */
        {{0x2764, 0xFE0E}, 4},            /* text-style heart */
        {{0xA9, 0xFE0F}, 2},              /* emoji copyright */
        {{0xA9}, 1},                      /* text copyright */
        {{0x1F44D, 0x1F3FF}, 2},          /* thumbs up, skin tone */
        {{0x1F469, 0x200D, 0x2764, 0xFE0F, 0x200D, 0x1F48B, 0x200D, 0x1F468},
         2},                                    /* kiss */
        {{0x1F3F4, 0x200D, 0x2620, 0xFE0F}, 2}, /* pirate flag */
        {{0x61, 0x200D, 0x62}, 3},              /* stray ZWJ */
        {{0x1F383, 0x1F47B}, 4},                /* two emoji */
        {{0x1F383, 0x200D}, 3},                 /* ZWJ at the end */
    };

    (void)state;
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
        if (weight_of_cps(t[i].cps) != t[i].weight)
            fail_msg("emoji case %zu should weigh %zu, got %zu", i, t[i].weight,
                     weight_of_cps(t[i].cps));
}

/* Expected values agree with parseTweet() of twitter-text 3.1.0 (npm). */
static void
test_urls(void **state)
{
    static const struct {
        const char *text;
        size_t weight;
    } t[] = {
        {"https://example.com.", 24},
        {"(see https://x.com/a_(b)).", 30},
        {"mail someone@example.com", 24},
        {"example.com", 23},
        {"www.example.co.uk/path?q=1", 23},
        {"foo.jp", 23},
        {"foo.jp/x", 23},
        {"foo.jp? yes", 28},
        {"example.com?x=1", 27},
        {"example.com:8080", 28},
        {"example.com:8080/x", 23},
        {"http://example.com/a(b", 25},
        {"t.co", 23},
        {"Node.js rocks", 13},
        {"e.g. this", 9},
        {"http://localhost/x", 18},
        {"http://192.168.0.1/x", 20},
        {"http://256.1.2.3/", 17},
        {"https://api.x.com:8443/2?q=1!", 24},
        {"#example.com $example.com", 25},
        {"xhttp://a.com", 13},
        {"HTTPS://WWW.EXAMPLE.COM", 23},
        {"http://b\xc3\xbc"
         "cher.de/",
         23},
        {"http://"
         "\xd0\xbf\xd1\x80\xd0\xb8\xd0\xbc\xd0\xb5\xd1\x80.\xd1\x80\xd1\x84/",
         23},
        {"http://[::1]:8080/x y", 21},
        {"a-b.com _c.com", 30},
        {"http://a_b.example.com http://a.b_c.com", 23 + 1 + 16},
        {"ftp://www.example.com/", 22},
        {"spookyhttps://b\xc3\xbc"
         "cher.de/",
         24},
        {"\xd0\xba\xd0\xbe\xd1\x82.example.com", 27},
        {"\xe6\x97\xa5\xe6\x9c\xac"
         "example.com",
         27},
        {"http://\xd0\xbf\xd1\x80\xd0\xb8\xd0\xbc\xd0\xb5\xd1\x80."
         "\xd1\x80\xd1\x84"
         "abc",
         19},
        {"http://EXAMPLE.COM\xd9\x83\xd9\x84\xd9\x85\xd8\xa9", 27},
    };

    (void)state;
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
        if (weight_of(t[i].text) != t[i].weight)
            fail_msg("\"%s\" should weigh %zu, got %zu", t[i].text, t[i].weight,
                     weight_of(t[i].text));
}

/*
 * twitter-text stops counting a URL as 23 past 4096 characters, measured
 * with its scheme counted twice (or "https://" added when it has none).
 */
static void
test_url_too_long(void **state)
{
    struct buf b;

    (void)state;
    buf_init(&b);
    buf_appends(&b, "https://a.com/");
    while (b.len < 4096 - 8)
        buf_appendc(&b, 'x');
    assert_int_equal(weight_of(buf_str(&b)), 23);
    buf_appendc(&b, 'x');
    assert_int_equal(weight_of(buf_str(&b)), 4089);
    buf_reset(&b);
    buf_appends(&b, "a.com/");
    while (b.len < 4096 - 8)
        buf_appendc(&b, 'x');
    assert_int_equal(weight_of(buf_str(&b)), 23);
    buf_appendc(&b, 'x');
    assert_int_equal(weight_of(buf_str(&b)), 4089);
    buf_cleanup(&b);
}

/* Lengths from Python 3.11's punycode codec, an independent encoder. */
static void
test_punycode_len(void **state)
{
    static const struct {
        const char *label;
        size_t len;
    } t[] = {
        {"b\xc3\xbc"
         "cher",
         9}, /* bcher-kva */
        {"m\xc3\xbc"
         "nchen",
         10},                /* mnchen-3ya */
        {"\xe2\x98\x83", 3}, /* n3h */
        {"\xd9\xbe\xd8\xa7\xda\xa9\xd8\xb3\xd8\xaa\xd8\xa7\xd9\x86", 13},
        {"\xc3\xbf\xc3\xbf\xc3\xbf\xc3\xbf\xc3\xbf\xc3\xbf\xc3\xbf\xc3\xbf"
         "\xc3\xbf\xc3\xbf",
         12},
        {"\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e\xe3\x83\x86\xe3\x82\xad"
         "\xe3\x82\xb9\xe3\x83\x88",
         20},
    };
    struct text txt;
    size_t bad;

    (void)state;
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        assert_int_equal(utf8_decode(t[i].label, &txt, &bad), 0);
        assert_int_equal(punycode_len(txt.cp, txt.n), t[i].len);
        free(txt.cp);
    }
}

static void
test_invalid_utf8(void **state)
{
    static const struct {
        const char *s;
        const char *where;
    } t[] = {
        {"ab\xc0\xaf", "byte 2"},             /* overlong '/' */
        {"\xed\xa0\x80", "byte 0"},           /* surrogate */
        {"x\xf4\x90\x80\x80", "byte 1"},      /* past U+10FFFF */
        {"abc\xe2\x98", "byte 3"},            /* truncated */
        {"\x80", "byte 0"},                   /* lone continuation */
        {"ok\xf8\x88\x80\x80\x80", "byte 2"}, /* five-byte form */
        {"\xe2\x28\xa1", "byte 0"},           /* bad continuation */
    };
    char err[ERR_LEN];
    size_t len = 7;

    (void)state;
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        assert_int_equal(xtext_weighted_length(t[i].s, &len, err), ERR_FAIL);
        assert_int_equal(len, 0);
        assert_non_null(strstr(err, t[i].where));
        assert_int_equal(xtext_check(t[i].s, err), ERR_FAIL);
        assert_non_null(strstr(err, "caption is not valid UTF-8"));
    }
    assert_int_equal(xtext_weighted_length(NULL, &len, err), ERR_FAIL);
    assert_int_equal(xtext_check(NULL, err), ERR_FAIL);
}

static void
test_check_messages(void **state)
{
    struct buf b;
    char err[ERR_LEN];

    (void)state;
    buf_init(&b);
    for (int i = 0; i < 280; i++)
        buf_appendc(&b, 'a');
    assert_int_equal(xtext_check(buf_str(&b), err), 0);
    buf_appendc(&b, 'a');
    assert_int_equal(xtext_check(buf_str(&b), err), ERR_FAIL);
    assert_string_equal(err, "caption is 281 weighted characters; X allows "
                             "280");

    buf_reset(&b);
    for (int i = 0; i < 140; i++)
        put_utf8(&b, 0x3042);
    assert_int_equal(xtext_check(buf_str(&b), err), 0);
    put_utf8(&b, 0x3042);
    assert_int_equal(xtext_check(buf_str(&b), err), ERR_FAIL);
    assert_string_equal(err, "caption is 282 weighted characters; X allows "
                             "280");
    buf_cleanup(&b);

    assert_int_equal(xtext_check("", err), ERR_FAIL);
    assert_string_equal(err, "caption is empty");
    assert_int_equal(xtext_check("a\xef\xbb\xbf"
                                 "b",
                                 err),
                     ERR_FAIL);
    assert_non_null(strstr(err, "U+FEFF (character 2)"));
    assert_int_equal(xtext_check("\xef\xbf\xbe", err), ERR_FAIL);
    assert_non_null(strstr(err, "U+FFFE"));
    assert_int_equal(xtext_check("ok \xef\xbf\xbf", err), ERR_FAIL);
    assert_non_null(strstr(err, "U+FFFF"));
    assert_int_equal(xtext_check("Happy National Pumpkin Day! "
                                 "\xf0\x9f\x8e\x83\xf0\x9f\x91\xbb",
                                 err),
                     0);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_twitter_text_conformance),
        cmocka_unit_test(test_code_point_weights),
        cmocka_unit_test(test_emoji_sequences),
        cmocka_unit_test(test_urls),
        cmocka_unit_test(test_url_too_long),
        cmocka_unit_test(test_punycode_len),
        cmocka_unit_test(test_invalid_utf8),
        cmocka_unit_test(test_check_messages),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
