/*
 * libFuzzer target: response header lines as curl hands them over (one
 * call per line, CRLF included) through http_header_cb(), then the
 * lookups every client uses: http_resp_header(), http_resp_date() and
 * http_resp_retry_after_ms().  Reached by including http.c as its unit
 * test does.  Checks: each value found lies inside the stored headers and
 * ends there; a well-formed "Name: value" line is found by any case of its
 * name (unless a line of the same name came first, or a later status line
 * started over); the size cap stops the callback.
 */
#include <ctype.h>

#include "core/http.c"

#include "fuzz.h"

static const char *const names[] = {
    "date",        "retry-after",  "retry-after-ms", "x-amz-retry-after",
    "x-amz-crc32", "content-type", "x-request-id",   ""};

static void
check_value(const struct http_resp *resp, const char *v)
{
    const char *start = resp->headers.data;

    if (v == NULL)
        return;
    FUZZ_CHECK(start != NULL);
    FUZZ_CHECK(v >= start && v <= start + resp->headers.len);
    FUZZ_CHECK(v + strlen(v) <= start + resp->headers.len);
}

/* The name of a plain "Name: value" line (token characters only), upper
 * cased into out; 0 if the line is not one. */
static int
plain_name(const char *line, size_t len, char *out, size_t size)
{
    size_t n = 0;

    while (n < len && n + 1 < size &&
           (isalnum((unsigned char)line[n]) || line[n] == '-'))
        n++;
    if (n == 0 || n >= len || line[n] != ':' || memchr(line, '\0', len) != NULL)
        return 0;
    for (size_t i = 0; i < n; i++)
        out[i] = (char)toupper((unsigned char)line[i]);
    out[n] = '\0';
    return 1;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct http_req *req = mem_calloc(1, sizeof(*req));
    const char *p = (const char *)data, *end = p + size;
    char first_name[64] = "";
    uint64_t ms;
    time_t t;

    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t len = nl != NULL ? (size_t)(nl - p) + 1 : (size_t)(end - p);
        char *line = fuzz_strndup((const uint8_t *)p, len);
        size_t got = http_header_cb(line, 1, len, req);

        FUZZ_CHECK(got == len || (got == 0 && req->headers_too_large));
        if (len >= 5 && memcmp(line, "HTTP/", 5) == 0)
            first_name[0] = '\0';
        else if (first_name[0] == '\0' && line[0] != ' ' && line[0] != '\t')
            plain_name(line, len, first_name, sizeof(first_name));
        free(line);
        if (got == 0)
            break;
        p += len;
    }
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        check_value(&req->resp, http_resp_header(&req->resp, names[i]));
    if (first_name[0] != '\0' && !req->headers_too_large)
        FUZZ_CHECK(http_resp_header(&req->resp, first_name) != NULL);
    (void)http_resp_date(&req->resp, &t);
    (void)http_resp_retry_after_ms(&req->resp, 1764720000, &ms);
    buf_cleanup(&req->resp.headers);
    free(req);
    return 0;
}
