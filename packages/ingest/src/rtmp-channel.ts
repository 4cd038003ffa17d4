import type { Socket } from 'node:net';
import type { RtmpMessage } from './rtmp-chunk-reader.js';
import { type MediaKind, playerMessage } from './rtmp-media.js';

/** Cached messages a late player needs before live packets: bounded, a GOP can be long. */
const maxGopMessages = 4096;

export interface RtmpChannelOptions {
  /** Bytes the GOP cache may hold. */
  maxGopBytes: number;
  /** A player whose socket buffers more than this is too slow to follow and is dropped. */
  maxPlayerBufferBytes: number;
  /** Bytes sent to a counted player (its session id). */
  egress(sessionId: string, bytes: number): void;
  /** A player was dropped for being too slow. */
  droppedSlowPlayer(): void;
}

/**
 * One published stream: its players, and what a player that joins late gets first
 * (metadata, the audio and video sequence headers, the GOP since the last keyframe). Each published
 * message is written as chunks once and sent to every player.
 */
export class RtmpChannel {
  /** Each player with its session id when it is counted. */
  readonly players = new Map<Socket, string | undefined>();
  #metadata: Buffer | undefined;
  #audioHeader: Buffer | undefined;
  #videoHeader: Buffer | undefined;
  #gop: Buffer[] = [];
  #gopBytes = 0;

  constructor(
    readonly path: string,
    readonly reference: string,
    private readonly options: RtmpChannelOptions,
  ) {}

  /** Sends `player` what the stream has cached, then every message from now on. */
  join(player: Socket, sessionId: string | undefined): void {
    for (const buffer of [this.#metadata, this.#audioHeader, this.#videoHeader, ...this.#gop]) {
      if (buffer) player.write(buffer);
    }
    this.players.set(player, sessionId);
  }

  relay(message: RtmpMessage, kind: MediaKind): void {
    const bytes = playerMessage(message);
    switch (kind) {
      case 'audio-header':
        this.#audioHeader = bytes;
        break;
      case 'video-header':
        this.#videoHeader = bytes;
        break;
      case 'metadata':
        this.#metadata = bytes;
        break;
      case 'keyframe':
        this.#gop = [bytes];
        this.#gopBytes = bytes.length;
        break;
      default:
        // Audio before the first keyframe is useless to a late player; after it, it belongs to the GOP.
        if (
          this.#gop.length > 0 &&
          this.#gop.length < maxGopMessages &&
          this.#gopBytes + bytes.length <= this.options.maxGopBytes
        ) {
          this.#gop.push(bytes);
          this.#gopBytes += bytes.length;
        }
    }
    for (const [player, sessionId] of this.players) {
      if (player.writableLength > this.options.maxPlayerBufferBytes) {
        this.options.droppedSlowPlayer();
        player.destroy();
        continue;
      }
      player.write(bytes);
      if (sessionId) this.options.egress(sessionId, bytes.length);
    }
  }
}
