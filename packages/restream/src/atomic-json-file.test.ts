import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { AtomicJsonFile } from './atomic-json-file.js';
import { StoreWriteError } from './errors.js';

const dirs: string[] = [];
const tempDir = () => {
  const dir = mkdtempSync(join(tmpdir(), 'dragon-atomic-'));
  dirs.push(dir);
  return dir;
};
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('AtomicJsonFile', () => {
  it('writes, reads back and leaves no temp file', async () => {
    const dir = tempDir();
    const file = new AtomicJsonFile(join(dir, 'db.json'));
    expect(await file.read()).toBeUndefined();
    await file.write({ a: 1 });
    expect(await file.read()).toEqual({ a: 1 });
    expect(readdirSync(dir)).toEqual(['db.json']);
  });

  it('serves many changes made in one turn of the event loop with one write of the newest text', async () => {
    const file = new AtomicJsonFile(join(tempDir(), 'db.json'));
    let serialised = 0;
    let value = 0;
    const writes: Promise<void>[] = [];
    for (let change = 1; change <= 100; change++) {
      value = change;
      writes.push(
        file.schedule(() => {
          serialised++;
          return JSON.stringify({ value });
        }),
      );
    }
    await Promise.all(writes);
    expect(file.writes).toBe(1);
    expect(serialised).toBe(1);
    expect(await file.read()).toEqual({ value: 100 });
  });

  it('writes again for a change made while a write runs', async () => {
    const file = new AtomicJsonFile(join(tempDir(), 'db.json'));
    let second: Promise<void> | undefined;
    const first = file.schedule(() => {
      second = file.write({ n: 2 });
      return JSON.stringify({ n: 1 });
    });
    await first;
    await second;
    expect(file.writes).toBe(2);
    expect(await file.read()).toEqual({ n: 2 });
  });

  it('removes temp files a killed process left, but not those of a live process', async () => {
    const dir = tempDir();
    const file = new AtomicJsonFile(join(dir, 'db.json'));
    // pid 2^22 + 1 is above Linux's pid_max limit, so no process has it.
    writeFileSync(join(dir, `db.json.${2 ** 22 + 1}.tmp`), '{"half":');
    writeFileSync(join(dir, `db.json.${process.ppid}.tmp`), '{}');
    writeFileSync(join(dir, 'other.json.1.tmp'), '{}');
    const removed = await file.removeStaleTemps();
    expect(removed).toEqual([join(dir, `db.json.${2 ** 22 + 1}.tmp`)]);
    expect(readdirSync(dir).sort()).toEqual([`db.json.${process.ppid}.tmp`, 'other.json.1.tmp']);
  });

  it('rejects with StoreWriteError when the directory is gone, and the next write succeeds', async () => {
    const dir = tempDir();
    const file = new AtomicJsonFile(join(dir, 'sub', 'db.json'));
    await expect(file.write({ a: 1 })).rejects.toBeInstanceOf(StoreWriteError);
    mkdirSync(join(dir, 'sub'));
    await file.write({ a: 2 });
    expect(JSON.parse(readFileSync(join(dir, 'sub', 'db.json'), 'utf8'))).toEqual({ a: 2 });
    expect(existsSync(join(dir, 'sub', `db.json.${process.pid}.tmp`))).toBe(false);
  });
});
