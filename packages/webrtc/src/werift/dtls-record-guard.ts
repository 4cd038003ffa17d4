import type { RTCPeerConnection } from 'werift';

/**
 * werift internals touched — checked against werift 0.25.2 (`lib/index.mjs`: `DtlsSocket`,
 * `parsePlainText`, `RTCDtlsTransport.start`):
 * - `RTCDtlsTransport#dtls`, the `DtlsClient`/`DtlsServer` it creates when ICE connects;
 * - that socket's `connected`, `udpOnMessage`, `transport.socket.onData` (where the ICE transport
 *   hands it every DTLS datagram), `cipher.decryptPacket` and `onClose`.
 *
 * Why: werift 0.25.2 treats any record with an unknown content type as an alert and closes the
 * DTLS transport on it; it acts on an alert's first two bytes without decrypting them; and after
 * the handshake it still processes plaintext (epoch 0) handshake records, a ClientHello even
 * resetting the server's cipher state. One forged 13-byte datagram from a viewer's address (or,
 * on the shared mux, from anyone who had re-mapped that address) stopped the viewer's video.
 * RFC 6347 §4.1.2.7 (and RFC 9147 §4.5.2) says invalid records are discarded silently.
 *
 * The guard sits between the ICE transport and werift's DTLS socket and lets through:
 * - nothing with an unknown content type or a version that is not DTLS;
 * - during the handshake, everything else (werift's handshake needs it; an alert then may end it);
 * - after the handshake, no plaintext (epoch 0) record, and an alert only once it decrypts and
 *   authenticates under the session keys. A close_notify or a fatal alert then closes the
 *   transport (werift's own reaction to an alert); warnings are ignored. Handshake and
 *   application records of later epochs go on to werift, which authenticates them itself.
 */
export function guardDtlsRecords(pc: RTCPeerConnection): void {
  for (const transport of pc.dtlsTransports) {
    let socket: unknown;
    Object.defineProperty(transport, 'dtls', {
      configurable: true,
      enumerable: true,
      get: () => socket,
      set: (value: unknown) => {
        socket = value;
        if (isDtlsSocket(value)) value.transport.socket.onData = recordFilter(value);
      },
    });
  }
}

type DatagramHandler = (data: Buffer) => void;

interface RecordHeader {
  contentType: number;
  protocolVersion: { major: number; minor: number };
  epoch: number;
  sequenceNumber: number;
  contentLen: number;
}

interface DtlsSocketShape {
  connected: boolean;
  udpOnMessage: DatagramHandler;
  transport: { socket: { onData: DatagramHandler } };
  cipher: { decryptPacket(record: { recordLayerHeader: RecordHeader; fragment: Buffer }): Buffer };
  onClose: { execute(): void };
}

function isDtlsSocket(value: unknown): value is DtlsSocketShape {
  const socket = value as Partial<DtlsSocketShape> | undefined;
  return (
    typeof socket?.udpOnMessage === 'function' &&
    typeof socket.transport?.socket === 'object' &&
    typeof socket.cipher?.decryptPacket === 'function' &&
    typeof socket.onClose?.execute === 'function'
  );
}

const recordHeaderBytes = 13;
const ContentType = { changeCipherSpec: 20, alert: 21, handshake: 22, applicationData: 23 } as const;
const dtlsMajorVersion = 254;
const AlertLevel = { fatal: 2 } as const;
const closeNotify = 0;

function recordFilter(socket: DtlsSocketShape): DatagramHandler {
  const deliver = socket.udpOnMessage;
  return (data) => {
    const records: Buffer[] = [];
    let whole = true;
    for (let offset = 0; offset < data.length; ) {
      const end =
        offset + recordHeaderBytes <= data.length
          ? offset + recordHeaderBytes + data.readUInt16BE(offset + 11)
          : Number.POSITIVE_INFINITY;
      // A truncated record ends the datagram (RFC 6347 §4.1.2.7: discard it).
      if (end > data.length) {
        whole = false;
        break;
      }
      const record = data.subarray(offset, end);
      if (admit(socket, record)) records.push(record);
      else whole = false;
      offset = end;
    }
    if (whole) deliver(data);
    else for (const record of records) deliver(record);
  };
}

function admit(socket: DtlsSocketShape, record: Buffer): boolean {
  const type = record[0] ?? 0;
  if (type < ContentType.changeCipherSpec || type > ContentType.applicationData) return false;
  if (record[1] !== dtlsMajorVersion) return false;
  if (!socket.connected) return true;
  const epoch = record.readUInt16BE(3);
  if (epoch === 0) return false;
  if (type !== ContentType.alert) return true;
  const alert = decrypt(socket, record);
  if (alert?.length === 2 && (alert[0] === AlertLevel.fatal || alert[1] === closeNotify)) {
    socket.onClose.execute();
  }
  return false;
}

function decrypt(socket: DtlsSocketShape, record: Buffer): Buffer | undefined {
  try {
    return socket.cipher.decryptPacket({
      recordLayerHeader: {
        contentType: record[0] ?? 0,
        protocolVersion: { major: record[1] ?? 0, minor: record[2] ?? 0 },
        epoch: record.readUInt16BE(3),
        sequenceNumber: record.readUIntBE(5, 6),
        contentLen: record.length - recordHeaderBytes,
      },
      fragment: record.subarray(recordHeaderBytes),
    });
  } catch {
    // Not made with the session keys: a forgery, discarded like any invalid record.
    return undefined;
  }
}
