#include <openssl/evp.h>
// MD5 of a buffer through OpenSSL's EVP interface (the one-shot MD5() is deprecated in OpenSSL 3).
static inline int btviz_md5(const void *data, size_t len, unsigned char out[16]) {
    unsigned int n = 0;
    return EVP_Digest(data, len, out, &n, EVP_md5(), NULL) == 1 && n == 16;
}
