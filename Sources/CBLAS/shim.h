#include <cblas.h>
// Declared by OpenBLAS's cblas.h; repeated in case a different cblas.h is found first.
void openblas_set_num_threads(int num_threads);
