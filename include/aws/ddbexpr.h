/*
 * Checks of DynamoDB expressions (ConditionExpression, UpdateExpression,
 * KeyConditionExpression, ...) against ExpressionAttributeNames and
 * ExpressionAttributeValues before a request leaves.  spookyd names every
 * attribute through a #placeholder, so reserved words never bite.  Pure:
 * no I/O, no logging.  Relies on jansson and aws/ddbjson.h.
 */
#ifndef SPOOKYD_AWS_DDBEXPR_H
#define SPOOKYD_AWS_DDBEXPR_H

#include <stddef.h>

#include <jansson.h>

#include "core/err.h"

/* One expression of a request, for ddbexpr_check(). */
struct ddbexpr {
    const char *field; /* "ConditionExpression", ...: names it in errors */
    const char *text;  /* the expression, or NULL when the request has
                        * none */
};

/* Check the n expressions of one request against its placeholder maps
 * (either may be NULL): every attribute is named through a #placeholder
 * (so reserved words such as status and timestamp never appear bare;
 * only keywords AND OR NOT BETWEEN IN SET REMOVE ADD DELETE and function
 * names followed by '(' may), each #name and :value used is defined,
 * each defined one is used (DynamoDB refuses unused ones), names map to
 * non-empty strings and values are valid AttributeValues.  0, or ERR_FAIL
 * with err naming the field ("UpdateExpression: bare attribute name
 * 'status': use a #placeholder"). */
int ddbexpr_check(const struct ddbexpr *exprs, size_t n,
                  const json_t *names, const json_t *values,
                  char err[ERR_LEN]);

#endif
