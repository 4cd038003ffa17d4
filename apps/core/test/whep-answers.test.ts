import { waitFor } from '@dragon/test-helpers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type InProcessCore, startInProcessCore } from './in-process-core.js';

// What a viewer's WHEP POST learns through the assembled server (real lookup, real renderer),
// in process: no FFmpeg runs, every process here is stopped.

let server: InProcessCore;

beforeAll(async () => {
  server = await startInProcessCore();
});
afterAll(async () => {
  await server?.close();
});

const request = (path: string, init?: RequestInit) => server.request(path, init);
const addProcess = (id: string, webrtc: Record<string, unknown>) =>
  request('/api/v3/process', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({
      id,
      input: [{ id: 'in', address: 'rtsp://user:secret@camera.invalid/stream', options: [] }],
      output: [{ id: 'out', address: '-', options: ['-f', 'null'] }],
      autostart: false,
      webrtc,
    }),
  });
const offer = (id: string, token?: string) =>
  request(`/api/v3/process/${id}/whep`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/sdp', ...(token ? { Authorization: `Bearer ${token}` } : {}) },
    body: 'v=0\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\n',
  });

describe("the player's status route", () => {
  it('tells a viewer where a process stands and nothing of its input', async () => {
    expect((await addProcess('player-stopped', { enabled: true })).status).toBe(200);

    const res = await request('/player/player-stopped/status');
    const text = await res.text();

    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(JSON.parse(text)).toEqual({ state: 'stopped' });
    expect(text).not.toContain('camera.invalid');
    expect((await request('/player/player-missing/status')).status).toBe(404);
  });

  it("answers a malformed session id with 400, and an unknown one without a viewer's standing", async () => {
    expect((await addProcess('player-session', { enabled: true })).status).toBe(200);

    const malformed = await request('/player/player-session/status?session=../../etc');
    const unknown = await request('/player/player-session/status?session=no-such-session');

    expect(malformed.status).toBe(400);
    expect(await malformed.json()).toMatchObject({ details: ['SESSION_INVALID', expect.any(String)] });
    expect(unknown.status).toBe(200);
    expect(await unknown.json()).not.toHaveProperty('viewer');
  });

  it("asks for the process's viewer token, as WHEP does", async () => {
    expect((await addProcess('player-guarded', { enabled: true, token: 'player-secret' })).status).toBe(200);

    const anonymous = await request('/player/player-guarded/status');
    const viewer = await request('/player/player-guarded/status', {
      headers: { Authorization: 'Bearer player-secret' },
    });

    expect(anonymous.status).toBe(401);
    expect(viewer.status).toBe(200);
  });
});

describe('WHEP answers of the assembled server', () => {
  it('answers a stopped process with 409 PROCESS_STOPPED, no Retry-After, nothing of its input', async () => {
    expect((await addProcess('stopped', { enabled: true })).status).toBe(200);

    const res = await offer('stopped');
    const text = await res.text();

    expect(res.status).toBe(409);
    expect(res.headers.get('retry-after')).toBeNull();
    expect(JSON.parse(text)).toEqual({
      code: 409,
      message: 'Process "stopped" is stopped',
      details: ['PROCESS_STOPPED'],
    });
    expect(text).not.toContain('camera.invalid');
    expect((await offer('missing')).status).toBe(404);
  });

  it('hides which ids exist from anonymous clients once a process has a viewer token', async () => {
    expect((await addProcess('guarded', { enabled: true, token: 'viewer-secret' })).status).toBe(200);
    // The "any token in use" answer is refreshed at most once a second; 404s are not refused tokens.
    const missing = await waitFor('unknown ids concealed', async () => {
      const res = await offer('missing');
      return res.status === 404 ? undefined : res;
    });
    const guarded = await offer('guarded');

    expect([guarded.status, missing.status]).toEqual([401, 401]);
    expect(await missing.json()).toEqual(await guarded.json());
    expect((await offer('guarded', 'viewer-secret')).status).toBe(409);
  });

  it('answers 429 with Retry-After once a client had too many tokens refused', async () => {
    let status = 401;
    let attempts = 0;
    while (status === 401 && attempts < 50) {
      status = (await offer('guarded', `guess-${attempts}`)).status;
      attempts++;
    }
    const next = await offer('guarded', 'viewer-secret');

    expect(status).toBe(429);
    expect(next.status).toBe(429);
    expect(Number(next.headers.get('retry-after'))).toBeGreaterThan(0);
  });
});
