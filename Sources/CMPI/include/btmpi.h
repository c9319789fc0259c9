// Open MPI, loaded at run time (dlopen of libmpi.so.40): btviz builds and runs without MPI installed, and says what
// is missing only when it is launched by mpirun or srun with more than one rank. Handles are Open MPI's (pointers to
// its predefined objects), so this speaks Open MPI's ABI, not MPICH's.
#ifndef BTMPI_H
#define BTMPI_H
#include <stddef.h>

// Loads `library` (a name for dlopen's search, or a path) and resolves what btviz uses. 0 on success; otherwise a
// one-line reason in err.
int btmpi_load(const char *library, char *err, size_t errlen);
// MPI_Init_thread(FUNNELED: only the main thread calls MPI). Fills rank and size. 0 on success.
int btmpi_init(int *rank, int *size, char *err, size_t errlen);
int btmpi_finalize(void);
void btmpi_abort(int code);
int btmpi_barrier(void);
// Every rank's `counts[r]` bytes at `displs[r]` of recv; this rank sends `sendcount` bytes.
int btmpi_allgatherv_bytes(const void *send, int sendcount, void *recv, const int *counts, const int *displs);
// Every rank sends `sendcounts[r]` bytes from send+sdispls[r] to rank r and receives recvcounts[r] at recv+rdispls[r].
int btmpi_alltoallv_bytes(const void *send, const int *sendcounts, const int *sdispls,
                          void *recv, const int *recvcounts, const int *rdispls);
int btmpi_bcast_bytes(void *buf, int count, int root);
// MPI_Allreduce(MPI_SUM) of floats, in place: the plain reduction, whose order depends on the rank count.
int btmpi_allreduce_sum_float(float *buf, int count);
// The library's version line (MPI_Get_library_version), for messages.
void btmpi_library_version(char *out, size_t len);
double btmpi_wtime(void);
#endif
