import { createSocket, type Socket } from 'node:dgram';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { waitFor } from '@dragon/test-helpers';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigStore } from './config/config-store.js';
import { isOpenToNetwork, Runtime } from './runtime.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const admin = { username: 'admin', password: 'first-password' };

/** A config file in a temp directory of its own, with its db and disk directories there. */
function configFile(config: Record<string, unknown>): string {
  const dir = mkdtempSync(join(tmpdir(), 'dragon-runtime-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'config.json');
  const directories = { db: { dir: join(dir, 'db') }, storage: { disk: { dir: join(dir, 'disk') } } };
  writeFileSync(file, JSON.stringify({ ...directories, ...config }));
  return file;
}

/** A runtime on a random loopback port with auth on, its own directories, WebRTC on loopback. */
async function startRuntime(
  extra: { auth?: Record<string, unknown>; webrtc?: Record<string, unknown> } = {},
) {
  const file = configFile({
    address: '127.0.0.1:0',
    api: { auth: { enable: true, ...admin, ...extra.auth } },
    webrtc: { interfaces: ['127.0.0.1'], ...extra.webrtc },
  });
  const configStore = new ConfigStore(file, { PATH: process.env.PATH });
  const runtime = await Runtime.start({ configStore, logger: pino({ level: 'silent' }) });
  cleanups.push(() => runtime.close());
  const url = (path: string) => `http://127.0.0.1:${runtime.address.port}${path}`;
  const login = async (credentials = admin) => {
    const response = await fetch(url('/api/login'), {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(credentials),
    });
    return response.ok ? ((await response.json()) as { access_token: string }).access_token : response.status;
  };
  const token = await login();
  const api = (path: string, init: RequestInit & { token?: string } = {}) =>
    fetch(url(path), {
      ...init,
      headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${init.token ?? token}` },
    });
  const putConfig = async (body: unknown) => {
    const response = await api('/api/v3/config', { method: 'PUT', body: JSON.stringify(body) });
    expect(response.status, await response.clone().text()).toBe(200);
  };
  return { runtime, configStore, file, url, login, token: token as string, api, putConfig };
}

function occupiedUdpPort(): Promise<number> {
  const socket: Socket = createSocket('udp4');
  cleanups.push(() => new Promise<void>((resolve) => socket.close(() => resolve())));
  return new Promise((resolve) => socket.bind(0, '0.0.0.0', () => resolve(socket.address().port)));
}

function occupiedTcpPort(): Promise<number> {
  const server: Server = createServer();
  cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve((server.address() as { port: number }).port)),
  );
}

describe('Runtime reload', () => {
  it('applies a saved change when asked over the API', async () => {
    const { api, putConfig } = await startRuntime();
    await putConfig({ name: 'studio-b' });
    expect(await (await api('/api')).json()).not.toMatchObject({ name: 'studio-b' });
    const reload = await api('/api/v3/config/reload');
    expect(reload.status).toBe(200);
    expect(await reload.json()).toBe('OK');
    await waitFor('the new name', async () => {
      // 503 while the core is rebuilt, then the new one.
      const about = await api('/api');
      return about.ok && ((await about.json()) as { name?: string }).name === 'studio-b';
    });
  });

  it('keeps auth and credentials through a partial change', async () => {
    const { runtime, api, putConfig, url, configStore } = await startRuntime();
    await putConfig({ log: { level: 'info' } });
    expect(await runtime.reload()).toEqual({ status: 'applied' });
    expect(configStore.config.api.auth).toMatchObject({ enable: true, ...admin });
    expect(configStore.config.address).toBe('127.0.0.1:0');
    expect((await fetch(url('/api/v3/config'))).status).toBe(401);
    expect((await api('/api/v3/process', { token: 'nonsense' })).status).toBe(401);
  });

  it('ends the tokens issued before a password change', async () => {
    const { runtime, api, putConfig, login, token } = await startRuntime();
    await putConfig({ api: { auth: { password: 'second-password' } } });
    // Saved, not applied: the running server still takes the old token.
    expect((await api('/api/v3/process')).status).toBe(200);
    expect(await runtime.reload()).toEqual({ status: 'applied' });
    expect((await api('/api/v3/process', { token })).status).toBe(401);
    expect(await login()).toBe(401);
    const fresh = await login({ username: 'admin', password: 'second-password' });
    expect(typeof fresh).toBe('string');
    expect((await api('/api/v3/process', { token: fresh as string })).status).toBe(200);
  });

  it('refuses a saved config that no longer validates, and keeps running the last one', async () => {
    const { runtime, configStore, file, api } = await startRuntime();
    const saved = JSON.parse(readFileSync(file, 'utf8'));
    writeFileSync(file, JSON.stringify({ ...saved, ffmpeg: { binary: '/nonexistent/ffmpeg' } }));
    const outcome = await runtime.reload();
    expect(outcome).toMatchObject({ status: 'refused', reason: expect.stringContaining('ffmpeg.binary') });
    expect(configStore.config.ffmpeg.binary).toBe('ffmpeg');
    expect((await api('/api/v3/process')).status).toBe(200);
  });

  it('goes back to the last config when the new core cannot start', async () => {
    const { runtime, configStore, putConfig, api } = await startRuntime();
    const port = await occupiedUdpPort();
    await putConfig({ webrtc: { udp_mux_port: port } });
    const outcome = await runtime.reload();
    expect(outcome).toMatchObject({ status: 'rolled-back', reason: expect.stringContaining(String(port)) });
    expect(configStore.config.webrtc.udp_mux_port).toBe(0);
    expect(runtime.core.config.webrtc.udp_mux_port).toBe(0);
    expect((await api('/api/v3/process')).status).toBe(200);
  });

  it('goes back to the last address when the new one cannot be listened on', async () => {
    const { runtime, configStore, putConfig, api } = await startRuntime();
    const port = await occupiedTcpPort();
    await putConfig({ address: `127.0.0.1:${port}` });
    const outcome = await runtime.reload();
    expect(outcome).toMatchObject({
      status: 'rolled-back',
      reason: expect.stringContaining('already in use'),
    });
    expect(configStore.config.address).toBe('127.0.0.1:0');
    expect(runtime.core.config.address).toBe('127.0.0.1:0');
    expect((await api('/api/v3/process')).status).toBe(200);
  });
});

/** A GET from a chosen loopback address (127.0.0.0/8 is all local), answering the status. */
function statusFrom(
  localAddress: string,
  url: string,
  headers: Record<string, string> = {},
): Promise<number> {
  return new Promise((resolve, reject) => {
    const request = httpRequest(url, { localAddress, headers }, (response) => {
      response.resume();
      resolve(response.statusCode ?? 0);
    });
    request.once('error', reject);
    request.end();
  });
}

describe('the listening server', () => {
  it('tells clients apart by their address: one guessing viewer tokens is limited, the others are not', async () => {
    const { url } = await startRuntime({ webrtc: { token: 'viewer-token' } });
    const whep = url('/api/v3/process/cam/whep');
    const guess = { Authorization: 'Bearer wrong' };

    let status = 401;
    for (let attempt = 0; attempt < 50 && status === 401; attempt++) {
      status = await statusFrom('127.0.0.2', whep, guess);
    }

    expect(status).toBe(429);
    expect(await statusFrom('127.0.0.1', whep, guess)).toBe(401);
  });

  it('lets loopback clients through without a token when api.auth.disable_localhost is set', async () => {
    const exempt = await startRuntime({ auth: { disable_localhost: true } });
    const guarded = await startRuntime();

    expect(await statusFrom('127.0.0.1', exempt.url('/api/v3/process'))).toBe(200);
    expect(await statusFrom('127.0.0.1', guarded.url('/api/v3/process'))).toBe(401);
  });
});

describe('the warning for an open API', () => {
  async function warningsOf(config: Record<string, unknown>): Promise<string[]> {
    const file = configFile({ webrtc: { enable: false }, ...config });
    const lines: string[] = [];
    const logger = pino({ level: 'warn' }, { write: (line: string) => lines.push(line) });
    const runtime = await Runtime.start({
      configStore: new ConfigStore(file, { PATH: process.env.PATH }),
      logger,
    });
    cleanups.push(() => runtime.close());
    return lines.map((line) => (JSON.parse(line) as { msg: string }).msg);
  }

  it('is logged at start when auth is off and the server listens beyond loopback', async () => {
    const open = await warningsOf({ address: '0.0.0.0:0' });
    const local = await warningsOf({ address: '127.0.0.1:0' });
    const authed = await warningsOf({
      address: '0.0.0.0:0',
      api: { auth: { enable: true, username: 'admin', password: 'pw' } },
    });

    expect(open).toEqual([expect.stringMatching(/^THE API IS OPEN/)]);
    expect(local).toEqual([]);
    expect(authed).toEqual([]);
  });
});

describe('isOpenToNetwork', () => {
  const config = (address: string, enable: boolean) =>
    ({ address, api: { auth: { enable } } }) as Parameters<typeof isOpenToNetwork>[0];
  it('is true only without auth on an address beyond loopback', () => {
    expect(isOpenToNetwork(config(':8080', false))).toBe(true);
    expect(isOpenToNetwork(config('0.0.0.0:8080', false))).toBe(true);
    expect(isOpenToNetwork(config('192.168.1.5:8080', false))).toBe(true);
    expect(isOpenToNetwork(config(':8080', true))).toBe(false);
    expect(isOpenToNetwork(config('127.0.0.1:8080', false))).toBe(false);
    expect(isOpenToNetwork(config('[::1]:8080', false))).toBe(false);
    expect(isOpenToNetwork(config('localhost:8080', false))).toBe(false);
  });
});
