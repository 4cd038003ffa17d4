import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { ServerType } from '@hono/node-server';

/**
 * Answers `Expect: 100-continue` only when a handler starts reading the body, as Go's net/http (and
 * so datarhei) does; Node's default is to send `100 Continue` at once.
 *
 * FFmpeg's `-method PUT` asks with `Expect: 100-continue` and no credentials, and retries with them
 * only if the 401 comes before it has sent the body: it cannot send a streamed segment twice. With
 * Node's default it sends the body, gets the 401 and stalls.
 */
export function continueOnRead(server: ServerType): void {
  // `serve()` makes an HTTP/1.1 server unless told to make another kind; Dragon does not.
  const http = server as Server;
  http.on('checkContinue', (request: IncomingMessage, response: ServerResponse) => {
    request.once('resume', () => {
      if (!response.headersSent) response.writeContinue();
    });
    http.emit('request', request, response);
  });
}
