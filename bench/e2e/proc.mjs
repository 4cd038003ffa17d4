// What /proc says about a process: CPU split into user and system time, RSS, children, UDP ports.
// Read from outside, so the measured process does nothing extra to be measured.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

const ticksPerSecond = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;

function statFields(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name may contain spaces and parentheses: fields start after the last ')'.
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
}

/**
 * CPU seconds a process has used so far, all threads together (utime and stime of /proc/pid/stat,
 * fields 14 and 15), or undefined once it has gone.
 */
export function cpuSeconds(pid) {
  try {
    const fields = statFields(pid);
    return { user: Number(fields[11]) / ticksPerSecond, system: Number(fields[12]) / ticksPerSecond };
  } catch {
    return undefined;
  }
}

/**
 * CPU seconds per thread name so far (`/proc/pid/task/*`: comm, utime, stime), threads of one name
 * added up (V8's helpers, libuv's pool), so a window can say which thread the time went to.
 */
export function threadCpuSeconds(pid) {
  const byName = new Map();
  let tasks = [];
  try {
    tasks = readdirSync(`/proc/${pid}/task`);
  } catch {
    return byName;
  }
  for (const task of tasks) {
    try {
      const stat = readFileSync(`/proc/${pid}/task/${task}/stat`, 'utf8');
      const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const total = byName.get(name) ?? { user: 0, system: 0 };
      total.user += Number(fields[11]) / ticksPerSecond;
      total.system += Number(fields[12]) / ticksPerSecond;
      byName.set(name, total);
    } catch {
      // the thread has gone
    }
  }
  return byName;
}

/** % of one core per thread name between two `threadCpuSeconds` snapshots `seconds` apart. */
export function threadCpuPercent(before, after, seconds) {
  const result = {};
  for (const [name, end] of after) {
    const start = before.get(name) ?? { user: 0, system: 0 };
    const user = ((end.user - start.user) / seconds) * 100;
    const system = ((end.system - start.system) / seconds) * 100;
    if (user + system > 0) result[name] = { user, system };
  }
  return result;
}

/** A CPU meter over several processes: `start()`, then `stop()` gives % of one core per process. */
export function cpuMeter(pids) {
  let before;
  let startedAt;
  return {
    start() {
      before = Object.fromEntries(Object.entries(pids).map(([name, pid]) => [name, cpuSeconds(pid)]));
      startedAt = performance.now();
    },
    stop() {
      const wall = (performance.now() - startedAt) / 1000;
      const result = {};
      for (const [name, pid] of Object.entries(pids)) {
        const after = cpuSeconds(pid);
        const start = before[name];
        if (!after || !start) continue;
        const user = ((after.user - start.user) / wall) * 100;
        const system = ((after.system - start.system) / wall) * 100;
        result[name] = { user, system, total: user + system };
      }
      return { seconds: wall, percent: result };
    },
  };
}

export function rssMiB(pid) {
  try {
    const line = readFileSync(`/proc/${pid}/status`, 'utf8')
      .split('\n')
      .find((entry) => entry.startsWith('VmRSS:'));
    return Number(line?.split(/\s+/)[1] ?? 0) / 1024;
  } catch {
    return undefined;
  }
}

/** Direct children of `pid` (the launcher's reading of /proc, shared with the tests). */
export { childProcesses as childrenOf } from '@dragon/test-helpers/server';

export function commandLine(pid) {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').slice(0, -1);
  } catch {
    return [];
  }
}

function socketInodes(pid) {
  const inodes = new Set();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const match = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (match) inodes.add(match[1]);
    } catch {
      // closed while we looked
    }
  }
  return inodes;
}

/** Rows of /proc/net/udp{,6} for the sockets `pid` holds, as split fields. */
function udpRows(pid) {
  const inodes = socketInodes(pid);
  const rows = [];
  for (const table of ['udp', 'udp6']) {
    for (const line of readFileSync(`/proc/${pid}/net/${table}`, 'utf8').trim().split('\n').slice(1)) {
      const fields = line.trim().split(/\s+/);
      if (inodes.has(fields[9])) rows.push(fields);
    }
  }
  return rows;
}

/** Local UDP ports of every socket `pid` holds (matched by inode in /proc/net/udp and udp6). */
export function udpPorts(pid) {
  return new Set(udpRows(pid).map((fields) => Number.parseInt(fields[1].split(':').pop(), 16)));
}

/**
 * Datagrams the kernel dropped because one of `pid`'s UDP sockets was full (the last column of
 * /proc/net/udp), by local port: the sign that a process did not read its sockets fast enough.
 */
export function udpDrops(pid) {
  const drops = new Map();
  try {
    for (const fields of udpRows(pid)) {
      const port = Number.parseInt(fields[1].split(':').pop(), 16);
      drops.set(port, (drops.get(port) ?? 0) + Number(fields.at(-1)));
    }
  } catch {
    // the process has gone
  }
  return drops;
}

/** Drops counted since `before` (both from `udpDrops`), split into `ports` and the rest. */
export function dropsSince(before, after, ports) {
  let inPorts = 0;
  let other = 0;
  for (const [port, count] of after) {
    const delta = count - (before.get(port) ?? 0);
    if (ports.includes(port)) inPorts += delta;
    else other += delta;
  }
  return { inPorts, other };
}

/** Restricts this process (and the children it starts from now on) to `core`. */
export function pinSelf(core) {
  execFileSync('taskset', ['-a', '-cp', String(core), String(process.pid)], { stdio: 'ignore' });
}

const arenaBytes = 64 * 1024 * 1024;

/**
 * Where a process's resident memory is, from /proc/pid/smaps (KiB): file-backed (code, shared
 * libraries), glibc's main heap (`[heap]`), glibc's per-thread arenas, and other anonymous memory
 * (V8's heap pages, mmap'd allocations, thread stacks). A thread arena is a 64 MiB-aligned
 * reservation of 64 MiB (glibc's HEAP_MAX_SIZE on 64-bit), partly read-write, the rest PROT_NONE:
 * that shape is how it is recognised here (a heuristic: nothing else in a Node process reserves
 * exactly that). Undefined once the process has gone.
 */
export function memoryMap(pid) {
  let text;
  try {
    text = readFileSync(`/proc/${pid}/smaps`, 'utf8');
  } catch {
    return undefined;
  }
  const mappings = [];
  let current;
  for (const line of text.split('\n')) {
    const header = /^([0-9a-f]+)-([0-9a-f]+) (\S+) \S+ \S+ (\d+)\s*(.*)$/.exec(line);
    if (header) {
      current = {
        start: BigInt(`0x${header[1]}`),
        end: BigInt(`0x${header[2]}`),
        perms: header[3],
        inode: header[4],
        path: header[5],
        rss: 0,
        anonymous: 0,
      };
      mappings.push(current);
      continue;
    }
    const field = /^(Rss|Anonymous):\s+(\d+) kB$/.exec(line);
    if (field && current) current[field[1] === 'Rss' ? 'rss' : 'anonymous'] = Number(field[2]);
  }
  const result = { rss: 0, file: 0, mainHeap: 0, threadArenas: 0, arenaCount: 0, otherAnonymous: 0 };
  const arena = BigInt(arenaBytes);
  for (let index = 0; index < mappings.length; index++) {
    const mapping = mappings[index];
    result.rss += mapping.rss;
    if (mapping.inode !== '0') {
      result.file += mapping.rss;
      continue;
    }
    if (mapping.path === '[heap]') {
      result.mainHeap += mapping.rss;
      continue;
    }
    const next = mappings[index + 1];
    const isArena =
      mapping.path === '' &&
      mapping.perms === 'rw-p' &&
      mapping.start % arena === 0n &&
      (mapping.end - mapping.start === arena ||
        (next?.perms === '---p' && next.start === mapping.end && next.end - mapping.start === arena));
    if (isArena) {
      result.threadArenas += mapping.rss;
      result.arenaCount++;
      continue;
    }
    result.otherAnonymous += mapping.rss;
  }
  return result;
}
