import { isIP } from 'node:net';

/**
 * A stand-in for a `@dragon/webrtc` peer (a viewer's or a publisher's) that records what HTTP routes
 * do to it: the candidates they add and how often they close it; `emitClosed` fires `closed` as the
 * engine would (ICE failure, DTLS close). Route packages inject it through their options, extended
 * with what their own peer contract adds.
 */
export class FakePeer {
  state = 'new';
  readonly candidates: string[] = [];
  closeCalls = 0;
  readonly #listeners = new Set<(reason: string) => void>();

  constructor(readonly id: string) {}

  close(): void {
    this.closeCalls += 1;
    this.emitClosed('closed');
  }

  /** Simulates the peer closing by itself. */
  emitClosed(reason: string): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    for (const listener of [...this.#listeners]) listener(reason);
  }

  /** Takes a `candidate:` line; one whose address is a name, not an IP, fails as the engine's would. */
  async addRemoteCandidate(line: string): Promise<void> {
    const address = line.split(' ')[4] ?? '';
    if (isIP(address) === 0) throw new Error(`cannot use the address ${address}`);
    this.candidates.push(line);
  }

  on(_event: 'closed', listener: (reason: string) => void): this {
    this.#listeners.add(listener);
    return this;
  }

  off(_event: 'closed', listener: (reason: string) => void): this {
    this.#listeners.delete(listener);
    return this;
  }

  get listenerCount(): number {
    return this.#listeners.size;
  }
}
