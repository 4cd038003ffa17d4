// werift behaviour, checked against werift 0.25.2 (see checked-version.ts): after an ICE restart
// (new credentials in setRemoteDescription, or `restartIce()` + createOffer) werift resets each
// `RTCIceTransport` to `new` with new local credentials, but `RTCPeerConnection.connect()`, which
// starts the connectivity checks, returns early for a transport whose DTLS is already connected —
// so neither side checks the new candidate pairs and the restart never completes. Starting the
// restarted transports by hand is what `connect()` would do for them.
import type { RTCPeerConnection } from 'werift';

/**
 * Starts the connectivity checks of `pc`'s ICE transports that an ICE restart left unstarted,
 * once both descriptions carry the new credentials; a failure shows in the connection state.
 */
export function startRestartedIce(pc: RTCPeerConnection): void {
  for (const transport of pc.iceTransports) {
    if (transport.state !== 'new' && transport.state !== 'completed') continue;
    // werift reports its own failure through the transport's state: `failed` ends the peer.
    void transport.start().catch(() => undefined);
  }
}
