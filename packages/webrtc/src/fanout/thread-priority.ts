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

/** CAP_SYS_NICE: the capability that lets a process set any nice value (capabilities(7)). */
const capSysNice = 23;

/** What lets this process lower a nice value below 0, read from /proc (Linux). */
export interface NicePermission {
  /** The process's effective capabilities include CAP_SYS_NICE (root has it, unless dropped). */
  capSysNice: boolean;
  /**
   * RLIMIT_NICE's soft limit: a thread may go as low as `20 - limit` without the capability
   * (setrlimit(2)); 0, the usual value, allows nothing below 0's `20`.
   */
  rlimitNice: number;
}

/** CAP_SYS_NICE and RLIMIT_NICE of this process; `undefined` where /proc does not say (not Linux). */
export function nicePermission(): NicePermission | undefined {
  try {
    const status = readFileSync('/proc/self/status', 'utf8');
    const capEff = /^CapEff:\s*([0-9a-f]+)$/m.exec(status)?.[1];
    const limits = readFileSync('/proc/self/limits', 'utf8');
    const soft = /^Max nice priority\s+(\S+)/m.exec(limits)?.[1];
    if (capEff === undefined || soft === undefined) return undefined;
    return {
      capSysNice: ((BigInt(`0x${capEff}`) >> BigInt(capSysNice)) & 1n) === 1n,
      rlimitNice: soft === 'unlimited' ? 40 : Number(soft),
    };
  } catch {
    return undefined;
  }
}

/** What the data plane's worker threads got (`FanoutPlane.prioritized`), and why. */
export interface DataPlanePriority {
  /** The nice value the data plane's threads run at (the highest among them). */
  nice: number;
  /** The nice value asked for (`dataPlaneNice`). */
  requested: number;
  /**
   * - `raised`: the threads run at `requested`;
   * - `limited`: RLIMIT_NICE allows no lower than `nice`, above `requested`;
   * - `not-permitted`: the process may not lower a nice value (no CAP_SYS_NICE, RLIMIT_NICE too low);
   * - `already`: the threads already ran at `requested` or lower (the whole service runs at a
   *   negative nice value, say);
   * - `off`: `requested` is 0 or more;
   * - `no-workers`: the data plane runs in the caller's thread (engine `js`, or `shards: 0`), which
   *   is not raised: it is everything else's event loop too;
   * - `unknown`: the worker threads' ids could not be read (not Linux).
   */
  outcome: 'raised' | 'limited' | 'not-permitted' | 'already' | 'off' | 'no-workers' | 'unknown';
  /** What allowed it, or would: CAP_SYS_NICE and RLIMIT_NICE, where /proc says. */
  permission?: NicePermission;
}

/**
 * What `raiseThreads` can do for threads whose highest nice value is `highest`: the value to set,
 * or why none. Without CAP_SYS_NICE, RLIMIT_NICE sets the floor: `20 - limit` (setrlimit(2)).
 */
export function raisePlan(
  highest: number,
  requested: number,
  permission: NicePermission | undefined,
): { target: number } | { outcome: 'off' | 'already' | 'not-permitted' } {
  if (requested >= 0) return { outcome: 'off' };
  if (highest <= requested) return { outcome: 'already' };
  const floor = permission && !permission.capSysNice ? 20 - permission.rlimitNice : -20;
  const target = Math.max(requested, floor);
  return target >= highest ? { outcome: 'not-permitted' } : { target };
}

/**
 * Gives the data plane's threads (`tids`, kernel ids of this process's threads) the nice value
 * `requested` (negative: ahead of every other thread on the machine at 0), or the lowest RLIMIT_NICE
 * allows when that is above it, never higher than they are. Without CAP_SYS_NICE or an RLIMIT_NICE
 * above 20 nothing can be lowered below 0, and they stay as they are. A negative nice value rather
 * than a realtime policy (SCHED_FIFO/RR with RLIMIT_RTPRIO): a realtime thread that spins holds its
 * core against everything else, a negative nice value only weighs more (nice -10 gets about nine
 * tenths of a core shared with one busy thread at 0).
 */
export function raiseThreads(tids: readonly number[], requested: number): DataPlanePriority {
  const permission = nicePermission();
  const base = { requested, ...(permission ? { permission } : {}) };
  const current = tids.map((tid) => niceOf(tid));
  if (tids.length === 0 || current.some((nice) => nice === undefined)) {
    return { ...base, nice: 0, outcome: 'unknown' };
  }
  const highest = Math.max(...(current as number[]));
  const plan = raisePlan(highest, requested, permission);
  if ('outcome' in plan) return { ...base, nice: highest, outcome: plan.outcome };
  try {
    for (const tid of tids) if (niceOf(tid)! > plan.target) setPriority(tid, plan.target);
  } catch {
    // Refused after all (a security module, a thread that ended): say what the threads have.
    const now = Math.max(...tids.map((tid) => niceOf(tid) ?? highest));
    return { ...base, nice: now, outcome: now <= requested ? 'raised' : 'not-permitted' };
  }
  return { ...base, nice: plan.target, outcome: plan.target === requested ? 'raised' : 'limited' };
}

function niceOf(tid: number): number | undefined {
  try {
    return getPriority(tid);
  } catch {
    return undefined;
  }
}
