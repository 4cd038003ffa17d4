import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type InProcessCore, startInProcessCore } from './in-process-core.js';

// The filesystems' limits and edges through the HTTP API: sizes enforced while a body streams in
// and across concurrent uploads, names no header can carry raw, and globs bounded at the API.

const mebibyte = 1024 * 1024;
let server: InProcessCore;
let memfsAuth: string;

beforeAll(async () => {
  server = await startInProcessCore({
    CORE_WEBRTC_ENABLE: 'false',
    CORE_STORAGE_MEMORY_MAX_SIZE_MBYTES: '10',
    CORE_STORAGE_DISK_MAX_SIZE_MBYTES: '10',
  });
  const url = new URL(server.core.services.memfsUrl());
  memfsAuth = `Basic ${Buffer.from(`${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`).toString('base64')}`;
});
afterAll(async () => {
  await server?.close();
});

/** A body of `size` bytes made on demand, 64 KiB at a time, that counts what the server pulled. */
function countedBody(size: number): { body: ReadableStream<Uint8Array>; pulled: () => number } {
  let sent = 0;
  const chunk = new Uint8Array(64 * 1024).fill(0x23);
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (sent >= size) return controller.close();
      const part = chunk.subarray(0, Math.min(chunk.length, size - sent));
      sent += part.length;
      controller.enqueue(part);
    },
  });
  return { body, pulled: () => sent };
}

const put = (path: string, body: BodyInit, headers: Record<string, string> = {}) =>
  server.request(path, { method: 'PUT', body, headers, duplex: 'half' } as RequestInit);

function bytesUnder(directory: string): number {
  let total = 0;
  for (const entry of readdirSync(directory, { withFileTypes: true })) {
    const path = join(directory, entry.name);
    total += entry.isDirectory() ? bytesUnder(path) : statSync(path).size;
  }
  return total;
}

describe('filesystem limits', () => {
  it('stops reading a memfs playlist upload at the limit and answers 507', async () => {
    const upload = countedBody(200 * mebibyte);
    const response = await put('/memfs/huge.m3u8', upload.body, { Authorization: memfsAuth });
    expect(response.status).toBe(507);
    // The limit plus what was in flight, not the 200 MB the client offered.
    expect(upload.pulled()).toBeLessThan(12 * mebibyte);
    expect((await server.request('/memfs/huge.m3u8')).status).toBe(404);
  });

  it('admits at most what fits when uploads to the disk filesystem run at once', async () => {
    const uploads = Array.from({ length: 6 }, (_, index) =>
      put(`/api/v3/fs/disk/upload-${index}.bin`, countedBody(9 * mebibyte).body),
    );
    const statuses = (await Promise.all(uploads)).map((response) => response.status);
    expect(statuses.filter((status) => status === 201)).toHaveLength(1);
    expect(statuses.filter((status) => status === 507)).toHaveLength(5);
    const stored = bytesUnder(join(server.dataDir, 'disk'));
    expect(stored).toBe(9 * mebibyte);
    const listed = (await (await server.request('/api/v3/fs/disk')).json()) as { name: string }[];
    expect(listed).toHaveLength(1);
    await server.request(`/api/v3/fs/disk${listed[0]!.name}`, { method: 'DELETE' });
  });

  it('admits at most what fits when uploads to the memfs run at once', async () => {
    const uploads = Array.from({ length: 6 }, (_, index) =>
      put(`/memfs/upload-${index}.ts`, countedBody(9 * mebibyte).body, { Authorization: memfsAuth }),
    );
    const statuses = (await Promise.all(uploads)).map((response) => response.status);
    expect(statuses.filter((status) => status === 201)).toHaveLength(1);
    expect(statuses.filter((status) => status === 507)).toHaveLength(5);
    const usage = (await server.core.services.mem.usage()).sizeBytes;
    expect(usage).toBe(9 * mebibyte);
    const listed = (await (await server.request('/api/v3/fs/mem')).json()) as { name: string }[];
    for (const file of listed) await server.request(`/api/v3/fs/mem${file.name}`, { method: 'DELETE' });
  });

  it('lets an upload replace a file that fills most of the filesystem', async () => {
    expect((await put('/api/v3/fs/disk/big.bin', countedBody(8 * mebibyte).body)).status).toBe(201);
    expect((await put('/api/v3/fs/disk/big.bin', countedBody(9 * mebibyte).body)).status).toBe(204);
    expect((await put('/api/v3/fs/disk/other.bin', countedBody(2 * mebibyte).body)).status).toBe(507);
    expect(bytesUnder(join(server.dataDir, 'disk'))).toBe(9 * mebibyte);
    await server.request('/api/v3/fs/disk/big.bin', { method: 'DELETE' });
  });
});

describe('filesystem names and globs at the API', () => {
  it('stores a file with a non-ASCII name and answers its Content-Location percent-encoded', async () => {
    const response = await put('/api/v3/fs/mem/caméra/直播.m3u8', '#EXTM3U\n');
    expect(response.status).toBe(201);
    expect(response.headers.get('content-location')).toBe(
      `/api/v3/fs/mem/${encodeURIComponent('caméra')}/${encodeURIComponent('直播.m3u8')}`,
    );
    const read = await server.request(
      `/api/v3/fs/mem/${encodeURIComponent('caméra')}/${encodeURIComponent('直播.m3u8')}`,
    );
    expect(await read.text()).toBe('#EXTM3U\n');
  });

  it('answers a glob over a 4,000-character name, and refuses an oversized glob with a 400', async () => {
    const longName = `/${'a'.repeat(4000)}`;
    expect((await put(`/api/v3/fs/mem${longName}`, 'x')).status).toBe(201);
    const groups = '{*,?}'.repeat(8);
    const adversarial = `/${groups}${'*a'.repeat((500 - groups.length) / 2)}*b`;
    const listed = await server.request(`/api/v3/fs/mem?glob=${encodeURIComponent(adversarial)}`);
    expect(listed.status).toBe(200);
    expect(await listed.json()).toEqual([]);
    const matching = await server.request(`/api/v3/fs/mem?glob=${encodeURIComponent('/a*a')}`);
    expect(((await matching.json()) as { name: string }[]).map((file) => file.name)).toContain(longName);

    const oversized = await server.request(
      `/api/v3/fs/mem?glob=${encodeURIComponent(`/${'*a'.repeat(300)}`)}`,
    );
    expect(oversized.status).toBe(400);
    expect(await oversized.json()).toMatchObject({ details: ['pattern too long'] });
    await server.request(`/api/v3/fs/mem${longName}`, { method: 'DELETE' });
  });

  it('refuses a process whose cleanup rule is not a valid glob', async () => {
    const response = await server.request('/api/v3/process', {
      method: 'POST',
      body: JSON.stringify({
        id: 'bad-glob',
        input: [{ id: 'in', address: 'testsrc2', options: ['-f', 'lavfi'] }],
        output: [
          {
            id: 'out',
            address: '-',
            options: ['-f', 'null'],
            cleanup: [{ pattern: 'memfs:/x[ab', max_files: 1 }],
          },
        ],
        autostart: false,
      }),
    });
    expect(response.status).toBe(400);
    expect(JSON.stringify(await response.json())).toContain('not a valid glob: unclosed [');
  });
});
