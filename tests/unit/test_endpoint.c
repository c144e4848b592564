/* Unit tests for aws/endpoint.c: region and endpoint resolution from
 * config and environment (a fake environment table), S3 addressing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "aws/endpoint.h"

/* The fake environment: NAME=VALUE strings, NULL-terminated. */
static const char *fake_env[16];

static const char *
fake_getenv(const char *name)
{
    size_t n = strlen(name);

    for (size_t i = 0; fake_env[i] != NULL; i++)
        if (strncmp(fake_env[i], name, n) == 0 && fake_env[i][n] == '=')
            return fake_env[i] + n + 1;
    return NULL;
}

static void
set_env(const char *first, ...)
{
    va_list ap;
    size_t i = 0;

    va_start(ap, first);
    for (const char *s = first; s != NULL; s = va_arg(ap, const char *))
        fake_env[i++] = s;
    va_end(ap);
    fake_env[i] = NULL;
}

static char *
region_of(const char *config, int want_rc)
{
    char *r = NULL, err[ERR_LEN];

    assert_int_equal(endpoint_region(config, fake_getenv, &r, err), want_rc);
    return r;
}

static void
test_region_order(void **state)
{
    char *r;

    (void)state;
    set_env("AWS_REGION=eu-west-1", "AWS_DEFAULT_REGION=us-west-2", NULL);
    r = region_of("ap-south-1", 0);
    assert_string_equal(r, "ap-south-1");
    free(r);
    r = region_of(NULL, 0);
    assert_string_equal(r, "eu-west-1");
    free(r);
    r = region_of("", 0);
    assert_string_equal(r, "eu-west-1");
    free(r);
    set_env("AWS_REGION=", "AWS_DEFAULT_REGION=us-west-2", NULL);
    r = region_of(NULL, 0);
    assert_string_equal(r, "us-west-2");
    free(r);
    set_env(NULL);
    assert_null(region_of(NULL, 1));
}

static void
test_region_invalid(void **state)
{
    char *r = NULL, err[ERR_LEN];

    (void)state;
    set_env("AWS_REGION=us-east-1.evil.example/", NULL);
    assert_int_equal(endpoint_region(NULL, fake_getenv, &r, err), ERR_FAIL);
    assert_null(r);
    assert_non_null(strstr(err, "AWS_REGION"));
    assert_int_equal(endpoint_region("US-EAST-1", fake_getenv, &r, err),
                     ERR_FAIL);
    assert_non_null(strstr(err, "config"));
    assert_false(endpoint_region_valid("1abc"));
    assert_false(endpoint_region_valid(""));
    assert_false(endpoint_region_valid(NULL));
    assert_false(endpoint_region_valid("a23456789012345678901234567890123"));
    assert_true(endpoint_region_valid("a2345678901234567890123456789012"));
}

/* Resolve svc and compare base and host. */
static void
check(enum endpoint_service svc, const char *config, const char *region,
      const char *base, const char *host, int custom)
{
    struct endpoint ep;
    char err[ERR_LEN];

    assert_int_equal(
        endpoint_resolve(svc, config, region, fake_getenv, &ep, err), 0);
    assert_string_equal(ep.base, base);
    assert_string_equal(ep.host, host);
    assert_int_equal(ep.custom, custom);
    endpoint_cleanup(&ep);
}

static void
test_default_endpoints(void **state)
{
    (void)state;
    set_env(NULL);
    check(ENDPOINT_S3, NULL, "eu-central-1",
          "https://s3.eu-central-1.amazonaws.com",
          "s3.eu-central-1.amazonaws.com", 0);
    check(ENDPOINT_DYNAMODB, NULL, "us-east-1",
          "https://dynamodb.us-east-1.amazonaws.com",
          "dynamodb.us-east-1.amazonaws.com", 0);
    check(ENDPOINT_SECRETSMANAGER, "", "us-west-2",
          "https://secretsmanager.us-west-2.amazonaws.com",
          "secretsmanager.us-west-2.amazonaws.com", 0);
    check(ENDPOINT_S3, NULL, "cn-north-1",
          "https://s3.cn-north-1.amazonaws.com.cn",
          "s3.cn-north-1.amazonaws.com.cn", 0);
    assert_string_equal(endpoint_service_name(ENDPOINT_SECRETSMANAGER),
                        "secretsmanager");
}

static void
test_env_endpoints(void **state)
{
    (void)state;
    set_env("AWS_ENDPOINT_URL=http://localhost:4566",
            "AWS_ENDPOINT_URL_S3=http://127.0.0.1:9000/",
            "AWS_ENDPOINT_URL_DYNAMODB=https://ddb.example:8443",
            "AWS_ENDPOINT_URL_SECRETS_MANAGER=http://[::1]:7000", NULL);
    check(ENDPOINT_S3, NULL, "us-east-1", "http://127.0.0.1:9000",
          "127.0.0.1:9000", 1);
    check(ENDPOINT_DYNAMODB, NULL, "us-east-1", "https://ddb.example:8443",
          "ddb.example:8443", 1);
    check(ENDPOINT_SECRETSMANAGER, NULL, "us-east-1", "http://[::1]:7000",
          "[::1]:7000", 1);
    /* Config beats the environment. */
    check(ENDPOINT_S3, "https://minio.lan", "us-east-1", "https://minio.lan",
          "minio.lan", 1);
    /* The generic variable covers services without their own. */
    set_env("AWS_ENDPOINT_URL=http://localhost:4566",
            "AWS_ENDPOINT_URL_S3=http://127.0.0.1:9000", NULL);
    check(ENDPOINT_DYNAMODB, NULL, "us-east-1", "http://localhost:4566",
          "localhost:4566", 1);
    check(ENDPOINT_SECRETSMANAGER, NULL, "us-east-1", "http://localhost:4566",
          "localhost:4566", 1);
    /* Not the serviceId spelled without '_'. */
    set_env("AWS_ENDPOINT_URL_SECRETSMANAGER=http://localhost:1", NULL);
    check(ENDPOINT_SECRETSMANAGER, NULL, "us-east-1",
          "https://secretsmanager.us-east-1.amazonaws.com",
          "secretsmanager.us-east-1.amazonaws.com", 0);
    /* A default port is left out of Host, as curl leaves it out. */
    set_env("AWS_ENDPOINT_URL=HTTP://Example.COM:80", NULL);
    check(ENDPOINT_S3, NULL, "us-east-1", "http://Example.COM", "Example.COM",
          1);
    set_env("AWS_ENDPOINT_URL=https://example.com:443", NULL);
    check(ENDPOINT_S3, NULL, "us-east-1", "https://example.com", "example.com",
          1);
    set_env("AWS_ENDPOINT_URL=https://example.com:80", NULL);
    check(ENDPOINT_S3, NULL, "us-east-1", "https://example.com:80",
          "example.com:80", 1);
}

static void
test_ignore_flag(void **state)
{
    (void)state;
    set_env("AWS_ENDPOINT_URL=http://localhost:4566",
            "AWS_ENDPOINT_URL_S3=http://127.0.0.1:9000",
            "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=TRUE", NULL);
    check(ENDPOINT_S3, NULL, "us-east-1", "https://s3.us-east-1.amazonaws.com",
          "s3.us-east-1.amazonaws.com", 0);
    check(ENDPOINT_DYNAMODB, NULL, "us-east-1",
          "https://dynamodb.us-east-1.amazonaws.com",
          "dynamodb.us-east-1.amazonaws.com", 0);
    /* The daemon's own config is explicit and still applies. */
    check(ENDPOINT_S3, "http://127.0.0.1:1234", "us-east-1",
          "http://127.0.0.1:1234", "127.0.0.1:1234", 1);
    set_env("AWS_ENDPOINT_URL=http://localhost:4566",
            "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=false", NULL);
    check(ENDPOINT_S3, NULL, "us-east-1", "http://localhost:4566",
          "localhost:4566", 1);
}

static void
test_bad_endpoints(void **state)
{
    static const char *bad[] = {
        "localhost:4566",   "ftp://x",         "http://",       "http://a:0",
        "http://a:65536",   "http://a:123456", "http://a/path", "http://a?x=1",
        "http://user:pw@a", "http://a:80x",    "http://a b",    "http://[::1",
        "http://a#frag",
    };
    struct endpoint ep;
    char err[ERR_LEN];

    (void)state;
    set_env(NULL);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(endpoint_resolve(ENDPOINT_S3, bad[i], "us-east-1",
                                          fake_getenv, &ep, err),
                         ERR_FAIL);
        assert_non_null(strstr(err, "config endpoint"));
        assert_null(ep.base);
    }
    set_env("AWS_ENDPOINT_URL_DYNAMODB=http://x/y", NULL);
    assert_int_equal(endpoint_resolve(ENDPOINT_DYNAMODB, NULL, "us-east-1",
                                      fake_getenv, &ep, err),
                     ERR_FAIL);
    assert_non_null(strstr(err, "AWS_ENDPOINT_URL_DYNAMODB"));
    set_env(NULL);
    assert_int_equal(
        endpoint_resolve(ENDPOINT_DYNAMODB, NULL, NULL, fake_getenv, &ep, err),
        ERR_FAIL);
    assert_int_equal(
        endpoint_resolve(ENDPOINT_DYNAMODB, NULL, "x.y", fake_getenv, &ep, err),
        ERR_FAIL);
    endpoint_cleanup(NULL);
    endpoint_target_cleanup(NULL);
}

/* Address bucket/key on ep and compare the three parts. */
static void
check_obj(const struct endpoint *ep, const char *bucket, const char *key,
          int path_style, const char *url, const char *host, const char *path)
{
    struct endpoint_target t;
    char err[ERR_LEN];

    assert_int_equal(endpoint_s3_object(ep, bucket, key, path_style, &t, err),
                     0);
    assert_string_equal(t.url, url);
    assert_string_equal(t.host, host);
    assert_string_equal(t.path, path);
    endpoint_target_cleanup(&t);
}

static void
test_s3_addressing(void **state)
{
    struct endpoint aws_ep, local;
    char err[ERR_LEN];

    (void)state;
    set_env("AWS_ENDPOINT_URL_S3=http://127.0.0.1:4569", NULL);
    assert_int_equal(endpoint_resolve(ENDPOINT_S3, NULL, "us-east-1",
                                      fake_getenv, &local, err),
                     0);
    set_env(NULL);
    assert_int_equal(endpoint_resolve(ENDPOINT_S3, NULL, "eu-west-1",
                                      fake_getenv, &aws_ep, err),
                     0);
    check_obj(&aws_ep, "spooky-images", "2026/10/31/a b+c.png", 0,
              "https://spooky-images.s3.eu-west-1.amazonaws.com/"
              "2026/10/31/a%20b%2Bc.png",
              "spooky-images.s3.eu-west-1.amazonaws.com",
              "/2026/10/31/a%20b%2Bc.png");
    check_obj(&aws_ep, "spooky-images", "x", 1,
              "https://s3.eu-west-1.amazonaws.com/spooky-images/x",
              "s3.eu-west-1.amazonaws.com", "/spooky-images/x");
    /* Dots would break the wildcard certificate: path-style. */
    check_obj(&aws_ep, "images.example.com", "k", 0,
              "https://s3.eu-west-1.amazonaws.com/images.example.com/k",
              "s3.eu-west-1.amazonaws.com", "/images.example.com/k");
    /* Custom endpoint: path-style, port kept in Host. */
    check_obj(&local, "spooky-images",
              "d\xc3\xad"
              "a/$1 \xe2\x98\xa0.png",
              0,
              "http://127.0.0.1:4569/spooky-images/"
              "d%C3%ADa/%241%20%E2%98%A0.png",
              "127.0.0.1:4569", "/spooky-images/d%C3%ADa/%241%20%E2%98%A0.png");
    /* Keys keep "//" and dot segments: S3 signs them as they are. */
    check_obj(&local, "bkt", "a//./b", 0, "http://127.0.0.1:4569/bkt/a//./b",
              "127.0.0.1:4569", "/bkt/a//./b");
    check_obj(&local, "bkt", NULL, 0, "http://127.0.0.1:4569/bkt",
              "127.0.0.1:4569", "/bkt");
    check_obj(&aws_ep, "bkt", "", 0, "https://bkt.s3.eu-west-1.amazonaws.com/",
              "bkt.s3.eu-west-1.amazonaws.com", "/");
    endpoint_cleanup(&aws_ep);
    endpoint_cleanup(&local);
}

static void
test_s3_bad_input(void **state)
{
    static const char *bad[] = {
        "ab",
        "Upper",
        "a_b",
        "-ab",
        "ab-",
        "a..b",
        "192.168.5.4",
        "a/b",
        "evil.com/x",
        "bucket?x",
        "a234567890123456789012345678901234567890123456789012345678901234",
    };
    struct endpoint ep;
    struct endpoint_target t;
    char err[ERR_LEN], *key;

    (void)state;
    set_env(NULL);
    assert_int_equal(
        endpoint_resolve(ENDPOINT_S3, NULL, "us-east-1", fake_getenv, &ep, err),
        0);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(endpoint_s3_object(&ep, bad[i], "k", 0, &t, err),
                         ERR_FAIL);
        assert_null(t.url);
    }
    assert_int_equal(endpoint_s3_object(&ep, NULL, "k", 0, &t, err), ERR_FAIL);
    assert_true(endpoint_bucket_valid("1.2.3.bucket"));
    key = malloc(1026);
    memset(key, 'k', 1025);
    key[1025] = '\0';
    assert_int_equal(endpoint_s3_object(&ep, "bkt", key, 0, &t, err), ERR_FAIL);
    assert_non_null(strstr(err, "1024"));
    key[1024] = '\0';
    assert_int_equal(endpoint_s3_object(&ep, "bkt", key, 0, &t, err), 0);
    endpoint_target_cleanup(&t);
    free(key);
    endpoint_cleanup(&ep);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_region_order),
        cmocka_unit_test(test_region_invalid),
        cmocka_unit_test(test_default_endpoints),
        cmocka_unit_test(test_env_endpoints),
        cmocka_unit_test(test_ignore_flag),
        cmocka_unit_test(test_bad_endpoints),
        cmocka_unit_test(test_s3_addressing),
        cmocka_unit_test(test_s3_bad_input),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
