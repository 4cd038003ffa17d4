import type { FanoutPlane, FanoutWorkerDiedError, WorkerRestart } from '@dragon/webrtc';
import type { Logger } from 'pino';

/**
 * Logs the data plane's worker deaths and restarts while the caller is open; returns what stops
 * it. The plane is shared by every subsystem of the process, so each unsubscribes its own.
 */
export function logPlaneWorkers(plane: FanoutPlane, logger: Logger): () => void {
  const workerDied = (error: FanoutWorkerDiedError, restartInMs: number) =>
    logger.error(
      { err: error, shard: error.shard, restartInMs },
      'a media data-plane worker died: its sources and viewers go to a new one',
    );
  const workerRestarted = ({ shard, sources, viewers, priority }: WorkerRestart) =>
    logger.warn(
      { shard, sources, viewers, nice: priority.nice },
      'media data-plane worker restarted with its sources and viewers',
    );
  plane.on('workerDied', workerDied);
  plane.on('workerRestarted', workerRestarted);
  return () => {
    plane.off('workerDied', workerDied);
    plane.off('workerRestarted', workerRestarted);
  };
}
