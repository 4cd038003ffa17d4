import { z } from 'zod';

/** One value of a metric at collection time. */
export interface MetricValue {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** One metric as `GET /api/v3/metrics` lists it (datarhei's `api.MetricsDescription`). */
export const metricDescriptionSchema = z.object({
  name: z.string(),
  description: z.string(),
  labels: z.array(z.string()),
});
export type MetricDescription = z.infer<typeof metricDescriptionSchema>;

/** datarhei's `api.MetricsResponse`; a value is `[unix seconds, value]`, as datarhei's encoder writes it. */
export const metricsResponseSchema = z.object({
  timerange_sec: z.number(),
  interval_sec: z.number(),
  metrics: z.array(
    z.object({
      name: z.string(),
      labels: z.record(z.string(), z.string()),
      values: z.array(z.tuple([z.number(), z.number()])),
    }),
  ),
});
export type MetricsResponse = z.infer<typeof metricsResponseSchema>;

/** A group of metrics from one part of the server (filesystems, sessions, processes, …). */
export interface MetricSource {
  describe: MetricDescription[];
  collect(): MetricValue[] | Promise<MetricValue[]>;
}

export const metricsHistoryOptionsSchema = z.object({
  /** `metrics.enable`: keep a history at all. @default false */
  enable: z.boolean().default(false),
  /** `metrics.range_sec`: how far back the history reaches. @default 300 */
  rangeSec: z.number().int().min(1).default(300),
  /** `metrics.interval_sec`: one sample every this many seconds. @default 2 */
  intervalSec: z.number().int().min(1).default(2),
});
export type MetricsHistoryOptions = z.input<typeof metricsHistoryOptionsSchema>;

/** datarhei's `MetricsQuery`. */
export const metricsQuerySchema = z.object({
  timerange_sec: z.number().int().min(0).default(0),
  interval_sec: z.number().int().min(0).default(0),
  metrics: z
    .array(z.object({ name: z.string(), labels: z.record(z.string(), z.string()).optional() }))
    .max(1000)
    .default([]),
});
export type MetricsQuery = z.infer<typeof metricsQuerySchema>;

interface Sample {
  at: number;
  values: MetricValue[];
}

const keyOf = (value: MetricValue) =>
  `${value.name}\u0000${Object.entries(value.labels)
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([k, v]) => `${k}=${v}`)
    .join('\u0000')}`;

/**
 * datarhei's metrics: a description of what can be asked (`GET /api/v3/metrics`) and queries over
 * the current values or the history kept in memory (`POST /api/v3/metrics`).
 *
 * Label filters are matched as plain text (a value contains the filter), not as regular expressions
 * as datarhei's Go RE2 does: a client-supplied JavaScript RegExp could block the event loop.
 */
export class MetricsHistory {
  readonly #sources: MetricSource[];
  readonly #options: z.infer<typeof metricsHistoryOptionsSchema>;
  readonly #samples: Sample[] = [];
  readonly #timer: NodeJS.Timeout | undefined;
  #sampling = false;

  constructor(sources: MetricSource[], options: MetricsHistoryOptions = {}) {
    this.#sources = sources;
    this.#options = metricsHistoryOptionsSchema.parse(options);
    if (this.#options.enable) {
      this.#timer = setInterval(() => void this.sample(), this.#options.intervalSec * 1000);
      this.#timer.unref();
    }
  }

  /** Adds a source (one that exists only later, like the process manager's). */
  add(source: MetricSource): void {
    this.#sources.push(source);
  }

  describe(): MetricDescription[] {
    return this.#sources.flatMap((source) => source.describe).sort((a, b) => (a.name < b.name ? -1 : 1));
  }

  async collect(): Promise<MetricValue[]> {
    return (await Promise.all(this.#sources.map((source) => source.collect()))).flat();
  }

  /** Takes one sample into the history (the timer does it every interval). */
  async sample(now = Date.now()): Promise<void> {
    if (this.#sampling) return;
    this.#sampling = true;
    try {
      this.#samples.push({ at: now, values: await this.collect() });
      const oldest = now - this.#options.rangeSec * 1000;
      while (this.#samples.length > 0 && this.#samples[0]!.at < oldest) this.#samples.shift();
    } finally {
      this.#sampling = false;
    }
  }

  /** datarhei's `MetricsResponse`: one series per metric and label set, values as `[unix, value]`. */
  async query(query: MetricsQuery, now = Date.now()): Promise<MetricsResponse> {
    const filters = query.metrics;
    const wanted = (value: MetricValue) =>
      filters.some(
        (filter) =>
          filter.name === value.name &&
          Object.entries(filter.labels ?? {}).every(([label, text]) => value.labels[label]?.includes(text)),
      );
    let samples: Sample[];
    if (query.timerange_sec === 0) samples = [{ at: now, values: await this.collect() }];
    else {
      const since = now - query.timerange_sec * 1000;
      const step = Math.max(query.interval_sec, this.#options.intervalSec) * 1000;
      samples = [];
      for (const sample of this.#samples) {
        if (sample.at < since) continue;
        const previous = samples.at(-1);
        if (!previous || sample.at - previous.at >= step - 1) samples.push(sample);
      }
    }
    const series = new Map<
      string,
      { name: string; labels: Record<string, string>; values: [number, number][] }
    >();
    for (const sample of samples) {
      for (const value of sample.values) {
        if (!wanted(value)) continue;
        const key = keyOf(value);
        const entry = series.get(key) ?? { name: value.name, labels: value.labels, values: [] };
        entry.values.push([Math.floor(sample.at / 1000), Math.round(value.value * 1000) / 1000]);
        series.set(key, entry);
      }
    }
    return {
      timerange_sec: this.#options.enable ? this.#options.rangeSec : 0,
      interval_sec: this.#options.enable ? this.#options.intervalSec : 0,
      metrics: [...series.values()],
    };
  }

  close(): void {
    if (this.#timer) clearInterval(this.#timer);
  }
}
