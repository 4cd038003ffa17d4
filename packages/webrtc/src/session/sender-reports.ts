import {
  type RTCDtlsTransport,
  type RTCRtpSender,
  type RtcpPacket,
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
 * since it arrived, the same mapping for both tracks (for video, the rendition the viewer is sent
 * now, moved into its output space). Sent every 0.5–1.5 s, as werift does, all of
 * a viewer's streams in one compound packet through werift's SRTCP session; nothing for a stream
 * before its first packet.
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
    // One compound packet per transport (RFC 3550 §6.1: the reports, then one SDES with a CNAME
    // chunk per stream), so with BUNDLE one SRTCP protection and one datagram per viewer per round
    // instead of one per stream: SRTCP is werift's, a cipher built per packet, on this thread.
    const compounds = new Map<
      RTCDtlsTransport,
      { reports: RtcpPacket[]; chunks: SourceDescriptionChunk[] }
    >();
    for (const { kind, sender } of this.#streams) {
      const transport = sender.dtlsTransport;
      const report = transport && this.#report(kind, sender);
      if (!report) continue;
      const compound = compounds.get(transport) ?? { reports: [], chunks: [] };
      compounds.set(transport, compound);
      compound.reports.push(report);
      const cname = senderCname(sender);
      if (cname) {
        const items = [new SourceDescriptionItem({ type: sdesCname, text: cname })];
        compound.chunks.push(new SourceDescriptionChunk({ source: sender.ssrc, items }));
      }
    }
    for (const [transport, { reports, chunks }] of compounds) {
      const sdes = chunks.length > 0 ? [new RtcpSourceDescriptionPacket({ chunks })] : [];
      void transport.sendRtcp([...reports, ...sdes]).catch(() => undefined);
    }
    this.#schedule();
  }

  /** The stream's report, recorded as sent; none before its first packet. */
  #report(kind: TrackKind, sender: RTCRtpSender): RtcpSrPacket | undefined {
    const counters = this.#viewer.streamCounters(kind);
    // The clock of the rendition the stream is sent now, in the viewer's output space; nothing
    // while its video is paused. A report made around a switch may pair the previous rendition's
    // clock with the new offset: the next one, at most 1.5 s later, corrects it.
    if (!counters || counters.packets === 0 || counters.rendition < 0) return undefined;
    const clock = this.#source.clock(kind, counters.rendition);
    if (!clock) return undefined;
    const now = Date.now();
    const ntp = ntpTimestamp(now);
    const elapsedUnits = Math.round(((now - clock.arrivalMs) * clockRates[kind]) / 1000);
    const report = {
      ntpTimestamp: ntp,
      rtpTimestamp: (clock.rtpTimestamp + counters.tsOffset + Math.max(0, elapsedUnits)) >>> 0,
      packetCount: counters.packets >>> 0,
      octetCount: counters.payloadOctets >>> 0,
    };
    recordSenderReport(sender, report, compactNtp(ntp), now / 1000);
    return new RtcpSrPacket({ ssrc: sender.ssrc, senderInfo: new RtcpSenderInfo(report) });
  }
}
