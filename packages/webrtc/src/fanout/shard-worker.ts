// Entry point of a data-plane worker thread (bundled as dist/fanout-worker.js): one Shard with the
// native backend, driven by the plane's messages. Messages come only from this package's own
// FanoutPlane in the parent thread, so they are typed, not parsed.
import { parentPort } from 'node:worker_threads';
import type { TrackKind } from '../ingest/track-ingest.js';
import { loadNativeAddon } from './native-addon.js';
import { NativeOutputBackend } from './native-output.js';
import type { OutputTarget } from './output.js';
import { Shard, type ShardSourceSpec, type ShardViewerSpec } from './shard.js';

/** An output target as it crosses threads: a writer stays in the parent, which relays to it. */
export type WireTarget = Exclude<OutputTarget, { type: 'writer' }> | { type: 'relay' };

export type ShardCommand =
  | { type: 'openSource'; spec: ShardSourceSpec }
  | { type: 'closeSource'; sourceKey: number }
  | { type: 'addViewer'; spec: Omit<ShardViewerSpec, 'target'>; target: WireTarget }
  | { type: 'updateTarget'; viewerKey: number; target: WireTarget }
  | { type: 'removeViewer'; viewerKey: number }
  | { type: 'nack'; viewerKey: number; kind: TrackKind; sequenceNumbers: number[] }
  | { type: 'registerSocket'; id: number; fd: number }
  | { type: 'forgetSocket'; id: number }
  | { type: 'close' };

export type ShardEvent =
  | { type: 'relay'; viewerKey: number; packet: Uint8Array }
  | { type: 'closed' }
  | { type: 'failed'; message: string };

const port = parentPort;
if (!port) throw new Error('fanout-worker runs as a worker thread of @dragon/webrtc');

const native = loadNativeAddon();
if ('error' in native) {
  port.postMessage({ type: 'failed', message: native.error } satisfies ShardEvent);
} else {
  const shard = new Shard(new NativeOutputBackend(native.addon));
  const targetOf = (viewerKey: number, target: WireTarget): OutputTarget =>
    target.type === 'relay'
      ? {
          type: 'writer',
          write: (packet) => port.postMessage({ type: 'relay', viewerKey, packet } satisfies ShardEvent),
        }
      : target;
  port.on('message', (command: ShardCommand) => {
    switch (command.type) {
      case 'openSource':
        return shard.openSource(command.spec);
      case 'closeSource':
        return shard.closeSource(command.sourceKey);
      case 'addViewer':
        return shard.addViewer({
          ...command.spec,
          target: targetOf(command.spec.viewerKey, command.target),
        });
      case 'updateTarget':
        return shard.updateTarget(command.viewerKey, targetOf(command.viewerKey, command.target));
      case 'removeViewer':
        return shard.removeViewer(command.viewerKey);
      case 'nack':
        return shard.nack(command.viewerKey, command.kind, command.sequenceNumbers);
      case 'registerSocket':
        return shard.registerSocket(command.id, { fd: command.fd });
      case 'forgetSocket':
        return shard.forgetSocket(command.id);
      case 'close':
        shard.close();
        port.postMessage({ type: 'closed' } satisfies ShardEvent);
        return;
    }
  });
}
