import type { RTCPeerConnection } from 'werift';

/**
 * Resolves once `pc` has gathered all its candidates, or after `timeoutMs` with what it has: the
 * engine answers, and a WHEP client offers, without trickle, so the SDP must carry every candidate.
 */
export async function iceGatheringComplete(pc: RTCPeerConnection, timeoutMs: number): Promise<void> {
  if (pc.iceGatheringState === 'complete') return;
  await new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, timeoutMs);
    const subscription = pc.iceGatheringStateChange.subscribe((state) => {
      if (state !== 'complete') return;
      clearTimeout(timer);
      subscription.unSubscribe();
      resolve();
    });
  });
}
