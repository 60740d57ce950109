// Test-only heap-allocation counter (see AllocationCounter.c).
#ifndef QUAKEWARN_C_ALLOCATION_COUNTER_H
#define QUAKEWARN_C_ALLOCATION_COUNTER_H

#include <stdint.h>

/// Starts counting heap allocations made by the calling thread (resets its count to 0).
void qw_allocation_counting_begin(void);

/// Stops counting on the calling thread and returns the number of allocations it made since
/// `qw_allocation_counting_begin()`.
int64_t qw_allocation_counting_end(void);

#endif
