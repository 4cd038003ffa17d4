import { type CollectorOptions, SessionCollector, type SessionSummaryJson } from './session-collector.js';

/** One WebRTC viewer as the WHEP session registry reports it. */
export interface WebRtcSessionInfo {
  /** Stable per viewer; derived from the other fields when absent. */
  id?: string;
  processId: string;
  remote: string;
  createdAt: Date;
  bytesSent: number;
  /**
   * An adaptive viewer (a source with renditions): the rendition it is sent (`audio`: its video
   * paused), its link's estimate in bit/s, the fraction of its video lost over the last second and
   * its switches so far; shown in the session's `extra`.
   */
  rendition?: string | undefined;
  estimateBps?: number | undefined;
  loss?: number | undefined;
  switches?: number | undefined;
}

/** An adaptive viewer's standing as one line: `360p · link ~550 kbit/s · loss 0.4 % · 3 switches`. */
function adaptiveExtra(session: WebRtcSessionInfo): string {
  if (session.rendition === undefined) return '';
  const switches = session.switches ?? 0;
  return [
    session.rendition === 'audio' ? 'audio only' : session.rendition,
    `link ~${Math.round((session.estimateBps ?? 0) / 1000)} kbit/s`,
    `loss ${Math.round((session.loss ?? 0) * 1000) / 10} %`,
    `${switches} switch${switches === 1 ? '' : 'es'}`,
  ].join(' · ');
}

/** The collectors Dragon fills: datarhei's `hls`, `hlsingress`, `rtmp`, `srt`, and `webrtc` (Dragon's). */
export const collectorNames = ['hls', 'hlsingress', 'rtmp', 'srt', 'webrtc'] as const;
export type CollectorName = (typeof collectorNames)[number];

export interface SessionRegistryOptions {
  collector?: CollectorOptions;
  /** The current WebRTC viewers, read every second. */
  webrtcSessions?: (() => WebRtcSessionInfo[]) | undefined;
  /** @default 1000 */
  tickMs?: number;
}

const emptySummary = (): SessionSummaryJson => new SessionCollector('').summary();

/**
 * datarhei's session registry: one collector per protocol, expired every second. WebRTC viewers come
 * from a function the WHEP side provides; they are mirrored into the `webrtc` collector, so they show
 * in `/api/v3/session` with bytes and history like every other protocol.
 */
export class SessionRegistry {
  readonly #collectors = new Map<string, SessionCollector>();
  readonly #webrtcSessions: (() => WebRtcSessionInfo[]) | undefined;
  readonly #webrtcBytes = new Map<string, number>();
  readonly #timer: NodeJS.Timeout;

  constructor(options: SessionRegistryOptions = {}) {
    for (const name of collectorNames) {
      // Ingress of HLS is counted whoever writes it (FFmpeg writes from loopback).
      const collectorOptions =
        name === 'hlsingress' ? { ...options.collector, ipIgnoreList: [] } : options.collector;
      this.#collectors.set(name, new SessionCollector(name, collectorOptions));
    }
    this.#webrtcSessions = options.webrtcSessions;
    this.#timer = setInterval(() => this.tick(), options.tickMs ?? 1000);
    this.#timer.unref();
  }

  collector(name: CollectorName): SessionCollector {
    return this.#collectors.get(name)!;
  }

  /** datarhei answers an unknown collector with an empty summary, not an error. */
  summary(name: string): SessionSummaryJson {
    return this.#collectors.get(name)?.summary() ?? emptySummary();
  }

  active(name: string) {
    return this.#collectors.get(name)?.active() ?? [];
  }

  /** Mirrors the WebRTC viewers and expires idle sessions; runs every second. */
  tick(now = Date.now()): void {
    if (this.#webrtcSessions) this.#syncWebRtc(this.#webrtcSessions(), now);
    for (const collector of this.#collectors.values()) collector.expire(now);
  }

  close(): void {
    clearInterval(this.#timer);
  }

  #syncWebRtc(sessions: WebRtcSessionInfo[], now: number): void {
    const collector = this.collector('webrtc');
    const seen = new Set<string>();
    for (const session of sessions) {
      const id = session.id ?? `${session.processId}|${session.remote}|${session.createdAt.getTime()}`;
      seen.add(id);
      if (!collector.isKnown(id)) {
        collector.registerAndActivate(id, session.processId, `whep:${session.processId}`, session.remote);
      }
      const previous = this.#webrtcBytes.get(id) ?? 0;
      collector.egress(id, session.bytesSent - previous, now);
      collector.touch(id, now);
      if (session.rendition !== undefined) collector.extra(id, adaptiveExtra(session));
      this.#webrtcBytes.set(id, session.bytesSent);
    }
    for (const id of this.#webrtcBytes.keys()) {
      if (seen.has(id)) continue;
      collector.unregister(id);
      this.#webrtcBytes.delete(id);
    }
  }
}
