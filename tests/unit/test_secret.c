/* Unit tests for core/secret.c: reference parsing and local resolution. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/mem.h"
#include "core/secret.h"

static char dir[] = "/tmp/spookyd-secret-XXXXXX";

static void
write_file(const char *path, const char *data, mode_t mode)
{
    FILE *f = fopen(path, "w");

    assert_non_null(f);
    fputs(data, f);
    fclose(f);
    chmod(path, mode);
}

static int
setup(void **state)
{
    (void)state;
    return mkdtemp(dir) == NULL ? -1 : 0;
}

static int
teardown(void **state)
{
    char cmd[128];

    (void)state;
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static void
test_parse_kinds(void **state)
{
    struct secret_ref r;
    char err[ERR_LEN];

    (void)state;
    assert_int_equal(secret_ref_parse("env:OPENAI_API_KEY", &r, err), 0);
    assert_int_equal(r.kind, SECRET_ENV);
    assert_string_equal(secret_ref_str(&r), "env:OPENAI_API_KEY");
    assert_true(secret_is_local(&r));
    secret_ref_cleanup(&r);
    assert_int_equal(secret_ref_parse("secretsmanager:arn:aws:sm:x", &r,
                                      err), 0);
    assert_int_equal(r.kind, SECRET_SECRETSMANAGER);
    assert_string_equal(r.name, "arn:aws:sm:x");
    assert_false(secret_is_local(&r));
    secret_ref_cleanup(&r);
    assert_int_equal(r.kind, SECRET_NONE);
    assert_null(r.name);
}

static void
test_parse_errors_never_quote_input(void **state)
{
    static const char *const bad[] = {"sk-proj-123", "env:", "env:A-B",
                                      "file:rel", "credential:a/b",
                                      "secretsmanager:", "ENV:X"};
    struct secret_ref r;
    char err[ERR_LEN];

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(secret_ref_parse(bad[i], &r, err), ERR_FAIL);
        assert_int_equal(r.kind, SECRET_NONE);
        if (strlen(bad[i]) > 4 && strstr(err, bad[i]) != NULL)
            fail_msg("error quotes the input: %s", err);
    }
}

static void
test_env(void **state)
{
    struct secret_ref r = {SECRET_ENV, (char *)"SPOOKYD_TEST_SECRET"};
    char err[ERR_LEN], *v;

    (void)state;
    unsetenv("SPOOKYD_TEST_SECRET");
    assert_int_equal(secret_resolve_local(&r, &v, err), ERR_FAIL);
    assert_string_equal(err, "env:SPOOKYD_TEST_SECRET: variable is not set");
    setenv("SPOOKYD_TEST_SECRET", "s3cr3t\n", 1);
    assert_int_equal(secret_resolve_local(&r, &v, err), 0);
    assert_string_equal(v, "s3cr3t");
    mem_free_secret_str(v);
}

static void
test_file_permissions(void **state)
{
    char path[256], err[ERR_LEN], *v;
    struct secret_ref r = {SECRET_FILE, path};

    (void)state;
    snprintf(path, sizeof(path), "%s/key", dir);
    write_file(path, "abc\n\n", 0644);
    assert_int_equal(secret_resolve_local(&r, &v, err), ERR_FAIL);
    assert_non_null(strstr(err, "permissions 0644 are too open"));
    assert_null(strstr(err, "abc"));
    chmod(path, 0640);
    assert_int_equal(secret_resolve_local(&r, &v, err), 0);
    assert_string_equal(v, "abc");
    mem_free_secret_str(v);
    write_file(path, "\n", 0600);
    assert_int_equal(secret_resolve_local(&r, &v, err), ERR_FAIL);
    assert_non_null(strstr(err, "secret is empty"));
    snprintf(path, sizeof(path), "%s/absent", dir);
    assert_int_equal(secret_resolve_local(&r, &v, err), ERR_FAIL);
    assert_non_null(strstr(err, "No such file"));
}

static void
test_credential(void **state)
{
    char path[256], err[ERR_LEN], *v;
    struct secret_ref r = {SECRET_CREDENTIAL, (char *)"openai"};

    (void)state;
    unsetenv("CREDENTIALS_DIRECTORY");
    assert_int_equal(secret_resolve_local(&r, &v, err), ERR_FAIL);
    assert_non_null(strstr(err, "CREDENTIALS_DIRECTORY is not set"));
    snprintf(path, sizeof(path), "%s/openai", dir);
    write_file(path, "sk-from-systemd", 0400);
    setenv("CREDENTIALS_DIRECTORY", dir, 1);
    assert_int_equal(secret_resolve_local(&r, &v, err), 0);
    assert_string_equal(v, "sk-from-systemd");
    mem_free_secret_str(v);
    unsetenv("CREDENTIALS_DIRECTORY");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_kinds),
        cmocka_unit_test(test_parse_errors_never_quote_input),
        cmocka_unit_test(test_env),
        cmocka_unit_test(test_file_permissions),
        cmocka_unit_test(test_credential),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
