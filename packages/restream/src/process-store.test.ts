import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { processConfigSchema } from './config-schema.js';
import { StoreCorruptError } from './errors.js';
import { ProcessStore, processJson } from './process-store.js';

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

const caught = async (promise: Promise<unknown>) => {
  try {
    await promise;
  } catch (error) {
    return error as StoreCorruptError;
  }
};

it('round-trips processes and metadata, __proto__ keys included, and leaves no temp file behind', async () => {
  const dir = tempDir();
  const store = new ProcessStore(dir);
  expect(await store.load()).toEqual({ version: 2, processes: [], metadata: [] });
  const line = processJson({
    config,
    order: 'start',
    metadataJson: '{"a":1,"__proto__":{"polluted":true}}',
    createdAt: 1,
    updatedAt: 2,
  });
  await store.save(() => [{ stored: { text: line, bytes: line.length } }], { json: '{"site":"x"}' });
  const loaded = await new ProcessStore(dir).load();
  expect(loaded.processes).toEqual([
    {
      config,
      order: 'start',
      metadata: [
        ['a', 1],
        ['__proto__', { polluted: true }],
      ],
      created_at: 1,
      updated_at: 2,
    },
  ]);
  expect(loaded.metadata).toEqual([['site', 'x']]);
  expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  expect(readdirSync(dir)).toEqual(['db.json']);
});

it('reads a store written before updated_at existed, with updated_at = created_at', async () => {
  const dir = tempDir();
  writeFileSync(
    join(dir, 'db.json'),
    JSON.stringify({ version: 1, processes: [{ config, order: 'stop', metadata: {}, created_at: 7 }] }),
  );
  const loaded = await new ProcessStore(dir).load();
  expect(loaded.processes[0]).toMatchObject({ created_at: 7, updated_at: 7 });
});

it('reads a default webrtc block of a version 1 store as absent, and keeps one that says something', async () => {
  const dir = tempDir();
  const unset = processConfigSchema.parse({ ...config, id: 'ui', webrtc: {} });
  const set = processConfigSchema.parse({ ...config, id: 'cam', webrtc: { enabled: true } });
  const stored = (entry: typeof config) => ({ config: entry, order: 'start', metadata: {}, created_at: 1 });
  writeFileSync(
    join(dir, 'db.json'),
    JSON.stringify({ version: 1, processes: [stored(unset), stored(set)] }),
  );

  const loaded = await new ProcessStore(dir).load();

  expect(loaded.version).toBe(2);
  expect(loaded.processes.map((process) => process.config.webrtc?.enabled)).toEqual([undefined, true]);
  expect(loaded.processes[0]!.config).not.toHaveProperty('webrtc');
});

it('removes a temp file a SIGKILLed server left at load', async () => {
  const dir = tempDir();
  writeFileSync(join(dir, 'db.json'), JSON.stringify({ version: 1, processes: [] }));
  writeFileSync(join(dir, `db.json.${2 ** 22 + 1}.tmp`), '{"version":1,"proc');
  await new ProcessStore(dir).load();
  expect(readdirSync(dir)).toEqual(['db.json']);
});

it('refuses a corrupt store, keeps it untouched and copies it aside', async () => {
  const dir = tempDir();
  writeFileSync(join(dir, 'db.json'), '{"version":1,"processes":[{"config":');
  const error = await caught(new ProcessStore(dir).load());
  expect(error).toBeInstanceOf(StoreCorruptError);
  expect(readFileSync(join(dir, 'db.json'), 'utf8')).toBe('{"version":1,"processes":[{"config":');
  expect(error?.backup && existsSync(error.backup)).toBe(true);
});
