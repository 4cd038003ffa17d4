import { SrtServer } from '@dragon/ingest';
import { createPlaceholderResolver, processConfigSchema, replacePlaceholders } from '@dragon/restream';
import { SessionCollector } from '@dragon/sessions';
import { waitFor } from '@dragon/test-helpers/server';
import { afterEach, describe, expect, it } from 'vitest';
import { placeholderTemplates } from '../src/placeholders/placeholder-templates.js';
import { runFFmpeg, stopFFmpegs, testPatternInput } from './ffmpeg-child.js';

const quiet = { error() {}, info() {}, warn() {}, debug() {} };
const servers: SrtServer[] = [];
afterEach(async () => {
  await stopFFmpegs();
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

async function startSrt(options: { token?: string; passphrase?: string; address?: string } = {}) {
  const collector = new SessionCollector('srt', { ipIgnoreList: [] });
  const server = await SrtServer.start({ address: '127.0.0.1:0', ...options }, collector, quiet);
  servers.push(server);
  return { server, collector };
}

/** What `{srt,name=…}` expands to in a process's input (a player) or output (a publisher). */
function srtUrl(server: SrtServer, name: string, section: 'input' | 'output', secrets = {}) {
  const templates = placeholderTemplates({
    diskfsDir: '/tmp',
    memfsUrl: () => 'http://localhost/memfs',
    srt: { address: () => server.address, token: '', passphrase: '', ...secrets },
  });
  const io = [{ address: `{srt,name=${name}}` }];
  const config = processConfigSchema.parse({
    id: 'srt',
    input: section === 'input' ? io : [{ address: 'x' }],
    output: section === 'output' ? io : [{ address: '-' }],
  });
  const expanded = replacePlaceholders(config, createPlaceholderResolver(templates));
  return (section === 'input' ? expanded.input : expanded.output)[0]?.address ?? '';
}

const publish = (url: string, extra: string[] = []) =>
  runFFmpeg([...testPatternInput(), ...extra, '-f', 'mpegts', url]);

describe('the SRT server', () => {
  it('takes a publish by streamid and lets a reader of {srt,name=…} decode frames, counting both', async () => {
    const { server, collector } = await startSrt({ token: 'secret' });
    publish(srtUrl(server, 'cam1', 'output', { token: 'secret' }));
    await waitFor('the publish to be listed', () => server.channels().includes('cam1') || undefined);

    const playUrl = srtUrl(server, 'cam1', 'input', { token: 'secret' });
    expect(playUrl).toContain('streamid=cam1,mode:request,token:secret');
    const reader = runFFmpeg(['-i', playUrl, '-frames:v', '50', '-f', 'null', '-']);
    await waitFor(
      'the player to be listed',
      () => server.channelsJson().subscriber.cam1?.length === 1 || undefined,
    );
    const listing = server.channelsJson();
    const publisherSocket = listing.publisher.cam1!;
    expect(listing.connections[String(publisherSocket)]?.stats.recv_pkt).toBeGreaterThan(0);
    await waitFor(
      'bytes sent to the player',
      () =>
        collector.active().some((session) => session.local === 'play:cam1' && session.bytes_tx > 0) ||
        undefined,
    );
    expect(collector.active().find((session) => session.local === 'publish:cam1')?.bytes_rx).toBeGreaterThan(
      0,
    );

    expect(await reader.exited).toBe(0);
    expect(reader.stderr()).toMatch(/Video: h264/);
    expect(reader.stderr()).toMatch(/frame=\s*50/);
    await waitFor('the player to leave', () => collector.summary().summary.local['play:cam1'] || undefined);
    const summary = collector.summary();
    expect(summary.active.list.map((session) => session.local)).toContain('publish:cam1');
    expect(summary.summary.local['play:cam1']?.sessions).toBe(1);
  });

  it("accepts SRT's access-control streamid #!:m=publish,r=…", async () => {
    const { server } = await startSrt();
    const port = server.port;
    publish(`srt://127.0.0.1:${port}?mode=caller&streamid=${encodeURIComponent('#!:m=publish,r=cam2')}`);
    await waitFor('the publish to be listed', () => server.channels().includes('cam2') || undefined);
    const reader = runFFmpeg([
      '-i',
      `srt://127.0.0.1:${port}?mode=caller&streamid=${encodeURIComponent('#!:r=cam2')}`,
      '-frames:v',
      '10',
      '-f',
      'null',
      '-',
    ]);
    expect(await reader.exited).toBe(0);
  });

  it('refuses a wrong token, a second publisher, and a player of nothing', async () => {
    const { server } = await startSrt({ token: 'secret' });
    const port = server.port;
    const intruder = publish(`srt://127.0.0.1:${port}?mode=caller&streamid=x,mode:publish,token:nope`, [
      '-t',
      '5',
    ]);
    expect(await intruder.exited).not.toBe(0);
    expect(server.channels()).toEqual([]);

    publish(`srt://127.0.0.1:${port}?mode=caller&streamid=x,mode:publish,token:secret`);
    await waitFor('the first publish', () => server.channels().length === 1 || undefined);
    const second = publish(`srt://127.0.0.1:${port}?mode=caller&streamid=x,mode:publish,token:secret`, [
      '-t',
      '5',
    ]);
    expect(await second.exited).not.toBe(0);
    const lost = runFFmpeg([
      '-i',
      `srt://127.0.0.1:${port}?mode=caller&streamid=y,token:secret`,
      '-f',
      'null',
      '-',
    ]);
    expect(await lost.exited).not.toBe(0);
    expect(server.channels()).toEqual(['x']);
  });

  it('requires the passphrase when one is set', async () => {
    const { server } = await startSrt({ passphrase: 'a-long-passphrase' });
    const port = server.port;
    const plain = publish(`srt://127.0.0.1:${port}?mode=caller&streamid=enc,mode:publish`, ['-t', '5']);
    expect(await plain.exited).not.toBe(0);
    expect(server.channels()).toEqual([]);
    publish(srtUrl(server, 'enc', 'output', { passphrase: 'a-long-passphrase' }));
    await waitFor('the encrypted publish', () => server.channels().includes('enc') || undefined);
  });

  it('listens on every interface for an empty host and ends players when the publisher goes', async () => {
    const { server } = await startSrt({ address: ':0' });
    expect(server.address).toBe(`:${server.port}`);
    const publisher = publish(srtUrl(server, 'gone', 'output'));
    await waitFor('the publish', () => server.channels().includes('gone') || undefined);
    const reader = runFFmpeg(['-i', srtUrl(server, 'gone', 'input'), '-f', 'null', '-']);
    await waitFor('the player', () => server.channelsJson().subscriber.gone?.length === 1 || undefined);
    publisher.child.kill('SIGKILL');
    await waitFor('the publish to end', () => server.channels().length === 0 || undefined);
    expect(await reader.exited).toBeDefined();
  });
});

describe('the SRT server closing', () => {
  it('frees its port at once, so a reload can listen on the same address', async () => {
    const collector = new SessionCollector('srt');
    const first = await SrtServer.start({ address: '127.0.0.1:0' }, collector, quiet);
    const port = first.port;
    publish(srtUrl(first, 'cam', 'output'));
    await waitFor('the publish', () => first.channels().includes('cam') || undefined);
    await first.close();
    const second = await SrtServer.start({ address: `127.0.0.1:${port}` }, collector, quiet);
    servers.push(second);
    expect(second.port).toBe(port);
  });
});

describe('the SRT server when handling one connection fails', () => {
  it('ends that connection with one line and keeps serving the others', async () => {
    // A fault injected where the server's own code runs for a connection (its session accounting).
    class FailingCollector extends SessionCollector {
      override registerAndActivate(id: string, reference: string, location: string, peer: string): void {
        if (location === 'publish:bad') throw new Error('injected');
        super.registerAndActivate(id, reference, location, peer);
      }
    }
    const errors: string[] = [];
    const logger = { ...quiet, error: (_: object, message: string) => errors.push(message) };
    const server = await SrtServer.start(
      { address: '127.0.0.1:0' },
      new FailingCollector('srt', { ipIgnoreList: [] }),
      logger,
    );
    servers.push(server);

    publish(srtUrl(server, 'bad', 'output'));
    await waitFor('the failure', () => errors.length > 0 || undefined);
    publish(srtUrl(server, 'good', 'output'));
    await waitFor('the other publish', () => server.channels().includes('good') || undefined);
    expect(server.channels()).toEqual(['good']);
    expect(errors).toEqual(['connection failed']);
  });
});
