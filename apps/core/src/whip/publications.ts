import type { FanoutPlane, PublisherFactory, PublisherPeer } from '@dragon/webrtc';
import { RtpSource } from '@dragon/webrtc';
import type { Logger } from 'pino';

/** The payload types a publication's source expects; the forwarder rewrites the publisher's to these. */
const sourcePayloadTypes = { video: 96, audio: 111 } as const;

interface Publication {
  readonly name: string;
  readonly source: RtpSource;
  /** The publisher feeding the source now; `undefined` while the publication waits for one. */
  publisher: PublisherPeer | undefined;
  since: Date;
  /** Publishers it has had; all but the first are reconnects. */
  publishers: number;
  /** Set while no publisher feeds it: the publication ends when it fires. */
  grace: NodeJS.Timeout | undefined;
}

/** One publication as the listing shows it. */
export interface PublicationState {
  name: string;
  state: 'live' | 'lingering';
  since: string;
  reconnects: number;
  video: { packets: number; bitrate_kbit: number; keyframes: number };
  audio: { packets: number; bitrate_kbit: number };
  publisher?: { packets: number; dropped: number; keyframe_requests: number };
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
    const publication = this.#byName.get(name) ?? (await this.#open(name));
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
    publisher.once('closed', (reason) => this.#publisherClosed(publication, publisher, reason));
    return created;
  }

  /** The source viewers of `name` play. */
  source(name: string): RtpSource | undefined {
    return this.#byName.get(name)?.source;
  }

  list(): PublicationState[] {
    return [...this.#byName.values()].map((publication) => {
      const stats = publication.source.stats();
      const health = publication.source.health().video;
      const publisher = publication.publisher?.stats();
      return {
        name: publication.name,
        state: publication.publisher === undefined ? 'lingering' : 'live',
        since: publication.since.toISOString(),
        reconnects: Math.max(0, publication.publishers - 1),
        video: {
          packets: stats.video.packets,
          bitrate_kbit: Math.round(stats.video.bitrateBps / 1000),
          keyframes: health.keyframes,
        },
        audio: {
          packets: stats.audio?.packets ?? 0,
          bitrate_kbit: Math.round((stats.audio?.bitrateBps ?? 0) / 1000),
        },
        ...(publisher
          ? {
              publisher: {
                packets: publisher.packets,
                dropped: publisher.dropped,
                keyframe_requests: publisher.keyframeRequests,
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

  async #open(name: string): Promise<Publication> {
    if (this.#closed) throw new Error('the server is closing');
    const source = await RtpSource.open({
      id: `whip-${name}`,
      video: { payloadType: sourcePayloadTypes.video },
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
