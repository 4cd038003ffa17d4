import { describe, expect, it } from 'vitest';
import {
  Event,
  PictureLossIndication,
  type RTCPeerConnection,
  RtcpPacketConverter,
  RtcpPayloadSpecificFeedback,
} from 'werift';
import { onPictureLoss } from './picture-loss.js';

const videoSsrc = 0x1234_5678;

/** A peer with one transport whose RTCP is what the test hands it, as werift parses it off the wire. */
function peerReceiving(): { pc: RTCPeerConnection; receive(wire: Buffer): void } {
  const onRtcp = new Event<[unknown]>();
  const pc = { dtlsTransports: [{ onRtcp }] } as unknown as RTCPeerConnection;
  return {
    pc,
    receive: (wire) => {
      for (const packet of RtcpPacketConverter.deSerialize(wire)) onRtcp.execute(packet);
    },
  };
}

const pli = (mediaSsrc: number) =>
  new RtcpPayloadSpecificFeedback({
    feedback: new PictureLossIndication({ senderSsrc: 1, mediaSsrc }),
  }).serialize();

/** A FIR as RFC 5104 §4.3.1 lays it out (werift does not export its class): one entry per SSRC asked. */
function fir(ssrcs: number[]): Buffer {
  const packet = Buffer.alloc(12 + 8 * ssrcs.length);
  packet[0] = 0x80 | 4; // V=2, FMT=4
  packet[1] = 206; // PSFB
  packet.writeUInt16BE(packet.length / 4 - 1, 2);
  packet.writeUInt32BE(1, 4); // sender SSRC; media SSRC stays 0
  ssrcs.forEach((ssrc, i) => {
    packet.writeUInt32BE(ssrc, 12 + 8 * i);
    packet[16 + 8 * i] = i + 1; // command sequence number
  });
  return packet;
}

describe('onPictureLoss', () => {
  it('hears a PLI about the SSRC and no PLI about another', () => {
    const { pc, receive } = peerReceiving();
    let heard = 0;
    onPictureLoss(pc, videoSsrc, () => heard++);
    receive(pli(videoSsrc));
    receive(pli(videoSsrc + 1));
    expect(heard).toBe(1);
  });

  it('hears a FIR whose entries name the SSRC (its header media SSRC is 0, RFC 5104)', () => {
    const { pc, receive } = peerReceiving();
    let heard = 0;
    onPictureLoss(pc, videoSsrc, () => heard++);
    receive(fir([0x99, videoSsrc]));
    receive(fir([0x99]));
    expect(heard).toBe(1);
  });
});
