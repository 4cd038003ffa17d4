import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { getPriority, setPriority } from 'node:os';

/** The kernel's id of the calling thread (Linux; `/proc/thread-self` is `<pid>/task/<tid>`). */
export function kernelThreadId(): number | undefined {
  try {
    const tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
    return Number.isInteger(tid) && tid > 0 ? tid : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The name Node gives V8's platform threads (Node 24 does; Node 20 left them unnamed, and unnamed
 * they go with the rest). They are shared by every isolate of the process, the data plane's workers
 * included: a worker's garbage collection hands them tasks and waits for them to finish. Under
 * SCHED_IDLE they ran only when the busy API let them, and the worker's collection, its frame with
 * it, waited that long (docs/performance.md, hammered p99 2 ms against 0.5–1 ms at nice). So they
 * are lowered with `nice`, never made idle.
 */
const sharedHelperName = 'V8Worker';

function threadName(tid: number): string | undefined {
  try {
    return readFileSync(`/proc/self/task/${tid}/comm`, 'utf8').trim();
  } catch {
    return undefined;
  }
}

export interface LowerPriority {
  /** A nice value, given where the thread's is lower (0: none). */
  nice: number;
  /**
   * Moves a thread to SCHED_IDLE (the addon's `idleThread`); where it refuses, and for V8's shared
   * helper threads, `nice` applies.
   */
  idle?: ((tid: number) => boolean) | undefined;
}

/**
 * Lowers every thread of this process except `keep` (the data plane's) and returns the ids of the
 * threads it lowered. The data plane cannot raise its own threads' priority without CAP_SYS_NICE,
 * but any thread may lower another of its process: with the API, signalling and V8's helper threads
 * below the data plane, a frame no longer waits for their time slices on a busy core
 * (docs/performance.md). SCHED_IDLE is the stronger of the two: a waking data plane preempts an idle
 * thread at once. Threads created later inherit their creator's policy and nice value, and so do
 * child processes (FFmpeg). Linux only; elsewhere, or where a thread cannot be changed, it does
 * nothing.
 */
export function lowerOtherThreads(keep: ReadonlySet<number>, { nice, idle }: LowerPriority): number[] {
  let tasks: string[];
  try {
    tasks = readdirSync('/proc/self/task');
  } catch {
    return [];
  }
  const lowered: number[] = [];
  for (const task of tasks) {
    const tid = Number(task);
    if (!Number.isInteger(tid) || keep.has(tid)) continue;
    if (idle && threadName(tid) !== sharedHelperName && idle(tid)) {
      lowered.push(tid);
      continue;
    }
    try {
      // setpriority(2) with PRIO_PROCESS and a thread id changes that thread alone on Linux.
      if (nice <= 0 || getPriority(tid) >= nice) continue;
      setPriority(tid, nice);
      lowered.push(tid);
    } catch {
      // The thread has just ended, or this platform does not take thread ids.
    }
  }
  return lowered;
}
