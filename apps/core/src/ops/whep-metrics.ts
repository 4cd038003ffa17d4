import { Counter, Gauge, type Registry } from 'prom-client';

/** What the WHEP viewer metrics read of each session: a subset of `WhepSessionInfo`. */
export interface WhepViewerFigures {
  id: string;
  processId: string;
  /** Adaptive viewers only: the rendition sent (`audio`: video paused), the estimate, loss, switches. */
  rendition?: string | undefined;
  estimateBps?: number | undefined;
  loss?: number | undefined;
  switches?: number | undefined;
}

/**
 * The adaptive WHEP viewers' figures, read from the session listing when scraped. Series are per
 * process and rendition, never per session: a server with thousands of viewers has a handful of
 * renditions per process, and a session's own figures are in the session listing
 * (`/api/v3/session`) and its player's status. Among the totals, adaptive viewers by rendition;
 * per process (labelled by id, only for clients allowed to learn the ids) viewers, mean link
 * estimate and mean loss by rendition, and the switches of all its viewers so far, those of
 * sessions that ended included.
 */
export function registerWhepViewerMetrics(
  list: () => readonly WhepViewerFigures[],
  registers: { totals: Registry; perProcess: Registry },
): void {
  const perProcess = [registers.perProcess];
  const labelNames = ['process_id', 'rendition'] as const;
  const viewers = new Gauge({
    name: 'dragon_whep_viewers_by_rendition',
    help: 'Adaptive WebRTC viewers per process by the rendition they are sent (audio: video paused, the link carries less than the lowest rendition).',
    labelNames,
    registers: perProcess,
  });
  const estimate = new Gauge({
    name: 'dragon_whep_viewer_estimate_bps',
    help: 'Mean estimate of the adaptive viewers’ links per process and rendition, bit/s.',
    labelNames,
    registers: perProcess,
  });
  const loss = new Gauge({
    name: 'dragon_whep_viewer_loss_ratio',
    help: 'Mean fraction of video packets the adaptive viewers lost over the last second (before retransmission), per process and rendition.',
    labelNames,
    registers: perProcess,
  });
  const switches = new Counter({
    name: 'dragon_whep_viewer_switches_total',
    help: 'Rendition switches of the adaptive viewers per process, ended sessions included.',
    labelNames: ['process_id'],
    registers: perProcess,
  });
  // A counter must not fall when a session ends: its last switches go to its process's past.
  const lastSwitches = new Map<string, { processId: string; switches: number }>();
  const ended = new Map<string, number>();
  new Gauge({
    name: 'dragon_whep_adaptive_viewers',
    help: 'Adaptive WebRTC viewers (of sources with renditions) by the rendition they are sent.',
    labelNames: ['rendition'],
    registers: [registers.totals],
    collect() {
      for (const metric of [viewers, estimate, loss, switches]) metric.reset();
      const groups = new Map<
        string,
        { processId: string; rendition: string; n: number; bps: number; loss: number }
      >();
      const open = new Set<string>();
      const switchesNow = new Map<string, number>(ended);
      for (const viewer of list()) {
        if (viewer.rendition === undefined) continue;
        const key = `${viewer.processId}\n${viewer.rendition}`;
        const group = groups.get(key) ?? {
          processId: viewer.processId,
          rendition: viewer.rendition,
          n: 0,
          bps: 0,
          loss: 0,
        };
        group.n += 1;
        group.bps += viewer.estimateBps ?? 0;
        group.loss += viewer.loss ?? 0;
        groups.set(key, group);
        open.add(viewer.id);
        lastSwitches.set(viewer.id, { processId: viewer.processId, switches: viewer.switches ?? 0 });
        switchesNow.set(viewer.processId, (switchesNow.get(viewer.processId) ?? 0) + (viewer.switches ?? 0));
      }
      for (const [id, last] of lastSwitches) {
        if (open.has(id)) continue;
        lastSwitches.delete(id);
        ended.set(last.processId, (ended.get(last.processId) ?? 0) + last.switches);
        switchesNow.set(last.processId, (switchesNow.get(last.processId) ?? 0) + last.switches);
      }
      const byRendition = new Map<string, number>();
      for (const group of groups.values()) {
        const labels = { process_id: group.processId, rendition: group.rendition };
        viewers.set(labels, group.n);
        estimate.set(labels, Math.round(group.bps / group.n));
        loss.set(labels, group.loss / group.n);
        byRendition.set(group.rendition, (byRendition.get(group.rendition) ?? 0) + group.n);
      }
      for (const [processId, count] of switchesNow) switches.inc({ process_id: processId }, count);
      this.reset();
      for (const [rendition, count] of byRendition) this.set({ rendition }, count);
    },
  });
}
