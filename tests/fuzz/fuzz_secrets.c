/*
 * libFuzzer target: the Secrets Manager GetSecretValue reply parser
 * (parse_value, with its own base64 check), reached by including
 * secrets.c.  Checks: a value comes back only on success, NUL-terminated
 * at its length; a SecretString is returned byte for byte; a SecretBinary
 * decodes to at most 3/4 of its text; a refusal says why.
 */
#include "aws/secrets.c"

#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct buf body = {(char *)fuzz_strndup(data, size), size, size + 1};
    char err[ERR_LEN], *value = NULL;
    size_t len = 0;
    json_t *doc, *s, *b;

    fuzz_err_poison(err);
    if (parse_value(&body, &value, &len, err) != 0) {
        FUZZ_CHECK(fuzz_err_set(err) && value == NULL);
        free(body.data);
        return 0;
    }
    FUZZ_CHECK(value != NULL && value[len] == '\0');
    doc = json_loadb(data != NULL ? (const char *)data : "", size, 0, NULL);
    s = json_object_get(doc, "SecretString");
    b = json_object_get(doc, "SecretBinary");
    if (json_is_string(s)) {
        FUZZ_CHECK(len == json_string_length(s));
        FUZZ_CHECK(memcmp(value, json_string_value(s), len) == 0);
    } else {
        FUZZ_CHECK(json_is_string(b));
        FUZZ_CHECK(len <= json_string_length(b) / 4 * 3);
    }
    json_decref(doc);
    mem_free_secret(value, len + 1);
    free(body.data);
    return 0;
}
