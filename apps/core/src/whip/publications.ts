import type { FanoutPlane, PublisherFactory, PublisherPeer } from '@dragon/webrtc';
import { offeredVideoCodec, RtpSource, readSimulcastOffer } from '@dragon/webrtc';
import type { Logger } from 'pino';

/** The payload types a publication's source expects; the forwarder rewrites the publisher's to these. */
const sourcePayloadTypes = { video: 96, audio: 111 } as const;

interface Publication {
  readonly name: string;
  readonly source: RtpSource;
  /** The rid of each rendition of the source (the top first); `[]` for a publication without simulcast. */
  readonly rids: readonly string[];
  /** What the publishers before the current one forwarded: the counters stay monotonic across reconnects. */
  readonly earlier: { packets: number; bytes: number };
  /** The publisher feeding the source now; `undefined` while the publication waits for one. */
  publisher: PublisherPeer | undefined;
  since: Date;
  /** Publishers it has had; all but the first are reconnects. */
  publishers: number;
  /** Set while no publisher feeds it: the publication ends when it fires. */
  grace: NodeJS.Timeout | undefined;
}

/** One simulcast layer (a rendition of the publication's source) as the listing shows it. */
export interface LayerState {
  rid: string;
  /** Measured over the last second: the publisher's encoder decides it. */
  bitrate_kbit: number;
  packets: number;
  keyframes: number;
  last_keyframe_seconds_ago: number | null;
}

/** One publication as the listing shows it. */
export interface PublicationState {
  name: string;
  state: 'live' | 'lingering';
  since: string;
  reconnects: number;
  /** RTP packets and bytes the publishers forwarded, all of them together (padding and unknown layers not). */
  forwarded: { packets: number; bytes: number };
  video: {
    codec: string | null;
    packets: number;
    bitrate_kbit: number;
    keyframes: number;
    /** The simulcast layers, top first; empty without simulcast. */
    layers: LayerState[];
  };
  audio: { codec: string | null; packets: number; bitrate_kbit: number };
  publisher?: {
    since: string;
    packets: number;
    dropped: number;
    keyframe_requests: number;
  };
}

export interface PublicationsOptions {
  plane: FanoutPlane;
  publishers: PublisherFactory;
  logger: Logger;
  /** How long a publication outlives its publisher, for it to come back. */
  graceMs: number;
  /** A publication ended (its source closed): its viewers' sessions are dropped. */
  onEnded: (name: string) => void;
}

/**
 * The WHIP publications of a server: one data-plane source per stream name, fed by one publisher
 * at a time. A publication outlives its publishers by the reconnect grace, so viewers keep their
 * sessions while OBS reconnects (the new publisher's packets are a new SSRC with new bases, which
 * the source rebases as it does an FFmpeg restart).
 */
export class Publications {
  readonly #options: PublicationsOptions;
  readonly #byName = new Map<string, Publication>();
  #closed = false;

  constructor(options: PublicationsOptions) {
    this.#options = options;
  }

  /** Answers a publisher of `name`, opening its publication or continuing it. */
  async publish(name: string, offerSdp: string): Promise<{ publisher: PublisherPeer; answerSdp: string }> {
    const publication = this.#byName.get(name) ?? (await this.#open(name, offerSdp));
    let created: { publisher: PublisherPeer; answerSdp: string };
    try {
      created = await this.#options.publishers.createPublisher(
        publication.source,
        offerSdp,
        sourcePayloadTypes,
      );
    } catch (error) {
      // A refused first offer leaves nothing behind; a refused reconnect leaves the grace running.
      if (publication.publishers === 0) this.#end(publication);
      throw error;
    }
    if (publication.grace !== undefined) {
      clearTimeout(publication.grace);
      publication.grace = undefined;
    }
    publication.publishers += 1;
    const { publisher } = created;
    publication.publisher = publisher;
    publisher.once('closed', (reason) => {
      const { packets, bytes } = publisher.stats();
      publication.earlier.packets += packets;
      publication.earlier.bytes += bytes;
      this.#publisherClosed(publication, publisher, reason);
    });
    return created;
  }

  /** The source viewers of `name` play. */
  source(name: string): RtpSource | undefined {
    return this.#byName.get(name)?.source;
  }

  list(): PublicationState[] {
    return [...this.#byName.values()].map((publication) => {
      const { source, publisher, earlier } = publication;
      const stats = source.stats();
      const renditions = source.renditions();
      const health = source.health().video;
      const now = publisher?.stats();
      const codecs = publisher?.codecs ?? {};
      const layers = publication.rids.map((rid, index): LayerState => {
        const rendition = renditions[index]!;
        return {
          rid,
          bitrate_kbit: Math.round(rendition.bitrateBps / 1000),
          packets: rendition.packets,
          keyframes: rendition.keyframes,
          last_keyframe_seconds_ago:
            rendition.keyframeAgeMs === null ? null : Math.round(rendition.keyframeAgeMs / 100) / 10,
        };
      });
      const videoBps = renditions.reduce((sum, rendition) => sum + rendition.bitrateBps, 0);
      return {
        name: publication.name,
        state: publisher === undefined ? 'lingering' : 'live',
        since: publication.since.toISOString(),
        reconnects: Math.max(0, publication.publishers - 1),
        forwarded: {
          packets: earlier.packets + (now?.packets ?? 0),
          bytes: earlier.bytes + (now?.bytes ?? 0),
        },
        video: {
          codec: codecs.video ?? null,
          packets: renditions.reduce((sum, rendition) => sum + rendition.packets, 0),
          bitrate_kbit: Math.round(videoBps / 1000),
          keyframes: health.keyframes,
          layers,
        },
        audio: {
          codec: codecs.audio ?? null,
          packets: stats.audio?.packets ?? 0,
          bitrate_kbit: Math.round((stats.audio?.bitrateBps ?? 0) / 1000),
        },
        ...(publisher && now
          ? {
              publisher: {
                since: new Date(publisher.createdAt).toISOString(),
                packets: now.packets,
                dropped: now.dropped,
                keyframe_requests: now.keyframeRequests,
              },
            }
          : {}),
      };
    });
  }

  close(): void {
    this.#closed = true;
    for (const publication of [...this.#byName.values()]) this.#end(publication);
  }

  /**
   * Opens the publication's source: with the first offer's simulcast layers as renditions (the
   * first layer of its `a=simulcast` line the top), their bitrates left to measurement. A later
   * publisher of the name gets as many layers as the source has.
   */
  async #open(name: string, offerSdp: string): Promise<Publication> {
    if (this.#closed) throw new Error('the server is closing');
    const { rids } = readSimulcastOffer(offerSdp);
    const payloadType = sourcePayloadTypes.video;
    // Passed through as it arrives: the publisher's codec is its viewers' (H.264 when offered, else
    // VP8); an offer with neither is refused when its publisher is answered.
    const codec = offeredVideoCodec(offerSdp) ?? 'h264';
    const source = await RtpSource.open({
      id: `whip-${name}`,
      video: { payloadType, codec },
      // Rendition ids are the rids ('top' is the source's own name for rendition 0).
      renditions: rids
        .slice(1)
        .map((rid) => ({ id: rid === 'top' ? 'rid-top' : rid, payloadType, codec, bitrateKbit: 0 })),
      audio: { payloadType: sourcePayloadTypes.audio },
      plane: this.#options.plane,
    });
    // Another offer for the name may have opened one meanwhile (whip-http holds the name, but a
    // replacement's offer can overlap the first publisher's).
    const existing = this.#byName.get(name);
    if (existing !== undefined) {
      source.close();
      return existing;
    }
    const publication: Publication = {
      name,
      source,
      rids,
      earlier: { packets: 0, bytes: 0 },
      publisher: undefined,
      since: new Date(),
      publishers: 0,
      grace: undefined,
    };
    this.#byName.set(name, publication);
    this.#options.logger.info({ stream: name }, 'whip publication opened');
    return publication;
  }

  #publisherClosed(publication: Publication, publisher: PublisherPeer, reason: string): void {
    if (publication.publisher !== publisher) return; // replaced: the newer one feeds it
    publication.publisher = undefined;
    if (this.#closed || this.#byName.get(publication.name) !== publication) return;
    this.#options.logger.info(
      { stream: publication.name, peerId: publisher.id, reason },
      'whip publisher left',
    );
    publication.grace = setTimeout(() => this.#end(publication), this.#options.graceMs);
    publication.grace.unref();
  }

  #end(publication: Publication): void {
    if (this.#byName.get(publication.name) !== publication) return;
    this.#byName.delete(publication.name);
    if (publication.grace !== undefined) clearTimeout(publication.grace);
    void publication.publisher?.close('source-closed');
    publication.source.close();
    this.#options.logger.info({ stream: publication.name }, 'whip publication ended');
    this.#options.onEnded(publication.name);
  }
}
