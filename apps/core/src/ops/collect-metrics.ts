import type { ProcessManager } from '@dragon/restream';
import type { FanoutPlane, RtpSource } from '@dragon/webrtc';
import { Counter, Gauge, Registry } from 'prom-client';
import { processMetrics } from './metrics.js';
import { registerWhepViewerMetrics, type WhepViewerFigures } from './whep-metrics.js';
import { registerWhipMetrics, type WhipPublicationFigures } from './whip-metrics.js';

const execStates = ['finished', 'starting', 'running', 'finishing', 'failed', 'killed'] as const;

export interface MetricsInput {
  manager: Pick<ProcessManager, 'list' | 'getState'>;
  /** A process's RTP source, while it has one. */
  source(processId: string): Pick<RtpSource, 'stats' | 'sentStats'> | undefined;
  /** The viewer count of a process (the WHEP session count). */
  viewers(processId: string): number;
  /** The media data plane, when WebRTC is on: its worker restarts are counted. */
  dataPlane?: Pick<FanoutPlane, 'workerRestarts'> | undefined;
  /** The WHEP sessions, when WebRTC is on (the listing's figures): adaptive viewers are counted by rendition. */
  whepViewers?: (() => readonly WhepViewerFigures[]) | undefined;
  /** The WHIP publications, when WHIP is on (the listing's figures). */
  whipPublications?: (() => readonly WhipPublicationFigures[]) | undefined;
}

export interface Metrics {
  readonly contentType: string;
  /**
   * The Prometheus text of the process metrics and this core's figures, read now. Without
   * `withProcessIds` (an anonymous scraper while auth is on) only totals: process ids are not public.
   */
  render(options: { withProcessIds: boolean }): Promise<string>;
}

/**
 * `/metrics`: the process metrics plus Dragon's figures per process. Nothing is counted as it
 * happens: the figures are read from the process manager and the sources when scraped, so the
 * media path does no work for metrics.
 */
export function createMetrics(input: MetricsInput): Metrics {
  // Totals go to `registry`; figures labelled by process id to `perProcess`, rendered only to
  // clients allowed to learn the ids.
  const registry = new Registry();
  const perProcess = new Registry();
  const registers = [perProcess];
  // Registered for its collect(): one scrape reads everything once, here, as prom-client collects
  // this metric first; the per-process metrics below only hold what it set.
  new Gauge({
    name: 'dragon_processes',
    help: 'Processes by FFmpeg execution state.',
    labelNames: ['state'],
    registers: [registry],
    collect() {
      const byState = new Map<string, number>(execStates.map((state) => [state, 0]));
      packetsIn.reset();
      bytesIn.reset();
      packetsOut.reset();
      bytesOut.reset();
      packetsDropped.reset();
      viewers.reset();
      for (const id of input.manager.list()) {
        const exec = input.manager.getState(id).exec;
        byState.set(exec, (byState.get(exec) ?? 0) + 1);
        const source = input.source(id);
        if (source === undefined) continue;
        const labels = { process_id: id };
        viewers.set(labels, input.viewers(id));
        for (const [track, stats] of Object.entries(source.stats())) {
          if (stats === undefined) continue;
          packetsIn.inc({ ...labels, track }, stats.packets);
          bytesIn.inc({ ...labels, track }, stats.bytes);
        }
        const sent = source.sentStats();
        packetsOut.inc(labels, sent.packetsSent);
        bytesOut.inc(labels, sent.bytesSent);
        packetsDropped.inc(labels, sent.packetsDropped);
      }
      this.reset();
      for (const [state, count] of byState) this.set({ state }, count);
    },
  });
  const viewers = new Gauge({
    name: 'dragon_process_viewers',
    help: 'WebRTC viewers per process: open WHEP sessions plus offers being answered.',
    labelNames: ['process_id'],
    registers,
  });
  const packetsIn = new Counter({
    name: 'dragon_process_rtp_packets_received_total',
    help: 'RTP packets received from FFmpeg per process and track.',
    labelNames: ['process_id', 'track'],
    registers,
  });
  const bytesIn = new Counter({
    name: 'dragon_process_rtp_bytes_received_total',
    help: 'RTP bytes received from FFmpeg per process and track.',
    labelNames: ['process_id', 'track'],
    registers,
  });
  const packetsOut = new Counter({
    name: 'dragon_process_packets_sent_total',
    help: 'RTP packets sent to viewers per process.',
    labelNames: ['process_id'],
    registers,
  });
  const bytesOut = new Counter({
    name: 'dragon_process_bytes_sent_total',
    help: 'RTP bytes sent to viewers per process.',
    labelNames: ['process_id'],
    registers,
  });
  const packetsDropped = new Counter({
    name: 'dragon_process_packets_dropped_total',
    help: 'RTP packets for viewers per process that their uplink would not take in time (congestion) or refused.',
    labelNames: ['process_id'],
    registers,
  });
  const dataPlane = input.dataPlane;
  if (dataPlane) {
    new Counter({
      name: 'dragon_data_plane_worker_restarts_total',
      help: 'Media data-plane worker threads that died and were replaced (their sources and viewers moved to the new one).',
      registers: [registry],
      collect() {
        this.reset();
        this.inc(dataPlane.workerRestarts);
      },
    });
  }
  if (input.whepViewers) {
    registerWhepViewerMetrics(input.whepViewers, { totals: registry, perProcess: perProcess });
  }
  if (input.whipPublications) {
    registerWhipMetrics(input.whipPublications, { totals: registry, perName: perProcess });
  }
  // Order matters: `dragon_processes` (in `registry`) collects before the per-process metrics are read.
  const totals = Registry.merge([processMetrics(), registry]);
  const all = Registry.merge([processMetrics(), registry, perProcess]);
  return {
    contentType: all.contentType,
    render: ({ withProcessIds }) => (withProcessIds ? all : totals).metrics(),
  };
}
