import { SourceAlreadyRegisteredError } from '../errors.js';
import type { RtpSource } from './rtp-source.js';

/** Process id → its RTP source. */
export class SourceRegistry {
  readonly #sources = new Map<string, RtpSource>();

  register(id: string, source: RtpSource): void {
    if (this.#sources.has(id)) throw new SourceAlreadyRegisteredError(id);
    this.#sources.set(id, source);
  }

  get(id: string): RtpSource | undefined {
    return this.#sources.get(id);
  }

  remove(id: string): RtpSource | undefined {
    const source = this.#sources.get(id);
    this.#sources.delete(id);
    return source;
  }

  ids(): string[] {
    return [...this.#sources.keys()];
  }

  get size(): number {
    return this.#sources.size;
  }
}
