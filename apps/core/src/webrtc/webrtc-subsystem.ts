import { buildWebRtcLegs, type WebRtcConfig } from '@dragon/ffmpeg-args';
import type { PortAllocator, RtpPortPair } from '@dragon/portalloc';
import type { ProcessConfig, ProcessManager } from '@dragon/restream';
import { RtpSource } from '@dragon/webrtc';
import type { Logger } from 'pino';

interface SourceEntry {
  source: RtpSource;
  ports: RtpPortPair;
  /** The `webrtc` block the source was opened for; a change means new sockets and legs. */
  webrtc: string;
}

export interface WebRtcSubsystemOptions {
  manager: ProcessManager;
  ports: PortAllocator;
  logger: Logger;
  /** Called when a process's source goes away for good, so its viewers' sessions are dropped. */
  onSourceClosed?: (processId: string) => void;
}

/**
 * Connects the process manager to the WebRTC engine through restream's hooks. A process's Source
 * lives from its start until it is stopped, removed, or its `webrtc` block changes — not just one
 * FFmpeg run — so viewers keep watching across FFmpeg crashes and reconnects.
 */
export class WebRtcSubsystem {
  readonly #entries = new Map<string, SourceEntry>();
  readonly #options: WebRtcSubsystemOptions;

  constructor(options: WebRtcSubsystemOptions) {
    this.#options = options;
  }

  install(): void {
    const manager = this.#options.manager;
    manager.setHooks({
      onStart: (id, config) => this.#onStart(id, config),
      onStop: (id) => this.#onStop(id),
    });
    // A process stopped or removed while FFmpeg is not running (failed, waiting to reconnect) has no
    // exit to wait for: its source goes now.
    manager.on('order', (id, order) => {
      if (order === 'stop' && manager.getState(id).exec !== 'running') this.#teardown(id, 'process stopped');
    });
    manager.on('removed', (id) => this.#teardown(id, 'process removed'));
  }

  source(processId: string): RtpSource | undefined {
    return this.#entries.get(processId)?.source;
  }

  async close(): Promise<void> {
    for (const id of [...this.#entries.keys()]) this.#teardown(id, 'shutdown');
  }

  async #onStart(id: string, config: ProcessConfig): Promise<void> {
    const webrtc = config.webrtc as WebRtcConfig | undefined;
    const existing = this.#entries.get(id);
    if (!webrtc?.enabled) {
      if (existing) this.#teardown(id, 'webrtc disabled');
      return;
    }
    const fingerprint = JSON.stringify(webrtc);
    if (existing && existing.webrtc !== fingerprint) this.#teardown(id, 'webrtc config changed');
    const entry = this.#entries.get(id) ?? (await this.#open(id, webrtc, fingerprint));
    const legs = buildWebRtcLegs({
      webrtc,
      videoPort: entry.ports.video.port,
      audioPort: entry.ports.audio.port,
    });
    for (const leg of legs) {
      this.#options.manager.appendOutput(id, {
        id: `webrtc_${leg.kind}`,
        address: leg.address,
        options: [...leg.options],
      });
    }
  }

  async #open(id: string, webrtc: WebRtcConfig, fingerprint: string): Promise<SourceEntry> {
    const ports = await this.#options.ports.allocateRtpPair();
    try {
      const source = await RtpSource.open({
        id,
        video: { socket: ports.video.takeSocket(), payloadType: webrtc.video_pt },
        ...(webrtc.audio
          ? { audio: { socket: ports.audio.takeSocket(), payloadType: webrtc.audio_pt } }
          : {}),
      });
      const entry = { source, ports, webrtc: fingerprint };
      this.#entries.set(id, entry);
      this.#options.logger.info({ processId: id, videoPort: ports.video.port }, 'webrtc source opened');
      return entry;
    } catch (error) {
      ports.release();
      throw error;
    }
  }

  #onStop(id: string): void {
    // A process that will come back (reconnect) keeps its source and viewers; a stopped or removed one does not.
    const manager = this.#options.manager;
    const comingBack =
      manager.has(id) && manager.getState(id).order === 'start' && manager.getConfig(id).reconnect;
    if (!comingBack) this.#teardown(id, 'process stopped');
  }

  #teardown(id: string, reason: string): void {
    const entry = this.#entries.get(id);
    if (!entry) return;
    this.#entries.delete(id);
    this.#options.onSourceClosed?.(id);
    entry.source.close();
    entry.ports.release();
    this.#options.logger.info({ processId: id, reason }, 'webrtc source closed');
  }
}
