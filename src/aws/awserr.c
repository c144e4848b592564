/*
 * awserr.c: what an AWS reply says went wrong.  Pure: no I/O, no
 * logging, no clock reads.  Relies on jansson for JSON bodies.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "aws/awserr.h"

/* Copy n bytes of s into out (size cap) with controls as spaces. */
static void
copy_clean(char *out, size_t cap, const char *s, size_t n)
{
    size_t i;

    if (n >= cap)
        n = cap - 1;
    for (i = 0; i < n; i++)
        out[i] = (unsigned char)s[i] < 0x20 || s[i] == 0x7f ? ' ' : s[i];
    out[i] = '\0';
}

/* Reduce "ns#Name:uri" to Name. */
static void
copy_code(char *out, size_t cap, const char *s)
{
    const char *hash = strrchr(s, '#');

    if (hash != NULL)
        s = hash + 1;
    copy_clean(out, cap, s, strcspn(s, ":"));
}

static const struct {
    const char *ent;
    char c;
} xml_entities[] = {
    {"&amp;", '&'},  {"&lt;", '<'},    {"&gt;", '>'},
    {"&quot;", '"'}, {"&apos;", '\''},
};

/* Text of <tag>...</tag> after start in xml (end at xml_end), with the
 * five predefined entities decoded. */
static void
xml_field(const char *start, const char *xml_end, const char *tag, char *out,
          size_t cap)
{
    char open[40], close[40];
    const char *p, *q;
    size_t o = 0;

    snprintf(open, sizeof(open), "<%s>", tag);
    snprintf(close, sizeof(close), "</%s>", tag);
    p = memmem(start, (size_t)(xml_end - start), open, strlen(open));
    if (p == NULL)
        return;
    p += strlen(open);
    q = memmem(p, (size_t)(xml_end - p), close, strlen(close));
    if (q == NULL)
        return;
    while (p < q && o + 1 < cap) {
        char c = *p++;

        for (size_t i = 0; c == '&' && i < 5; i++) {
            size_t n = strlen(xml_entities[i].ent) - 1;

            if ((size_t)(q - p) >= n &&
                memcmp(p, xml_entities[i].ent + 1, n) == 0) {
                c = xml_entities[i].c;
                p += n;
                break;
            }
        }
        out[o++] = (unsigned char)c < 0x20 || c == 0x7f ? ' ' : c;
    }
    out[o] = '\0';
}

static void
parse_xml(const char *body, size_t len, struct awserr *out)
{
    const char *end = body + len;
    const char *err = memmem(body, len, "<Error>", 7);

    if (err == NULL)
        return;
    xml_field(err, end, "Code", out->code, sizeof(out->code));
    xml_field(err, end, "Message", out->message, sizeof(out->message));
    xml_field(err, end, "RequestId", out->request_id, sizeof(out->request_id));
}

static void
parse_json(const char *body, size_t len, struct awserr *out)
{
    json_t *doc = json_loadb(body, len, 0, NULL);
    const char *s;

    if (!json_is_object(doc)) {
        json_decref(doc);
        return;
    }
    s = json_string_value(json_object_get(doc, "__type"));
    if (s == NULL)
        s = json_string_value(json_object_get(doc, "code"));
    if (s != NULL)
        copy_code(out->code, sizeof(out->code), s);
    s = json_string_value(json_object_get(doc, "message"));
    if (s == NULL)
        s = json_string_value(json_object_get(doc, "Message"));
    if (s != NULL)
        copy_clean(out->message, sizeof(out->message), s, strlen(s));
    json_decref(doc);
}

void
awserr_parse(const char *body, size_t len, const char *error_type,
             struct awserr *out)
{
    size_t skip = 0;

    memset(out, 0, sizeof(*out));
    while (body != NULL && skip < len && strchr(" \t\r\n", body[skip]) != NULL)
        skip++;
    if (body != NULL && skip < len && body[skip] == '<')
        parse_xml(body + skip, len - skip, out);
    else if (body != NULL && skip < len && body[skip] == '{')
        parse_json(body + skip, len - skip, out);
    if (out->code[0] == '\0' && error_type != NULL)
        copy_code(out->code, sizeof(out->code), error_type);
}

void
awserr_set_request_id(struct awserr *e, const char *id)
{
    if (id != NULL)
        copy_clean(e->request_id, sizeof(e->request_id), id, strlen(id));
}

int
awserr_is_skew(const char *code, const char *message)
{
    static const char *const codes[] = {
        "RequestTimeTooSkewed",
        "RequestExpired",
        "RequestInTheFuture",
    };

    if (code == NULL)
        return 0;
    for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++)
        if (strcmp(code, codes[i]) == 0)
            return 1;
    return strcmp(code, "InvalidSignatureException") == 0 && message != NULL &&
           (strstr(message, "Signature expired") != NULL ||
            strstr(message, "Signature not yet current") != NULL);
}

int
awserr_is_expired_token(const char *code)
{
    return code != NULL && (strcmp(code, "ExpiredToken") == 0 ||
                            strcmp(code, "ExpiredTokenException") == 0);
}

int
awserr_is_condition(const char *code)
{
    return code != NULL &&
           (strcmp(code, "ConditionalCheckFailedException") == 0 ||
            strcmp(code, "PreconditionFailed") == 0);
}

/* --- CRC-32 and clock --- */

uint32_t
awserr_crc32(uint32_t crc, const void *p, size_t n)
{
    static uint32_t table[256];
    static int ready;
    const unsigned char *b = p;

    /* The reflected IEEE 802.3 polynomial, as zlib's crc32(). */
    if (!ready) {
        for (uint32_t i = 0; i < 256; i++) {
            uint32_t c = i;

            for (int k = 0; k < 8; k++)
                c = c & 1 ? 0xedb88320u ^ (c >> 1) : c >> 1;
            table[i] = c;
        }
        ready = 1;
    }
    crc = ~crc;
    while (n-- > 0)
        crc = table[(crc ^ *b++) & 0xff] ^ (crc >> 8);
    return ~crc;
}

int
awserr_crc32_check(const char *header, const void *body, size_t len,
                   char err[ERR_LEN])
{
    unsigned long long want;
    char *end;

    if (header == NULL)
        return 0;
    if (*header < '0' || *header > '9') {
        snprintf(err, ERR_LEN, "x-amz-crc32 is not a number");
        return ERR_RETRY;
    }
    errno = 0;
    want = strtoull(header, &end, 10);
    if (*end != '\0' || errno != 0 || want > UINT32_MAX) {
        snprintf(err, ERR_LEN, "x-amz-crc32 is not a number");
        return ERR_RETRY;
    }
    if (awserr_crc32(0, body, len) != (uint32_t)want) {
        snprintf(err, ERR_LEN,
                 "response body does not match x-amz-crc32 "
                 "(damaged in transit)");
        return ERR_RETRY;
    }
    return 0;
}

long
awserr_skew_offset(time_t server_time, time_t local_time, long current)
{
    long diff = (long)(server_time - local_time);
    long off_by = diff - current;

    /* The SDKs' threshold: smaller differences are latency or rounding. */
    if (off_by >= 300 || off_by <= -300)
        return diff;
    return current;
}
