import { createHash } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
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

const configOf = (id: string) =>
  processConfigSchema.parse({
    id,
    reference: 'door',
    input: [{ id: 'in', address: 'rtsp://{reference}' }],
    output: [{ id: 'out', address: '{diskfs}/{processid}-{outputid}.ts' }],
  });
const config = configOf('cam');

/** A process as the manager hands it to the store. */
function line(id: string, metadataJson = '{}', createdAt = 1) {
  const text = processJson({ config: configOf(id), order: 'start', metadataJson, createdAt, updatedAt: 2 });
  return { id, stored: { text, bytes: Buffer.byteLength(text) } };
}
const fileOf = (dir: string, id: string) =>
  join(dir, 'store', 'processes', `${createHash('sha256').update(id).digest('hex')}.json`);

const caught = async (promise: Promise<unknown>) => {
  try {
    await promise;
  } catch (error) {
    return error as StoreCorruptError;
  }
};

it('round-trips processes and metadata, __proto__ keys included, one file each, no temp file left', async () => {
  const dir = tempDir();
  const store = new ProcessStore(dir);
  expect(await store.load()).toEqual({ processes: [], metadata: [] });
  await store.writeProcess(line('cam', '{"a":1,"__proto__":{"polluted":true}}'));
  await store.writeMetadata({ json: '{"site":"x"}' });
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
  expect(readdirSync(join(dir, 'store')).sort()).toEqual(['metadata.json', 'processes']);
  expect(readdirSync(join(dir, 'store', 'processes'))).toEqual([fileOf(dir, 'cam').split('/').pop()]);
});

it('writes only the file of the process that changed, however big the rest of the store is', async () => {
  const dir = tempDir();
  const store = new ProcessStore(dir);
  await store.load();
  const big = JSON.stringify({ ui: 'x'.repeat(100_000) });
  for (let i = 0; i < 50; i++) await store.writeProcess(line(`p${i}`, big));
  // An atomic write replaces the file: a new inode. Every other file keeps its own.
  const inodes = () =>
    new Map(
      readdirSync(join(dir, 'store', 'processes')).map((name) => [
        name,
        statSync(join(dir, 'store', 'processes', name)).ino,
      ]),
    );
  const before = inodes();
  const changed = line('p7', `{"ui":${JSON.stringify('x'.repeat(100_000))},"k":1}`);
  await store.writeProcess(changed);
  const after = inodes();
  const rewritten = [...after].filter(([name, inode]) => before.get(name) !== inode).map(([name]) => name);
  expect(rewritten).toEqual([fileOf(dir, 'p7').split('/').pop()]);
  // What was written is that process's record (≈ 100 KB), not the store (≈ 5 MB).
  expect(statSync(fileOf(dir, 'p7')).size).toBeLessThan(changed.stored.bytes + 200);
});

it('migrates the single db.json of earlier releases, every process and all metadata kept', async () => {
  const dir = tempDir();
  // Written as text: a `__proto__` key in an object literal would be a prototype, not a key.
  const legacy =
    `{"version":1,"processes":[` +
    `{"config":${JSON.stringify(configOf('b'))},"order":"stop","metadata":{"ui":{"x":1},"__proto__":2},"created_at":7},` +
    `{"config":${JSON.stringify(configOf('a'))},"order":"start","metadata":{},"created_at":9,"updated_at":10}` +
    `],"metadata":{"site":"x"}}`;
  writeFileSync(join(dir, 'db.json'), legacy);
  const loaded = await new ProcessStore(dir).load();
  expect(loaded.processes.map((p) => [p.config.id, p.order, p.metadata, p.created_at, p.updated_at])).toEqual(
    [
      [
        'b',
        'stop',
        [
          ['ui', { x: 1 }],
          ['__proto__', 2],
        ],
        7,
        7,
      ],
      ['a', 'start', [], 9, 10],
    ],
  );
  expect(loaded.metadata).toEqual([['site', 'x']]);
  expect(existsSync(join(dir, 'db.json'))).toBe(false);
  expect(existsSync(join(dir, 'store', 'db.json.migrated'))).toBe(true);
  expect(await new ProcessStore(dir).load()).toEqual(loaded);
});

it('reads a default webrtc block of a version 1 db.json as absent, and keeps one that says something', async () => {
  const dir = tempDir();
  const unset = processConfigSchema.parse({ ...config, id: 'ui', webrtc: {} });
  const set = processConfigSchema.parse({ ...config, id: 'cam', webrtc: { enabled: true } });
  const stored = (entry: typeof config) => ({ config: entry, order: 'start', metadata: {}, created_at: 1 });
  writeFileSync(
    join(dir, 'db.json'),
    JSON.stringify({ version: 1, processes: [stored(unset), stored(set)] }),
  );

  const loaded = await new ProcessStore(dir).load();

  expect(loaded.processes.map((process) => [process.config.id, process.config.webrtc?.enabled])).toEqual([
    ['cam', true],
    ['ui', undefined],
  ]);
  expect(loaded.processes[1]!.config).not.toHaveProperty('webrtc');
});

it('runs a migration a crash cut off again, from db.json, which is the store until it is moved', async () => {
  const dir = tempDir();
  writeFileSync(
    join(dir, 'db.json'),
    JSON.stringify({
      version: 1,
      processes: [{ config, order: 'start', metadata: {}, created_at: 1 }],
      metadata: {},
    }),
  );
  // What a crash mid-migration leaves: a half-written temp file and a stray process file.
  mkdirSync(join(dir, 'store', 'processes'), { recursive: true });
  writeFileSync(`${fileOf(dir, 'cam')}.${2 ** 22 + 1}.tmp`, '{"version":3,"inc');
  const stray = new ProcessStore(join(dir, 'elsewhere'));
  await stray.load();
  await stray.writeProcess(line('stray'));
  writeFileSync(fileOf(dir, 'stray'), readFileSync(fileOf(join(dir, 'elsewhere'), 'stray')));
  const loaded = await new ProcessStore(dir).load();
  expect(loaded.processes.map((p) => p.config.id)).toEqual(['cam']);
  expect(readdirSync(join(dir, 'store', 'processes'))).toEqual([fileOf(dir, 'cam').split('/').pop()]);
});

it('keeps the newer file of a rename a crash cut off between writing the new file and deleting the old', async () => {
  const dir = tempDir();
  const store = new ProcessStore(dir);
  await store.load();
  await store.writeProcess(line('old'));
  const oldText = readFileSync(fileOf(dir, 'old'));
  await store.renameProcess('old', line('new'));
  expect(existsSync(fileOf(dir, 'old'))).toBe(false);
  // The crash: the old file is still there.
  writeFileSync(fileOf(dir, 'old'), oldText);
  const loaded = await new ProcessStore(dir).load();
  expect(loaded.processes.map((p) => p.config.id)).toEqual(['new']);
  expect(existsSync(fileOf(dir, 'old'))).toBe(false);
});

it('keeps one file per process when writes race a rename', async () => {
  const dir = tempDir();
  const store = new ProcessStore(dir);
  await store.load();
  const runner = { ...line('old') };
  await store.writeProcess(runner);
  // A write of the old name still pending, the rename, and a change written during it.
  const pending = store.writeProcess(runner);
  Object.assign(runner, line('new'));
  const renamed = store.renameProcess('old', runner);
  const during = store.writeProcess(runner);
  await Promise.all([pending, renamed, during]);
  expect(readdirSync(join(dir, 'store', 'processes'))).toEqual([fileOf(dir, 'new').split('/').pop()]);
  expect((await new ProcessStore(dir).load()).processes.map((p) => p.config.id)).toEqual(['new']);
});

it('deletes the file of a removed process', async () => {
  const dir = tempDir();
  const store = new ProcessStore(dir);
  await store.load();
  await store.writeProcess(line('a'));
  await store.writeProcess(line('b'));
  await store.removeProcess('a');
  expect((await new ProcessStore(dir).load()).processes.map((p) => p.config.id)).toEqual(['b']);
});

it('refuses a corrupt store file, keeps it untouched and copies it aside', async () => {
  const dir = tempDir();
  writeFileSync(join(dir, 'db.json'), '{"version":1,"processes":[{"config":');
  const legacy = await caught(new ProcessStore(dir).load());
  expect(legacy).toBeInstanceOf(StoreCorruptError);
  expect(readFileSync(join(dir, 'db.json'), 'utf8')).toBe('{"version":1,"processes":[{"config":');
  expect(legacy?.backup && existsSync(legacy.backup)).toBe(true);

  const other = tempDir();
  const store = new ProcessStore(other);
  await store.load();
  await store.writeProcess(line('cam'));
  writeFileSync(fileOf(other, 'cam'), '{"version":3,"incarnation":');
  const error = await caught(new ProcessStore(other).load());
  expect(error).toBeInstanceOf(StoreCorruptError);
  expect(error?.file).toBe(fileOf(other, 'cam'));
  expect(readFileSync(fileOf(other, 'cam'), 'utf8')).toBe('{"version":3,"incarnation":');
});
