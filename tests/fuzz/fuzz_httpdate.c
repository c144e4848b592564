/*
 * libFuzzer target: http_parse_date() and http_parse_retry_after() on
 * arbitrary text.  Checks: a parsed date written back as an IMF-fixdate
 * parses to the same instant; any date also reads as a Retry-After
 * giving the right wait against two clocks (before and after it); a
 * Retry-After that is a number of seconds is a whole number of seconds.
 */
#include <string.h>
#include <time.h>

#include "core/http.h"
#include "fuzz.h"

static void
round_trip(time_t t)
{
    static const char *const wd[] = {"Sun", "Mon", "Tue", "Wed",
                                     "Thu", "Fri", "Sat"};
    static const char *const mon[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                      "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    char text[64];
    struct tm tm;
    time_t again;

    FUZZ_CHECK(gmtime_r(&t, &tm) != NULL);
    snprintf(text, sizeof(text), "%s, %02d %s %04d %02d:%02d:%02d GMT",
             wd[tm.tm_wday], tm.tm_mday, mon[tm.tm_mon], tm.tm_year + 1900,
             tm.tm_hour, tm.tm_min, tm.tm_sec);
    if (tm.tm_year + 1900 > 9999)
        return; /* not a 4-digit year: the format cannot hold it */
    FUZZ_CHECK(http_parse_date(text, &again) == 0);
    FUZZ_CHECK(again == t);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = fuzz_strndup(data, size);
    time_t t;
    uint64_t ms;

    if (http_parse_date(s, &t) == 0) {
        FUZZ_CHECK(t >= 0);
        round_trip(t);
        FUZZ_CHECK(http_parse_retry_after(s, t - 90, &ms) == 0);
        FUZZ_CHECK(ms == 90000);
        FUZZ_CHECK(http_parse_retry_after(s, t + 90, &ms) == 0);
        FUZZ_CHECK(ms == 0);
    } else if (http_parse_retry_after(s, 1764720000, &ms) == 0) {
        FUZZ_CHECK(ms % 1000 == 0);
    }
    free(s);
    return 0;
}
