/*
 * libFuzzer target: oauth1_base_string() and oauth1_header() with a
 * fuzzed URL and form body (input: URL, then optionally a newline and the
 * body), and oauth1_pct_encode() on the raw bytes.  Checks: a base string
 * is three %-encoded parts joined by exactly two '&', with upper-case
 * escapes only; the header is built exactly when the base string is;
 * %-encoding keeps only unreserved characters and decodes back to the
 * input.
 */
#include <string.h>

#include "core/buf.h"
#include "fuzz.h"
#include "x/oauth1.h"

static int
unreserved(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
           (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
           c == '~';
}

static int
upper_hex(unsigned char c)
{
    return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'F');
}

/* Only unreserved characters, "%XX" escapes and (if amp) '&'; the
 * number of '&' goes to *amps. */
static int
encoded_ok(const char *s, int amp, int *amps)
{
    *amps = 0;
    for (; *s; s++) {
        if (*s == '%') {
            if (!upper_hex((unsigned char)s[1]) ||
                !upper_hex((unsigned char)s[2]))
                return 0;
            s += 2;
        } else if (amp && *s == '&') {
            ++*amps;
        } else if (!unreserved((unsigned char)*s)) {
            return 0;
        }
    }
    return 1;
}

static int
hexval(char c)
{
    return c <= '9' ? c - '0' : c - 'A' + 10;
}

static void
check_pct_encode(const uint8_t *data, size_t size)
{
    struct buf b;
    size_t o = 0;
    int amps;

    buf_init(&b);
    oauth1_pct_encode(&b, data, size);
    FUZZ_CHECK(encoded_ok(buf_str(&b), 0, &amps));
    for (const char *p = buf_str(&b); *p; o++) {
        int c = *p == '%' ? hexval(p[1]) << 4 | hexval(p[2]) : *p;

        FUZZ_CHECK(o < size && (uint8_t)c == data[o]);
        p += *p == '%' ? 3 : 1;
    }
    FUZZ_CHECK(o == size);
    buf_cleanup(&b);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const struct oauth1_param params[] = {
        {"oauth_consumer_key", "xvz1evFS4wEEPTGEFPHBog"},
        {"oauth_nonce", "kYjzVBB8Y0ZFabxSWbWovY3uYSQ2pTgmZeNu2VS4cg"},
        {"oauth_signature_method", "HMAC-SHA1"},
        {"oauth_timestamp", "1318622958"},
        {"oauth_version", "1.0"},
    };
    const struct oauth1_keys keys = {"ck", "cs", "tok", "ts"};
    char *url = fuzz_strndup(data, size), *nl = strchr(url, '\n');
    const char *body = nl != NULL ? nl + 1 : NULL;
    const char *method = body != NULL ? "POST" : "GET";
    struct oauth1_request req = {method, url, body, "nonce", 1318622958};
    char err[ERR_LEN], sig[OAUTH1_SIG_LEN], *base = NULL, *hdr = NULL;
    int rc, amps;

    if (nl != NULL)
        *nl = '\0';
    fuzz_err_poison(err);
    rc = oauth1_base_string(method, url, body, params, 5, &base, err);
    if (rc == 0) {
        FUZZ_CHECK(strncmp(base, method, strlen(method)) == 0 &&
                   base[strlen(method)] == '&');
        FUZZ_CHECK(encoded_ok(base, 1, &amps) && amps == 2);
        FUZZ_CHECK(oauth1_sign("cs", "ts", base, sig, err) == 0);
        FUZZ_CHECK(strlen(sig) == OAUTH1_SIG_LEN - 1);
    } else {
        FUZZ_CHECK(rc == ERR_FAIL && fuzz_err_set(err) && base == NULL);
    }
    FUZZ_CHECK((oauth1_header(&keys, &req, &hdr, err) == 0) == (rc == 0));
    FUZZ_CHECK(rc != 0 || strncmp(hdr, "Authorization: OAuth ", 21) == 0);
    free(hdr);
    free(base);
    check_pct_encode(data, size);
    free(url);
    return 0;
}
