import { collectDefaultMetrics, Histogram, Registry } from 'prom-client';

/** How often the event-loop delay is sampled: a timer that should fire every 20 ms. */
const sampleIntervalMs = 20;

let processRegistry: Registry | undefined;

/**
 * The metrics of the Node process itself, one registry per process however many cores it assembles
 * (a config reload builds a new core): prom-client's default metrics (CPU, memory, heap, GC,
 * handles, event-loop lag) and `dragon_event_loop_delay_seconds`, a histogram of how late a 20 ms
 * timer fires. Every RTP packet to every viewer is sent from this loop, so that histogram is the
 * number that tells whether the media path starves (API work, a slow store write, a regex).
 * prom-client's collectors install process-wide observers that cannot be removed; ours is an
 * unref'd timer of the same lifetime.
 */
export function processMetrics(): Registry {
  if (processRegistry !== undefined) return processRegistry;
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const delay = new Histogram({
    name: 'dragon_event_loop_delay_seconds',
    help: `How late a ${sampleIntervalMs} ms timer fires: time in which the event loop, and so media forwarding, could not run.`,
    buckets: [0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  });
  let due = performance.now() + sampleIntervalMs;
  const timer = setInterval(() => {
    const now = performance.now();
    delay.observe(Math.max(0, now - due) / 1000);
    due = now + sampleIntervalMs;
  }, sampleIntervalMs);
  timer.unref();
  processRegistry = registry;
  return registry;
}
