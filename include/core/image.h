/*
 * What kind of picture a byte string is, from its own bytes rather than
 * from what a server claimed: PNG, JPEG or WebP, with the content type,
 * file extension and pixel size read from the headers.  It does not
 * decode pixels or check compressed data (PNG CRCs, JPEG entropy data).
 * Pure: no I/O, no logging.
 */
#ifndef SPOOKYD_CORE_IMAGE_H
#define SPOOKYD_CORE_IMAGE_H

#include <stddef.h>

#include "core/err.h"

enum image_type {
    IMAGE_UNKNOWN,
    IMAGE_PNG,
    IMAGE_JPEG,
    IMAGE_WEBP,
};

/* What image_sniff() found.  The strings are static. */
struct image_info {
    enum image_type type;
    const char *content_type; /* "image/png", "image/jpeg", "image/webp" */
    const char *extension;    /* "png", "jpg", "webp" (no dot) */
    unsigned width, height;   /* pixels, both > 0 on success */
};

/* Identify len bytes at data by their magic bytes and read the pixel size
 * from the headers; the file must also look complete (PNG ends with IEND,
 * a JPEG has its frame header and end marker, a WebP's RIFF size matches).
 * Returns 0 and fills *info, or ERR_FAIL with err saying what is wrong
 * (*info then has type IMAGE_UNKNOWN, or the type whose checks failed). */
int image_sniff(const void *data, size_t len, struct image_info *info,
                char err[ERR_LEN]);

#endif
