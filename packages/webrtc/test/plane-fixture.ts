import { FanoutPlane, type FanoutPlaneOptions, PeerFactory, RtpSource } from '../src/index.js';

/**
 * Every data plane, for tests of the same behaviour from each: JavaScript in this thread (the
 * fallback), the native addon in this thread, and the native addon in two worker shards (viewers
 * spread over both, so one of them follows the other's history through shared memory).
 */
export const planes: [string, FanoutPlaneOptions][] = [
  ['JavaScript', { engine: 'js' }],
  ['native, in this thread', { engine: 'native', shards: 0 }],
  ['native, two worker shards', { engine: 'native', shards: 2 }],
];

/**
 * A data plane, a source on it (video payload type 96, audio 111) and a peer factory on loopback;
 * their closing goes into `cleanups`, run in reverse by the test's afterEach.
 */
export async function planeWithSource(options: FanoutPlaneOptions, cleanups: (() => unknown)[]) {
  const plane = FanoutPlane.open(options);
  const source = await RtpSource.open({
    id: 'cam',
    video: { payloadType: 96 },
    audio: { payloadType: 111 },
    plane,
  });
  const factory = new PeerFactory({ interfaceAddresses: ['127.0.0.1'] });
  cleanups.push(
    () => plane.close(),
    () => source.close(),
    () => factory.close(),
  );
  return { plane, source, factory };
}
