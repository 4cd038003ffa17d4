import { describe, expect, it } from 'vitest';
import { RemoteCandidateGate } from './remote-candidates.js';

const candidate = (host: string, port: number, extra = 'typ host', transport = 'udp', component = 1) =>
  `candidate:1 ${component} ${transport} 2122260223 ${host} ${port} ${extra}`;

describe('RemoteCandidateGate', () => {
  it('admits what browsers gather: host, reflexive, relay, IPv6, TCP, mDNS names', () => {
    const gate = new RemoteCandidateGate();
    for (const line of [
      candidate('192.168.1.20', 54_321),
      `a=${candidate('203.0.113.9', 61_000, 'typ srflx raddr 192.168.1.20 rport 54321')}`,
      candidate('198.51.100.4', 49_200, 'typ relay raddr 203.0.113.9 rport 61000'),
      candidate('2001:db8::7', 50_000),
      candidate('192.168.1.20', 9_999, 'typ host tcptype passive', 'TCP'),
      candidate('4f0d2c1e-5a8b-4c43-9f0e-2a1d3c4b5e6f.local', 50_001),
    ]) {
      expect(gate.admit(line)).toEqual({ admitted: true });
    }
    expect(gate.admitted).toBe(6);
  });

  it('refuses addresses and ports the server should never check', () => {
    const gate = new RemoteCandidateGate();
    const refused = [
      candidate('224.0.0.251', 5353),
      candidate('239.255.255.250', 1900),
      candidate('255.255.255.255', 40_000),
      candidate('0.0.0.0', 40_000),
      candidate('::', 40_000),
      candidate('ff02::1', 40_000),
      candidate('::ffff:224.0.0.1', 40_000),
      candidate('192.168.1.20', 0),
      candidate('192.168.1.20', 53),
      candidate('192.168.1.20', 70_000),
      candidate('victim.example.com', 40_000),
      candidate('192.168.1.20', 40_000, 'typ host', 'udp', 2),
      candidate('192.168.1.20', 40_000, 'typ host', 'sctp'),
      candidate('192.168.1.20', 40_000, 'typ unknown'),
      'candidate:garbage',
    ];
    for (const line of refused) expect(gate.admit(line), line).toMatchObject({ admitted: false });
    expect(gate.admitted).toBe(0);
  });

  it('admits low ports only when allowed', () => {
    expect(new RemoteCandidateGate({ allowLowRemotePorts: true }).admit(candidate('192.0.2.1', 443))).toEqual(
      {
        admitted: true,
      },
    );
  });

  it('caps the candidates of one viewer and drops duplicates', () => {
    const gate = new RemoteCandidateGate({ maxRemoteCandidates: 3 });
    expect(gate.admit(candidate('192.0.2.1', 40_000)).admitted).toBe(true);
    expect(gate.admit(candidate('192.0.2.1', 40_000)).admitted).toBe(false);
    expect(gate.admit(candidate('192.0.2.1', 40_001)).admitted).toBe(true);
    expect(gate.admit(candidate('192.0.2.1', 40_002)).admitted).toBe(true);
    expect(gate.admit(candidate('192.0.2.1', 40_003))).toEqual({
      admitted: false,
      reason: 'more than 3 candidates',
    });
    expect(gate.admitted).toBe(3);
  });
});
