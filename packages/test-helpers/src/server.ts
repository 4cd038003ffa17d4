// The `@dragon/test-helpers/server` entry: the one launcher of the built server, used by the
// server's tests, the reliability suite and every benchmark, and what they need around it.

export {
  type RunningServer,
  runServer,
  type ServerOptions,
  type ServerRun,
  startServer,
  stopAllServers,
} from './launch-server.js';
export { freePort } from './ports.js';
export { childProcesses, procStatFields, running, tiedToParent } from './proc.js';
export { jsonBody, metric, testPatternInput, testPatternProcess } from './server-requests.js';
export { waitFor } from './wait-for.js';
