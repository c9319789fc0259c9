#include "btmpi.h"
#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

typedef void *Handle;  // Open MPI's MPI_Comm, MPI_Datatype and MPI_Op are pointers to its predefined objects.

static int (*p_init_thread)(int *, char ***, int, int *);
static int (*p_initialized)(int *);
static int (*p_finalize)(void);
static int (*p_abort)(Handle, int);
static int (*p_comm_rank)(Handle, int *);
static int (*p_comm_size)(Handle, int *);
static int (*p_barrier)(Handle);
static int (*p_allgatherv)(const void *, int, Handle, void *, const int *, const int *, Handle, Handle);
static int (*p_alltoallv)(const void *, const int *, const int *, Handle, void *, const int *, const int *, Handle, Handle);
static int (*p_bcast)(void *, int, Handle, int, Handle);
static int (*p_allreduce)(const void *, void *, int, Handle, Handle, Handle);
static int (*p_get_library_version)(char *, int *);
static double (*p_wtime)(void);
static Handle comm_world, type_byte, type_float, op_sum;
static void *in_place;

#define MPI_THREAD_FUNNELED 1
#define MPI_MAX_LIBRARY_VERSION_STRING 256

int btmpi_load(const char *library, char *err, size_t errlen) {
    // RTLD_GLOBAL: Open MPI's own plugins (mca_*.so) resolve symbols of libmpi.
    void *lib = dlopen(library, RTLD_NOW | RTLD_GLOBAL);
    if (!lib) {
        snprintf(err, errlen, "Open MPI's %s could not be loaded (%s); install Open MPI (Debian: apt-get install openmpi-bin)", library, dlerror());
        return 1;
    }
#define SYM(var, name) do { *(void **)(&var) = dlsym(lib, name); if (!var) { snprintf(err, errlen, "%s has no %s: not Open MPI 4 or later", library, name); return 1; } } while (0)
    SYM(p_init_thread, "MPI_Init_thread");
    SYM(p_initialized, "MPI_Initialized");
    SYM(p_finalize, "MPI_Finalize");
    SYM(p_abort, "MPI_Abort");
    SYM(p_comm_rank, "MPI_Comm_rank");
    SYM(p_comm_size, "MPI_Comm_size");
    SYM(p_barrier, "MPI_Barrier");
    SYM(p_allgatherv, "MPI_Allgatherv");
    SYM(p_alltoallv, "MPI_Alltoallv");
    SYM(p_bcast, "MPI_Bcast");
    SYM(p_allreduce, "MPI_Allreduce");
    SYM(p_get_library_version, "MPI_Get_library_version");
    SYM(p_wtime, "MPI_Wtime");
    SYM(comm_world, "ompi_mpi_comm_world");
    SYM(type_byte, "ompi_mpi_byte");
    SYM(type_float, "ompi_mpi_float");
    SYM(op_sum, "ompi_mpi_op_sum");
#undef SYM
    in_place = (void *)1;  // Open MPI's MPI_IN_PLACE is ((void *) 1)
    return 0;
}

int btmpi_init(int *rank, int *size, char *err, size_t errlen) {
    int done = 0, provided = 0;
    p_initialized(&done);
    if (!done && p_init_thread(NULL, NULL, MPI_THREAD_FUNNELED, &provided) != 0) {
        snprintf(err, errlen, "MPI_Init_thread failed");
        return 1;
    }
    if (p_comm_rank(comm_world, rank) != 0 || p_comm_size(comm_world, size) != 0) {
        snprintf(err, errlen, "MPI_Comm_rank or MPI_Comm_size failed");
        return 1;
    }
    return 0;
}

int btmpi_finalize(void) { return p_finalize(); }
void btmpi_abort(int code) { p_abort(comm_world, code); }
int btmpi_barrier(void) { return p_barrier(comm_world); }

int btmpi_allgatherv_bytes(const void *send, int sendcount, void *recv, const int *counts, const int *displs) {
    return p_allgatherv(send, sendcount, type_byte, recv, counts, displs, type_byte, comm_world);
}

int btmpi_alltoallv_bytes(const void *send, const int *sendcounts, const int *sdispls,
                          void *recv, const int *recvcounts, const int *rdispls) {
    return p_alltoallv(send, sendcounts, sdispls, type_byte, recv, recvcounts, rdispls, type_byte, comm_world);
}

int btmpi_bcast_bytes(void *buf, int count, int root) { return p_bcast(buf, count, type_byte, root, comm_world); }

int btmpi_allreduce_sum_float(float *buf, int count) {
    return p_allreduce(in_place, buf, count, type_float, op_sum, comm_world);
}

void btmpi_library_version(char *out, size_t len) {
    char buf[MPI_MAX_LIBRARY_VERSION_STRING + 1];
    int n = 0;
    if (p_get_library_version(buf, &n) != 0) n = 0;
    buf[n < MPI_MAX_LIBRARY_VERSION_STRING ? n : MPI_MAX_LIBRARY_VERSION_STRING] = 0;
    char *nl = strchr(buf, '\n');
    if (nl) *nl = 0;
    snprintf(out, len, "%s", buf);
}

double btmpi_wtime(void) { return p_wtime(); }
