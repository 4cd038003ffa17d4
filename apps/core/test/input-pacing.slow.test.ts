import { jsonBody, startServer, stopAllServers, waitFor } from '@dragon/test-helpers/server';
import { afterAll, describe, expect, it } from 'vitest';
import { offerWhep } from './cluster-harness.js';

// A live HLS input, as a user adds one (no -re): the server's own memfs serves a live playlist that
// another process writes in real time, and a second process reads it for WebRTC viewers. Without
// -re FFmpeg sends each segment at once and the viewer gets bursts and freezes (figures in
// bench/e2e-input-pacing.mjs); the plan reads such an input at its own rate. Asserted here is what
// must always hold — the plan, the command FFmpeg ran, video at the viewer — never a rate.

afterAll(stopAllServers);

interface ProcessState {
  exec: string;
  command: string[];
  webrtc?: { plan: { pacing: { input: number; paced: boolean; reason: string }[] } };
}

describe('a live HLS input', () => {
  it('is read at its own rate (-re) by the plan, and plays to a viewer', async () => {
    const server = await startServer();
    await server.json(
      '/api/v3/process',
      jsonBody({
        id: 'live',
        input: [{ id: 'in', address: 'testsrc2=size=160x120:rate=25', options: ['-re', '-f', 'lavfi'] }],
        output: [
          {
            id: 'hls',
            address: '{memfs}/live.m3u8',
            options: [
              ...['-c:v', 'libx264', '-preset', 'ultrafast', '-bf', '0', '-g', '25'],
              ...['-f', 'hls', '-hls_time', '1', '-hls_list_size', '6', '-hls_flags', 'delete_segments'],
              ...['-method', 'PUT', '-hls_segment_filename', '{memfs}/live_%04d.ts'],
            ],
          },
        ],
        autostart: true,
      }),
    );
    await waitFor(
      'a live playlist of three segments',
      async () => {
        const playlist = await (await server.api('/memfs/live.m3u8')).text();
        return (playlist.match(/\.ts$/gm) ?? []).length >= 3 ? true : undefined;
      },
      60_000,
    );
    const address = `${server.baseUrl}/memfs/live.m3u8`;
    await server.json(
      '/api/v3/process',
      jsonBody({
        id: 'relay',
        input: [{ id: 'in', address, options: [] }],
        output: [],
        autostart: true,
        reconnect: true,
        reconnect_delay_seconds: 1,
        webrtc: { enabled: true },
      }),
    );

    const state = await waitFor(
      'the relay running',
      async () => {
        const now = await server.json<ProcessState>('/api/v3/process/relay/state');
        return now.exec === 'running' && now.webrtc ? now : undefined;
      },
      60_000,
    );
    expect(state.webrtc!.plan.pacing).toEqual([
      { input: 0, paced: true, reason: expect.stringMatching(/^HLS\/DASH: .*\(-re\)$/) },
    ]);
    // The input's options as FFmpeg got them: -re added for this start, then the user's (none).
    const at = state.command.indexOf(address);
    expect(state.command.slice(at - 2, at + 1)).toEqual(['-re', '-i', address]);

    // 409 until the process has media: the documented retry.
    const offered = await waitFor(
      'an answer',
      async () => {
        const attempt = await offerWhep(server, 'relay');
        return attempt.status === 409 ? undefined : attempt;
      },
      60_000,
    );
    try {
      expect(offered.status).toBe(201);
      await waitFor('video at the viewer', () => offered.videoPackets > 100, 60_000);
    } finally {
      await offered.close();
    }
  }, 300_000);
});
