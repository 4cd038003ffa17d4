import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigStore } from './config-store.js';
import { ConfigInvalidError, ConfigMalformedError, ConfigWriteError } from './errors.js';
import { redacted } from './secrets.js';

const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'dragon-config-'));
  dirs.push(dir);
  return dir;
}
/** A config file in its own directory, with db and disk directories inside it. */
function tempFile(content?: unknown): string {
  const dir = tempDir();
  const file = join(dir, 'config.json');
  if (content !== undefined)
    writeFileSync(file, typeof content === 'string' ? content : JSON.stringify(content));
  return file;
}
/** Environment every store in these tests runs with: its own directories, the machine's PATH. */
function envFor(file: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const dir = join(file, '..');
  return {
    PATH: process.env.PATH,
    CORE_DB_DIR: join(dir, 'db'),
    CORE_STORAGE_DISK_DIR: join(dir, 'disk'),
    ...extra,
  };
}
const saved = (file: string) => JSON.parse(readFileSync(file, 'utf8'));
/** A stand-in for FFmpeg at the process boundary: prints `versionLine` for `-version`. */
function fakeFFmpeg(dir: string, name: string, versionLine: string): string {
  const path = join(dir, name);
  writeFileSync(path, `#!/bin/sh\necho ${JSON.stringify(versionLine)}\n`, { mode: 0o755 });
  return path;
}
function thrown(action: () => unknown): unknown {
  try {
    action();
  } catch (error) {
    return error;
  }
  throw new Error('expected an error');
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => {
      throw new Error('expected a rejection');
    },
    (error: unknown) => error,
  );
}

afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('ConfigStore at boot', () => {
  it("uses datarhei's defaults without a file, and lets the environment win", () => {
    const file = tempFile();
    const store = new ConfigStore(file, envFor(file, { CORE_ADDRESS: '127.0.0.1:7000' }));
    expect(store.config.address).toBe('127.0.0.1:7000');
    expect(store.config.webrtc.enable).toBe(true);
    expect(store.config.storage.memory.auth.username).toBe('admin');
    expect(store.view().overrides.sort()).toEqual(['address', 'db.dir', 'storage.disk.dir']);
  });

  it('writes the generated id and secrets once, so a restart keeps them', async () => {
    const file = tempFile({ name: 'studio' });
    const first = new ConfigStore(file, envFor(file));
    await first.persistGenerated();
    const onDisk = saved(file);
    expect(onDisk.id).toBe(first.config.id);
    expect(onDisk.name).toBe('studio');
    expect(onDisk.api.auth.jwt.secret).toBe(first.config.api.auth.jwt.secret);
    const second = new ConfigStore(file, envFor(file));
    expect(second.config.id).toBe(first.config.id);
    expect(second.config.storage.memory.auth.password).toBe(first.config.storage.memory.auth.password);
  });

  it('refuses to boot with one message per problem, file and environment alike', () => {
    const file = tempFile({ address: 'nonsense', webrtc: { max_viewers: -1 } });
    const error = thrown(() => new ConfigStore(file, envFor(file, { CORE_WEBRTC_ENABLE: 'maybe' })));
    expect(error).toBeInstanceOf(ConfigInvalidError);
    expect((error as ConfigInvalidError).details).toEqual([
      'address: must be host:port or :port',
      expect.stringMatching(/^webrtc.max_viewers: /),
      'environment: CORE_WEBRTC_ENABLE: expected true or false',
    ]);
  });

  it('refuses a file that is not JSON, and an older layout it cannot read', () => {
    expect(() => new ConfigStore(tempFile('{ not json'), {})).toThrow(ConfigInvalidError);
    const old = tempFile({ version: 2 });
    expect(() => new ConfigStore(old, envFor(old))).toThrow(/expecting version 3/);
  });

  it('refuses an FFmpeg binary that is not there', () => {
    const file = tempFile({ ffmpeg: { binary: '/nonexistent/ffmpeg' } });
    const error = thrown(() => new ConfigStore(file, envFor(file))) as ConfigInvalidError;
    expect(error.fields).toEqual({ 'ffmpeg.binary': ['/nonexistent/ffmpeg not found or is not executable'] });
  });
});

describe('ConfigStore.update (PUT /api/v3/config)', async () => {
  const authed = {
    address: '127.0.0.1:8080',
    api: { auth: { enable: true, username: 'admin', password: 's3cret', jwt: { secret: 'jwt-secret' } } },
    webrtc: {
      token: 'viewer-token-x1',
      ice_servers: [
        { urls: 'stun:stun.example.org' },
        { urls: ['turn:turn.example.org'], username: 'u', credential: 'turn-pass' },
      ],
    },
  };

  it('changes only what a partial config names', async () => {
    const file = tempFile(authed);
    const store = new ConfigStore(file, envFor(file));
    const before = store.active;
    await store.update({ log: { level: 'debug' } });
    const after = saved(file);
    expect(after.log.level).toBe('debug');
    expect(after.api.auth).toEqual({ ...before.api.auth, username: 'admin', password: 's3cret' });
    expect(after.address).toBe('127.0.0.1:8080');
    expect(after.webrtc.ice_servers).toEqual(authed.webrtc.ice_servers);
    expect({ ...store.active, log: before.log, created_at: before.created_at }).toEqual(before);
  });

  it('leaves the running config alone until a reload is applied', async () => {
    const file = tempFile(authed);
    const store = new ConfigStore(file, envFor(file));
    await store.update({ log: { level: 'debug' } });
    expect(store.config.log.level).toBe('info');
    expect(store.view().config.log.level).toBe('debug');
    const next = store.reload();
    expect(store.config.log.level).toBe('info');
    store.applied(next);
    expect(store.config.log.level).toBe('debug');
  });

  it('never shows secrets, and keeps them when the redacted config is sent back', async () => {
    const file = tempFile(authed);
    const store = new ConfigStore(file, envFor(file));
    const view = store.view();
    const text = JSON.stringify(view);
    for (const secret of ['s3cret', 'jwt-secret', 'viewer-token-x1', 'turn-pass'])
      expect(text).not.toContain(secret);
    expect(view.config.webrtc.ice_servers[1]!.credential).toBe(redacted);
    // The Restreamer UI builds publish and HLS URLs from these, as datarhei shows them.
    expect(view.config.storage.memory.auth.password).toBe(store.config.storage.memory.auth.password);

    // Sent back whole, in another order, with one change.
    const body = structuredClone(view.config) as unknown as Record<string, unknown>;
    (body.webrtc as { ice_servers: unknown[] }).ice_servers.reverse();
    await store.update({ ...body, name: 'renamed' });
    const after = saved(file);
    expect(after.name).toBe('renamed');
    expect(after.api.auth.password).toBe('s3cret');
    expect(after.api.auth.jwt.secret).toBe('jwt-secret');
    expect(after.webrtc.token).toBe('viewer-token-x1');
    expect(after.webrtc.ice_servers[0].credential).toBe('turn-pass');
    expect(readFileSync(file, 'utf8')).not.toContain(redacted);
  });

  it('refuses the placeholder for a secret it never had', async () => {
    const file = tempFile(authed);
    const store = new ConfigStore(file, envFor(file));
    const error = (await rejection(
      store.update({
        webrtc: { ice_servers: [{ urls: 'turn:other.example.org', username: 'x', credential: redacted }] },
      }),
    )) as ConfigInvalidError;
    expect(Object.keys(error.fields)).toEqual(['webrtc.ice_servers']);
    expect(saved(file).webrtc.ice_servers).toEqual(authed.webrtc.ice_servers);
  });

  it("answers type errors as datarhei's 400 and value errors as its per-field 409, writing nothing", async () => {
    const file = tempFile(authed);
    const store = new ConfigStore(file, envFor(file));
    const before = readFileSync(file, 'utf8');
    expect(await rejection(store.update({ address: 12 }))).toBeInstanceOf(ConfigMalformedError);
    expect(await rejection(store.update([1, 2]))).toBeInstanceOf(ConfigMalformedError);
    expect(await rejection(store.update({ version: 2 }))).toBeInstanceOf(ConfigMalformedError);
    const invalid = (await rejection(
      store.update({
        address: 'nonsense',
        api: { auth: { password: '' } },
        ffmpeg: { binary: '/nonexistent/ffmpeg' },
      }),
    )) as ConfigInvalidError;
    expect(invalid).toBeInstanceOf(ConfigInvalidError);
    expect(invalid.fields).toEqual({
      address: ['must be host:port or :port'],
      'api.auth.enable': ['api.auth.username and api.auth.password must be set'],
    });
    const binary = (await rejection(
      store.update({ ffmpeg: { binary: '/nonexistent/ffmpeg' } }),
    )) as ConfigInvalidError;
    expect(binary.fields).toEqual({
      'ffmpeg.binary': ['/nonexistent/ffmpeg not found or is not executable'],
    });
    expect(readFileSync(file, 'utf8')).toBe(before);
  });

  it('runs an FFmpeg binary it changes to, and saves nothing when that is not a usable FFmpeg', async () => {
    const file = tempFile(authed);
    const store = new ConfigStore(file, envFor(file));
    const before = readFileSync(file, 'utf8');
    // Exists and is executable, so the environment check passes; it prints no version.
    const refused = (await rejection(
      store.update({ ffmpeg: { binary: '/bin/true' } }),
    )) as ConfigInvalidError;
    expect(refused).toBeInstanceOf(ConfigInvalidError);
    expect(refused.fields).toEqual({
      'ffmpeg.binary': ['FFmpeg "/bin/true" is unusable: its version could not be read'],
    });
    const old = fakeFFmpeg(join(file, '..'), 'old-ffmpeg', 'ffmpeg version 4.3.1 Copyright (c) 2000-2020');
    const tooOld = (await rejection(store.update({ ffmpeg: { binary: old } }))) as ConfigInvalidError;
    expect(tooOld.fields['ffmpeg.binary']?.[0]).toContain('version 4.3 is older than 4.4');
    expect(readFileSync(file, 'utf8')).toBe(before);
    expect(store.active.ffmpeg.binary).toBe('ffmpeg');

    const usable = fakeFFmpeg(join(file, '..'), 'ffmpeg7', 'ffmpeg version 7.1.1 Copyright (c) 2000-2025');
    await store.update({ ffmpeg: { binary: usable } });
    expect(saved(file).ffmpeg.binary).toBe(usable);
  });

  it('keeps the file value of a field the environment sets when the client sends the shown value back', async () => {
    const file = tempFile({ address: '127.0.0.1:9000' });
    const store = new ConfigStore(file, envFor(file, { CORE_ADDRESS: '127.0.0.1:7000' }));
    await store.update(store.view().config);
    expect(saved(file).address).toBe('127.0.0.1:9000');
    expect(saved(file).db).toEqual({ dir: './config' });
    await store.update({ address: '127.0.0.1:9100' });
    expect(saved(file).address).toBe('127.0.0.1:9100');
    expect(store.active.address).toBe('127.0.0.1:7000');
  });

  it('ignores prototype keys in a body', async () => {
    const file = tempFile(authed);
    const store = new ConfigStore(file, envFor(file));
    await store.update(
      JSON.parse('{"__proto__":{"polluted":true},"log":{"constructor":{"x":1},"level":"warn"}}'),
    );
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(saved(file).log.level).toBe('warn');
  });

  it('applies updates made at the same time one after another, losing none', async () => {
    const file = tempFile(authed);
    const store = new ConfigStore(file, envFor(file));

    await Promise.all([
      store.update({ log: { level: 'debug' } }),
      store.update({ name: 'renamed' }),
      store.update({ webrtc: { max_viewers: 7 } }),
    ]);

    expect(saved(file)).toMatchObject({
      log: { level: 'debug' },
      name: 'renamed',
      webrtc: { max_viewers: 7 },
    });
    expect(store.active).toMatchObject({
      log: { level: 'debug' },
      name: 'renamed',
      webrtc: { max_viewers: 7 },
    });
  });

  it('answers ConfigWriteError when the file cannot be written, and keeps the saved config', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'not-a-directory'), '');
    const file = join(dir, 'not-a-directory', 'config.json');
    const store = new ConfigStore(file, envFor(join(dir, 'config.json')));

    const error = await rejection(store.update({ name: 'renamed' }));

    expect(error).toBeInstanceOf(ConfigWriteError);
    expect(store.active.name).not.toBe('renamed');
    await expect(store.update({ name: 'again' })).rejects.toBeInstanceOf(ConfigWriteError);
  });

  it('removes at boot the temp files a killed server left beside the config file', async () => {
    const file = tempFile(authed);
    const deadPid = 2 ** 22 + 7;
    writeFileSync(`${file}.${deadPid}.tmp`, '{"half":');
    const store = new ConfigStore(file, envFor(file));

    await store.persistGenerated();

    expect(readdirSync(join(file, '..')).filter((name) => name.endsWith('.tmp'))).toEqual([]);
  });
});
