import { vp8OnlyOffer } from '@dragon/test-helpers';
import {
  freePort,
  jsonBody,
  metric,
  type RunningServer,
  startServer,
  stopAllServers,
  testPatternProcess,
  waitFor,
} from '@dragon/test-helpers/server';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, playInPage, startOtherOrigin } from './browser.js';

let browser: Browser;
let otherOrigin: Awaited<ReturnType<typeof startOtherOrigin>>;

beforeAll(async () => {
  browser = await launchChromium();
  otherOrigin = await startOtherOrigin();
});
afterAll(async () => {
  await browser?.close();
  await otherOrigin?.close();
  await stopAllServers();
});

async function waitRunning(server: RunningServer, id: string): Promise<void> {
  await waitFor(`${id} running`, async () => {
    const state = await server.json<{ exec: string }>(`/api/v3/process/${id}/state`);
    return state.exec === 'running' ? true : undefined;
  });
}

const viewersOf = (server: RunningServer, id: string) =>
  metric(server, 'dragon_process_viewers', `process_id="${id}"`);

describe('the server, end to end', () => {
  it('names its WebRTC data plane and why, in a line at boot and in GET /api', async () => {
    const server = await startServer();
    // The suite also runs with DRAGON_FANOUT_ENGINE=js (vitest project core-js-plane).
    const expected =
      process.env.DRAGON_FANOUT_ENGINE === 'js'
        ? { engine: 'js', reason: 'DRAGON_FANOUT_ENGINE=js' }
        : { engine: 'native', reason: 'built on this machine' };

    const about = await server.json<{ dragon: { webrtc: Record<string, unknown> } }>('/api');

    expect(about.dragon.webrtc).toEqual({ enabled: true, data_plane: expected });
    const line = server.logLines
      .map((entry) => JSON.parse(entry) as { msg?: string; engine?: string; reason?: string })
      .find((entry) => entry.msg?.startsWith('WebRTC data plane: '));
    expect(line).toMatchObject(expected);
    expect(line?.msg).toBe(
      `WebRTC data plane: ${expected.engine === 'js' ? 'JavaScript' : 'native'} (${expected.reason})`,
    );
    await server.stop();
  });

  it('plays a test pattern in Chromium on another origin, counts and drops the viewer, stops, and restores after a restart', async () => {
    const server = await startServer();
    const created = await server.json<{ id: string }>(
      '/api/v3/process',
      jsonBody(testPatternProcess('cam1')),
    );
    expect(created.id).toBe('cam1');
    await waitRunning(server, 'cam1');

    const page = await browser.newPage();
    await page.goto(otherOrigin.url);
    const whepUrl = `${server.baseUrl}/api/v3/process/cam1/whep`;
    const played = await waitFor('a playing WHEP session', async () => {
      const result = await playInPage(page, whepUrl);
      if (result.status === 409) return undefined; // media not there yet: the documented retry
      return result;
    });
    expect(played.status).toBe(201);
    expect(played.location).toMatch(/^\/api\/v3\/process\/cam1\/whep\/[A-Za-z0-9_-]{16,}$/);
    expect(played.framesDecoded).toBeGreaterThan(0);
    expect(played.audioBytes).toBeGreaterThan(0);
    expect(await viewersOf(server, 'cam1')).toBe(1);

    const deleted = await server.api(played.location!, { method: 'DELETE' });
    expect(deleted.status).toBe(200);
    await waitFor('viewer count 0', async () => ((await viewersOf(server, 'cam1')) === 0 ? true : undefined));
    await page.close();

    await server.json('/api/v3/process/cam1/command', jsonBody({ command: 'stop' }, 'PUT'));
    // A stopped process exists: 409 without Retry-After (only its operator can start it).
    await waitFor('whep 409 PROCESS_STOPPED after stop', async () => {
      const response = await server.api('/api/v3/process/cam1/whep', {
        method: 'POST',
        headers: { 'Content-Type': 'application/sdp' },
        body: vp8OnlyOffer,
      });
      const body = (await response.json()) as { details: string[] };
      return response.status === 409 &&
        body.details[0] === 'PROCESS_STOPPED' &&
        !response.headers.has('retry-after')
        ? true
        : undefined;
    });

    const configBefore = await server.json('/api/v3/process/cam1/config');
    expect(await server.stop()).toBe(0);
    const restarted = await startServer({ dataDir: server.dataDir });
    expect(await restarted.json('/api/v3/process/cam1/config')).toEqual(configBefore);
    const state = await restarted.json<{ order: string }>('/api/v3/process/cam1/state');
    expect(state.order).toBe('stop');
    await restarted.stop();
  });

  it('keeps WebRTC across a restart command, a server restart and a config reload of a process that also writes another output', async () => {
    const server = await startServer();
    const process = testPatternProcess('both', {
      output: [{ id: 'null', address: '-', options: ['-map', '0:v', '-f', 'null'] }],
      reconnect: false,
    });
    await server.json('/api/v3/process', jsonBody(process));
    await waitRunning(server, 'both');
    const whepUrl = (base: string) => `${base}/api/v3/process/both/whep`;
    const play = async (base: string) => {
      const page = await browser.newPage();
      await page.goto(otherOrigin.url);
      const played = await waitFor('a playing WHEP session', async () => {
        const result = await playInPage(page, whepUrl(base));
        return result.status === 409 ? undefined : result;
      });
      return { page, played };
    };
    const framesNow = (page: import('playwright-core').Page) =>
      page.evaluate(async () => {
        const pc = (window as unknown as { pc: RTCPeerConnection }).pc;
        let frames = 0;
        (await pc.getStats()).forEach((report) => {
          if (report.type === 'inbound-rtp' && report.kind === 'video') frames = report.framesDecoded ?? 0;
        });
        return frames;
      });

    // A restart of a reconnect:false process comes straight back: the viewer keeps its session.
    const first = await play(server.baseUrl);
    expect(first.played.status).toBe(201);
    expect(first.played.framesDecoded).toBeGreaterThan(0);
    await server.json('/api/v3/process/both/command', jsonBody({ command: 'restart' }, 'PUT'));
    await waitRunning(server, 'both');
    const afterRestart = await framesNow(first.page);
    await waitFor('frames after the restart', async () =>
      (await framesNow(first.page)) > afterRestart + 25 ? true : undefined,
    );
    expect(await viewersOf(server, 'both')).toBe(1);
    await first.page.close();

    // The server stops with the process running; the restored process starts with its WebRTC legs.
    expect(await server.stop()).toBe(0);
    const restarted = await startServer({ dataDir: server.dataDir });
    await waitRunning(restarted, 'both');
    const afterBoot = await play(restarted.baseUrl);
    expect(afterBoot.played.status).toBe(201);
    expect(afterBoot.played.framesDecoded).toBeGreaterThan(0);
    await afterBoot.page.close();

    // A config reload rebuilds the core; the process comes back with WebRTC again.
    expect((await restarted.api('/api/v3/config/reload')).status).toBe(200);
    await waitFor('the reloaded process running with WebRTC', async () => {
      const response = await restarted.api('/api/v3/process/both/state').catch(() => undefined);
      if (!response?.ok) return undefined;
      const state = (await response.json()) as { exec: string; command: string[] };
      return state.exec === 'running' && state.command.includes('rtp') ? true : undefined;
    });
    const afterReload = await play(restarted.baseUrl);
    expect(afterReload.played.status).toBe(201);
    expect(afterReload.played.framesDecoded).toBeGreaterThan(0);
    await afterReload.page.close();
    await restarted.stop();
  });

  it('serves viewers through one UDP port, with ICE-TCP on one TCP port as the fallback', async () => {
    const [udpPort, tcpPort] = [await freePort('udp'), await freePort('tcp')];
    const server = await startServer({
      env: { CORE_WEBRTC_UDP_MUX_PORT: String(udpPort), CORE_WEBRTC_TCP_MUX_PORT: String(tcpPort) },
    });
    await server.json('/api/v3/process', jsonBody(testPatternProcess('muxed')));
    await waitRunning(server, 'muxed');
    const page = await browser.newPage();
    await page.goto(otherOrigin.url);
    const whepUrl = `${server.baseUrl}/api/v3/process/muxed/whep`;
    for (let viewer = 0; viewer < 2; viewer++) {
      const played = await waitFor('a playing WHEP session', async () => {
        const result = await playInPage(page, whepUrl);
        return result.status === 409 ? undefined : result;
      });
      expect(played.status).toBe(201);
      expect(played.framesDecoded).toBeGreaterThan(0);
      const candidates = played.answerSdp?.match(/^a=candidate:.*$/gm) ?? [];
      expect(candidates).toEqual(
        expect.arrayContaining([
          expect.stringMatching(new RegExp(` udp \\d+ 127\\.0\\.0\\.1 ${udpPort} typ host`)),
          expect.stringMatching(new RegExp(` tcp \\d+ 127\\.0\\.0\\.1 ${tcpPort} typ host tcptype passive`)),
        ]),
      );
      for (const line of candidates) expect(line).toMatch(new RegExp(` (${udpPort}|${tcpPort}) typ host`));
    }
    await page.close();
  });

  it('advertises the NAT 1:1 address on the mux port', async () => {
    const udpPort = await freePort('udp');
    const server = await startServer({
      env: { CORE_WEBRTC_UDP_MUX_PORT: String(udpPort), CORE_WEBRTC_NAT_1_TO_1_IPS: '198.51.100.20' },
    });
    await server.json('/api/v3/process', jsonBody(testPatternProcess('natted')));
    await waitRunning(server, 'natted');
    const page = await browser.newPage();
    await page.goto(otherOrigin.url);
    // Only the answer is read: the browser never applies it, so nothing is sent to the documentation address.
    const answer = await waitFor('an answer', async () => {
      const result = await page.evaluate(async (endpoint) => {
        const pc = new RTCPeerConnection();
        pc.addTransceiver('video', { direction: 'recvonly' });
        await pc.setLocalDescription(await pc.createOffer());
        await new Promise<void>((resolve) => {
          if (pc.iceGatheringState === 'complete') return resolve();
          pc.addEventListener(
            'icegatheringstatechange',
            () => pc.iceGatheringState === 'complete' && resolve(),
          );
        });
        const response = await fetch(endpoint, {
          method: 'POST',
          headers: { 'Content-Type': 'application/sdp' },
          body: pc.localDescription!.sdp,
        });
        pc.close();
        return { status: response.status, sdp: await response.text() };
      }, `${server.baseUrl}/api/v3/process/natted/whep`);
      return result.status === 409 ? undefined : result;
    });
    expect(answer.status).toBe(201);
    expect(answer.sdp).toContain(`198.51.100.20 ${udpPort} typ host`);
    await page.close();
  });

  it('answers the WHEP error table with the documented statuses', async () => {
    const server = await startServer();
    await server.json('/api/v3/process', jsonBody(testPatternProcess('cam2')));
    // A process whose input never opens: enabled, ordered to run, never any media.
    await server.json(
      '/api/v3/process',
      jsonBody(
        testPatternProcess('dead', {
          input: [{ id: 'in', address: 'rtsp://127.0.0.1:9/none', options: ['-timeout', '1000000'] }],
        }),
      ),
    );
    await server.json(
      '/api/v3/process',
      jsonBody({
        ...testPatternProcess('nowebrtc'),
        output: [{ id: 'null', address: '-', options: ['-f', 'null'] }],
        webrtc: { enabled: false },
      }),
    );
    await waitRunning(server, 'cam2');

    const offer = (path: string, body: string | Uint8Array, contentType = 'application/sdp') =>
      server.api(path, { method: 'POST', headers: { 'Content-Type': contentType }, body: body as BodyInit });
    expect((await offer('/api/v3/process/missing/whep', 'v=0\r\n')).status).toBe(404);
    expect((await offer('/api/v3/process/nowebrtc/whep', 'v=0\r\n')).status).toBe(404);
    const wellFormed = [
      'v=0',
      'o=- 1 1 IN IP4 127.0.0.1',
      's=-',
      't=0 0',
      'm=video 9 UDP/TLS/RTP/SAVPF 96',
      'c=IN IP4 0.0.0.0',
      'a=mid:0',
      'a=recvonly',
      'a=rtpmap:96 H264/90000',
      'a=fmtp:96 packetization-mode=1;profile-level-id=42e01f',
      '',
    ].join('\r\n');
    // Its input keeps failing: 503 with a Retry-After, and nothing of the input in the answer.
    const failing = await waitFor('the failing input answered 503', async () => {
      const response = await offer('/api/v3/process/dead/whep', wellFormed);
      return response.status === 503 ? response : undefined;
    });
    expect(failing.headers.get('retry-after')).toMatch(/^\d+$/);
    const failingBody = await failing.text();
    expect(JSON.parse(failingBody)).toMatchObject({ code: 503, details: ['INPUT_FAILING'] });
    expect(failingBody).not.toContain('rtsp:');
    expect((await offer('/api/v3/process/cam2/whep', 'v=0\r\n', 'text/plain')).status).toBe(415);
    expect((await offer('/api/v3/process/cam2/whep', 'this is not sdp')).status).toBe(400);
    expect((await offer('/api/v3/process/cam2/whep', new Uint8Array([0, 255, 1, 2, 3]))).status).toBe(400);
    expect((await offer('/api/v3/process/cam2/whep', `v=0\r\n${'a=x\r\n'.repeat(20000)}`)).status).toBe(413);

    // A real browser offer that only knows VP9: nothing we can send (VP8 we make on demand).
    const page = await browser.newPage();
    await page.goto(otherOrigin.url);
    const vp9Only = await page.evaluate(async () => {
      const pc = new RTCPeerConnection();
      const transceiver = pc.addTransceiver('video', { direction: 'recvonly' });
      const vp9 = RTCRtpReceiver.getCapabilities('video')!.codecs.filter(
        (codec) => codec.mimeType === 'video/VP9',
      );
      transceiver.setCodecPreferences(vp9);
      await pc.setLocalDescription(await pc.createOffer());
      const sdp = pc.localDescription!.sdp;
      pc.close();
      return sdp;
    });
    await page.close();
    const noCodec = await offer('/api/v3/process/cam2/whep', vp9Only);
    expect(noCodec.status).toBe(422);

    const preflight = await server.api('/api/v3/process/cam2/whep', {
      method: 'OPTIONS',
      headers: { Origin: 'http://viewer.example', 'Access-Control-Request-Method': 'POST' },
    });
    expect(preflight.status).toBeLessThan(300);
    expect(preflight.headers.get('access-control-allow-origin')).toBeTruthy();
    expect((await server.api('/api/v3/process/cam2/whep/unknown-session', { method: 'DELETE' })).status).toBe(
      404,
    );
  });

  it('guards the management API with JWTs while viewers use their own token', async () => {
    const server = await startServer({
      env: {
        CORE_API_AUTH_ENABLE: 'true',
        CORE_API_AUTH_USERNAME: 'admin',
        CORE_API_AUTH_PASSWORD: 'secret-pw',
        CORE_WEBRTC_TOKEN: 'viewer-token',
      },
    });
    expect((await server.api('/api/v3/process')).status).toBe(401);
    const login = await server.json<{ access_token: string }>(
      '/api/login',
      jsonBody({ username: 'admin', password: 'secret-pw' }),
    );
    const auth = { Authorization: `Bearer ${login.access_token}` };
    expect((await server.api('/api/v3/process', { headers: auth })).status).toBe(200);
    const config = await (await server.api('/api/v3/config', { headers: auth })).text();
    expect(config).not.toContain('secret-pw');
    expect(config).not.toContain('viewer-token');

    const whep = (token?: string) =>
      server.api('/api/v3/process/any/whep', {
        method: 'POST',
        headers: {
          'Content-Type': 'application/sdp',
          ...(token ? { Authorization: `Bearer ${token}` } : {}),
        },
        body: 'v=0\r\n',
      });
    expect((await whep()).status).toBe(401);
    expect((await whep('wrong')).status).toBe(401);
    expect((await whep(login.access_token)).status).toBe(401);
    expect((await whep('viewer-token')).status).toBe(404);
  });
});
