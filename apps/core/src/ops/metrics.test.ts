import { waitFor } from '@dragon/test-helpers';
import { describe, expect, it } from 'vitest';
import { createMetrics, type MetricsInput } from './collect-metrics.js';

const trackStats = (packets: number) => ({
  packets,
  bytes: packets * 1000,
  dropped: 0,
  bitrateBps: 0,
  lastPacketAt: 1,
});

const all = { withProcessIds: true };

function fakeInput(): MetricsInput {
  const states: Record<string, 'running' | 'failed'> = {
    cam: 'running',
    'cam"2': 'running',
    broken: 'failed',
  };
  return {
    manager: {
      list: () => Object.keys(states),
      getState: (id: string) => ({ exec: states[id] }) as ReturnType<MetricsInput['manager']['getState']>,
    },
    source: (id) =>
      id === 'broken'
        ? undefined
        : {
            stats: () => ({ video: trackStats(10), ...(id === 'cam' ? { audio: trackStats(4) } : {}) }),
            sentStats: () => ({ packetsSent: 28, bytesSent: 28_000, packetsDropped: 3 }),
          },
    viewers: (id) => (id === 'cam' ? 2 : 0),
  };
}

/** The value of one sample line, e.g. `sample(text, 'dragon_process_viewers{process_id="cam"}')`. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((entry) => entry.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe('/metrics', () => {
  it("has Dragon's figures under their names, read when scraped", async () => {
    const metrics = createMetrics(fakeInput());

    const text = await metrics.render(all);

    expect(metrics.contentType).toContain('text/plain');
    expect(sample(text, 'dragon_processes{state="running"}')).toBe(2);
    expect(sample(text, 'dragon_processes{state="failed"}')).toBe(1);
    expect(sample(text, 'dragon_processes{state="finished"}')).toBe(0);
    expect(sample(text, 'dragon_process_viewers{process_id="cam"}')).toBe(2);
    expect(sample(text, 'dragon_process_viewers{process_id="cam\\"2"}')).toBe(0);
    expect(sample(text, 'dragon_process_rtp_packets_received_total{process_id="cam",track="audio"}')).toBe(4);
    expect(sample(text, 'dragon_process_rtp_bytes_received_total{process_id="cam",track="video"}')).toBe(
      10_000,
    );
    expect(sample(text, 'dragon_process_packets_sent_total{process_id="cam"}')).toBe(28);
    expect(sample(text, 'dragon_process_bytes_sent_total{process_id="cam"}')).toBe(28_000);
    expect(sample(text, 'dragon_process_packets_dropped_total{process_id="cam"}')).toBe(3);
    // A process without a source has no per-process figures.
    expect(text).not.toContain('process_id="broken"');
    expect(text).toMatch(/^# TYPE dragon_process_packets_sent_total counter$/m);
  });

  it('reads the figures afresh at each scrape: gone processes vanish, counters follow their sources', async () => {
    const input = fakeInput();
    const metrics = createMetrics(input);
    await metrics.render(all);
    input.manager.list = () => ['cam'];

    const text = await metrics.render(all);

    expect(text).not.toContain('cam\\"2');
    expect(sample(text, 'dragon_process_packets_sent_total{process_id="cam"}')).toBe(28);
  });

  it("has prom-client's process and GC metrics", async () => {
    const text = await createMetrics(fakeInput()).render(all);

    for (const name of [
      'process_cpu_user_seconds_total',
      'process_resident_memory_bytes',
      'nodejs_heap_size_used_bytes',
      'nodejs_eventloop_lag_p99_seconds',
      'nodejs_gc_duration_seconds',
    ]) {
      expect(text).toMatch(new RegExp(`^# TYPE ${name} `, 'm'));
    }
  });

  it('has an event-loop delay histogram that records a blocked loop', async () => {
    const metrics = createMetrics(fakeInput());
    const over100ms = async () => {
      const text = await metrics.render(all);
      const total = sample(text, 'dragon_event_loop_delay_seconds_count') ?? 0;
      return total - (sample(text, 'dragon_event_loop_delay_seconds_bucket{le="0.1"}') ?? 0);
    };
    expect(await metrics.render(all)).toMatch(/^# TYPE dragon_event_loop_delay_seconds histogram$/m);
    const before = await over100ms();

    // Block the loop for 150 ms: the sampling timer due meanwhile fires at least 130 ms late.
    const until = performance.now() + 150;
    while (performance.now() < until) {
      // busy on purpose
    }

    await waitFor('a sample over 100 ms', async () => ((await over100ms()) > before ? true : undefined));
  });

  it('counts the data-plane workers that were replaced, for anonymous scrapers too', async () => {
    const dataPlane = { workerRestarts: 0 };
    const metrics = createMetrics({ ...fakeInput(), dataPlane });
    expect(sample(await metrics.render(all), 'dragon_data_plane_worker_restarts_total')).toBe(0);

    dataPlane.workerRestarts = 3;

    expect(
      sample(await metrics.render({ withProcessIds: false }), 'dragon_data_plane_worker_restarts_total'),
    ).toBe(3);
  });

  it('shows an anonymous scraper totals only, no process ids', async () => {
    const text = await createMetrics(fakeInput()).render({ withProcessIds: false });

    expect(sample(text, 'dragon_processes{state="running"}')).toBe(2);
    expect(text).not.toContain('process_id=');
    expect(text).toMatch(/^# TYPE dragon_event_loop_delay_seconds histogram$/m);
  });

  it('has the WHIP publications: a count by state for everyone, per name the bytes, bitrates and reconnects', async () => {
    const cam = {
      name: 'cam',
      state: 'live',
      reconnects: 1,
      forwarded: { packets: 30, bytes: 30_000 },
      video: {
        bitrate_kbit: 1300,
        layers: [
          { rid: 'f', bitrate_kbit: 1000 },
          { rid: 'q', bitrate_kbit: 300 },
        ],
      },
      audio: { bitrate_kbit: 40 },
    };
    const studio = {
      ...cam,
      name: 'studio',
      state: 'lingering',
      reconnects: 0,
      video: { bitrate_kbit: 0, layers: [] },
      audio: { bitrate_kbit: 0 },
    };
    const publications = [cam, studio];
    const metrics = createMetrics({ ...fakeInput(), whipPublications: () => publications });

    const text = await metrics.render(all);
    const anonymous = await metrics.render({ withProcessIds: false });

    const expected = {
      'dragon_whip_publications{state="live"}': 1,
      'dragon_whip_publications{state="lingering"}': 1,
      'dragon_whip_publication_bytes_received_total{name="cam"}': 30_000,
      'dragon_whip_publication_packets_received_total{name="cam"}': 30,
      'dragon_whip_publication_bitrate_bps{name="cam",track="video",layer="f"}': 1_000_000,
      'dragon_whip_publication_bitrate_bps{name="cam",track="video",layer="q"}': 300_000,
      'dragon_whip_publication_bitrate_bps{name="cam",track="audio",layer=""}': 40_000,
      'dragon_whip_publication_bitrate_bps{name="studio",track="video",layer=""}': 0,
      'dragon_whip_publisher_reconnects_total{name="cam"}': 1,
    };
    for (const [series, value] of Object.entries(expected)) expect(sample(text, series), series).toBe(value);
    expect(sample(anonymous, 'dragon_whip_publications{state="live"}')).toBe(1);
    expect(anonymous).not.toContain('name="cam"');

    // An ended publication leaves the per-name figures at the next scrape.
    publications.pop();
    expect(await metrics.render(all)).not.toContain('name="studio"');
  });
});

describe('/metrics of adaptive WHEP viewers', () => {
  it('counts viewers by rendition with their mean estimate and loss, and keeps the switches of ended sessions', async () => {
    const sessions = [
      { id: 'a', processId: 'cam', rendition: '360p', estimateBps: 500_000, loss: 0.02, switches: 2 },
      { id: 'b', processId: 'cam', rendition: '360p', estimateBps: 600_000, loss: 0, switches: 1 },
      { id: 'c', processId: 'cam', rendition: 'audio', estimateBps: 120_000, loss: 0.1, switches: 3 },
      { id: 'd', processId: 'cam' },
    ];
    const metrics = createMetrics({ ...fakeInput(), whepViewers: () => sessions });

    const text = await metrics.render(all);
    const anonymous = await metrics.render({ withProcessIds: false });

    const expected = {
      'dragon_whep_adaptive_viewers{rendition="360p"}': 2,
      'dragon_whep_adaptive_viewers{rendition="audio"}': 1,
      'dragon_whep_viewers_by_rendition{process_id="cam",rendition="360p"}': 2,
      'dragon_whep_viewers_by_rendition{process_id="cam",rendition="audio"}': 1,
      'dragon_whep_viewer_estimate_bps{process_id="cam",rendition="360p"}': 550_000,
      'dragon_whep_viewer_loss_ratio{process_id="cam",rendition="360p"}': 0.01,
      'dragon_whep_viewer_loss_ratio{process_id="cam",rendition="audio"}': 0.1,
      'dragon_whep_viewer_switches_total{process_id="cam"}': 6,
    };
    for (const [series, value] of Object.entries(expected)) expect(sample(text, series), series).toBe(value);
    expect(sample(anonymous, 'dragon_whep_adaptive_viewers{rendition="360p"}')).toBe(2);
    expect(anonymous).not.toContain('process_id="cam"');

    // The audio-only viewer leaves: its rendition's series go, its switches stay counted.
    sessions.splice(2, 1);
    const later = await metrics.render(all);
    expect(later).not.toContain('rendition="audio"');
    expect(sample(later, 'dragon_whep_viewer_switches_total{process_id="cam"}')).toBe(6);
    sessions[0]!.switches = 4;
    expect(sample(await metrics.render(all), 'dragon_whep_viewer_switches_total{process_id="cam"}')).toBe(8);
  });
});
