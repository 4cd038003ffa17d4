import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { WeriftViewer } from '@dragon/test-helpers/werift';
import {
  childProcesses,
  jsonBody,
  type RunningServer,
  startServer,
  testPatternProcess,
  waitFor,
} from '../apps/core/test/server-harness.js';

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

export function rssBytes(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8')
    .split('\n')
    .find((entry) => entry.startsWith('VmRSS:'));
  return Number(line?.split(/\s+/)[1] ?? 0) * 1024;
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

/** A werift viewer that has joined `processId` over WHEP; `location` is its session URL. */
export async function joinOverWhep(
  server: RunningServer,
  processId: string,
): Promise<{ viewer: WeriftViewer; location: string }> {
  const viewer = new WeriftViewer();
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
  return { viewer, location: response.headers.get('Location') ?? '' };
}

export function connected(viewer: WeriftViewer, timeoutMs = 10_000): Promise<boolean> {
  return new Promise((resolve) => {
    if (viewer.pc.connectionState === 'connected') return resolve(true);
    const timer = setTimeout(() => resolve(false), timeoutMs);
    viewer.pc.connectionStateChange.subscribe((state) => {
      if (state !== 'connected') return;
      clearTimeout(timer);
      resolve(true);
    });
  });
}

/** Cuts a viewer's network without a goodbye: its ICE sockets close, nothing more is sent. */
export async function vanish(viewer: WeriftViewer): Promise<void> {
  for (const transport of viewer.pc.iceTransports) {
    const { protocols } = transport.connection as unknown as { protocols: { close(): Promise<void> }[] };
    for (const protocol of protocols) await protocol.close().catch(() => undefined);
  }
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
