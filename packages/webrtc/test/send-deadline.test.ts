import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { loadNativeAddon } from '../src/fanout/native-addon.js';
import { createQueuedLink, receiverAddress, senderAddress } from './queued-link.js';

// An uplink that never drains: 8 kbit/s with room for 10 MB in its queue, so what the socket sends
// stays charged to its send buffer and the kernel answers EAGAIN for the rest of the test. The
// native send path waits for room a bounded time per frame, then drops (and counts) what is left
// for those viewers; the other viewers of the thread, on loopback, must get every packet.
const link = createQueuedLink('sd', 'rate 8kbit burst 1600 limit 10mb');
const scenario = fileURLToPath(new URL('./congested-uplink.mjs', import.meta.url));

interface Outcome {
  flushes: { group: 'a' | 'b'; sent: number; ms: number }[];
  received: number[];
  congested: { packets: number; dropped: number };
  healthy: { packets: number; dropped: number };
}

describe.skipIf(!link)('the native send path with a viewer uplink that never drains', () => {
  afterAll(() => link?.remove());

  it('drops and counts what the congested viewers cannot take, and every other viewer gets every packet', async () => {
    const loaded = loadNativeAddon();
    if ('error' in loaded) throw new Error(loaded.error);
    const congested = 5;
    const healthy = 3;
    const frames = 8;
    const packetsPerFrame = 30;
    const options = {
      addon: loaded.path,
      congested,
      healthy,
      frames,
      packetsPerFrame,
      packetSize: 1200,
      congestedLocal: senderAddress,
      congestedHost: receiverAddress,
    };

    const { stdout } = await promisify(execFile)(
      'ip',
      ['netns', 'exec', link!.sender, process.execPath, scenario, JSON.stringify(options)],
      { encoding: 'utf8', timeout: 60_000 },
    );
    const outcome = JSON.parse(stdout) as Outcome;

    // Every flush returned, source B's after source A's each frame.
    expect(outcome.flushes.map(({ group }) => group)).toEqual(
      Array.from({ length: frames }, () => ['a', 'b']).flat(),
    );
    // The loopback viewers of both sources got every packet of every frame, and nothing of theirs
    // was dropped.
    expect(outcome.received).toEqual(new Array(2 * healthy).fill(frames * packetsPerFrame));
    expect(outcome.healthy).toEqual({ packets: 2 * healthy * frames * packetsPerFrame, dropped: 0 });
    // The congested viewers: most of it was dropped, and every packet is either sent or counted.
    const total = congested * frames * packetsPerFrame;
    expect(outcome.congested.dropped).toBeGreaterThan(total / 2);
    expect(outcome.congested.packets + outcome.congested.dropped).toBe(total);
    // What the flushes report as sent is what reached the kernel: the loopback copies and the
    // congested ones it took.
    const sent = outcome.flushes.reduce((sum, flush) => sum + flush.sent, 0);
    expect(sent).toBe(2 * healthy * frames * packetsPerFrame + outcome.congested.packets);
  });
});
