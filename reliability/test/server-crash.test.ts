import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jsonBody, startServer, stopAllServers, waitFor } from '@dragon/test-helpers/server';
import { afterAll, expect, it } from 'vitest';
import { joinOverWhep } from './helpers.js';

afterAll(stopAllServers);

// WebRTC stays on (the server's default), and every other process also sends to it, so restoring
// after a crash goes through the WebRTC side as well as the process store.
const nullProcess = (index: number) => ({
  id: `p${String(index).padStart(2, '0')}`,
  reference: index % 2 === 0 ? 'even' : 'odd',
  input: [{ id: 'in', address: 'testsrc2=size=160x120:rate=5', options: ['-re', '-f', 'lavfi'] }],
  output: [{ id: 'out', address: '-', options: ['-f', 'null'] }],
  autostart: index < 4,
  reconnect: true,
  reconnect_delay_seconds: 1,
  ...(index % 2 === 0 ? { webrtc: { enabled: true, force_transcode: true, audio: false } } : {}),
});

/** p00 also plays over WebRTC: restored after a crash, it must start with its RTP legs. */
const withWebRtc = (process: ReturnType<typeof nullProcess>) => ({
  ...process,
  input: [
    {
      id: 'in',
      address: 'testsrc2=size=160x120:rate=5[out0];sine=frequency=440[out1]',
      options: ['-re', '-f', 'lavfi'],
    },
  ],
  output: [{ id: 'out', address: '-', options: ['-map', '0:v', '-f', 'null'] }],
  webrtc: { enabled: true },
});

it('restores all 20 processes exactly after kill -9, starts the autostart ones, and WebRTC plays again', async () => {
  const server = await startServer();
  for (let index = 0; index < 20; index++) {
    const process = nullProcess(index);
    await server.json('/api/v3/process', jsonBody(index === 0 ? withWebRtc(process) : process));
  }
  await server.json('/api/v3/process/p05/metadata/note', jsonBody({ keep: true }, 'PUT'));
  const before = await server.json<{ id: string; config: unknown; metadata: unknown }[]>(
    '/api/v3/process?filter=config,metadata',
  );
  await server.kill();

  const restarted = await startServer({ dataDir: server.dataDir });
  const after = await restarted.json<{ id: string; config: unknown; metadata: unknown }[]>(
    '/api/v3/process?filter=config,metadata',
  );
  const byId = (list: { id: string }[]) => [...list].sort((a, b) => a.id.localeCompare(b.id));
  expect(byId(after)).toEqual(byId(before));
  for (const id of ['p00', 'p01', 'p02', 'p03']) {
    await waitFor(`${id} running after restart`, async () => {
      const state = await restarted.json<{ exec: string; order: string }>(`/api/v3/process/${id}/state`);
      return state.exec === 'running' && state.order === 'start' ? true : undefined;
    });
  }
  expect((await restarted.json<{ order: string }>('/api/v3/process/p10/state')).order).toBe('stop');
  // 409 while the restored process has no media yet, the documented retry; then video arrives.
  const { viewer } = await waitFor('a WHEP session on the restored p00', () =>
    joinOverWhep(restarted, 'p00').catch(() => undefined),
  );
  try {
    expect(await viewer.connected()).toBe(true);
    await waitFor('video from the restored p00', () => viewer.received.video.length > 0);
  } finally {
    await viewer.close();
  }
  await restarted.stop();
});

it('loses nothing when a store write was cut off mid-way', async () => {
  const server = await startServer();
  for (let index = 0; index < 3; index++)
    await server.json('/api/v3/process', jsonBody(nullProcess(index + 10)));
  const before = await server.json('/api/v3/process?filter=config');
  expect(await server.stop()).toBe(0);

  // What a crash between write and rename leaves: a truncated temp file beside each intact file.
  const files = storeFiles(server.dataDir);
  expect(files).toHaveLength(3);
  for (const file of files) {
    const content = readFileSync(file, 'utf8');
    writeFileSync(`${file}.tmp`, content.slice(0, Math.floor(content.length / 2)));
    writeFileSync(`${file}.4242.tmp`, content.slice(0, 17));
  }

  const restarted = await startServer({ dataDir: server.dataDir });
  expect(await restarted.json('/api/v3/process?filter=config')).toEqual(before);
  // And it keeps working: a new process is stored next to the old ones.
  await restarted.json('/api/v3/process', jsonBody(nullProcess(19)));
  expect((await restarted.json<unknown[]>('/api/v3/process')).length).toBe(4);
  await restarted.stop();
});

it('refuses to start on a corrupt store instead of discarding it', async () => {
  const server = await startServer();
  await server.json('/api/v3/process', jsonBody(nullProcess(1)));
  expect(await server.stop()).toBe(0);
  const [store] = storeFiles(server.dataDir);
  const content = readFileSync(store!, 'utf8');
  writeFileSync(store!, content.slice(0, content.length - 10));

  await expect(startServer({ dataDir: server.dataDir })).rejects.toThrow(/exited with 1/);
  // The damaged file is still there for the operator, byte for byte.
  expect(readFileSync(store!, 'utf8')).toBe(content.slice(0, content.length - 10));
});

it('upgrades the single-file store of earlier releases, keeping every process, its order and metadata', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'dragon-upgrade-'));
  const processes = [1, 2, 3].map((index) => ({
    config: {
      ...nullProcess(index + 30),
      autostart: false,
      output: [{ id: 'out', address: '-', options: ['-f', 'null'], cleanup: [] }],
    },
    order: index === 1 ? 'start' : 'stop',
    metadata: { 'restreamer-ui': { index, note: 'x'.repeat(1000) } },
    created_at: 1_700_000_000 + index,
  }));
  writeFileSync(
    join(dataDir, 'db.json'),
    JSON.stringify({ version: 1, processes, metadata: { site: { name: 'old' } } }),
  );

  const server = await startServer({ dataDir });
  const listed = await server.json<{ id: string; metadata: unknown; created_at: number }[]>(
    '/api/v3/process?filter=metadata',
  );
  expect(listed.map(({ id, metadata, created_at }) => ({ id, metadata, created_at }))).toEqual(
    processes.map((stored) => ({
      id: stored.config.id,
      metadata: stored.metadata,
      created_at: stored.created_at,
    })),
  );
  expect(await server.json('/api/v3/metadata/site')).toEqual({ name: 'old' });
  await waitFor('the process ordered to run is running', async () =>
    (await server.json<{ exec: string }>('/api/v3/process/p31/state')).exec === 'running' ? true : undefined,
  );
  expect(readdirSync(dataDir)).not.toContain('db.json');
  expect(storeFiles(dataDir)).toHaveLength(3);
  await server.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

/** The files of the process store: one per process. */
function storeFiles(dataDir: string): string[] {
  const dir = join(dataDir, 'store', 'processes');
  return readdirSync(dir)
    .filter((name) => name.endsWith('.json'))
    .map((name) => join(dir, name));
}
