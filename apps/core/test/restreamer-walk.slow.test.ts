import { type RunningServer, startServer, stopAllServers, waitFor } from '@dragon/test-helpers/server';
import { WeriftViewer } from '@dragon/test-helpers/werift';
import { afterAll, describe, expect, it } from 'vitest';
import { runFFmpeg, stopFFmpegs, testPatternInput } from './ffmpeg-child.js';
import { RestreamerUi } from './restreamer-ui.js';

/**
 * What an operator does with the Restreamer UI, against the built server with auth on: connect and
 * log in as the UI does, change one setting, publish a camera over RTMP and SRT, make a channel that
 * writes HLS into memfs (with WebRTC), watch it over HLS and WebRTC while the UI's session counters
 * and the widget rise, then delete the channel and find its files gone.
 */

const credentials = { username: 'admin', password: 'walk-password' };
let viewer: WeriftViewer | undefined;
afterAll(async () => {
  await viewer?.close();
  await stopFFmpegs();
  await stopAllServers();
});

/** The address an ingest server logged last (`RTMP server listening`), the port once bound. */
function ingestAddress(server: RunningServer, message: string): { port: number; count: number } {
  const lines = server.logLines
    .map((line) => JSON.parse(line) as { msg?: string; address?: string })
    .filter((entry) => entry.msg === message);
  const address = lines.at(-1)?.address ?? '';
  return { port: Number(address.slice(address.lastIndexOf(':') + 1)), count: lines.length };
}

describe('the Restreamer UI walk', () => {
  it('connects, configures, ingests RTMP and SRT, serves HLS from memfs, counts viewers and purges', async () => {
    const server = await startServer({
      env: {
        CORE_API_AUTH_ENABLE: 'true',
        CORE_API_AUTH_USERNAME: credentials.username,
        CORE_API_AUTH_PASSWORD: credentials.password,
        CORE_RTMP_ENABLE: 'true',
        CORE_RTMP_ADDRESS: '127.0.0.1:0',
        CORE_RTMP_APP: '/live',
        CORE_RTMP_TOKEN: 'rtmp-token',
        CORE_SRT_ENABLE: 'true',
        CORE_SRT_ADDRESS: '127.0.0.1:0',
        CORE_SRT_TOKEN: 'srt-token',
        // Every viewer here is on loopback, which datarhei's default list leaves uncounted.
        CORE_SESSIONS_IP_IGNORELIST: '192.0.2.0/24',
      },
    });
    const ui = new RestreamerUi((path, init) => server.api(path, init));
    const api = <T>(path: string, init: RequestInit = {}) =>
      server.json<T>(path, {
        ...init,
        headers: { Authorization: `Bearer ${ui.token}`, 'Content-Type': 'application/json', ...init.headers },
      });

    // Connect and log in as the UI does.
    expect(await ui.validate()).toBe(true);
    expect(ui.requiresLogin).toBe(true);
    expect(await ui.login(credentials.username, credentials.password)).toBe(true);
    expect(ui.compatible()).toBe(true);
    const shown = await ui.initConfig();
    expect(shown?.apiAuth).toEqual([true, credentials.username]);
    expect(shown?.rtmp).toEqual([true, false, 'rtmp-token', '/live', '127.0.0.1:0']);
    expect(shown?.srt).toEqual([true, '', 'srt-token', '127.0.0.1:0']);

    // A partial config: only that field changes, auth stays on with the same credentials.
    type ConfigView = { config: Record<string, unknown> & { log: { max_lines: number } } };
    const before = await api<ConfigView>('/api/v3/config');
    expect((await ui.saveConfig({ log: { max_lines: 2000 } })).value).toBe('OK');
    const rtmpStarts = ingestAddress(server, 'RTMP server listening').count;
    expect(await api('/api/v3/config/reload')).toBe('OK');
    await waitFor('the reload', async () => {
      if (ingestAddress(server, 'RTMP server listening').count === rtmpStarts) return undefined;
      // While the core is rebuilt the API answers 503.
      return (await server.api('/api')).status === 200 || undefined;
    });
    const after = await api<ConfigView>('/api/v3/config');
    // `created_at` is when the running config was made, which a reload renews.
    expect(after.config).toEqual({
      ...before.config,
      created_at: after.config.created_at,
      log: { ...before.config.log, max_lines: 2000 },
    });
    expect((await server.api('/api/v3/config')).status).toBe(401);
    // A new browser is asked to log in, and the old credentials work; the UI's token still does.
    const freshUi = new RestreamerUi((path, init) => server.api(path, init));
    expect(await freshUi.validate()).toBe(true);
    expect(freshUi.requiresLogin).toBe(true);
    expect(await freshUi.login(credentials.username, credentials.password)).toBe(true);
    expect(await ui.validate()).toBe(true);
    expect(ui.requiresLogin).toBe(false);

    // Publish a camera over RTMP and over SRT; the UI lists both as network sources.
    const rtmp = ingestAddress(server, 'RTMP server listening');
    const srt = ingestAddress(server, 'SRT server listening');
    runFFmpeg([
      ...testPatternInput(),
      '-f',
      'flv',
      `rtmp://127.0.0.1:${rtmp.port}/live/walk?token=rtmp-token`,
    ]);
    runFFmpeg([
      ...testPatternInput(),
      '-f',
      'mpegts',
      `srt://127.0.0.1:${srt.port}?mode=caller&streamid=walk,mode:publish,token:srt-token`,
    ]);
    await waitFor('both publishes', async () => {
      const rtmpNames = (await api<{ name: string }[]>('/api/v3/rtmp')).map((channel) => channel.name);
      // The UI's `SRTChannels()`: the names of the `publisher` object.
      const srtNames = Object.keys((await api<{ publisher: object }>('/api/v3/srt')).publisher);
      return (rtmpNames.includes('/live/walk') && srtNames.includes('walk')) || undefined;
    });

    // A channel from the RTMP stream into memfs HLS, with WebRTC; a second reads the SRT stream.
    const channel = {
      id: 'walk',
      reference: 'walk',
      input: [{ id: 'in', address: '{rtmp,name=walk}', options: [] }],
      output: [
        {
          id: 'hls',
          address: '{memfs}/{processid}.m3u8',
          options: [
            '-map',
            '0:v',
            '-map',
            '0:a',
            '-c',
            'copy',
            '-f',
            'hls',
            '-hls_time',
            '1',
            '-hls_list_size',
            '4',
            '-hls_flags',
            'delete_segments',
            '-method',
            'PUT',
            '-hls_segment_filename',
            '{memfs}/{processid}_%04d.ts',
          ],
          cleanup: [
            { pattern: 'memfs:/{processid}_*.ts', max_files: 6, purge_on_delete: true },
            { pattern: 'memfs:/{processid}.m3u8', purge_on_delete: true },
          ],
        },
      ],
      webrtc: { enabled: true },
      autostart: true,
    };
    await api('/api/v3/process', { method: 'POST', body: JSON.stringify(channel) });
    await api('/api/v3/process', {
      method: 'POST',
      body: JSON.stringify({
        id: 'srt-reader',
        input: [{ id: 'in', address: '{srt,name=walk}', options: [] }],
        output: [{ id: 'null', address: '-', options: ['-c', 'copy', '-f', 'null'] }],
        autostart: true,
      }),
    });
    await waitFor('frames read from SRT', async () => {
      const state = await api<{ progress: { frame: number } }>('/api/v3/process/srt-reader/state');
      return state.progress.frame > 0 || undefined;
    });

    // Playlist and segments over HTTP, as an HLS player gets them.
    const playlist = await waitFor('the playlist', async () => {
      const response = await server.api('/memfs/walk.m3u8');
      return response.ok ? await response.text() : undefined;
    });
    expect(playlist).toMatch(/^#EXTM3U/);
    const idle = await api<Record<string, unknown[]>>('/api/v3/session/active?collectors=hls,webrtc');
    expect([idle.hls?.length, idle.webrtc?.length]).toEqual([0, 0]);

    // An HLS reader: a session-less playlist is a master pointing at a session; segment reads count.
    const sessionUri = playlist.split('\n').find((line) => line.startsWith('walk.m3u8?session='));
    expect(sessionUri).toBeDefined();
    const media = await waitFor('a media playlist with a segment', async () => {
      const text = await (await server.api(`/memfs/${sessionUri}`)).text();
      return text.includes('.ts?session=') ? text : undefined;
    });
    const segmentUri = media.split('\n').find((line) => line.includes('.ts?session='))!;
    const segment = await server.api(`/memfs/${segmentUri}`);
    expect(segment.headers.get('content-type')).toBe('video/MP2T');
    expect((await segment.arrayBuffer()).byteLength).toBeGreaterThan(188);

    // A WebRTC viewer over WHEP (no admin token: viewers need none).
    viewer = new WeriftViewer();
    const answer = await server.api('/api/v3/process/walk/whep', {
      method: 'POST',
      headers: { 'Content-Type': 'application/sdp' },
      body: await viewer.offer(),
    });
    expect(answer.status).toBe(201);
    await viewer.accept(await answer.text());
    expect(await viewer.connected(30_000)).toBe(true);

    // The counts rise: the UI's session API (viewers that received bytes) and the widget.
    type Active = Record<string, { reference: string; bandwidth_tx_kbit: number; bytes_tx: number }[]>;
    const active = await waitFor('both viewers in the session API', async () => {
      const sessions = await api<Active>('/api/v3/session/active?collectors=hls,webrtc,rtmp,srt');
      const watching = (name: string) => sessions[name]?.some((session) => session.bytes_tx > 0);
      return watching('hls') && watching('webrtc') ? sessions : undefined;
    });
    expect(active.hls?.map((session) => session.reference)).toEqual(['walk']);
    expect(active.webrtc?.map((session) => session.reference)).toEqual(['walk']);
    // The RTMP reader is the channel's FFmpeg, the SRT one the reader process: both players.
    expect(active.rtmp?.length).toBeGreaterThanOrEqual(2);
    expect(active.srt?.length).toBeGreaterThanOrEqual(2);
    const widget = await (await server.api('/api/v3/widget/process/walk')).json();
    expect(widget).toMatchObject({ current_sessions: 2 });
    expect(await api<string[]>('/api/v3/log')).not.toHaveLength(0);

    // Delete the channel: purge_on_delete removes its playlist and segments.
    const memfsNames = async () => (await api<{ name: string }[]>('/api/v3/fs/mem')).map((file) => file.name);
    expect((await memfsNames()).some((name) => name.startsWith('/walk_'))).toBe(true);
    await api('/api/v3/process/walk/command', { method: 'PUT', body: JSON.stringify({ command: 'stop' }) });
    expect(await api('/api/v3/process/walk', { method: 'DELETE' })).toBe('OK');
    await waitFor(
      'the purge',
      async () => (await memfsNames()).every((name) => !name.startsWith('/walk')) || undefined,
    );
    expect((await server.api('/memfs/walk.m3u8')).status).toBe(404);
  });
});
