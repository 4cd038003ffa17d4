import { isIPv6 } from 'node:net';
import { ipv6Groups } from '@dragon/portalloc';
import koffi from 'koffi';
import { SrtUnavailableError } from './errors.js';

/**
 * The system's libsrt (Haivision's reference implementation, the one FFmpeg links), called through
 * koffi. Declarations follow `srt/srt.h` of libsrt 1.5; every pointer is passed as a Buffer so that
 * nothing is converted per call. Debian ships it as `libsrt1.5-gnutls` (FFmpeg depends on it).
 */
const libraryNames = [
  'libsrt-gnutls.so.1.5',
  'libsrt-openssl.so.1.5',
  'libsrt.so.1.5',
  'libsrt-gnutls.so',
  'libsrt.so',
];

/** `SRT_SOCKOPT` values (srt.h). */
export const SrtOption = {
  sndsyn: 1,
  rcvsyn: 2,
  reuseaddr: 15,
  latency: 23,
  passphrase: 26,
  streamid: 46,
  ipv6only: 54,
} as const;

/** `SRT_EPOLL_OPT` flags (srt.h). */
export const SrtEpoll = { in: 0x1, out: 0x4, err: 0x8 } as const;

/** `SRT_ERRNO`: no data to read / no room to send on a non-blocking socket. */
export const srtWouldBlock = { receive: 6002, send: 6001 } as const;
export const srtInvalidSocket = -1;

/** `struct CBytePerfMon` (srt.h), field for field: koffi lays it out as the C compiler does. */
const bytePerfMonFields = {
  msTimeStamp: 'int64_t',
  pktSentTotal: 'int64_t',
  pktRecvTotal: 'int64_t',
  pktSndLossTotal: 'int',
  pktRcvLossTotal: 'int',
  pktRetransTotal: 'int',
  pktSentACKTotal: 'int',
  pktRecvACKTotal: 'int',
  pktSentNAKTotal: 'int',
  pktRecvNAKTotal: 'int',
  usSndDurationTotal: 'int64_t',
  pktSndDropTotal: 'int',
  pktRcvDropTotal: 'int',
  pktRcvUndecryptTotal: 'int',
  byteSentTotal: 'uint64_t',
  byteRecvTotal: 'uint64_t',
  byteRcvLossTotal: 'uint64_t',
  byteRetransTotal: 'uint64_t',
  byteSndDropTotal: 'uint64_t',
  byteRcvDropTotal: 'uint64_t',
  byteRcvUndecryptTotal: 'uint64_t',
  pktSent: 'int64_t',
  pktRecv: 'int64_t',
  pktSndLoss: 'int',
  pktRcvLoss: 'int',
  pktRetrans: 'int',
  pktRcvRetrans: 'int',
  pktSentACK: 'int',
  pktRecvACK: 'int',
  pktSentNAK: 'int',
  pktRecvNAK: 'int',
  mbpsSendRate: 'double',
  mbpsRecvRate: 'double',
  usSndDuration: 'int64_t',
  pktReorderDistance: 'int',
  pktRcvAvgBelatedTime: 'double',
  pktRcvBelated: 'int64_t',
  pktSndDrop: 'int',
  pktRcvDrop: 'int',
  pktRcvUndecrypt: 'int',
  byteSent: 'uint64_t',
  byteRecv: 'uint64_t',
  byteRcvLoss: 'uint64_t',
  byteRetrans: 'uint64_t',
  byteSndDrop: 'uint64_t',
  byteRcvDrop: 'uint64_t',
  byteRcvUndecrypt: 'uint64_t',
  usPktSndPeriod: 'double',
  pktFlowWindow: 'int',
  pktCongestionWindow: 'int',
  pktFlightSize: 'int',
  msRTT: 'double',
  mbpsBandwidth: 'double',
  byteAvailSndBuf: 'int',
  byteAvailRcvBuf: 'int',
  mbpsMaxBW: 'double',
  byteMSS: 'int',
  pktSndBuf: 'int',
  byteSndBuf: 'int',
  msSndBuf: 'int',
  msSndTsbPdDelay: 'int',
  pktRcvBuf: 'int',
  byteRcvBuf: 'int',
  msRcvBuf: 'int',
  msRcvTsbPdDelay: 'int',
  pktSndFilterExtraTotal: 'int',
  pktRcvFilterExtraTotal: 'int',
  pktRcvFilterSupplyTotal: 'int',
  pktRcvFilterLossTotal: 'int',
  pktSndFilterExtra: 'int',
  pktRcvFilterExtra: 'int',
  pktRcvFilterSupply: 'int',
  pktRcvFilterLoss: 'int',
  pktReorderTolerance: 'int',
  pktSentUniqueTotal: 'int64_t',
  pktRecvUniqueTotal: 'int64_t',
  byteSentUniqueTotal: 'uint64_t',
  byteRecvUniqueTotal: 'uint64_t',
  pktSentUnique: 'int64_t',
  pktRecvUnique: 'int64_t',
  byteSentUnique: 'uint64_t',
  byteRecvUnique: 'uint64_t',
} as const;

/** One socket's statistics since it was made (`srt_bstats` without clearing). */
export type SrtByteStats = { [K in keyof typeof bytePerfMonFields]: number | bigint };

function loadLibrary() {
  let lastError: unknown;
  for (const name of libraryNames) {
    try {
      return { name, lib: koffi.load(name) };
    } catch (error) {
      lastError = error;
    }
  }
  throw new SrtUnavailableError(libraryNames, { cause: lastError });
}

function bind() {
  const { name, lib } = loadLibrary();
  // Registered by name for the `srt_bstats` declaration below.
  koffi.struct('CBytePerfMon', bytePerfMonFields);
  const api = {
    library: name,
    startup: lib.func('int srt_startup()'),
    getversion: lib.func('uint32_t srt_getversion()'),
    createSocket: lib.func('int srt_create_socket()'),
    bind: lib.func('int srt_bind(int u, void *name, int namelen)'),
    listen: lib.func('int srt_listen(int u, int backlog)'),
    accept: lib.func('int srt_accept(int u, void *addr, void *addrlen)'),
    close: lib.func('int srt_close(int u)'),
    getpeername: lib.func('int srt_getpeername(int u, void *name, void *namelen)'),
    getsockname: lib.func('int srt_getsockname(int u, void *name, void *namelen)'),
    getsockflag: lib.func('int srt_getsockflag(int u, int opt, void *optval, void *optlen)'),
    setsockflag: lib.func('int srt_setsockflag(int u, int opt, void *optval, int optlen)'),
    recvmsg: lib.func('int srt_recvmsg(int u, void *buf, int len)'),
    sendmsg: lib.func('int srt_sendmsg(int u, void *buf, int len, int ttl, int inorder)'),
    getlasterror: lib.func('int srt_getlasterror(void *errnoLoc)'),
    getlasterrorStr: lib.func('const char *srt_getlasterror_str()'),
    bstats: lib.func('int srt_bstats(int u, _Out_ CBytePerfMon *perf, int clear)'),
    epollCreate: lib.func('int srt_epoll_create()'),
    epollAdd: lib.func('int srt_epoll_add_usock(int eid, int u, void *events)'),
    epollRemove: lib.func('int srt_epoll_remove_usock(int eid, int u)'),
    epollUwait: lib.func('int srt_epoll_uwait(int eid, void *fdsSet, int fdsSize, int64_t msTimeOut)'),
    epollRelease: lib.func('int srt_epoll_release(int eid)'),
  };
  if (api.startup() < 0) throw new SrtUnavailableError([name], { cause: api.getlasterrorStr() });
  // libsrt logs to stderr, past pino; the server logs what it refuses and why itself. LOG_CRIT.
  lib.func('void srt_setloglevel(int ll)')(2);
  return api;
}

export type LibSrt = ReturnType<typeof bind>;
let loaded: LibSrt | undefined;

/** Loads libsrt once per process (`srt_startup` is reference counted; it is never cleaned up). */
export function libsrt(): LibSrt {
  loaded ??= bind();
  return loaded;
}

/** libsrt's version as `major.minor.patch`. */
export function libsrtVersion(srt: LibSrt): string {
  const version = srt.getversion();
  return `${(version >> 16) & 0xff}.${(version >> 8) & 0xff}.${version & 0xff}`;
}

const afInet = 2;
const afInet6 = 10;

/** A `sockaddr_in`/`sockaddr_in6` for `srt_bind` (Linux layout). */
export function encodeSockaddr(host: string, port: number): Buffer {
  if (isIPv6(host)) {
    const address = Buffer.alloc(28);
    address.writeUInt16LE(afInet6, 0);
    address.writeUInt16BE(port, 2);
    const groups = ipv6Groups(host);
    for (let index = 0; index < 8; index++) address.writeUInt16BE(groups[index] ?? 0, 8 + index * 2);
    return address;
  }
  const address = Buffer.alloc(16);
  address.writeUInt16LE(afInet, 0);
  address.writeUInt16BE(port, 2);
  const octets = host.split('.');
  for (let index = 0; index < 4; index++) address.writeUInt8(Number(octets[index]), 4 + index);
  return address;
}

/** `host:port` of a `sockaddr` filled by libsrt (IPv4-mapped IPv6 addresses read as IPv4). */
export function decodeSockaddr(address: Buffer): { host: string; port: number } {
  const family = address.readUInt16LE(0);
  const port = address.readUInt16BE(2);
  if (family === afInet) return { host: [...address.subarray(4, 8)].join('.'), port };
  const groups: string[] = [];
  for (let index = 0; index < 8; index++) groups.push(address.readUInt16BE(8 + index * 2).toString(16));
  const mapped = groups.slice(0, 5).every((group) => group === '0') && groups[5] === 'ffff';
  if (mapped) return { host: [...address.subarray(20, 24)].join('.'), port };
  // The WHATWG URL parser writes IPv6 in its canonical short form (RFC 5952).
  return { host: new URL(`http://[${groups.join(':')}]`).hostname.slice(1, -1), port };
}
