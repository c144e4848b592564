/*
 * A growable byte buffer.  The bytes are always followed by a NUL that
 * len does not count, so text can be used as a C string directly.
 */
#ifndef SPOOKYD_CORE_BUF_H
#define SPOOKYD_CORE_BUF_H

#include <stddef.h>

struct buf {
    char *data; /* NULL until the first append */
    size_t len;
    size_t cap;
};

/* Empty buffer in caller-owned storage; no allocation yet. */
void buf_init(struct buf *b);

/* Append n bytes. */
void buf_append(struct buf *b, const void *p, size_t n);

/* Append a C string. */
void buf_appends(struct buf *b, const char *s);

/* Append one byte. */
void buf_appendc(struct buf *b, char c);

/* Append printf output. */
void buf_printf(struct buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Make room for n more bytes without changing len. */
void buf_reserve(struct buf *b, size_t n);

/* The contents as a C string ("" when empty); the buffer keeps it. */
const char *buf_str(const struct buf *b);

/* Hand the allocation to the caller (never NULL) and empty the buffer. */
char *buf_steal(struct buf *b);

/* Drop the contents but keep the allocation. */
void buf_reset(struct buf *b);

/* Free the allocation; the buffer is empty and reusable afterwards. */
void buf_cleanup(struct buf *b);

/* buf_cleanup() that first overwrites the bytes (for secrets). */
void buf_cleanup_secret(struct buf *b);

#endif
