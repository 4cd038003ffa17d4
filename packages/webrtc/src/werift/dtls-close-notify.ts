import type { RTCPeerConnection } from 'werift';

/**
 * werift internals touched — checked against werift 0.25.2 (`lib/index.mjs`: `DtlsSocket.send`,
 * `createPlaintext`, `CipherContext.encryptPacket`, `DtlsPlaintext.serialize`):
 * - `RTCDtlsTransport#dtls`, the `DtlsClient`/`DtlsServer` of a connected transport;
 * - that socket's `connected`, `dtls.version`/`epoch`/`recordSequenceNumber`,
 *   `cipher.encryptPacket` and `transport.send` (the ICE transport's send).
 *
 * Why: werift never sends a close_notify. Its `close()` stops the ICE transport without a word,
 * so a viewer of a server that shut down or ended the session keeps a connection that only its
 * ICE consent checks find dead (RFC 7675: a browser calls it disconnected after some seconds and
 * failed after about 16). A close_notify alert (RFC 5246 §7.2.1, carried over to DTLS by RFC 6347
 * §4.1) says "this session is over" at once: Chromium and werift close their DTLS transport on it.
 *
 * The record is built as werift's own `DtlsSocket.send` builds application data: the current
 * epoch's next record sequence number, encrypted and authenticated with the session's cipher.
 * Resolves once the datagrams are handed to the operating system, with how many transports were
 * told (0 before the handshake completed, or if werift changed shape, in which case nothing is
 * touched; `werift-shape.test.ts` notices).
 */
export async function sendCloseNotify(pc: RTCPeerConnection): Promise<number> {
  const sends = connectedSockets(pc).map((socket) => socket.transport.send(closeNotifyRecord(socket)));
  await Promise.all(sends);
  // werift's UDP send returns before the datagram leaves: Node's dgram resolves even a literal
  // address on the next tick, and a socket closed before then drops the datagram without a word
  // (the peer closes its ICE sockets right after this). One turn of the event loop lets it go.
  if (sends.length > 0) await new Promise((resolve) => setImmediate(resolve));
  return sends.length;
}

/**
 * The close_notify record of `pc`'s first connected DTLS transport, ready for the wire, without
 * sending it (each call takes the next record sequence number); undefined before the handshake.
 * Tests use it to play a viewer that ends its session.
 */
export function closeNotifyOf(pc: RTCPeerConnection): Buffer | undefined {
  const [socket] = connectedSockets(pc);
  return socket ? closeNotifyRecord(socket) : undefined;
}

function connectedSockets(pc: RTCPeerConnection): ConnectedSocketShape[] {
  return pc.dtlsTransports
    .map((transport) => (transport as unknown as { dtls?: unknown }).dtls)
    .filter(isConnectedSocket);
}

/** Built as werift's own `DtlsSocket.send` builds application data, under the current epoch. */
function closeNotifyRecord(socket: ConnectedSocketShape): Buffer {
  const { dtls } = socket;
  return serialize(
    socket.cipher.encryptPacket({
      recordLayerHeader: {
        contentType: alertContentType,
        protocolVersion: { major: dtls.version.major, minor: dtls.version.minor },
        epoch: dtls.epoch,
        sequenceNumber: ++dtls.recordSequenceNumber,
        contentLen: closeNotifyAlert.length,
      },
      fragment: closeNotifyAlert,
    }),
  );
}

/** Alert level warning (1), description close_notify (0): RFC 5246 §7.2. */
const closeNotifyAlert = Buffer.from([1, 0]);
const alertContentType = 21;
const recordHeaderBytes = 13;

interface DtlsRecord {
  recordLayerHeader: {
    contentType: number;
    protocolVersion: { major: number; minor: number };
    epoch: number;
    sequenceNumber: number;
    contentLen: number;
  };
  fragment: Buffer;
}

interface ConnectedSocketShape {
  connected: true;
  dtls: { version: { major: number; minor: number }; epoch: number; recordSequenceNumber: number };
  cipher: { encryptPacket(record: DtlsRecord): DtlsRecord };
  transport: { send(data: Buffer): Promise<unknown> };
}

function isConnectedSocket(value: unknown): value is ConnectedSocketShape {
  const socket = value as Partial<ConnectedSocketShape> | undefined;
  return (
    socket?.connected === true &&
    typeof socket.dtls?.epoch === 'number' &&
    typeof socket.dtls.recordSequenceNumber === 'number' &&
    typeof socket.dtls.version?.major === 'number' &&
    typeof socket.cipher?.encryptPacket === 'function' &&
    typeof socket.transport?.send === 'function'
  );
}

/** A DTLS record on the wire (RFC 6347 §4.1): the 13-byte header, then the fragment. */
function serialize(record: DtlsRecord): Buffer {
  const header = record.recordLayerHeader;
  const bytes = Buffer.alloc(recordHeaderBytes + record.fragment.length);
  bytes.writeUInt8(header.contentType, 0);
  bytes.writeUInt8(header.protocolVersion.major, 1);
  bytes.writeUInt8(header.protocolVersion.minor, 2);
  bytes.writeUInt16BE(header.epoch, 3);
  bytes.writeUIntBE(header.sequenceNumber, 5, 6);
  bytes.writeUInt16BE(record.fragment.length, 11);
  record.fragment.copy(bytes, recordHeaderBytes);
  return bytes;
}
