import type { IngestAccounting } from '../src/seams.js';

/** Session accounting that remembers what the servers told it, for tests to read. */
export class RecordingAccounting implements IngestAccounting {
  /** Live sessions by id. */
  readonly sessions = new Map<
    string,
    { reference: string; local: string; remote: string; rx: number; tx: number }
  >();
  /** The `local` of every session that ended, in order. */
  readonly ended: string[] = [];
  readonly #ignored: Set<string>;

  constructor(ignoredIps: string[] = []) {
    this.#ignored = new Set(ignoredIps);
  }

  isCollectableIp(ip: string): boolean {
    return !this.#ignored.has(ip.replace(/^::ffff:/, ''));
  }

  registerAndActivate(id: string, reference: string, local: string, remote: string): void {
    this.sessions.set(id, { reference, local, remote, rx: 0, tx: 0 });
  }

  ingress(id: string, bytes: number): void {
    const session = this.sessions.get(id);
    if (session) session.rx += bytes;
  }

  egress(id: string, bytes: number): void {
    const session = this.sessions.get(id);
    if (session) session.tx += bytes;
  }

  unregister(id: string): void {
    const session = this.sessions.get(id);
    if (!session) return;
    this.sessions.delete(id);
    this.ended.push(session.local);
  }

  /** The live session doing `local` (`publish:/live/cam`), if any. */
  find(local: string) {
    return [...this.sessions.values()].find((session) => session.local === local);
  }
}
