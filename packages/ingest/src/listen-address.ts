import { z } from 'zod';

/**
 * A listen address as datarhei writes them: `host:port`, `[ipv6]:port` or `:port` (every interface),
 * the port at most 65535 (0: any free port). The one declaration: the RTMP and SRT options use it,
 * and so does an application's configuration for these and its other listen addresses.
 */
export const listenAddressSchema = z
  .string()
  .regex(/^(\[[0-9a-fA-F:.]+\]|[^:\s[\]]*):\d{1,5}$/, 'must be host:port or :port')
  // Guarded: a string the pattern refused gets that one message, not a second about its port.
  .refine(
    (address) => !/:\d+$/.test(address) || Number(address.slice(address.lastIndexOf(':') + 1)) <= 65535,
    { message: 'the port must be at most 65535' },
  );
