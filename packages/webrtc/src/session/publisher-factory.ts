import {
  type RTCRtpHeaderExtensionParameters,
  useSdesMid,
  useSdesRTPStreamId,
  useTransportWideCC,
} from 'werift';
import { SourceClosedError } from '../errors.js';
import { RemoteCandidateGate } from '../ice/remote-candidates.js';
import { PublicationForwarder } from '../ingest/publication-forwarder.js';
import type { RtpSource } from '../ingest/rtp-source.js';
import { TransportFeedbackWriter } from '../rtcp/twcc-feedback-writer.js';
import { answerPlannedOffer, type IceTransportOptions, openAnswering, serverCodecs } from './answerer.js';
import { PublisherPeer } from './publisher-peer.js';
import { planOffer } from './sdp-negotiation.js';
import { readSimulcastOffer } from './simulcast-offer.js';
import { transportCcExtensionId, withoutTransportCc } from './transport-cc-offer.js';
import { TransportFeedbackSender } from './transport-feedback-sender.js';

export interface PublisherFactoryOptions extends IceTransportOptions {
  /**
   * A connected publisher that sends no media for this long is closed (its publication then
   * waits for a reconnect). @default 15000
   */
  mediaTimeoutMs?: number;
  /** A publisher that has not connected within this long is closed. @default 30000 */
  connectTimeoutMs?: number;
}

/**
 * Answers WHIP publishers (werift peers, recvonly) on the same ICE transport as viewers — the UDP
 * mux, ICE-TCP, NAT 1:1 addresses and werift guards of {@link PeerFactory} — and reaps those
 * that vanish.
 */
export class PublisherFactory {
  readonly #options: PublisherFactoryOptions & { mediaTimeoutMs: number; connectTimeoutMs: number };
  readonly #publishers = new Set<PublisherPeer>();
  readonly #ending = new Set<Promise<void>>();
  readonly #reaper: NodeJS.Timeout;
  #closed = false;

  constructor(options: PublisherFactoryOptions = {}) {
    this.#options = { mediaTimeoutMs: 15_000, connectTimeoutMs: 30_000, ...options };
    this.#reaper = setInterval(() => this.#reap(), 1000);
    this.#reaper.unref();
  }

  /** werift connections this factory holds open: a resource count for leak checks. */
  get connectionCount(): number {
    return this.#publishers.size;
  }

  /**
   * Answers a publisher's offer: video in the source's codec (H.264 packetization-mode 1, or VP8)
   * and Opus received, every candidate in the answer; its RTP goes to `source`'s tracks (video payload type and port, audio's if the
   * source has audio). A simulcast offer's layers go to the source's renditions in the order of
   * its `a=simulcast` line (the first to the top): layers beyond the source's renditions are not
   * answered, renditions beyond the offer's layers get nothing.
   * @throws InvalidSdpError, NoUsableCodecError, IcePortsExhaustedError, SourceClosedError
   */
  async createPublisher(
    source: RtpSource,
    offerSdp: string,
    sourcePayloadTypes: { video: number; audio: number },
  ): Promise<{ publisher: PublisherPeer; answerSdp: string }> {
    if (source.closed || this.#closed) throw new SourceClosedError(source.id);
    const candidates = new RemoteCandidateGate(this.#options);
    const audioPort = source.audioPort;
    // The publication's codec (its source's top), which its viewers were answered in: a publisher
    // offering another is refused (NoUsableCodecError).
    const offered = planOffer(offerSdp, {
      hasAudio: audioPort !== undefined,
      hasVideo: true,
      videoCodecs: source.videoCodecs().slice(0, 1),
      candidates,
    });
    const { ridExtensionId, rids } = readSimulcastOffer(offerSdp);
    const renditionPorts = source.renditions().map((rendition) => rendition.port);
    // Simulcast is taken as far as the source has renditions; a source with one takes one layer
    // (the others' packets are dropped, never mixed into its track).
    const kept = rids.slice(0, renditionPorts.length);
    const layers =
      ridExtensionId !== undefined && rids.length >= 2
        ? { rids: kept, ports: renditionPorts.slice(0, kept.length), ridExtensionId }
        : undefined;
    // Transport-wide feedback is the server's own (werift's would hold the publisher's rate down).
    const transportWideId = transportCcExtensionId(offerSdp);
    const feedbackWriter = transportWideId !== undefined ? new TransportFeedbackWriter() : undefined;
    const layered = kept.length < rids.length ? withLayers(offered.sdp, kept) : offered.sdp;
    const plan = { ...offered, sdp: withoutTransportCc(layered) };
    const forwarder = await PublicationForwarder.open(
      {
        ...(plan.videoPayloadType !== undefined
          ? {
              video: {
                from: plan.videoPayloadType,
                port: source.videoPort,
                payloadType: sourcePayloadTypes.video,
              },
            }
          : {}),
        ...(plan.audioPayloadType !== undefined && audioPort !== undefined
          ? { audio: { from: plan.audioPayloadType, port: audioPort, payloadType: sourcePayloadTypes.audio } }
          : {}),
      },
      layers,
      feedbackWriter && transportWideId !== undefined
        ? { extensionId: transportWideId, writer: feedbackWriter }
        : undefined,
    );
    // werift answers simulcast (`a=rid:… recv`, `a=simulcast:recv`) by itself; the extensions
    // that name a packet's layer, and the transport-wide sequence number, it answers only if
    // configured.
    const extensions: RTCRtpHeaderExtensionParameters[] = layers ? [useSdesMid(), useSdesRTPStreamId()] : [];
    if (feedbackWriter) extensions.push(useTransportWideCC());
    const answering = openAnswering(this.#options, serverCodecs(plan.videoCodec ?? 'h264'), extensions);
    try {
      const { answerSdp, releaseTransport, restartIce } = await answerPlannedOffer(
        answering,
        plan,
        {
          ...this.#options,
          streamId: `dragon-${source.id}`,
          congestionFeedback: feedbackWriter ? 'transport-cc' : 'none',
        },
        (pc) => {
          // The offer's sections are sendonly; werift answers recvonly only if asked to.
          for (const transceiver of pc.getTransceivers()) transceiver.setDirection('recvonly');
        },
      );
      const transport = answering.pc.dtlsTransports[0];
      const feedback =
        feedbackWriter && transport
          ? new TransportFeedbackSender(transport, feedbackWriter, () => forwarder.feedbackSsrc)
          : undefined;
      const publisher = new PublisherPeer(answering.pc, source, forwarder, candidates, restartIce, feedback);
      this.#publishers.add(publisher);
      publisher.once('closed', () => {
        this.#publishers.delete(publisher);
        releaseTransport();
        const ended = publisher.ended;
        if (ended) {
          this.#ending.add(ended);
          void ended.finally(() => this.#ending.delete(ended));
        }
      });
      return { publisher, answerSdp };
    } catch (error) {
      forwarder.close();
      answering.binding?.release();
      await answering.pc.close().catch(() => undefined);
      throw error;
    }
  }

  /** Closes every publisher and resolves once each has been told. */
  async close(): Promise<void> {
    if (!this.#closed) {
      this.#closed = true;
      clearInterval(this.#reaper);
      for (const publisher of [...this.#publishers]) void publisher.close('closed');
    }
    await Promise.allSettled([...this.#ending]);
  }

  /** A publisher that never connected, or stopped sending, is closed. */
  #reap(): void {
    const now = Date.now();
    for (const publisher of this.#publishers) {
      if (publisher.state === 'connected' || publisher.state === 'disconnected') {
        const heardAt = publisher.lastMediaAt ?? publisher.createdAt;
        if (now - heardAt > this.#options.mediaTimeoutMs) void publisher.close('media-timeout');
      } else if (now - publisher.createdAt > this.#options.connectTimeoutMs) {
        void publisher.close('media-timeout');
      }
    }
  }
}

/**
 * The offer with only `rids` as its simulcast layers (RFC 8853 §5.3: an answer may drop layers,
 * and werift answers every layer the offer it is given names).
 */
function withLayers(sdp: string, rids: readonly string[]): string {
  const kept = new Set(rids);
  return sdp
    .split('\r\n')
    .filter((line) => {
      const rid = /^a=rid:(\S+) send\b/.exec(line)?.[1];
      return rid === undefined || kept.has(rid);
    })
    .map((line) => (line.startsWith('a=simulcast:send ') ? `a=simulcast:send ${rids.join(';')}` : line))
    .join('\r\n');
}
