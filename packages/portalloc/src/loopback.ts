import { BlockList, isIP } from 'node:net';

const digit0 = 0x30;
const digit9 = 0x39;
const dot = 0x2e;

/**
 * A dotted quad in 127.0.0.0/8 from `start` to the end of `address`, read in place (no slice, no
 * regex: this runs per received RTP packet). Octets as `net.isIP` accepts them: 0–255, no leading
 * zeros.
 */
function isLoopbackV4(address: string, start: number): boolean {
  let octets = 0;
  let value = 0;
  let digits = 0;
  for (let i = start; i <= address.length; i++) {
    const char = i === address.length ? dot : address.charCodeAt(i);
    if (char === dot) {
      if (digits === 0 || (octets === 0 && value !== 127)) return false;
      octets++;
      value = 0;
      digits = 0;
    } else if (char >= digit0 && char <= digit9) {
      if (digits > 0 && value === 0) return false; // a leading zero
      value = value * 10 + (char - digit0);
      if (++digits > 3 || value > 255) return false;
    } else return false;
  }
  return octets === 4;
}

// The other spellings of an IPv6 loopback (`0:0:0:0:0:0:0:1`, `::FFFF:127.0.0.1`): rare, so exact
// and slow is fine for them.
const loopbackV6 = new BlockList();
loopbackV6.addAddress('::1', 'ipv6');
loopbackV6.addSubnet('::ffff:127.0.0.0', 104, 'ipv6');

/**
 * Whether `address` is a loopback address: 127.0.0.0/8 or ::1, v4-mapped (`::ffff:127.0.0.1`)
 * included. Only addresses count: a host name such as `localhost` or `127.example.net` is not one.
 * Allocation-free for the usual spellings, so a receive path may call it per packet.
 * @example isLoopbackAddress(rinfo.address) // only a local FFmpeg may feed an RTP leg
 */
export function isLoopbackAddress(address: string | undefined): boolean {
  if (address === undefined) return false;
  if (address === '::1') return true;
  if (isLoopbackV4(address, address.startsWith('::ffff:') ? 7 : 0)) return true;
  return address.includes(':') && isIP(address) === 6 && loopbackV6.check(address, 'ipv6');
}
