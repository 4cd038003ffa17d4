import type { TrackKind } from '../ingest/track-ingest.js';
import type { OutputTarget, SocketHandle } from './output.js';
import type { RenditionPin, Shard, ShardSourceSpec, ShardViewerSpec } from './shard.js';

/**
 * What the plane tells a shard, the same whether the shard runs in the plane's thread (the command
 * is applied directly) or in a worker (it is posted; `relay` then stands for a writer that stays in
 * the plane's thread, and sockets travel as descriptors). Commands come only from this package's
 * own FanoutPlane, so they are typed, not parsed.
 */
export type ShardTarget = OutputTarget | { type: 'relay' };

export type ShardCommand =
  | { type: 'openSource'; spec: ShardSourceSpec }
  | { type: 'closeSource'; sourceKey: number }
  | { type: 'addViewer'; spec: Omit<ShardViewerSpec, 'target'>; target: ShardTarget }
  | { type: 'updateTarget'; viewerKey: number; target: ShardTarget }
  | { type: 'removeViewer'; viewerKey: number }
  | { type: 'nack'; viewerKey: number; kind: TrackKind; sequenceNumbers: number[] }
  | { type: 'pinRendition'; viewerKey: number; rendition: RenditionPin }
  | { type: 'feedback'; items: FeedbackItem[] }
  | { type: 'registerSocket'; id: number; handle: SocketHandle }
  | { type: 'forgetSocket'; id: number }
  | { type: 'close' };

/**
 * What adaptive viewers reported, batched per shard (at most one command per 20 ms): a REMB's
 * bit rate, or a transport-wide feedback packet (decrypted RTCP).
 */
export type FeedbackItem = { viewerKey: number; rembBps: number } | { viewerKey: number; rtcp: Uint8Array };

/** What a worker shard tells the plane. */
export type ShardEvent =
  | { type: 'relay'; viewerKey: number; packet: Uint8Array }
  | { type: 'closed' }
  | { type: 'failed'; message: string }
  /** The worker runs; `threadId` is the kernel's id of its thread (Linux), for its priority. */
  | { type: 'ready'; threadId: number | undefined };

/** Applies a command to a shard; `relay` makes the writer for a viewer whose target is `relay`. */
export function applyCommand(
  shard: Shard,
  command: ShardCommand,
  relay: (viewerKey: number) => OutputTarget,
): void {
  const target = (viewerKey: number, wire: ShardTarget): OutputTarget =>
    wire.type === 'relay' ? relay(viewerKey) : wire;
  switch (command.type) {
    case 'openSource':
      shard.openSource(command.spec);
      return;
    case 'closeSource':
      shard.closeSource(command.sourceKey);
      return;
    case 'addViewer':
      shard.addViewer({ ...command.spec, target: target(command.spec.viewerKey, command.target) });
      return;
    case 'updateTarget':
      shard.updateTarget(command.viewerKey, target(command.viewerKey, command.target));
      return;
    case 'removeViewer':
      shard.removeViewer(command.viewerKey);
      return;
    case 'nack':
      shard.nack(command.viewerKey, command.kind, command.sequenceNumbers);
      return;
    case 'pinRendition':
      shard.pinRendition(command.viewerKey, command.rendition);
      return;
    case 'feedback':
      for (const item of command.items) {
        if ('rtcp' in item) shard.feedback(item.viewerKey, item.rtcp);
        else shard.receiverEstimate(item.viewerKey, item.rembBps);
      }
      return;
    case 'registerSocket':
      shard.registerSocket(command.id, command.handle);
      return;
    case 'forgetSocket':
      shard.forgetSocket(command.id);
      return;
    case 'close':
      shard.close();
      return;
  }
}
