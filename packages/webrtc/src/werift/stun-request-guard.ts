import type { RTCPeerConnection } from 'werift';
import { readStun, verifyStunIntegrity } from '../ice/stun.js';

/**
 * werift internals touched — checked against werift 0.25.2 (`lib/index.mjs`: `Connection`,
 * `StunProtocol`, `TcpPassiveProtocol`):
 * - `Connection#ensureProtocol(protocol)`, called for every UDP, TCP and TURN protocol before it
 *   starts, and `Connection#protocols`, `#localUsername`, `#localPassword`;
 * - each protocol's `onRequestReceived` event, whose `execute(message, addr, data)` receives the
 *   raw STUN request.
 *
 * Why: werift 0.25.2 answers every binding request — without MESSAGE-INTEGRITY, with a wrong one,
 * with any USERNAME — and learns from it (a peer-reflexive candidate and a triggered check to the
 * sender, an ICE role switch on a role conflict). Measured: one 36-byte request with a viewer's
 * USERNAME (plaintext on the wire) brought 504 bytes back to an address of the sender's choosing.
 * RFC 8445 §7.3 has an agent authenticate a request (short-term credentials, its own password,
 * RFC 5389 §10.1.2) before it responds or acts; §7.2.2 makes FINGERPRINT mandatory in checks.
 *
 * The guard drops requests whose USERNAME does not start with the agent's own ufrag or that lack
 * a valid MESSAGE-INTEGRITY and FINGERPRINT, before werift sees them. Dropping instead of a 400 or
 * 401 error response keeps an unauthenticated sender from getting any datagram back.
 *
 * Install after the ICE transports exist (after `setRemoteDescription` for an answerer) and
 * before gathering (`setLocalDescription`).
 */
export function requireAuthenticatedStun(pc: RTCPeerConnection): void {
  for (const transport of pc.iceTransports) {
    const connection = transport.connection as unknown as AgentShape;
    for (const protocol of connection.protocols) guardProtocol(connection, protocol);
    const ensureProtocol = connection.ensureProtocol;
    connection.ensureProtocol = function (this: AgentShape, protocol: ProtocolShape) {
      guardProtocol(connection, protocol);
      return ensureProtocol.call(this, protocol);
    };
  }
}

type RequestHandler = (message: unknown, addr: unknown, data: unknown) => void;

interface ProtocolShape {
  onRequestReceived?: { execute: RequestHandler };
}

interface AgentShape {
  localUsername: string;
  localPassword: string;
  protocols: ProtocolShape[];
  ensureProtocol(protocol: ProtocolShape): unknown;
}

const guarded = new WeakSet<object>();

function guardProtocol(agent: AgentShape, protocol: ProtocolShape): void {
  const event = protocol.onRequestReceived;
  if (!event || guarded.has(event)) return;
  guarded.add(event);
  const execute = event.execute;
  event.execute = (message, addr, data) => {
    if (authentic(agent, data)) execute(message, addr, data);
  };
}

function authentic(agent: AgentShape, data: unknown): boolean {
  if (!Buffer.isBuffer(data)) return false;
  const username = readStun(data)?.username;
  return (
    username?.startsWith(`${agent.localUsername}:`) === true && verifyStunIntegrity(data, agent.localPassword)
  );
}
