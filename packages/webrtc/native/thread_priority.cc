// Scheduler settings for the data plane's threads and the others of the process. Apart from the
// send path because they are policy, not packets: called once per thread, never per frame.
#include "thread_priority.h"

#include <sched.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace dragon {
namespace {

// The part of struct sched_attr that sched_setattr(2) reads for SCHED_OTHER (glibc wraps the call
// only since 2.41).
struct SchedAttr {
  uint32_t size;
  uint32_t policy;
  uint64_t flags;
  int32_t nice;
  uint32_t priority;
  uint64_t runtime;
  uint64_t deadline;
  uint64_t period;
};

}  // namespace

// EEVDF, Linux 6.12+: a thread with a shorter slice may preempt the running one when it wakes. The
// data plane sleeps between frames and runs briefly; without this, a frame can wait behind the API
// thread's and V8's helper threads' whole slices (measured: up to 9 ms on a hammered core).
// Unprivileged; the nice value is left as it is; older kernels refuse or ignore it.
bool shortenSlice(uint32_t nanoseconds) {
  SchedAttr attr{};
  attr.size = sizeof attr;
  attr.policy = 0;  // SCHED_OTHER
  attr.nice = getpriority(PRIO_PROCESS, 0);
  attr.runtime = nanoseconds;
  return syscall(SYS_sched_setattr, 0, &attr, 0) == 0;
}

// A thread of any other policy that wakes on its core preempts a SCHED_IDLE one at once, where a
// nice value only weighs shares and the scheduler (EEVDF) may still let the running thread finish
// its slice. Measured at 50 viewers: with the API, V8's helpers and FFmpeg at nice 10, the data
// plane still waited for FFmpeg to write a frame and for garbage collections
// (docs/performance.md). Allowed without privilege in this direction only: leaving SCHED_IDLE
// takes CAP_SYS_NICE.
bool idleThread(int tid) {
  const sched_param param{};
  return tid > 0 && sched_setscheduler(tid, SCHED_IDLE, &param) == 0;
}

}  // namespace dragon
