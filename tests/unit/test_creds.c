/* Unit tests for aws/creds.c: environment keys, the shared credentials
 * file (profiles, comments, missing keys, permissions, systemd
 * credential), the IMDS document, refresh timing and the chain order.
 * The environment is a fake table; files live in a temporary directory. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "aws/creds.h"
#include "aws/imds.h"

static char dir[] = "/tmp/spookyd-creds-XXXXXX";
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

/* dir/name with data and mode; the path is in a static buffer. */
static const char *
write_file(const char *name, const char *data, size_t len, mode_t mode)
{
    static char path[256];
    FILE *f;

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    f = fopen(path, "w");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, len, f), len);
    fclose(f);
    assert_int_equal(chmod(path, mode), 0);
    return path;
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
test_env(void **state)
{
    struct creds_keys k;
    char err[ERR_LEN];

    (void)state;
    set_env("AWS_ACCESS_KEY_ID=AKIDENV", "AWS_SECRET_ACCESS_KEY=envsecret",
            NULL);
    assert_int_equal(creds_from_env(fake_getenv, &k, err), 0);
    assert_string_equal(k.access_key_id, "AKIDENV");
    assert_string_equal(k.secret_access_key, "envsecret");
    assert_null(k.session_token);
    assert_int_equal(k.expiration, 0);
    creds_keys_cleanup(&k);
    assert_null(k.access_key_id);
    set_env("AWS_ACCESS_KEY_ID=ASIAENV", "AWS_SECRET_ACCESS_KEY=s",
            "AWS_SESSION_TOKEN=tok", NULL);
    assert_int_equal(creds_from_env(fake_getenv, &k, err), 0);
    assert_string_equal(k.session_token, "tok");
    creds_keys_cleanup(&k);
    /* A token alone, or empty values, are no credentials. */
    set_env("AWS_SESSION_TOKEN=tok", "AWS_ACCESS_KEY_ID=", NULL);
    assert_int_equal(creds_from_env(fake_getenv, &k, err), 1);
    set_env("AWS_ACCESS_KEY_ID=AKID", NULL);
    assert_int_equal(creds_from_env(fake_getenv, &k, err), ERR_FAIL);
    assert_non_null(strstr(err, "AWS_SECRET_ACCESS_KEY is not"));
    set_env("AWS_SECRET_ACCESS_KEY=s3cr3t-value", NULL);
    assert_int_equal(creds_from_env(fake_getenv, &k, err), ERR_FAIL);
    assert_non_null(strstr(err, "AWS_ACCESS_KEY_ID is not"));
    assert_null(strstr(err, "s3cr3t-value"));
    creds_keys_cleanup(NULL);
}

static const char sample[] =
    "# spookyd keys\n"
    "[default]\n"
    "aws_access_key_id = AKIDDEFAULT\n"
    "aws_secret_access_key=defaultsecret\n"
    "\n"
    "; another comment\n"
    "[ prod ]\r\n"
    "  AWS_ACCESS_KEY_ID   =   AKIDPROD  \r\n"
    "Aws_Secret_Access_Key = prod/secret+with=equals\r\n"
    "aws_session_token = prodtoken\r\n"
    "region = eu-west-1\r\n"
    "[half]\n"
    "aws_access_key_id = AKIDHALF\n"
    "[empty-secret]\n"
    "aws_access_key_id = AKIDE\n"
    "aws_secret_access_key =\n"
    "[default]\n"
    "aws_session_token = latertoken\n";

static void
test_file_profiles(void **state)
{
    struct creds_keys k;
    char err[ERR_LEN];

    (void)state;
    assert_int_equal(creds_parse_file(sample, "default", &k, err), 0);
    assert_string_equal(k.access_key_id, "AKIDDEFAULT");
    assert_string_equal(k.secret_access_key, "defaultsecret");
    /* A repeated section adds to the first. */
    assert_string_equal(k.session_token, "latertoken");
    creds_keys_cleanup(&k);
    assert_int_equal(creds_parse_file(sample, "prod", &k, err), 0);
    assert_string_equal(k.access_key_id, "AKIDPROD");
    assert_string_equal(k.secret_access_key, "prod/secret+with=equals");
    assert_string_equal(k.session_token, "prodtoken");
    creds_keys_cleanup(&k);
    assert_int_equal(creds_parse_file(sample, "staging", &k, err), 1);
    assert_null(k.access_key_id);
    assert_int_equal(creds_parse_file("", "default", &k, err), 1);
}

static void
test_file_errors(void **state)
{
    struct creds_keys k;
    char err[ERR_LEN];

    (void)state;
    assert_int_equal(creds_parse_file(sample, "half", &k, err), ERR_FAIL);
    assert_non_null(strstr(err, "[half] lacks aws_secret_access_key"));
    assert_int_equal(creds_parse_file(sample, "empty-secret", &k, err),
                     ERR_FAIL);
    assert_non_null(strstr(err, "lacks aws_secret_access_key"));
    assert_int_equal(
        creds_parse_file("[x]\naws_secret_access_key = s\n", "x", &k, err),
        ERR_FAIL);
    assert_non_null(strstr(err, "lacks aws_access_key_id"));
    /* A pasted key without a name: the line number, never the text. */
    assert_int_equal(creds_parse_file("[default]\naws_access_key_id = A\n"
                                      "wJalrXUtnFEMIK7MDENGbPxRfiCY\n",
                                      "default", &k, err),
                     ERR_FAIL);
    assert_string_equal(err, "line 3: expected 'name = value'");
    assert_int_equal(creds_parse_file("[default\n", "default", &k, err),
                     ERR_FAIL);
    assert_string_equal(err, "line 1: malformed [section]");
    assert_int_equal(creds_parse_file("[a] b\n", "a", &k, err), ERR_FAIL);
    assert_null(k.access_key_id);
}

static void
test_file_path(void **state)
{
    char *p, cred_dir[300], want[400];
    int systemd;

    (void)state;
    set_env("AWS_SHARED_CREDENTIALS_FILE=/etc/spookyd/aws", "HOME=/home/u",
            NULL);
    p = creds_file_path(fake_getenv, &systemd);
    assert_string_equal(p, "/etc/spookyd/aws");
    assert_false(systemd);
    free(p);
    set_env("AWS_SHARED_CREDENTIALS_FILE=~/keys", "HOME=/home/u", NULL);
    p = creds_file_path(fake_getenv, &systemd);
    assert_string_equal(p, "/home/u/keys");
    free(p);
    set_env("HOME=/home/u", NULL);
    p = creds_file_path(fake_getenv, &systemd);
    assert_string_equal(p, "/home/u/.aws/credentials");
    free(p);
    set_env(NULL);
    assert_null(creds_file_path(fake_getenv, &systemd));
    /* systemd LoadCredential=aws-credentials:...; only if it exists. */
    snprintf(cred_dir, sizeof(cred_dir), "CREDENTIALS_DIRECTORY=%s", dir);
    set_env(cred_dir, "HOME=/home/u", NULL);
    p = creds_file_path(fake_getenv, &systemd);
    assert_string_equal(p, "/home/u/.aws/credentials");
    assert_false(systemd);
    free(p);
    write_file("aws-credentials", "", 0, 0400);
    p = creds_file_path(fake_getenv, &systemd);
    snprintf(want, sizeof(want), "%s/aws-credentials", dir);
    assert_string_equal(p, want);
    assert_true(systemd);
    free(p);
    /* An explicit file still wins. */
    set_env(cred_dir, "AWS_SHARED_CREDENTIALS_FILE=/x", NULL);
    p = creds_file_path(fake_getenv, &systemd);
    assert_string_equal(p, "/x");
    assert_false(systemd);
    free(p);
}

static void
test_file_read(void **state)
{
    struct creds_keys k;
    char err[ERR_LEN], path[300];
    const char *p;

    (void)state;
    snprintf(path, sizeof(path), "%s/absent", dir);
    assert_int_equal(creds_read_file(path, "default", &k, err), 1);
    p = write_file("open", sample, strlen(sample), 0644);
    assert_int_equal(creds_read_file(p, "default", &k, err), ERR_FAIL);
    assert_non_null(strstr(err, "0644 are too open"));
    assert_null(strstr(err, "defaultsecret"));
    p = write_file("group", sample, strlen(sample), 0640);
    assert_int_equal(creds_read_file(p, "prod", &k, err), 0);
    assert_string_equal(k.access_key_id, "AKIDPROD");
    creds_keys_cleanup(&k);
    p = write_file("mine", sample, strlen(sample), 0600);
    assert_int_equal(creds_read_file(p, "nope", &k, err), 1);
    assert_int_equal(creds_read_file(p, "half", &k, err), ERR_FAIL);
    assert_non_null(strstr(err, "/mine: profile [half]"));
    p = write_file("nul", "[default]\0x", 11, 0600);
    assert_int_equal(creds_read_file(p, "default", &k, err), ERR_FAIL);
    assert_non_null(strstr(err, "NUL"));
    assert_int_equal(creds_read_file(dir, "default", &k, err), ERR_FAIL);
    assert_non_null(strstr(err, "not a regular file"));
    {
        static char big[CREDS_FILE_MAX + 2];

        memset(big, '#', sizeof(big) - 1);
        p = write_file("big", big, sizeof(big) - 1, 0600);
        assert_int_equal(creds_read_file(p, "default", &k, err), ERR_FAIL);
    }
}

static const char imds_doc[] =
    "{\n  \"Code\" : \"Success\",\n  \"LastUpdated\" : "
    "\"2026-12-03T12:00:00Z\",\n  \"Type\" : \"AWS-HMAC\",\n"
    "  \"AccessKeyId\" : \"ASIAIMDS\",\n  \"SecretAccessKey\" : \"imdssecret\","
    "\n  \"Token\" : \"imdstoken\",\n  \"Expiration\" : "
    "\"2026-12-03T18:00:00Z\"\n}";

static void
test_imds_doc(void **state)
{
    struct creds_keys k;
    char err[ERR_LEN], doc[600];

    (void)state;
    assert_int_equal(creds_parse_imds(imds_doc, strlen(imds_doc), &k, err), 0);
    assert_string_equal(k.access_key_id, "ASIAIMDS");
    assert_string_equal(k.secret_access_key, "imdssecret");
    assert_string_equal(k.session_token, "imdstoken");
    /* 2026-12-03T18:00:00Z */
    assert_int_equal(k.expiration, 1796320800);
    creds_keys_cleanup(&k);
    snprintf(doc, sizeof(doc),
             "{\"Code\":\"Success\",\"AccessKeyId\":\"A\","
             "\"SecretAccessKey\":\"S\",\"Token\":\"T\",\"Expiration\":"
             "\"2026-12-03T18:00:00.250Z\"}");
    assert_int_equal(creds_parse_imds(doc, strlen(doc), &k, err), 0);
    assert_int_equal(k.expiration, 1796320800);
    creds_keys_cleanup(&k);
    snprintf(doc, sizeof(doc),
             "{\"Code\":\"Success\",\"AccessKeyId\":\"A\","
             "\"SecretAccessKey\":\"S\",\"Token\":\"T\",\"Expiration\":"
             "\"2026-12-03 18:00\"}");
    assert_int_equal(creds_parse_imds(doc, strlen(doc), &k, err), ERR_FAIL);
    snprintf(doc, sizeof(doc),
             "{\"Code\":\"Success\",\"AccessKeyId\":\"A\","
             "\"SecretAccessKey\":\"S\",\"Expiration\":"
             "\"2026-12-03T18:00:00Z\"}");
    assert_int_equal(creds_parse_imds(doc, strlen(doc), &k, err), ERR_FAIL);
    assert_null(k.access_key_id);
    snprintf(doc, sizeof(doc), "{\"Code\":\"AssumeRoleUnauthorizedAccess\"}");
    assert_int_equal(creds_parse_imds(doc, strlen(doc), &k, err), ERR_FAIL);
    assert_non_null(strstr(err, "Code"));
    assert_int_equal(creds_parse_imds("garbage", 7, &k, err), ERR_FAIL);
    assert_int_equal(creds_parse_imds(imds_doc, 10, &k, err), ERR_FAIL);
}

static void
test_refresh_timing(void **state)
{
    const time_t now = 1796300000;

    (void)state;
    /* Six hours left: 15 minutes before expiry, +-60 s of jitter. */
    assert_int_equal(creds_refresh_delay_ms(now + 21600, now, 0.5),
                     (21600 - 900) * 1000ull);
    assert_int_equal(creds_refresh_delay_ms(now + 21600, now, 0.0),
                     (21600 - 960) * 1000ull);
    assert_int_equal(creds_refresh_delay_ms(now + 21600, now, 1.0),
                     (21600 - 840) * 1000ull);
    assert_int_equal(creds_refresh_delay_ms(now + 21600, now, 0.0 / 0.0),
                     (21600 - 960) * 1000ull);
    /* Inside the window: once a minute, sooner if unusable first. */
    assert_int_equal(creds_refresh_delay_ms(now + 600, now, 0.5), 60000);
    assert_int_equal(creds_refresh_delay_ms(now + 90, now, 0.5), 30000);
    assert_int_equal(creds_refresh_delay_ms(now + 30, now, 0.5), 1000);
    assert_int_equal(creds_refresh_delay_ms(now - 30, now, 0.5), 1000);
}

static void
test_usable(void **state)
{
    struct creds_keys k = {"A", "S", NULL, 0};
    const time_t now = 1796300000;

    (void)state;
    assert_true(creds_keys_usable(&k, now));
    k.expiration = now + CREDS_MIN_LIFE_S + 1;
    assert_true(creds_keys_usable(&k, now));
    k.expiration = now + CREDS_MIN_LIFE_S;
    assert_false(creds_keys_usable(&k, now));
    k.expiration = 0;
    k.secret_access_key = NULL;
    assert_false(creds_keys_usable(&k, now));
    assert_false(creds_keys_usable(NULL, now));
}

/* --- The chain --- */

static int ready_rc = 99;
static char ready_err[ERR_LEN];

static void
on_ready(int rc, const char *err, void *arg)
{
    (void)arg;
    ready_rc = rc;
    snprintf(ready_err, sizeof(ready_err), "%s", err);
}

static struct creds *
chain(struct imds *imds, char err[ERR_LEN])
{
    return creds_new(uv_default_loop(), imds, fake_getenv, err);
}

static void
done_chain(struct creds *c)
{
    creds_free(c);
    uv_run(uv_default_loop(), UV_RUN_NOWAIT);
}

static void
test_chain_order(void **state)
{
    char err[ERR_LEN], file_env[300], home_env[300];
    struct imds *imds;
    struct creds_waiter w;
    struct creds *c;

    (void)state;
    imds = imds_new(uv_default_loop(), NULL, "http://127.0.0.1:9", err);
    assert_non_null(imds);
    snprintf(file_env, sizeof(file_env), "AWS_SHARED_CREDENTIALS_FILE=%s",
             write_file("chain", sample, strlen(sample), 0600));
    /* Environment first. */
    set_env("AWS_ACCESS_KEY_ID=AKIDENV", "AWS_SECRET_ACCESS_KEY=e", file_env,
            NULL);
    c = chain(imds, err);
    assert_int_equal(creds_source(c), CREDS_ENV);
    assert_string_equal(creds_current(c)->access_key_id, "AKIDENV");
    done_chain(c);
    /* Then the file, with AWS_PROFILE. */
    set_env(file_env, "AWS_PROFILE=prod", NULL);
    c = chain(imds, err);
    assert_int_equal(creds_source(c), CREDS_FILE);
    assert_string_equal(creds_current(c)->access_key_id, "AKIDPROD");
    ready_rc = 99;
    creds_wait(c, &w, on_ready, NULL);
    assert_int_equal(ready_rc, 0);
    done_chain(c);
    /* Then IMDS (nothing fetched until someone waits). */
    snprintf(home_env, sizeof(home_env), "HOME=%s/nohome", dir);
    set_env(home_env, NULL);
    c = chain(imds, err);
    assert_int_equal(creds_source(c), CREDS_IMDS);
    assert_null(creds_current(c));
    done_chain(c);
    /* Nothing at all: waits fail at once. */
    c = chain(NULL, err);
    assert_int_equal(creds_source(c), CREDS_NONE);
    ready_rc = 99;
    creds_wait(c, &w, on_ready, NULL);
    assert_int_equal(ready_rc, ERR_FAIL);
    assert_non_null(strstr(ready_err, "no AWS credentials"));
    done_chain(c);
    imds_free(imds);
}

static void
test_chain_errors(void **state)
{
    char err[ERR_LEN], file_env[300], home_env[300];
    struct creds_waiter w;
    struct creds *c;

    (void)state;
    set_env("AWS_ACCESS_KEY_ID=AKIDENV", NULL);
    assert_null(chain(NULL, err));
    assert_non_null(strstr(err, "AWS_SECRET_ACCESS_KEY"));
    snprintf(file_env, sizeof(file_env), "AWS_SHARED_CREDENTIALS_FILE=%s",
             write_file("chain2", sample, strlen(sample), 0604));
    set_env(file_env, NULL);
    assert_null(chain(NULL, err));
    assert_non_null(strstr(err, "too open"));
    chmod(write_file("chain2", sample, strlen(sample), 0600), 0600);
    set_env(file_env, "AWS_PROFILE=missing", NULL);
    assert_null(chain(NULL, err));
    assert_non_null(strstr(err, "no profile [missing]"));
    /* No file and a named profile is an error too. */
    snprintf(home_env, sizeof(home_env), "HOME=%s/nohome", dir);
    set_env(home_env, "AWS_PROFILE=prod", NULL);
    assert_null(chain(NULL, err));
    /* Static keys reported expired stay unusable. */
    set_env(file_env, NULL);
    c = chain(NULL, err);
    assert_non_null(c);
    assert_int_equal(creds_expired(c, "AKIDDEFAULT"), ERR_FAIL);
    assert_null(creds_current(c));
    creds_wait(c, &w, on_ready, NULL);
    assert_int_equal(ready_rc, ERR_FAIL);
    assert_non_null(strstr(ready_err, "expired"));
    done_chain(c);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_env),
        cmocka_unit_test(test_file_profiles),
        cmocka_unit_test(test_file_errors),
        cmocka_unit_test(test_file_path),
        cmocka_unit_test(test_file_read),
        cmocka_unit_test(test_imds_doc),
        cmocka_unit_test(test_refresh_timing),
        cmocka_unit_test(test_usable),
        cmocka_unit_test(test_chain_order),
        cmocka_unit_test(test_chain_errors),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
