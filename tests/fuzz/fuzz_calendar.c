/*
 * libFuzzer target: calendar_parse() on arbitrary bytes.  A failure must
 * leave a message in err; a success must hold only names the header
 * allows, count its dates right, and survive a round trip: written back
 * as JSON with jansson and parsed again, it gives the same calendar.
 */
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "calendar.h"
#include "core/template.h"
#include "fuzz.h"

static const char *const months[12] = {
    "january", "february", "march",     "april",   "may",      "june",
    "july",    "august",   "september", "october", "november", "december",
};

static void
check_name(const char *name)
{
    size_t len = strlen(name);
    char *slug = template_slug(name);

    FUZZ_CHECK(len > 0 && len <= CALENDAR_MAX_NAME);
    FUZZ_CHECK(name[0] != ' ' && name[len - 1] != ' ');
    FUZZ_CHECK(fuzz_clean_str(name, len + 1));
    FUZZ_CHECK(fuzz_utf8_ok((const unsigned char *)name, len));
    FUZZ_CHECK(slug[0] != '\0');
    free(slug);
}

/* The calendar as the JSON document it came from (keys in order). */
static json_t *
to_json(const struct calendar *cal)
{
    json_t *root = json_object();
    const char *prompt = calendar_prompt_prefix(cal);
    size_t dates = 0;

    if (prompt != NULL)
        json_object_set_new(root, "Prompt", json_string(prompt));
    for (int m = 1; m <= 12; m++) {
        json_t *month = json_object();

        for (int d = 1; d <= 31; d++) {
            const char *const *names;
            size_t n = calendar_days(cal, m, d, &names);
            json_t *arr = json_array();
            char key[3];

            if (n == 0) {
                json_decref(arr);
                continue;
            }
            FUZZ_CHECK(n <= CALENDAR_MAX_NAMES);
            for (size_t i = 0; i < n; i++) {
                check_name(names[i]);
                FUZZ_CHECK(json_array_append_new(arr, json_string(names[i])) ==
                           0);
            }
            snprintf(key, sizeof(key), "%d", d);
            json_object_set_new(month, key, arr);
            dates++;
        }
        json_object_set_new(root, months[m - 1], month);
    }
    FUZZ_CHECK(dates == calendar_date_count(cal));
    FUZZ_CHECK(calendar_days(cal, 0, 1, NULL) == 0);
    FUZZ_CHECK(calendar_days(cal, 13, 1, NULL) == 0);
    FUZZ_CHECK(calendar_days(cal, 1, 32, NULL) == 0);
    return root;
}

static void
same_calendar(const struct calendar *a, const struct calendar *b)
{
    const char *pa = calendar_prompt_prefix(a), *pb = calendar_prompt_prefix(b);

    FUZZ_CHECK((pa == NULL) == (pb == NULL));
    FUZZ_CHECK(pa == NULL || strcmp(pa, pb) == 0);
    FUZZ_CHECK(calendar_date_count(a) == calendar_date_count(b));
    for (int m = 1; m <= 12; m++) {
        for (int d = 1; d <= 31; d++) {
            const char *const *na, *const *nb;
            size_t n = calendar_days(a, m, d, &na);

            FUZZ_CHECK(calendar_days(b, m, d, &nb) == n);
            for (size_t i = 0; i < n; i++)
                FUZZ_CHECK(strcmp(na[i], nb[i]) == 0);
        }
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[ERR_LEN];
    struct calendar *cal, *again;
    json_t *doc;
    char *text;

    fuzz_err_poison(err);
    cal = calendar_parse((const char *)data, size, err);
    if (cal == NULL) {
        FUZZ_CHECK(fuzz_err_set(err));
        return 0;
    }
    doc = to_json(cal);
    text = json_dumps(doc, JSON_COMPACT | JSON_PRESERVE_ORDER);
    FUZZ_CHECK(text != NULL);
    fuzz_err_poison(err);
    again = calendar_parse(text, strlen(text), err);
    if (again == NULL)
        fprintf(stderr, "round trip refused: %.*s\n", ERR_LEN, err);
    FUZZ_CHECK(again != NULL);
    same_calendar(cal, again);
    calendar_free(again);
    calendar_free(cal);
    free(text);
    json_decref(doc);
    return 0;
}
