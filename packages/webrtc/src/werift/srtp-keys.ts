// werift internals, checked against werift 0.25.2 (see checked-version.ts): `RTCPeerConnection`'s
// `dtlsTransports`, and the SRTP/SRTCP sessions' `localContext`/`remoteContext` cipher key fields
// and profile (`lib/rtp/src/srtp/context/context.js`).
import { createSecretKey, KeyObject } from 'node:crypto';
import type { RTCPeerConnection } from 'werift';
import { SrtpProfile, type SrtpSessionKeys } from '../fanout/srtp.js';

const keyFields = ['srtpSessionKey', 'srtcpSessionKey', 'srtpSessionAuthTag', 'srtcpSessionAuthTag'] as const;

type CipherKeys = Partial<Record<(typeof keyFields)[number], Buffer | KeyObject>>;
interface SrtpSessionShape {
  localContext?: { cipher?: CipherKeys & { srtpSessionSalt?: Buffer }; profile?: number };
  remoteContext?: { cipher?: CipherKeys };
}

/**
 * werift passes its SRTP session keys to `createCipheriv`/`createHmac` as Buffers, once per packet,
 * and Node imports a raw key on every such call: measured here at about 16 µs per AES-GCM packet
 * with a Buffer key against 6 µs with a `KeyObject`. Per viewer and packet, that import was the
 * largest single cost of the fan-out. The keys are swapped for `KeyObject`s once the DTLS handshake
 * has produced them; every werift use of these fields accepts either form.
 *
 * Returns how many keys were swapped (0 if werift's internals no longer look as expected, in which
 * case nothing is touched and werift keeps working as shipped).
 */
export function useKeyObjectsForSrtp(pc: RTCPeerConnection): number {
  let swapped = 0;
  const transports = (pc as unknown as { dtlsTransports?: unknown[] }).dtlsTransports ?? [];
  for (const transport of transports) {
    const { srtp, srtcp } = transport as { srtp?: SrtpSessionShape; srtcp?: SrtpSessionShape };
    for (const session of [srtp, srtcp]) {
      for (const context of [session?.localContext, session?.remoteContext]) {
        const cipher = context?.cipher;
        if (!cipher) continue;
        for (const field of keyFields) {
          const key = cipher[field];
          if (Buffer.isBuffer(key) && key.length > 0) {
            cipher[field] = createSecretKey(key);
            swapped++;
          }
        }
      }
    }
  }
  return swapped;
}

function keyBytes(key: Buffer | KeyObject | undefined): Buffer | undefined {
  if (Buffer.isBuffer(key)) return key;
  if (key instanceof KeyObject && key.type === 'secret') return key.export();
  return undefined;
}

/**
 * The SRTP session keys werift derived for what this peer sends (its SRTP session's local context,
 * RFC 3711 §4.3), for a data plane that protects RTP itself; werift keeps using them for SRTCP.
 * Undefined before the DTLS handshake completed, or if werift's internals changed shape.
 */
export function srtpSendKeys(pc: RTCPeerConnection): SrtpSessionKeys | undefined {
  const transport = (pc as unknown as { dtlsTransports?: unknown[] }).dtlsTransports?.[0];
  return sessionSendKeys((transport as { srtp?: unknown } | undefined)?.srtp);
}

/** The local (sending) keys of a werift `SrtpSession`. */
export function sessionSendKeys(session: unknown): SrtpSessionKeys | undefined {
  const context = (session as SrtpSessionShape | undefined)?.localContext;
  const cipher = context?.cipher;
  const key = keyBytes(cipher?.srtpSessionKey);
  const salt = cipher?.srtpSessionSalt;
  if (!key || !Buffer.isBuffer(salt)) return undefined;
  if (context?.profile === SrtpProfile.aeadAes128Gcm) {
    return { profile: SrtpProfile.aeadAes128Gcm, key, salt };
  }
  if (context?.profile === SrtpProfile.aesCm128HmacSha1_80) {
    const authKey = keyBytes(cipher?.srtpSessionAuthTag);
    return authKey ? { profile: SrtpProfile.aesCm128HmacSha1_80, key, salt, authKey } : undefined;
  }
  return undefined;
}
