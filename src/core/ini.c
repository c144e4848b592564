/*
 * ini.c: splits INI text into sections and key/value pairs with their
 * line numbers.  Pure: no I/O, no allocation beyond one line buffer.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "core/ini.h"
#include "core/mem.h"

#define INI_MAX_LINE 4096

struct ini_state {
    ini_cb on_entry;
    ini_error_cb on_error;
    void *arg;
    int line;
    int errors;
    char section[64];
};

static char *
trim(char *s)
{
    char *end;

    while (isspace((unsigned char)*s))
        s++;
    end = s + strlen(s);
    while (end > s && isspace((unsigned char)end[-1]))
        *--end = '\0';
    return s;
}

static void
syntax_error(struct ini_state *st, const char *msg)
{
    st->errors++;
    if (st->on_error)
        st->on_error(st->arg, st->line, msg);
}

/* Cut an unquoted value at a comment: '#' or ';' after whitespace. */
static void
cut_comment(char *s)
{
    for (char *p = s; *p; p++) {
        if ((*p == '#' || *p == ';') &&
            (p == s || isspace((unsigned char)p[-1]))) {
            *p = '\0';
            return;
        }
    }
}

/* Unquote "..." in place (\" and \\ escapes); only a comment may follow.
 * Returns NULL and reports when the quoting is broken. */
static char *
unquote(struct ini_state *st, char *s)
{
    char *out = s, *p = s + 1;

    for (; *p && *p != '"'; p++) {
        if (*p == '\\' && (p[1] == '"' || p[1] == '\\'))
            p++;
        *out++ = *p;
    }
    if (*p != '"') {
        syntax_error(st, "unterminated quoted value");
        return NULL;
    }
    *out = '\0';
    p = trim(p + 1);
    if (*p != '\0' && *p != '#' && *p != ';') {
        syntax_error(st, "unexpected text after quoted value");
        return NULL;
    }
    return s;
}

static int
valid_name(const char *s)
{
    if (*s == '\0')
        return 0;
    for (; *s; s++)
        if (!islower((unsigned char)*s) && !isdigit((unsigned char)*s) &&
            *s != '_')
            return 0;
    return 1;
}

static int
parse_section(struct ini_state *st, char *s)
{
    char *end = strchr(s, ']');
    char *name, *rest;

    if (end == NULL) {
        syntax_error(st, "missing ']' in section header");
        return 0;
    }
    *end = '\0';
    name = trim(s + 1);
    rest = trim(end + 1);
    if (*rest != '\0' && *rest != '#' && *rest != ';') {
        syntax_error(st, "unexpected text after section header");
        return 0;
    }
    if (!valid_name(name) || strlen(name) >= sizeof(st->section)) {
        syntax_error(st, "bad section name (use lowercase letters, "
                         "digits and '_')");
        return 0;
    }
    strcpy(st->section, name);
    return st->on_entry(st->arg, st->line, st->section, NULL, NULL);
}

static int
parse_pair(struct ini_state *st, char *s)
{
    char *eq = strchr(s, '=');
    char *key, *value;

    if (eq == NULL) {
        syntax_error(st, "expected 'key = value', '[section]' or a "
                         "comment");
        return 0;
    }
    *eq = '\0';
    key = trim(s);
    value = trim(eq + 1);
    if (!valid_name(key)) {
        syntax_error(st, "bad key name (use lowercase letters, digits "
                         "and '_')");
        return 0;
    }
    if (st->section[0] == '\0') {
        syntax_error(st, "key outside any [section]");
        return 0;
    }
    if (*value == '"') {
        if ((value = unquote(st, value)) == NULL)
            return 0;
    } else {
        cut_comment(value);
        value = trim(value);
    }
    return st->on_entry(st->arg, st->line, st->section, key, value);
}

static int
parse_line(struct ini_state *st, char *raw)
{
    char *s = trim(raw);

    if (*s == '\0' || *s == '#' || *s == ';')
        return 0;
    if (*s == '[')
        return parse_section(st, s);
    return parse_pair(st, s);
}

int
ini_parse(const char *text, size_t len, ini_cb on_entry,
          ini_error_cb on_error, void *arg)
{
    struct ini_state st = {on_entry, on_error, arg, 0, 0, ""};
    char *line = mem_alloc(INI_MAX_LINE + 1);
    size_t pos = 0;
    int rc = 0;

    while (pos < len && rc == 0) {
        const char *nl = memchr(text + pos, '\n', len - pos);
        size_t n = nl ? (size_t)(nl - (text + pos)) : len - pos;

        st.line++;
        if (n > INI_MAX_LINE) {
            syntax_error(&st, "line too long");
        } else if (memchr(text + pos, '\0', n) != NULL) {
            syntax_error(&st, "NUL byte in line");
        } else {
            memcpy(line, text + pos, n);
            line[n] = '\0';
            rc = parse_line(&st, line);
        }
        pos += n + 1;
    }
    free(line);
    return rc != 0 ? rc : st.errors;
}
