/*
 * sigv4.c: AWS Signature Version 4 in the Authorization header: canonical
 * request, string to sign, derived key, signature.  Never reads the clock,
 * never logs; no presigned URLs or chunked uploads.  Relies on OpenSSL 3
 * (EVP_Q_mac for HMAC-SHA256, EVP_Digest for SHA-256) and core/buf.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "aws/sigv4.h"
#include "core/mem.h"

#define ALGORITHM "AWS4-HMAC-SHA256"
#define MAC_LEN 32

/* One canonical header line before grouping: arrival order breaks ties so
 * repeated headers keep their order when joined by ','. */
struct hent {
    char *name;
    char *value;
    size_t order;
};

struct qparam {
    char *name;
    char *value;
};

/* Made by the signer, so a caller's copy would be signed twice or wrong. */
static const char *const own_headers[] = {
    "host",
    "x-amz-date",
    "authorization",
    "x-amz-security-token",
    "x-amz-content-sha256",
    NULL,
};

/* libcurl adds, drops or rewrites these, so the server would see other
 * values than the ones signed. */
static const char *const transport_headers[] = {
    "expect",     "user-agent",      "transfer-encoding",
    "connection", "accept-encoding", NULL,
};

/* buf_reserve() that also leaves a fresh buffer NUL-terminated:
 * buf_reserve() alone does not, and an empty result would then be read
 * as garbage. */
static void
reserve(struct buf *b, size_t n)
{
    buf_reserve(b, n);
    b->data[b->len] = '\0';
}

static int
is_unreserved(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
           (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.' ||
           c == '~';
}

/* RFC 9110 token character (header names, methods). */
static int
is_tchar(unsigned char c)
{
    return is_unreserved(c) || (c != '\0' && strchr("!#$%&'*+^`|", c));
}

static int
is_token(const char *s)
{
    if (s == NULL || *s == '\0')
        return 0;
    for (; *s != '\0'; s++)
        if (!is_tchar((unsigned char)*s))
            return 0;
    return 1;
}

/* Printable ASCII without space and without the characters in `bad`. */
static int
is_plain(const char *s, const char *bad)
{
    if (s == NULL || *s == '\0')
        return 0;
    for (; *s != '\0'; s++)
        if (*s <= ' ' || *s > '~' || strchr(bad, *s))
            return 0;
    return 1;
}

static int
hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static void
to_hex(const unsigned char *p, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";

    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[p[i] >> 4];
        out[2 * i + 1] = digits[p[i] & 15];
    }
    out[2 * n] = '\0';
}

void
sigv4_uri_encode_append(struct buf *b, const char *s, size_t n, int keep_slash)
{
    static const char digits[] = "0123456789ABCDEF";

    reserve(b, n);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];

        if (is_unreserved(c) || (c == '/' && keep_slash)) {
            buf_appendc(b, (char)c);
        } else {
            char e[3] = {'%', digits[c >> 4], digits[c & 15]};

            buf_append(b, e, sizeof(e));
        }
    }
}

char *
sigv4_uri_encode(const char *s, int keep_slash)
{
    struct buf b;

    buf_init(&b);
    sigv4_uri_encode_append(&b, s, strlen(s), keep_slash);
    return buf_steal(&b);
}

/* Append the n bytes at s to b with each %XX turned into its byte.  '+'
 * stays '+' (RFC 3986; spookyd itself never sends a raw '+').  -1 when a
 * '%' is not followed by two hex digits. */
static int
percent_decode(struct buf *b, const char *s, size_t n)
{
    reserve(b, n);
    for (size_t i = 0; i < n; i++) {
        int hi, lo;

        if (s[i] != '%') {
            buf_appendc(b, s[i]);
            continue;
        }
        if (i + 2 >= n)
            return -1;
        hi = hex_value(s[i + 1]);
        lo = hex_value(s[i + 2]);
        if (hi < 0 || lo < 0)
            return -1;
        buf_appendc(b, (char)(hi << 4 | lo));
        i += 2;
    }
    return 0;
}

int
sigv4_sha256_hex(const void *p, size_t n, char out[SIGV4_HEX_LEN + 1])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;

    out[0] = '\0';
    if (!EVP_Digest(n ? p : "", n, md, &len, EVP_sha256(), NULL) ||
        len != SIGV4_HEX_LEN / 2)
        return ERR_FAIL;
    to_hex(md, len, out);
    return 0;
}

int
sigv4_format_date(time_t t, char out[SIGV4_DATE_LEN + 1])
{
    struct tm tm;

    out[0] = '\0';
    if (gmtime_r(&t, &tm) == NULL || tm.tm_year < 70 ||
        tm.tm_year > 9999 - 1900)
        return ERR_FAIL;
    if (strftime(out, SIGV4_DATE_LEN + 1, "%Y%m%dT%H%M%SZ", &tm) !=
        SIGV4_DATE_LEN)
        return ERR_FAIL;
    return 0;
}

static int
hmac_sha256(const void *key, size_t key_len, const void *msg, size_t msg_len,
            unsigned char out[MAC_LEN])
{
    size_t len = 0;

    if (EVP_Q_mac(NULL, "HMAC", NULL, "SHA256", NULL, key, key_len, msg,
                  msg_len, out, MAC_LEN, &len) == NULL ||
        len != MAC_LEN)
        return ERR_FAIL;
    return 0;
}

/* kSigning = HMAC(HMAC(HMAC(HMAC("AWS4" secret, date), region), service),
 * "aws4_request"); every intermediate is wiped. */
static int
derive_key(const char *secret, const char *date8, const char *region,
           const char *service, unsigned char key[SIGV4_KEY_LEN])
{
    size_t n = strlen(secret) + 4;
    char *k0 = mem_alloc(n + 1);
    unsigned char a[MAC_LEN], b[MAC_LEN];
    int rc = ERR_FAIL;

    memcpy(k0, "AWS4", 4);
    memcpy(k0 + 4, secret, n - 4 + 1);
    if (hmac_sha256(k0, n, date8, 8, a) == 0 &&
        hmac_sha256(a, MAC_LEN, region, strlen(region), b) == 0 &&
        hmac_sha256(b, MAC_LEN, service, strlen(service), a) == 0 &&
        hmac_sha256(a, MAC_LEN, "aws4_request", 12, key) == 0)
        rc = 0;
    mem_free_secret(k0, n + 1);
    OPENSSL_cleanse(a, sizeof(a));
    OPENSSL_cleanse(b, sizeof(b));
    return rc;
}

/* SHA-256 over date, region, service and secret, NUL-separated: names a
 * cache slot without keeping the secret itself. */
static int
cache_id(const char *secret, const char *date8, const char *region,
         const char *service, unsigned char id[32])
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    unsigned int len = 0;
    int ok;

    ok = ctx != NULL && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) &&
         EVP_DigestUpdate(ctx, date8, 9) &&
         EVP_DigestUpdate(ctx, region, strlen(region) + 1) &&
         EVP_DigestUpdate(ctx, service, strlen(service) + 1) &&
         EVP_DigestUpdate(ctx, secret, strlen(secret)) &&
         EVP_DigestFinal_ex(ctx, id, &len) && len == 32;
    EVP_MD_CTX_free(ctx);
    return ok ? 0 : ERR_FAIL;
}

void
sigv4_cache_init(struct sigv4_cache *c)
{
    memset(c, 0, sizeof(*c));
}

void
sigv4_cache_cleanup(struct sigv4_cache *c)
{
    if (c == NULL)
        return;
    OPENSSL_cleanse(c, sizeof(*c)); /* zeroes: an empty cache again */
}

static int
signing_key(struct sigv4_cache *c, const char *secret, const char *date8,
            const char *region, const char *service,
            unsigned char key[SIGV4_KEY_LEN])
{
    unsigned char id[32];
    struct sigv4_cache_slot *s;

    if (c == NULL)
        return derive_key(secret, date8, region, service, key);
    if (cache_id(secret, date8, region, service, id) < 0)
        return ERR_FAIL;
    for (size_t i = 0; i < SIGV4_CACHE_SLOTS; i++) {
        s = &c->slot[i];
        if (s->used && CRYPTO_memcmp(s->id, id, sizeof(id)) == 0) {
            memcpy(key, s->key, SIGV4_KEY_LEN);
            c->hits++;
            return 0;
        }
    }
    if (derive_key(secret, date8, region, service, key) < 0)
        return ERR_FAIL;
    s = &c->slot[c->next % SIGV4_CACHE_SLOTS];
    c->next = (c->next + 1) % SIGV4_CACHE_SLOTS;
    memcpy(s->id, id, sizeof(id));
    memcpy(s->key, key, SIGV4_KEY_LEN);
    s->used = 1;
    c->misses++;
    return 0;
}

/* Dot segments and empty segments ("//") removed, as the suite's
 * normalize-path cases want; a trailing '/' survives when something is
 * left.  p starts with '/'. */
static void
normalize_path(struct buf *out, const char *p)
{
    const char *seg = p;

    reserve(out, strlen(p));
    while (*seg != '\0') {
        const char *end = strchrnul(seg, '/');
        size_t n = (size_t)(end - seg);

        if (n == 2 && seg[0] == '.' && seg[1] == '.') {
            while (out->len > 0 && out->data[--out->len] != '/')
                ;
            out->data[out->len] = '\0';
        } else if (n > 0 && !(n == 1 && seg[0] == '.')) {
            buf_appendc(out, '/');
            buf_append(out, seg, n);
        }
        seg = *end == '/' ? end + 1 : end;
    }
    if (out->len == 0 || p[strlen(p) - 1] == '/')
        buf_appendc(out, '/');
}

static int
canonical_uri(struct buf *out, const struct sigv4_request *req,
              char err[ERR_LEN])
{
    struct buf tmp;
    int rc = 0;

    buf_init(&tmp);
    if (req->s3 && percent_decode(&tmp, req->path, strlen(req->path)) < 0) {
        snprintf(err, ERR_LEN, "path: '%%' not followed by two hex digits");
        rc = ERR_FAIL;
    } else if (!req->s3) {
        normalize_path(&tmp, req->path);
    }
    if (rc == 0)
        sigv4_uri_encode_append(out, buf_str(&tmp), tmp.len, 1);
    buf_cleanup(&tmp);
    return rc;
}

/* One query name or value: decoded, then encoded the AWS way. */
static char *
query_part(const char *s, size_t n)
{
    struct buf dec, enc;
    char *r = NULL;

    buf_init(&dec);
    buf_init(&enc);
    if (percent_decode(&dec, s, n) == 0) {
        sigv4_uri_encode_append(&enc, buf_str(&dec), dec.len, 0);
        r = buf_steal(&enc);
    }
    buf_cleanup(&dec);
    return r;
}

static int
cmp_qparam(const void *a, const void *b)
{
    const struct qparam *x = a, *y = b;
    int c = strcmp(x->name, y->name);

    return c ? c : strcmp(x->value, y->value);
}

/* Split q at '&' (empty pieces dropped) and each piece at its first '=';
 * both halves decoded and re-encoded.  *bad is set on a malformed '%'. */
static size_t
split_query(const char *q, struct qparam **out, int *bad)
{
    struct qparam *v = NULL;
    size_t n = 0;

    *bad = 0;
    while (q != NULL && *q != '\0') {
        const char *end = strchrnul(q, '&');
        const char *eq = memchr(q, '=', (size_t)(end - q));

        if (end > q) {
            v = mem_realloc(v, (n + 1) * sizeof(*v));
            v[n].name = query_part(q, (size_t)((eq ? eq : end) - q));
            v[n].value = eq ? query_part(eq + 1, (size_t)(end - eq - 1))
                            : mem_strdup("");
            if (v[n].name == NULL || v[n].value == NULL)
                *bad = 1;
            n++;
        }
        q = *end == '&' ? end + 1 : end;
    }
    *out = v;
    return n;
}

static int
canonical_query(struct buf *out, const char *q, char err[ERR_LEN])
{
    struct qparam *v = NULL;
    int bad;
    size_t n = split_query(q, &v, &bad);

    if (bad) {
        snprintf(err, ERR_LEN, "query: '%%' not followed by two hex digits");
    } else {
        if (n > 1)
            qsort(v, n, sizeof(*v), cmp_qparam);
        for (size_t i = 0; i < n; i++)
            buf_printf(out, "%s%s=%s", i ? "&" : "", v[i].name, v[i].value);
    }
    for (size_t i = 0; i < n; i++) {
        free(v[i].name);
        free(v[i].value);
    }
    free(v);
    return bad ? ERR_FAIL : 0;
}

/* Header value as signed: leading and trailing blanks dropped, every
 * inner run of spaces and tabs folded to one space. */
static char *
fold_value(const char *v)
{
    struct buf b;
    int blank = 0;

    buf_init(&b);
    reserve(&b, strlen(v));
    for (; *v == ' ' || *v == '\t'; v++)
        ;
    for (; *v != '\0'; v++) {
        if (*v == ' ' || *v == '\t') {
            blank = 1;
            continue;
        }
        if (blank)
            buf_appendc(&b, ' ');
        blank = 0;
        buf_appendc(&b, *v);
    }
    return buf_steal(&b);
}

static void
hent_add(struct hent *v, size_t *n, const char *name, const char *value)
{
    char *lower = mem_strdup(name);

    for (char *p = lower; *p != '\0'; p++)
        if (*p >= 'A' && *p <= 'Z')
            *p = (char)(*p - 'A' + 'a');
    v[*n].name = lower;
    v[*n].value = fold_value(value);
    v[*n].order = *n;
    (*n)++;
}

static int
cmp_hent(const void *a, const void *b)
{
    const struct hent *x = a, *y = b;
    int c = strcmp(x->name, y->name);

    if (c != 0)
        return c;
    return x->order < y->order ? -1 : x->order > y->order;
}

static int
in_list(const char *name, const char *const *list)
{
    for (; *list != NULL; list++)
        if (strcasecmp(name, *list) == 0)
            return 1;
    return 0;
}

static int
check_header(const struct sigv4_header *h, size_t i, char err[ERR_LEN])
{
    if (!is_token(h->name)) {
        snprintf(err, ERR_LEN, "header %zu: name missing or not a token", i);
        return ERR_FAIL;
    }
    if (in_list(h->name, own_headers)) {
        snprintf(err, ERR_LEN, "header %.64s: set by the signer", h->name);
        return ERR_FAIL;
    }
    if (in_list(h->name, transport_headers)) {
        snprintf(err, ERR_LEN,
                 "header %.64s: libcurl may change it, send it unsigned",
                 h->name);
        return ERR_FAIL;
    }
    if (h->value == NULL || strpbrk(h->value, "\r\n") != NULL) {
        snprintf(err, ERR_LEN, "header %.64s: value missing or has CR/LF",
                 h->name);
        return ERR_FAIL;
    }
    return 0;
}

/* "name:value\n" lines, sorted, repeated names joined with ',', into creq;
 * the ';'-joined names into signed_names. */
static int
canonical_headers(struct buf *creq, struct buf *signed_names,
                  const struct sigv4_request *req,
                  const struct sigv4_signed *out, char err[ERR_LEN])
{
    struct hent *v = mem_calloc(req->n_headers + SIGV4_MAX_ADD, sizeof(*v));
    size_t n = 0;
    int rc = 0;

    for (size_t i = 0; i < req->n_headers && rc == 0; i++)
        if ((rc = check_header(&req->headers[i], i, err)) == 0)
            hent_add(v, &n, req->headers[i].name, req->headers[i].value);
    hent_add(v, &n, "host", req->host);
    hent_add(v, &n, "x-amz-date", out->amz_date);
    if (req->s3)
        hent_add(v, &n, "x-amz-content-sha256", out->payload_hash);
    if (out->security_token != NULL)
        hent_add(v, &n, "x-amz-security-token", out->security_token);
    qsort(v, n, sizeof(*v), cmp_hent);
    for (size_t i = 0, j; rc == 0 && i < n; i = j) {
        buf_printf(creq, "%s:%s", v[i].name, v[i].value);
        for (j = i + 1; j < n && strcmp(v[j].name, v[i].name) == 0; j++)
            buf_printf(creq, ",%s", v[j].value);
        buf_appendc(creq, '\n');
        buf_printf(signed_names, "%s%s", i ? ";" : "", v[i].name);
    }
    for (size_t i = 0; i < n; i++) {
        free(v[i].name);
        mem_free_secret_str(v[i].value); /* one may be the token */
    }
    free(v);
    return rc;
}

static int
check_request(const struct sigv4_request *req, const struct sigv4_creds *creds,
              char err[ERR_LEN])
{
    const char *what = NULL;

    if (req == NULL || creds == NULL)
        what = "request or credentials missing";
    else if (!is_token(req->method))
        what = "method missing or not a token";
    else if (!is_plain(req->host, "/\\?#@"))
        what = "host missing or not a plain host[:port]";
    else if (req->path == NULL || req->path[0] != '/')
        what = "path missing or not starting with '/'";
    else if (req->n_headers > 0 && req->headers == NULL)
        what = "n_headers set but headers missing";
    else if (!is_plain(req->region, "/,;=") || !is_plain(req->service, "/,;="))
        what = "region or service missing or has '/', ',', ';', '=' or "
               "blanks";
    else if (!is_plain(creds->access_key_id, "/,;="))
        what = "access key id missing or has '/', ',', ';', '=' or blanks";
    else if (creds->secret_access_key == NULL ||
             creds->secret_access_key[0] == '\0')
        what = "secret access key missing";
    else if (creds->session_token != NULL && creds->session_token[0] &&
             !is_plain(creds->session_token, ""))
        what = "session token has blanks or control characters";
    if (what != NULL)
        snprintf(err, ERR_LEN, "%s", what);
    return what ? ERR_FAIL : 0;
}

static int
is_hex64(const char *s)
{
    size_t n = 0;

    for (; s[n] != '\0'; n++)
        if (!((s[n] >= '0' && s[n] <= '9') || (s[n] >= 'a' && s[n] <= 'f')))
            return 0;
    return n == SIGV4_HEX_LEN;
}

static int
payload_hash(const struct sigv4_request *req, char out[SIGV4_HEX_LEN + 1],
             char err[ERR_LEN])
{
    const char *h = req->payload_hash;

    if (h != NULL && (req->body != NULL || req->body_len > 0)) {
        snprintf(err, ERR_LEN, "give payload_hash or body, not both");
        return ERR_FAIL;
    }
    if (h == NULL && req->body == NULL && req->body_len > 0) {
        snprintf(err, ERR_LEN, "body_len set but body missing");
        return ERR_FAIL;
    }
    if (h == NULL) {
        if (sigv4_sha256_hex(req->body, req->body_len, out) == 0)
            return 0;
        snprintf(err, ERR_LEN, "SHA-256 of the body failed in OpenSSL");
        return ERR_FAIL;
    }
    if (is_hex64(h) || strcmp(h, SIGV4_UNSIGNED_PAYLOAD) == 0 ||
        (strncmp(h, "STREAMING-", 10) == 0 && strlen(h) <= SIGV4_HEX_LEN &&
         strspn(h, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-") == strlen(h))) {
        snprintf(out, SIGV4_HEX_LEN + 1, "%s", h);
        return 0;
    }
    snprintf(err, ERR_LEN,
             "payload_hash is not 64 lowercase hex digits, "
             "UNSIGNED-PAYLOAD or STREAMING-*");
    return ERR_FAIL;
}

static int
canonical_request(struct buf *creq, struct buf *signed_names,
                  const struct sigv4_request *req,
                  const struct sigv4_signed *out, char err[ERR_LEN])
{
    buf_printf(creq, "%s\n", req->method);
    if (canonical_uri(creq, req, err) < 0)
        return ERR_FAIL;
    buf_appendc(creq, '\n');
    if (canonical_query(creq, req->query, err) < 0)
        return ERR_FAIL;
    buf_appendc(creq, '\n');
    if (canonical_headers(creq, signed_names, req, out, err) < 0)
        return ERR_FAIL;
    buf_printf(creq, "\n%s\n%s", buf_str(signed_names), out->payload_hash);
    return 0;
}

/* String to sign, key, signature and Authorization from a finished
 * canonical request. */
static int
finish(struct sigv4_signed *out, const struct sigv4_request *req,
       const struct sigv4_creds *creds, struct sigv4_cache *cache,
       const char *signed_names, char err[ERR_LEN])
{
    char date8[9], creq_hash[SIGV4_HEX_LEN + 1], sig[2 * MAC_LEN + 1];
    unsigned char key[SIGV4_KEY_LEN], mac[MAC_LEN];
    char *scope;
    int rc = ERR_FAIL;

    memcpy(date8, out->amz_date, 8);
    date8[8] = '\0';
    scope =
        mem_printf("%s/%s/%s/aws4_request", date8, req->region, req->service);
    if (sigv4_sha256_hex(out->canonical_request, strlen(out->canonical_request),
                         creq_hash) < 0)
        goto out;
    out->string_to_sign =
        mem_printf(ALGORITHM "\n%s\n%s\n%s", out->amz_date, scope, creq_hash);
    if (signing_key(cache, creds->secret_access_key, date8, req->region,
                    req->service, key) < 0 ||
        hmac_sha256(key, sizeof(key), out->string_to_sign,
                    strlen(out->string_to_sign), mac) < 0)
        goto out;
    to_hex(mac, sizeof(mac), sig);
    out->authorization = mem_printf(
        ALGORITHM " Credential=%s/%s, SignedHeaders=%s, Signature=%s",
        creds->access_key_id, scope, signed_names, sig);
    rc = 0;
out:
    if (rc != 0)
        snprintf(err, ERR_LEN, "HMAC-SHA256 or SHA-256 failed in OpenSSL");
    OPENSSL_cleanse(key, sizeof(key));
    OPENSSL_cleanse(mac, sizeof(mac));
    free(scope);
    return rc;
}

static void
list_added(struct sigv4_signed *out, int s3)
{
    size_t n = 0;

    out->add[n++] = (struct sigv4_header){"X-Amz-Date", out->amz_date};
    if (s3)
        out->add[n++] =
            (struct sigv4_header){"x-amz-content-sha256", out->payload_hash};
    if (out->security_token != NULL)
        out->add[n++] =
            (struct sigv4_header){"X-Amz-Security-Token", out->security_token};
    out->add[n++] = (struct sigv4_header){"Authorization", out->authorization};
    out->n_add = n;
}

int
sigv4_sign(const struct sigv4_request *req, const struct sigv4_creds *creds,
           time_t now, struct sigv4_cache *cache, struct sigv4_signed *out,
           char err[ERR_LEN])
{
    struct buf creq, signed_names;
    int rc = ERR_FAIL;

    memset(out, 0, sizeof(*out));
    buf_init(&creq);
    buf_init(&signed_names);
    err[0] = '\0';
    if (check_request(req, creds, err) < 0 ||
        payload_hash(req, out->payload_hash, err) < 0)
        goto out;
    if (sigv4_format_date(now, out->amz_date) < 0) {
        snprintf(err, ERR_LEN, "time %lld is outside years 1970-9999",
                 (long long)now);
        goto out;
    }
    if (creds->session_token != NULL && creds->session_token[0] != '\0')
        out->security_token = mem_strdup(creds->session_token);
    if (canonical_request(&creq, &signed_names, req, out, err) < 0)
        goto out;
    out->canonical_request = buf_steal(&creq);
    if (finish(out, req, creds, cache, buf_str(&signed_names), err) < 0)
        goto out;
    list_added(out, req->s3);
    rc = 0;
out:
    buf_cleanup_secret(&creq);
    buf_cleanup(&signed_names);
    if (rc != 0)
        sigv4_signed_cleanup(out);
    return rc;
}

void
sigv4_signed_cleanup(struct sigv4_signed *s)
{
    if (s == NULL)
        return;
    free(s->authorization);
    free(s->string_to_sign);
    mem_free_secret_str(s->security_token);
    mem_free_secret_str(s->canonical_request);
    memset(s, 0, sizeof(*s));
}
