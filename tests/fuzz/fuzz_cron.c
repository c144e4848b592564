/*
 * libFuzzer target: cron_parse() on arbitrary text; on success cron_next()
 * and cron_prev() in three zones (one with a 30-minute DST shift) from
 * instants next to DST changes.  Checks: a refusal names its reason,
 * next is after the start and prev not after it, a slot is its own prev,
 * and next(prev(t)) equals next(t), as the header's definitions imply.
 */
#include <string.h>

#include "core/cron.h"
#include "fuzz.h"

static const char *const zones[] = {"America/New_York", "Australia/Lord_Howe",
                                    "UTC"};

static const time_t starts[] = {
    1764720000, /* 2025-12-03T00:00Z */
    1772951400, /* 2026-03-08T06:30Z, New York half an hour before DST */
    1793511000, /* 2026-11-01T05:30Z, inside New York's repeated hour */
    1775313900, /* 2026-04-04T14:45Z, Lord Howe just before DST ends */
};

static void
check_zone(const struct cron *c, const char *tz, time_t at)
{
    time_t next, prev, t;
    int has_next = cron_next(c, tz, at, &next) == 0;
    int has_prev = cron_prev(c, tz, at, &prev) == 0;

    if (has_next) {
        FUZZ_CHECK(next > at);
        FUZZ_CHECK(cron_prev(c, tz, next, &t) == 0 && t == next);
    }
    if (has_prev) {
        FUZZ_CHECK(prev <= at);
        if (cron_next(c, tz, prev, &t) == 0) {
            FUZZ_CHECK(has_next);
            FUZZ_CHECK(t == next);
        }
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[ERR_LEN];
    char *expr = fuzz_strndup(data, size);
    struct cron *c;

    fuzz_err_poison(err);
    c = cron_parse(expr, err);
    if (c == NULL) {
        FUZZ_CHECK(fuzz_err_set(err));
    } else {
        for (size_t z = 0; z < sizeof(zones) / sizeof(zones[0]); z++)
            for (size_t i = 0; i < sizeof(starts) / sizeof(starts[0]); i++)
                check_zone(c, zones[z], starts[i]);
        FUZZ_CHECK(cron_next(c, "Not/A_Zone", starts[0], &(time_t){0}) ==
                   ERR_FAIL);
        cron_free(c);
    }
    free(expr);
    return 0;
}
