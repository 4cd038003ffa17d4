import { readFileSync } from 'node:fs';
import { handwrittenOffer } from '@dragon/test-helpers';
import { WeriftViewer } from '@dragon/test-helpers/werift';
import fc from 'fast-check';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { InvalidSdpError, NoUsableCodecError, PeerFactory, RtpSource } from '../src/index.js';

// Whatever an offer says, the engine answers it or refuses it with its own errors: its SDP checks,
// its plan and werift's parser behind them never throw anything else, and leave nothing behind.
// Seeds: a real offer of Chromium 156 (fixtures/chromium-156-offer.sdp, two recvonly transceivers),
// one of werift's, and the minimal handwritten ones; mutations drop, repeat, swap and edit lines.

const seed = 20261207;
let source: RtpSource;
let factory: PeerFactory;
const seeds: string[] = [];

beforeAll(async () => {
  source = await RtpSource.open({ id: 'cam', video: { payloadType: 96 }, audio: { payloadType: 111 } });
  factory = new PeerFactory({ interfaceAddresses: ['127.0.0.1'] });
  const viewer = new WeriftViewer();
  seeds.push(
    readFileSync(new URL('./fixtures/chromium-156-offer.sdp', import.meta.url), 'utf8'),
    await viewer.offer(),
    handwrittenOffer('video'),
    handwrittenOffer('audio'),
  );
  await viewer.close();
});
afterAll(async () => {
  await factory.close();
  source.close();
});

const lineEdit = fc.oneof(
  fc.record({ kind: fc.constant('drop' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('repeat' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('swap' as const), at: fc.nat(), with: fc.nat() }),
  fc.record({ kind: fc.constant('value' as const), at: fc.nat(), value: fc.string({ maxLength: 40 }) }),
);

it('answers or refuses mutated real offers with its own errors, and keeps no peer of a refusal', async () => {
  const mutated = fc
    .tuple(fc.nat({ max: 3 }), fc.array(lineEdit, { minLength: 1, maxLength: 5 }))
    .map(([which, edits]) => {
      const lines = seeds[which]!.split('\r\n');
      for (const edit of edits) {
        const at = edit.at % lines.length;
        if (edit.kind === 'drop') lines.splice(at, 1);
        else if (edit.kind === 'repeat') lines.splice(at, 0, lines[at]!);
        else if (edit.kind === 'swap')
          [lines[at], lines[edit.with % lines.length]] = [lines[edit.with % lines.length]!, lines[at]!];
        else lines[at] = `${lines[at]!.slice(0, 2)}${edit.value}`;
      }
      return lines.join('\r\n');
    });
  const offer = fc.oneof(mutated, fc.string({ maxLength: 400 }));
  let answered = 0;
  await fc.assert(
    fc.asyncProperty(offer, async (sdp) => {
      try {
        const { peer } = await factory.createPeer(source, sdp);
        answered++;
        peer.close();
      } catch (error) {
        if (!(error instanceof InvalidSdpError || error instanceof NoUsableCodecError)) throw error;
      }
    }),
    { seed, numRuns: 200 },
  );
  // Some mutations keep an offer playable: the property ran through the whole path, not only its checks.
  expect(answered).toBeGreaterThan(0);
  expect(factory.connectionCount).toBe(0);
});
