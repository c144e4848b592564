/*
 * Allocation that never returns NULL.  Running out of memory is not an
 * error code in spookyd: the process logs and exits, systemd restarts it,
 * and every job's state lives in DynamoDB, so nothing is lost.
 */
#ifndef SPOOKYD_CORE_MEM_H
#define SPOOKYD_CORE_MEM_H

#include <stdarg.h>
#include <stddef.h>

/* malloc(n); exits on failure.  n == 0 still returns a unique pointer. */
void *mem_alloc(size_t n);

/* calloc(count, size); exits on failure or overflow. */
void *mem_calloc(size_t count, size_t size);

/* realloc(p, n); exits on failure. */
void *mem_realloc(void *p, size_t n);

/* Copy of s (NULL gives NULL); the caller frees it. */
char *mem_strdup(const char *s);

/* Copy of the first n bytes of s, NUL-terminated; the caller frees it. */
char *mem_strndup(const char *s, size_t n);

/* printf into a fresh string; the caller frees it. */
char *mem_printf(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));
char *mem_vprintf(const char *fmt, va_list ap)
    __attribute__((format(printf, 1, 0)));

/* Overwrite n bytes at p so a secret does not linger, then free it. */
void mem_free_secret(void *p, size_t n);

/* mem_free_secret() for a NUL-terminated string (NULL is a no-op). */
void mem_free_secret_str(char *s);

#endif
