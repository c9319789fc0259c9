#include <cblas.h>
// Declared by OpenBLAS's cblas.h; repeated in case a different cblas.h is found first.
void openblas_set_num_threads(int num_threads);
// 1 when the CPU runs AVX-512F: wider register tiles pay there (32 zmm), and spill on AVX2 (16 ymm).
static inline int btviz_cpu_has_avx512f(void) {
#if defined(__x86_64__)
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f");
#else
    return 0;
#endif
}
