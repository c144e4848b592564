/*
 * The AWS credential chain, first that works: AWS_ACCESS_KEY_ID +
 * AWS_SECRET_ACCESS_KEY (+ AWS_SESSION_TOKEN); a shared credentials file;
 * IMDSv2 instance-profile credentials, refreshed in the background.  No
 * config-file profiles, SSO, web identity or container credentials.  Key
 * material is wiped before it is freed and never logged.
 *
 * Shared file: $AWS_SHARED_CREDENTIALS_FILE, else (systemd
 * LoadCredential=aws-credentials) $CREDENTIALS_DIRECTORY/aws-credentials
 * if it exists, else ~/.aws/credentials; profile $AWS_PROFILE or
 * "default".  A file others may read is refused, as ssh does.
 */
#ifndef SPOOKYD_AWS_CREDS_H
#define SPOOKYD_AWS_CREDS_H

#include <stdint.h>
#include <time.h>

#include <uv.h>

#include "aws/endpoint.h"
#include "core/err.h"

/* A set never signs when it expires within this many seconds. */
#define CREDS_MIN_LIFE_S 60
/* Background refresh starts this long before Expiration (+- jitter). */
#define CREDS_REFRESH_BEFORE_S 900
/* Wait between failed refreshes. */
#define CREDS_RETRY_S 60
/* Largest shared credentials file read. */
#define CREDS_FILE_MAX 65536

enum creds_source {
    CREDS_NONE, /* nothing in the chain */
    CREDS_ENV,
    CREDS_FILE,
    CREDS_IMDS,
};

/* One set of keys.  Strings are owned; creds_keys_cleanup() wipes them. */
struct creds_keys {
    char *access_key_id;
    char *secret_access_key;
    char *session_token; /* NULL for long-term keys */
    time_t expiration;   /* 0: does not expire */
};

/* Wipe and free the strings; the struct is zeroed.  NULL is a no-op. */
void creds_keys_cleanup(struct creds_keys *k);

/* Keys from the environment (env NULL: getenv).  0 and *out; 1 when
 * AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are both unset or empty;
 * ERR_FAIL with err when only one is set. */
int creds_from_env(endpoint_getenv_fn env, struct creds_keys *out,
                   char err[ERR_LEN]);

/* Parse the INI text of a credentials file: "[profile]" sections with
 * aws_access_key_id, aws_secret_access_key, aws_session_token (names
 * case-insensitive, '#' and ';' comment lines, blanks around '=').  0 and
 * *out; 1 when profile has no section; ERR_FAIL with err (line number,
 * never a value) when the section lacks a key or a line is malformed. */
int creds_parse_file(const char *text, const char *profile,
                     struct creds_keys *out, char err[ERR_LEN]);

/* The credentials file to read (see above) as a new string, or NULL when
 * there is none to try ($HOME unset and nothing else given).  *systemd is
 * set when it is the systemd credential. */
char *creds_file_path(endpoint_getenv_fn env, int *systemd);

/* Read path and parse profile from it.  0 and *out; 1 when the file does
 * not exist or lacks the profile; ERR_FAIL with err when it cannot be
 * read, is not a regular file, is larger than CREDS_FILE_MAX, may be read
 * by others, or is malformed. */
int creds_read_file(const char *path, const char *profile,
                    struct creds_keys *out, char err[ERR_LEN]);

/* Parse IMDS role credentials JSON (Code "Success", AccessKeyId,
 * SecretAccessKey, Token, Expiration "YYYY-MM-DDTHH:MM:SSZ").  0 and *out,
 * or ERR_FAIL with err (never a value). */
int creds_parse_imds(const char *json, size_t len, struct creds_keys *out,
                     char err[ERR_LEN]);

/* Milliseconds from now until a set expiring at expiration should be
 * refreshed: Expiration - CREDS_REFRESH_BEFORE_S with jitter of +-60 s
 * from rnd in [0, 1]; inside that window every CREDS_RETRY_S, sooner when
 * the set stops being usable first (at least 1 s). */
uint64_t creds_refresh_delay_ms(time_t expiration, time_t now, double rnd);

/* True when k can sign at now: it has keys and does not expire within
 * CREDS_MIN_LIFE_S. */
int creds_keys_usable(const struct creds_keys *k, time_t now);

/* --- The chain, on the loop. --- */

struct creds;
struct imds;

/* Called when credentials are usable (rc 0: creds_current() returns
 * them) or could not be had (ERR_RETRY / ERR_FAIL, err says why). */
typedef void (*creds_ready_cb)(int rc, const char *err, void *arg);

/* A queued wait, in the waiter's storage; fields are private. */
struct creds_waiter {
    struct creds_waiter *next;
    creds_ready_cb cb;
    void *arg;
};

/* Resolve the chain: environment, then file, read now; then IMDS through
 * imds (borrowed; NULL when disabled), fetched on first need.  NULL with
 * err when a source is broken (half-set environment, bad or too open
 * file, AWS_PROFILE naming a missing profile).  Free with creds_free(). */
struct creds *creds_new(uv_loop_t *loop, struct imds *imds,
                        endpoint_getenv_fn env, char err[ERR_LEN]);

/* Complete every waiter with ERR_RETRY, stop refreshing and free
 * everything (the timer closes on the next loop run).  NULL is a no-op. */
void creds_free(struct creds *c);

/* Where the keys come from (CREDS_NONE: nowhere). */
enum creds_source creds_source(const struct creds *c);

/* The keys to sign with now, or NULL when none are usable yet. */
const struct creds_keys *creds_current(const struct creds *c);

/* Call cb once usable keys exist (at once, inside this call, when they
 * already do) or cannot be had; fetches them when needed. */
void creds_wait(struct creds *c, struct creds_waiter *w, creds_ready_cb cb,
                void *arg);

/* Remove a queued waiter; its callback does not run.  No-op if absent. */
void creds_wait_cancel(struct creds *c, struct creds_waiter *w);

/* A service said the keys with access_key_id expired (ExpiredToken):
 * drop them if still current, so the next creds_wait() fetches anew.  0
 * when a fetch will follow, ERR_FAIL for static keys, which cannot change
 * (they are dropped and later waits fail). */
int creds_expired(struct creds *c, const char *access_key_id);

/* Seconds to add to the local clock for AWS time (expiry checks). */
void creds_set_clock_offset(struct creds *c, long offset_s);

#endif
