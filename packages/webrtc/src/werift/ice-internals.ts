// werift internals, checked against werift 0.25.2 (see checked-version.ts): the ICE `Connection`
// behind each `RTCIceTransport` (`lib/ice/src/ice.js`): its `nominated` candidate pair's
// `responsesReceived` counter, its `localCandidates` and its private `protocols` list (one per
// gathered socket, with the `localCandidate` gathered on it; UDP ones are of `type` 'stun' with a
// `transport` with `onData`; passive ICE-TCP ones carry `server` and `registerSocket`).
import type { RTCPeerConnection } from 'werift';
import type { PassiveTcpProtocol } from '../ice/ice-tcp-mux.js';

interface ConnectionShape {
  nominated?: { responsesReceived?: unknown };
  protocols?: unknown;
  localCandidates?: unknown;
}

interface ProtocolShape {
  type?: unknown;
  localCandidate?: { host?: unknown };
  close?: () => Promise<void>;
}

function connections(pc: RTCPeerConnection): ConnectionShape[] {
  return pc.iceTransports.map((transport) => transport.connection as unknown as ConnectionShape);
}

/**
 * STUN responses the peer's nominated pairs have received, all transports together: werift's ICE
 * consent checks (RFC 7675) answered by the viewer. `undefined` when no transport has a nominated
 * pair with that counter (not connected yet, or werift changed shape).
 */
export function consentResponses(pc: RTCPeerConnection): number | undefined {
  let total: number | undefined;
  for (const connection of connections(pc)) {
    const responses = connection.nominated?.responsesReceived;
    if (typeof responses === 'number') total = (total ?? 0) + responses;
  }
  return total;
}

/** werift's passive ICE-TCP listeners of a peer, each with the server socket it opened. */
export function passiveTcpProtocols(
  pc: RTCPeerConnection,
): (PassiveTcpProtocol & { server: { close(): void } })[] {
  return connections(pc)
    .flatMap((connection) => (Array.isArray(connection.protocols) ? (connection.protocols as unknown[]) : []))
    .filter(
      (protocol): protocol is PassiveTcpProtocol & { server: { close(): void } } =>
        typeof protocol === 'object' &&
        protocol !== null &&
        'server' in protocol &&
        'registerSocket' in protocol,
    );
}

/**
 * Closes a peer's UDP ICE sockets whose host candidate is not in `advertised`, and forgets them
 * and their candidates. werift gathers on every address of the machine when the configured
 * interface is one it does not list (loopback), and on every additional host address; a socket
 * whose candidate the answer leaves out is never paired (`iceFilterCandidatePair`) yet costs the
 * viewer a descriptor, a port and its werift objects. Call once gathering is complete. Returns how
 * many it closed.
 */
export function closeUnadvertisedSockets(pc: RTCPeerConnection, advertised: ReadonlySet<string>): number {
  let closed = 0;
  for (const connection of connections(pc)) {
    if (!Array.isArray(connection.protocols)) continue;
    const unused = (connection.protocols as ProtocolShape[]).filter(
      (protocol) =>
        protocol.type === 'stun' &&
        typeof protocol.localCandidate?.host === 'string' &&
        !advertised.has(protocol.localCandidate.host),
    );
    if (unused.length === 0) continue;
    connection.protocols = (connection.protocols as ProtocolShape[]).filter(
      (protocol) => !unused.includes(protocol),
    );
    if (Array.isArray(connection.localCandidates)) {
      const candidates = new Set(unused.map((protocol) => protocol.localCandidate));
      connection.localCandidates = connection.localCandidates.filter(
        (candidate) => !candidates.has(candidate),
      );
    }
    for (const protocol of unused) void protocol.close?.().catch(() => undefined);
    closed += unused.length;
  }
  return closed;
}

/**
 * Closes every ICE socket of a peer without a word: no DTLS alert, no RTCP BYE, nothing on the
 * wire — what a viewer whose network vanished looks like to the server.
 */
export async function dropIceSockets(pc: RTCPeerConnection): Promise<void> {
  for (const connection of connections(pc)) {
    const protocols = Array.isArray(connection.protocols) ? (connection.protocols as unknown[]) : [];
    for (const protocol of protocols) {
      const close = (protocol as { close?: unknown }).close;
      if (typeof close === 'function') await Promise.resolve(close.call(protocol)).catch(() => undefined);
    }
  }
}

type DatagramHandler = (data: Buffer, addr: unknown) => void;

/**
 * Drops the datagrams a peer receives over UDP for which `keep` says false, before werift sees
 * them: a lossy network for one viewer (tests of loss recovery). Wraps the `onData` handler of each
 * of the peer's UDP transports (werift's `UdpTransport`, set by its `StunProtocol`); returns how
 * many transports it wrapped.
 */
export function filterIncoming(pc: RTCPeerConnection, keep: (datagram: Buffer) => boolean): number {
  let wrapped = 0;
  for (const connection of connections(pc)) {
    const protocols = Array.isArray(connection.protocols) ? (connection.protocols as unknown[]) : [];
    for (const protocol of protocols) {
      const transport = (protocol as { transport?: { onData?: unknown } }).transport;
      const deliver = transport?.onData;
      if (!transport || typeof deliver !== 'function') continue;
      transport.onData = ((data: Buffer, addr: unknown) => {
        if (keep(data)) (deliver as DatagramHandler).call(transport, data, addr);
      }) satisfies DatagramHandler;
      wrapped++;
    }
  }
  return wrapped;
}
