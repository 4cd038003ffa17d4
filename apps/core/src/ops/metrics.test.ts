import { expect, it } from 'vitest';
import { renderMetrics, withoutProcessSamples } from './metrics.js';

it('renders gauges in the Prometheus text format with escaped labels', () => {
  const text = renderMetrics([
    {
      name: 'dragon_process_viewers',
      help: 'Connected viewers.',
      type: 'gauge',
      samples: [{ labels: { process_id: 'cam"1' }, value: 3 }],
    },
  ]);
  expect(text).toBe(
    '# HELP dragon_process_viewers Connected viewers.\n# TYPE dragon_process_viewers gauge\ndragon_process_viewers{process_id="cam\\"1"} 3\n',
  );
});

it('drops the samples labelled by process, keeping totals', () => {
  const metrics = withoutProcessSamples([
    {
      name: 'dragon_processes',
      help: 'Processes.',
      type: 'gauge',
      samples: [{ labels: { state: 'running' }, value: 2 }],
    },
    {
      name: 'dragon_process_viewers',
      help: 'Viewers.',
      type: 'gauge',
      samples: [{ labels: { process_id: 'secret-cam' }, value: 3 }],
    },
  ]);
  const text = renderMetrics(metrics);
  expect(text).toContain('dragon_processes{state="running"} 2');
  expect(text).not.toContain('secret-cam');
});
