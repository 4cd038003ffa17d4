import { z } from 'zod';
import type { SrtByteStats } from './libsrt.js';

const statisticNames = [
  'timestamp_ms',
  'sent_pkt',
  'recv_pkt',
  'sent_unique_pkt',
  'recv_unique_pkt',
  'send_loss_pkt',
  'recv_loss_pkt',
  'sent_retrans_pkt',
  'recv_retran_pkts',
  'sent_ack_pkt',
  'recv_ack_pkt',
  'sent_nak_pkt',
  'recv_nak_pkt',
  'send_km_pkt',
  'recv_km_pkt',
  'send_duration_us',
  'send_drop_pkt',
  'recv_drop_pkt',
  'recv_undecrypt_pkt',
  'sent_bytes',
  'recv_bytes',
  'sent_unique_bytes',
  'recv_unique_bytes',
  'recv_loss_bytes',
  'sent_retrans_bytes',
  'send_drop_bytes',
  'recv_drop_bytes',
  'recv_undecrypt_bytes',
  'pkt_send_period_us',
  'flow_window_pkt',
  'flight_size_pkt',
  'rtt_ms',
  'bandwidth_mbit',
  'max_bandwidth_mbit',
  'avail_send_buf_bytes',
  'avail_recv_buf_bytes',
  'mss_bytes',
  'send_buf_pkt',
  'send_buf_bytes',
  'send_buf_ms',
  'send_tsbpd_delay_ms',
  'recv_buf_pkt',
  'recv_buf_bytes',
  'recv_buf_ms',
  'recv_tsbpd_delay_ms',
  'reorder_tolerance_pkt',
  'pkt_recv_avg_belated_time_ms',
] as const;

/** datarhei's `api.SRTStatistics`: one connection's counters, libsrt's `CBytePerfMon` renamed. */
const srtStatisticsJsonSchema = z.object(
  Object.fromEntries(statisticNames.map((name) => [name, z.number()])) as Record<
    (typeof statisticNames)[number],
    z.ZodNumber
  >,
);
export type SrtStatisticsJson = z.infer<typeof srtStatisticsJsonSchema>;

/**
 * datarhei's `/api/v3/srt` body (`api.SRTChannels`): the publishing socket per name, the playing
 * sockets per name, each socket's statistics and log. Dragon keeps no per-connection SRT log, so
 * `log` maps are empty.
 */
export const srtChannelsJsonSchema = z.object({
  publisher: z.record(z.string(), z.number()),
  subscriber: z.record(z.string(), z.array(z.number())),
  connections: z.record(
    z.string(),
    z.object({ log: z.record(z.string(), z.array(z.never())), stats: srtStatisticsJsonSchema }),
  ),
  log: z.record(z.string(), z.array(z.never())),
});
export type SrtChannelsJson = z.infer<typeof srtChannelsJsonSchema>;

/**
 * libsrt's totals under datarhei's names. libsrt counts no key-material packets (`send_km_pkt`,
 * `recv_km_pkt` are 0) and its receiver retransmissions only as an interval value, which is the
 * total because the statistics are never cleared.
 */
export function srtStatistics(stats: SrtByteStats): SrtStatisticsJson {
  const n = (value: number | bigint) => Number(value);
  return {
    timestamp_ms: n(stats.msTimeStamp),
    sent_pkt: n(stats.pktSentTotal),
    recv_pkt: n(stats.pktRecvTotal),
    sent_unique_pkt: n(stats.pktSentUniqueTotal),
    recv_unique_pkt: n(stats.pktRecvUniqueTotal),
    send_loss_pkt: n(stats.pktSndLossTotal),
    recv_loss_pkt: n(stats.pktRcvLossTotal),
    sent_retrans_pkt: n(stats.pktRetransTotal),
    recv_retran_pkts: n(stats.pktRcvRetrans),
    sent_ack_pkt: n(stats.pktSentACKTotal),
    recv_ack_pkt: n(stats.pktRecvACKTotal),
    sent_nak_pkt: n(stats.pktSentNAKTotal),
    recv_nak_pkt: n(stats.pktRecvNAKTotal),
    send_km_pkt: 0,
    recv_km_pkt: 0,
    send_duration_us: n(stats.usSndDurationTotal),
    send_drop_pkt: n(stats.pktSndDropTotal),
    recv_drop_pkt: n(stats.pktRcvDropTotal),
    recv_undecrypt_pkt: n(stats.pktRcvUndecryptTotal),
    sent_bytes: n(stats.byteSentTotal),
    recv_bytes: n(stats.byteRecvTotal),
    sent_unique_bytes: n(stats.byteSentUniqueTotal),
    recv_unique_bytes: n(stats.byteRecvUniqueTotal),
    recv_loss_bytes: n(stats.byteRcvLossTotal),
    sent_retrans_bytes: n(stats.byteRetransTotal),
    send_drop_bytes: n(stats.byteSndDropTotal),
    recv_drop_bytes: n(stats.byteRcvDropTotal),
    recv_undecrypt_bytes: n(stats.byteRcvUndecryptTotal),
    pkt_send_period_us: n(stats.usPktSndPeriod),
    flow_window_pkt: n(stats.pktFlowWindow),
    flight_size_pkt: n(stats.pktFlightSize),
    rtt_ms: n(stats.msRTT),
    bandwidth_mbit: n(stats.mbpsBandwidth),
    max_bandwidth_mbit: n(stats.mbpsMaxBW),
    avail_send_buf_bytes: n(stats.byteAvailSndBuf),
    avail_recv_buf_bytes: n(stats.byteAvailRcvBuf),
    mss_bytes: n(stats.byteMSS),
    send_buf_pkt: n(stats.pktSndBuf),
    send_buf_bytes: n(stats.byteSndBuf),
    send_buf_ms: n(stats.msSndBuf),
    send_tsbpd_delay_ms: n(stats.msSndTsbPdDelay),
    recv_buf_pkt: n(stats.pktRcvBuf),
    recv_buf_bytes: n(stats.byteRcvBuf),
    recv_buf_ms: n(stats.msRcvBuf),
    recv_tsbpd_delay_ms: n(stats.msRcvTsbPdDelay),
    reorder_tolerance_pkt: n(stats.pktReorderTolerance),
    // datarhei documents an integer.
    pkt_recv_avg_belated_time_ms: Math.round(n(stats.pktRcvAvgBelatedTime)),
  };
}
