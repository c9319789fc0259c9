#include <stdio.h>
#include <stdlib.h>
#include <setjmp.h>
#include <string.h>
#include <jpeglib.h>

// libjpeg's default error handler calls exit(). These helpers install one that longjmp-s back here
// (a jump Swift cannot make), so a corrupt file becomes an error message instead of ending btviz.

struct btviz_jpeg_error {
    struct jpeg_error_mgr base;
    jmp_buf jump;
    char message[JMSG_LENGTH_MAX];
};

static void btviz_jpeg_error_exit(j_common_ptr cinfo) {
    struct btviz_jpeg_error *err = (struct btviz_jpeg_error *)cinfo->err;
    (*cinfo->err->format_message)(cinfo, err->message);
    longjmp(err->jump, 1);
}

static void btviz_jpeg_quiet(j_common_ptr cinfo, int level) {
    (void)cinfo; (void)level;  // warnings (e.g. "premature end of data") are not printed
}

/// Decodes a JPEG held in memory to 8-bit RGB. With out == NULL it only reads the header (jpeg_read_header:
/// nothing is decoded) and sets the size and the component count (1 for greyscale); then call again with `out`
/// of width * height * 3 bytes (row-major), allocated by the caller after bounding that size. 1 on success, 0
/// with `message` otherwise.
static inline int btviz_jpeg_decode(const unsigned char *data, size_t size, unsigned char *out, size_t out_size,
                                    unsigned *width, unsigned *height, int *components,
                                    char *message, size_t message_size) {
    struct jpeg_decompress_struct cinfo;
    struct btviz_jpeg_error err;
    cinfo.err = jpeg_std_error(&err.base);
    err.base.error_exit = btviz_jpeg_error_exit;
    err.base.emit_message = btviz_jpeg_quiet;
    if (setjmp(err.jump)) {
        snprintf(message, message_size, "%s", err.message);
        jpeg_destroy_decompress(&cinfo);
        return 0;
    }
    jpeg_create_decompress(&cinfo);
    jpeg_mem_src(&cinfo, data, (unsigned long)size);
    jpeg_read_header(&cinfo, TRUE);
    *width = cinfo.image_width;
    *height = cinfo.image_height;
    *components = cinfo.num_components;
    if (!out) {
        jpeg_destroy_decompress(&cinfo);
        return 1;
    }
    if (cinfo.jpeg_color_space == JCS_CMYK || cinfo.jpeg_color_space == JCS_YCCK) {
        snprintf(message, message_size, "CMYK JPEGs are not supported");
        jpeg_destroy_decompress(&cinfo);
        return 0;
    }
    cinfo.out_color_space = JCS_RGB;
    jpeg_start_decompress(&cinfo);
    size_t stride = (size_t)cinfo.output_width * 3;
    if (stride * cinfo.output_height != out_size || cinfo.output_components != 3) {
        snprintf(message, message_size, "unexpected image size");
        jpeg_destroy_decompress(&cinfo);
        return 0;
    }
    while (cinfo.output_scanline < cinfo.output_height) {
        JSAMPROW row = out + stride * cinfo.output_scanline;
        jpeg_read_scanlines(&cinfo, &row, 1);
    }
    jpeg_finish_decompress(&cinfo);
    jpeg_destroy_decompress(&cinfo);
    return 1;
}
