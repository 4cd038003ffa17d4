import { describe, expect, it } from 'vitest';
import { InvalidSdpError, NoUsableCodecError } from '../errors.js';
import { RemoteCandidateGate } from '../ice/remote-candidates.js';
import { checkOffer, finishAnswer, type PlanOptions, planOffer } from './sdp-negotiation.js';

const withAudio = (): PlanOptions => ({ hasAudio: true, candidates: new RemoteCandidateGate() });

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
    const plan = planOffer(chrome, withAudio());
    expect(plan.videoPayloadType).toBe(106);
    expect(plan.audioPayloadType).toBe(111);
    expect(plan.sdp).toContain('m=video 9 UDP/TLS/RTP/SAVPF 106\r\n');
    expect(plan.sdp).not.toMatch(/a=rtpmap:(96|102|103|112|45) /);
  });

  it('takes Firefox numbering and a Safari offer with only baseline and high', () => {
    expect(
      planOffer(
        offer([...h264(126, 1, '42e01f'), ...h264(97, 0, '42e01f'), 'a=rtpmap:120 VP8/90000']),
        withAudio(),
      ).videoPayloadType,
    ).toBe(126);
    expect(
      planOffer(offer([...h264(98, 1, '640c1f'), ...h264(100, 1, '42c01f')]), withAudio()).videoPayloadType,
    ).toBe(100);
  });

  it('answers VP8 to an offer without H.264 when the source has VP8, and H.264 whenever offered', () => {
    const withVp8 = { ...withAudio(), videoCodecs: ['h264', 'vp8'] as const };
    const firefoxWithoutOpenH264 = offer(['a=rtpmap:120 VP8/90000', 'a=rtpmap:121 VP9/90000']);
    const plan = planOffer(firefoxWithoutOpenH264, withVp8);
    expect([plan.videoCodec, plan.videoPayloadType]).toEqual(['vp8', 120]);
    expect(plan.sdp).toContain('m=video 9 UDP/TLS/RTP/SAVPF 120\r\n');
    expect(plan.sdp).not.toContain('VP9');
    const both = planOffer(offer(['a=rtpmap:96 VP8/90000', ...h264(106, 1, '42e01f')]), withVp8);
    expect([both.videoCodec, both.videoPayloadType]).toEqual(['h264', 106]);
    // A source without VP8 leaves such an offer without video, as before.
    expect(planOffer(firefoxWithoutOpenH264, withAudio()).videoCodec).toBeUndefined();
  });

  it('leaves an m-section without a usable codec out of what werift sees, and out of the bundle', () => {
    const vp8First = offer(['a=rtpmap:96 VP8/90000', 'a=rtpmap:98 VP9/90000']).replace(
      'a=rtcp-mux\r\na=rtpmap:96',
      'a=rtcp-mux\r\na=candidate:1 1 udp 2122260223 192.0.2.10 50000 typ host\r\na=rtpmap:96',
    );
    const plan = planOffer(vp8First, withAudio());
    expect(plan.videoPayloadType).toBeUndefined();
    expect(plan.audioPayloadType).toBe(111);
    expect(plan.sdp).not.toContain('m=video');
    expect(plan.sdp).toContain('a=group:BUNDLE 1\r\n');
    // The bundle's candidates, listed in its first section, move to the first answered one.
    expect(plan.sdp).toMatch(/m=audio[\s\S]*a=candidate:1 1 udp 2122260223 192\.0\.2\.10 50000 typ host/);
    expect(plan.sections).toEqual([
      {
        answered: false,
        kind: 'video',
        proto: 'UDP/TLS/RTP/SAVPF',
        format: '96',
        rtpmap: 'a=rtpmap:96 VP8/90000',
        mid: '0',
      },
      { answered: true },
    ]);
  });

  it('rejects the audio m-section of a source without audio', () => {
    const plan = planOffer(offer(h264(106, 1, '42e01f')), {
      hasAudio: false,
      candidates: new RemoteCandidateGate(),
    });
    expect(plan.audioPayloadType).toBeUndefined();
    expect(plan.sdp).not.toContain('m=audio');
    expect(plan.sections[1]).toMatchObject({ answered: false, kind: 'audio', mid: '1' });
  });

  it('rejects the video m-section of a source without video (an audio-only input)', () => {
    const plan = planOffer(offer(h264(106, 1, '42e01f')), {
      hasAudio: true,
      hasVideo: false,
      candidates: new RemoteCandidateGate(),
    });
    expect(plan.videoPayloadType).toBeUndefined();
    expect(plan.audioPayloadType).toBeDefined();
    expect(plan.sdp).not.toContain('m=video');
    expect(plan.sections[0]).toMatchObject({ answered: false, kind: 'video', mid: '0' });
  });

  it("hands werift only the candidates the viewer's gate admits", () => {
    const candidates = Array.from(
      { length: 200 },
      (_, index) =>
        `a=candidate:${index} 1 udp ${2_000_000_000 - index} 192.0.2.77 ${40_000 + index} typ host`,
    );
    const hostile = [
      'a=candidate:m 1 udp 1 224.0.0.1 40000 typ host',
      'a=candidate:b 1 udp 1 255.255.255.255 40000 typ host',
      'a=candidate:z 1 udp 1 192.0.2.8 0 typ host',
    ];
    const gate = new RemoteCandidateGate();
    const plan = planOffer(offer([...h264(106, 1, '42e01f'), ...hostile, ...candidates]), {
      hasAudio: true,
      candidates: gate,
    });
    expect(plan.sdp.match(/^a=candidate:/gm)).toHaveLength(24);
    expect(plan.sdp).not.toMatch(/224\.0\.0\.1|255\.255\.255\.255|192\.0\.2\.8 /);
    expect(gate.admitted).toBe(24);
  });

  it('throws a typed error when nothing is usable, and for text that is not SDP', () => {
    expect(() => planOffer(offer(['a=rtpmap:96 VP8/90000'], ['a=rtpmap:0 PCMU/8000']), withAudio())).toThrow(
      NoUsableCodecError,
    );
    const withoutFingerprint = offer(h264(106, 1, '42e01f')).replace(/a=fingerprint:.*\r\n/, '');
    expect(() => planOffer(withoutFingerprint, withAudio())).toThrow(/fingerprint/);
    for (const bad of [
      '',
      'hello',
      'v=0\r\ns=-\r\n',
      'v=0\r\nm=video\r\n',
      'v=0\r\n\u0000\u0001m=video 9 RTP 96',
      `v=0\r\n${'a=x\r\n'.repeat(20000)}`,
    ]) {
      expect(() => planOffer(bad, withAudio())).toThrow(InvalidSdpError);
    }
  });
});

describe('checkOffer', () => {
  it("runs planOffer's check that the text is SDP, whatever the codecs", () => {
    expect(() => checkOffer(offer(['a=rtpmap:96 VP8/90000'], ['a=rtpmap:0 PCMU/8000']))).not.toThrow();
    for (const bad of ['', 'hello', 'v=0\r\ns=-\r\n', `v=0\r\n${'a=x\r\n'.repeat(20000)}`]) {
      expect(() => checkOffer(bad)).toThrow(InvalidSdpError);
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
    const { sdp, candidates } = finishAnswer(
      answer,
      { sections: [{ answered: true }, { answered: true }] },
      {
        streamId: 's1',
        candidateAddresses: new Set(['127.0.0.1']),
      },
    );
    expect(candidates).toBe(1);
    expect(sdp).not.toContain('10.1.2.3');
    expect(sdp).not.toContain('ice-options:trickle');
    expect(sdp.match(/a=rtcp-mux-only/g)).toHaveLength(1);
    expect(sdp).toContain('a=msid:s1 s1-video');
    expect(sdp.match(/a=msid/g)).toHaveLength(1);
  });

  it('puts the rejected sections back in the offered order, well-formed (RFC 8829 §5.3.1, RFC 8843 §7.3.3)', () => {
    const plan = planOffer(offer(['a=rtpmap:96 VP8/90000']), withAudio());
    const weriftAnswer = [
      'v=0',
      'o=- 1 1 IN IP4 0.0.0.0',
      's=-',
      't=0 0',
      'a=group:BUNDLE 1',
      'm=audio 9 UDP/TLS/RTP/SAVPF 111',
      'c=IN IP4 0.0.0.0',
      'a=ice-ufrag:srvr',
      'a=ice-pwd:serverpasswordserverpass',
      'a=fingerprint:sha-256 AA:BB',
      'a=setup:active',
      'a=mid:1',
      'a=sendonly',
      'a=rtcp-mux',
      'a=rtpmap:111 opus/48000/2',
      'a=candidate:1 1 udp 1 127.0.0.1 5000 typ host',
      'a=end-of-candidates',
      '',
    ].join('\r\n');

    const { sdp } = finishAnswer(weriftAnswer, plan, { streamId: 's1', candidateAddresses: undefined });

    const sections = sdp.split(/\r\n(?=m=)/);
    expect(sections).toHaveLength(3);
    expect(sections[0]).toMatch(/a=group:BUNDLE 1$/);
    expect(sections[1]!.trim().split('\r\n')).toEqual([
      'm=video 0 UDP/TLS/RTP/SAVPF 96',
      'c=IN IP4 0.0.0.0',
      'a=ice-ufrag:srvr',
      'a=ice-pwd:serverpasswordserverpass',
      'a=fingerprint:sha-256 AA:BB',
      'a=setup:active',
      'a=mid:0',
      'a=inactive',
      'a=rtcp-mux',
      'a=rtpmap:96 VP8/90000',
    ]);
    expect(sections[2]).toMatch(/^m=audio 9 [\s\S]*a=msid:s1 s1-audio/);
  });

  describe('the congestion feedback a viewer is promised', () => {
    // What werift 0.25.2 writes for a Chromium offer: the offer's feedback lines, echoed.
    const echoed = [
      'v=0',
      'o=- 1 1 IN IP4 0.0.0.0',
      's=-',
      't=0 0',
      'm=video 9 UDP/TLS/RTP/SAVPF 106',
      'a=mid:0',
      'a=sendonly',
      'a=extmap:3 http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01',
      'a=extmap:2 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time',
      'a=rtpmap:106 H264/90000',
      'a=rtcp-fb:106 goog-remb',
      'a=rtcp-fb:106 transport-cc',
      'a=rtcp-fb:106 ccm fir',
      'a=rtcp-fb:106 nack',
      'a=rtcp-fb:106 nack pli',
      'm=audio 9 UDP/TLS/RTP/SAVPF 111',
      'a=mid:1',
      'a=sendonly',
      'a=extmap:3 http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01',
      'a=rtpmap:111 opus/48000/2',
      'a=rtcp-fb:111 transport-cc',
      '',
    ].join('\r\n');
    const finish = (congestionFeedback?: 'remb' | 'none') =>
      finishAnswer(
        echoed,
        { sections: [{ answered: true }, { answered: true }] },
        { streamId: 's1', candidateAddresses: undefined, congestionFeedback },
      ).sdp.split(/\r\n(?=m=)/);
    const feedback = (section: string) =>
      section.split('\r\n').filter((line) => /^a=(rtcp-fb|extmap):/.test(line));

    it('is NACK and PLI only for a viewer of one rendition: nothing it would not act on', () => {
      const [, video, audio] = finish('none');
      expect(feedback(video!)).toEqual(['a=rtcp-fb:106 nack', 'a=rtcp-fb:106 nack pli']);
      expect(feedback(audio!)).toEqual([]);
    });

    it("keeps REMB on an adaptive viewer's video, without transport-wide feedback or its extension", () => {
      const [, video, audio] = finish('remb');
      expect(feedback(video!)).toEqual([
        'a=rtcp-fb:106 goog-remb',
        'a=rtcp-fb:106 nack',
        'a=rtcp-fb:106 nack pli',
      ]);
      expect(feedback(audio!)).toEqual([]);
    });

    it("leaves a publisher's answer as werift wrote it", () => {
      expect(finish(undefined).join('\r\n')).toContain('a=rtcp-fb:106 transport-cc');
    });
  });
});
