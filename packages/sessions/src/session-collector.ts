import { BlockList, isIPv4, isIPv6 } from 'node:net';
import { z } from 'zod';
import { SessionOptionsError } from './errors.js';
import { RateWindow } from './rate-window.js';

/** An address, or an address and a prefix length its family allows: `10.0.0.0/8`, `::1`. */
function isCidr(value: string): boolean {
  const [address = '', bits, ...rest] = value.split('/');
  const maximum = isIPv4(address) ? 32 : isIPv6(address) ? 128 : -1;
  if (maximum < 0 || rest.length > 0) return false;
  return bits === undefined || (/^\d{1,3}$/.test(bits) && Number(bits) <= maximum);
}

/** A collector's options: datarhei's `sessions.*` keys. */
export const collectorOptionsSchema = z.object({
  /** `sessions.session_timeout_sec`: a session without traffic for this long is over. @default 30 */
  sessionTimeoutSec: z.number().int().min(1).default(30),
  /** `sessions.ip_ignorelist`: CIDRs whose clients are not counted. */
  ipIgnoreList: z
    .array(z.string().refine(isCidr, 'must be an IP address or a CIDR'))
    .default(['127.0.0.1/32', '::1/128']),
  /** `sessions.max_sessions`; 0 is unlimited. */
  maxSessions: z.number().int().min(0).default(0),
  /** `sessions.max_bitrate_mbit`, outgoing, in bit/s; 0 is unlimited. */
  maxTxBitrate: z.number().min(0).default(0),
});
export type CollectorOptions = z.input<typeof collectorOptionsSchema>;

interface Session {
  id: string;
  reference: string;
  location: string;
  peer: string;
  extra: string;
  createdAt: number;
  lastActivity: number;
  active: boolean;
  rxBytes: number;
  txBytes: number;
  rx: RateWindow;
  tx: RateWindow;
}

interface Totals {
  sessions: number;
  rxBytes: number;
  txBytes: number;
}

/** One session as datarhei's API shows it (`api.Session`). */
export const sessionJsonSchema = z.object({
  id: z.string(),
  reference: z.string(),
  created_at: z.number(),
  local: z.string(),
  remote: z.string(),
  extra: z.string(),
  bytes_rx: z.number(),
  bytes_tx: z.number(),
  bandwidth_rx_kbit: z.number(),
  bandwidth_tx_kbit: z.number(),
});
export type SessionJson = z.infer<typeof sessionJsonSchema>;

const statsJsonSchema = z.object({
  sessions: z.number(),
  traffic_rx_mb: z.number(),
  traffic_tx_mb: z.number(),
});
type StatsJson = z.infer<typeof statsJsonSchema>;

/** datarhei's `api.SessionSummary`: the active sessions and the totals of the finished ones. */
export const sessionSummaryJsonSchema = z.object({
  active: z.object({
    list: z.array(sessionJsonSchema),
    sessions: z.number(),
    bandwidth_rx_mbit: z.number(),
    bandwidth_tx_mbit: z.number(),
    max_sessions: z.number(),
    max_bandwidth_rx_mbit: z.number(),
    max_bandwidth_tx_mbit: z.number(),
  }),
  summary: statsJsonSchema.extend({
    remote: z.record(z.string(), statsJsonSchema.extend({ local: z.record(z.string(), statsJsonSchema) })),
    local: z.record(z.string(), statsJsonSchema),
    reference: z.record(z.string(), statsJsonSchema),
  }),
});
export type SessionSummaryJson = z.infer<typeof sessionSummaryJsonSchema>;

const mebibyte = 1024 * 1024;
const round3 = (value: number) => Math.round(value * 1000) / 1000;

function parseCidr(blocks: BlockList, cidr: string): void {
  const [address = '', bits] = cidr.split('/');
  // Checked by the options schema (isCidr).
  const family = isIPv4(address) ? 'ipv4' : 'ipv6';
  const prefix = bits === undefined ? (family === 'ipv4' ? 32 : 128) : Number(bits);
  blocks.addSubnet(address, prefix, family);
}

/**
 * datarhei's session collector for one protocol (`hls`, `rtmp`, `srt`, `webrtc`, …): sessions are
 * registered, activated by their first media, fed byte counts, and end after `session_timeout_sec`
 * without traffic (or when unregistered); finished sessions add to the totals per remote, local
 * (location) and reference.
 */
export class SessionCollector {
  readonly #options: z.infer<typeof collectorOptionsSchema>;
  readonly #ignored = new BlockList();
  readonly #sessions = new Map<string, Session>();
  readonly #history = new Map<string, Totals & { location: string; peer: string; reference: string }>();
  readonly #rx = new RateWindow();
  readonly #tx = new RateWindow();
  #rxBytes = 0;
  #txBytes = 0;

  /** Rejects options it cannot work with by throwing `SessionOptionsError`. */
  constructor(
    readonly name: string,
    options: CollectorOptions = {},
  ) {
    const parsed = collectorOptionsSchema.safeParse(options);
    if (!parsed.success) throw new SessionOptionsError(name, { cause: parsed.error });
    this.#options = parsed.data;
    for (const cidr of this.#options.ipIgnoreList) parseCidr(this.#ignored, cidr);
  }

  /** False for addresses in `sessions.ip_ignorelist` (loopback by default) and for unknown ones. */
  isCollectableIp(ip: string): boolean {
    const plain = ip.startsWith('::ffff:') ? ip.slice(7) : ip;
    if (isIPv4(plain)) return !this.#ignored.check(plain, 'ipv4');
    if (isIPv6(plain)) return !this.#ignored.check(plain, 'ipv6');
    return false;
  }

  isKnown(id: string): boolean {
    return this.#sessions.has(id);
  }

  isSessionsExceeded(): boolean {
    return this.#options.maxSessions > 0 && this.activeCount() >= this.#options.maxSessions;
  }

  isTxBitrateExceeded(): boolean {
    return this.#options.maxTxBitrate > 0 && this.#tx.bitsPerSecond() >= this.#options.maxTxBitrate;
  }

  register(id: string, reference: string, location: string, peer: string, now = Date.now()): void {
    if (!id || this.#sessions.has(id)) return;
    this.#sessions.set(id, {
      id,
      reference,
      location: location || 'unknown',
      peer: peer || 'unknown',
      extra: '',
      createdAt: now,
      lastActivity: now,
      active: false,
      rxBytes: 0,
      txBytes: 0,
      rx: new RateWindow(),
      tx: new RateWindow(),
    });
  }

  activate(id: string): void {
    const session = this.#sessions.get(id);
    if (session) session.active = true;
  }

  registerAndActivate(id: string, reference: string, location: string, peer: string): void {
    this.register(id, reference, location, peer);
    this.activate(id);
  }

  extra(id: string, extra: string): void {
    const session = this.#sessions.get(id);
    if (session) session.extra = extra;
  }

  ingress(id: string, bytes: number, now = Date.now()): void {
    const session = this.#sessions.get(id);
    if (!session || bytes <= 0) return;
    session.lastActivity = now;
    session.rxBytes += bytes;
    session.rx.add(bytes, now);
    this.#rx.add(bytes, now);
    this.#rxBytes += bytes;
  }

  egress(id: string, bytes: number, now = Date.now()): void {
    const session = this.#sessions.get(id);
    if (!session || bytes <= 0) return;
    session.lastActivity = now;
    session.txBytes += bytes;
    session.tx.add(bytes, now);
    this.#tx.add(bytes, now);
    this.#txBytes += bytes;
  }

  /** Keeps an otherwise quiet session alive (a connected RTMP player between counter reads). */
  touch(id: string, now = Date.now()): void {
    const session = this.#sessions.get(id);
    if (session) session.lastActivity = now;
  }

  /** Ends a session now (a closed connection). */
  unregister(id: string): void {
    const session = this.#sessions.get(id);
    if (!session) return;
    this.#sessions.delete(id);
    if (!session.active) return;
    const key = `${session.location}:${session.peer}:${session.reference}`;
    const totals = this.#history.get(key) ?? {
      location: session.location,
      peer: session.peer,
      reference: session.reference,
      sessions: 0,
      rxBytes: 0,
      txBytes: 0,
    };
    totals.sessions++;
    totals.rxBytes += session.rxBytes;
    totals.txBytes += session.txBytes;
    this.#history.set(key, totals);
  }

  /** Ends sessions idle past the timeout; the registry calls it every second. */
  expire(now = Date.now()): void {
    const timeoutMs = this.#options.sessionTimeoutSec * 1000;
    for (const session of [...this.#sessions.values()]) {
      if (now - session.lastActivity >= timeoutMs) this.unregister(session.id);
    }
  }

  /** Bytes received and sent by every session since the collector started. */
  totals(): { rxBytes: number; txBytes: number } {
    return { rxBytes: this.#rxBytes, txBytes: this.#txBytes };
  }

  activeCount(): number {
    let count = 0;
    for (const session of this.#sessions.values()) if (session.active) count++;
    return count;
  }

  /** Active sessions, oldest first, in datarhei's shape. */
  active(now = Date.now()): SessionJson[] {
    return [...this.#sessions.values()]
      .filter((session) => session.active)
      .sort((a, b) => a.createdAt - b.createdAt)
      .map((session) => ({
        id: session.id,
        reference: session.reference,
        created_at: Math.floor(session.createdAt / 1000),
        local: session.location,
        remote: session.peer,
        extra: session.extra,
        bytes_rx: session.rxBytes,
        bytes_tx: session.txBytes,
        bandwidth_rx_kbit: round3(session.rx.bitsPerSecond(now) / 1024),
        bandwidth_tx_kbit: round3(session.tx.bitsPerSecond(now) / 1024),
      }));
  }

  summary(now = Date.now()): SessionSummaryJson {
    const stats = (totals: Totals): StatsJson => ({
      sessions: totals.sessions,
      traffic_rx_mb: Math.floor(totals.rxBytes / mebibyte),
      traffic_tx_mb: Math.floor(totals.txBytes / mebibyte),
    });
    const add = (into: Totals | undefined, from: Totals): Totals => ({
      sessions: (into?.sessions ?? 0) + from.sessions,
      rxBytes: (into?.rxBytes ?? 0) + from.rxBytes,
      txBytes: (into?.txBytes ?? 0) + from.txBytes,
    });
    const peers = new Map<string, { totals: Totals; locations: Map<string, Totals> }>();
    const locations = new Map<string, Totals>();
    const references = new Map<string, Totals>();
    let all: Totals = { sessions: 0, rxBytes: 0, txBytes: 0 };
    for (const entry of this.#history.values()) {
      const peer = peers.get(entry.peer) ?? {
        totals: { sessions: 0, rxBytes: 0, txBytes: 0 },
        locations: new Map(),
      };
      peer.totals = add(peer.totals, entry);
      peer.locations.set(entry.location, add(peer.locations.get(entry.location), entry));
      peers.set(entry.peer, peer);
      locations.set(entry.location, add(locations.get(entry.location), entry));
      references.set(entry.reference, add(references.get(entry.reference), entry));
      all = add(all, entry);
    }
    const mapOf = (source: Map<string, Totals>) =>
      Object.fromEntries([...source].map(([key, totals]) => [key, stats(totals)]));
    const list = this.active(now);
    return {
      active: {
        list,
        sessions: list.length,
        bandwidth_rx_mbit: round3(this.#rx.bitsPerSecond(now) / mebibyte),
        bandwidth_tx_mbit: round3(this.#tx.bitsPerSecond(now) / mebibyte),
        max_sessions: this.#options.maxSessions,
        max_bandwidth_rx_mbit: 0,
        max_bandwidth_tx_mbit: round3(this.#options.maxTxBitrate / mebibyte),
      },
      summary: {
        remote: Object.fromEntries(
          [...peers].map(([key, peer]) => [key, { ...stats(peer.totals), local: mapOf(peer.locations) }]),
        ),
        local: mapOf(locations),
        reference: mapOf(references),
        ...stats(all),
      },
    };
  }
}
