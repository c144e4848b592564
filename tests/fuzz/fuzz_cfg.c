/*
 * libFuzzer target: cfg_parse() on arbitrary text (not NUL-terminated, as
 * the header allows).  Checks that a config comes back exactly when no
 * error was reported, that every error is a "path:line: ...\n" line, and
 * that a parsed config has its required and defaulted fields.
 */
#include <string.h>

#include "core/buf.h"
#include "core/cfg.h"
#include "fuzz.h"

#define PATH "/etc/spookyd/spookyd.conf"

/* Every line of errors starts with PATH ":" and a line number. */
static int
errors_well_formed(const struct buf *errors)
{
    const char *p = buf_str(errors), *end = p + errors->len;

    if (errors->len == 0 || end[-1] != '\n')
        return 0;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));

        if (strncmp(p, PATH ":", sizeof(PATH)) != 0 || p[sizeof(PATH)] < '0' ||
            p[sizeof(PATH)] > '9')
            return 0;
        p = nl + 1;
    }
    return 1;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct buf errors;
    struct cfg *c;

    buf_init(&errors);
    c = cfg_parse(PATH, (const char *)data, size, &errors);
    if (c == NULL) {
        FUZZ_CHECK(errors_well_formed(&errors));
    } else {
        FUZZ_CHECK(errors.len == 0);
        FUZZ_CHECK(c->refs == 1 && strcmp(c->path, PATH) == 0);
        FUZZ_CHECK(c->aws.bucket != NULL && c->aws.table != NULL);
        FUZZ_CHECK(c->schedule.cron != NULL && c->schedule.timezone != NULL);
        FUZZ_CHECK(c->openai.base_url != NULL && c->x.api_base_url != NULL);
        FUZZ_CHECK(c->calendar.source != NULL && c->calendar.caption != NULL);
        FUZZ_CHECK(cfg_ref(c) == c);
        cfg_unref(c);
        cfg_unref(c);
    }
    buf_cleanup(&errors);
    return 0;
}
