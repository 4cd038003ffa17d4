import {
  childProcesses,
  jsonBody,
  metric,
  type RunningServer,
  stopAllServers,
  waitFor,
} from '@dragon/test-helpers/server';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, playInPage, startOtherOrigin } from './browser.js';
import {
  offerWhep,
  type RunningRedis,
  smallTestPattern,
  startNode,
  startRedis,
  type WhepViewer,
} from './cluster-harness.js';

/**
 * Three nodes and a Redis on loopback: A runs the process, B and C serve it as edges. One cluster
 * lives through the whole file, and the tests run in order: each leaves the cluster as the next expects.
 */

interface ClusterView {
  node_id: string;
  nodes: { id: string; url: string; pulling: string[]; processes: string[] }[];
  processes: { id: string; node_id: string; pulled_by: string[] }[];
}
interface ListedProcess {
  id: string;
  core_id: string;
  state?: { exec: string };
}

let redis: RunningRedis;
let browser: Browser;
let page: Page;
let otherOrigin: Awaited<ReturnType<typeof startOtherOrigin>>;
let a: RunningServer;
let b: RunningServer;
let c: RunningServer;
const ids = new Map<RunningServer, string>();
const viewers: WhepViewer[] = [];

async function nodeId(server: RunningServer): Promise<string> {
  const id = (await server.json<ClusterView>('/api/v3/cluster')).node_id;
  ids.set(server, id);
  return id;
}

/** Inbound video of the page's peer connection: frames decoded, the SSRC it comes with, the state. */
function inbound(target: Page): Promise<{ framesDecoded: number; ssrc: number; state: string }> {
  return target.evaluate(async () => {
    const pc = (window as unknown as { pc: RTCPeerConnection }).pc;
    let framesDecoded = 0;
    let ssrc = 0;
    (await pc.getStats()).forEach((report) => {
      if (report.type === 'inbound-rtp' && report.kind === 'video') {
        framesDecoded = report.framesDecoded ?? 0;
        ssrc = report.ssrc;
      }
    });
    return { framesDecoded, ssrc, state: pc.connectionState };
  });
}

/** Waits until the page decodes `more` frames beyond what it has now. */
async function decodesMore(target: Page, more: number, timeoutMs = 60_000): Promise<void> {
  const before = (await inbound(target)).framesDecoded;
  await waitFor(
    `${more} more frames decoded`,
    async () => ((await inbound(target)).framesDecoded >= before + more ? true : undefined),
    timeoutMs,
  );
}

/**
 * Watches the page's decoded-frame count until stopped and gives the longest time it stood still:
 * what a viewer saw of an outage. Printed, not asserted: it depends on the machine's load.
 */
function pictureGaps(target: Page): { stop(): Promise<number> } {
  let lastFrames = -1;
  let lastChange = Date.now();
  let longest = 0;
  let sampling: Promise<void> = Promise.resolve();
  const timer = setInterval(() => {
    sampling = inbound(target).then(
      ({ framesDecoded }) => {
        const now = Date.now();
        if (framesDecoded !== lastFrames) {
          longest = Math.max(longest, now - lastChange);
          lastFrames = framesDecoded;
          lastChange = now;
        }
      },
      () => undefined,
    );
  }, 200);
  return {
    async stop() {
      clearInterval(timer);
      await sampling;
      return Math.max(longest, Date.now() - lastChange);
    },
  };
}

/**
 * A werift viewer of `processId` on `server`, receiving video. On a machine short of CPU, werift's
 * DTLS handshake can fail on a retransmitted flight (the session then ends as `dtls-failed` on both
 * sides): such a join is made again, as a player does, at most three times.
 */
async function werift(server: RunningServer, processId: string): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    const viewer = await offerWhep(server, processId);
    viewers.push(viewer);
    expect(viewer.status).toBe(201);
    const connected = await viewer.viewer.connected();
    if (connected || attempt === 3) {
      expect(connected).toBe(true);
      await waitFor('werift viewer receiving video', () => viewer.videoPackets > 10);
      return;
    }
    await viewer.close();
  }
}

beforeAll(async () => {
  redis = await startRedis();
  [a, b, c] = await Promise.all([startNode(redis), startNode(redis), startNode(redis)]);
  await Promise.all([a, b, c].map(nodeId));
  await a.json('/api/v3/process', jsonBody(smallTestPattern('cam')));
  await waitFor(
    'cam running on A',
    async () =>
      (await a.json<{ exec: string }>('/api/v3/process/cam/state')).exec === 'running' ? true : undefined,
    60_000,
  );
  await waitFor('every node sees the three nodes and cam', async () => {
    const views = await Promise.all([a, b, c].map((node) => node.json<ClusterView>('/api/v3/cluster')));
    return views.every((view) => view.nodes.length === 3 && view.processes.some((p) => p.id === 'cam'))
      ? true
      : undefined;
  });
  browser = await launchChromium();
  otherOrigin = await startOtherOrigin();
  page = await browser.newPage();
  await page.goto(otherOrigin.url);
  // Three servers, an FFmpeg and Chromium: on a busy machine the servers alone took 40–50 s.
}, 180_000);

afterAll(async () => {
  await Promise.all(viewers.map((viewer) => viewer.close()));
  await browser?.close();
  await otherOrigin?.close();
  await stopAllServers();
  await redis?.stop();
});

describe('a cluster of three nodes on one Redis', () => {
  it('plays a process of node A in Chromium offering to node B, from a session on B', async () => {
    const result = await playInPage(page, `${b.baseUrl}/api/v3/process/cam/whep`);
    expect(result.error).toBeUndefined();
    expect(result.status).toBe(201);
    expect(result.framesDecoded).toBeGreaterThan(0);
    expect(result.location).toMatch(new RegExp(`^${b.baseUrl}/api/v3/process/cam/whep/[\\w-]+$`));
    await decodesMore(page, 25);
  });

  it('holds one pull on B for all of its viewers', async () => {
    await werift(b, 'cam');
    await werift(b, 'cam');
    const view = await b.json<ClusterView>('/api/v3/cluster');
    const nodeB = view.nodes.find((node) => node.id === ids.get(b));
    expect(nodeB?.pulling).toEqual(['cam']);
    // On A, cam's only peer is B's pull.
    expect(await metric(a, 'dragon_process_viewers', 'process_id="cam"')).toBe(1);
    expect(await metric(b, 'dragon_process_viewers', 'process_id="cam"')).toBeUndefined();
  });

  it("keeps B's viewers on their connection while A's FFmpeg is killed and restarted", async () => {
    const before = await inbound(page);
    const ffmpeg = childProcesses(a.child.pid!);
    expect(ffmpeg).toHaveLength(1);
    process.kill(ffmpeg[0]!, 'SIGKILL');
    await waitFor(
      "A's FFmpeg running again",
      async () => {
        const now = childProcesses(a.child.pid!);
        const state = await a.json<{ exec: string }>('/api/v3/process/cam/state');
        return now.length === 1 && now[0] !== ffmpeg[0] && state.exec === 'running' ? true : undefined;
      },
      60_000,
    );
    await decodesMore(page, 50);
    const after = await inbound(page);
    expect(after.state).toBe('connected');
    expect(after.ssrc).toBe(before.ssrc);
  });

  it('lists every process of the cluster on every node, and forwards requests to the owner', async () => {
    const listed = await c.json<ListedProcess[]>('/api/v3/process?filter=state');
    expect(listed.map((process) => [process.id, process.core_id])).toEqual([['cam', ids.get(a)]]);
    expect(listed[0]?.state?.exec).toBe('running');
    const reports = await c.json<{ id: string; report?: { created_at?: number } | null }[]>(
      '/api/v3/process?filter=report',
    );
    const report = await a.json<{ created_at: number }>('/api/v3/process/cam/report');
    expect(reports[0]?.report?.created_at).toBe(report.created_at);
    expect(await c.json<ListedProcess>('/api/v3/process/cam')).toMatchObject({
      id: 'cam',
      core_id: ids.get(a),
    });
    const state = await c.json<{ exec: string; order: string }>('/api/v3/process/cam/state');
    expect(state).toMatchObject({ exec: 'running', order: 'start' });
    await c.json('/api/v3/process/cam/metadata/note', jsonBody({ set: 'through C' }, 'PUT'));
    expect(await a.json('/api/v3/process/cam/metadata/note')).toEqual({ set: 'through C' });
    const duplicate = await b.api('/api/v3/process', jsonBody(smallTestPattern('cam')));
    expect(duplicate.status).toBe(400);
  });

  it('plays from node C once node B is gone', async () => {
    const killedAt = Date.now();
    await b.kill();
    const result = await playInPage(page, `${c.baseUrl}/api/v3/process/cam/whep`);
    console.log(
      `edge kill: a viewer of the dead edge plays again from C ${Date.now() - killedAt} ms after the kill`,
    );
    expect(result.status).toBe(201);
    expect(result.framesDecoded).toBeGreaterThan(0);
    await waitFor(
      'B gone from the cluster',
      async () => ((await c.json<ClusterView>('/api/v3/cluster')).nodes.length === 2 ? true : undefined),
      30_000,
    );
  });

  it('recovers after Redis restarts empty, without losing a process config', async () => {
    const config = await a.json('/api/v3/process/cam/config');
    const gaps = pictureGaps(page);
    const restartedAt = Date.now();
    await redis.restart();
    await waitFor(
      'the cluster written again',
      async () => {
        const view = await c.json<ClusterView>('/api/v3/cluster');
        const cam = view.processes.find((process) => process.id === 'cam');
        return view.nodes.length === 2 &&
          cam !== undefined &&
          cam.node_id === ids.get(a) &&
          cam.pulled_by.includes(ids.get(c)!)
          ? true
          : undefined;
      },
      30_000,
    );
    const rewrittenMs = Date.now() - restartedAt;
    expect(await c.json('/api/v3/process/cam/config')).toEqual(config);
    await decodesMore(page, 25);
    console.log(
      `Redis restart: cluster written again after ${rewrittenMs} ms; C's viewer's longest picture gap ${await gaps.stop()} ms`,
    );
  });

  it('moves a process marked for failover to another node when its node dies, and keeps it there', async () => {
    await a.json('/api/v3/process/cam/metadata/cluster', jsonBody({ failover: true }, 'PUT'));
    await waitFor('the mark in Redis', async () => {
      const listed = await c.json<(ListedProcess & { metadata?: Record<string, unknown> })[]>(
        '/api/v3/process?filter=metadata',
      );
      return listed[0]?.metadata?.cluster ? true : undefined;
    });
    // The harness checks that A's FFmpeg ends with A.
    const gaps = pictureGaps(page);
    const killedAt = Date.now();
    await a.kill();
    await waitFor(
      'cam running on C',
      async () => {
        const listed = await c.json<ListedProcess[]>('/api/v3/process?filter=state');
        const cam = listed.find((process) => process.id === 'cam');
        return cam !== undefined && cam.core_id === ids.get(c) && cam.state?.exec === 'running'
          ? true
          : undefined;
      },
      90_000,
    );
    // C's viewer was on C's pull of A; it stays on it, now fed by C's own process.
    const movedMs = Date.now() - killedAt;
    await decodesMore(page, 25, 90_000);
    expect((await inbound(page)).state).toBe('connected');
    console.log(
      `node kill: cam running on C after ${movedMs} ms; C's viewer's longest picture gap ${await gaps.stop()} ms, session kept`,
    );

    // A comes back with its old store, which still has cam: its start gate finds C's lease, so it
    // spawns no FFmpeg, and A drops its copy.
    const back = await startNode(redis, { dataDir: a.dataDir });
    expect(await nodeId(back)).toBe(ids.get(a));
    await waitFor('A back in the cluster', async () =>
      (await c.json<ClusterView>('/api/v3/cluster')).nodes.length === 2 ? true : undefined,
    );
    await waitFor("A listing cam as C's", async () => {
      const onA = await back.json<ListedProcess[]>('/api/v3/process');
      return onA.length === 1 && onA[0]?.id === 'cam' && onA[0].core_id === ids.get(c);
    });
    expect(back.logLines.some((line) => line.includes('holds the lease of process'))).toBe(true);
    expect(childProcesses(back.child.pid!)).toEqual([]);
    expect(back.logLines.filter((line) => line.includes('"ffmpeg started"'))).toEqual([]);
    expect((await c.json<{ exec: string }>('/api/v3/process/cam/state')).exec).toBe('running');
  });
});
