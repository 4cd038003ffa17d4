import type { RTCDtlsTransport, RtcpPacket } from 'werift';

// Checked against werift 0.25.2 (see checked-version.ts): `RTCDtlsTransport.sendRtcp(packets)`
// concatenates `packet.serialize()` of each, encrypts the compound with SRTCP and sends it
// (`lib/webrtc/src/transport/dtls.js`). A packet werift has no class for (transport-wide feedback
// as the server writes it) is sent as an object whose `serialize` returns its bytes. Covered by
// test/publisher-feedback.slow.test.ts (Chromium reads the feedback and raises its rate).

/** Sends one RTCP packet, already laid out, over the transport's SRTCP session. */
export function sendRawRtcp(transport: RTCDtlsTransport, packet: Uint8Array): Promise<void> {
  const bytes = Buffer.from(packet.buffer, packet.byteOffset, packet.byteLength);
  const raw = { serialize: () => bytes } as unknown as RtcpPacket;
  return transport.sendRtcp([raw]).then(() => undefined);
}
