/*
 * libFuzzer target: creds_parse_file(), the shared credentials file, for
 * profiles "default" and "prod".  Checks: the result is 0, 1 or ERR_FAIL;
 * a refusal is one of the fixed messages (a line number or the profile,
 * never a value from the file); accepted keys are non-empty, trimmed,
 * single lines found in the file; 1 and ERR_FAIL leave *out empty.
 */
#include <ctype.h>
#include <string.h>

#include "aws/creds.h"
#include "fuzz.h"

static void
check_value(const char *v, const char *text)
{
    size_t n = strlen(v);

    FUZZ_CHECK(n > 0 && strchr(v, '\n') == NULL);
    FUZZ_CHECK(!isspace((unsigned char)v[0]) &&
               !isspace((unsigned char)v[n - 1]));
    FUZZ_CHECK(strstr(text, v) != NULL);
}

static void
check_profile(const char *text, const char *profile)
{
    struct creds_keys k;
    char err[ERR_LEN];
    int rc;

    fuzz_err_poison(err);
    rc = creds_parse_file(text, profile, &k, err);
    if (rc == 0) {
        check_value(k.access_key_id, text);
        check_value(k.secret_access_key, text);
        if (k.session_token != NULL)
            check_value(k.session_token, text);
        FUZZ_CHECK(k.expiration == 0);
        creds_keys_cleanup(&k);
        return;
    }
    FUZZ_CHECK(rc == 1 || rc == ERR_FAIL);
    FUZZ_CHECK(k.access_key_id == NULL && k.secret_access_key == NULL);
    if (rc == ERR_FAIL) {
        FUZZ_CHECK(fuzz_err_set(err));
        FUZZ_CHECK(strncmp(err, "line ", 5) == 0 ||
                   strncmp(err, "profile [", 9) == 0);
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = fuzz_strndup(data, size);

    check_profile(text, "default");
    check_profile(text, "prod");
    free(text);
    return 0;
}
