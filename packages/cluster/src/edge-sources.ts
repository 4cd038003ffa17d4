import type { PortAllocator, RtpPortPair } from '@dragon/portalloc';
import { RtpSource } from '@dragon/webrtc';
import type { Logger } from 'pino';
import type { NodeRecord, ProcessRecord } from './cluster-records.js';
import { EdgePull, pullPayloadTypes } from './edge-pull.js';
import { placedParam } from './whep-placement.js';

/** Where a process can be pulled from now: its record, and its owner if that node is alive. */
export interface PullTarget {
  record: ProcessRecord;
  origin: NodeRecord | undefined;
}

export interface EdgeSourcesOptions {
  ports: PortAllocator;
  /** Viewers of a process on this node: the WHEP session count. */
  viewers(processId: string): number;
  /** An edge stream closed for good: its viewers' sessions go with it. */
  onSourceClosed(processId: string): void;
  /** Looks the process up in the cluster (Redis); undefined when no node has it. */
  resolve(processId: string): Promise<PullTarget | undefined>;
  /** The node-wide WHEP token (`webrtc.token`, the same on every node), for processes without their own. */
  globalToken: string;
  /** Addresses the pulls' ICE gathers on (`webrtc.interfaces`). */
  interfaces: readonly string[];
  /** A stream nobody watched for this long is no longer pulled. */
  idleTimeoutMs: number;
  /** A stream without media for this long is given up, and its viewers with it. */
  orphanTimeoutMs: number;
  /**
   * A pull that delivered nothing for this long is replaced by a new one, from whatever node owns the
   * process by then. An FFmpeg restarting on the origin is usually back sooner. @default 5000
   */
  stallTimeoutMs?: number;
  logger: Logger;
}

/** One process pulled to this node: its source (what viewers subscribe to) and the pull feeding it. */
interface EdgeStream {
  readonly processId: string;
  readonly source: RtpSource;
  readonly ports: RtpPortPair;
  readonly token: string;
  pull: EdgePull | undefined;
  connecting: Promise<void> | undefined;
  origin: string | undefined;
  lastViewerAt: number;
  /** When an offer was last answered from this stream: its viewer may still be connecting. */
  lastOfferAt: number;
  lastMediaAt: number;
  retryAt: number;
  failures: number;
  closed: boolean;
}

const tickMs = 1000;
/**
 * A viewer that got its answer is only counted once ICE and DTLS are up; until then the stream is kept
 * for it. 15 s is the default bound after which the peer factory drops a viewer that never connected.
 */
const connectGraceMs = 15_000;

/**
 * The streams this node serves as an edge: one pull per process, shared by every viewer of it here.
 * The source outlives its pulls: when the origin goes away the stream is pulled again (from the node
 * that took the process over, if one did) and viewers stay connected, continuity rewriting the new
 * pull's SSRC, sequence numbers and timestamps into theirs.
 */
export class EdgeSources {
  readonly #options: EdgeSourcesOptions;
  readonly #stallTimeoutMs: number;
  readonly #streams = new Map<string, EdgeStream>();
  readonly #opening = new Map<string, Promise<EdgeStream | undefined>>();
  readonly #timer: NodeJS.Timeout;
  #closed = false;

  constructor(options: EdgeSourcesOptions) {
    this.#options = options;
    this.#stallTimeoutMs = options.stallTimeoutMs ?? 5000;
    this.#timer = setInterval(() => this.#tick(), tickMs);
    this.#timer.unref();
  }

  /** The source of a process this node pulls, if it does. */
  source(processId: string): RtpSource | undefined {
    return this.#streams.get(processId)?.source;
  }

  /** The viewer token of a pulled process ('' for none). */
  token(processId: string): string | undefined {
    return this.#streams.get(processId)?.token;
  }

  /** Processes pulled now. */
  ids(): string[] {
    return [...this.#streams.keys()];
  }

  /** Bytes all edge sources handed to viewers so far. */
  get bytesSent(): number {
    let bytes = 0;
    for (const stream of this.#streams.values()) bytes += stream.source.sentStats().bytesSent;
    return bytes;
  }

  /**
   * Pulls `processId` unless it is pulled already and waits up to `waitMs` for its first media. Resolves
   * the source (with or without media by then), or undefined when no node runs the process.
   */
  async ensure(processId: string, waitMs: number): Promise<RtpSource | undefined> {
    if (this.#closed) return undefined;
    const stream = this.#streams.get(processId) ?? (await this.#open(processId));
    if (stream === undefined) return undefined;
    stream.lastOfferAt = Date.now();
    if (!stream.source.hasMedia) await firstMedia(stream.source, waitMs);
    stream.lastOfferAt = Date.now();
    return stream.closed ? undefined : stream.source;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#timer);
    await Promise.all([...this.#opening.values()]);
    await Promise.all([...this.#streams.values()].map((stream) => this.#teardown(stream, 'shutdown')));
  }

  #open(processId: string): Promise<EdgeStream | undefined> {
    const pending = this.#opening.get(processId);
    if (pending) return pending;
    const opening = this.#create(processId).finally(() => this.#opening.delete(processId));
    this.#opening.set(processId, opening);
    return opening;
  }

  async #create(processId: string): Promise<EdgeStream | undefined> {
    const target = await this.#options.resolve(processId);
    const webrtc = target?.record.webrtc;
    if (!target || !webrtc?.enabled || target.record.order !== 'start' || this.#closed) return undefined;
    const ports = await this.#options.ports.allocateRtpPair();
    let source: RtpSource;
    try {
      source = await RtpSource.open({
        id: processId,
        video: { socket: ports.video.takeSocket(), payloadType: pullPayloadTypes.video },
        ...(webrtc.audio
          ? { audio: { socket: ports.audio.takeSocket(), payloadType: pullPayloadTypes.audio } }
          : {}),
      });
    } catch (error) {
      ports.release();
      throw error;
    }
    const now = Date.now();
    const stream: EdgeStream = {
      processId,
      source,
      ports,
      token: webrtc.token,
      pull: undefined,
      connecting: undefined,
      origin: undefined,
      lastViewerAt: now,
      lastOfferAt: now,
      lastMediaAt: now,
      retryAt: now,
      failures: 0,
      closed: false,
    };
    // A viewer here lost its picture and the cached GOP did not bring it back: only the origin can
    // make a new keyframe, so the request goes upstream (rate-limited by the pull).
    source.on('keyframeRequest', () => stream.pull?.requestKeyframe());
    this.#streams.set(processId, stream);
    this.#options.logger.info({ processId, videoPort: ports.video.port }, 'edge source opened');
    this.#connect(stream, target);
    return stream;
  }

  /** Starts a pull unless one is running or being made; `known` saves the lookup right after a resolve. */
  #connect(stream: EdgeStream, known?: PullTarget): void {
    if (stream.connecting || stream.pull || stream.closed) return;
    stream.connecting = this.#pull(stream, known).finally(() => {
      stream.connecting = undefined;
    });
  }

  async #pull(stream: EdgeStream, known: PullTarget | undefined): Promise<void> {
    const { logger } = this.#options;
    const processId = stream.processId;
    const target = known ?? (await this.#options.resolve(processId).catch(() => 'unknown' as const));
    if (stream.closed) return;
    if (target === undefined) {
      await this.#teardown(stream, 'process gone');
      return;
    }
    if (target === 'unknown' || !target.origin) {
      // No live owner (or no Redis): a node may be taking the process over. Looking costs two Redis
      // reads, so look every tick rather than back off: the viewers are waiting for that node.
      stream.retryAt = Date.now() + tickMs;
      return;
    }
    if (target.record.order !== 'start' || !target.record.webrtc.enabled) {
      await this.#teardown(stream, 'process stopped');
      return;
    }
    const origin = target.origin;
    try {
      const pull = await EdgePull.open({
        processId,
        // Already placed: a pull is served by the node asked, never redirected to another edge.
        endpoint: `${origin.url}/api/v3/process/${encodeURIComponent(processId)}/whep?${placedParam}=1`,
        token: target.record.webrtc.token || this.#options.globalToken || undefined,
        videoPort: stream.ports.video.port,
        audioPort: stream.source.audioPort,
        interfaces: this.#options.interfaces,
      });
      if (stream.closed) {
        await pull.close('edge source closed');
        return;
      }
      stream.pull = pull;
      stream.origin = origin.id;
      stream.failures = 0;
      pull.once('closed', (reason) => {
        if (stream.pull !== pull) return;
        stream.pull = undefined;
        stream.retryAt = Date.now();
        logger.info({ processId, origin: origin.id, reason }, 'edge pull ended');
      });
      logger.info({ processId, origin: origin.id, session: pull.sessionUrl }, 'edge pull started');
    } catch (error) {
      logger.warn({ processId, origin: origin.id, err: error }, 'edge pull failed');
      this.#backoff(stream);
    }
  }

  #backoff(stream: EdgeStream): void {
    stream.failures++;
    stream.retryAt = Date.now() + Math.min(500 * 2 ** stream.failures, 5000);
  }

  #tick(): void {
    const now = Date.now();
    for (const stream of this.#streams.values()) {
      if (this.#options.viewers(stream.processId) > 0) stream.lastViewerAt = now;
      const lastPacket = stream.source.stats().video.lastPacketAt;
      if (lastPacket !== null && lastPacket > stream.lastMediaAt) stream.lastMediaAt = lastPacket;
      const idle = this.#options.idleTimeoutMs;
      if (now - stream.lastViewerAt > idle && now - stream.lastOfferAt > Math.max(idle, connectGraceMs)) {
        void this.#teardown(stream, 'no viewers');
        continue;
      }
      if (now - stream.lastMediaAt > this.#options.orphanTimeoutMs) {
        void this.#teardown(stream, 'no origin');
        continue;
      }
      const pull = stream.pull;
      if (pull && now - pull.lastPacketAt > this.#stallTimeoutMs) {
        stream.pull = undefined;
        void pull.close('stalled');
        this.#options.logger.info(
          { processId: stream.processId, origin: stream.origin },
          'edge pull stalled',
        );
      }
      if (!stream.pull && now >= stream.retryAt) this.#connect(stream);
    }
  }

  async #teardown(stream: EdgeStream, reason: string): Promise<void> {
    if (stream.closed) return;
    stream.closed = true;
    if (this.#streams.get(stream.processId) === stream) this.#streams.delete(stream.processId);
    const pull = stream.pull;
    stream.pull = undefined;
    this.#options.onSourceClosed(stream.processId);
    stream.source.close();
    stream.ports.release();
    this.#options.logger.info({ processId: stream.processId, reason }, 'edge source closed');
    await pull?.close(reason);
  }
}

/**
 * Polls rather than waits for an event: this runs once per offer to a stream without media yet, and
 * `hasMedia` is the source's stable contract.
 */
async function firstMedia(source: RtpSource, waitMs: number): Promise<void> {
  const deadline = Date.now() + waitMs;
  while (!source.hasMedia && !source.closed && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
