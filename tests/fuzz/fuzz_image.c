/*
 * libFuzzer target: image_sniff() on arbitrary bytes.  Checks: success
 * gives a known type with its own content type and extension and a
 * non-zero size, and starts with that type's signature; failure says
 * why; a PNG or JPEG that passes fails once its last byte is cut off
 * (both must end with a fixed trailer).
 */
#include <string.h>

#include "core/image.h"
#include "fuzz.h"

static void
check_info(const uint8_t *d, size_t len, const struct image_info *info)
{
    FUZZ_CHECK(info->width > 0 && info->height > 0);
    switch (info->type) {
    case IMAGE_PNG:
        FUZZ_CHECK(strcmp(info->content_type, "image/png") == 0);
        FUZZ_CHECK(strcmp(info->extension, "png") == 0);
        FUZZ_CHECK(len >= 8 && memcmp(d, "\x89PNG\r\n\x1a\n", 8) == 0);
        break;
    case IMAGE_JPEG:
        FUZZ_CHECK(strcmp(info->content_type, "image/jpeg") == 0);
        FUZZ_CHECK(strcmp(info->extension, "jpg") == 0);
        FUZZ_CHECK(len >= 4 && d[0] == 0xff && d[1] == 0xd8);
        break;
    case IMAGE_WEBP:
        FUZZ_CHECK(strcmp(info->content_type, "image/webp") == 0);
        FUZZ_CHECK(strcmp(info->extension, "webp") == 0);
        FUZZ_CHECK(len >= 12 && memcmp(d, "RIFF", 4) == 0 &&
                   memcmp(d + 8, "WEBP", 4) == 0);
        break;
    default:
        FUZZ_CHECK(!"success with IMAGE_UNKNOWN");
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct image_info info, cut;
    char err[ERR_LEN];

    fuzz_err_poison(err);
    if (image_sniff(data, size, &info, err) != 0) {
        FUZZ_CHECK(fuzz_err_set(err));
        return 0;
    }
    check_info(data, size, &info);
    if (info.type != IMAGE_WEBP) {
        fuzz_err_poison(err);
        FUZZ_CHECK(image_sniff(data, size - 1, &cut, err) != 0);
        FUZZ_CHECK(fuzz_err_set(err));
    }
    return 0;
}
