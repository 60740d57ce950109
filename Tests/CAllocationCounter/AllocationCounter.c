// Test-only heap-allocation counter for QuakeWarn's "hot paths are allocation-free after
// warm-up" tests (issue 8).
//
// How it works: the test executable defines the C allocation entry points itself. ELF symbol
// lookup finds the executable's definitions before libc's, so every malloc/calloc/realloc/
// aligned allocation in the process (Swift runtime included) comes here first. Each one
// increments a counter in thread-local storage when counting is switched on for the calling
// thread, then forwards to glibc's own implementation (`__libc_malloc` and friends, exported by
// glibc for exactly this purpose). `free` is not interposed: glibc's free releases memory from
// the forwarded calls as usual.
//
// Thread-local counting means tests running on other threads (Swift Testing runs suites
// concurrently unless told otherwise) cannot pollute a measurement, and the measured code must
// run synchronously on the test's thread, which the hot paths do.
//
// The TLS model is initial-exec, so reading the counter never calls into the dynamic loader
// (which may itself allocate and would recurse).
//
// Finding an allocation: run the failing test with QW_ALLOC_TRACE=1 and the stacks of the first
// three counted allocations go to stderr (symbolise the addresses with `addr2line -f -C -e
// .build/debug/QuakeWarnPackageTests.xctest`). In unoptimised builds, unspecialised generic
// standard-library calls (for-in over an Array, `append(contentsOf:)`, `last`, `lastIndex(where:)`)
// allocate coroutine frames; hot paths use index loops over buffers instead.
//
// This target is linked only into the test executable; no product depends on it.

#include "CAllocationCounter.h"

#include <errno.h>
#include <execinfo.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

extern void *__libc_malloc(size_t size);
extern void *__libc_calloc(size_t count, size_t size);
extern void *__libc_realloc(void *pointer, size_t size);
extern void *__libc_memalign(size_t alignment, size_t size);

static __thread int64_t allocations __attribute__((tls_model("initial-exec")));
static __thread int counting __attribute__((tls_model("initial-exec")));
static __thread int tracing __attribute__((tls_model("initial-exec")));

/// Writes the calling stack to stderr without allocating (backtrace_symbols_fd). `backtrace`
/// may allocate the first time (it loads libgcc_s); `tracing` stops that from recursing.
static void trace(void) {
    if (tracing || getenv("QW_ALLOC_TRACE") == NULL) return;
    tracing = 1;
    void *frames[40];
    int count = backtrace(frames, 40);
    backtrace_symbols_fd(frames, count, STDERR_FILENO);
    (void)write(STDERR_FILENO, "----\n", 5);
    tracing = 0;
}

static inline void note(void) {
    if (!counting) return;
    allocations += 1;
    if (allocations <= 3) trace();
}

void *malloc(size_t size) {
    note();
    return __libc_malloc(size);
}

void *calloc(size_t count, size_t size) {
    note();
    return __libc_calloc(count, size);
}

void *realloc(void *pointer, size_t size) {
    note();
    return __libc_realloc(pointer, size);
}

void *memalign(size_t alignment, size_t size) {
    note();
    return __libc_memalign(alignment, size);
}

void *aligned_alloc(size_t alignment, size_t size) {
    note();
    return __libc_memalign(alignment, size);
}

int posix_memalign(void **result, size_t alignment, size_t size) {
    note();
    // POSIX: alignment must be a power of two multiple of sizeof(void *).
    if (alignment < sizeof(void *) || (alignment & (alignment - 1)) != 0) return EINVAL;
    void *pointer = __libc_memalign(alignment, size);
    if (pointer == NULL && size != 0) return ENOMEM;
    *result = pointer;
    return 0;
}

void qw_allocation_counting_begin(void) {
    allocations = 0;
    counting = 1;
}

int64_t qw_allocation_counting_end(void) {
    counting = 0;
    return allocations;
}
