import { expect, it } from 'vitest';
import { renderMetrics } from './metrics.js';

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
