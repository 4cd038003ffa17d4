import type { Socket } from 'node:dgram';

/**
 * The file descriptor of a bound dgram socket, which Node does not expose. Node internals, checked
 * against Node 22 and 24 (`lib/dgram.js`): the socket keeps its state under a symbol described
 * 'state symbol', whose `handle` is the libuv UDP wrap with an `fd` getter (`socket._handle` is the
 * same object behind a deprecation warning). `socket-fd.test.ts` fails when this changes.
 *
 * Returns undefined when it cannot be found (another runtime or Node version): the caller then
 * keeps the data plane in the thread that owns the socket.
 */
export function socketFd(socket: Socket): number | undefined {
  const state = Object.getOwnPropertySymbols(socket).find((symbol) => symbol.description === 'state symbol');
  if (!state) return undefined;
  const handle = (socket as unknown as Record<symbol, { handle?: { fd?: unknown } } | undefined>)[state]
    ?.handle;
  const fd = handle?.fd;
  return typeof fd === 'number' && fd >= 0 ? fd : undefined;
}
