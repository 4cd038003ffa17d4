import { describe, expect, it } from 'vitest';
import { FsFileTooBigError, FsFullError } from './errors.js';
import { MemFilesystem } from './mem-filesystem.js';

const bytes = (size: number, fill = 1) => new Uint8Array(size).fill(fill);
async function* chunked(size: number, chunk: number) {
  for (let sent = 0; sent < size; sent += chunk) yield bytes(Math.min(chunk, size - sent));
}

describe('MemFilesystem', () => {
  it('stores, replaces, lists and removes files with exact size accounting', async () => {
    const fs = new MemFilesystem();
    expect(await fs.write('/a.ts', bytes(100))).toEqual({ created: true, size: 100 });
    expect(await fs.write('b/c.m3u8', chunked(5000, 1000))).toEqual({ created: true, size: 5000 });
    expect(await fs.write('/a.ts', bytes(40))).toEqual({ created: false, size: 40 });
    expect(await fs.usage()).toEqual({ sizeBytes: 5040, maxBytes: 0, files: 2 });
    expect((await fs.list('/*.ts')).map((file) => file.name)).toEqual(['/a.ts']);
    expect((await fs.list()).map((file) => file.name).sort()).toEqual(['/a.ts', '/b/c.m3u8']);
    expect(await fs.remove('/a.ts')).toBe(40);
    expect(await fs.remove('/a.ts')).toBe(-1);
    expect((await fs.usage()).sizeBytes).toBe(5000);
  });

  it('refuses a write that does not fit when purging is off, and keeps what it had', async () => {
    const fs = new MemFilesystem({ maxBytes: 1000 });
    await fs.write('/old.ts', bytes(800));
    await expect(fs.write('/new.ts', bytes(300))).rejects.toBeInstanceOf(FsFullError);
    // Reading stops where the room ends, before the file is known to be too big on its own.
    await expect(fs.write('/huge.ts', chunked(5000, 100))).rejects.toBeInstanceOf(FsFullError);
    expect((await fs.list()).map((file) => file.name)).toEqual(['/old.ts']);
    expect((await fs.usage()).sizeBytes).toBe(800);
    await fs.remove('/old.ts');
    await expect(fs.write('/huge.ts', chunked(5000, 100))).rejects.toBeInstanceOf(FsFileTooBigError);
  });

  it('never holds more than its capacity for uploads in progress, and frees a refused one at once', async () => {
    const fs = new MemFilesystem({ maxBytes: 1000 });
    const pulled = [0, 0];
    async function* slow(upload: number) {
      for (let sent = 0; sent < 900; sent += 100) {
        pulled[upload]!++;
        yield bytes(100);
        await new Promise((resolve) => setImmediate(resolve));
      }
    }
    const results = await Promise.allSettled([fs.write('/0.ts', slow(0)), fs.write('/1.ts', slow(1))]);
    const refused = results.findIndex((result) => result.status === 'rejected');
    expect(results.filter((result) => result.status === 'fulfilled')).toHaveLength(1);
    // The two shared the 1,000 bytes until one asked for more; it was refused then, and the other
    // got the room it left.
    expect(pulled[refused]).toBeLessThanOrEqual(6);
    expect(pulled[1 - refused]).toBe(9);
    expect((await fs.usage()).sizeBytes).toBe(900);
  });

  it('purges the oldest files until a new one fits when purging is on', async () => {
    const fs = new MemFilesystem({ maxBytes: 1000, purge: true });
    const purged: string[][] = [];
    fs.on('purged', (paths) => purged.push(paths));
    await fs.write('/1.ts', bytes(400));
    await fs.write('/2.ts', bytes(400));
    await fs.write('/3.ts', bytes(400));
    expect((await fs.list()).map((file) => file.name).sort()).toEqual(['/2.ts', '/3.ts']);
    expect(purged).toEqual([['/1.ts']]);
    expect((await fs.usage()).sizeBytes).toBe(800);
  });
});
