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

/**
 * A minimal WebRTC offer of one m-section (H.264 video or Opus audio) with the given candidate
 * lines; no real agent stands behind its credentials, so nothing ever answers the server's checks.
 */
export function handwrittenOffer(kind: 'video' | 'audio', candidates: string[] = []): string {
  const codec =
    kind === 'video'
      ? [
          'a=rtpmap:106 H264/90000',
          'a=fmtp:106 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f',
        ]
      : ['a=rtpmap:111 opus/48000/2'];
  return [
    'v=0',
    'o=- 1 1 IN IP4 127.0.0.1',
    's=-',
    't=0 0',
    'a=group:BUNDLE 0',
    'a=ice-ufrag:vwxy',
    'a=ice-pwd:abcdefghijklmnopqrstuvwx',
    'a=fingerprint:sha-256 00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF',
    'a=setup:actpass',
    `m=${kind} 9 UDP/TLS/RTP/SAVPF ${kind === 'video' ? 106 : 111}`,
    'c=IN IP4 0.0.0.0',
    'a=mid:0',
    'a=recvonly',
    'a=rtcp-mux',
    ...codec,
    ...candidates,
    '',
  ].join('\r\n');
}
