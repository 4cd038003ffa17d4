import type { WhepLogger } from '@dragon/whep-http';
import type { WhipPublisher } from './options.js';

/** One publisher session: the peer that publishes a stream name, addressed by a random id. */
export interface PublisherSession<P extends WhipPublisher = WhipPublisher> {
  readonly id: string;
  readonly name: string;
  readonly publisher: P;
  /** Strong entity-tag of the ICE session (RFC 9725 §4.3.1); an ICE restart makes a new one. */
  etag: string;
  /** The publisher's ICE credentials, to tell a trickle from an ICE restart; a restart changes them. */
  remoteUfrag: string | undefined;
  remotePwd: string | undefined;
  readonly remote: string;
  readonly userAgent: string | undefined;
  readonly createdAt: Date;
}

/** One publication as `WhipPublications.list()` reports it. */
export interface PublicationInfo {
  name: string;
  sessionId: string;
  publisherId: string;
  /** The publisher's connection state (`connected`, `disconnected`…). */
  state: string;
  remote: string;
  userAgent: string | undefined;
  since: Date;
}

/** The publications the routes hold, for the server to list and to end. */
export interface WhipPublications {
  /** Live publications plus offers being answered. */
  count(): number;
  list(): PublicationInfo[];
  /** The live session of a name. */
  get(name: string): PublisherSession | undefined;
  /** Closes one publisher (or all) and forgets the session; returns how many. */
  closeAll(name?: string): number;
}

/** Owns the sessions, one per name: each lives until DELETE, replacement, `closeAll` or its peer closing. */
export class PublicationRegistry<P extends WhipPublisher> implements WhipPublications {
  readonly #byName = new Map<string, PublisherSession<P>>();
  readonly #listeners = new Map<string, (reason: string) => void>();
  /** Names with an offer being answered: they count against the limit and conflict with a second. */
  readonly #pending = new Set<string>();
  readonly #logger: WhepLogger;

  constructor(logger: WhepLogger) {
    this.#logger = logger;
  }

  count(): number {
    let n = this.#byName.size;
    for (const name of this.#pending) if (!this.#byName.has(name)) n += 1;
    return n;
  }

  list(): PublicationInfo[] {
    return [...this.#byName.values()].map((session) => ({
      name: session.name,
      sessionId: session.id,
      publisherId: session.publisher.id,
      state: session.publisher.state,
      remote: session.remote,
      userAgent: session.userAgent,
      since: session.createdAt,
    }));
  }

  get(name: string): PublisherSession<P> | undefined {
    return this.#byName.get(name);
  }

  isPending(name: string): boolean {
    return this.#pending.has(name);
  }

  /** Holds a name while its offer is answered; the returned function releases it (once). */
  reserve(name: string): () => void {
    this.#pending.add(name);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#pending.delete(name);
    };
  }

  /** Registers a session, closing the one it replaces, and drops it when its peer closes by itself. */
  add(session: PublisherSession<P>): void {
    const replaced = this.#byName.get(session.name);
    if (replaced !== undefined) this.close(replaced.id, replaced.name);
    this.#byName.set(session.name, session);
    const onClosed = (reason: string): void => {
      if (this.#forget(session)) {
        this.#logger.info(
          { stream: session.name, sessionId: session.id, peerId: session.publisher.id, reason },
          'whip publisher closed by its peer',
        );
      }
    };
    this.#listeners.set(session.id, onClosed);
    session.publisher.on('closed', onClosed);
  }

  /** The session `sessionId` if it publishes `name`. */
  session(name: string, sessionId: string): PublisherSession<P> | undefined {
    const session = this.#byName.get(name);
    return session?.id === sessionId ? session : undefined;
  }

  /** Forgets a session and closes its peer; false when it was already gone. */
  close(sessionId: string, name: string): boolean {
    const session = this.session(name, sessionId);
    if (session === undefined || !this.#forget(session)) return false;
    session.publisher.close();
    return true;
  }

  closeAll(name?: string): number {
    const doomed = [...this.#byName.values()].filter((s) => name === undefined || s.name === name);
    let closed = 0;
    for (const session of doomed) if (this.close(session.id, session.name)) closed += 1;
    return closed;
  }

  #forget(session: PublisherSession<P>): boolean {
    if (this.#byName.get(session.name) !== session) return false;
    this.#byName.delete(session.name);
    const listener = this.#listeners.get(session.id);
    this.#listeners.delete(session.id);
    if (listener !== undefined) session.publisher.off('closed', listener);
    return true;
  }
}
