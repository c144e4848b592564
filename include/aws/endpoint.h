/*
 * Where AWS requests go: the region (config, then environment) and each
 * service's endpoint (config, AWS_ENDPOINT_URL_*, AWS_ENDPOINT_URL, else
 * the public AWS host), plus S3 object addressing.  Pure: the environment
 * comes in as a lookup function, errors go to a caller's err buffer.  The
 * IMDS fallback for the region lives in aws/aws.c.
 */
#ifndef SPOOKYD_AWS_ENDPOINT_H
#define SPOOKYD_AWS_ENDPOINT_H

#include "core/err.h"

/* The services spookyd calls. */
enum endpoint_service {
    ENDPOINT_S3,
    ENDPOINT_DYNAMODB,
    ENDPOINT_SECRETSMANAGER,
};
#define ENDPOINT_N_SERVICES 3

/* Longest region name accepted ("us-east-1" style, lower case). */
#define ENDPOINT_REGION_MAX 32

/* Environment lookup, getenv()'s contract; NULL arguments below mean
 * getenv itself.  Tests pass a fake. */
typedef const char *(*endpoint_getenv_fn)(const char *name);

/* A service's base URL, split.  Strings are owned by the struct. */
struct endpoint {
    char *base; /* "https://dynamodb.us-east-1.amazonaws.com" or
                 * "http://127.0.0.1:4566": scheme://host[:port] */
    char *host; /* Host header and SigV4 host: "host" or "host:port"
                 * when the port is not the scheme's default */
    int custom; /* set from config or environment, not AWS's own */
};

/* Where one S3 object lives.  Strings are owned by the struct. */
struct endpoint_target {
    char *url;  /* base + path: what curl gets (no query) */
    char *host; /* Host header value, signed */
    char *path; /* wire path, the key UriEncoded once ("/bucket/a%20b") */
};

/* The service's SigV4 name: "s3", "dynamodb", "secretsmanager". */
const char *endpoint_service_name(enum endpoint_service svc);

/* True when s is a plausible region name: 1-32 of [a-z0-9-], starting
 * with a letter. */
int endpoint_region_valid(const char *s);

/* Region from config (may be NULL), else $AWS_REGION, else
 * $AWS_DEFAULT_REGION.  Returns 0 with a new string in *region (caller
 * frees), 1 when none is set (ask IMDS), or ERR_FAIL with err when the
 * chosen value is not a region name. */
int endpoint_region(const char *config, endpoint_getenv_fn env, char **region,
                    char err[ERR_LEN]);

/* Resolve svc's endpoint: config_url (may be NULL), else the service's
 * AWS_ENDPOINT_URL_<S3|DYNAMODB|SECRETS_MANAGER>, else AWS_ENDPOINT_URL,
 * the last two ignored when AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=true;
 * else https://<service>.<region>.amazonaws.com (.com.cn in cn-*).  A
 * custom URL must be http(s)://host[:port] with at most a "/" path.
 * Returns 0 and fills *out (release with endpoint_cleanup()), or ERR_FAIL
 * with err naming the setting. */
int endpoint_resolve(enum endpoint_service svc, const char *config_url,
                     const char *region, endpoint_getenv_fn env,
                     struct endpoint *out, char err[ERR_LEN]);

/* Free what endpoint_resolve() stored; safe on a zeroed struct. */
void endpoint_cleanup(struct endpoint *ep);

/* True when bucket is a valid S3 bucket name (3-63 of [a-z0-9.-],
 * starting and ending with a letter or digit, no "..", not an IPv4
 * address). */
int endpoint_bucket_valid(const char *bucket);

/* Address object key in bucket on the S3 endpoint ep: virtual-hosted
 * (https://bucket.s3.region.amazonaws.com/key) unless path_style is set,
 * the bucket name has a dot or ep is custom, then path-style
 * (base/bucket/key).  The key is UriEncoded once, '/' kept; an empty or
 * NULL key addresses the bucket itself.  Returns 0 and fills *out
 * (release with endpoint_target_cleanup()), or ERR_FAIL with err for a
 * bad bucket name or a key over 1024 bytes. */
int endpoint_s3_object(const struct endpoint *ep, const char *bucket,
                       const char *key, int path_style,
                       struct endpoint_target *out, char err[ERR_LEN]);

/* Free what endpoint_s3_object() stored; safe on a zeroed struct. */
void endpoint_target_cleanup(struct endpoint_target *t);

#endif
