import { RtmpServer, type RtmpServerOptions } from '@dragon/ingest';
import { createPlaceholderResolver, processConfigSchema, replacePlaceholders } from '@dragon/restream';
import { SessionCollector } from '@dragon/sessions';
import { selfSignedCertificate } from '@dragon/test-helpers';
import { waitFor } from '@dragon/test-helpers/server';
import { afterEach, describe, expect, it } from 'vitest';
import { placeholderTemplates } from '../src/placeholders/placeholder-templates.js';
import { runFFmpeg, stopFFmpegs, testPatternInput } from './ffmpeg-child.js';

const quiet = { error() {}, info() {}, warn() {}, debug() {} };
const servers: RtmpServer[] = [];
afterEach(async () => {
  await stopFFmpegs();
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

async function startRtmp(options: Partial<RtmpServerOptions> = {}) {
  const collector = new SessionCollector('rtmp', { ipIgnoreList: [] });
  const server = await RtmpServer.start({ address: '127.0.0.1:0', ...options }, collector, quiet);
  servers.push(server);
  return { server, collector };
}

describe('the RTMP server', () => {
  it('takes an FFmpeg publish with the token and lets a reader of {rtmp,name=…} decode frames', async () => {
    const { server, collector } = await startRtmp({ app: '/live', token: 'secret' });
    runFFmpeg([...testPatternInput(), '-f', 'flv', `rtmp://127.0.0.1:${server.port}/live/cam1?token=secret`]);
    await waitFor('the publish to be listed', () =>
      server.channels().includes('/live/cam1') ? true : undefined,
    );

    const templates = placeholderTemplates({
      diskfsDir: '/tmp',
      memfsUrl: () => 'http://localhost/memfs',
      rtmp: { address: () => server.address, app: '/live', token: 'secret' },
    });
    const reading = processConfigSchema.parse({
      id: 'reader',
      input: [{ address: '{rtmp,name=cam1}' }],
      output: [{ address: '-' }],
    });
    const playUrl =
      replacePlaceholders(reading, createPlaceholderResolver(templates)).input[0]?.address ?? '';
    expect(playUrl).toBe(`rtmp://127.0.0.1:${server.port}/live/cam1?token=secret`);
    const reader = runFFmpeg(['-i', playUrl, '-frames:v', '50', '-f', 'null', '-']);
    expect(await reader.exited).toBe(0);
    expect(reader.stderr()).toMatch(/Video: h264/);
    expect(reader.stderr()).toMatch(/frame=\s*50/);

    const sessions = collector.summary();
    expect(sessions.active.list.map((session) => session.local)).toContain('publish:/live/cam1');
    expect(sessions.summary.local['play:/live/cam1']?.sessions).toBe(1);
  });

  it('accepts the token as the last path element, as datarhei does', async () => {
    const { server } = await startRtmp({ token: 'secret' });
    runFFmpeg([...testPatternInput(), '-f', 'flv', `rtmp://127.0.0.1:${server.port}/live/cam2/secret`]);
    await waitFor('the publish to be listed', () =>
      server.channels().includes('/live/cam2') ? true : undefined,
    );
  });

  it('refuses a publish without the token and a second publisher on the same path', async () => {
    const { server } = await startRtmp({ token: 'secret' });
    const intruder = runFFmpeg([
      ...testPatternInput(),
      '-t',
      '5',
      '-f',
      'flv',
      `rtmp://127.0.0.1:${server.port}/live/x`,
    ]);
    expect(await intruder.exited).not.toBe(0);
    // The server says why before it closes: FFmpeg prints the onStatus description.
    expect(intruder.stderr()).toMatch(/Server error: publish refused: invalid token/);
    expect(server.channels()).toEqual([]);

    runFFmpeg([...testPatternInput(), '-f', 'flv', `rtmp://127.0.0.1:${server.port}/live/x?token=secret`]);
    await waitFor('the first publish', () => (server.channels().length === 1 ? true : undefined));
    const second = runFFmpeg([
      ...testPatternInput(),
      '-t',
      '5',
      '-f',
      'flv',
      `rtmp://127.0.0.1:${server.port}/live/x?token=secret`,
    ]);
    expect(await second.exited).not.toBe(0);
    expect(server.channels()).toEqual(['/live/x']);
  });

  it('takes a publish over RTMPS and plays it over RTMP', async () => {
    const certificate = selfSignedCertificate();
    try {
      const { certFile, keyFile } = certificate;
      const { server } = await startRtmp({ tls: { address: '127.0.0.1:0', certFile, keyFile } });
      runFFmpeg([...testPatternInput(), '-f', 'flv', `rtmps://127.0.0.1:${server.tlsPort}/live/secure`]);
      await waitFor('the publish over TLS', () => server.channels().includes('/live/secure') || undefined);
      const reader = runFFmpeg([
        '-i',
        `rtmp://127.0.0.1:${server.port}/live/secure`,
        '-frames:v',
        '25',
        '-f',
        'null',
        '-',
      ]);
      expect(await reader.exited).toBe(0);
    } finally {
      certificate.remove();
    }
  });
});
