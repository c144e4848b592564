/*
 * Tests for core/image.c: PNG, JPEG and WebP files built here byte by
 * byte from the format layouts (PNG IHDR/IEND, JPEG markers, WebP's RIFF
 * chunks), then broken one way at a time.  Every strict prefix of a good
 * file is fed too, from an exact-size heap copy, so ASan and valgrind
 * catch any read past the end.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/image.h"

struct bytes {
    unsigned char d[512];
    size_t len;
};

static void
put(struct bytes *b, const void *p, size_t n)
{
    assert_true(b->len + n <= sizeof(b->d));
    memcpy(b->d + b->len, p, n);
    b->len += n;
}

static void
put_be32(struct bytes *b, uint32_t v)
{
    unsigned char p[4] = {v >> 24, v >> 16, v >> 8, v};

    put(b, p, 4);
}

static void
put_le32(struct bytes *b, uint32_t v)
{
    unsigned char p[4] = {v, v >> 8, v >> 16, v >> 24};

    put(b, p, 4);
}

/* A PNG whose chunks frame correctly (CRCs are not checked by image.c,
 * so zeros stand in, except IEND's fixed one). */
static void
make_png(struct bytes *b, uint32_t w, uint32_t h)
{
    static const unsigned char sig[8] = {0x89, 'P',  'N',  'G',
                                         '\r', '\n', 0x1a, '\n'};
    static const unsigned char ihdr_tail[5] = {8, 2, 0, 0, 0};
    static const unsigned char iend_crc[4] = {0xae, 0x42, 0x60, 0x82};

    b->len = 0;
    put(b, sig, 8);
    put_be32(b, 13);
    put(b, "IHDR", 4);
    put_be32(b, w);
    put_be32(b, h);
    put(b, ihdr_tail, 5);
    put_be32(b, 0);
    put_be32(b, 3);
    put(b, "IDAT", 4);
    put(b, "\x78\x9c\x03", 3);
    put_be32(b, 0);
    put_be32(b, 0);
    put(b, "IEND", 4);
    put(b, iend_crc, 4);
}

/* A baseline JPEG: SOI, APP0 JFIF, DQT, a DHT whose bytes look like a
 * frame size (it must be skipped), SOFn (sof = 0xc0 baseline, 0xc2
 * progressive) with w x h, SOS, a little entropy data, EOI. */
static void
make_jpeg(struct bytes *b, unsigned sof, unsigned w, unsigned h)
{
    static const unsigned char app0[] = {0xff, 0xe0, 0x00, 0x10, 'J',  'F',
                                         'I',  'F',  0x00, 0x01, 0x01, 0x00,
                                         0x00, 0x01, 0x00, 0x01, 0x00, 0x00};
    static const unsigned char dqt[] = {0xff, 0xdb, 0x00, 0x07, 0x00,
                                        0x01, 0x02, 0x03, 0x04};
    static const unsigned char dht[] = {0xff, 0xc4, 0x00, 0x09, 0x00, 0x12,
                                        0x34, 0x56, 0x78, 0x9a, 0xbc};
    static const unsigned char sos[] = {0xff, 0xda, 0x00, 0x08, 0x01, 0x01,
                                        0x00, 0x00, 0x3f, 0x00, 0x12, 0x34,
                                        0xff, 0x00, 0x56, 0xff, 0xd9};
    unsigned char frame[] = {0xff,   sof,      0x00,   0x0b,     0x08,
                             h >> 8, h & 0xff, w >> 8, w & 0xff, 0x01,
                             0x01,   0x11,     0x00};

    b->len = 0;
    put(b, "\xff\xd8", 2);
    put(b, app0, sizeof(app0));
    put(b, dqt, sizeof(dqt));
    put(b, dht, sizeof(dht));
    put(b, frame, sizeof(frame));
    put(b, sos, sizeof(sos));
}

/* RIFF header, then one first chunk of the given FourCC and payload. */
static void
make_webp(struct bytes *b, const char *fourcc, const unsigned char *payload,
          size_t n)
{
    b->len = 0;
    put(b, "RIFF", 4);
    put_le32(b, (uint32_t)(4 + 8 + n + (n & 1)));
    put(b, "WEBP", 4);
    put(b, fourcc, 4);
    put_le32(b, (uint32_t)n);
    put(b, payload, n);
    if (n & 1)
        put(b, "", 1);
}

static void
webp_vp8x(struct bytes *b, unsigned w, unsigned h)
{
    unsigned char p[10] = {0x10,
                           0,
                           0,
                           0,
                           (w - 1) & 0xff,
                           (w - 1) >> 8,
                           (w - 1) >> 16,
                           (h - 1) & 0xff,
                           (h - 1) >> 8,
                           (h - 1) >> 16};

    make_webp(b, "VP8X", p, sizeof(p));
}

static void
webp_vp8l(struct bytes *b, unsigned w, unsigned h)
{
    uint32_t bits = (w - 1) | (h - 1) << 14;
    unsigned char p[9] = {0x2f, bits, bits >> 8, bits >> 16, bits >> 24,
                          0,    0,    0,         0};

    make_webp(b, "VP8L", p, sizeof(p));
}

/* A lossy key frame: frame tag, start code, 14-bit sizes + scale bits. */
static void
webp_vp8(struct bytes *b, unsigned w, unsigned h)
{
    unsigned char p[14] = {
        0x50,     0x02,   0x00, 0x9d, 0x01, 0x2a, w & 0xff, (w >> 8) | 0x40,
        h & 0xff, h >> 8, 0,    0,    0,    0};

    make_webp(b, "VP8 ", p, sizeof(p));
}

/* image_sniff() on an exact-size heap copy. */
static int
sniff(const struct bytes *b, size_t len, struct image_info *info,
      char err[ERR_LEN])
{
    unsigned char *copy = malloc(len ? len : 1);
    int rc;

    memcpy(copy, b->d, len);
    err[0] = '\0';
    rc = image_sniff(copy, len, info, err);
    free(copy);
    return rc;
}

static void
expect_ok(const struct bytes *b, enum image_type type, const char *ctype,
          const char *ext, unsigned w, unsigned h)
{
    struct image_info info;
    char err[ERR_LEN];

    assert_int_equal(sniff(b, b->len, &info, err), 0);
    assert_int_equal(info.type, type);
    assert_string_equal(info.content_type, ctype);
    assert_string_equal(info.extension, ext);
    assert_int_equal(info.width, w);
    assert_int_equal(info.height, h);
}

static void
expect_fail(const struct bytes *b, size_t len, const char *needle)
{
    struct image_info info;
    char err[ERR_LEN];

    assert_int_equal(sniff(b, len, &info, err), ERR_FAIL);
    if (strstr(err, needle) == NULL)
        fail_msg("error '%s' lacks '%s'", err, needle);
}

/* Every strict prefix of a good file is refused, without overreads. */
static void
expect_prefixes_fail(const struct bytes *b)
{
    struct image_info info;
    char err[ERR_LEN];

    for (size_t n = 0; n < b->len; n++) {
        if (sniff(b, n, &info, err) != ERR_FAIL)
            fail_msg("a %zu-byte prefix of %zu was accepted", n, b->len);
        assert_true(err[0] != '\0');
    }
}

static void
test_png(void **state)
{
    struct bytes b;

    (void)state;
    make_png(&b, 1024, 1536);
    expect_ok(&b, IMAGE_PNG, "image/png", "png", 1024, 1536);
    make_png(&b, 1, 0x7fffffff);
    expect_ok(&b, IMAGE_PNG, "image/png", "png", 1, 0x7fffffff);
    make_png(&b, 64, 48);
    expect_prefixes_fail(&b);
}

static void
test_png_broken(void **state)
{
    struct bytes b;

    (void)state;
    make_png(&b, 0, 10);
    expect_fail(&b, b.len, "impossible size");
    make_png(&b, 10, 0x80000000u);
    expect_fail(&b, b.len, "impossible size");
    make_png(&b, 10, 10);
    b.d[11] = 12; /* IHDR length */
    expect_fail(&b, b.len, "IHDR");
    make_png(&b, 10, 10);
    memcpy(b.d + 12, "IDAT", 4); /* IHDR must come first */
    expect_fail(&b, b.len, "IHDR");
    make_png(&b, 10, 10);
    b.d[b.len - 1] ^= 1; /* IEND's CRC */
    expect_fail(&b, b.len, "truncated");
    make_png(&b, 10, 10);
    put(&b, "x", 1); /* bytes after IEND */
    expect_fail(&b, b.len, "truncated");
}

static void
test_jpeg(void **state)
{
    struct bytes b;

    (void)state;
    make_jpeg(&b, 0xc0, 1536, 1024);
    expect_ok(&b, IMAGE_JPEG, "image/jpeg", "jpg", 1536, 1024);
    make_jpeg(&b, 0xc2, 640, 480); /* progressive */
    expect_ok(&b, IMAGE_JPEG, "image/jpeg", "jpg", 640, 480);
    make_jpeg(&b, 0xc1, 65535, 1);
    expect_ok(&b, IMAGE_JPEG, "image/jpeg", "jpg", 65535, 1);
    make_jpeg(&b, 0xc0, 300, 200);
    expect_prefixes_fail(&b);
}

static void
test_jpeg_markers(void **state)
{
    struct bytes b, c;
    static const unsigned char fill_rst[] = {0xff, 0xff, 0xd0};

    (void)state;
    /* fill bytes and a stand-alone RST marker before the frame */
    make_jpeg(&b, 0xc0, 800, 600);
    c.len = 0;
    put(&c, b.d, 2);
    put(&c, fill_rst, sizeof(fill_rst));
    put(&c, b.d + 2, b.len - 2);
    expect_ok(&c, IMAGE_JPEG, "image/jpeg", "jpg", 800, 600);

    /* C4, C8 and CC are not frame headers: with no real SOFn, refused */
    for (unsigned m = 0xc4; m <= 0xcc; m += 4) {
        make_jpeg(&b, m, 800, 600);
        expect_fail(&b, b.len, "frame header");
    }
    make_jpeg(&b, 0xc0, 800, 0); /* height from a DNL marker */
    expect_fail(&b, b.len, "frame header");
    make_jpeg(&b, 0xc0, 800, 600);
    b.d[b.len - 1] = 0xd8; /* no EOI at the end */
    expect_fail(&b, b.len, "truncated");
    make_jpeg(&b, 0xc0, 800, 600);
    b.d[4] = 0xff; /* APP0 length runs past the end */
    expect_fail(&b, b.len, "frame header");
    make_jpeg(&b, 0xc0, 800, 600);
    b.d[5] = 0x01; /* APP0 length below 2 */
    b.d[4] = 0x00;
    expect_fail(&b, b.len, "frame header");
}

static void
test_webp(void **state)
{
    struct bytes b;

    (void)state;
    webp_vp8x(&b, 1536, 1024);
    expect_ok(&b, IMAGE_WEBP, "image/webp", "webp", 1536, 1024);
    webp_vp8x(&b, 1 << 24, 1);
    expect_ok(&b, IMAGE_WEBP, "image/webp", "webp", 1 << 24, 1);
    webp_vp8l(&b, 300, 16384);
    expect_ok(&b, IMAGE_WEBP, "image/webp", "webp", 300, 16384);
    webp_vp8(&b, 1024, 768);
    expect_ok(&b, IMAGE_WEBP, "image/webp", "webp", 1024, 768);
    webp_vp8x(&b, 10, 10);
    expect_prefixes_fail(&b);
    webp_vp8l(&b, 10, 10);
    expect_prefixes_fail(&b);
    webp_vp8(&b, 10, 10);
    expect_prefixes_fail(&b);
}

static void
test_webp_broken(void **state)
{
    struct bytes b;
    static const unsigned char alph[4] = {0, 0, 0, 0};

    (void)state;
    make_webp(&b, "ALPH", alph, sizeof(alph));
    expect_fail(&b, b.len, "VP8");
    webp_vp8l(&b, 10, 10);
    b.d[20] = 0x2e; /* VP8L signature */
    expect_fail(&b, b.len, "VP8");
    webp_vp8(&b, 10, 10);
    b.d[23] = 0x9c; /* start code */
    expect_fail(&b, b.len, "VP8");
    webp_vp8(&b, 10, 10);
    b.d[20] |= 1; /* an inter frame cannot come first */
    expect_fail(&b, b.len, "VP8");
    webp_vp8(&b, 0, 10);
    expect_fail(&b, b.len, "VP8");
    webp_vp8x(&b, 10, 10);
    b.d[4] += 2; /* RIFF size beyond the data */
    expect_fail(&b, b.len, "truncated");
    webp_vp8x(&b, 10, 10);
    b.d[4] = 4; /* RIFF size too small for a chunk */
    expect_fail(&b, b.len, "first chunk");
}

static void
test_unknown(void **state)
{
    struct bytes b = {.len = 0};
    struct image_info info;
    char err[ERR_LEN];

    (void)state;
    put(&b, "GIF89a\x01\x00\x01\x00", 10);
    expect_fail(&b, b.len, "starting 47 49 46 38 39 61 01 00");
    b.len = 0;
    put(&b, "{\"error\":{}}", 12);
    expect_fail(&b, b.len, "not a PNG, JPEG or WebP image (12 bytes");
    b.len = 0;
    put(&b, "RIFF\x10\0\0\0WAVEfmt ", 16); /* RIFF, but not WebP */
    expect_fail(&b, b.len, "not a PNG");
    expect_fail(&b, 0, "empty");
    assert_int_equal(image_sniff(NULL, 10, &info, err), ERR_FAIL);
    assert_int_equal(info.type, IMAGE_UNKNOWN);
    assert_null(info.content_type);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_png),     cmocka_unit_test(test_png_broken),
        cmocka_unit_test(test_jpeg),    cmocka_unit_test(test_jpeg_markers),
        cmocka_unit_test(test_webp),    cmocka_unit_test(test_webp_broken),
        cmocka_unit_test(test_unknown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
