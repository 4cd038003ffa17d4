import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  childProcesses,
  jsonBody,
  type RunningServer,
  startServer,
  stopAllServers,
  waitFor,
} from '@dragon/test-helpers/server';
import { afterAll, describe, expect, it } from 'vitest';

// What a process may make FFmpeg touch, against the built server: the config file (in `db.dir`, beside
// the public disk filesystem), the server's environment, the process store, and writes outside the
// output directories. The pipeline a process would use to publish what it reads is real: FFmpeg's tty
// demuxer copies any input byte for byte into a `-f data` output in the disk filesystem, served over HTTP.

const secrets = {
  password: 'admin-pw-5u9Xq',
  jwt: 'jwt-secret-7QkZr',
  viewerToken: 'viewer-token-3xpLm',
  turn: 'turn-credential-9HvT',
};
const secretEnv = {
  CORE_API_AUTH_ENABLE: 'true',
  CORE_API_AUTH_USERNAME: 'admin',
  CORE_API_AUTH_PASSWORD: secrets.password,
  CORE_API_AUTH_JWT_SECRET: secrets.jwt,
  CORE_WEBRTC_TOKEN: secrets.viewerToken,
  CORE_WEBRTC_ICE_SERVERS: JSON.stringify([
    { urls: 'turn:turn.example.org', username: 'u', credential: secrets.turn },
  ]),
};

const extraDirs: string[] = [];
afterAll(async () => {
  await stopAllServers();
  for (const dir of extraDirs) rmSync(dir, { recursive: true, force: true });
});

async function login(server: RunningServer): Promise<Record<string, string>> {
  const { access_token } = await server.json<{ access_token: string }>(
    '/api/login',
    jsonBody({ username: 'admin', password: secrets.password }),
  );
  return { Authorization: `Bearer ${access_token}`, 'Content-Type': 'application/json' };
}

/** A process that copies `address` byte for byte into `output` (`{diskfs}/…` is served at `/…`). */
function copyProcess(id: string, address: string, output: string, extra: Record<string, unknown> = {}) {
  return {
    id,
    input: [{ id: 'in', address, options: ['-f', 'tty'] }],
    output: [{ id: 'out', address: output, options: ['-map', '0', '-c', 'copy', '-f', 'data'] }],
    autostart: true,
    reconnect: false,
    ...extra,
  };
}

async function add(server: RunningServer, headers: Record<string, string>, process: unknown) {
  const response = await server.api('/api/v3/process', {
    method: 'POST',
    headers,
    body: JSON.stringify(process),
  });
  return { status: response.status, body: await response.text() };
}

async function finished(server: RunningServer, headers: Record<string, string>, id: string) {
  return waitFor(`${id} finished or failed`, async () => {
    const response = await server.api(`/api/v3/process/${id}/state`, { headers });
    const state = (await response.json()) as { exec: string };
    return state.exec === 'finished' || state.exec === 'failed' ? state.exec : undefined;
  });
}

describe('what a process can make FFmpeg read and write', () => {
  it('cannot read the config file, the store or the server environment, nor write outside the output directories', async () => {
    const server = await startServer({ env: secretEnv });
    const headers = await login(server);
    const configFile = join(server.dataDir, 'config.json');
    expect(readFileSync(configFile, 'utf8')).toContain('"jwt"');

    const hostileInputs = [
      '{diskfs}/../config.json',
      configFile,
      `file:${configFile}`,
      '{diskfs}/../store/metadata.json',
      '/proc/self/environ',
      `/proc/${server.child.pid}/environ`,
      'file:/proc/self/environ',
      `concat:{diskfs}/x.ts|${configFile}`,
      '/dev/fd/../environ',
    ];
    for (const address of hostileInputs) {
      const { status, body } = await add(server, headers, copyProcess('leak', address, '{diskfs}/leak.txt'));
      expect(status, address).toBe(400);
      expect(body, address).toContain('may not touch');
    }
    // A protected path hidden in an option or a filter graph.
    const hidden = [
      { ...copyProcess('leak', 'testsrc2', '{diskfs}/leak.txt'), options: ['-attach', configFile] },
      copyProcess('leak', `movie=filename='{diskfs}/../config.json'`, '{diskfs}/leak.txt'),
    ];
    for (const process of hidden) expect((await add(server, headers, process)).status).toBe(400);
    // Writes outside the disk filesystem: over the config, into the store, anywhere else.
    const extraDir = mkdtempSync(join(tmpdir(), 'dragon-outside-'));
    extraDirs.push(extraDir);
    for (const output of [
      '{diskfs}/../config.json',
      '{diskfs}/../store/metadata.json',
      join(extraDir, 'out.txt'),
    ]) {
      const { status } = await add(server, headers, copyProcess('write', 'testsrc2', output));
      expect(status, output).toBe(400);
    }
    expect(await server.json('/api/v3/process', { headers })).toEqual([]);
    expect(readFileSync(configFile, 'utf8')).toContain('"jwt"');

    // FFmpeg itself runs without the server's secrets in its environment.
    const allowed = await add(server, headers, {
      id: 'pattern',
      input: [{ id: 'in', address: 'testsrc2=size=160x120:rate=5', options: ['-re', '-f', 'lavfi'] }],
      output: [{ id: 'out', address: '-', options: ['-f', 'null'] }],
    });
    expect(allowed.status, allowed.body).toBe(200);
    const ffmpegPid = await waitFor('FFmpeg running', () =>
      childProcesses(server.child.pid!).find((pid) =>
        readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('testsrc2'),
      ),
    );
    const environment = readFileSync(`/proc/${ffmpegPid}/environ`, 'utf8');
    expect(environment).toMatch(/(^|\0)PATH=/);
    expect(environment).not.toMatch(/(^|\0)CORE_/);
    expect(environment).not.toMatch(/(^|\0)HOME=/);
    for (const secret of Object.values(secrets)) expect(environment).not.toContain(secret);
  });

  it('refuses the filter-graph spellings of the same reads with a clear 400, and writes nothing', async () => {
    const server = await startServer({ env: secretEnv });
    const headers = await login(server);
    const diskDir = join(server.dataDir, 'disk');
    /** A lavfi input that copies `file` as raw bytes into `{diskfs}/<name>`, published anonymously. */
    const leak = (name: string, graph: string) => ({
      id: name,
      input: [{ id: 'in', address: graph, options: ['-f', 'lavfi'] }],
      output: [{ id: 'out', address: `{diskfs}/${name}.raw`, options: ['-f', 'u8'] }],
      autostart: true,
      reconnect: false,
    });
    const exploits = [
      leak('environ', `amovie='/pr''oc/${server.child.pid}/environ':f=u8`),
      leak('self', "amovie='/pr''oc/self/environ':f=u8"),
      leak('config', "amovie='{diskfs}/../con''fig.json':f=u8"),
      leak('subfile', "amovie='subfile,,start,0,end,0,,\\:{diskfs}/../config.json':f=u8"),
      { ...leak('filter', 'anullsrc'), options: ['-filter_complex', "amovie='/pr''oc/self/environ':f=u8"] },
    ];
    for (const process of exploits) {
      const { status, body } = await add(server, headers, process);
      expect(status, process.id).toBe(400);
      const error = JSON.parse(body) as { code: number; message: string; details: string[] };
      expect(error.code).toBe(400);
      expect(error.details.join('\n'), process.id).toMatch(/reaches \/proc|reaches .*config\.json/);
      expect(error.details.join('\n')).toContain('which FFmpeg may not touch');
    }
    expect(await server.json('/api/v3/process', { headers })).toEqual([]);
    expect(existsSync(diskDir) ? readdirSync(diskDir) : []).toEqual([]);
    expect((await server.api('/environ.raw')).status).toBe(404);
  });

  it("applies datarhei's ffmpeg.access lists, opens ffmpeg.access.output.directories and guards the TLS key", async () => {
    const recordings = mkdtempSync(join(tmpdir(), 'dragon-recordings-'));
    extraDirs.push(recordings);
    const keyFile = join(recordings, 'server.key');
    writeFileSync(keyFile, 'PRIVATE KEY');
    const server = await startServer({
      env: {
        ...secretEnv,
        CORE_TLS_KEY_FILE: keyFile,
        CORE_FFMPEG_ACCESS_INPUT_BLOCK: '^rtsp://blocked\\.',
        CORE_FFMPEG_ACCESS_OUTPUT_ALLOW: '^file: ^rtmp://allowed\\.',
        CORE_FFMPEG_ACCESS_OUTPUT_DIRECTORIES: recordings,
      },
    });
    const headers = await login(server);
    const process = (id: string, input: string, output: string) => ({
      id,
      input: [{ id: 'in', address: input, options: [] }],
      output: [{ id: 'out', address: output, options: ['-f', 'mpegts'] }],
      autostart: false,
    });

    const statusOf = async (id: string, input: string, output: string) =>
      (await add(server, headers, process(id, input, output))).status;

    expect(await statusOf('a', 'rtsp://blocked.example/cam', '{diskfs}/a.ts')).toBe(400);
    expect(await statusOf('b', 'rtsp://camera.example/cam', '{diskfs}/b.ts')).toBe(200);
    expect(await statusOf('c', 'rtsp://camera.example/cam', join(recordings, 'c.ts'))).toBe(200);
    expect(await statusOf('d', 'rtsp://camera.example/cam', 'rtmp://allowed.example/live/d')).toBe(200);
    expect(await statusOf('e', 'rtsp://camera.example/cam', 'rtmp://elsewhere.example/live/e')).toBe(400);
    expect(await statusOf('f', 'rtsp://camera.example/cam', join(server.dataDir, 'f.ts'))).toBe(400);
    expect(await statusOf('g', keyFile, '{diskfs}/g.ts')).toBe(400);
  });

  it('lets FFmpeg reach the API over loopback only as api.auth.disable_localhost says, and then only redacted', async () => {
    const guarded = await startServer({ env: secretEnv });
    const open = await startServer({ env: { ...secretEnv, CORE_API_AUTH_DISABLE_LOCALHOST: 'true' } });

    for (const server of [guarded, open]) {
      const headers = await login(server);
      const api = `${server.baseUrl}/api/v3/config`;
      expect((await add(server, headers, copyProcess('api', api, '{diskfs}/api.txt'))).status).toBe(200);
      await finished(server, headers, 'api');
    }

    // Without the exemption FFmpeg is a client like any other: no token, no config.
    expect((await guarded.api('/api.txt')).status).toBe(404);
    // With it, FFmpeg gets what any local program gets: the config an administrator sees, secrets redacted.
    const copied = await open.api('/api.txt');
    expect(copied.status).toBe(200);
    const text = await copied.text();
    expect(JSON.parse(text)).toMatchObject({ config: { api: { auth: { password: '********' } } } });
    for (const secret of Object.values(secrets)) expect(text).not.toContain(secret);
  });
});
