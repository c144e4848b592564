/*
 * oauth1.c: OAuth 1.0a HMAC-SHA1 signatures (RFC 5849 section 3.4) for
 * X's API: base string, signature, Authorization header, nonce.  No I/O,
 * no clock, no logging.  Relies on OpenSSL 3 (EVP_Q_mac, EVP_EncodeBlock,
 * RAND_bytes) and core/buf.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "core/buf.h"
#include "core/mem.h"
#include "x/oauth1.h"

/* A request parameter after encoding: sorting and joining work on this. */
struct enc_param {
    char *name;
    char *value;
};

struct param_list {
    struct enc_param *v;
    size_t n;
    size_t cap;
};

static int
is_unreserved(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
           (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
           c == '~';
}

static int
hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

static char
ascii_lower(char c)
{
    return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

static char
ascii_upper(char c)
{
    return c >= 'a' && c <= 'z' ? (char)(c - 'a' + 'A') : c;
}

void
oauth1_pct_encode(struct buf *out, const void *s, size_t len)
{
    static const char hex[] = "0123456789ABCDEF";
    const unsigned char *p = s;
    char esc[3] = {'%', 0, 0};

    /* buf_reserve() on an empty buffer leaves its first byte undefined,
     * so reserve only when something will be appended. */
    if (len > 0 && len < SIZE_MAX / 4)
        buf_reserve(out, len * 3);
    for (size_t i = 0; i < len; i++) {
        if (is_unreserved(p[i])) {
            buf_appendc(out, (char)p[i]);
            continue;
        }
        esc[1] = hex[p[i] >> 4];
        esc[2] = hex[p[i] & 15];
        buf_append(out, esc, 3);
    }
}

static void
params_add(struct param_list *l, const char *name, size_t name_len,
           const char *value, size_t value_len)
{
    struct buf b;

    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 16;
        l->v = mem_realloc(l->v, l->cap * sizeof(*l->v));
    }
    buf_init(&b);
    oauth1_pct_encode(&b, name, name_len);
    l->v[l->n].name = buf_steal(&b);
    oauth1_pct_encode(&b, value, value_len);
    l->v[l->n].value = buf_steal(&b);
    l->n++;
}

static void
params_cleanup(struct param_list *l)
{
    for (size_t i = 0; i < l->n; i++) {
        free(l->v[i].name);
        free(l->v[i].value);
    }
    free(l->v);
    l->v = NULL;
    l->n = l->cap = 0;
}

/* Decode one form-urlencoded token: '+' is a space, %XX is a byte. */
static int
form_decode(struct buf *out, const char *s, size_t len)
{
    int hi, lo;

    for (size_t i = 0; i < len; i++) {
        if (s[i] == '+') {
            buf_appendc(out, ' ');
        } else if (s[i] != '%') {
            buf_appendc(out, s[i]);
        } else {
            if (len - i < 3 || (hi = hex_value(s[i + 1])) < 0 ||
                (lo = hex_value(s[i + 2])) < 0)
                return -1;
            buf_appendc(out, (char)(hi << 4 | lo));
            i += 2;
        }
    }
    return 0;
}

/*
 * Add each name=value pair of a query or form body to l, decoded as
 * HTML 4.01 section 17.13.4 says (RFC 5849 section 3.4.1.3.1).  Empty
 * pairs ("a=1&&b=2") carry nothing and are skipped; "c2" alone is c2="".
 */
static int
params_add_form(struct param_list *l, const char *s, size_t len,
                const char *what, char err[ERR_LEN])
{
    struct buf name, value;
    size_t i = 0, end, eq;
    int rc = 0;

    buf_init(&name);
    buf_init(&value);
    while (i < len && rc == 0) {
        for (end = i; end < len && s[end] != '&'; end++)
            ;
        for (eq = i; eq < end && s[eq] != '='; eq++)
            ;
        buf_reset(&name);
        buf_reset(&value);
        if (end == i) {
            /* empty pair */
        } else if (form_decode(&name, s + i, eq - i) < 0 ||
                   (eq < end &&
                    form_decode(&value, s + eq + 1, end - eq - 1) < 0)) {
            snprintf(err, ERR_LEN, "malformed %%-escape in %s", what);
            rc = ERR_FAIL;
        } else {
            params_add(l, buf_str(&name), name.len, buf_str(&value), value.len);
        }
        i = end + 1;
    }
    buf_cleanup(&name);
    buf_cleanup(&value);
    return rc;
}

/* Port digits between p and end: 0 when empty (default), -1 if invalid. */
static long
parse_port(const char *p, const char *end)
{
    long port = 0;

    if (p == end)
        return 0;
    if (end - p > 5)
        return -1;
    for (; p < end; p++) {
        if (*p < '0' || *p > '9')
            return -1;
        port = port * 10 + (*p - '0');
    }
    return port < 1 || port > 65535 ? -1 : port;
}

/* Where the host of the authority [auth, end) ends, or NULL if broken. */
static const char *
host_end(const char *auth, const char *end)
{
    const char *p;

    if (auth < end && *auth == '[') {
        p = memchr(auth, ']', (size_t)(end - auth));
        return p ? p + 1 : NULL;
    }
    p = memchr(auth, ':', (size_t)(end - auth));
    return p ? p : end;
}

/*
 * Split url into its base string URI (RFC 5849 section 3.4.1.2: scheme
 * and host lower-cased, default port dropped, no query, no fragment) and
 * its query, which is left pointing into url (NULL when there is none).
 */
static int
url_split(const char *url, struct buf *base, const char **query,
          size_t *query_len, char err[ERR_LEN])
{
    const char *sep = strstr(url, "://"), *auth, *auth_end, *hend, *path_end;
    long port = 0, default_port;

    for (const char *p = url; *p; p++)
        if ((unsigned char)*p <= ' ' || *p == 0x7f) {
            snprintf(err, ERR_LEN, "URL contains a space or control byte");
            return ERR_FAIL;
        }
    if (sep && sep - url == 4 && strncasecmp(url, "http", 4) == 0)
        default_port = 80;
    else if (sep && sep - url == 5 && strncasecmp(url, "https", 5) == 0)
        default_port = 443;
    else {
        snprintf(err, ERR_LEN, "URL scheme must be http:// or https://");
        return ERR_FAIL;
    }
    auth = sep + 3;
    auth_end = auth + strcspn(auth, "/?#");
    hend = host_end(auth, auth_end);
    if (memchr(auth, '@', (size_t)(auth_end - auth)) != NULL) {
        snprintf(err, ERR_LEN, "user info in a URL is not supported");
        return ERR_FAIL;
    }
    if (hend == NULL || hend == auth || (hend < auth_end && *hend != ':')) {
        snprintf(err, ERR_LEN, "URL has no valid host");
        return ERR_FAIL;
    }
    if (hend < auth_end && (port = parse_port(hend + 1, auth_end)) < 0) {
        snprintf(err, ERR_LEN, "URL port must be a number from 1 to 65535");
        return ERR_FAIL;
    }

    for (const char *p = url; p < auth; p++)
        buf_appendc(base, ascii_lower(*p));
    for (const char *p = auth; p < hend; p++)
        buf_appendc(base, ascii_lower(*p));
    if (port != 0 && port != default_port)
        buf_printf(base, ":%ld", port);
    path_end = auth_end + strcspn(auth_end, "?#");
    if (path_end == auth_end)
        buf_appendc(base, '/');
    else
        buf_append(base, auth_end, (size_t)(path_end - auth_end));

    *query = *path_end == '?' ? path_end + 1 : NULL;
    *query_len = *query ? strcspn(*query, "#") : 0;
    return 0;
}

static int
cmp_param(const void *a, const void *b)
{
    const struct enc_param *x = a, *y = b;
    int c = strcmp(x->name, y->name);

    return c != 0 ? c : strcmp(x->value, y->value);
}

/* Collect, sort and join every parameter (RFC 5849 section 3.4.1.3). */
static int
normalize_params(const char *query, size_t query_len, const char *form_body,
                 const struct oauth1_param *oauth, size_t n_oauth,
                 struct buf *out, char err[ERR_LEN])
{
    struct param_list l = {NULL, 0, 0};
    int rc = 0;

    if (query != NULL)
        rc = params_add_form(&l, query, query_len, "URL query", err);
    if (rc == 0 && form_body != NULL)
        rc =
            params_add_form(&l, form_body, strlen(form_body), "form body", err);
    for (size_t i = 0; rc == 0 && i < n_oauth; i++) {
        if (oauth[i].name == NULL || oauth[i].value == NULL) {
            snprintf(err, ERR_LEN, "protocol parameter %zu is missing", i);
            rc = ERR_FAIL;
            break;
        }
        params_add(&l, oauth[i].name, strlen(oauth[i].name), oauth[i].value,
                   strlen(oauth[i].value));
    }
    if (rc == 0 && l.n > 0)
        qsort(l.v, l.n, sizeof(*l.v), cmp_param);
    for (size_t i = 0; rc == 0 && i < l.n; i++)
        buf_printf(out, "%s%s=%s", i ? "&" : "", l.v[i].name, l.v[i].value);
    params_cleanup(&l);
    return rc;
}

int
oauth1_base_string(const char *method, const char *url, const char *form_body,
                   const struct oauth1_param *oauth, size_t n_oauth, char **out,
                   char err[ERR_LEN])
{
    struct buf base_uri, norm, res;
    const char *query = NULL;
    size_t query_len = 0;
    int rc;

    *out = NULL;
    if (method == NULL || *method == '\0' || url == NULL ||
        (n_oauth > 0 && oauth == NULL)) {
        snprintf(err, ERR_LEN, "request needs a method and a URL");
        return ERR_FAIL;
    }
    buf_init(&base_uri);
    buf_init(&norm);
    buf_init(&res);
    rc = url_split(url, &base_uri, &query, &query_len, err);
    if (rc == 0)
        rc = normalize_params(query, query_len, form_body, oauth, n_oauth,
                              &norm, err);
    if (rc == 0) {
        for (const char *p = method; *p; p++) {
            char c = ascii_upper(*p);

            oauth1_pct_encode(&res, &c, 1);
        }
        buf_appendc(&res, '&');
        oauth1_pct_encode(&res, base_uri.data, base_uri.len);
        buf_appendc(&res, '&');
        oauth1_pct_encode(&res, norm.data, norm.len);
        *out = buf_steal(&res);
    }
    buf_cleanup(&base_uri);
    buf_cleanup(&norm);
    buf_cleanup(&res);
    return rc;
}

int
oauth1_sign(const char *consumer_secret, const char *token_secret,
            const char *base, char sig[OAUTH1_SIG_LEN], char err[ERR_LEN])
{
    unsigned char mac[EVP_MAX_MD_SIZE];
    size_t mac_len = 0, cs_len, ts_len;
    struct buf key;
    int rc = 0;

    sig[0] = '\0';
    if (consumer_secret == NULL || base == NULL) {
        snprintf(err, ERR_LEN, "signing needs a consumer secret and a base");
        return ERR_FAIL;
    }
    if (token_secret == NULL)
        token_secret = "";
    cs_len = strlen(consumer_secret);
    ts_len = strlen(token_secret);

    /* Reserve the worst case first: growing the buffer would realloc and
     * leave an unwiped copy of the key behind in freed memory. */
    buf_init(&key);
    buf_reserve(&key, 3 * cs_len + 1 + 3 * ts_len);
    oauth1_pct_encode(&key, consumer_secret, cs_len);
    buf_appendc(&key, '&');
    oauth1_pct_encode(&key, token_secret, ts_len);

    if (EVP_Q_mac(NULL, "HMAC", NULL, "SHA1", NULL, key.data, key.len,
                  (const unsigned char *)base, strlen(base), mac, sizeof(mac),
                  &mac_len) == NULL ||
        mac_len != 20) {
        snprintf(err, ERR_LEN, "OpenSSL could not compute HMAC-SHA1");
        rc = ERR_FAIL;
    } else {
        EVP_EncodeBlock((unsigned char *)sig, mac, (int)mac_len);
    }
    OPENSSL_cleanse(mac, sizeof(mac));
    buf_cleanup_secret(&key);
    return rc;
}

static void
header_pair(struct buf *h, const char *sep, const char *name, const char *value)
{
    buf_appends(h, sep);
    buf_appends(h, name);
    buf_appends(h, "=\"");
    oauth1_pct_encode(h, value, strlen(value));
    buf_appendc(h, '"');
}

int
oauth1_header(const struct oauth1_keys *keys, const struct oauth1_request *req,
              char **out, char err[ERR_LEN])
{
    struct oauth1_param p[6];
    char ts[24], sig[OAUTH1_SIG_LEN];
    char *base = NULL;
    struct buf h;
    size_t n = 0;
    int rc;

    *out = NULL;
    if (keys == NULL || req == NULL || keys->consumer_key == NULL ||
        *keys->consumer_key == '\0' || keys->consumer_secret == NULL) {
        snprintf(err, ERR_LEN, "OAuth consumer key and secret are required");
        return ERR_FAIL;
    }
    if (req->nonce == NULL || *req->nonce == '\0' || req->timestamp <= 0) {
        snprintf(err, ERR_LEN, "OAuth needs a nonce and a positive timestamp");
        return ERR_FAIL;
    }
    snprintf(ts, sizeof(ts), "%lld", req->timestamp);

    /* Already in sorted order, which is also the order of the header. */
    p[n++] = (struct oauth1_param){"oauth_consumer_key", keys->consumer_key};
    p[n++] = (struct oauth1_param){"oauth_nonce", req->nonce};
    p[n++] = (struct oauth1_param){"oauth_signature_method", "HMAC-SHA1"};
    p[n++] = (struct oauth1_param){"oauth_timestamp", ts};
    if (keys->token != NULL)
        p[n++] = (struct oauth1_param){"oauth_token", keys->token};
    p[n++] = (struct oauth1_param){"oauth_version", "1.0"};

    rc = oauth1_base_string(req->method, req->url, req->form_body, p, n, &base,
                            err);
    if (rc == 0)
        rc = oauth1_sign(keys->consumer_secret, keys->token_secret, base, sig,
                         err);
    free(base);
    if (rc != 0)
        return rc;

    buf_init(&h);
    buf_appends(&h, "Authorization: OAuth ");
    for (size_t i = 0; i < n; i++) {
        header_pair(&h, i ? ", " : "", p[i].name, p[i].value);
        if (i == 1) /* right after oauth_nonce keeps the names sorted */
            header_pair(&h, ", ", "oauth_signature", sig);
    }
    *out = buf_steal(&h);
    return 0;
}

int
oauth1_nonce(char nonce[OAUTH1_NONCE_LEN + 1], char err[ERR_LEN])
{
    static const char alnum[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                "abcdefghijklmnopqrstuvwxyz0123456789";
    unsigned char rnd[64];
    size_t got = 0;

    while (got < OAUTH1_NONCE_LEN) {
        if (RAND_bytes(rnd, (int)sizeof(rnd)) != 1) {
            nonce[0] = '\0';
            snprintf(err, ERR_LEN, "OpenSSL's random generator failed");
            return ERR_RETRY;
        }
        /* 248 = 4 * 62: dropping bytes 248..255 keeps all 62 characters
         * equally likely (a plain % 62 would favour the first eight). */
        for (size_t i = 0; i < sizeof(rnd) && got < OAUTH1_NONCE_LEN; i++)
            if (rnd[i] < 248)
                nonce[got++] = alnum[rnd[i] % 62];
    }
    nonce[got] = '\0';
    OPENSSL_cleanse(rnd, sizeof(rnd));
    return 0;
}
