import { describe, expect, it } from 'vitest';
import { InvalidSdpError, NoUsableCodecError } from '../errors.js';
import { finishAnswer, planOffer } from './sdp-negotiation.js';

function offer(
  video: string[],
  audio: string[] = ['a=rtpmap:111 opus/48000/2', 'a=fmtp:111 minptime=10;useinbandfec=1'],
): string {
  const videoPts = video.filter((line) => line.startsWith('a=rtpmap:')).map((line) => line.split(/[: ]/)[1]);
  return [
    'v=0',
    'o=- 1 2 IN IP4 127.0.0.1',
    's=-',
    't=0 0',
    'a=group:BUNDLE 0 1',
    'a=ice-ufrag:abcd',
    'a=ice-pwd:abcdefghijklmnopqrstuvwx',
    'a=fingerprint:sha-256 00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF',
    `m=video 9 UDP/TLS/RTP/SAVPF ${videoPts.join(' ')}`,
    'c=IN IP4 0.0.0.0',
    'a=mid:0',
    'a=recvonly',
    'a=rtcp-mux',
    ...video,
    'm=audio 9 UDP/TLS/RTP/SAVPF 111',
    'c=IN IP4 0.0.0.0',
    'a=mid:1',
    'a=recvonly',
    'a=rtcp-mux',
    ...audio,
    '',
  ].join('\r\n');
}

const h264 = (pt: number, mode: number, profile: string) => [
  `a=rtpmap:${pt} H264/90000`,
  `a=rtcp-fb:${pt} nack`,
  `a=fmtp:${pt} level-asymmetry-allowed=1;packetization-mode=${mode};profile-level-id=${profile}`,
];

describe('planOffer', () => {
  it('pins Chrome-shaped offers to packetization-mode 1 constrained baseline', () => {
    const chrome = offer([
      ...'a=rtpmap:96 VP8/90000'.split('|'),
      ...h264(102, 1, '42001f'),
      ...h264(103, 0, '42001f'),
      ...h264(106, 1, '42e01f'),
      ...h264(112, 1, '64001f'),
      'a=rtpmap:45 AV1/90000',
    ]);
    const plan = planOffer(chrome, { hasAudio: true });
    expect(plan.videoPayloadType).toBe(106);
    expect(plan.audioPayloadType).toBe(111);
    expect(plan.sdp).toContain('m=video 9 UDP/TLS/RTP/SAVPF 106\r\n');
    expect(plan.sdp).not.toMatch(/a=rtpmap:(96|102|103|112|45) /);
  });

  it('takes Firefox numbering and a Safari offer with only baseline and high', () => {
    expect(
      planOffer(offer([...h264(126, 1, '42e01f'), ...h264(97, 0, '42e01f'), 'a=rtpmap:120 VP8/90000']), {
        hasAudio: true,
      }).videoPayloadType,
    ).toBe(126);
    expect(
      planOffer(offer([...h264(98, 1, '640c1f'), ...h264(100, 1, '42c01f')]), { hasAudio: true })
        .videoPayloadType,
    ).toBe(100);
  });

  it('rejects an m-line without a usable codec and keeps the other', () => {
    const plan = planOffer(offer(['a=rtpmap:96 VP8/90000']), { hasAudio: true });
    expect(plan.videoPayloadType).toBeUndefined();
    expect(plan.sdp).toContain('m=video 0 UDP/TLS/RTP/SAVPF 96');
    expect(plan.audioPayloadType).toBe(111);
  });

  it('rejects the audio m-line of a source without audio', () => {
    const plan = planOffer(offer(h264(106, 1, '42e01f')), { hasAudio: false });
    expect(plan.audioPayloadType).toBeUndefined();
    expect(plan.sdp).toContain('m=audio 0 ');
  });

  it('throws a typed error when nothing is usable, and for text that is not SDP', () => {
    expect(() =>
      planOffer(offer(['a=rtpmap:96 VP8/90000'], ['a=rtpmap:0 PCMU/8000']), { hasAudio: true }),
    ).toThrow(NoUsableCodecError);
    const withoutFingerprint = offer(h264(106, 1, '42e01f')).replace(/a=fingerprint:.*\r\n/, '');
    expect(() => planOffer(withoutFingerprint, { hasAudio: true })).toThrow(/fingerprint/);
    for (const bad of [
      '',
      'hello',
      'v=0\r\ns=-\r\n',
      'v=0\r\nm=video\r\n',
      'v=0\r\n\u0000\u0001m=video 9 RTP 96',
      `v=0\r\n${'a=x\r\n'.repeat(20000)}`,
    ]) {
      expect(() => planOffer(bad, { hasAudio: true })).toThrow(InvalidSdpError);
    }
  });
});

describe('finishAnswer', () => {
  const answer = [
    'v=0',
    'o=- 1 1 IN IP4 0.0.0.0',
    's=-',
    't=0 0',
    'm=video 9 UDP/TLS/RTP/SAVPF 106',
    'a=candidate:1 1 udp 1 127.0.0.1 5000 typ host',
    'a=candidate:2 1 udp 1 10.1.2.3 5000 typ host',
    'a=ice-options:trickle',
    'a=sendonly',
    'a=mid:0',
    'a=rtcp-mux',
    'm=audio 0 UDP/TLS/RTP/SAVPF 111',
    'a=mid:1',
    'a=inactive',
    '',
  ].join('\r\n');

  it('adds rtcp-mux-only and one msid to sending sections, drops trickle and filtered candidates', () => {
    const { sdp, candidates } = finishAnswer(answer, {
      streamId: 's1',
      candidateAddresses: new Set(['127.0.0.1']),
    });
    expect(candidates).toBe(1);
    expect(sdp).not.toContain('10.1.2.3');
    expect(sdp).not.toContain('ice-options:trickle');
    expect(sdp.match(/a=rtcp-mux-only/g)).toHaveLength(1);
    expect(sdp).toContain('a=msid:s1 s1-video');
    expect(sdp.match(/a=msid/g)).toHaveLength(1);
  });
});
