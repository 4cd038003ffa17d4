import { WeriftViewer } from '@dragon/test-helpers/werift';
import { afterEach, describe, expect, it } from 'vitest';
import { RTCPeerConnection, RTCRtpCodecParameters } from 'werift';
import { RemoteCandidateGate } from '../ice/remote-candidates.js';
import { planOffer } from './sdp-negotiation.js';
import { sendonlySenders } from './sendonly-senders.js';

const closing: { close(): Promise<void> }[] = [];
afterEach(async () => {
  await Promise.all(closing.splice(0).map((pc) => pc.close().catch(() => undefined)));
});

async function answerer(kinds: ('video' | 'audio')[]) {
  const viewer = new WeriftViewer();
  closing.push(viewer.pc);
  const plan = planOffer(await viewer.offer(kinds), {
    hasAudio: true,
    candidates: new RemoteCandidateGate(),
  });
  const pc = new RTCPeerConnection({
    iceServers: [],
    codecs: {
      video: [
        new RTCRtpCodecParameters({
          mimeType: 'video/H264',
          clockRate: 90_000,
          parameters: 'level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f',
        }),
      ],
      audio: [new RTCRtpCodecParameters({ mimeType: 'audio/opus', clockRate: 48_000, channels: 2 })],
    },
  });
  closing.push(pc);
  await pc.setRemoteDescription({ type: 'offer', sdp: plan.sdp });
  return { pc, plan };
}

describe('sendonlySenders', () => {
  it('makes one sendonly sender per answered kind, without a track of its own', async () => {
    const { pc, plan } = await answerer(['video', 'audio']);

    const senders = sendonlySenders(pc, plan);

    expect(Object.keys(senders).sort()).toEqual(['audio', 'video']);
    for (const sender of Object.values(senders)) expect(sender.track ?? undefined).toBeUndefined();
  });

  it('still announces each sender as sendonly with its SSRC in the answer', async () => {
    const { pc, plan } = await answerer(['video', 'audio']);
    const senders = sendonlySenders(pc, plan);

    const answer = await pc.createAnswer();

    const sections = answer.sdp.split(/\r\n(?=m=)/).slice(1);
    expect(sections).toHaveLength(2);
    for (const section of sections) {
      const kind = section.startsWith('m=video') ? 'video' : 'audio';
      expect(section).toContain('a=sendonly');
      expect(section).toContain(`a=ssrc:${senders[kind]!.ssrc} `);
    }
  });

  it('leaves a kind the plan does not answer without a sender', async () => {
    const { pc } = await answerer(['video', 'audio']);

    const senders = sendonlySenders(pc, { videoPayloadType: 102, audioPayloadType: undefined });

    expect(Object.keys(senders)).toEqual(['video']);
  });
});
