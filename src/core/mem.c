/*
 * mem.c: allocation wrappers that exit instead of returning NULL, and
 * helpers that wipe secrets before freeing them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "core/mem.h"

static void
mem_oom(size_t n)
{
    /* No log_ call: logging may itself need memory.  stderr reaches the
     * journal under systemd, and the exit makes systemd restart us. */
    fprintf(stderr, "spookyd: out of memory allocating %zu bytes\n", n);
    exit(EXIT_FAILURE);
}

void *
mem_alloc(size_t n)
{
    void *p = malloc(n ? n : 1);

    if (p == NULL)
        mem_oom(n);
    return p;
}

void *
mem_calloc(size_t count, size_t size)
{
    void *p = calloc(count ? count : 1, size ? size : 1);

    if (p == NULL)
        mem_oom(count * size);
    return p;
}

void *
mem_realloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);

    if (q == NULL)
        mem_oom(n);
    return q;
}

char *
mem_strdup(const char *s)
{
    return s == NULL ? NULL : mem_strndup(s, strlen(s));
}

char *
mem_strndup(const char *s, size_t n)
{
    char *p = mem_alloc(n + 1);

    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

char *
mem_vprintf(const char *fmt, va_list ap)
{
    va_list ap2;
    int n;
    char *p;

    va_copy(ap2, ap);
    n = vsnprintf(NULL, 0, fmt, ap2);
    va_end(ap2);
    if (n < 0)
        mem_oom(0);
    p = mem_alloc((size_t)n + 1);
    vsnprintf(p, (size_t)n + 1, fmt, ap);
    return p;
}

char *
mem_printf(const char *fmt, ...)
{
    va_list ap;
    char *p;

    va_start(ap, fmt);
    p = mem_vprintf(fmt, ap);
    va_end(ap);
    return p;
}

void
mem_free_secret(void *p, size_t n)
{
    if (p == NULL)
        return;
    OPENSSL_cleanse(p, n);
    free(p);
}

void
mem_free_secret_str(char *s)
{
    if (s != NULL)
        mem_free_secret(s, strlen(s));
}
