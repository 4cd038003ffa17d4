import { buildWebRtcLegs, type WebRtcConfig } from '@dragon/ffmpeg-args';
import type { PortAllocator, RtpPortPair } from '@dragon/portalloc';
import type { ProcessHooks, StartContext, StopContext } from '@dragon/restream';
import { RtpSource } from '@dragon/webrtc';
import type { Logger } from 'pino';

interface SourceEntry {
  source: RtpSource;
  ports: RtpPortPair;
  /** The `webrtc` block the source was opened for; a change means new sockets and legs. */
  webrtc: string;
}

export interface WebRtcSubsystemOptions {
  ports: PortAllocator;
  logger: Logger;
  /** Called when a process's source goes away for good, so its viewers' sessions are dropped. */
  onSourceClosed?: (processId: string) => void;
}

/**
 * Connects the process manager to the WebRTC engine through restream's hooks, given to
 * `ProcessManager.create({ hooks: subsystem.hooks })`. A process's source lives from its start
 * until the manager says the process is not coming back (stop, remove, rename, shutdown, an exit
 * without reconnect) or its `webrtc` block changes — so viewers keep watching across FFmpeg
 * crashes, reconnects, restarts and config updates.
 */
export class WebRtcSubsystem {
  readonly hooks: ProcessHooks = {
    onStart: (context) => this.#onStart(context),
    onStop: (context) => this.#onStop(context),
  };
  readonly #entries = new Map<string, SourceEntry>();
  readonly #options: WebRtcSubsystemOptions;

  constructor(options: WebRtcSubsystemOptions) {
    this.#options = options;
  }

  source(processId: string): RtpSource | undefined {
    return this.#entries.get(processId)?.source;
  }

  async close(): Promise<void> {
    for (const id of [...this.#entries.keys()]) this.#teardown(id, 'shutdown');
  }

  async #onStart(context: StartContext): Promise<void> {
    const { id } = context;
    const webrtc = context.config.webrtc as WebRtcConfig | undefined;
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
      context.appendOutput({ id: `webrtc_${leg.kind}`, address: leg.address, options: [...leg.options] });
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

  #onStop(context: StopContext): void {
    // The manager knows whether it starts the process again (restart, reload, update, reconnect):
    // if it does, the source and its viewers stay for the next run.
    if (!context.comingBack) this.#teardown(context.id, `process ${context.reason}`);
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
