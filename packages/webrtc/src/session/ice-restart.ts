// An ICE restart the remote peer asks for without a new offer of its own (WHIP PATCH, RFC 9725
// §4.4.1): the server re-applies the peer's last offer with the new credentials substituted
// (RFC 8839 §4.4.1.1.1: new ufrag and pwd, same sessions), and answers with its own new ones.

/** The publisher's new ICE credentials and the candidates that came with them. */
export interface IceRestartRequest {
  ufrag: string;
  pwd: string;
  /** `candidate:…` lines (no `a=` prefix); each is admitted under the offer's candidate rules. */
  candidates: readonly string[];
}

/** The server's side of a restart: its new credentials and every candidate (no trickle). */
export interface IceRestartAnswer {
  ufrag: string;
  pwd: string;
  /** `candidate:…` lines (no `a=` prefix). */
  candidates: string[];
}

/**
 * `offerSdp` with every `a=ice-ufrag`/`a=ice-pwd` replaced by the new ones and its candidates
 * left out: the old ones belong to the old ICE generation, the new ones are added one by one.
 */
export function offerWithIceCredentials(offerSdp: string, ice: { ufrag: string; pwd: string }): string {
  const lines = offerSdp.split(/\r?\n/).filter((line) => line !== '');
  const kept: string[] = [];
  for (const line of lines) {
    if (line.startsWith('a=candidate:') || line === 'a=end-of-candidates') continue;
    if (line.startsWith('a=ice-ufrag:')) kept.push(`a=ice-ufrag:${ice.ufrag}`);
    else if (line.startsWith('a=ice-pwd:')) kept.push(`a=ice-pwd:${ice.pwd}`);
    else kept.push(line);
  }
  return `${kept.join('\r\n')}\r\n`;
}

/**
 * The ICE part of an answer: its credentials and the candidates of its first section (the
 * sections are bundled on one transport, so the others repeat them).
 */
export function answerIceFragment(answerSdp: string): IceRestartAnswer | undefined {
  const lines = answerSdp.split(/\r?\n/);
  const ufrag = lines.find((line) => line.startsWith('a=ice-ufrag:'))?.slice('a=ice-ufrag:'.length);
  const pwd = lines.find((line) => line.startsWith('a=ice-pwd:'))?.slice('a=ice-pwd:'.length);
  if (!ufrag || !pwd) return undefined;
  const firstSection = lines.findIndex((line) => line.startsWith('m='));
  const nextSection = lines.findIndex((line, index) => index > firstSection && line.startsWith('m='));
  const section = lines.slice(firstSection, nextSection === -1 ? undefined : nextSection);
  const candidates = section.filter((line) => line.startsWith('a=candidate:')).map((line) => line.slice(2));
  return { ufrag: ufrag.trim(), pwd: pwd.trim(), candidates };
}
