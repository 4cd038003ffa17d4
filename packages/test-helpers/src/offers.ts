/**
 * A well-formed WebRTC offer (ICE credentials, DTLS fingerprint) whose only codec is VP8: nothing
 * Dragon sends (H.264 packetization-mode 1, Opus), so the engine refuses it with NO_USABLE_CODEC.
 */
export const vp8OnlyOffer: string = [
  'v=0',
  'o=- 1 1 IN IP4 127.0.0.1',
  's=-',
  't=0 0',
  'a=ice-ufrag:abcd',
  'a=ice-pwd:abcdefghijklmnopqrstuvwx',
  'a=fingerprint:sha-256 00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF',
  'm=video 9 UDP/TLS/RTP/SAVPF 100',
  'c=IN IP4 0.0.0.0',
  'a=mid:0',
  'a=recvonly',
  'a=rtpmap:100 VP8/90000',
  '',
].join('\r\n');
