/*
 * What an AWS reply says went wrong: the error code, message and request
 * id of S3 XML and JSON-protocol error bodies, which codes mean clock
 * skew, expired keys or a failed condition, DynamoDB's x-amz-crc32 body
 * check and the clock offset from a Date header.  Pure: nothing is read
 * from the clock or logged.
 */
#ifndef SPOOKYD_AWS_AWSERR_H
#define SPOOKYD_AWS_AWSERR_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "core/err.h"

/* Sizes of the parsed fields (longer values are cut). */
#define AWSERR_CODE_LEN 128
#define AWSERR_MESSAGE_LEN 512
#define AWSERR_REQUEST_ID_LEN 128

/* An error reply, parsed; control characters become spaces. */
struct awserr {
    char code[AWSERR_CODE_LEN];
    char message[AWSERR_MESSAGE_LEN];
    char request_id[AWSERR_REQUEST_ID_LEN];
};

/* Parse an error body: S3 XML (<Error><Code>, <Message>, <RequestId>) or
 * JSON (__type or code, reduced to the text after the last '#' and before
 * any ':'; "message" or "Message"), with the x-amzn-ErrorType header
 * value error_type (may be NULL) as a fallback for the code.  Missing
 * parts stay "".  Never fails: unparseable input leaves all of *out "". */
void awserr_parse(const char *body, size_t len, const char *error_type,
                  struct awserr *out);

/* Store id (a request id header value; may be NULL) in e->request_id. */
void awserr_set_request_id(struct awserr *e, const char *id);

/* True for codes that mean our clock may be off: RequestTimeTooSkewed,
 * RequestExpired, RequestInTheFuture, and InvalidSignatureException whose
 * message says "Signature expired" or "Signature not yet current". */
int awserr_is_skew(const char *code, const char *message);

/* True for ExpiredToken and ExpiredTokenException. */
int awserr_is_expired_token(const char *code);

/* True for ConditionalCheckFailedException and PreconditionFailed. */
int awserr_is_condition(const char *code);

/* CRC-32 (the zlib/IEEE polynomial) of n bytes, continuing from crc (0 to
 * start), as DynamoDB's x-amz-crc32 header carries it. */
uint32_t awserr_crc32(uint32_t crc, const void *p, size_t n);

/* Check a body against an x-amz-crc32 header value (decimal).  0 when it
 * matches or header is NULL; ERR_RETRY with err when it does not or is
 * not a number (the body was damaged in transit: try again). */
int awserr_crc32_check(const char *header, const void *body, size_t len,
                       char err[ERR_LEN]);

/* New clock offset in seconds from a reply's Date server_time seen at
 * local time local_time: server - local when that differs from current
 * by 300 s or more (the SDKs' threshold), else current unchanged. */
long awserr_skew_offset(time_t server_time, time_t local_time, long current);

#endif
