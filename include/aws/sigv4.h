/*
 * AWS Signature Version 4 in the Authorization header, for S3 and for the
 * JSON services (DynamoDB, Secrets Manager).  Pure: the time is an
 * argument, nothing is logged, errors go to a caller's err buffer.  No
 * presigned URLs, no aws-chunked uploads, no SigV4a.
 */
#ifndef SPOOKYD_AWS_SIGV4_H
#define SPOOKYD_AWS_SIGV4_H

#include <stddef.h>
#include <time.h>

#include "core/buf.h"
#include "core/err.h"

#define SIGV4_DATE_LEN 16 /* "20150830T123600Z" */
#define SIGV4_HEX_LEN 64  /* hex SHA-256 */
#define SIGV4_KEY_LEN 32  /* derived signing key */
#define SIGV4_MAX_ADD 4   /* headers sigv4_sign() asks the caller to add */
#define SIGV4_CACHE_SLOTS 4

/* The payload hash S3 accepts for a body left out of the signature (only
 * ever over HTTPS). */
#define SIGV4_UNSIGNED_PAYLOAD "UNSIGNED-PAYLOAD"

struct sigv4_header {
    const char *name;
    const char *value;
};

/* One request as it will go on the wire.  Every header listed is signed
 * (so list only headers libcurl sends unchanged).  The signer refuses
 * headers it makes itself (Host, X-Amz-Date, Authorization,
 * X-Amz-Security-Token, x-amz-content-sha256) and those libcurl may add or
 * rewrite (Expect, User-Agent, Transfer-Encoding, Connection,
 * Accept-Encoding): add those to the curl request unsigned. */
struct sigv4_request {
    const char *method; /* "GET", "PUT", ...: sent as given */
    const char *host;   /* Host header value: "name", or "name:port" when
                         * the port is not the scheme's default */
    const char *path;   /* wire path, starts with '/', no query; build S3
                         * paths with sigv4_uri_encode(key, 1) */
    const char *query;  /* raw query without '?', or NULL/"" for none */
    const struct sigv4_header *headers;
    size_t n_headers;
    /* The payload: either payload_hash (lowercase hex SHA-256,
     * SIGV4_UNSIGNED_PAYLOAD or a "STREAMING-..." value), or body/body_len
     * to be hashed here, or neither for an empty body.  Not both. */
    const char *payload_hash;
    const void *body;
    size_t body_len;
    const char *region;  /* "us-east-1" */
    const char *service; /* "s3", "dynamodb", "secretsmanager" */
    /* S3 rules: the path is signed as the key encoded once (no dot-segment
     * removal, "//" kept) and x-amz-content-sha256 is added.  Otherwise the
     * path is normalised and its wire form encoded a second time. */
    int s3;
};

struct sigv4_creds {
    const char *access_key_id;
    const char *secret_access_key;
    const char *session_token; /* NULL or "" for long-term keys */
};

/* Result of sigv4_sign(), in caller storage; release with
 * sigv4_signed_cleanup().  add[] lists, in this order, X-Amz-Date,
 * x-amz-content-sha256 (S3 only), X-Amz-Security-Token (with a session
 * token) and Authorization: all must be sent, all are signed.  The
 * strings belong to this struct.  canonical_request and string_to_sign are
 * for tests and for comparing with S3's SignatureDoesNotMatch reply; the
 * canonical request holds the session token, so never log either. */
struct sigv4_signed {
    struct sigv4_header add[SIGV4_MAX_ADD];
    size_t n_add;
    char amz_date[SIGV4_DATE_LEN + 1];
    char payload_hash[SIGV4_HEX_LEN + 1];
    char *authorization;
    char *security_token;
    char *canonical_request;
    char *string_to_sign;
};

/* Derived signing keys by (date, region, service, secret), so a day of
 * requests derives each key once.  Caller storage; fields are private.  A
 * slot is found by a SHA-256 fingerprint of the four, not by the secret. */
struct sigv4_cache_slot {
    unsigned char id[32];
    unsigned char key[SIGV4_KEY_LEN];
    int used;
};

struct sigv4_cache {
    struct sigv4_cache_slot slot[SIGV4_CACHE_SLOTS];
    unsigned next;      /* slot replaced on the next miss */
    unsigned long hits; /* counters, for tests and debug output */
    unsigned long misses;
};

/* Empty cache in caller storage. */
void sigv4_cache_init(struct sigv4_cache *c);

/* Wipe every cached key; the cache is empty and reusable afterwards.  NULL
 * is a no-op. */
void sigv4_cache_cleanup(struct sigv4_cache *c);

/* Sign req with creds at time now.  cache may be NULL.  Returns 0 and
 * fills *out (release it with sigv4_signed_cleanup()), or ERR_FAIL with a
 * reason in err for input that can never be signed (missing field, CR/LF
 * in a header, malformed %-escape, reserved header, time before 1970 or
 * after 9999, OpenSSL failure); *out is then empty.  err never holds
 * header values or secrets. */
int sigv4_sign(const struct sigv4_request *req, const struct sigv4_creds *creds,
               time_t now, struct sigv4_cache *cache, struct sigv4_signed *out,
               char err[ERR_LEN]);

/* Free and wipe what sigv4_sign() put in s; safe on a zeroed or already
 * cleaned struct. */
void sigv4_signed_cleanup(struct sigv4_signed *s);

/* AWS UriEncode of the n bytes at s, appended to b: A-Z a-z 0-9 - _ . ~
 * kept, '/' kept when keep_slash, every other byte as %XX (uppercase hex),
 * so a space is %20 and '+' is %2B.  For S3 keys and query parts. */
void sigv4_uri_encode_append(struct buf *b, const char *s, size_t n,
                             int keep_slash);

/* sigv4_uri_encode_append() of the C string s into a new string the
 * caller frees ("photos/Piña Colada.png", 1 -> "photos/Pi%C3%B1a%20..."). */
char *sigv4_uri_encode(const char *s, int keep_slash);

/* Lowercase hex SHA-256 of n bytes at p into out.  0, or ERR_FAIL if
 * OpenSSL fails. */
int sigv4_sha256_hex(const void *p, size_t n, char out[SIGV4_HEX_LEN + 1]);

/* t as the X-Amz-Date value "YYYYMMDD'T'HHMMSS'Z'" (UTC); the first 8
 * characters are the scope date.  0, or ERR_FAIL outside years 1970-9999. */
int sigv4_format_date(time_t t, char out[SIGV4_DATE_LEN + 1]);

#endif
