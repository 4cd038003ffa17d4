// werift internals, checked against werift 0.25.2 (see checked-version.ts): the ICE `Connection`'s
// `options.stunServer` and its `stunServer` field (`lib/ice/src/ice.js`).
import type { RTCPeerConnection } from 'werift';

/**
 * werift's ICE agent falls back to a public STUN server (stun.l.google.com) whenever no STUN
 * server is configured, even with `iceServers: []`: every peer then resolves and queries it while
 * gathering. Offline that stalls the answer by the 5 s STUN timeout, and it always sends traffic
 * the operator did not ask for. With no STUN server configured, this pins the agents' STUN server
 * to none before they gather (werift re-applies its default when servers are set again, hence a
 * property rather than an assignment).
 *
 * Call after the transports exist (after `setRemoteDescription` for an answerer, after
 * `addTransceiver` for an offerer) and before `setLocalDescription`.
 */
export function withoutDefaultStunServer(pc: RTCPeerConnection): void {
  for (const transport of pc.iceTransports) {
    const connection = transport.connection as unknown as { options?: { stunServer?: unknown } };
    if (connection.options?.stunServer) continue; // one was configured: keep it
    Object.defineProperty(connection, 'stunServer', {
      configurable: true,
      get: () => undefined,
      set: () => undefined,
    });
  }
}
