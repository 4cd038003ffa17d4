// werift internals, checked against werift 0.25.2 (see checked-version.ts): the ICE `Connection`'s
// `nominated` candidate pair (`lib/ice/src/ice.js`), its `protocol` (`StunProtocol` for UDP, with
// the `transport` werift or the UDP mux made; the TCP and TURN protocols otherwise) and its
// `remoteAddr`; `Connection.send` for everything that is not plain UDP.
import { Socket } from 'node:dgram';
import type { RTCPeerConnection } from 'werift';
import type { ViewerTarget } from '../fanout/plane-handles.js';

interface ConnectionShape {
  nominated?: { protocol?: { type?: unknown; transport?: { socket?: unknown } }; remoteAddr?: unknown };
  state?: unknown;
  send?: (data: Buffer) => Promise<void>;
}

const ignore = (): undefined => undefined;

/**
 * Where a connected peer's media goes: the UDP socket and viewer address of the nominated ICE pair
 * (werift's own socket for the peer, or the UDP mux's), so the data plane can send there directly;
 * or, for ICE-TCP (RFC 4571 framing) and TURN, werift's own send on this thread. `none` before a
 * pair is nominated or once the connection has failed or closed.
 */
export function selectedTarget(pc: RTCPeerConnection): ViewerTarget {
  const connection = pc.iceTransports[0]?.connection as unknown as ConnectionShape | undefined;
  const pair = connection?.nominated;
  if (!connection || !pair || connection.state === 'closed' || connection.state === 'failed') {
    return { type: 'none' };
  }
  const socket = pair.protocol?.transport?.socket;
  const remote = pair.remoteAddr;
  if (
    pair.protocol?.type === 'stun' &&
    socket instanceof Socket &&
    Array.isArray(remote) &&
    typeof remote[0] === 'string' &&
    typeof remote[1] === 'number'
  ) {
    return { type: 'udp', socket, host: remote[0], port: remote[1] };
  }
  const send = connection.send;
  if (typeof send !== 'function') return { type: 'none' };
  return { type: 'writer', write: (packet) => void send.call(connection, packet).catch(ignore) };
}

/** Whether two targets send to the same place (a re-nominated pair, a NAT rebinding, a new socket). */
export function sameTarget(a: ViewerTarget, b: ViewerTarget): boolean {
  if (a.type !== b.type) return false;
  if (a.type === 'udp' && b.type === 'udp') {
    return a.socket === b.socket && a.host === b.host && a.port === b.port;
  }
  return true;
}
