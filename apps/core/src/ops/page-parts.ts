// What the player and the publish page share: their look, and the wait for ICE gathering that
// makes their offers non-trickle (every candidate in the offer, as the server's answer has).

/** The pages' common CSS rules (dark page, one centred column, a 16:9 video, the status line). */
export const pageStyle = `  body { margin: 0; background: #111; color: #ddd; font: 14px system-ui, sans-serif; }
  main { max-width: 960px; margin: 0 auto; padding: 16px; }
  video { width: 100%; background: #000; aspect-ratio: 16 / 9; }
  #status { margin-top: 8px; min-height: 1.4em; }`;

/**
 * `waitForIceGathering(peer)` for a page's script: resolves once gathering is complete, or after
 * 2 s (a network with an unreachable STUN server would otherwise hold the offer back).
 */
export const iceGatheringScript = `async function waitForIceGathering(peer) {
  if (peer.iceGatheringState === 'complete') return;
  await new Promise((resolve) => {
    const done = () => { if (peer.iceGatheringState === 'complete') resolve(); };
    peer.addEventListener('icegatheringstatechange', done);
    setTimeout(resolve, 2000);
  });
}`;
