import { waitFor } from '@dragon/test-helpers';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type InProcessCore, startInProcessCore } from './in-process-core.js';

// `/metrics` of the assembled server with auth on: a scraper without a token learns totals, never
// which process ids exist; an administrator's token shows them (per-process figures exist while a
// process plays over WebRTC, hence a running test pattern).

let server: InProcessCore;

beforeAll(async () => {
  server = await startInProcessCore({
    CORE_API_AUTH_ENABLE: 'true',
    CORE_API_AUTH_USERNAME: 'admin',
    CORE_API_AUTH_PASSWORD: 'admin-pw',
    CORE_METRICS_ENABLE_PROMETHEUS: 'true',
  });
});
afterAll(async () => {
  await server?.close();
});

it('shows process ids in /metrics only to a client with a token', async () => {
  const login = await server.request('/api/login', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ username: 'admin', password: 'admin-pw' }),
  });
  const { access_token } = (await login.json()) as { access_token: string };
  const headers = { Authorization: `Bearer ${access_token}`, 'Content-Type': 'application/json' };
  const created = await server.request('/api/v3/process', {
    method: 'POST',
    headers,
    body: JSON.stringify({
      id: 'secret-camera',
      input: [
        {
          id: 'in',
          address: 'testsrc2=size=160x120:rate=5[out0];sine=frequency=440[out1]',
          options: ['-re', '-f', 'lavfi'],
        },
      ],
      webrtc: { enabled: true },
    }),
  });
  expect(created.status).toBe(200);

  const administrator = await waitFor('per-process figures of the running process', async () => {
    const text = await (await server.request('/metrics', { headers })).text();
    return text.includes('process_id="secret-camera"') ? text : undefined;
  });
  const anonymous = await (await server.request('/metrics')).text();

  expect(administrator).toMatch(/^dragon_processes\{state="running"\} 1$/m);
  expect(anonymous).toMatch(/^dragon_processes\{state="running"\} 1$/m);
  expect(anonymous).not.toContain('secret-camera');
});
