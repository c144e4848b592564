/*
 * OAuth 1.0a request signing with HMAC-SHA1 (RFC 5849 section 3.4), the
 * "user context" authentication X's API v2 wants for posting.  Pure: the
 * caller supplies nonce and timestamp, nothing here reads the clock, and
 * only oauth1_nonce() draws random bytes.  Nothing here logs.
 */
#ifndef SPOOKYD_X_OAUTH1_H
#define SPOOKYD_X_OAUTH1_H

#include <stddef.h>

#include "core/buf.h"
#include "core/err.h"

/* Base64 of a 20-byte HMAC-SHA1 is 28 characters; plus the NUL. */
#define OAUTH1_SIG_LEN 29

/* Characters in a nonce from oauth1_nonce() (about 250 random bits). */
#define OAUTH1_NONCE_LEN 42

/*
 * The four credentials of a user-context request.  The caller owns the
 * strings.  token may be NULL for requests signed with client credentials
 * only (oauth_token is then left out and token_secret is taken as "").
 */
struct oauth1_keys {
    const char *consumer_key;
    const char *consumer_secret;
    const char *token;
    const char *token_secret;
};

/*
 * One request to sign.  url is the full URL as sent, query included.
 * form_body is the body exactly as sent, and only when the Content-Type
 * is application/x-www-form-urlencoded; pass NULL for JSON and multipart
 * bodies, which OAuth does not sign (RFC 5849 section 3.4.1.3.1).
 * nonce must be fresh for every request (see oauth1_nonce()); timestamp
 * is Unix seconds, read by the caller.
 */
struct oauth1_request {
    const char *method;
    const char *url;
    const char *form_body;
    const char *nonce;
    long long timestamp;
};

/* A decoded name/value pair; the caller owns both strings. */
struct oauth1_param {
    const char *name;
    const char *value;
};

/*
 * Append s[0..len) to out, percent-encoded per RFC 3986 as RFC 5849
 * section 3.6 requires: A-Z a-z 0-9 - . _ ~ kept, every other byte %XX
 * with upper-case hex (so a space is %20 and '+' is %2B).  Bytes are
 * encoded as they are; UTF-8 text therefore comes out as UTF-8 %XX.
 */
void oauth1_pct_encode(struct buf *out, const void *s, size_t len);

/*
 * Build the signature base string (RFC 5849 section 3.4.1) of a request
 * from its method, URL, optional form body and the protocol parameters
 * in oauth[0..n_oauth), which must not include oauth_signature or realm.
 * Query and form parameters are decoded as application/x-www-form-
 * urlencoded ('+' is a space), then every pair is encoded, sorted by name
 * and then value, and joined.  On success *out is a fresh string the
 * caller frees and 0 is returned; on bad input (scheme other than http
 * or https, user info, bad port, broken %-escape) ERR_FAIL with err
 * filled (the message never quotes the query or the body).
 */
int oauth1_base_string(const char *method, const char *url,
                       const char *form_body, const struct oauth1_param *oauth,
                       size_t n_oauth, char **out, char err[ERR_LEN]);

/*
 * HMAC-SHA1 of base with the key pe(consumer_secret)&pe(token_secret)
 * (a NULL token_secret counts as ""), base64-encoded into sig.  The key
 * copy is wiped before returning.  0, or ERR_FAIL with err filled.
 */
int oauth1_sign(const char *consumer_secret, const char *token_secret,
                const char *base, char sig[OAUTH1_SIG_LEN], char err[ERR_LEN]);

/*
 * Sign req with keys and build the whole header line, ready for
 * curl_slist_append():
 *   Authorization: OAuth oauth_consumer_key="...", oauth_nonce="...",
 *   oauth_signature="...", oauth_signature_method="HMAC-SHA1",
 *   oauth_timestamp="...", oauth_token="...", oauth_version="1.0"
 * (one line; values percent-encoded).  On success *out is a fresh string
 * the caller frees and 0 is returned; otherwise ERR_FAIL with err filled.
 * The header carries a signature: never log it.
 */
int oauth1_header(const struct oauth1_keys *keys,
                  const struct oauth1_request *req, char **out,
                  char err[ERR_LEN]);

/*
 * Fill nonce with OAUTH1_NONCE_LEN letters and digits drawn uniformly
 * from OpenSSL's CSPRNG, NUL-terminated.  0, or ERR_RETRY with err filled
 * if the generator fails (for instance not yet seeded early at boot).
 */
int oauth1_nonce(char nonce[OAUTH1_NONCE_LEN + 1], char err[ERR_LEN]);

#endif
