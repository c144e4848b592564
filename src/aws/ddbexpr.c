/*
 * ddbexpr.c: checks DynamoDB expressions against their placeholder maps
 * with a small tokenizer (placeholders, words, digits, operators); it
 * does not parse the grammar, so a misplaced operator is left for
 * DynamoDB to refuse.  Pure; relies on aws/ddbjson.c for the values.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "aws/ddbexpr.h"
#include "aws/ddbjson.h"

/* Words an expression may hold bare: keywords (any case) and functions
 * (exact, and only when a '(' follows). */
static const char *const expr_keywords[] = {
    "AND", "OR", "NOT", "BETWEEN", "IN", "SET", "REMOVE", "ADD", "DELETE",
};
static const char *const expr_functions[] = {
    "attribute_exists", "attribute_not_exists", "attribute_type",
    "begins_with",      "contains",             "size",
    "if_not_exists",    "list_append",
};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static int
is_name_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c >= '0' && c <= '9') || c == '_';
}

/* A bare word at w (n bytes), followed by after. */
static int
expr_word(const char *field, const char *w, size_t n, const char *after,
          char err[ERR_LEN])
{
    size_t i;

    for (i = 0; i < COUNT(expr_keywords); i++)
        if (strlen(expr_keywords[i]) == n &&
            strncasecmp(w, expr_keywords[i], n) == 0)
            return 0;
    after += strspn(after, " \t\r\n");
    for (i = 0; i < COUNT(expr_functions); i++)
        if (strlen(expr_functions[i]) == n &&
            strncmp(w, expr_functions[i], n) == 0 && *after == '(')
            return 0;
    snprintf(err, ERR_LEN,
             "%s: bare attribute name '%.*s': use a #placeholder", field,
             (int)(n > 40 ? 40 : n), w);
    return ERR_FAIL;
}

/* A #name or :value reference at ref (n bytes with the sigil): it must be
 * defined in defs; it is recorded in used. */
static int
expr_ref(const char *field, const char *ref, size_t n, const json_t *defs,
         json_t *used, char err[ERR_LEN])
{
    const char *map = *ref == '#' ? "ExpressionAttributeNames"
                                  : "ExpressionAttributeValues";
    char name[64];

    if (n < 2 || n >= sizeof(name)) {
        snprintf(err, ERR_LEN, "%s: '%c' needs a name of 1-%zu characters",
                 field, *ref, sizeof(name) - 2);
        return ERR_FAIL;
    }
    memcpy(name, ref, n);
    name[n] = '\0';
    if (json_object_get(defs, name) == NULL) {
        snprintf(err, ERR_LEN, "%s: %s is not in %s", field, name, map);
        return ERR_FAIL;
    }
    json_object_set(used, name, json_null());
    return 0;
}

static int
expr_scan(const struct ddbexpr *e, const json_t *names,
          const json_t *values, json_t *used, char err[ERR_LEN])
{
    const char *p = e->text, *q;
    int rc = 0;

    if (*p == '\0') {
        snprintf(err, ERR_LEN, "%s: empty expression", e->field);
        return ERR_FAIL;
    }
    while (*p != '\0' && rc == 0) {
        for (q = p + 1; is_name_char(*q); q++)
            ;
        if (*p == '#' || *p == ':')
            rc = expr_ref(e->field, p, (size_t)(q - p),
                          *p == '#' ? names : values, used, err);
        else if (*p >= '0' && *p <= '9')
            q = p + strspn(p, "0123456789");
        else if (is_name_char(*p))
            rc = expr_word(e->field, p, (size_t)(q - p), q, err);
        else if (strchr(" \t\r\n=<>+-,()[].", *p) != NULL)
            q = p + 1;
        else {
            snprintf(err, ERR_LEN, "%s: unexpected character 0x%02x",
                     e->field, (unsigned char)*p);
            rc = ERR_FAIL;
        }
        p = q;
    }
    return rc;
}

/* The keys of a placeholder map: sigil then 1+ name characters. */
static int
check_def_keys(const json_t *defs, char sigil, const char *map,
               char err[ERR_LEN])
{
    const char *key;
    json_t *v;

    if (defs == NULL)
        return 0;
    if (!json_is_object(defs)) {
        snprintf(err, ERR_LEN, "%s: not a JSON object", map);
        return ERR_FAIL;
    }
    json_object_foreach((json_t *)defs, key, v) {
        if (key[0] != sigil || key[1] == '\0' ||
            key[1 + strspn(key + 1, "abcdefghijklmnopqrstuvwxyz"
                                    "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                    "0123456789_")] != '\0') {
            snprintf(err, ERR_LEN, "%s: key '%.40s' is not '%c' and a name",
                     map, key, sigil);
            return ERR_FAIL;
        }
        if (sigil == '#' &&
            (!json_is_string(v) || json_string_length(v) == 0)) {
            snprintf(err, ERR_LEN, "%s: %s is not a non-empty string", map,
                     key);
            return ERR_FAIL;
        }
    }
    return sigil == ':' ? ddbjson_check_map(defs, err) : 0;
}

static int
check_all_used(const json_t *defs, const json_t *used, const char *map,
               char err[ERR_LEN])
{
    const char *key;
    json_t *v;

    json_object_foreach((json_t *)defs, key, v) {
        if (json_object_get(used, key) == NULL) {
            snprintf(err, ERR_LEN, "%s: %s is not used by any expression",
                     map, key);
            return ERR_FAIL;
        }
    }
    return 0;
}

int
ddbexpr_check(const struct ddbexpr *exprs, size_t n, const json_t *names,
              const json_t *values, char err[ERR_LEN])
{
    json_t *used = NULL;
    size_t i;
    int rc = ERR_FAIL;

    if (check_def_keys(names, '#', "ExpressionAttributeNames", err) != 0 ||
        check_def_keys(values, ':', "ExpressionAttributeValues", err) != 0)
        return ERR_FAIL;
    used = json_object();
    for (i = 0; i < n; i++)
        if (exprs[i].text != NULL &&
            expr_scan(&exprs[i], names, values, used, err) != 0)
            goto out;
    if (check_all_used(names, used, "ExpressionAttributeNames", err) != 0 ||
        check_all_used(values, used, "ExpressionAttributeValues", err) != 0)
        goto out;
    rc = 0;
out:
    json_decref(used);
    return rc;
}
