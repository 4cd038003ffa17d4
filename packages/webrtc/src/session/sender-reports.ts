import {
  type RTCRtpSender,
  RtcpSenderInfo,
  RtcpSourceDescriptionPacket,
  RtcpSrPacket,
  SourceDescriptionChunk,
  SourceDescriptionItem,
} from 'werift';
import type { PlaneSource, PlaneViewer } from '../fanout/plane-handles.js';
import { clockRates, type TrackKind } from '../ingest/track-ingest.js';
import { recordSenderReport, senderCname } from '../werift/sender-internals.js';

/** Seconds from the NTP epoch (1900) to the Unix epoch (1970), RFC 868. */
const ntpEpochOffset = 2_208_988_800;
const sdesCname = 1;

/** An NTP timestamp (RFC 3550 §4: seconds since 1900, then the fraction in units of 2^-32 s). */
export function ntpTimestamp(unixMs: number): bigint {
  const seconds = Math.floor(unixMs / 1000);
  const fraction = Math.floor(((unixMs - seconds * 1000) / 1000) * 2 ** 32);
  return (BigInt(seconds + ntpEpochOffset) << 32n) | BigInt(fraction);
}

/** The middle 32 bits of an NTP timestamp: what receiver reports echo as LSR (RFC 3550 §6.4.1). */
export function compactNtp(ntp: bigint): number {
  return Number((ntp >> 16n) & 0xffffffffn);
}

/**
 * Sender Reports for a viewer's streams, which the data plane sends without werift's `RTCRtpSender`:
 * packet and octet counts from the plane, and the RTP/NTP pair that lets the browser line audio up
 * with video (RFC 3550 §6.4.1). The RTP timestamp is the newest packet's, moved on by the time
 * since it arrived, the same mapping for both tracks. Sent every 0.5–1.5 s per stream, as werift
 * does, through werift's SRTCP session; nothing before the stream's first packet.
 */
export class SenderReports {
  readonly #streams: { kind: TrackKind; sender: RTCRtpSender }[];
  readonly #source: PlaneSource;
  readonly #viewer: PlaneViewer;
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;

  constructor(
    streams: { kind: TrackKind; sender: RTCRtpSender }[],
    source: PlaneSource,
    viewer: PlaneViewer,
  ) {
    this.#streams = streams;
    this.#source = source;
    this.#viewer = viewer;
    this.#schedule();
  }

  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
  }

  #schedule(): void {
    if (this.#stopped) return;
    this.#timer = setTimeout(() => this.#send(), 500 + Math.random() * 1000);
    this.#timer.unref();
  }

  #send(): void {
    for (const { kind, sender } of this.#streams) this.#report(kind, sender);
    this.#schedule();
  }

  #report(kind: TrackKind, sender: RTCRtpSender): void {
    const counters = this.#viewer.streamCounters(kind);
    const clock = this.#source.clock(kind);
    if (!counters || counters.packets === 0 || !clock) return;
    const now = Date.now();
    const ntp = ntpTimestamp(now);
    const elapsedUnits = Math.round(((now - clock.arrivalMs) * clockRates[kind]) / 1000);
    const report = {
      ntpTimestamp: ntp,
      rtpTimestamp: (clock.rtpTimestamp + Math.max(0, elapsedUnits)) >>> 0,
      packetCount: counters.packets >>> 0,
      octetCount: counters.payloadOctets >>> 0,
    };
    const packets: (RtcpSrPacket | RtcpSourceDescriptionPacket)[] = [
      new RtcpSrPacket({ ssrc: sender.ssrc, senderInfo: new RtcpSenderInfo(report) }),
    ];
    const cname = senderCname(sender);
    if (cname) {
      packets.push(
        new RtcpSourceDescriptionPacket({
          chunks: [
            new SourceDescriptionChunk({
              source: sender.ssrc,
              items: [new SourceDescriptionItem({ type: sdesCname, text: cname })],
            }),
          ],
        }),
      );
    }
    recordSenderReport(sender, report, compactNtp(ntp), now / 1000);
    void sender.dtlsTransport?.sendRtcp(packets).catch(() => undefined);
  }
}
