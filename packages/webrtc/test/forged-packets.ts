import { createSocket, type Socket } from 'node:dgram';
import { Message, type RTCPeerConnection } from 'werift';
import { closeNotifyOf } from '../src/werift/dtls-close-notify.js';

/**
 * What an attacker without the session keys can put on the wire, built byte by byte so the tests
 * do not depend on the code they test, and what a real viewer sends.
 */

/** A DTLS 1.2 record header (RFC 6347 §4.1) followed by `fragment`. */
export function dtlsRecord(contentType: number, epoch: number, sequence: number, fragment: Buffer): Buffer {
  const header = Buffer.alloc(13);
  header[0] = contentType;
  header[1] = 0xfe;
  header[2] = 0xfd;
  header.writeUInt16BE(epoch, 3);
  header.writeUIntBE(sequence, 5, 6);
  header.writeUInt16BE(fragment.length, 11);
  return Buffer.concat([header, fragment]);
}

/** A DTLS handshake message (RFC 6347 §4.2.2) of `type` in one fragment. */
function handshake(type: number, body: Buffer): Buffer {
  const header = Buffer.alloc(12);
  header[0] = type;
  header.writeUIntBE(body.length, 1, 3);
  header.writeUInt16BE(5, 4);
  header.writeUIntBE(0, 6, 3);
  header.writeUIntBE(body.length, 9, 3);
  return Buffer.concat([header, body]);
}

/** Forged records, none made with the session keys, each alone able to end a werift 0.25.2 session. */
export const forgedRecords: Record<string, Buffer> = {
  // 13 bytes: a record of content type 99, which werift took for an alert.
  'an unknown content type': dtlsRecord(99, 0, 1, Buffer.alloc(0)),
  'a plaintext close_notify': dtlsRecord(21, 0, 2, Buffer.from([1, 0])),
  'a plaintext fatal alert': dtlsRecord(21, 0, 3, Buffer.from([2, 40])),
  // Read as "warning, close_notify" by werift from the first bytes, never decrypted.
  'an epoch-1 alert that does not decrypt': dtlsRecord(
    21,
    1,
    4,
    Buffer.concat([Buffer.from([1, 0]), Buffer.alloc(24, 7)]),
  ),
  'a plaintext ClientHello': dtlsRecord(
    22,
    0,
    5,
    handshake(
      1,
      Buffer.concat([
        Buffer.from([0xfe, 0xfd]),
        Buffer.alloc(32, 1),
        Buffer.from([0, 0, 0, 2, 0xc0, 0x2b, 1, 0]),
      ]),
    ),
  ),
  'a plaintext HelloVerifyRequest': dtlsRecord(22, 0, 6, handshake(3, Buffer.from([0xfe, 0xfd, 1, 0xaa]))),
  'several records in one datagram': Buffer.concat([
    dtlsRecord(99, 0, 7, Buffer.alloc(0)),
    dtlsRecord(21, 0, 8, Buffer.from([1, 0])),
  ]),
};

/**
 * A STUN binding request as an ICE agent sends it (RFC 8445 §7.2.2), with MESSAGE-INTEGRITY
 * made with `password` unless it is undefined, and a FINGERPRINT.
 */
export function bindingRequest(username: string, password: string | undefined): Buffer {
  const request = new Message(0x0001, 0x0000)
    .setAttribute('USERNAME', username)
    .setAttribute('PRIORITY', 1_853_824_767)
    .setAttribute('ICE-CONTROLLING', 1n);
  if (password !== undefined) request.addMessageIntegrity(Buffer.from(password, 'utf8'));
  request.addFingerprint();
  return request.bytes;
}

/** The STUN transaction id (hex), and whether the message is a success response. */
export function stunTransaction(data: Buffer): { id: string; success: boolean } | undefined {
  if (data.length < 20 || data.readUInt32BE(4) !== 0x2112a442) return undefined;
  return { id: data.toString('hex', 8, 20), success: data.readUInt16BE(0) === 0x0101 };
}

export function iceCredentials(sdp: string): { ufrag: string; pwd: string } {
  return {
    ufrag: /^a=ice-ufrag:(\S+)/m.exec(sdp)?.[1] ?? '',
    pwd: /^a=ice-pwd:(\S+)/m.exec(sdp)?.[1] ?? '',
  };
}

/** The UDP socket a werift peer uses for its selected pair, and where that pair leads. */
export function selectedPath(pc: RTCPeerConnection): { socket: Socket; remote: [string, number] } {
  const connection = pc.iceTransports[0]?.connection as unknown as {
    nominated?: { protocol: { transport: { socket: Socket } }; remoteAddr: [string, number] };
  };
  const pair = connection.nominated;
  if (!pair) throw new Error('no selected candidate pair yet');
  return { socket: pair.protocol.transport.socket, remote: pair.remoteAddr };
}

/** A UDP socket on `address` that records every datagram it receives. */
export async function listeningSocket(address: string): Promise<{ socket: Socket; received: Buffer[] }> {
  const socket = createSocket('udp4');
  const received: Buffer[] = [];
  socket.on('message', (data) => received.push(data));
  await new Promise<void>((resolve) => socket.bind(0, address, resolve));
  return { socket, received };
}

/**
 * A close_notify alert made with the peer's own DTLS keys (RFC 5246 §7.2.1), as a browser sends
 * it when its page closes the connection. werift 0.25.2 never sends one itself, so the test viewer
 * builds it from its DTLS socket, as the server's peers do.
 */
export function authenticCloseNotify(pc: RTCPeerConnection): Buffer {
  const record = closeNotifyOf(pc);
  if (!record) throw new Error('no connected DTLS transport');
  return record;
}
