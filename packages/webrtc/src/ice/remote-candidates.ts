import { BlockList, isIP } from 'node:net';

/**
 * Which remote ICE candidates a viewer may make the server check. Every candidate costs a
 * connectivity check — five STUN datagrams with werift's retransmissions — sent to an address
 * the viewer names, authenticated or not: an offer listing hundreds of candidates at a third
 * party turns the server into a reflector (measured: one 12 KB offer with 200 candidates → 2,000
 * datagrams at the target). Browsers gather a handful (host, server-reflexive and relay per
 * interface, IPv4 and IPv6), so the number is capped and addresses no viewer can have are refused.
 */
export interface RemoteCandidatePolicy {
  /**
   * Remote candidates accepted per viewer, offer and trickled ones together; more are dropped.
   * A dual-stack browser with two interfaces and TURN over UDP and TCP offers about a dozen.
   * @default 24
   */
  maxRemoteCandidates?: number;
  /**
   * Accept candidates on ports below 1024. No browser gathers one (host, reflexive and relay
   * ports are ephemeral), while DNS, NTP or a web server on them is what a reflection targets.
   * @default false
   */
  allowLowRemotePorts?: boolean;
}

export const defaultMaxRemoteCandidates = 24;

// Addresses no viewer can be reached at: "this network" and unspecified, multicast, the
// reserved block with the limited broadcast address (RFC 1122 §3.2.1.3, RFC 5771, RFC 1112 §4,
// RFC 4291 §2.7). BlockList checks IPv4-mapped IPv6 addresses against the IPv4 rules too.
const neverChecked = new BlockList();
neverChecked.addSubnet('0.0.0.0', 8, 'ipv4');
neverChecked.addSubnet('224.0.0.0', 4, 'ipv4');
neverChecked.addSubnet('240.0.0.0', 4, 'ipv4');
neverChecked.addAddress('::', 'ipv6');
neverChecked.addSubnet('ff00::', 8, 'ipv6');

const candidateTypes = new Set(['host', 'srflx', 'prflx', 'relay']);

/** The fields of an `a=candidate` line (RFC 8839 §5.1) that decide where checks would go. */
export interface CandidateAddress {
  component: number;
  transport: string;
  host: string;
  port: number;
  type: string;
}

/** Parses `candidate:…` (with or without `a=`); undefined when the line is not a candidate. */
export function readCandidate(line: string): CandidateAddress | undefined {
  const fields = line.replace(/^a=/, '').split(' ');
  if (!fields[0]?.startsWith('candidate:') || fields.length < 8 || fields[6] !== 'typ') return undefined;
  return {
    component: Number(fields[1]),
    transport: (fields[2] ?? '').toLowerCase(),
    host: fields[4] ?? '',
    port: Number(fields[5]),
    type: fields[7] ?? '',
  };
}

/**
 * Counts and filters one viewer's remote candidates. One gate per viewer sees the offer's
 * candidates and then every trickled one, so the cap holds across both.
 */
export class RemoteCandidateGate {
  readonly #max: number;
  readonly #allowLowPorts: boolean;
  readonly #seen = new Set<string>();

  constructor(policy: RemoteCandidatePolicy = {}) {
    this.#max = policy.maxRemoteCandidates ?? defaultMaxRemoteCandidates;
    this.#allowLowPorts = policy.allowLowRemotePorts ?? false;
  }

  /** Candidates admitted so far. */
  get admitted(): number {
    return this.#seen.size;
  }

  /** Admits a candidate line, or says why it is refused. */
  admit(line: string): { admitted: true } | { admitted: false; reason: string } {
    const candidate = readCandidate(line);
    if (!candidate) return { admitted: false, reason: 'not a candidate line' };
    const reason = this.#refusal(candidate);
    if (reason) return { admitted: false, reason };
    this.#seen.add(`${candidate.transport} ${candidate.host} ${candidate.port}`);
    return { admitted: true };
  }

  #refusal({ component, transport, host, port, type }: CandidateAddress): string | undefined {
    // RTCP is multiplexed (rtcp-mux-only): a component-2 candidate would only add checks.
    if (component !== 1) return `component ${component}`;
    if (transport !== 'udp' && transport !== 'tcp') return `transport ${transport}`;
    if (!candidateTypes.has(type)) return `type ${type}`;
    if (!Number.isInteger(port) || port < 1 || port > 65_535) return `port ${port}`;
    if (port < 1024 && !this.#allowLowPorts) return `port ${port} below 1024`;
    const family = isIP(host);
    // mDNS names (RFC 8839 §5.1, draft-ietf-mmusic-mdns-ice-candidates) are what browsers put
    // in place of private addresses; other names would make the server resolve what a viewer chose.
    if (family === 0 && !host.toLowerCase().endsWith('.local')) return 'not an IP address';
    if (family !== 0 && neverChecked.check(host, family === 4 ? 'ipv4' : 'ipv6'))
      return `address ${host} is never checked`;
    if (this.#seen.has(`${transport} ${host} ${port}`)) return 'duplicate';
    if (this.#seen.size >= this.#max) return `more than ${this.#max} candidates`;
    return undefined;
  }
}
