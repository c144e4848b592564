/*
 * secrets.c: Secrets Manager GetSecretValue through aws_call().  Decodes
 * SecretString or base64 SecretBinary and wipes every copy it makes; the
 * value never reaches a log line.  Relies on aws/aws, jansson, OpenSSL.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "aws/secrets.h"
#include "core/mem.h"

#define SECRET_ID_MAX 2048

struct secrets_get {
    struct aws_call *call;
    secrets_done_cb cb;
    void *arg;
    char *body; /* request JSON, borrowed by the call */
};

static void
wipe_strings(json_t *doc)
{
    const char *k;
    json_t *v;

    json_object_foreach(doc, k, v)
    {
        if (json_is_string(v))
            memset((char *)json_string_value(v), 0, json_string_length(v));
    }
}

/* Decode base64 text; 0 and a new buffer, or ERR_FAIL. */
static int
base64_decode(const char *in, size_t n, char **out, size_t *len)
{
    size_t pad = 0;
    int got;

    if (n == 0 || n % 4 != 0 || n > (size_t)1 << 28 ||
        strspn(in, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                   "0123456789+/=") != n)
        return ERR_FAIL;
    while (pad < 2 && in[n - 1 - pad] == '=')
        pad++;
    if (memchr(in, '=', n - pad) != NULL)
        return ERR_FAIL;
    *out = mem_alloc(n / 4 * 3 + 1);
    got = EVP_DecodeBlock((unsigned char *)*out, (const unsigned char *)in,
                          (int)n);
    if (got < 0 || (size_t)got < pad) {
        mem_free_secret(*out, n / 4 * 3 + 1);
        *out = NULL;
        return ERR_FAIL;
    }
    *len = (size_t)got - pad; /* EVP_DecodeBlock counts padding as bytes */
    (*out)[*len] = '\0';
    return 0;
}

/* The secret from a GetSecretValue reply; 0 or ERR_FAIL with err.
 * XXX: jansson's parser copies the raw reply into its own buffers while
 * decoding and frees them without wiping, so fragments of the secret can
 * stay in freed heap memory until it is reused; only the decoded string
 * and our copies are wiped. */
static int
parse_value(const struct buf *body, char **value, size_t *len,
            char err[ERR_LEN])
{
    json_t *doc = json_loadb(body->data ? body->data : "", body->len, 0, NULL);
    json_t *s, *b;
    int rc = ERR_FAIL;

    if (!json_is_object(doc)) {
        snprintf(err, ERR_LEN, "reply is not a JSON object");
        json_decref(doc);
        return ERR_FAIL;
    }
    s = json_object_get(doc, "SecretString");
    b = json_object_get(doc, "SecretBinary");
    if (json_is_string(s)) {
        *len = json_string_length(s);
        *value = mem_alloc(*len + 1);
        memcpy(*value, json_string_value(s), *len);
        (*value)[*len] = '\0';
        rc = 0;
    } else if (json_is_string(b)) {
        rc = base64_decode(json_string_value(b), json_string_length(b), value,
                           len);
        if (rc != 0)
            snprintf(err, ERR_LEN, "SecretBinary is not valid base64");
    } else {
        snprintf(err, ERR_LEN,
                 "reply has neither SecretString nor "
                 "SecretBinary");
    }
    wipe_strings(doc);
    json_decref(doc);
    return rc;
}

static void
get_free(struct secrets_get *g)
{
    free(g->body);
    free(g);
}

static void
get_done(const struct aws_result *res, void *arg)
{
    struct secrets_get *g = arg;
    char err[ERR_LEN], why[ERR_LEN];
    char *value = NULL;
    size_t len = 0;

    if (res->rc != 0) {
        snprintf(err, ERR_LEN, "Secrets Manager GetSecretValue: %.200s",
                 res->err);
        g->cb(res->rc == ERR_RETRY ? ERR_RETRY : ERR_FAIL, NULL, 0, err,
              g->arg);
    } else if (parse_value(res->body, &value, &len, why) != 0) {
        snprintf(err, ERR_LEN, "Secrets Manager GetSecretValue: %.200s", why);
        g->cb(ERR_FAIL, NULL, 0, err, g->arg);
    } else {
        g->cb(0, value, len, "", g->arg);
        mem_free_secret(value, len + 1);
    }
    /* The call wipes the response body when it is freed. */
    get_free(g);
}

struct secrets_get *
secrets_get(struct aws *aws, const char *secret_id, secrets_done_cb cb,
            void *arg, char err[ERR_LEN])
{
    static const struct aws_header headers[] = {
        {"Content-Type", "application/x-amz-json-1.1"},
        {"X-Amz-Target", "secretsmanager.GetSecretValue"},
    };
    struct aws_request r = {.service = AWS_SECRETSMANAGER,
                            .method = "POST",
                            .headers = headers,
                            .n_headers = 2};
    struct secrets_get *g;
    json_t *doc;

    if (secret_id == NULL || *secret_id == '\0' ||
        strlen(secret_id) > SECRET_ID_MAX) {
        snprintf(err, ERR_LEN, "secret id must be 1 to %d bytes",
                 SECRET_ID_MAX);
        return NULL;
    }
    doc = json_pack("{s:s}", "SecretId", secret_id);
    if (doc == NULL) {
        snprintf(err, ERR_LEN, "secret id is not valid UTF-8");
        return NULL;
    }
    g = mem_calloc(1, sizeof(*g));
    g->cb = cb;
    g->arg = arg;
    g->body = json_dumps(doc, JSON_COMPACT);
    json_decref(doc);
    r.body = g->body;
    r.body_len = strlen(g->body);
    g->call = aws_call(aws, &r, get_done, g, err);
    if (g->call == NULL) {
        get_free(g);
        return NULL;
    }
    return g;
}

void
secrets_get_cancel(struct secrets_get *g)
{
    if (g == NULL)
        return;
    aws_call_cancel(g->call);
    get_free(g);
}
