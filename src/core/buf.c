/*
 * buf.c: growable byte buffer.  Growth doubles, so appending n bytes one
 * at a time costs O(n) overall; a reservation larger than that is exact.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "core/buf.h"
#include "core/mem.h"

void
buf_init(struct buf *b)
{
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
}

void
buf_reserve(struct buf *b, size_t n)
{
    size_t need = b->len + n + 1;
    size_t cap;

    if (need < b->len)
        mem_alloc(SIZE_MAX); /* overflow: exits through the OOM path */
    if (need <= b->cap)
        return;
    /* Double on growth, so appends stay O(n) overall, but give a larger
     * request just what it asks: a body of 2.1 MB reserved from its
     * Content-Length gets 2.1 MB, not 4 MiB. */
    cap = b->cap * 2 > b->cap ? b->cap * 2 : need;
    if (cap < 64)
        cap = 64;
    if (cap < need)
        cap = need;
    b->data = mem_realloc(b->data, cap);
    b->cap = cap;
    b->data[b->len] = '\0'; /* a fresh allocation is still a C string */
}

void
buf_append(struct buf *b, const void *p, size_t n)
{
    buf_reserve(b, n);
    if (n > 0)
        memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
}

void
buf_appends(struct buf *b, const char *s)
{
    buf_append(b, s, strlen(s));
}

void
buf_appendc(struct buf *b, char c)
{
    buf_append(b, &c, 1);
}

void
buf_printf(struct buf *b, const char *fmt, ...)
{
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n <= 0)
        return;
    buf_reserve(b, (size_t)n);
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

const char *
buf_str(const struct buf *b)
{
    return b->data ? b->data : "";
}

char *
buf_steal(struct buf *b)
{
    char *p = b->data ? b->data : mem_strdup("");

    buf_init(b);
    return p;
}

void
buf_reset(struct buf *b)
{
    b->len = 0;
    if (b->data)
        b->data[0] = '\0';
}

void
buf_cleanup(struct buf *b)
{
    free(b->data);
    buf_init(b);
}

void
buf_cleanup_secret(struct buf *b)
{
    if (b->data)
        OPENSSL_cleanse(b->data, b->cap);
    buf_cleanup(b);
}
