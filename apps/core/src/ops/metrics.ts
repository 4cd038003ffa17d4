/** Prometheus text exposition (format 0.0.4), written by hand: a few gauges need no client library. */
export interface MetricSample {
  labels?: Record<string, string>;
  value: number;
}

export interface Metric {
  name: string;
  help: string;
  type: 'gauge' | 'counter';
  samples: MetricSample[];
}

function escapeLabel(value: string): string {
  return value.replaceAll('\\', '\\\\').replaceAll('"', '\\"').replaceAll('\n', '\\n');
}

export function renderMetrics(metrics: Metric[]): string {
  const lines: string[] = [];
  for (const metric of metrics) {
    lines.push(`# HELP ${metric.name} ${metric.help}`, `# TYPE ${metric.name} ${metric.type}`);
    for (const sample of metric.samples) {
      const labels = Object.entries(sample.labels ?? {})
        .map(([key, value]) => `${key}="${escapeLabel(value)}"`)
        .join(',');
      lines.push(`${metric.name}${labels ? `{${labels}}` : ''} ${sample.value}`);
    }
  }
  return `${lines.join('\n')}\n`;
}

/** The metrics without samples labelled by process: what an anonymous scraper sees when auth is on. */
export function withoutProcessSamples(metrics: Metric[]): Metric[] {
  return metrics.map((metric) => ({
    ...metric,
    samples: metric.samples.filter((sample) => sample.labels?.process_id === undefined),
  }));
}
