import { continueOnRead } from '@dragon/filesystems';
import { type ServerType, serve } from '@hono/node-server';

/** The HTTP address could not be listened on (in use, not permitted, not an address of this host). */
export class ListenError extends Error {
  override readonly name = 'ListenError';
  readonly code = 'LISTEN_FAILED' as const;
  constructor(
    readonly address: string,
    readonly reason: string,
    options?: { cause?: unknown },
  ) {
    super(`cannot listen on ${address}: ${reason}`, options);
  }
}

/** `host:port`, `[ipv6]:port` or `:port` as Node's `listen` takes it (no hostname: every interface). */
export function listenTarget(address: string): { hostname?: string; port: number } {
  const separator = address.lastIndexOf(':');
  const host = address.slice(0, separator).replace(/^\[(.*)\]$/, '$1');
  return { ...(host ? { hostname: host } : {}), port: Number(address.slice(separator + 1)) };
}

const listenReasons: Record<string, string> = {
  EADDRINUSE: 'the address is already in use',
  EACCES: 'permission denied (ports below 1024 need privileges)',
  EADDRNOTAVAIL: 'the address is not one of this host',
};

/** Why a socket could not listen, in words, from the errno an error or its cause carries. */
export function listenFailureReason(error: unknown): string | undefined {
  for (let current = error, depth = 0; current instanceof Error && depth < 4; depth++) {
    const reason = listenReasons[(current as NodeJS.ErrnoException).code ?? ''];
    if (reason) return reason;
    current = current.cause;
  }
  return undefined;
}

/** Hono's fetch: `env` carries the Node request, from which the client's address is read. */
export type Fetch = (request: Request, env: unknown) => Response | Promise<Response>;

/** Listens on `address`; rejects with a ListenError saying why it cannot. */
export function listen(address: string, fetch: Fetch): Promise<ServerType> {
  return new Promise((resolve, reject) => {
    const server = serve({ fetch, ...listenTarget(address) }, () => resolve(server));
    continueOnRead(server);
    server.once('error', (error: NodeJS.ErrnoException) => {
      reject(new ListenError(address, listenFailureReason(error) ?? error.message, { cause: error }));
    });
  });
}

/** Stops listening and ends the open connections, keep-alive ones included. */
export function closeServer(server: ServerType): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    (server as { closeAllConnections?: () => void }).closeAllConnections?.();
  });
}
