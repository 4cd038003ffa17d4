import { expect } from 'vitest';

/**
 * Asserts that the answer rejects its `kind` m-section the way strict WebRTC stacks expect
 * (RFC 3264 §6, RFC 8829 §5.3.1, RFC 8843 §7.3.3): port 0 with the offered proto and a format,
 * a connection line, the offer's mid kept but left out of the BUNDLE group, direction inactive,
 * rtcp-mux, and nothing that would make it a sending section.
 */
export function expectRejectedSection(answerSdp: string, kind: 'audio' | 'video'): void {
  const [session = '', ...sections] = answerSdp.split(/\r\n(?=m=)/);
  const section = sections.find((lines) => lines.startsWith(`m=${kind} `));
  expect(section, `an m=${kind} section`).toBeDefined();
  const lines = section!.split('\r\n').filter(Boolean);
  expect(lines[0]).toMatch(new RegExp(`^m=${kind} 0 UDP/TLS/RTP/SAVPF \\d+( \\d+)*$`));
  expect(lines).toContain('c=IN IP4 0.0.0.0');
  expect(lines).toContain('a=inactive');
  expect(lines).toContain('a=rtcp-mux');
  const mid = lines.find((line) => line.startsWith('a=mid:'))?.slice('a=mid:'.length);
  expect(mid, 'the offered mid').toBeDefined();
  const bundle = /^a=group:BUNDLE(.*)$/m.exec(session)?.[1]?.trim().split(' ') ?? [];
  expect(bundle).not.toContain(mid);
  expect(
    lines.filter((line) => /^a=(msid|ssrc|candidate|sendonly|sendrecv|rtcp-mux-only)/.test(line)),
  ).toEqual([]);
}
