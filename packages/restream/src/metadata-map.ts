import { processIdPattern } from './config-schema.js';
import { MetadataKeyInvalidError, MetadataTooLargeError } from './errors.js';

/**
 * datarhei's free-form metadata (per process and global): key → any JSON value. Kept in a `Map`
 * with each value as its JSON text, so keys like `__proto__` or `constructor` are ordinary keys
 * (never inherited properties), reads return fresh copies, and the store can be written from the
 * texts without serialising every value again.
 */
export class MetadataMap {
  readonly #values = new Map<string, string>();
  readonly #maxValueBytes: number;
  #bytes = 2;
  #json: string | undefined = '{}';

  constructor(maxValueBytes: number, initial?: Iterable<[string, unknown]>) {
    this.#maxValueBytes = maxValueBytes;
    for (const [key, value] of initial ?? []) this.#put(key, JSON.stringify(value));
  }

  /** One value, or every value as a plain object; `undefined` when the key is not set. */
  get(key?: string): unknown {
    if (key === undefined) return JSON.parse(this.json);
    const text = this.#values.get(key);
    return text === undefined ? undefined : JSON.parse(text);
  }

  /**
   * What the store would grow by if `key` were set to `value` (negative when it shrinks), after
   * checking key and size; throws `MetadataKeyInvalidError` / `MetadataTooLargeError`.
   */
  prepare(key: string, value: unknown): { text: string | undefined; delta: number } {
    if (!processIdPattern.test(key)) throw new MetadataKeyInvalidError(key);
    const old = this.#values.get(key);
    const oldBytes = old === undefined ? 0 : entryBytes(key, old);
    if (value === null || value === undefined) return { text: undefined, delta: -oldBytes };
    const text = JSON.stringify(value);
    const bytes = Buffer.byteLength(text);
    if (bytes > this.#maxValueBytes) throw new MetadataTooLargeError(key, bytes, this.#maxValueBytes);
    return { text, delta: entryBytes(key, text) - oldBytes };
  }

  /** Applies what `prepare` returned; `undefined` deletes the key. */
  commit(key: string, text: string | undefined): void {
    const old = this.#values.get(key);
    if (old !== undefined) {
      this.#values.delete(key);
      this.#bytes -= entryBytes(key, old);
    }
    if (text !== undefined) this.#put(key, text);
    this.#json = undefined;
  }

  /** The whole map as JSON text (object key order = insertion order). */
  get json(): string {
    this.#json ??= `{${[...this.#values].map(([key, text]) => `${JSON.stringify(key)}:${text}`).join(',')}}`;
    return this.#json;
  }

  /** Approximate size of `json` in bytes, kept without serialising. */
  get bytes(): number {
    return this.#bytes;
  }

  #put(key: string, text: string): void {
    this.#values.set(key, text);
    this.#bytes += entryBytes(key, text);
    this.#json = undefined;
  }
}

function entryBytes(key: string, text: string): number {
  // "key":text,
  return Buffer.byteLength(key) + Buffer.byteLength(text) + 4;
}
