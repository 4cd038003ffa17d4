import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  FFmpegUnavailableError,
  MetadataKeyInvalidError,
  MetadataTooLargeError,
  ProcessConfigInvalidError,
  ProcessNotFoundError,
  StoreFullError,
} from '../src/index.js';
import { cleanup, createManager, fakeFfmpeg, tempDir, waitFor } from './helpers.js';

afterEach(cleanup);

const process = (extra: Record<string, unknown> = {}) => ({
  id: 'p',
  input: [{ id: 'in', address: 'rtsp://127.0.0.1/cam' }],
  output: [{ id: 'out', address: '-', options: ['-f', 'null'] }],
  autostart: true,
  ...extra,
});

describe('supervision with a fake FFmpeg', () => {
  it('marks a non-zero exit failed and reconnects after the delay', async () => {
    const { binary } = fakeFfmpeg('echo "boom: connection refused" >&2; exit 3');
    const manager = await createManager({ ffmpegBinary: binary, skipSkills: true });
    const starts: Record<string, number> = {};
    manager.on('started', (id) => {
      starts[id] = (starts[id] ?? 0) + 1;
    });
    await manager.add(process({ reconnect: true, reconnect_delay_seconds: 1 }));
    await waitFor('a failure', () => manager.getState('p').exec === 'failed');
    const state = manager.getState('p');
    expect(state.last_logline).toBe('boom: connection refused');
    expect(state.reconnect_seconds).toBeGreaterThanOrEqual(0);
    await waitFor('a second start', () => (starts.p ?? 0) >= 2);
    await manager.command('p', 'stop');
    const afterStop = starts.p;
    expect(manager.getState('p').reconnect_seconds).toBe(-1);
    // A witness with the same delay, added after the stop: once it has come back, a reconnect of
    // the stopped process (its timer armed earlier) would have come too.
    await manager.add(process({ id: 'witness', reconnect: true, reconnect_delay_seconds: 1 }));
    await waitFor('the witness reconnected', () => (starts.witness ?? 0) >= 2);
    expect(starts.p).toBe(afterStop);
  });

  it('does not reconnect without reconnect, but restart always brings it back', async () => {
    const { binary } = fakeFfmpeg('exit 1');
    const manager = await createManager({ ffmpegBinary: binary, skipSkills: true });
    let starts = 0;
    manager.on('started', () => starts++);
    await manager.add(process({ reconnect: false }));
    await waitFor('a failure', () => manager.getState('p').exec === 'failed');
    expect(manager.getState('p').reconnect_seconds).toBe(-1);
    await manager.command('p', 'restart');
    expect(starts).toBe(2);
  });

  it('kills a stale FFmpeg whose frame counter stopped', async () => {
    const { binary } = fakeFfmpeg('progress 1; progress 2; while true; do sleep 0.1; done');
    const manager = await createManager({ ffmpegBinary: binary, skipSkills: true });
    await manager.add(process({ stale_timeout_seconds: 1 }));
    await waitFor('the stale kill', () => manager.getState('p').exec === 'killed', 10_000);
    const log = manager.getReport('p').log.map(([, line]) => line);
    expect(log.some((line) => line.includes('stale'))).toBe(true);
  });

  it('logs garbage on stderr without crashing', async () => {
    const { binary } = fakeFfmpeg(
      "head -c 3000 /dev/urandom >&2; printf '\\nframe=x\\n=\\n\\x00\\xff\\n' >&3; printf '\\ndone\\n' >&2; exit 0",
    );
    const manager = await createManager({ ffmpegBinary: binary, skipSkills: true });
    await manager.add(process());
    await waitFor('the exit', () => manager.getState('p').exec === 'finished');
    expect(manager.getState('p').last_logline).toBe('done');
    expect(manager.getReport('p').prelude.length).toBeGreaterThan(1);
  });

  it('stops with SIGINT and reports finished', async () => {
    const { binary } = fakeFfmpeg('n=0; while true; do n=$((n+1)); progress $n; sleep 0.1; done');
    const manager = await createManager({ ffmpegBinary: binary, skipSkills: true });
    await manager.add(process());
    await waitFor('progress', () => manager.getState('p').progress.frame > 2);
    await manager.command('p', 'stop');
    expect(manager.getState('p').exec).toBe('finished');
  });

  it("calls a run finished that died of the stop's SIGINT before it could answer it", async () => {
    // `exec` drops the script's trap: sleep dies of SIGINT, as FFmpeg does in its first milliseconds.
    const { binary } = fakeFfmpeg('exec sleep 60');
    const exits: unknown[] = [];
    const manager = await createManager({
      ffmpegBinary: binary,
      skipSkills: true,
      hooks: { onStop: (stop) => void exits.push(stop.exit) },
    });
    await manager.add(process());
    await waitFor('running', () => manager.getState('p').exec === 'running');
    await manager.command('p', 'stop');
    expect(exits).toEqual([{ code: null, signal: 'SIGINT', state: 'finished' }]);
  });

  it('SIGKILLs an FFmpeg that ignores SIGINT and calls it finished', async () => {
    const { binary } = fakeFfmpeg("trap '' INT; while true; do sleep 0.1; done");
    const manager = await createManager({ ffmpegBinary: binary, skipSkills: true, stopTimeoutMs: 300 });
    await manager.add(process());
    await waitFor('running', () => manager.getState('p').exec === 'running');
    await manager.command('p', 'stop');
    expect(manager.getState('p').exec).toBe('finished');
  });
});

describe('a start that cannot spawn', () => {
  it('is a failed start with the reason in the log, never started, and backs off instead of spinning', async () => {
    const binary = join(tempDir(), 'no-such-ffmpeg');
    const manager = await createManager({ ffmpegBinary: binary, skipSkills: true });
    let starts = 0;
    manager.on('started', () => starts++);
    await manager.add(process({ reconnect: true, reconnect_delay_seconds: 0 }));
    await waitFor('the failed start', () => manager.getState('p').exec === 'failed');
    const state = manager.getState('p');
    expect(state.last_logline).toContain('could not be started');
    expect(state.last_logline).toContain('ENOENT');
    // A reconnect delay of 0 would retry at once; a failed start waits at least a second.
    expect(state.reconnect_seconds).toBeGreaterThanOrEqual(1);
    expect(manager.getReport('p').history.at(-1)?.log.at(-1)?.[1]).toContain(binary);
    expect(starts).toBe(0);
  });

  it('fails an FFmpeg that is not executable the same way', async () => {
    const binary = join(tempDir(), 'ffmpeg');
    writeFileSync(binary, '#!/bin/sh\n', { mode: 0o644 });
    const manager = await createManager({ ffmpegBinary: binary, skipSkills: true });
    let starts = 0;
    manager.on('started', () => starts++);
    await manager.add(process());
    await waitFor('the failed start', () => manager.getState('p').exec === 'failed');
    expect(manager.getState('p').last_logline).toContain('EACCES');
    expect(starts).toBe(0);
  });
});

describe('what FFmpeg may touch', () => {
  it("gives FFmpeg none of the server's environment beyond what it needs", async () => {
    const dir = tempDir();
    const { binary } = fakeFfmpeg(`env > ${JSON.stringify(join(dir, 'env'))}; exit 0`);
    globalThis.process.env.DRAGON_TEST_SECRET = 'hunter2';
    try {
      const manager = await createManager({ ffmpegBinary: binary, skipSkills: true });
      await manager.add(process());
      await waitFor('the env dump', () => manager.getState('p').exec === 'finished');
    } finally {
      delete globalThis.process.env.DRAGON_TEST_SECRET;
    }
    const env = readFileSync(join(dir, 'env'), 'utf8');
    expect(env).not.toContain('hunter2');
    expect(env).not.toMatch(/^HOME=/m);
    expect(env).toMatch(/^PATH=/m);
  });

  it('refuses a process that reads /proc, the store or a protected file, with a 400-class error', async () => {
    const dataDir = tempDir();
    const { binary } = fakeFfmpeg('exit 0');
    const configFile = join(dataDir, 'config.json');
    const manager = await createManager({
      dataDir,
      ffmpegBinary: binary,
      skipSkills: true,
      placeholders: { diskfs: dataDir },
      access: { protectedPaths: [configFile] },
    });
    for (const address of [
      '/proc/self/environ',
      configFile,
      '{diskfs}/store/metadata.json',
      '{diskfs}/store/processes',
      'file:/proc/1/environ',
    ]) {
      await expect(manager.add(process({ input: [{ id: 'in', address }] })), address).rejects.toMatchObject({
        code: 'FFMPEG_ACCESS_DENIED',
      });
    }
    await expect(
      manager.add(process({ output: [{ id: 'out', address: '/etc/evil.ts', options: ['-f', 'mpegts'] }] })),
    ).rejects.toMatchObject({ code: 'FFMPEG_ACCESS_DENIED' });
    expect(manager.list()).toEqual([]);
  });
});

describe('input hygiene', () => {
  it.each([
    ['the id "."', { id: '.' }],
    ['the id ".."', { id: '..' }],
    ['a NUL in an option', { options: ['-loglevel', 'info\u0000'] }],
    ['a NUL in an address', { input: [{ id: 'in', address: 'rtsp://cam\u0000/x' }] }],
    [
      'an escape character in an output option',
      { output: [{ id: 'out', address: '-', options: ['-f\u001b'] }] },
    ],
  ])('refuses %s at validation', async (_name, extra) => {
    const { binary } = fakeFfmpeg('exit 0');
    const manager = await createManager({ ffmpegBinary: binary, skipSkills: true });
    await expect(manager.add(process(extra))).rejects.toBeInstanceOf(ProcessConfigInvalidError);
    expect(manager.list()).toEqual([]);
  });

  it('refuses a rename onto the id "." or ".."', async () => {
    const { binary } = fakeFfmpeg('exit 0');
    const manager = await createManager({ ffmpegBinary: binary, skipSkills: true });
    await manager.add(process({ autostart: false }));
    for (const id of ['.', '..']) {
      await expect(manager.update('p', process({ id, autostart: false })), id).rejects.toBeInstanceOf(
        ProcessConfigInvalidError,
      );
    }
    expect(manager.list()).toEqual(['p']);
  });

  it('loads a store saved before "." and control characters were refused, says so, and refuses new ones', async () => {
    const dataDir = tempDir();
    const stored = (config: Record<string, unknown>) => ({
      config: {
        ...process({ autostart: false }),
        output: [{ id: 'out', address: '-', options: ['-f', 'null'], cleanup: [] }],
        ...config,
      },
      order: 'stop',
      metadata: {},
      created_at: 1,
    });
    writeFileSync(
      join(dataDir, 'db.json'),
      JSON.stringify({
        version: 1,
        processes: [stored({ id: '.' }), stored({ id: 'nul', options: ['-loglevel', 'info\u0000'] })],
        metadata: {},
      }),
    );
    const warnings: { processId?: string }[] = [];
    const logger = { info() {}, error() {}, warn: (object: object) => warnings.push(object) };
    const { binary } = fakeFfmpeg('exit 0');

    const manager = await createManager({ dataDir, ffmpegBinary: binary, skipSkills: true, logger });

    expect(manager.list()).toEqual(['.', 'nul']);
    expect(warnings.map((warning) => warning.processId).sort()).toEqual(['.', 'nul']);
    await expect(manager.add(process({ id: '..' }))).rejects.toBeInstanceOf(ProcessConfigInvalidError);
    await expect(manager.update('nul', process({ id: 'nul' }))).resolves.toMatchObject({ id: 'nul' });
    await manager.remove('.');
    expect(manager.list()).toEqual(['nul']);
  });

  it('keeps metadata keys like __proto__ and constructor ordinary: no 500, no phantom values', async () => {
    const dataDir = tempDir();
    const { binary } = fakeFfmpeg('exit 0');
    const manager = await createManager({ dataDir, ffmpegBinary: binary, skipSkills: true });
    await manager.add(process({ autostart: false }));
    expect(manager.getMetadata('p', 'constructor')).toBeUndefined();
    expect(manager.getMetadata('p', 'toString')).toBeUndefined();
    expect(manager.getGlobalMetadata('hasOwnProperty')).toBeUndefined();
    await manager.setMetadata('p', '__proto__', { polluted: true });
    await manager.setGlobalMetadata('constructor', 'mine');
    expect(manager.getMetadata('p', '__proto__')).toEqual({ polluted: true });
    expect(Object.keys(manager.getMetadata('p') as object)).toEqual(['__proto__']);
    expect((manager.getMetadata('p') as { polluted?: unknown }).polluted).toBeUndefined();
    expect(({} as { polluted?: unknown }).polluted).toBeUndefined();
    await manager.close();

    const reloaded = await createManager({ dataDir, ffmpegBinary: binary, skipSkills: true });
    expect(reloaded.getMetadata('p', '__proto__')).toEqual({ polluted: true });
    expect(reloaded.getGlobalMetadata('constructor')).toBe('mine');
  });

  it('refuses metadata keys that are not path segments and values or stores over their caps', async () => {
    const { binary } = fakeFfmpeg('exit 0');
    const manager = await createManager({
      ffmpegBinary: binary,
      skipSkills: true,
      maxMetadataBytes: 1000,
      maxStoreBytes: 20_000,
    });
    await manager.add(process({ autostart: false }));
    await expect(manager.setMetadata('p', '..', 1)).rejects.toBeInstanceOf(MetadataKeyInvalidError);
    await expect(manager.setMetadata('p', 'big', 'x'.repeat(2000))).rejects.toBeInstanceOf(
      MetadataTooLargeError,
    );
    let refused: unknown;
    let stored = 0;
    while (!refused && stored < 100) {
      await manager.setMetadata('p', `k${stored}`, 'x'.repeat(900)).then(
        () => stored++,
        (error: unknown) => {
          refused = error;
        },
      );
    }
    expect(refused).toBeInstanceOf(StoreFullError);
    expect(stored).toBeLessThan(22);
    expect(manager.getMetadata('p', `k${stored}`)).toBeUndefined();
    await manager.setMetadata('p', 'k0', null);
    await manager.setMetadata('p', `k${stored}`, 'x'.repeat(900));
  });

  it('removes the temp files of store writes a SIGKILLed server left when it loads', async () => {
    const dataDir = tempDir();
    const { binary } = fakeFfmpeg('exit 0');
    const first = await createManager({ dataDir, ffmpegBinary: binary, skipSkills: true });
    await first.add(process({ autostart: false }));
    await first.close();
    const processes = join(dataDir, 'store', 'processes');
    const [file] = readdirSync(processes);
    writeFileSync(join(processes, `${file}.${2 ** 22 + 1}.tmp`), '{"version":3,"pro');
    writeFileSync(join(dataDir, 'store', `metadata.json.${2 ** 22 + 1}.tmp`), '{"version":3');
    // And one of the single-file store of earlier releases.
    writeFileSync(join(dataDir, `db.json.${2 ** 22 + 1}.tmp`), '{"version":1,"pro');
    const manager = await createManager({ dataDir, ffmpegBinary: binary, skipSkills: true });
    expect(manager.list()).toEqual(['p']);
    const temps = [dataDir, join(dataDir, 'store'), processes].flatMap((dir) =>
      readdirSync(dir).filter((name) => name.endsWith('.tmp')),
    );
    expect(temps).toEqual([]);
  });

  it('answers a many-star refpattern against a long reference', async () => {
    const { binary } = fakeFfmpeg('exit 0');
    const manager = await createManager({ ffmpegBinary: binary, skipSkills: true });
    await manager.add(process({ autostart: false, reference: 'a'.repeat(1024) }));
    for (let round = 0; round < 200; round++) {
      expect(manager.list({ referencePattern: '*a*a*a*a*a*a*a*a*a*a*b' })).toEqual([]);
    }
    expect(manager.list({ referencePattern: '*a*a*' })).toEqual(['p']);
  });
});

describe('the store', () => {
  it('writes a metadata change to the file of that process only, whatever the size of the store', async () => {
    const dataDir = tempDir();
    const { binary } = fakeFfmpeg('exit 0');
    const manager = await createManager({ dataDir, ffmpegBinary: binary, skipSkills: true });
    const ui = { state: 'x'.repeat(100_000) };
    for (let i = 0; i < 60; i++) {
      await manager.add(process({ id: `p${i}`, autostart: false }));
      await manager.setMetadata(`p${i}`, 'restreamer-ui', ui);
    }
    const processes = join(dataDir, 'store', 'processes');
    // A write is atomic (temp file, rename): the file written has a new inode, the others keep theirs.
    const files = () =>
      new Map(
        readdirSync(processes).map((name) => {
          const stat = statSync(join(processes, name));
          return [name, { inode: stat.ino, bytes: stat.size }];
        }),
      );
    const before = files();
    const storeBytes = [...before.values()].reduce((sum, file) => sum + file.bytes, 0);

    await manager.setMetadata('p7', 'note', 'one key');

    const after = files();
    const written = [...after].filter(([name, file]) => before.get(name)?.inode !== file.inode);
    expect(written).toHaveLength(1);
    expect(JSON.parse(readFileSync(join(processes, written[0]![0]), 'utf8')).process.metadata.note).toBe(
      'one key',
    );
    // What one change writes is that process's record (~100 KB), not the store (~6 MB).
    expect(storeBytes).toBeGreaterThan(6_000_000);
    expect(written[0]![1].bytes).toBeLessThan(110_000);
  });
});

describe('errors', () => {
  it('answers unknown ids and invalid configs with typed errors', async () => {
    const { binary } = fakeFfmpeg('exit 0');
    const manager = await createManager({ ffmpegBinary: binary, skipSkills: true });
    expect(() => manager.getState('nope')).toThrow(ProcessNotFoundError);
    await expect(manager.add({ input: [] } as never)).rejects.toBeInstanceOf(ProcessConfigInvalidError);
    await expect(manager.command('nope', 'start')).rejects.toBeInstanceOf(ProcessNotFoundError);
  });

  it('refuses to start without a working FFmpeg', async () => {
    await expect(createManager({ ffmpegBinary: `${tempDir()}/no-such-ffmpeg` })).rejects.toBeInstanceOf(
      FFmpegUnavailableError,
    );
    const { binary } = fakeFfmpeg('echo "ffmpeg version 3.4.8 Copyright"');
    await expect(createManager({ ffmpegBinary: binary })).rejects.toThrow(/older than 4.4/);
  });
});
