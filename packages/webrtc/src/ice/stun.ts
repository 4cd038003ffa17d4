/** Just enough STUN (RFC 5389) to route datagrams and connections to the peer they belong to. */
export const StunClass = { request: 0, indication: 1, success: 2, error: 3 } as const;
export type StunClass = (typeof StunClass)[keyof typeof StunClass];

/** The USERNAME a viewer puts in its binding requests to us (RFC 8445 §7.2.2): ours, then its own. */
export function iceUsername(serverUfrag: string, viewerUfrag: string): string {
  return `${serverUfrag}:${viewerUfrag}`;
}

const stunMagicCookie = 0x2112a442;
const usernameAttribute = 0x0006;

/** Reads the little of a STUN header the mux routes by; undefined for anything that is not STUN. */
export function readStun(
  data: Buffer,
): { cls: StunClass; transactionId: string; username?: string } | undefined {
  // RFC 5389: the first two bits are zero and the magic cookie follows the length.
  if (data.length < 20 || (data[0] ?? 0xff) > 0x03 || data.readUInt32BE(4) !== stunMagicCookie)
    return undefined;
  const type = data.readUInt16BE(0);
  const cls = (((type >> 7) & 0x2) | ((type >> 4) & 0x1)) as StunClass;
  const transactionId = data.toString('hex', 8, 20);
  if (cls !== StunClass.request && cls !== StunClass.indication) return { cls, transactionId };
  const end = Math.min(data.length, 20 + data.readUInt16BE(2));
  for (let offset = 20; offset + 4 <= end; ) {
    const attribute = data.readUInt16BE(offset);
    const length = data.readUInt16BE(offset + 2);
    if (offset + 4 + length > end) break;
    if (attribute === usernameAttribute) {
      return { cls, transactionId, username: data.toString('utf8', offset + 4, offset + 4 + length) };
    }
    offset += 4 + Math.ceil(length / 4) * 4;
  }
  return { cls, transactionId };
}
