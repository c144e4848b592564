/*
 * libFuzzer target: ini_parse() on arbitrary bytes (not NUL-terminated).
 * Checks the callbacks' promises: line numbers rise and stay within the
 * text, names are lowercase/digit/'_' tokens, values hold no newline, the
 * return value counts the syntax errors, and a non-zero return from the
 * entry callback stops the parse and comes back unchanged.
 */
#include <string.h>

#include "core/ini.h"
#include "fuzz.h"

struct seen {
    int lines;     /* lines in the input */
    int last_line; /* of the previous callback */
    int entries;
    int errors;
    int stop_after; /* return 42 from this entry on; 0: never */
};

static int
name_ok(const char *s)
{
    if (s == NULL || *s == '\0')
        return 0;
    return strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789_") == strlen(s);
}

static void
on_line(struct seen *st, int line)
{
    FUZZ_CHECK(line >= 1 && line <= st->lines);
    FUZZ_CHECK(line > st->last_line);
    st->last_line = line;
}

static int
on_entry(void *arg, int line, const char *section, const char *key,
         const char *value)
{
    struct seen *st = arg;

    on_line(st, line);
    FUZZ_CHECK(name_ok(section));
    if (key == NULL) {
        FUZZ_CHECK(value == NULL);
    } else {
        FUZZ_CHECK(name_ok(key));
        FUZZ_CHECK(value != NULL && strchr(value, '\n') == NULL);
    }
    st->entries++;
    return st->stop_after > 0 && st->entries >= st->stop_after ? 42 : 0;
}

static void
on_error(void *arg, int line, const char *msg)
{
    struct seen *st = arg;

    on_line(st, line);
    FUZZ_CHECK(msg != NULL && *msg != '\0');
    st->errors++;
}

static int
count_lines(const uint8_t *data, size_t size)
{
    int n = 0;

    for (size_t i = 0; i < size; i++)
        n += data[i] == '\n';
    return size > 0 && data[size - 1] != '\n' ? n + 1 : n;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct seen st = {.lines = count_lines(data, size)};
    struct seen again = {.lines = st.lines};
    int rc;

    rc = ini_parse((const char *)data, size, on_entry, on_error, &st);
    FUZZ_CHECK(rc == st.errors);

    /* Again, stopping at the last entry: its 42 must come back. */
    if (st.entries > 0) {
        again.stop_after = st.entries;
        FUZZ_CHECK(
            ini_parse((const char *)data, size, on_entry, NULL, &again) == 42);
        FUZZ_CHECK(again.entries == st.entries);
    }
    return 0;
}
