/*
 * DynamoDB's typed JSON ("AttributeValue", {"S":"x"}, {"N":"42"}, ...):
 * build items, keys and expression values as jansson trees, check and read
 * what the service sends back.  Numbers stay strings from end to end and
 * are never turned into json_int_t or double.  Pure: no I/O, no logging,
 * errors go to a caller's err buffer.  Relies on jansson >= 2.8 (keys kept
 * in insertion order, UTF-8 checked on every string).
 */
#ifndef SPOOKYD_AWS_DDBJSON_H
#define SPOOKYD_AWS_DDBJSON_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "core/err.h"

/* Nesting DynamoDB allows for M and L values inside an item. */
#define DDBJSON_MAX_DEPTH 32
/* Significant digits a DynamoDB number may have. */
#define DDBJSON_N_DIGITS 38
/* Longest number string accepted, in bytes (digits, sign, point, exponent
 * and insignificant zeros). */
#define DDBJSON_N_MAX_LEN 200

/* The AttributeValue types.  B, NS and BS are recognised and checked when
 * read (the old app's items may hold them) but never built here. */
enum ddbjson_type {
    DDBJSON_INVALID,
    DDBJSON_S,
    DDBJSON_N,
    DDBJSON_B,
    DDBJSON_BOOL,
    DDBJSON_NULL,
    DDBJSON_M,
    DDBJSON_L,
    DDBJSON_SS,
    DDBJSON_NS,
    DDBJSON_BS,
};

/* 1 when n is a number DynamoDB stores: optional sign, digits with an
 * optional point, optional exponent, at most DDBJSON_N_DIGITS significant
 * digits, magnitude 0 or within 1E-130 .. 9.99...E+125; else 0. */
int ddbjson_number_ok(const char *n);

/* New AttributeValue {"S": s} (the caller owns the reference), or NULL
 * when s is NULL or not valid UTF-8.  An empty string is allowed (DynamoDB
 * refuses it only in key attributes). */
json_t *ddbjson_s(const char *s);

/* New {"N": n} with n copied as given, or NULL when
 * ddbjson_number_ok(n) is 0. */
json_t *ddbjson_n(const char *n);

/* New {"N": "<v in decimal>"}; never NULL. */
json_t *ddbjson_n_i64(int64_t v);

/* New {"BOOL": true/false} (v != 0 is true); never NULL. */
json_t *ddbjson_bool(int v);

/* New {"NULL": true}; never NULL. */
json_t *ddbjson_null(void);

/* New {"SS": [...]} from n strings, or NULL when n is 0, a string is NULL
 * or not UTF-8, or two are equal (DynamoDB refuses all three). */
json_t *ddbjson_ss(const char *const *v, size_t n);

/* New {"M": map}: takes the caller's reference to map (a JSON object of
 * name -> AttributeValue).  NULL, with map released, when map is NULL or
 * not an object. */
json_t *ddbjson_m(json_t *map);

/* New {"L": list}: takes the reference to list (a JSON array of
 * AttributeValues).  NULL, with list released, when it is not an array. */
json_t *ddbjson_l(json_t *list);

/* Put av under name in map (an Item, Key, ExpressionAttributeValues or M
 * body), replacing an earlier value.  Takes the reference to av, also on
 * failure.  0, or ERR_FAIL when map is not an object, name is NULL, empty
 * or not UTF-8, or av is NULL, so a failed constructor can be passed
 * straight in: ddbjson_set(item, "n", ddbjson_n(s)). */
int ddbjson_set(json_t *map, const char *name, json_t *av);

/* ddbjson_set() of ddbjson_s(s), ddbjson_n(n), ddbjson_n_i64(v) and
 * ddbjson_bool(v).  0 or ERR_FAIL as above. */
int ddbjson_set_s(json_t *map, const char *name, const char *s);
int ddbjson_set_n(json_t *map, const char *name, const char *n);
int ddbjson_set_i64(json_t *map, const char *name, int64_t v);
int ddbjson_set_bool(json_t *map, const char *name, int v);

/* Type of av judged by its single key, without looking inside;
 * DDBJSON_INVALID for NULL, a non-object, zero or several keys, or an
 * unknown key. */
enum ddbjson_type ddbjson_type(const json_t *av);

/* The type's wire name ("S", "N", ...); "?" for DDBJSON_INVALID. */
const char *ddbjson_type_name(enum ddbjson_type t);

/* Check one AttributeValue all the way down: one known key, a value of
 * the right JSON type, numbers as ddbjson_number_ok() wants, base64 for
 * B and BS, sets non-empty and without repeats, NULL only as true, depth
 * at most DDBJSON_MAX_DEPTH.  0, or ERR_FAIL with err naming the path
 * ("tags.L[2].N: not a DynamoDB number"); values are never quoted. */
int ddbjson_check(const json_t *av, char err[ERR_LEN]);

/* ddbjson_check() of every value of a map (an Item, Key,
 * LastEvaluatedKey, Attributes); err paths start at the attribute name. */
int ddbjson_check_map(const json_t *map, char err[ERR_LEN]);

/* Parse len bytes of text as a map of AttributeValues and check it.  A new
 * object the caller releases with json_decref(), or NULL with err saying
 * what is wrong (JSON syntax with line and column, or as
 * ddbjson_check_map()). */
json_t *ddbjson_parse_map(const char *text, size_t len, char err[ERR_LEN]);

/* Compact JSON text of j (keys in insertion order, UTF-8 kept as is), for
 * request bodies.  The caller frees it with free(); NULL only for NULL. */
char *ddbjson_dump(const json_t *j);

/* The string of attribute name in map when it is an S, else NULL (absent,
 * other type, map NULL).  Points into map. */
const char *ddbjson_get_s(const json_t *map, const char *name);

/* The number text of attribute name when it is an N, else NULL.  Points
 * into map. */
const char *ddbjson_get_n(const json_t *map, const char *name);

/* Attribute name as a 64-bit integer.  0, or ERR_FAIL with err when it is
 * absent, not an N, not a plain integer ("12", "-3"; not "1.5" or "1E3")
 * or out of range. */
int ddbjson_get_i64(const json_t *map, const char *name, int64_t *out,
                    char err[ERR_LEN]);

/* Attribute name as a BOOL into *out (0 or 1).  0, or ERR_FAIL when absent
 * or another type. */
int ddbjson_get_bool(const json_t *map, const char *name, int *out);

/* The inner object of an M attribute, or the inner array of an L one;
 * NULL when absent or another type.  Points into map. */
const json_t *ddbjson_get_m(const json_t *map, const char *name);
const json_t *ddbjson_get_l(const json_t *map, const char *name);

#endif
