/**
 * What is wrong with the answer's rejected `kind` m-section, as strict WebRTC stacks see it
 * (RFC 3264 §6, RFC 8829 §5.3.1, RFC 8843 §7.3.3): it must be port 0 with the offered proto and a
 * format, have a connection line, keep the offer's mid but stay out of the BUNDLE group, be
 * inactive with rtcp-mux, and carry nothing that would make it a sending section. An empty list
 * means well-formed.
 * @example expect(rejectedSectionProblems(answerSdp, 'audio')).toEqual([]);
 */
export function rejectedSectionProblems(answerSdp: string, kind: 'audio' | 'video'): string[] {
  const [session = '', ...sections] = answerSdp.split(/\r\n(?=m=)/);
  const section = sections.find((lines) => lines.startsWith(`m=${kind} `));
  if (section === undefined) return [`no m=${kind} section`];
  const lines = section.split('\r\n').filter(Boolean);
  const problems: string[] = [];
  if (!new RegExp(`^m=${kind} 0 UDP/TLS/RTP/SAVPF \\d+( \\d+)*$`).test(lines[0] ?? ''))
    problems.push(`media line "${lines[0]}" is not port 0 with the offered proto and a format`);
  for (const required of ['c=IN IP4 0.0.0.0', 'a=inactive', 'a=rtcp-mux']) {
    if (!lines.includes(required)) problems.push(`no ${required}`);
  }
  const mid = lines.find((line) => line.startsWith('a=mid:'))?.slice('a=mid:'.length);
  if (mid === undefined) problems.push('no a=mid (the offered mid)');
  const bundle = /^a=group:BUNDLE(.*)$/m.exec(session)?.[1]?.trim().split(' ') ?? [];
  if (mid !== undefined && bundle.includes(mid)) problems.push(`mid ${mid} is still in the BUNDLE group`);
  for (const line of lines.filter((entry) =>
    /^a=(msid|ssrc|candidate|sendonly|sendrecv|rtcp-mux-only)/.test(entry),
  ))
    problems.push(`a sending section's line: ${line}`);
  return problems;
}
