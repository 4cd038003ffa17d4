import { mkdtempSync, rmSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { waitFor } from '@dragon/test-helpers';
import { afterEach, describe, expect, it } from 'vitest';
import { CleanupManager } from './cleanup-manager.js';
import { DiskFilesystem } from './disk-filesystem.js';
import { MemFilesystem } from './mem-filesystem.js';

const quiet = { warn() {}, debug() {} };
const rule = (pattern: string, extra: object = {}) => ({
  pattern,
  max_files: 0,
  max_file_age_seconds: 0,
  purge_on_delete: false,
  ...extra,
});
const managers: CleanupManager[] = [];
const dirs: string[] = [];
afterEach(() => {
  for (const manager of managers.splice(0)) manager.close();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});
const names = async (fs: { list(): Promise<{ name: string }[]> }) =>
  (await fs.list()).map((file) => file.name).sort();

describe('CleanupManager', () => {
  it('keeps only the newest max_files matching files on the named filesystem', async () => {
    const mem = new MemFilesystem();
    const cleanup = new CleanupManager([mem], quiet, { intervalMs: 60_000 });
    managers.push(cleanup);
    for (const index of [1, 2, 3, 4, 5]) {
      await mem.write(`/cam_${index}.ts`, new Uint8Array(1));
      await new Promise((resolve) => setImmediate(resolve));
    }
    await mem.write('/cam.m3u8', new Uint8Array(1));
    cleanup.add('cam', [rule('memfs:/cam_*.ts', { max_files: 2 })]);
    await cleanup.enforce();
    const left = await names(mem);
    expect(left).toContain('/cam.m3u8');
    expect(left.filter((name) => name.endsWith('.ts'))).toHaveLength(2);
  });

  it('removes files older than max_file_age_seconds on disk', async () => {
    const root = mkdtempSync(join(tmpdir(), 'dragon-cleanup-'));
    dirs.push(root);
    const disk = new DiskFilesystem({ root });
    await disk.write('/rec/old.mp4', new Uint8Array(3));
    await disk.write('/rec/new.mp4', new Uint8Array(3));
    const hourAgo = new Date(Date.now() - 3_600_000);
    utimesSync(join(root, 'rec/old.mp4'), hourAgo, hourAgo);
    const cleanup = new CleanupManager([disk], quiet, { intervalMs: 60_000 });
    managers.push(cleanup);
    cleanup.add('rec', [rule('diskfs:/rec/*.mp4', { max_file_age_seconds: 60 })]);
    await cleanup.enforce();
    expect(await names(disk)).toEqual(['/rec/new.mp4']);
  });

  it('purges on delete only the rules that ask for it, and only when told to purge', async () => {
    const mem = new MemFilesystem();
    const cleanup = new CleanupManager([mem], quiet, { intervalMs: 60_000 });
    managers.push(cleanup);
    await mem.write('/a.m3u8', new Uint8Array(1));
    await mem.write('/a_1.ts', new Uint8Array(1));
    await mem.write('/b.jpg', new Uint8Array(1));
    cleanup.add('a', [rule('mem:/a*', { purge_on_delete: true }), rule('mem:/b.jpg')]);
    expect(await cleanup.remove('a', { purge: true })).toBe(2);
    expect(await names(mem)).toEqual(['/b.jpg']);
    cleanup.add('b', [rule('memfs:/b.jpg', { purge_on_delete: true })]);
    expect(await cleanup.remove('b', { purge: false })).toBe(0);
    expect(await names(mem)).toEqual(['/b.jpg']);
  });

  it('runs by itself on its interval', async () => {
    const mem = new MemFilesystem();
    const cleanup = new CleanupManager([mem], quiet, { intervalMs: 20 });
    managers.push(cleanup);
    await mem.write('/x_1.ts', new Uint8Array(1));
    await mem.write('/x_2.ts', new Uint8Array(1));
    cleanup.add('x', [rule('memfs:/x_*.ts', { max_files: 1 })]);
    await waitFor('one file left', async () => (await mem.list()).length === 1);
  });
});
