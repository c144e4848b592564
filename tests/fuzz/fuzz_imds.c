/*
 * libFuzzer target: creds_parse_imds(), the IMDS role-credentials JSON
 * (api-notes section 5).  Checks: a refusal says why and leaves *out
 * empty; accepted keys are non-empty single lines, equal to the JSON's
 * strings, with an Expiration that cannot be mistaken for "never
 * expires" (0); creds_keys_cleanup() leaves nothing behind.
 */
#include <string.h>

#include <jansson.h>

#include "aws/creds.h"
#include "fuzz.h"

static void
check_key(const char *got, json_t *doc, const char *name)
{
    const char *want = json_string_value(json_object_get(doc, name));

    FUZZ_CHECK(got != NULL && *got != '\0');
    FUZZ_CHECK(strpbrk(got, "\r\n") == NULL);
    FUZZ_CHECK(want != NULL && strcmp(got, want) == 0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct creds_keys k;
    char err[ERR_LEN];
    json_t *doc;

    fuzz_err_poison(err);
    memset(&k, 'K', sizeof(k));
    if (creds_parse_imds((const char *)data, size, &k, err) != 0) {
        FUZZ_CHECK(fuzz_err_set(err));
        FUZZ_CHECK(k.access_key_id == NULL && k.secret_access_key == NULL &&
                   k.session_token == NULL);
        return 0;
    }
    doc = json_loadb((const char *)data, size, 0, NULL);
    FUZZ_CHECK(json_is_object(doc));
    check_key(k.access_key_id, doc, "AccessKeyId");
    check_key(k.secret_access_key, doc, "SecretAccessKey");
    check_key(k.session_token, doc, "Token");
    FUZZ_CHECK(k.expiration != 0);
    json_decref(doc);
    creds_keys_cleanup(&k);
    FUZZ_CHECK(k.access_key_id == NULL && k.expiration == 0);
    creds_keys_cleanup(NULL);
    return 0;
}
