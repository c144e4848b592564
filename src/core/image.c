/*
 * image.c: tells PNG, JPEG and WebP apart by their signatures and reads
 * the pixel size from the first header that holds it (PNG IHDR, JPEG SOFn,
 * WebP VP8/VP8L/VP8X).  It checks the framing only, never the compressed
 * data.  Layouts: PNG (ISO/IEC 15948), JPEG (ITU-T T.81 annex B), WebP
 * container (RFC 9649).
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "core/image.h"

static const unsigned char image_png_sig[8] = {0x89, 'P',  'N',  'G',
                                               '\r', '\n', 0x1a, '\n'};
/* An IEND chunk: length 0, type, and its fixed CRC. */
static const unsigned char image_png_iend[12] = {
    0, 0, 0, 0, 'I', 'E', 'N', 'D', 0xae, 0x42, 0x60, 0x82};

static uint32_t
image_be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 |
           p[3];
}

static unsigned
image_be16(const unsigned char *p)
{
    return (unsigned)p[0] << 8 | p[1];
}

static unsigned
image_le16(const unsigned char *p)
{
    return (unsigned)p[1] << 8 | p[0];
}

static uint32_t
image_le32(const unsigned char *p)
{
    return (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 |
           p[0];
}

static unsigned
image_le24(const unsigned char *p)
{
    return (unsigned)p[2] << 16 | (unsigned)p[1] << 8 | p[0];
}

static int
image_png(const unsigned char *d, size_t len, struct image_info *info,
          char err[ERR_LEN])
{
    uint32_t w, h;

    /* signature, IHDR (8 + 13 + 4), IEND */
    if (len < 8 + 25 + 12 || image_be32(d + 8) != 13 ||
        memcmp(d + 12, "IHDR", 4) != 0) {
        snprintf(err, ERR_LEN, "PNG without an IHDR header");
        return ERR_FAIL;
    }
    w = image_be32(d + 16);
    h = image_be32(d + 20);
    if (w == 0 || h == 0 || w > INT32_MAX || h > INT32_MAX) {
        snprintf(err, ERR_LEN, "PNG with an impossible size %lux%lu",
                 (unsigned long)w, (unsigned long)h);
        return ERR_FAIL;
    }
    if (memcmp(d + len - 12, image_png_iend, 12) != 0) {
        snprintf(err, ERR_LEN,
                 "PNG does not end with IEND (truncated, or "
                 "bytes after it)");
        return ERR_FAIL;
    }
    info->width = w;
    info->height = h;
    return 0;
}

/* SOF0..SOF15 carry the frame size; C4 (DHT), C8 (JPG) and CC (DAC)
 * share the range but are not frame headers. */
static int
image_jpeg_is_sof(unsigned m)
{
    return m >= 0xc0 && m <= 0xcf && m != 0xc4 && m != 0xc8 && m != 0xcc;
}

/* Walk the marker segments after SOI up to the frame header. */
static int
image_jpeg_frame(const unsigned char *d, size_t len, struct image_info *info,
                 char err[ERR_LEN])
{
    size_t pos = 2;

    for (;;) {
        unsigned m, seg;

        if (pos >= len || d[pos] != 0xff)
            break;
        while (pos < len && d[pos] == 0xff) /* fill bytes */
            pos++;
        if (pos >= len)
            break;
        m = d[pos++];
        if ((m >= 0xd0 && m <= 0xd7) || m == 0x01)
            continue; /* RSTn and TEM stand alone */
        if (m == 0xd8 || m == 0xd9 || m == 0xda || m == 0x00)
            break; /* a second SOI, EOI or scan data before any frame */
        if (len - pos < 2 || (seg = image_be16(d + pos)) < 2 || seg > len - pos)
            break;
        if (image_jpeg_is_sof(m)) {
            if (seg < 8)
                break;
            info->height = image_be16(d + pos + 3);
            info->width = image_be16(d + pos + 5);
            if (info->width == 0 || info->height == 0)
                break; /* a height from a later DNL marker: not for us */
            return 0;
        }
        pos += seg;
    }
    snprintf(err, ERR_LEN, "JPEG without a readable frame header");
    return ERR_FAIL;
}

static int
image_jpeg(const unsigned char *d, size_t len, struct image_info *info,
           char err[ERR_LEN])
{
    if (image_jpeg_frame(d, len, info, err) != 0)
        return ERR_FAIL;
    if (d[len - 2] != 0xff || d[len - 1] != 0xd9) {
        info->width = info->height = 0;
        snprintf(err, ERR_LEN, "JPEG does not end with EOI (truncated?)");
        return ERR_FAIL;
    }
    return 0;
}

/* The size from the first chunk, which holds it in all three forms. */
static int
image_webp_size(const unsigned char *d, size_t len, struct image_info *info)
{
    const unsigned char *c = d + 20; /* the first chunk's payload */

    if (memcmp(d + 12, "VP8X", 4) == 0 && len >= 30) {
        info->width = image_le24(c + 4) + 1;
        info->height = image_le24(c + 7) + 1;
        return 0;
    }
    if (memcmp(d + 12, "VP8L", 4) == 0 && len >= 25 && c[0] == 0x2f) {
        uint32_t bits = image_le32(c + 1);

        info->width = (bits & 0x3fff) + 1;
        info->height = ((bits >> 14) & 0x3fff) + 1;
        return 0;
    }
    /* Lossy: a key frame's tag, start code 9d 01 2a, 14-bit sizes. */
    if (memcmp(d + 12, "VP8 ", 4) == 0 && len >= 30 && (c[0] & 1) == 0 &&
        c[3] == 0x9d && c[4] == 0x01 && c[5] == 0x2a) {
        info->width = image_le16(c + 6) & 0x3fff;
        info->height = image_le16(c + 8) & 0x3fff;
        return info->width > 0 && info->height > 0 ? 0 : ERR_FAIL;
    }
    return ERR_FAIL;
}

static int
image_webp(const unsigned char *d, size_t len, struct image_info *info,
           char err[ERR_LEN])
{
    uint32_t riff = image_le32(d + 4);

    if (len < 20 || riff < 12) {
        snprintf(err, ERR_LEN, "WebP without a first chunk");
        return ERR_FAIL;
    }
    if (riff > len - 8) {
        snprintf(err, ERR_LEN,
                 "WebP truncated: RIFF says %lu bytes, %zu "
                 "present",
                 (unsigned long)riff + 8, len);
        return ERR_FAIL;
    }
    if (image_webp_size(d, len, info) != 0) {
        info->width = info->height = 0;
        snprintf(err, ERR_LEN,
                 "WebP without a readable VP8, VP8L or VP8X "
                 "header");
        return ERR_FAIL;
    }
    return 0;
}

/* "89 50 4e 47 ..." of the first few bytes, for an error message. */
static void
image_hex_head(const unsigned char *d, size_t len, char *out, size_t size)
{
    size_t used = 0;

    out[0] = '\0';
    for (size_t i = 0; i < len && i < 8 && used + 4 < size; i++)
        used += (size_t)snprintf(out + used, size - used, "%s%02x",
                                 i ? " " : "", d[i]);
}

int
image_sniff(const void *data, size_t len, struct image_info *info,
            char err[ERR_LEN])
{
    const unsigned char *d = data;
    char head[40];

    memset(info, 0, sizeof(*info));
    if (d == NULL || len == 0) {
        snprintf(err, ERR_LEN, "empty image");
        return ERR_FAIL;
    }
    if (len >= 8 && memcmp(d, image_png_sig, 8) == 0) {
        *info = (struct image_info){IMAGE_PNG, "image/png", "png", 0, 0};
        return image_png(d, len, info, err);
    }
    if (len >= 4 && d[0] == 0xff && d[1] == 0xd8 && d[2] == 0xff) {
        *info = (struct image_info){IMAGE_JPEG, "image/jpeg", "jpg", 0, 0};
        return image_jpeg(d, len, info, err);
    }
    if (len >= 12 && memcmp(d, "RIFF", 4) == 0 &&
        memcmp(d + 8, "WEBP", 4) == 0) {
        *info = (struct image_info){IMAGE_WEBP, "image/webp", "webp", 0, 0};
        return image_webp(d, len, info, err);
    }
    image_hex_head(d, len, head, sizeof(head));
    snprintf(err, ERR_LEN,
             "not a PNG, JPEG or WebP image (%zu bytes "
             "starting %s)",
             len, head);
    return ERR_FAIL;
}
