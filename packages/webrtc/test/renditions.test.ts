import { waitFor } from '@dragon/test-helpers';
import { SyntheticSender, WeriftViewer } from '@dragon/test-helpers/werift';
import { afterEach, describe, expect, it } from 'vitest';
import { GenericNack, RtcpSrPacket, RtcpTransportLayerFeedback } from 'werift';
import { FanoutPlane, type FanoutPlaneOptions, PeerFactory, RtpSource } from '../src/index.js';
import { planes } from './plane-fixture.js';

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** Each leg's video payloads are filled with its own byte, so a viewer can tell where a packet came from. */
const fills = [0xa0, 0xa1, 0xa2] as const;

/**
 * A source with the top and two renditions (360p H.264, 360p VP8), each fed by its own sender
 * (different sequence and timestamp bases, as FFmpeg's legs have), and audio on the top's sender.
 */
async function renditionSource(options: FanoutPlaneOptions, gop = 10) {
  const plane = FanoutPlane.open(options);
  const source = await RtpSource.open({
    id: 'ladder',
    video: { payloadType: 96 },
    renditions: [
      { id: '360p', codec: 'h264', bitrateKbit: 350, height: 360, payloadType: 96 },
      { id: 'vp8-360p', codec: 'vp8', bitrateKbit: 350, height: 360, payloadType: 97 },
    ],
    audio: { payloadType: 111 },
    plane,
  });
  const factory = new PeerFactory({ interfaceAddresses: ['127.0.0.1'] });
  const [top, rung, vp8] = source.renditions();
  const senders = [
    new SyntheticSender({ video: top!.port, audio: source.audioPort }, undefined, undefined, {
      fill: fills[0],
    }),
    new SyntheticSender({ video: rung!.port }, { video: 0x3333, audio: 0 }, undefined, {
      fill: fills[1],
      videoBase: { seq: 60_000, ts: 4_000_000_000 },
    }),
    new SyntheticSender(
      { video: vp8!.port },
      { video: 0x4444, audio: 0 },
      { video: 97, audio: 111 },
      {
        videoCodec: 'vp8',
        fill: fills[2],
        videoBase: { seq: 7, ts: 12_345 },
      },
    ),
  ];
  const timer = setInterval(() => {
    for (const sender of senders) sender.sendFrame(gop);
  }, 40);
  cleanups.push(
    () => plane.close(),
    () => source.close(),
    () => factory.close(),
    () => clearInterval(timer),
    () => {
      for (const sender of senders) sender.close();
    },
  );
  return { plane, source, factory, senders };
}

/** A werift viewer that keeps, per video packet, its sequence number, timestamp, and payload's first and last bytes. */
async function recordingViewer(factory: PeerFactory, source: RtpSource) {
  const video: { seq: number; ts: number; ssrc: number; head: number; fill: number }[] = [];
  const viewer = new WeriftViewer({
    onRtp: (kind, packet) => {
      if (kind !== 'video') return;
      const payload = packet.payload;
      video.push({
        seq: packet.header.sequenceNumber,
        ts: packet.header.timestamp,
        ssrc: packet.header.ssrc,
        head: payload[0] ?? -1,
        fill: payload.at(-1) ?? -1,
      });
    },
  });
  cleanups.push(() => viewer.close());
  const { peer, answerSdp } = await factory.createPeer(source, await viewer.offer());
  await viewer.accept(answerSdp);
  return { viewer, peer, video };
}

describe.each(planes)('renditions: %s', (_name, options) => {
  it('receives every rendition on its own port, with packets and keyframes counted per rendition', async () => {
    const { source } = await renditionSource(options);
    await waitFor('two keyframes on every rendition', () =>
      source.renditions().every((rendition) => rendition.keyframes >= 2),
    );
    const renditions = source.renditions();
    expect(
      renditions.map(({ index, id, codec, height, bitrateKbit, active }) => ({
        index,
        id,
        codec,
        height,
        bitrateKbit,
        active,
      })),
    ).toEqual([
      { index: 0, id: 'top', codec: 'h264', height: undefined, bitrateKbit: 0, active: true },
      { index: 1, id: '360p', codec: 'h264', height: 360, bitrateKbit: 350, active: true },
      { index: 2, id: 'vp8-360p', codec: 'vp8', height: 360, bitrateKbit: 350, active: true },
    ]);
    expect(new Set(renditions.map((rendition) => rendition.port)).size).toBe(3);
    expect(renditions[0]!.port).toBe(source.videoPort);
    for (const rendition of renditions) {
      expect(rendition.packets).toBeGreaterThan(0);
      expect(rendition.keyframeAgeMs).not.toBeNull();
    }
    // The top's health counters are its own, not summed over the renditions.
    expect(source.health().video.packets).toBe(source.stats().video.packets);
    source.setActiveRenditions(['top', 'vp8-360p']);
    expect(source.renditions().map((rendition) => rendition.active)).toEqual([true, false, true]);
  });

  it('keeps viewers on the top rendition, in sequence, with nothing of the others', async () => {
    const { source, factory } = await renditionSource(options);
    await waitFor('a keyframe cached on the top', () => source.renditions()[0]!.keyframes >= 1);
    const { viewer, video } = await recordingViewer(factory, source);
    await waitFor('video and audio', () => video.length > 40 && viewer.received.audio.length > 5);
    expect(new Set(video.map((packet) => packet.fill))).toEqual(new Set([fills[0]]));
    for (let index = 1; index < video.length; index++) {
      expect(video[index]!.seq).toBe((video[index - 1]!.seq + 1) & 0xffff);
    }
    // Primed from the top's keyframe cache: the first packet is its SPS.
    expect(video[0]!.head & 0x1f).toBe(7);
  });
});

type Received = { seq: number; ts: number; ssrc: number; head: number; fill: number };

/** `b` comes after `a` on the 32-bit RTP clock (RFC 3550 §5.1: the difference, modulo 2^32). */
function after(b: number, a: number): boolean {
  return ((b - a) | 0) > 0;
}

/**
 * What a switch must look like to the viewer: sequence numbers with no gap and no repeat, one SSRC,
 * timestamps never going back (and moving on at the switch), every packet from `from` up to the
 * first of `to`, that one the start of a keyframe (an SPS), and only `to` after it. Returns where
 * the switch is.
 */
function expectSwitch(video: Received[], start: number, from: number, to: number): number {
  const packets = video.slice(start);
  const at = packets.findIndex((packet) => packet.fill === to);
  expect(at).toBeGreaterThan(0);
  expect(new Set(packets.slice(0, at).map((packet) => packet.fill))).toEqual(new Set([from]));
  expect(new Set(packets.slice(at).map((packet) => packet.fill))).toEqual(new Set([to]));
  expect(packets[at]!.head & 0x1f).toBe(7);
  expect(after(packets[at]!.ts, packets[at - 1]!.ts)).toBe(true);
  for (let index = 1; index < packets.length; index++) {
    expect(packets[index]!.seq).toBe((packets[index - 1]!.seq + 1) & 0xffff);
    expect(after(packets[index - 1]!.ts, packets[index]!.ts)).toBe(false);
    expect(packets[index]!.ssrc).toBe(packets[0]!.ssrc);
  }
  return start + at;
}

/** The viewer asks for `seq` again, as a browser does (RFC 4585 generic NACK, through SRTCP). */
async function sendNack(viewer: WeriftViewer, mediaSsrc: number, seq: number): Promise<void> {
  const nack = new GenericNack({ senderSsrc: 1, mediaSourceSsrc: mediaSsrc, lost: [seq] });
  await viewer.pc.dtlsTransports[0]!.sendRtcp([new RtcpTransportLayerFeedback({ feedback: nack })]);
}

describe.each(planes)('switching renditions: %s', (_name, options) => {
  it('moves a pinned viewer at the next keyframe, and back, continuous for the viewer', async () => {
    const { source, factory } = await renditionSource(options);
    await waitFor('a keyframe cached on the top', () => source.renditions()[0]!.keyframes >= 1);
    // Two viewers: with two worker shards, one of them is sent by the shard that follows the
    // source's histories rather than receiving them.
    const viewers = [await recordingViewer(factory, source), await recordingViewer(factory, source)];
    for (const { peer, video } of viewers) {
      await waitFor('video from the top', () => video.length > 20);
      expect(peer.rendition).toBe(0);
      // A rendition in a codec the viewer did not negotiate (VP8) is never sent to it.
      peer.pinRendition(2);
      peer.pinRendition(1);
    }
    for (const { peer, video } of viewers) {
      await waitFor('video from 360p', () => video.filter((packet) => packet.fill === fills[1]).length > 20);
      const down = expectSwitch(video, 0, fills[0], fills[1]);
      expect(peer.rendition).toBe(1);

      peer.pinRendition(0);
      await waitFor(
        'video from the top again',
        () => video.slice(down).filter((packet) => packet.fill === fills[0]).length > 20,
      );
      expectSwitch(video, down, fills[1], fills[0]);
      expect(peer.rendition).toBe(0);
      expect(video.some((packet) => packet.fill === fills[2])).toBe(false);
    }
  });

  it('answers a NACK from the rendition and offsets the packet was sent with, before and after a switch', async () => {
    const { source, factory } = await renditionSource(options);
    await waitFor('a keyframe cached on the top', () => source.renditions()[0]!.keyframes >= 1);
    const { peer, video, viewer } = await recordingViewer(factory, source);
    await waitFor('video from the top', () => video.length > 20);
    peer.pinRendition(1);
    await waitFor('video from 360p', () => video.filter((packet) => packet.fill === fills[1]).length > 10);
    const at = expectSwitch(video, 0, fills[0], fills[1]);
    const before = video[at - 3]!;
    const afterSwitch = video[at + 2]!;

    for (const asked of [before, afterSwitch]) {
      const copies = () => video.filter((packet) => packet.seq === asked.seq && packet.ts === asked.ts);
      await waitFor(`seq ${asked.seq} sent again`, async () => {
        await sendNack(viewer, asked.ssrc, asked.seq);
        return copies().length >= 2 ? true : undefined;
      });
      // The same packet as the first time: same rendition (payload), same sequence number and timestamp.
      for (const copy of copies()) expect(copy).toEqual(asked);
    }
  });

  it('pauses video (audio only) and resumes at a keyframe, continuous for the viewer', async () => {
    const { source, factory } = await renditionSource(options);
    await waitFor('a keyframe cached on the top', () => source.renditions()[0]!.keyframes >= 1);
    const { peer, video, viewer: werift } = await recordingViewer(factory, source);
    await waitFor('video from the top', () => video.length > 20);
    peer.pinRendition('audio');
    await waitFor('video paused', () => peer.rendition === -1);
    // Anything already on its way has arrived once more audio has.
    const audio = werift.received.audio.length;
    await waitFor('audio goes on', () => werift.received.audio.length > audio + 10);
    const paused = video.length;
    await waitFor('still more audio', () => werift.received.audio.length > audio + 25);
    expect(video.length).toBe(paused);

    peer.pinRendition(1);
    await waitFor('video again, from 360p', () => video.length > paused + 20);
    expectSwitch(video, paused - 1, fills[0], fills[1]);
    expect(peer.rendition).toBe(1);
  });

  it("sends Sender Reports on the clock of the viewer's current rendition, in its output space", async () => {
    const { source, factory } = await renditionSource(options);
    await waitFor('a keyframe cached on the top', () => source.renditions()[0]!.keyframes >= 1);
    const { peer, video, viewer: werift } = await recordingViewer(factory, source);
    await waitFor('video from the top', () => video.length > 20);
    peer.pinRendition(1);
    await waitFor('video from 360p', () => video.some((packet) => packet.fill === fills[1]));
    const reports: RtcpSrPacket[] = [];
    werift.pc.dtlsTransports[0]!.onRtcp.subscribe((packet) => {
      if (packet instanceof RtcpSrPacket && packet.ssrc === video[0]!.ssrc) reports.push(packet);
    });
    const report = await waitFor('a video report after the switch', () => reports[0], 20_000);
    // 360p's own timestamps start near 4e9, the top's near 90 000: only the viewer's output space
    // puts the report beside what the viewer received.
    const latest = video.at(-1)!.ts;
    expect(Math.abs((report.senderInfo.rtpTimestamp - latest) | 0) / 90_000).toBeLessThan(5);
  });
});

describe.each(planes)('an adaptive viewer: %s', (_name, options) => {
  it('is moved by its congestion control, which follows its pins and takes it back on auto', async () => {
    const { source, factory } = await renditionSource(options);
    await waitFor('a keyframe cached on the top', () => source.renditions()[0]!.keyframes >= 1);
    // Two H.264 renditions to choose from: the viewer is adaptive.
    const { peer, video } = await recordingViewer(factory, source);
    await waitFor('video from the top', () => video.length > 20);

    peer.pinRendition(1);
    await waitFor('video from 360p', () => video.filter((packet) => packet.fill === fills[1]).length > 10);
    const down = expectSwitch(video, 0, fills[0], fills[1]);

    // Handed back: without feedback saying otherwise, the controller keeps it where it is.
    peer.pinRendition('auto');
    const handedBack = video.length;
    await waitFor('more video', () => video.length > handedBack + 20);
    expect(new Set(video.slice(down).map((packet) => packet.fill))).toEqual(new Set([fills[1]]));
    expect(peer.rendition).toBe(1);

    peer.pinRendition('audio');
    await waitFor('video paused', () => peer.rendition === -1);
    const paused = video.length;
    peer.pinRendition(0);
    await waitFor('video again, from the top', () => video.length > paused + 20 && peer.rendition === 0);
    expectSwitch(video, down, fills[1], fills[0]);
  });
});

describe('rendition configuration', () => {
  it("refuses a rendition id used twice, or the top's", async () => {
    const plane = FanoutPlane.open({ engine: 'js' });
    cleanups.push(() => plane.close());
    const rung = { codec: 'h264' as const, bitrateKbit: 350, payloadType: 96 };
    await expect(
      RtpSource.open({
        id: 'twice',
        video: { payloadType: 96 },
        renditions: [
          { id: 'a', ...rung },
          { id: 'a', ...rung },
        ],
        plane,
      }),
    ).rejects.toMatchObject({ code: 'RENDITION_CONFIG', renditionId: 'a' });
    await expect(
      RtpSource.open({ id: 'top', video: { payloadType: 96 }, renditions: [{ id: 'top', ...rung }], plane }),
    ).rejects.toMatchObject({ code: 'RENDITION_CONFIG', renditionId: 'top' });
  });
});
