import { describe, expect, it } from 'vitest';
import { listenAddressSchema } from './listen-address.js';
import { rtmpServerOptionsSchema } from './rtmp-options.js';
import { srtServerOptionsSchema } from './srt-server.js';

// One pattern for every listen address: the servers' options refuse what the configuration refuses.
const accepted = [':1935', '127.0.0.1:1935', 'localhost:0', '[::1]:1935', '[::]:6000'];
const refused = [':99999', '127.0.0.1:65536', 'host]:1935', '[::1:1935', '1935', 'a b:1935', ''];

const schemas = {
  listenAddressSchema: (address: string) => listenAddressSchema.safeParse(address).success,
  'rtmp.address': (address: string) => rtmpServerOptionsSchema.safeParse({ address }).success,
  'rtmp.tls.address': (address: string) =>
    rtmpServerOptionsSchema.safeParse({ tls: { address, certFile: 'c', keyFile: 'k' } }).success,
  'srt.address': (address: string) => srtServerOptionsSchema.safeParse({ address }).success,
};

describe.each(Object.entries(schemas))('%s', (_name, valid) => {
  it.each(accepted)('accepts %s', (address) => {
    expect(valid(address)).toBe(true);
  });

  it.each(refused)('refuses %j', (address) => {
    expect(valid(address)).toBe(false);
  });
});

it('says what is wrong once: the pattern, or the port', () => {
  const messages = (address: string) =>
    listenAddressSchema.safeParse(address).error?.issues.map((issue) => issue.message);

  expect(messages('nonsense')).toEqual(['must be host:port or :port']);
  expect(messages(':70000')).toEqual(['the port must be at most 65535']);
});
