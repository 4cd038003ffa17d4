import { describe, expect, it } from 'vitest';
import { decodeSockaddr, encodeSockaddr } from './libsrt.js';

describe('sockaddr for libsrt', () => {
  it.each([
    ['127.0.0.1', 6000],
    ['0.0.0.0', 0],
    ['::', 6000],
    ['::1', 1935],
    ['2001:db8::8:800:200c:417a', 65535],
    ['fe80::1', 9],
  ])('reads back %s port %i as it was written', (host, port) => {
    expect(decodeSockaddr(encodeSockaddr(host, port))).toEqual({ host, port });
  });

  it('lays out sockaddr_in as Linux does: family, port in network order, address', () => {
    expect([...encodeSockaddr('10.1.2.3', 0x1770)]).toEqual([
      2, 0, 0x17, 0x70, 10, 1, 2, 3, 0, 0, 0, 0, 0, 0, 0, 0,
    ]);
  });

  it('reads an IPv4-mapped IPv6 peer (a dual-stack listener) as IPv4', () => {
    expect(decodeSockaddr(encodeSockaddr('::ffff:192.0.2.1', 5000))).toEqual({
      host: '192.0.2.1',
      port: 5000,
    });
  });
});
