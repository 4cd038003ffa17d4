import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { processConfigSchema } from './config-schema.js';
import { StoreCorruptError } from './errors.js';
import { globToRegExp } from './placeholders.js';
import { ProcessStore } from './process-store.js';

const dirs: string[] = [];
const tempDir = () => {
  const dir = mkdtempSync(join(tmpdir(), 'dragon-store-'));
  dirs.push(dir);
  return dir;
};
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

const config = processConfigSchema.parse({
  id: 'cam',
  reference: 'door',
  input: [{ id: 'in', address: 'rtsp://{reference}' }],
  output: [{ id: 'out', address: '{diskfs}/{processid}-{outputid}.ts' }],
});

it('round-trips processes and metadata and leaves no temp file behind', () => {
  const dir = tempDir();
  const store = new ProcessStore(dir);
  expect(store.load()).toEqual({ version: 1, processes: [], metadata: {} });
  const data = {
    version: 1 as const,
    processes: [{ config, order: 'start' as const, metadata: { a: 1 }, created_at: 1 }],
    metadata: { site: 'x' },
  };
  store.save(data);
  expect(new ProcessStore(dir).load()).toEqual(data);
  expect(readdirSync(dir)).toEqual(['db.json']);
});

it('refuses a corrupt store, keeps it untouched and copies it aside', () => {
  const dir = tempDir();
  writeFileSync(join(dir, 'db.json'), '{"version":1,"processes":[{"config":');
  const error = (() => {
    try {
      new ProcessStore(dir).load();
    } catch (caught) {
      return caught as StoreCorruptError;
    }
  })();
  expect(error).toBeInstanceOf(StoreCorruptError);
  expect(readFileSync(join(dir, 'db.json'), 'utf8')).toBe('{"version":1,"processes":[{"config":');
  expect(error?.backup && existsSync(error.backup)).toBe(true);
});

it('refuses a store of an unknown layout version', () => {
  const dir = tempDir();
  writeFileSync(join(dir, 'db.json'), JSON.stringify({ version: 9, processes: [] }));
  expect(() => new ProcessStore(dir).load()).toThrow(StoreCorruptError);
});

it('matches id globs on the whole id', () => {
  expect(globToRegExp('cam*').test('cam1')).toBe(true);
  expect(globToRegExp('cam?').test('cam12')).toBe(false);
  expect(globToRegExp('a.b').test('axb')).toBe(false);
});
