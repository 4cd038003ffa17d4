import { waitFor } from '@dragon/test-helpers';
import { playLadder } from '@dragon/test-helpers/adaptive';
import { FanoutPlane, PeerFactory, RtpSource } from '../../src/index.js';

/** The rungs below the 720p top of the adaptation tests' source. */
export const ladder = [
  { id: '480p', height: 480, bitrateKbit: 800 },
  { id: '360p', height: 360, bitrateKbit: 350 },
  { id: '240p', height: 240, bitrateKbit: 130 },
] as const;

/** A source with the ladder, fed by FFmpeg, and the factory of its viewers' peers. */
export interface LadderFixture {
  readonly source: RtpSource;
  readonly factory: PeerFactory;
  close(): Promise<void>;
}

/**
 * Opens a data plane and a source with {@link ladder}, feeds it a 720p ~2 Mbit/s test pattern and
 * its rungs from one FFmpeg (`playLadder`), and waits for a keyframe on every rendition. Peers
 * gather on `host` only: the server's end of a capped link, which a loopback browser reaches too.
 */
export async function openLadder(host: string): Promise<LadderFixture> {
  const plane = FanoutPlane.open();
  const source = await RtpSource.open({
    id: 'ladder',
    video: { payloadType: 96 },
    renditions: ladder.map((rung) => ({ ...rung, codec: 'h264' as const, payloadType: 96 })),
    audio: { payloadType: 111 },
    plane,
  });
  const ffmpeg = playLadder(source);
  const factory = new PeerFactory({ interfaceAddresses: [host] });
  const close = async () => {
    ffmpeg.kill('SIGKILL');
    await factory.close();
    source.close();
    await plane.close();
  };
  try {
    await waitFor(
      'a keyframe on every rendition',
      () => source.renditions().every((rendition) => rendition.keyframes > 0),
      60_000,
    );
  } catch (error) {
    await close();
    throw error;
  }
  return { source, factory, close };
}
