/**
 * What the RTMP and SRT servers need from their host, handed in at `start()`: a logger and session
 * accounting. `@dragon/sessions`' `SessionCollector` satisfies `IngestAccounting` as it is.
 */

/** pino-compatible. */
export interface IngestLogger {
  error(object: object, message: string): void;
  info(object: object, message: string): void;
  warn(object: object, message: string): void;
  debug(object: object, message: string): void;
}

/**
 * Where the servers report their publishers and players (datarhei's `rtmp` and `srt` session
 * collectors). A publisher's session id is its stream path or name, a player's is its own; the
 * servers call `ingress`/`egress` per message or packet, so they must be cheap and must not throw.
 */
export interface IngestAccounting {
  /** Whether clients from `ip` are counted at all (datarhei's `sessions.ip_ignorelist`). */
  isCollectableIp(ip: string): boolean;
  /**
   * A session begins: `reference` is the stream it belongs to, `local` says what it does
   * (`publish:<path>` or `play:<path>`), `remote` is the client's `ip:port`.
   */
  registerAndActivate(id: string, reference: string, local: string, remote: string): void;
  /** Bytes a publisher sent. */
  ingress(id: string, bytes: number): void;
  /** Bytes sent to a player. */
  egress(id: string, bytes: number): void;
  /** The session ended. */
  unregister(id: string): void;
}
