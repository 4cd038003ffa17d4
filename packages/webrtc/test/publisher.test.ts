import { waitFor } from '@dragon/test-helpers';
import { WeriftPublisher, WeriftViewer } from '@dragon/test-helpers/werift';
import { afterEach, describe, expect, it } from 'vitest';
import { InvalidSdpError, PeerFactory, PublisherFactory, RtpSource } from '../src/index.js';

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const sourcePayloadTypes = { video: 96, audio: 111 };

async function setup() {
  const source = await RtpSource.open({ id: 'cam', video: { payloadType: 96 }, audio: { payloadType: 111 } });
  const publishers = new PublisherFactory({ interfaceAddresses: ['127.0.0.1'] });
  const viewers = new PeerFactory({ interfaceAddresses: ['127.0.0.1'] });
  cleanups.push(
    () => source.close(),
    () => publishers.close(),
    () => viewers.close(),
  );
  return { source, publishers, viewers };
}

async function publish(publishers: PublisherFactory, source: RtpSource) {
  const client = new WeriftPublisher();
  const timer = setInterval(() => client.sendFrame(), 40);
  cleanups.push(
    () => clearInterval(timer),
    () => client.close(),
  );
  const { publisher, answerSdp } = await publishers.createPublisher(
    source,
    await client.offer(),
    sourcePayloadTypes,
  );
  await client.accept(answerSdp);
  return { client, publisher, answerSdp, stop: () => clearInterval(timer) };
}

async function view(viewers: PeerFactory, source: RtpSource) {
  const viewer = new WeriftViewer();
  cleanups.push(() => viewer.close());
  const { peer, answerSdp } = await viewers.createPeer(source, await viewer.offer());
  await viewer.accept(answerSdp);
  return { viewer, peer };
}

describe('a WHIP publisher feeding a source', () => {
  it('answers recvonly H.264 + Opus and hands the publisher’s RTP to the source’s viewers', async () => {
    const { source, publishers, viewers } = await setup();
    const { publisher, answerSdp, client } = await publish(publishers, source);
    expect(answerSdp.match(/a=recvonly/g)).toHaveLength(2);
    expect(answerSdp).toMatch(/a=rtpmap:\d+ H264\/90000/);
    expect(answerSdp).toMatch(/a=rtpmap:\d+ opus\/48000\/2/);
    expect(await client.connected()).toBe(true);
    await waitFor('the source has media', () => source.hasMedia);

    const { viewer } = await view(viewers, source);

    await waitFor(
      'video and audio at the viewer',
      () => viewer.received.video.length > 30 && viewer.received.audio.length > 10,
    );
    expect(publisher.state).toBe('connected');
    expect(publisher.lastMediaAt).toBeDefined();
    expect(publisher.stats().packets).toBeGreaterThan(0);
    // The data plane's keyframe cache took the publisher's frames: a viewer joining now is primed.
    expect(source.health().video.packets).toBeGreaterThan(0);
    await waitFor('receiver reports at the publisher', () => client.receiverReports > 0);
  });

  it('turns a viewer’s PLI into one PLI to the publisher, at most one per 500 ms', async () => {
    const { source, publishers, viewers } = await setup();
    const { publisher, client } = await publish(publishers, source);
    const { viewer } = await view(viewers, source);
    await waitFor('video at the viewer', () => viewer.received.video.length > 5);
    const receiver = viewer.pc.getTransceivers().find((t) => t.kind === 'video')!.receiver;
    const ssrc = viewer.received.video[0]!.ssrc;

    await receiver.sendRtcpPLI(ssrc);

    await waitFor('a keyframe request from the viewer', () => publisher.stats().keyframeRequests > 0);
    await waitFor('a PLI at the publisher', () => client.pictureLossIndications > 0);
    const now = Date.now() + 10_000;
    expect(publisher.requestKeyframe(now)).toBe(true);
    expect(publisher.requestKeyframe(now + 100)).toBe(false);
    expect(publisher.requestKeyframe(now + 600)).toBe(true);
  });

  it('keeps the viewers’ sessions across a publisher that leaves and comes back', async () => {
    const { source, publishers, viewers } = await setup();
    const first = await publish(publishers, source);
    const { viewer, peer } = await view(viewers, source);
    await waitFor('video from the first publisher', () => viewer.received.video.length > 10);

    first.stop();
    await first.client.close();
    await first.publisher.close();
    const before = viewer.received.video.length;
    const second = await publish(publishers, source);

    await waitFor('video from the second publisher', () => viewer.received.video.length > before + 30);
    expect(peer.state).toBe('connected');
    expect(second.publisher.state).toBe('connected');
    // One sequence space for the viewer across both publishers (RtpContinuity rebased the second).
    const seqs = viewer.received.video.map((p) => p.seq);
    const jumps = seqs.slice(1).filter((seq, i) => (seq - seqs[i]! + 65536) % 65536 > 1000);
    expect(jumps).toEqual([]);
  });

  it('restarts ICE at the publisher’s request, and its viewers keep receiving video', async () => {
    const { source, publishers, viewers } = await setup();
    const { client, publisher } = await publish(publishers, source);
    const { viewer, peer } = await view(viewers, source);
    await waitFor('video before the restart', () => viewer.received.video.length > 10);
    const oldServerUfrag = client.pc.remoteDescription!.sdp.match(/a=ice-ufrag:(\S+)/)![1];

    // What a WHIP client's PATCH carries, and what it applies from the 200's fragment.
    const offered = await client.restartIceOffer();
    const answer = await publisher.restartIce(offered);
    await client.acceptIceRestart(answer);
    await waitFor('the publisher’s ICE reconnected with the new credentials', () =>
      client.iceConnectedTo(answer.ufrag),
    );
    const atRestart = viewer.received.video.length;

    await waitFor('video after the restart', () => viewer.received.video.length > atRestart + 30);
    expect(answer.ufrag).not.toBe(oldServerUfrag);
    expect(answer.candidates.length).toBeGreaterThan(0);
    expect(publisher.state).toBe('connected');
    expect(peer.state).toBe('connected');
  });

  it('refuses an offer that is not SDP, with no publisher left behind', async () => {
    const { source, publishers } = await setup();

    await expect(
      publishers.createPublisher(source, 'v=0\r\nhello', sourcePayloadTypes),
    ).rejects.toBeInstanceOf(InvalidSdpError);
    expect(publishers.connectionCount).toBe(0);
  });
});
