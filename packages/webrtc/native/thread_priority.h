// The scheduler calls the data plane makes for its threads (Linux), apart from the send path and
// from N-API: what each asks of the kernel and why is explained where it is defined.
#pragma once

#include <cstdint>

namespace dragon {

// Asks for a short scheduler time slice (nanoseconds) for the calling thread; whether the kernel
// took it.
bool shortenSlice(uint32_t nanoseconds);
// Moves a thread of this process (kernel id) to SCHED_IDLE; whether the kernel took it.
bool idleThread(int tid);

}  // namespace dragon
