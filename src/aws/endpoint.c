/*
 * endpoint.c: region and endpoint resolution, S3 object addressing.
 * Pure: reads the environment only through the caller's lookup function
 * and never logs.  Relies on aws/sigv4 for UriEncode.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "aws/endpoint.h"
#include "aws/sigv4.h"
#include "core/buf.h"
#include "core/mem.h"

#define S3_KEY_MAX 1024

static const struct {
    const char *name; /* SigV4 service and host label */
    const char *env;  /* per-service endpoint variable */
} services[ENDPOINT_N_SERVICES] = {
    [ENDPOINT_S3] = {"s3", "AWS_ENDPOINT_URL_S3"},
    [ENDPOINT_DYNAMODB] = {"dynamodb", "AWS_ENDPOINT_URL_DYNAMODB"},
    /* Built from the serviceId "Secrets Manager", hence the underscore. */
    [ENDPOINT_SECRETSMANAGER] = {"secretsmanager",
                                 "AWS_ENDPOINT_URL_SECRETS_MANAGER"},
};

static const char *
env_get(endpoint_getenv_fn env, const char *name)
{
    const char *v = env != NULL ? env(name) : getenv(name);

    return v != NULL && *v != '\0' ? v : NULL;
}

const char *
endpoint_service_name(enum endpoint_service svc)
{
    if ((unsigned)svc >= ENDPOINT_N_SERVICES)
        return "?";
    return services[svc].name;
}

int
endpoint_region_valid(const char *s)
{
    size_t n;

    if (s == NULL || !islower((unsigned char)s[0]))
        return 0;
    n = strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789-");
    return s[n] == '\0' && n <= ENDPOINT_REGION_MAX;
}

int
endpoint_region(const char *config, endpoint_getenv_fn env, char **region,
                char err[ERR_LEN])
{
    const char *v = config, *from = "config region";

    *region = NULL;
    if (v == NULL || *v == '\0') {
        v = env_get(env, "AWS_REGION");
        from = "AWS_REGION";
    }
    if (v == NULL) {
        v = env_get(env, "AWS_DEFAULT_REGION");
        from = "AWS_DEFAULT_REGION";
    }
    if (v == NULL)
        return 1;
    if (!endpoint_region_valid(v)) {
        snprintf(err, ERR_LEN, "%s is not a region name (like us-east-1)",
                 from);
        return ERR_FAIL;
    }
    *region = mem_strdup(v);
    return 0;
}

/* Length of a host name or [IPv6] literal at s, 0 if there is none. */
static size_t
host_len(const char *s)
{
    size_t n;

    if (*s == '[') {
        n = 1 + strspn(s + 1, "0123456789abcdefABCDEF:.");
        return s[n] == ']' && n > 1 ? n + 1 : 0;
    }
    n = strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                  "0123456789.-_");
    return n;
}

/* Split url into *out; ERR_FAIL with err mentioning from on a bad one. */
static int
parse_custom(const char *url, const char *from, struct endpoint *out,
             char err[ERR_LEN])
{
    const char *p = url, *host, *port = NULL;
    size_t hlen, plen = 0;
    int https;
    long portnum = 0;

    if (strncasecmp(p, "https://", 8) == 0)
        https = 1, p += 8;
    else if (strncasecmp(p, "http://", 7) == 0)
        https = 0, p += 7;
    else
        goto bad;
    host = p;
    hlen = host_len(p);
    if (hlen == 0)
        goto bad;
    p += hlen;
    if (*p == ':') {
        char *end;

        port = ++p;
        plen = strspn(p, "0123456789");
        portnum = strtol(p, &end, 10);
        if (plen == 0 || plen > 5 || portnum < 1 || portnum > 65535)
            goto bad;
        p += plen;
    }
    if (strcmp(p, "") != 0 && strcmp(p, "/") != 0)
        goto bad;
    if (port != NULL && portnum != (https ? 443 : 80))
        out->host = mem_printf("%.*s:%ld", (int)hlen, host, portnum);
    else
        out->host = mem_strndup(host, hlen);
    out->base = mem_printf("%s://%s", https ? "https" : "http", out->host);
    out->custom = 1;
    return 0;
bad:
    snprintf(err, ERR_LEN,
             "%s: endpoint must be http(s)://host[:port] "
             "without a path, query or user name",
             from);
    return ERR_FAIL;
}

static int
env_true(endpoint_getenv_fn env, const char *name)
{
    const char *v = env_get(env, name);

    return v != NULL && strcasecmp(v, "true") == 0;
}

int
endpoint_resolve(enum endpoint_service svc, const char *config_url,
                 const char *region, endpoint_getenv_fn env,
                 struct endpoint *out, char err[ERR_LEN])
{
    const char *url = NULL, *from = NULL;

    memset(out, 0, sizeof(*out));
    if ((unsigned)svc >= ENDPOINT_N_SERVICES) {
        snprintf(err, ERR_LEN, "unknown AWS service %d", (int)svc);
        return ERR_FAIL;
    }
    if (config_url != NULL && *config_url != '\0') {
        url = config_url;
        from = "config endpoint";
    } else if (!env_true(env, "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS")) {
        from = services[svc].env;
        url = env_get(env, from);
        if (url == NULL) {
            from = "AWS_ENDPOINT_URL";
            url = env_get(env, from);
        }
    }
    if (url != NULL)
        return parse_custom(url, from, out, err);
    if (!endpoint_region_valid(region)) {
        snprintf(err, ERR_LEN, "no valid region for the %s endpoint",
                 services[svc].name);
        return ERR_FAIL;
    }
    out->host = mem_printf("%s.%s.amazonaws.com%s", services[svc].name, region,
                           strncmp(region, "cn-", 3) == 0 ? ".cn" : "");
    out->base = mem_printf("https://%s", out->host);
    return 0;
}

void
endpoint_cleanup(struct endpoint *ep)
{
    if (ep == NULL)
        return;
    free(ep->base);
    free(ep->host);
    memset(ep, 0, sizeof(*ep));
}

int
endpoint_bucket_valid(const char *b)
{
    size_t n = b != NULL ? strlen(b) : 0;
    unsigned a, c, d, e;
    char tail;

    if (n < 3 || n > 63 ||
        strspn(b, "abcdefghijklmnopqrstuvwxyz"
                  "0123456789.-") != n)
        return 0;
    if (!isalnum((unsigned char)b[0]) || !isalnum((unsigned char)b[n - 1]))
        return 0;
    if (strstr(b, "..") != NULL)
        return 0;
    /* "192.168.5.4" style names are refused by S3. */
    return sscanf(b, "%u.%u.%u.%u%c", &a, &c, &d, &e, &tail) != 4;
}

int
endpoint_s3_object(const struct endpoint *ep, const char *bucket,
                   const char *key, int path_style, struct endpoint_target *out,
                   char err[ERR_LEN])
{
    struct buf path;

    memset(out, 0, sizeof(*out));
    if (!endpoint_bucket_valid(bucket)) {
        snprintf(err, ERR_LEN,
                 "not a valid S3 bucket name (3-63 of "
                 "a-z 0-9 . -)");
        return ERR_FAIL;
    }
    if (key == NULL)
        key = "";
    if (strlen(key) > S3_KEY_MAX) {
        snprintf(err, ERR_LEN, "S3 key longer than %d bytes", S3_KEY_MAX);
        return ERR_FAIL;
    }
    buf_init(&path);
    /* Virtual-hosted names are one TLS label: a dotted bucket would not
     * match *.s3.region.amazonaws.com, and custom servers want paths. */
    if (path_style || ep->custom || strchr(bucket, '.') != NULL) {
        buf_printf(&path, "/%s%s", bucket, *key != '\0' ? "/" : "");
        out->host = mem_strdup(ep->host);
    } else {
        buf_appendc(&path, '/');
        out->host = mem_printf("%s.%s", bucket, ep->host);
    }
    sigv4_uri_encode_append(&path, key, strlen(key), 1);
    out->path = buf_steal(&path);
    out->url = mem_printf(
        "%s://%s%s", strncmp(ep->base, "https:", 6) == 0 ? "https" : "http",
        out->host, out->path);
    return 0;
}

void
endpoint_target_cleanup(struct endpoint_target *t)
{
    if (t == NULL)
        return;
    free(t->url);
    free(t->host);
    free(t->path);
    memset(t, 0, sizeof(*t));
}
