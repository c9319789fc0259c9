#include <png.h>
#include <string.h>

// libpng's simplified API (png_image) reports errors in the struct instead of longjmp-ing into the
// caller, so it is safe to drive from Swift. It also does every conversion btviz needs: palette,
// grey, 16-bit and alpha all come out as 8-bit RGB.

/// Reads the header of a PNG held in memory: 1 and the size on success, 0 and a message otherwise.
static inline int btviz_png_info(const void *data, size_t size, unsigned *width, unsigned *height,
                                 char *message, size_t message_size) {
    png_image image;
    memset(&image, 0, sizeof image);
    image.version = PNG_IMAGE_VERSION;
    if (!png_image_begin_read_from_memory(&image, data, size)) {
        snprintf(message, message_size, "%s", image.message);
        png_image_free(&image);
        return 0;
    }
    *width = image.width;
    *height = image.height;
    png_image_free(&image);
    return 1;
}

/// Decodes a PNG held in memory into `out` (width * height * 3 bytes, RGB, row-major). Alpha is
/// dropped by compositing on black, as libpng's simplified API does for a format without alpha.
static inline int btviz_png_decode(const void *data, size_t size, unsigned char *out, size_t out_size,
                                   char *message, size_t message_size) {
    png_image image;
    memset(&image, 0, sizeof image);
    image.version = PNG_IMAGE_VERSION;
    if (!png_image_begin_read_from_memory(&image, data, size)) {
        snprintf(message, message_size, "%s", image.message);
        png_image_free(&image);
        return 0;
    }
    image.format = PNG_FORMAT_RGB;
    // 16-bit files without gamma information hold sRGB values like 8-bit ones (libpng would assume linear light
    // and re-encode them); this keeps v/257, what other decoders give.
    image.flags |= PNG_IMAGE_FLAG_16BIT_sRGB;
    if (PNG_IMAGE_SIZE(image) != out_size) {
        snprintf(message, message_size, "unexpected image size");
        png_image_free(&image);
        return 0;
    }
    if (!png_image_finish_read(&image, NULL, out, 0, NULL)) {
        snprintf(message, message_size, "%s", image.message);
        png_image_free(&image);
        return 0;
    }
    return 1;
}

/// Whether a PNG held in memory stores colour (1), only grey levels (0: grey, grey+alpha or an all-grey palette),
/// or cannot be read (-1, with a message). MATLAB reads a grey PNG as one channel, which the SR benchmarks
/// take as Y as it is.
static inline int btviz_png_is_color(const void *data, size_t size, char *message, size_t message_size) {
    png_image image;
    memset(&image, 0, sizeof image);
    image.version = PNG_IMAGE_VERSION;
    if (!png_image_begin_read_from_memory(&image, data, size)) {
        snprintf(message, message_size, "%s", image.message);
        png_image_free(&image);
        return -1;
    }
    int color = (image.format & PNG_FORMAT_FLAG_COLOR) != 0;
    png_image_free(&image);
    return color;
}

/// Encodes 8-bit RGB (width * height * 3 bytes, row-major) as a PNG. With out == NULL it only sets *out_size to
/// the bytes needed; then call again with a buffer of that size. 1 on success, 0 and a message otherwise.
static inline int btviz_png_encode(const unsigned char *rgb, unsigned width, unsigned height, void *out,
                                   size_t *out_size, char *message, size_t message_size) {
    png_image image;
    memset(&image, 0, sizeof image);
    image.version = PNG_IMAGE_VERSION;
    image.width = width;
    image.height = height;
    image.format = PNG_FORMAT_RGB;
    png_alloc_size_t size = out ? *out_size : 0;
    if (!png_image_write_to_memory(&image, out, &size, 0, rgb, 0, NULL)) {
        snprintf(message, message_size, "%s", image.message);
        png_image_free(&image);
        return 0;
    }
    *out_size = size;
    png_image_free(&image);
    return 1;
}
