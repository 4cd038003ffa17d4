import type { WhepLogger, WhepPeer } from './options.js';

/** One WHEP session: a viewer's peer, addressed by a random id under its process. */
export interface WhepSession {
  readonly id: string;
  readonly processId: string;
  readonly peer: WhepPeer;
  /** Strong entity-tag of the ICE session (WHEP §4.4.1); an ICE restart makes a new one. */
  etag: string;
  /** The viewer's ICE credentials, to tell a trickle from an ICE restart; a restart changes them. */
  remoteUfrag: string | undefined;
  remotePwd: string | undefined;
  /** The viewer's address as the server saw the offer (`clientAddress`). */
  readonly remote: string;
  readonly createdAt: Date;
}

/** One viewer as `WhepSessions.list()` reports it, for a server's session accounting. */
export interface WhepSessionInfo {
  id: string;
  processId: string;
  remote: string;
  createdAt: Date;
  /** Media bytes sent to the viewer so far (0 when the peer does not count them). */
  bytesSent: number;
  /**
   * An adaptive viewer: the rendition it is sent (`'audio'`: video paused), bit/s its link is
   * estimated at, the fraction (0–1) of its video lost over the last second before
   * retransmission, switches so far.
   */
  rendition?: string;
  estimateBps?: number;
  loss?: number;
  switches?: number;
}

/** The viewers the routes hold, for the server to count and to drop when a process stops. */
export interface WhepSessions {
  /**
   * The viewer count: open sessions plus offers being answered, of one process or of all. The
   * viewer limits use it; it is what a server reports as viewers.
   */
  count(processId?: string): number;
  /** Closes the peers of one process (or all) and forgets their sessions; returns how many. */
  closeAll(processId?: string): number;
  /** The open sessions (offers being answered are not sessions yet). */
  list(): WhepSessionInfo[];
  /**
   * One open session of `processId`, as `list()` reports it: for a route that tells a viewer about
   * its own session (the session id, unguessable, is what it proves it holds).
   */
  get(processId: string, sessionId: string): WhepSessionInfo | undefined;
}

/** Owns the sessions: each one lives until DELETE, `closeAll`, or its peer emitting `closed`. */
export class SessionRegistry implements WhepSessions {
  readonly #sessions = new Map<string, WhepSession>();
  readonly #closedListeners = new Map<string, (reason: string) => void>();
  readonly #pending = new Map<string, number>();
  readonly #logger: WhepLogger;

  constructor(logger: WhepLogger) {
    this.#logger = logger;
  }

  count(processId?: string): number {
    let open = 0;
    for (const session of this.#sessions.values()) {
      if (processId === undefined || session.processId === processId) open += 1;
    }
    let pending = 0;
    for (const [id, n] of this.#pending) if (processId === undefined || id === processId) pending += n;
    return open + pending;
  }

  list(): WhepSessionInfo[] {
    return [...this.#sessions.values()].map(sessionInfo);
  }

  /**
   * Holds a viewer slot while an offer is answered, so concurrent offers cannot overshoot a
   * viewer limit. The returned function releases it (once).
   */
  reserve(processId: string): () => void {
    this.#pending.set(processId, (this.#pending.get(processId) ?? 0) + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const left = (this.#pending.get(processId) ?? 1) - 1;
      if (left > 0) this.#pending.set(processId, left);
      else this.#pending.delete(processId);
    };
  }

  /** Registers a session and drops it when its peer closes by itself. */
  add(session: WhepSession): void {
    this.#sessions.set(session.id, session);
    const onClosed = (reason: string): void => {
      if (this.#forget(session.id)) {
        this.#logger.info(
          { processId: session.processId, sessionId: session.id, peerId: session.peer.id, reason },
          'whep session closed by its peer',
        );
      }
    };
    this.#closedListeners.set(session.id, onClosed);
    session.peer.on('closed', onClosed);
  }

  /** The session `sessionId` if it belongs to `processId`. */
  session(processId: string, sessionId: string): WhepSession | undefined {
    const session = this.#sessions.get(sessionId);
    return session?.processId === processId ? session : undefined;
  }

  get(processId: string, sessionId: string): WhepSessionInfo | undefined {
    const session = this.session(processId, sessionId);
    return session === undefined ? undefined : sessionInfo(session);
  }

  /** Forgets a session and closes its peer; false when it was already gone. */
  close(sessionId: string): boolean {
    const session = this.#sessions.get(sessionId);
    if (session === undefined || !this.#forget(sessionId)) return false;
    session.peer.close();
    return true;
  }

  closeAll(processId?: string): number {
    const doomed = [...this.#sessions.values()].filter(
      (session) => processId === undefined || session.processId === processId,
    );
    let closed = 0;
    for (const session of doomed) if (this.close(session.id)) closed += 1;
    return closed;
  }

  #forget(sessionId: string): boolean {
    const session = this.#sessions.get(sessionId);
    if (session === undefined) return false;
    this.#sessions.delete(sessionId);
    const listener = this.#closedListeners.get(sessionId);
    this.#closedListeners.delete(sessionId);
    if (listener !== undefined) session.peer.off('closed', listener);
    return true;
  }
}

function sessionInfo({ id, processId, remote, createdAt, peer }: WhepSession): WhepSessionInfo {
  return {
    id,
    processId,
    remote,
    createdAt,
    bytesSent: peer.stats?.().bytesSent ?? 0,
    ...peer.adaptation?.(),
  };
}
