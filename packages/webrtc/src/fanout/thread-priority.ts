import { readdirSync, readlinkSync } from 'node:fs';
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
 * Gives every thread of this process except `keep` the nice value `nice`, where it is lower, and
 * returns the ids of the threads it lowered. The data plane cannot raise its own threads' priority
 * without CAP_SYS_NICE, but any thread may lower another of its process: with the API, signalling
 * and V8's helper threads a few nice steps below the data plane, a frame no longer waits for their
 * time slices on a busy core (docs/performance.md). Threads created later inherit their creator's
 * value, and so do child processes. Linux only; elsewhere, or where a thread cannot be changed, it
 * does nothing.
 */
export function lowerOtherThreads(keep: ReadonlySet<number>, nice: number): number[] {
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
    try {
      // setpriority(2) with PRIO_PROCESS and a thread id changes that thread alone on Linux.
      if (getPriority(tid) >= nice) continue;
      setPriority(tid, nice);
      lowered.push(tid);
    } catch {
      // The thread has just ended, or this platform does not take thread ids.
    }
  }
  return lowered;
}
