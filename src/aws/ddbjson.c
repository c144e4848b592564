/*
 * ddbjson.c: DynamoDB AttributeValue JSON: constructors, a deep checker
 * that names the path of the first problem, and typed readers.  Numbers
 * are only ever handled as text.  Does no I/O and never logs; relies on
 * jansson for JSON syntax, UTF-8 and insertion-ordered objects.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aws/ddbjson.h"

_Static_assert(sizeof(long long) == sizeof(int64_t),
               "strtoll() range is the int64_t range");

/* Longest path an error message shows; deeper paths are cut. */
#define PATH_MAX_LEN 160

static const char *const type_names[] = {
    [DDBJSON_INVALID] = "?", [DDBJSON_S] = "S",       [DDBJSON_N] = "N",
    [DDBJSON_B] = "B",       [DDBJSON_BOOL] = "BOOL", [DDBJSON_NULL] = "NULL",
    [DDBJSON_M] = "M",       [DDBJSON_L] = "L",       [DDBJSON_SS] = "SS",
    [DDBJSON_NS] = "NS",     [DDBJSON_BS] = "BS",
};

#define N_TYPES (sizeof(type_names) / sizeof(type_names[0]))

/* Where the checker is, for error messages: "tags[2].name". */
struct path {
    char s[PATH_MAX_LEN];
    size_t len;
};

static void fail(char err[ERR_LEN], const struct path *p, const char *fmt,
                 ...) __attribute__((format(printf, 3, 4)));

static void
fail(char err[ERR_LEN], const struct path *p, const char *fmt, ...)
{
    va_list ap;
    int n;

    n = snprintf(err, ERR_LEN, "%s: ", p->s);
    if (n < 0 || n >= ERR_LEN)
        return;
    va_start(ap, fmt);
    vsnprintf(err + n, ERR_LEN - (size_t)n, fmt, ap);
    va_end(ap);
}

/* Append to the path (cut when full); returns the length to restore. */
static size_t
path_push(struct path *p, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static size_t
path_push(struct path *p, const char *fmt, ...)
{
    size_t old = p->len;
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(p->s + old, sizeof(p->s) - old, fmt, ap);
    va_end(ap);
    if (n > 0)
        p->len = old + (size_t)n < sizeof(p->s) ? old + (size_t)n
                                                 : sizeof(p->s) - 1;
    return old;
}

static void
path_pop(struct path *p, size_t old)
{
    p->len = old;
    p->s[old] = '\0';
}

/* Mantissa of a number: powers of ten of the first and last non-zero
 * digits, or has_nz 0 for zero.  Returns the end of the digits, or NULL
 * when there are none. */
static const char *
scan_mantissa(const char *p, int *has_nz, long *first, long *last)
{
    const char *int_start = p, *q;
    long int_digits, power;
    int any = 0;

    while (*p >= '0' && *p <= '9')
        p++;
    int_digits = p - int_start;
    power = int_digits - 1;
    for (q = int_start; q < p; q++, power--)
        if (*q != '0') {
            *first = *has_nz ? *first : power;
            *last = power;
            *has_nz = 1;
        }
    any = int_digits > 0;
    if (*p == '.') {
        for (p++, power = -1; *p >= '0' && *p <= '9'; p++, power--) {
            any = 1;
            if (*p != '0') {
                *first = *has_nz ? *first : power;
                *last = power;
                *has_nz = 1;
            }
        }
    }
    return any ? p : NULL;
}

int
ddbjson_number_ok(const char *n)
{
    long first = 0, last = 0, exp = 0;
    int has_nz = 0, exp_neg = 0;
    const char *p = n;

    if (n == NULL || strnlen(n, DDBJSON_N_MAX_LEN + 1) > DDBJSON_N_MAX_LEN)
        return 0;
    if (*p == '-' || *p == '+')
        p++;
    p = scan_mantissa(p, &has_nz, &first, &last);
    if (p == NULL)
        return 0;
    if (*p == 'e' || *p == 'E') {
        p++;
        if (*p == '-' || *p == '+')
            exp_neg = *p++ == '-';
        if (*p < '0' || *p > '9')
            return 0;
        /* The length cap still allows ~200 exponent digits: saturate,
         * as any exponent past 10^6 is out of range anyway. */
        for (; *p >= '0' && *p <= '9'; p++)
            if (exp < 1000000)
                exp = exp * 10 + (*p - '0');
    }
    if (*p != '\0')
        return 0;
    if (!has_nz)
        return 1;
    if (first - last + 1 > DDBJSON_N_DIGITS)
        return 0;
    first += exp_neg ? -exp : exp;
    return first >= -130 && first <= 125;
}

/* {"<type>": value}, taking the reference to value (NULL stays NULL). */
static json_t *
wrap(enum ddbjson_type t, json_t *value)
{
    json_t *av;

    if (value == NULL)
        return NULL;
    av = json_object();
    if (av == NULL || json_object_set_new(av, type_names[t], value) != 0) {
        json_decref(av);
        return NULL;
    }
    return av;
}

json_t *
ddbjson_s(const char *s)
{
    return s == NULL ? NULL : wrap(DDBJSON_S, json_string(s));
}

json_t *
ddbjson_n(const char *n)
{
    return ddbjson_number_ok(n) ? wrap(DDBJSON_N, json_string(n)) : NULL;
}

json_t *
ddbjson_n_i64(int64_t v)
{
    char s[32];

    snprintf(s, sizeof(s), "%" PRId64, v);
    return wrap(DDBJSON_N, json_string(s));
}

json_t *
ddbjson_bool(int v)
{
    return wrap(DDBJSON_BOOL, json_boolean(v != 0));
}

json_t *
ddbjson_null(void)
{
    return wrap(DDBJSON_NULL, json_true());
}

json_t *
ddbjson_ss(const char *const *v, size_t n)
{
    json_t *arr = NULL, *seen = NULL;
    size_t i;

    if (v == NULL || n == 0)
        return NULL;
    arr = json_array();
    seen = json_object();
    for (i = 0; i < n; i++) {
        if (v[i] == NULL || json_object_get(seen, v[i]) != NULL ||
            json_object_set(seen, v[i], json_null()) != 0 ||
            json_array_append_new(arr, json_string(v[i])) != 0) {
            json_decref(arr);
            arr = NULL;
            break;
        }
    }
    json_decref(seen);
    return wrap(DDBJSON_SS, arr);
}

json_t *
ddbjson_m(json_t *map)
{
    if (!json_is_object(map)) {
        json_decref(map);
        return NULL;
    }
    return wrap(DDBJSON_M, map);
}

json_t *
ddbjson_l(json_t *list)
{
    if (!json_is_array(list)) {
        json_decref(list);
        return NULL;
    }
    return wrap(DDBJSON_L, list);
}

int
ddbjson_set(json_t *map, const char *name, json_t *av)
{
    if (!json_is_object(map) || name == NULL || *name == '\0' ||
        av == NULL) {
        json_decref(av);
        return ERR_FAIL;
    }
    /* json_object_set_new() checks the name's UTF-8 and takes av. */
    return json_object_set_new(map, name, av) == 0 ? 0 : ERR_FAIL;
}

int
ddbjson_set_s(json_t *map, const char *name, const char *s)
{
    return ddbjson_set(map, name, ddbjson_s(s));
}

int
ddbjson_set_n(json_t *map, const char *name, const char *n)
{
    return ddbjson_set(map, name, ddbjson_n(n));
}

int
ddbjson_set_i64(json_t *map, const char *name, int64_t v)
{
    return ddbjson_set(map, name, ddbjson_n_i64(v));
}

int
ddbjson_set_bool(json_t *map, const char *name, int v)
{
    return ddbjson_set(map, name, ddbjson_bool(v));
}

enum ddbjson_type
ddbjson_type(const json_t *av)
{
    const char *key;
    size_t i;

    if (!json_is_object(av) || json_object_size(av) != 1)
        return DDBJSON_INVALID;
    key = json_object_iter_key(json_object_iter((json_t *)av));
    for (i = 1; i < N_TYPES; i++)
        if (strcmp(key, type_names[i]) == 0)
            return (enum ddbjson_type)i;
    return DDBJSON_INVALID;
}

const char *
ddbjson_type_name(enum ddbjson_type t)
{
    return (size_t)t < N_TYPES ? type_names[t] : "?";
}

/* The value under an AttributeValue's single key. */
static json_t *
inner(const json_t *av)
{
    return json_object_iter_value(json_object_iter((json_t *)av));
}

/* Standard base64 with '=' padding, as DynamoDB sends binary values. */
static int
base64_ok(const char *s, size_t n)
{
    size_t i, pad = 0;

    if (n % 4 != 0)
        return 0;
    while (pad < 2 && pad < n && s[n - 1 - pad] == '=')
        pad++;
    for (i = 0; i < n - pad; i++) {
        char c = s[i];

        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
              (c >= '0' && c <= '9') || c == '+' || c == '/'))
            return 0;
    }
    return 1;
}

/* One scalar string value: N must be a number, B base64. */
static int
check_scalar(enum ddbjson_type t, const json_t *v, const struct path *p,
             char err[ERR_LEN])
{
    const char *what = t == DDBJSON_N ? "number" : "base64";

    if (!json_is_string(v)) {
        fail(err, p, "%s value is not a JSON string", type_names[t]);
        return ERR_FAIL;
    }
    if (t == DDBJSON_N && !ddbjson_number_ok(json_string_value(v))) {
        fail(err, p, "N value is not a DynamoDB %s", what);
        return ERR_FAIL;
    }
    if (t == DDBJSON_B &&
        !base64_ok(json_string_value(v), json_string_length(v))) {
        fail(err, p, "B value is not %s", what);
        return ERR_FAIL;
    }
    return 0;
}

/* A set: non-empty array of unique strings, each checked as its type.
 * XXX: repeats are found by text, so an NS holding "1" and "1.0" (or a BS
 * with two spellings of the same bytes) passes here and DynamoDB refuses
 * the request instead; spookyd builds no NS or BS values. */
static int
check_set(enum ddbjson_type t, const json_t *v, struct path *p,
          char err[ERR_LEN])
{
    enum ddbjson_type elem = t == DDBJSON_SS   ? DDBJSON_S
                             : t == DDBJSON_NS ? DDBJSON_N
                                               : DDBJSON_B;
    json_t *seen, *e;
    size_t i, old;
    int rc = 0;

    if (!json_is_array(v) || json_array_size(v) == 0) {
        fail(err, p, "%s value is not a non-empty array", type_names[t]);
        return ERR_FAIL;
    }
    seen = json_object();
    json_array_foreach(v, i, e) {
        old = path_push(p, "[%zu]", i);
        if (elem == DDBJSON_S && !json_is_string(e)) {
            fail(err, p, "SS member is not a JSON string");
            rc = ERR_FAIL;
        } else if (elem != DDBJSON_S) {
            rc = check_scalar(elem, e, p, err);
        }
        if (rc == 0 && json_object_get(seen, json_string_value(e)) != NULL) {
            fail(err, p, "%s member repeats an earlier one", type_names[t]);
            rc = ERR_FAIL;
        }
        path_pop(p, old);
        if (rc != 0)
            break;
        json_object_set(seen, json_string_value(e), json_null());
    }
    json_decref(seen);
    return rc;
}

static int check_av(const json_t *av, struct path *p, int depth,
                    char err[ERR_LEN]);

/* The members of an M (as ".name") or an L (as "[i]"). */
static int
check_children(enum ddbjson_type t, const json_t *v, struct path *p,
               int depth, char err[ERR_LEN])
{
    const char *name;
    json_t *e;
    size_t i, old;
    int rc = 0;

    if (t == DDBJSON_M && !json_is_object(v)) {
        fail(err, p, "M value is not a JSON object");
        return ERR_FAIL;
    }
    if (t == DDBJSON_L && !json_is_array(v)) {
        fail(err, p, "L value is not a JSON array");
        return ERR_FAIL;
    }
    if (t == DDBJSON_M) {
        json_object_foreach((json_t *)v, name, e) {
            old = path_push(p, ".%s", name);
            rc = check_av(e, p, depth + 1, err);
            path_pop(p, old);
            if (rc != 0)
                return rc;
        }
        return 0;
    }
    json_array_foreach(v, i, e) {
        old = path_push(p, "[%zu]", i);
        rc = check_av(e, p, depth + 1, err);
        path_pop(p, old);
        if (rc != 0)
            return rc;
    }
    return 0;
}

static int
check_av(const json_t *av, struct path *p, int depth, char err[ERR_LEN])
{
    enum ddbjson_type t = ddbjson_type(av);
    const json_t *v;

    if (depth > DDBJSON_MAX_DEPTH) {
        fail(err, p, "nested more than %d levels deep", DDBJSON_MAX_DEPTH);
        return ERR_FAIL;
    }
    if (t == DDBJSON_INVALID) {
        fail(err, p, "not an AttributeValue (one key of S, N, B, BOOL, "
                     "NULL, M, L, SS, NS, BS)");
        return ERR_FAIL;
    }
    v = inner(av);
    switch (t) {
    case DDBJSON_S:
        if (json_is_string(v))
            return 0;
        fail(err, p, "S value is not a JSON string");
        return ERR_FAIL;
    case DDBJSON_N:
    case DDBJSON_B:
        return check_scalar(t, v, p, err);
    case DDBJSON_BOOL:
        if (json_is_boolean(v))
            return 0;
        fail(err, p, "BOOL value is not true or false");
        return ERR_FAIL;
    case DDBJSON_NULL:
        if (json_is_true(v))
            return 0;
        fail(err, p, "NULL value is not true");
        return ERR_FAIL;
    case DDBJSON_M:
    case DDBJSON_L:
        return check_children(t, v, p, depth, err);
    default:
        return check_set(t, v, p, err);
    }
}

int
ddbjson_check(const json_t *av, char err[ERR_LEN])
{
    struct path p = {"value", 5};

    return check_av(av, &p, 0, err);
}

int
ddbjson_check_map(const json_t *map, char err[ERR_LEN])
{
    struct path p = {"", 0};
    const char *name;
    json_t *av;
    int rc;

    if (!json_is_object(map)) {
        snprintf(err, ERR_LEN, "not a JSON object of attributes");
        return ERR_FAIL;
    }
    json_object_foreach((json_t *)map, name, av) {
        path_push(&p, "%s", name);
        rc = check_av(av, &p, 0, err);
        path_pop(&p, 0);
        if (rc != 0)
            return rc;
    }
    return 0;
}

json_t *
ddbjson_parse_map(const char *text, size_t len, char err[ERR_LEN])
{
    json_error_t je;
    json_t *map;

    if (text == NULL) {
        snprintf(err, ERR_LEN, "no JSON text");
        return NULL;
    }
    map = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
    if (map == NULL) {
        snprintf(err, ERR_LEN, "JSON line %d column %d: %s", je.line,
                 je.column, je.text);
        return NULL;
    }
    if (ddbjson_check_map(map, err) != 0) {
        json_decref(map);
        return NULL;
    }
    return map;
}

char *
ddbjson_dump(const json_t *j)
{
    return j == NULL ? NULL : json_dumps(j, JSON_COMPACT);
}

/* The inner value of attribute name when its type is t, else NULL. */
static json_t *
get_typed(const json_t *map, const char *name, enum ddbjson_type t)
{
    json_t *av;

    if (!json_is_object(map) || name == NULL)
        return NULL;
    av = json_object_get(map, name);
    return ddbjson_type(av) == t ? inner(av) : NULL;
}

const char *
ddbjson_get_s(const json_t *map, const char *name)
{
    return json_string_value(get_typed(map, name, DDBJSON_S));
}

const char *
ddbjson_get_n(const json_t *map, const char *name)
{
    return json_string_value(get_typed(map, name, DDBJSON_N));
}

int
ddbjson_get_i64(const json_t *map, const char *name, int64_t *out,
                char err[ERR_LEN])
{
    const char *n = ddbjson_get_n(map, name), *p;
    char *end;
    long long v;

    if (n == NULL) {
        snprintf(err, ERR_LEN, "%s: missing or not an N",
                 name != NULL ? name : "(null)");
        return ERR_FAIL;
    }
    p = n + (*n == '-');
    if (*p < '0' || *p > '9' || p[strspn(p, "0123456789")] != '\0') {
        snprintf(err, ERR_LEN, "%s: not a plain integer", name);
        return ERR_FAIL;
    }
    errno = 0;
    v = strtoll(n, &end, 10);
    if (errno == ERANGE) {
        snprintf(err, ERR_LEN, "%s: integer out of 64-bit range", name);
        return ERR_FAIL;
    }
    *out = (int64_t)v;
    return 0;
}

int
ddbjson_get_bool(const json_t *map, const char *name, int *out)
{
    json_t *v = get_typed(map, name, DDBJSON_BOOL);

    if (!json_is_boolean(v))
        return ERR_FAIL;
    *out = json_is_true(v);
    return 0;
}

const json_t *
ddbjson_get_m(const json_t *map, const char *name)
{
    json_t *v = get_typed(map, name, DDBJSON_M);

    return json_is_object(v) ? v : NULL;
}

const json_t *
ddbjson_get_l(const json_t *map, const char *name)
{
    json_t *v = get_typed(map, name, DDBJSON_L);

    return json_is_array(v) ? v : NULL;
}

