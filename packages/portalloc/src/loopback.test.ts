import { describe, expect, it } from 'vitest';
import { isLoopbackAddress } from './loopback.js';

describe('isLoopbackAddress', () => {
  it('accepts 127.0.0.0/8 and ::1, v4-mapped and other IPv6 spellings included', () => {
    for (const address of [
      '127.0.0.1',
      '127.1.2.3',
      '127.255.0.9',
      '127.0.0.0',
      '::1',
      '::ffff:127.0.0.1',
      '::FFFF:127.9.9.9',
      '0:0:0:0:0:0:0:1',
    ]) {
      expect(isLoopbackAddress(address), address).toBe(true);
    }
  });

  it('refuses other addresses, host names and malformed quads', () => {
    for (const address of [
      undefined,
      '',
      '10.0.0.1',
      '192.168.1.2',
      '128.0.0.1',
      '12.0.0.1',
      '1127.0.0.1',
      '::ffff:10.0.0.1',
      '::2',
      'fe80::1',
      '127.example.net',
      'localhost',
      '127.0.0',
      '127.0.0.1.5',
      '127.0.0.256',
      '127.0.0.01',
      '127..0.1',
      '127.0.0.1 ',
      '::ffff:',
    ]) {
      expect(isLoopbackAddress(address), String(address)).toBe(false);
    }
  });
});
