/**
 * A filesystem's capacity shared by concurrent writers. Each upload reserves its bytes as they
 * arrive, so six uploads of 9 MB to a 10 MB filesystem cannot all pass a check made when each began;
 * the whole file is admitted once more, atomically, when it is stored. Checks and counts change
 * synchronously, so no two writers can interleave between a check and its count.
 *
 * A writer replacing a file may reuse that file's bytes (its credit) while it streams; only one
 * writer per path holds the credit, so two replacements of one file cannot both spend it.
 */
export class SpaceLedger {
  /** Bytes the stored files hold, as last measured plus what was stored and removed since. */
  #used = 0;
  /** Bytes reserved by uploads in progress. */
  #inFlight = 0;
  /** Changes since `generation` was read: a measurement started before them is stale. */
  #generation = 0;
  readonly #credited = new Set<string>();

  /** @param maxBytes the capacity; 0 is unlimited (then only sizes are counted). */
  constructor(readonly maxBytes: number) {}

  get usedBytes(): number {
    return this.#used;
  }

  /** Read before measuring; hand back to {@link measured} with the result. */
  get generation(): number {
    return this.#generation;
  }

  /** A measurement (a directory walk) replaces the count, unless something was stored or removed meanwhile. */
  measured(bytes: number, generation: number): void {
    if (generation === this.#generation) this.#used = bytes;
  }

  /** A file was removed or purged. */
  freed(bytes: number): void {
    this.#used = Math.max(0, this.#used - bytes);
    this.#generation++;
  }

  /** Starts an upload to `path`, replacing a file of `replacedBytes` (0 when new). */
  begin(path: string, replacedBytes: number): SpaceReservation {
    const credited = !this.#credited.has(path);
    if (credited) this.#credited.add(path);
    return new SpaceReservation(this, path, credited ? replacedBytes : 0, credited);
  }

  /** @internal */
  room(credit: number): number {
    return this.maxBytes === 0 ? Infinity : this.maxBytes - this.#used - this.#inFlight + credit;
  }

  /** @internal */
  fits(bytes: number, replaced: number): boolean {
    return this.maxBytes === 0 || this.#used - replaced + bytes <= this.maxBytes;
  }

  /** @internal */
  reserve(bytes: number): void {
    this.#inFlight += bytes;
  }

  /** @internal */
  store(bytes: number, replaced: number): void {
    this.#used += bytes - replaced;
    this.#generation++;
  }

  /** @internal */
  end(path: string, reserved: number, credited: boolean): void {
    this.#inFlight -= reserved;
    if (credited) this.#credited.delete(path);
  }
}

/** One upload's share of a {@link SpaceLedger}; `release()` is safe to call twice. */
export class SpaceReservation {
  #reserved = 0;
  #open = true;

  constructor(
    readonly ledger: SpaceLedger,
    readonly path: string,
    /** The replaced file's bytes this upload may reuse (0 when another upload to the path holds them). */
    readonly credit: number,
    readonly credited: boolean,
  ) {}

  get reservedBytes(): number {
    return this.#reserved;
  }

  /** Bytes this upload may still reserve (Infinity when the filesystem is unlimited). */
  room(): number {
    return this.ledger.room(this.credit);
  }

  /** Reserves `bytes` more; false (nothing reserved) when the filesystem has no room for them. */
  grow(bytes: number): boolean {
    if (bytes > this.ledger.room(this.credit)) return false;
    this.ledger.reserve(bytes);
    this.#reserved += bytes;
    return true;
  }

  /**
   * Admits the whole file, `bytes` long, replacing `replacedBytes` as the filesystem holds them now:
   * counts it as stored and ends the reservation, or returns false (nothing counted, still reserved).
   */
  commit(bytes: number, replacedBytes: number): boolean {
    // Against what is stored: other uploads' reservations are not files yet, and must pass this too.
    if (!this.ledger.fits(bytes, replacedBytes)) return false;
    this.ledger.store(bytes, replacedBytes);
    this.release();
    return true;
  }

  release(): void {
    if (!this.#open) return;
    this.#open = false;
    this.ledger.end(this.path, this.#reserved, this.credited);
    this.#reserved = 0;
  }
}
