import { type ChildProcess, spawn } from 'node:child_process';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import {
  childProcesses,
  jsonBody,
  type RunningServer,
  startServer,
  testPatternProcess,
  waitFor,
} from '@dragon/test-helpers/server';
import { WeriftViewer } from '@dragon/test-helpers/werift';

/** The server's open file descriptors, by kind; UDP sockets found through /proc/net/udp{,6}. */
export function openFiles(pid: number): { udp: number; tcpOrOther: number; files: number } {
  const udpInodes = new Set<string>();
  for (const table of ['udp', 'udp6']) {
    const lines = readFileSync(`/proc/${pid}/net/${table}`, 'utf8').trim().split('\n').slice(1);
    for (const line of lines) udpInodes.add(line.trim().split(/\s+/)[9] ?? '');
  }
  let udp = 0;
  let tcpOrOther = 0;
  let files = 0;
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    let target: string;
    try {
      target = readlinkSync(`/proc/${pid}/fd/${fd}`);
    } catch {
      continue; // closed while we looked
    }
    const socket = /^socket:\[(\d+)\]$/.exec(target);
    if (!socket) files++;
    else if (udpInodes.has(socket[1]!)) udp++;
    else tcpOrOther++;
  }
  return { udp, tcpOrOther, files };
}

/**
 * Datagrams the kernel dropped because a UDP socket of `pid` was full (the last column of
 * /proc/net/udp{,6}), summed over its sockets: loss that happened before any code could see it.
 */
export function udpSocketDrops(pid: number): number {
  const inodes = new Set<string>();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const socket = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (socket) inodes.add(socket[1]!);
    } catch {
      // closed while we looked
    }
  }
  let drops = 0;
  for (const table of ['udp', 'udp6']) {
    const lines = readFileSync(`/proc/${pid}/net/${table}`, 'utf8').trim().split('\n').slice(1);
    for (const line of lines) {
      const fields = line.trim().split(/\s+/);
      if (inodes.has(fields[9] ?? '')) drops += Number(fields.at(-1));
    }
  }
  return drops;
}

/**
 * Packets in `received` counted once each, by SSRC and sequence number (unwrapped past 65535):
 * a retransmitted packet is one packet.
 */
export function distinctPackets(received: readonly { seq: number; ssrc: number }[]): number {
  const seen = new Set<string>();
  const highest = new Map<number, number>();
  for (const { seq, ssrc } of received) {
    const top = highest.get(ssrc) ?? seq;
    // The extended sequence number closest to the highest one so far (RFC 3550 appendix A.1).
    let extended = top - (top % 65_536) + seq;
    if (extended < top - 32_768) extended += 65_536;
    else if (extended > top + 32_768) extended -= 65_536;
    highest.set(ssrc, Math.max(top, extended));
    seen.add(`${ssrc}:${extended}`);
  }
  return seen.size;
}

/**
 * The longest silence between a viewer's video packets, timed where they arrive. Created before
 * the viewer accepts its answer, so it sees the track appear.
 */
export class ArrivalGaps {
  #last = performance.now();
  #longest = 0;
  #longestFrom = this.#last;

  constructor(viewer: WeriftViewer) {
    viewer.pc.onTrack.subscribe((track) => {
      if (track.kind !== 'video') return;
      track.onReceiveRtp.subscribe(() => {
        const now = performance.now();
        if (now - this.#last > this.#longest)
          [this.#longest, this.#longestFrom] = [now - this.#last, this.#last];
        this.#last = now;
      });
    });
  }

  /** Starts measuring afresh from now. */
  reset(): void {
    this.#last = performance.now();
    this.#longest = 0;
    this.#longestFrom = this.#last;
  }

  /** The longest gap since `reset()`, the silence up to now included, and when (performance.now()) it began. */
  longest(): { ms: number; from: number } {
    const now = performance.now();
    return now - this.#last > this.#longest
      ? { ms: now - this.#last, from: this.#last }
      : { ms: this.#longest, from: this.#longestFrom };
  }
}

/** A size field of /proc/<pid>/status (`VmRSS`, `VmSize`, …), in bytes. */
function statusBytes(pid: number, field: string): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8')
    .split('\n')
    .find((entry) => entry.startsWith(`${field}:`));
  return Number(line?.split(/\s+/)[1] ?? 0) * 1024;
}

export function rssBytes(pid: number): number {
  return statusBytes(pid, 'VmRSS');
}

/** The process's address space: what a reservation costs even before it is touched. */
export function virtualBytes(pid: number): number {
  return statusBytes(pid, 'VmSize');
}

/** Child processes of `pid` whose command is FFmpeg (the server's own children only). */
export function ffmpegChildren(pid: number): number[] {
  return childProcesses(pid).filter((child) => {
    try {
      return /ffmpeg/.test(readFileSync(`/proc/${child}/cmdline`, 'utf8').split('\0')[0] ?? '');
    } catch {
      return false;
    }
  });
}

/**
 * A werift viewer that has joined `processId` over WHEP; `location` is its session URL, `gaps`
 * times the silences between its video packets.
 */
export async function joinOverWhep(
  server: RunningServer,
  processId: string,
): Promise<{ viewer: WeriftViewer; location: string; gaps: ArrivalGaps }> {
  const viewer = new WeriftViewer();
  const gaps = new ArrivalGaps(viewer);
  const offer = await viewer.offer();
  const response = await server.api(`/api/v3/process/${processId}/whep`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/sdp' },
    body: offer,
  });
  if (response.status !== 201) {
    await viewer.close();
    throw new Error(`WHEP offer answered ${response.status}: ${await response.text()}`);
  }
  await viewer.accept(await response.text());
  return { viewer, location: response.headers.get('Location') ?? '', gaps };
}

/** Starts the built server with `env` and one test-pattern process, resolved once it runs. */
export async function startServerWithProcess(
  id: string,
  env: Record<string, string> = {},
  extra: Record<string, unknown> = {},
): Promise<RunningServer> {
  const server = await startServer({ env });
  await server.json('/api/v3/process', jsonBody(testPatternProcess(id, extra)));
  await waitFor(`${id} running`, async () =>
    (await server.json<{ exec: string }>(`/api/v3/process/${id}/state`)).exec === 'running'
      ? true
      : undefined,
  );
  return server;
}

/**
 * Programs at normal priority that keep cores busy (`while :; do :; done`, one shell each), as a
 * backup job, a compiler or a browser on the same machine would. Only the shells started here are
 * stopped, by their pids.
 */
export class BusyLoops {
  readonly #children: ChildProcess[] = [];

  start(count: number): void {
    for (let index = 0; index < count; index++) {
      this.#children.push(spawn('sh', ['-c', 'while :; do :; done'], { stdio: 'ignore' }));
    }
  }

  stop(): void {
    for (const child of this.#children.splice(0)) child.kill('SIGKILL');
  }
}
