import type { ProcessManager } from '@dragon/restream';
import type { WebRtcSubsystem } from '../webrtc/webrtc-subsystem.js';
import type { Metric } from './metrics.js';

const execStates = ['finished', 'starting', 'running', 'finishing', 'failed', 'killed'] as const;

/** Reads the current numbers; nothing is kept between scrapes. */
export function collectMetrics(
  manager: ProcessManager,
  webrtc: WebRtcSubsystem | undefined,
  viewerCount: (processId: string) => number,
): Metric[] {
  const byState = new Map<string, number>(execStates.map((state) => [state, 0]));
  const ids = manager.list();
  for (const id of ids) {
    const exec = manager.getState(id).exec;
    byState.set(exec, (byState.get(exec) ?? 0) + 1);
  }
  const viewers: Metric = {
    name: 'dragon_process_viewers',
    help: 'WebRTC viewers per process: open WHEP sessions plus offers being answered.',
    type: 'gauge',
    samples: [],
  };
  const packetsIn: Metric = {
    name: 'dragon_process_rtp_packets_received_total',
    help: 'RTP packets received from FFmpeg per process and track.',
    type: 'counter',
    samples: [],
  };
  const bytesIn: Metric = {
    name: 'dragon_process_rtp_bytes_received_total',
    help: 'RTP bytes received from FFmpeg per process and track.',
    type: 'counter',
    samples: [],
  };
  const packetsOut: Metric = {
    name: 'dragon_process_packets_sent_total',
    help: 'RTP packets sent to viewers per process.',
    type: 'counter',
    samples: [],
  };
  const bytesOut: Metric = {
    name: 'dragon_process_bytes_sent_total',
    help: 'RTP bytes sent to viewers per process.',
    type: 'counter',
    samples: [],
  };
  for (const id of ids) {
    const source = webrtc?.source(id);
    if (!source) continue;
    const labels = { process_id: id };
    viewers.samples.push({ labels, value: viewerCount(id) });
    const stats = source.stats();
    for (const [track, trackStats] of Object.entries(stats)) {
      if (!trackStats || typeof trackStats !== 'object' || !('packets' in trackStats)) continue;
      packetsIn.samples.push({ labels: { ...labels, track }, value: trackStats.packets });
      bytesIn.samples.push({ labels: { ...labels, track }, value: trackStats.bytes });
    }
    const sent = source.sentStats();
    packetsOut.samples.push({ labels, value: sent.packetsSent });
    bytesOut.samples.push({ labels, value: sent.bytesSent });
  }
  return [
    {
      name: 'dragon_processes',
      help: 'Processes by FFmpeg execution state.',
      type: 'gauge',
      samples: [...byState].map(([state, value]) => ({ labels: { state }, value })),
    },
    viewers,
    packetsIn,
    bytesIn,
    packetsOut,
    bytesOut,
  ];
}
