import { getPriority } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { FanoutPlane } from '@dragon/webrtc';
import { pino } from 'pino';
import { ConfigStore } from './config/config-store.js';
import { ConfigInvalidError, DirectoryUnsafeError } from './config/errors.js';
import { ensureDemoProcess } from './demo.js';
import { ListenError, listenFailureReason } from './http-listener.js';
import { LogRing } from './ops/log-ring.js';
import { Runtime } from './runtime.js';
import { dataPlanePriorityLine, logDataPlane } from './webrtc/data-plane.js';

const usage = `Usage: dragon-core [--config FILE] [--demo]

  --config FILE  the JSON config file (else $CORE_CONFIGFILE, else <db dir>/config.json,
                 with the db dir from $CORE_DB_DIR or ./config)
  --demo         add a test-pattern process "demo" if there is none
  --help         show this text

Every config field can also be set by an environment variable: CORE_ + its JSON path in capitals
with _ for dots (CORE_ADDRESS, CORE_API_AUTH_ENABLE, CORE_WEBRTC_UDP_MUX_PORT, ...).
`;

function fail(message: string, details: string[] = []): never {
  process.stderr.write(`dragon-core: ${message}\n${details.map((line) => `  - ${line}\n`).join('')}`);
  process.exit(1);
}

let args: { config?: string | undefined; demo: boolean; help: boolean };
try {
  args = parseArgs({
    options: {
      config: { type: 'string' },
      demo: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  }).values;
} catch (error) {
  process.stderr.write(`dragon-core: ${(error as Error).message}\n\n${usage}`);
  process.exit(2);
}
if (args.help) {
  process.stdout.write(usage);
  process.exit(0);
}

const configFile =
  args.config ?? process.env.CORE_CONFIGFILE ?? join(process.env.CORE_DB_DIR ?? './config', 'config.json');
let configStore: ConfigStore;
try {
  configStore = new ConfigStore(configFile);
} catch (error) {
  if (error instanceof ConfigInvalidError || error instanceof DirectoryUnsafeError)
    fail(`the configuration (${configFile}) is invalid:`, error.details);
  throw error;
}

// Made once for the process, so `log.max_lines` is read at start, as datarhei reads it.
const logRing = new LogRing({ maxLines: configStore.config.log.max_lines });
const logger = pino(
  { level: configStore.config.log.level, base: { app: 'dragon-core' } },
  logRing.destination(process.stdout),
);
try {
  await configStore.persistGenerated();
} catch (error) {
  logger.warn(
    { err: error, file: configFile },
    'could not write the generated id and secrets to the config file: they change with every start',
  );
}

/** Failures at boot a user can fix: one line each, no stack trace. */
const bootFailures = new Set(['FFMPEG_UNAVAILABLE', 'STORE_CORRUPT', 'UDP_MUX', 'INGEST_LISTEN']);

/** A boot failure's message, with the reason a socket could not listen when the message lacks it. */
function bootFailureLine(error: Error): string {
  const reason = listenFailureReason(error);
  return reason && !error.message.includes(reason) ? `${error.message}: ${reason}` : error.message;
}

// The data plane's threads start before anything else can open a source: they are raised where the
// process may (webrtc.data_plane_nice), and, only if the operator opted in, the rest of the process
// is lowered. The processes restored at boot start once that is done: FFmpeg inherits its
// starter's priority.
if (configStore.config.webrtc.enable) {
  const { data_plane_nice, control_plane_nice, control_plane_idle } = configStore.config.webrtc;
  const plane = FanoutPlane.shared({
    dataPlaneNice: data_plane_nice,
    controlNice: control_plane_nice,
    controlIdle: control_plane_idle,
  });
  logDataPlane(logger, plane);
  const priority = await plane.prioritized;
  const line = dataPlanePriorityLine(priority, {
    nice: getPriority(),
    controlNice: control_plane_nice,
    controlIdle: control_plane_idle,
  });
  logger[line.level]({ dataPlane: priority }, line.message);
}

let runtime: Runtime;
try {
  runtime = await Runtime.start({
    configStore,
    logger,
    logRing,
    onFatal: (error) => {
      logger.fatal({ err: error }, 'a config reload failed and the last good config could not be restored');
      logger.flush();
      process.exit(1);
    },
  });
} catch (error) {
  const code = (error as { code?: string }).code;
  if (error instanceof ListenError) fail(error.message);
  if (code && bootFailures.has(code)) fail(bootFailureLine(error as Error));
  throw error;
}
if (args.demo) await ensureDemoProcess(runtime.core.manager, logger);

let shuttingDown = false;
async function shutdown(signal: string): Promise<void> {
  if (shuttingDown) return;
  shuttingDown = true;
  logger.info({ signal }, 'shutting down');
  const forceExit = setTimeout(() => process.exit(1), 15_000);
  forceExit.unref();
  await runtime.close();
  logger.flush();
  process.exit(0);
}
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => void shutdown(signal));
