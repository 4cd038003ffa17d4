// Entry point of a data-plane worker thread (bundled as dist/fanout-worker.js): one Shard with the
// native backend, driven by the plane's commands (shard-protocol.ts).
import { parentPort } from 'node:worker_threads';
import { loadNativeAddon } from './native-addon.js';
import { NativeOutputBackend } from './native-output.js';
import type { OutputTarget } from './output.js';
import { Shard } from './shard.js';
import { applyCommand, type ShardCommand, type ShardEvent } from './shard-protocol.js';
import { kernelThreadId } from './thread-priority.js';

const port = parentPort;
if (!port) throw new Error('fanout-worker runs as a worker thread of @dragon/webrtc');

const native = loadNativeAddon();
if ('error' in native) {
  port.postMessage({ type: 'failed', message: native.error } satisfies ShardEvent);
} else {
  // 100 µs, the shortest slice the kernel grants: what a frame's fan-out takes at tens of viewers.
  native.addon.shortenSlice(100_000);
  const shard = new Shard(new NativeOutputBackend(native.addon));
  // ICE-TCP and TURN viewers: protected here, written by werift in the plane's thread.
  const relay = (viewerKey: number): OutputTarget => ({
    type: 'writer',
    write: (packet) => port.postMessage({ type: 'relay', viewerKey, packet } satisfies ShardEvent),
  });
  port.on('message', (command: ShardCommand) => {
    applyCommand(shard, command, relay);
    if (command.type === 'close') port.postMessage({ type: 'closed' } satisfies ShardEvent);
  });
  port.postMessage({ type: 'ready', threadId: kernelThreadId() } satisfies ShardEvent);
}
