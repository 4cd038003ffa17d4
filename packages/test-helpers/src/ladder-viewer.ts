import { type ChildProcess, spawn } from 'node:child_process';
import type { Browser, Page } from 'playwright-core';
import { recvonlyPage } from './chromium.js';
import { ladderFfmpegArgs } from './ladder.js';
import { waitFor } from './wait-for.js';

/** What {@link playLadder} reads of a source opened with renditions (`RtpSource`'s shape). */
export interface LadderSource {
  /** The top first, then the rungs high to low. */
  renditions(): readonly { port: number; height?: number | undefined; bitrateKbit: number }[];
  readonly audioPort?: number | undefined;
}

/**
 * Feeds a source opened with renditions from one FFmpeg: a 720p test pattern at `topKbit` and
 * each rung at its configured height and bitrate (`ladderFfmpegArgs`), Opus on the audio port. The
 * caller kills the child.
 */
export function playLadder(source: LadderSource, topKbit = 2000): ChildProcess {
  const [top, ...rungs] = source.renditions();
  const args = ladderFfmpegArgs({
    topPort: top!.port,
    topKbit,
    rungs: rungs.map((rung) => ({ port: rung.port, height: rung.height!, bitrateKbit: rung.bitrateKbit })),
    audioPort: source.audioPort!,
  });
  return spawn(process.env.CORE_FFMPEG_BINARY ?? 'ffmpeg', args, { stdio: 'ignore' });
}

/**
 * A page of `browser` receiving video and audio (`recvonlyPage`) whose offer `createPeer` answers
 * (e.g. `(offer) => factory.createPeer(source, offer)`): the server's end of the connection (its
 * peer) and the page, once the peer says it is connected. The caller closes the browser.
 */
export async function watchSource<P extends { readonly state: string }>(
  browser: Browser,
  createPeer: (offerSdp: string) => Promise<{ peer: P; answerSdp: string }>,
): Promise<{ page: Page; peer: P }> {
  let peer: P | undefined;
  const page = await recvonlyPage(browser, async (offer) => {
    const created = await createPeer(offer);
    peer = created.peer;
    return created.answerSdp;
  });
  await waitFor('the viewer connected', () => peer?.state === 'connected', 60_000);
  return { page, peer: peer! };
}
