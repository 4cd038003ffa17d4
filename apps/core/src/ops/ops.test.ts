import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { LogRing } from './log-ring.js';
import { MetricsHistory, metricsQuerySchema } from './metrics-history.js';

describe('LogRing', () => {
  it('keeps the last lines of a pino logger in datarhei console and raw formats', () => {
    const ring = new LogRing({ maxLines: 2 });
    const written: string[] = [];
    const logger = pino({ level: 'info' }, ring.destination({ write: (line) => written.push(line) }));
    logger.info({ component: 'rtmp', path: '/live/a' }, 'first');
    logger.warn({ component: 'rtmp', path: '/live/b' }, 'second');
    logger.error({ component: 'http' }, 'third');
    expect(written).toHaveLength(3);
    const lines = ring.console();
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^ts=\S+Z level=WARN component="rtmp" msg="second" path="\/live\/b"$/);
    expect(ring.raw()[1]).toMatchObject({ component: 'http', message: 'third' });
  });
});

describe('LogRing with log.max_lines 0', () => {
  it('passes every line on and keeps none, as datarhei does', () => {
    const ring = new LogRing({ maxLines: 0 });
    const written: string[] = [];
    const logger = pino({ level: 'info' }, ring.destination({ write: (line) => written.push(line) }));
    logger.info('first');
    logger.info('second');
    expect(written).toHaveLength(2);
    expect(ring.console()).toEqual([]);
    expect(ring.raw()).toEqual([]);
  });
});

describe('MetricsHistory', () => {
  it('describes its metrics and answers current and historic queries in datarhei shape', async () => {
    let value = 1;
    const history = new MetricsHistory(
      [
        {
          describe: [{ name: 'filesystem_usage', description: 'used bytes', labels: ['name'] }],
          collect: () => [
            { name: 'filesystem_usage', labels: { name: 'mem' }, value },
            { name: 'filesystem_usage', labels: { name: 'disk' }, value: 99 },
          ],
        },
      ],
      { enable: true, rangeSec: 10, intervalSec: 1 },
    );
    try {
      expect(history.describe()).toEqual([
        { name: 'filesystem_usage', description: 'used bytes', labels: ['name'] },
      ]);
      await history.sample(1_000);
      value = 2;
      await history.sample(2_000);
      value = 3;
      await history.sample(20_000);
      const query = metricsQuerySchema.parse({
        timerange_sec: 5,
        metrics: [{ name: 'filesystem_usage', labels: { name: 'mem' } }],
      });
      expect(await history.query(query, 20_500)).toEqual({
        timerange_sec: 10,
        interval_sec: 1,
        metrics: [{ name: 'filesystem_usage', labels: { name: 'mem' }, values: [[20, 3]] }],
      });
      const now = await history.query(metricsQuerySchema.parse({ metrics: [{ name: 'filesystem_usage' }] }));
      expect(now.metrics).toHaveLength(2);
    } finally {
      history.close();
    }
  });
});
