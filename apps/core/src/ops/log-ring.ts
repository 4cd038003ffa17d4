import { z } from 'zod';

export const logRingOptionsSchema = z.object({
  /** `log.max_lines`: how many recent lines `/api/v3/log` can show; 0 keeps none. @default 1000 */
  maxLines: z.number().int().min(0).max(100_000).default(1000),
});
export type LogRingOptions = z.input<typeof logRingOptionsSchema>;

interface LogEvent {
  time: number;
  level: string;
  component: string;
  message: string;
  data: Record<string, unknown>;
}

const levelNames: Record<number, string> = {
  10: 'DEBUG',
  20: 'DEBUG',
  30: 'INFO',
  40: 'WARN',
  50: 'ERROR',
  60: 'ERROR',
};
/** pino's own fields; everything else on a line is the event's data. */
const envelope = new Set(['time', 'level', 'msg', 'component', 'pid', 'hostname', 'app', 'v']);

function formatValue(value: unknown): string {
  return typeof value === 'string' ? JSON.stringify(value) : (JSON.stringify(value) ?? '""');
}

/**
 * The server's recent log lines for datarhei's `GET /api/v3/log`: a pino destination that keeps the
 * last `maxLines` events and passes every line on to the real output.
 *
 * @example
 * const ring = new LogRing({ maxLines: 1000 });
 * const logger = pino({ level: 'info' }, ring.destination(process.stdout));
 */
export class LogRing {
  readonly #maxLines: number;
  readonly #events: LogEvent[] = [];
  #next = 0;

  constructor(options: LogRingOptions = {}) {
    this.#maxLines = logRingOptionsSchema.parse(options).maxLines;
  }

  /** A pino destination that records each line and writes it to `out`. */
  destination(out: { write(line: string): unknown }): { write(line: string): void } {
    return {
      write: (line: string) => {
        out.write(line);
        this.record(line);
      },
    };
  }

  /** Records one pino JSON line; a line that is not JSON is kept as its message. */
  record(line: string): void {
    if (this.#maxLines === 0) return;
    let parsed: Record<string, unknown>;
    try {
      parsed = JSON.parse(line) as Record<string, unknown>;
    } catch {
      parsed = { msg: line.trim() };
    }
    const data: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(parsed)) if (!envelope.has(key)) data[key] = value;
    const event: LogEvent = {
      time: typeof parsed.time === 'number' ? parsed.time : Date.now(),
      level: levelNames[Number(parsed.level)] ?? 'INFO',
      component: typeof parsed.component === 'string' ? parsed.component : 'core',
      message: typeof parsed.msg === 'string' ? parsed.msg : '',
      data,
    };
    if (this.#events.length < this.#maxLines) this.#events.push(event);
    else this.#events[this.#next] = event;
    this.#next = (this.#next + 1) % this.#maxLines;
  }

  #ordered(): LogEvent[] {
    return this.#events.length < this.#maxLines
      ? [...this.#events]
      : [...this.#events.slice(this.#next), ...this.#events.slice(0, this.#next)];
  }

  /** datarhei's console format: `ts=… level=INFO component="…" msg="…" key=value …`, oldest first. */
  console(): string[] {
    return this.#ordered().map((event) => {
      let line = `ts=${new Date(event.time).toISOString().replace(/\.\d{3}Z$/, 'Z')} level=${event.level} component=${JSON.stringify(event.component)}`;
      if (event.message) line += ` msg=${JSON.stringify(event.message)}`;
      for (const key of Object.keys(event.data).sort()) line += ` ${key}=${formatValue(event.data[key])}`;
      return line;
    });
  }

  /** datarhei's `format=raw`: each event's data with `ts`, `component` and `message`. */
  raw(): Record<string, unknown>[] {
    return this.#ordered().map((event) => ({
      ...event.data,
      ts: new Date(event.time).toISOString(),
      component: event.component,
      ...(event.message ? { message: event.message } : {}),
    }));
  }
}
