/* Unit tests for the pure parts of s3.c: the SHA-256 digest in hex and
 * base64, checksum verification, key checks, the PUT header list, and
 * how awkward keys come out of S3 addressing in both styles. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "aws/endpoint.h"
#include "aws/s3.h"

#define PINA_KEY "images/2026-07-10_0_Pi\xc3\xb1" "aColada.png"

/* FIPS 180-2 appendix B.1 ("abc") and the empty message, as S3 wants
 * them: lowercase hex for the signature, base64 for the header. */
static void
test_digest_vectors(void **state)
{
    char err[ERR_LEN] = "";
    struct s3_digest d;

    (void)state;
    assert_int_equal(s3_digest("abc", 3, &d, err), 0);
    assert_string_equal(d.hex, "ba7816bf8f01cfea414140de5dae2223"
                               "b00361a396177a9cb410ff61f20015ad");
    assert_string_equal(d.b64, "ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0=");
    assert_int_equal(s3_digest(NULL, 0, &d, err), 0);
    assert_string_equal(d.hex, "e3b0c44298fc1c149afbf4c8996fb924"
                               "27ae41e4649b934ca495991b7852b855");
    assert_string_equal(d.b64, "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=");
}

/* Hex and base64 describe the same 32 bytes, for any body. */
static void
test_digest_forms_agree(void **state)
{
    static const char b64[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    unsigned char body[4096], raw[33];
    char err[ERR_LEN] = "";
    struct s3_digest d;
    size_t i, j;

    (void)state;
    for (i = 0; i < sizeof(body); i++)
        body[i] = (unsigned char)(i * 7 + 3);
    assert_int_equal(s3_digest(body, sizeof(body), &d, err), 0);
    assert_int_equal(strlen(d.hex), S3_SHA256_HEX_LEN);
    assert_int_equal(strlen(d.b64), S3_SHA256_B64_LEN);
    for (i = 0; i < 32; i++) {
        unsigned v;

        assert_int_equal(sscanf(d.hex + 2 * i, "%2x", &v), 1);
        raw[i] = (unsigned char)v;
    }
    raw[32] = 0;
    /* Re-encode the hex bytes to base64 by hand and compare. */
    for (i = 0, j = 0; i < 33; i += 3, j += 4) {
        unsigned long w = (unsigned long)raw[i] << 16 |
                          (unsigned long)raw[i + 1] << 8 | raw[i + 2];

        assert_int_equal(d.b64[j], b64[w >> 18 & 63]);
        assert_int_equal(d.b64[j + 1], b64[w >> 12 & 63]);
        assert_int_equal(d.b64[j + 2], b64[w >> 6 & 63]);
        assert_int_equal(d.b64[j + 3], i + 2 < 32 ? b64[w & 63] : '=');
    }
}

static void
test_checksum_verify(void **state)
{
    char err[ERR_LEN] = "";
    struct s3_digest d;

    (void)state;
    assert_int_equal(s3_digest("spooky", 6, &d, err), 0);
    assert_int_equal(s3_checksum_verify(d.b64, "spooky", 6, err), 0);
    assert_int_equal(s3_checksum_verify(NULL, "spooky", 6, err), 0);
    assert_int_equal(s3_checksum_verify(d.b64, "spookY", 6, err),
                     ERR_RETRY);
    assert_string_equal(err, "body of 6 bytes does not match the "
                             "x-amz-checksum-sha256 S3 sent");
    assert_int_equal(s3_checksum_verify(d.b64, "spook", 5, err), ERR_RETRY);
    assert_int_equal(s3_checksum_verify("", "spooky", 6, err), ERR_RETRY);
}

static void
test_key_check(void **state)
{
    static const char *const good[] = {
        PINA_KEY, "a", "images/don't cry over spilled milk.png",
        "a&b+c=d?e#f%20g", "dir//double/./dot/../x", "\xe2\x98\xa0.png",
        "\xf0\x9f\x8e\x83 pumpkin", "~tilde*star(paren)",
    };
    static const struct {
        const char *key, *err;
    } bad[] = {
        {"", "S3 key is empty"},
        {"a\xc3", "S3 key is not UTF-8 (byte 1)"},
        {"\xc0\xaf", "S3 key is not UTF-8 (byte 0)"},
        {"x\xed\xa0\x80", "S3 key is not UTF-8 (byte 1)"},
        {"\xf4\x90\x80\x80", "S3 key is not UTF-8 (byte 0)"},
        {"\xe0\x80\xaf", "S3 key is not UTF-8 (byte 0)"},
        {"ok\xff", "S3 key is not UTF-8 (byte 2)"},
        {"tab\there", "S3 key has a control character (byte 3)"},
        {"del\x7f", "S3 key has a control character (byte 3)"},
        {"line\nbreak", "S3 key has a control character (byte 4)"},
    };
    char err[ERR_LEN], key[S3_KEY_MAX + 2];
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(good) / sizeof(good[0]); i++)
        if (s3_key_check(good[i], err) != 0)
            fail_msg("refused %s: %s", good[i], err);
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        err[0] = '\0';
        assert_int_equal(s3_key_check(bad[i].key, err), ERR_FAIL);
        assert_string_equal(err, bad[i].err);
    }
    assert_int_equal(s3_key_check(NULL, err), ERR_FAIL);
    memset(key, 'k', S3_KEY_MAX);
    key[S3_KEY_MAX] = '\0';
    assert_int_equal(s3_key_check(key, err), 0);
    key[S3_KEY_MAX] = 'k';
    key[S3_KEY_MAX + 1] = '\0';
    assert_int_equal(s3_key_check(key, err), ERR_FAIL);
    assert_string_equal(err, "S3 key is 1025 bytes, over 1024");
}

static void
expect_headers(const struct aws_header *h, int n, const char *const *want)
{
    int i;

    for (i = 0; want[2 * i] != NULL; i++) {
        assert_true(i < n);
        assert_string_equal(h[i].name, want[2 * i]);
        assert_string_equal(h[i].value, want[2 * i + 1]);
    }
    assert_int_equal(n, i);
}

static void
test_put_headers(void **state)
{
    struct s3_put_req req = {0};
    struct aws_header h[S3_PUT_MAX_HEADERS];
    char err[ERR_LEN] = "";
    struct s3_digest d;

    (void)state;
    assert_int_equal(s3_digest("png", 3, &d, err), 0);
    req.content_type = "image/png";
    {
        const char *const want[] = {"Content-Type", "image/png",
                                    "x-amz-checksum-sha256", d.b64, NULL};

        expect_headers(h, s3_put_headers(&req, &d, h, err), want);
    }
    req.cache_control = "public, max-age=31536000, immutable";
    req.kms_key_id = "arn:aws:kms:us-east-1:111122223333:alias/spooky";
    req.write_once = 1;
    {
        const char *const want[] = {
            "Content-Type", "image/png",
            "Cache-Control", "public, max-age=31536000, immutable",
            "x-amz-checksum-sha256", d.b64,
            "x-amz-server-side-encryption", "aws:kms",
            "x-amz-server-side-encryption-aws-kms-key-id",
            "arn:aws:kms:us-east-1:111122223333:alias/spooky",
            "x-amz-server-side-encryption-bucket-key-enabled", "true",
            "If-None-Match", "*", NULL};

        expect_headers(h, s3_put_headers(&req, &d, h, err), want);
    }
    /* "" asks for SSE-KMS with the AWS-managed key: no key id header. */
    req.kms_key_id = "";
    req.cache_control = "";
    req.write_once = 0;
    {
        const char *const want[] = {
            "Content-Type", "image/png", "x-amz-checksum-sha256", d.b64,
            "x-amz-server-side-encryption", "aws:kms",
            "x-amz-server-side-encryption-bucket-key-enabled", "true", NULL};

        expect_headers(h, s3_put_headers(&req, &d, h, err), want);
    }
}

static void
expect_header_error(const char *ctype, const char *cc, const char *kms,
                    const char *want)
{
    struct s3_put_req req = {0};
    struct aws_header h[S3_PUT_MAX_HEADERS];
    char err[ERR_LEN] = "";
    struct s3_digest d = {"", ""};

    req.content_type = ctype;
    req.cache_control = cc;
    req.kms_key_id = kms;
    assert_int_equal(s3_put_headers(&req, &d, h, err), ERR_FAIL);
    assert_string_equal(err, want);
}

static void
test_put_header_errors(void **state)
{
    (void)state;
    expect_header_error(NULL, NULL, NULL, "content type missing");
    expect_header_error("", NULL, NULL, "content type missing");
    expect_header_error("image/png\r\nX-Evil: 1", NULL, NULL,
                        "content type: not printable ASCII (byte 9)");
    expect_header_error("image/png", "max-age=1\n", NULL,
                        "cache control: not printable ASCII (byte 9)");
    expect_header_error("image/png", "max-age=\xc3\xa9", NULL,
                        "cache control: not printable ASCII (byte 8)");
    expect_header_error("image/png", NULL, "alias/a b",
                        "KMS key id: has a space");
    expect_header_error("image/png", NULL, "key\x01",
                        "KMS key id: not printable ASCII (byte 3)");
}

static const char *
no_env(const char *name)
{
    (void)name;
    return NULL;
}

/* Both addressing styles carry awkward keys encoded once, '/' kept:
 * what s3_put() hands to aws_call() ends up here. */
static void
test_awkward_keys_addressed(void **state)
{
    static const struct {
        const char *key, *path;
    } cases[] = {
        {PINA_KEY, "/images/2026-07-10_0_Pi%C3%B1aColada.png"},
        {"images/don't cry.png", "/images/don%27t%20cry.png"},
        {"a&b+c=d", "/a%26b%2Bc%3Dd"},
        {"x/~y_z-.png", "/x/~y_z-.png"},
    };
    struct endpoint ep = {0};
    struct endpoint_target t = {0};
    char err[ERR_LEN] = "", want[256];
    size_t i;

    (void)state;
    assert_int_equal(endpoint_resolve(ENDPOINT_S3, NULL, "us-east-1", no_env,
                                      &ep, err),
                     0);
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        assert_int_equal(endpoint_s3_object(&ep, "spooky",
                                            cases[i].key, 0, &t, err),
                         0);
        assert_string_equal(t.path, cases[i].path);
        assert_string_equal(t.host, "spooky.s3.us-east-1.amazonaws.com");
        endpoint_target_cleanup(&t);
        assert_int_equal(endpoint_s3_object(&ep, "spooky",
                                            cases[i].key, 1, &t, err),
                         0);
        snprintf(want, sizeof(want), "/spooky%s", cases[i].path);
        assert_string_equal(t.path, want);
        endpoint_target_cleanup(&t);
    }
    endpoint_cleanup(&ep);
}

static void
put_never(const struct s3_put_result *res, void *arg)
{
    (void)res;
    (void)arg;
    fail_msg("callback ran for a refused PUT");
}

static void
get_never(const struct s3_get_result *res, void *arg)
{
    (void)res;
    (void)arg;
    fail_msg("callback ran for a refused GET");
}

/* Refusals come back at once and never call back. */
static void
test_refusals(void **state)
{
    struct s3_put_req req = {0};
    char err[ERR_LEN] = "";

    (void)state;
    req.key = "k";
    req.len = 3;
    assert_null(s3_put(NULL, &req, put_never, NULL, err));
    assert_string_equal(err, "s3_put: missing context, callback or body");
    assert_null(s3_put(NULL, NULL, put_never, NULL, err));
    assert_null(s3_get(NULL, "b", "k", 0, NULL, get_never, NULL, err));
    assert_string_equal(err, "s3_get: missing context or callback");
    s3_cancel(NULL);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_digest_vectors),
        cmocka_unit_test(test_digest_forms_agree),
        cmocka_unit_test(test_checksum_verify),
        cmocka_unit_test(test_key_check),
        cmocka_unit_test(test_put_headers),
        cmocka_unit_test(test_put_header_errors),
        cmocka_unit_test(test_awkward_keys_addressed),
        cmocka_unit_test(test_refusals),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
