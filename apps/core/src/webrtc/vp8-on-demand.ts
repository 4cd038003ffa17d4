import { type ChildProcess, spawn } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { legToArgs, type RenditionPlan, vp8OnDemandLeg, type WebRtcConfig } from '@dragon/ffmpeg-args';
import type { RtpSource, VideoCodec } from '@dragon/webrtc';
import type { Logger } from 'pino';

export interface Vp8OnDemandOptions {
  processId: string;
  source: RtpSource;
  /** The plan's VP8 rendition (action `on-demand`): size, bitrate, estimated cores. */
  rendition: RenditionPlan;
  /** The source's VP8 track port: where the encode goes. */
  port: number;
  webrtc: Pick<WebRtcConfig, 'video_pt' | 'audio_pt'>;
  /** Where the process's top picture is read from (the loopback feed). */
  inputUrl: string;
  ffmpegBinary: string;
  env?: Record<string, string>;
  logger: Logger;
  /** A line in the process's log. */
  note: (line: string) => void;
  /** How long the encode outlives its last viewer (one who reloads the page finds it running). @default 15000 */
  lingerMs?: number;
  /** The FFmpeg child; a real one unless a test gives another. */
  spawnFfmpeg?: (binary: string, args: string[], env: Record<string, string> | undefined) => ChildProcess;
}

/**
 * The owner of a source's VP8 made on demand, on the source's last track (see `sourceRenditions`);
 * undefined when the source has no port for it.
 */
export function vp8OnDemandOf(
  entry: { source: RtpSource; ports: { renditions: readonly { port: number }[] } },
  rendition: RenditionPlan,
  webrtc: Vp8OnDemandOptions['webrtc'],
  options: Pick<Vp8OnDemandOptions, 'processId' | 'inputUrl' | 'ffmpegBinary' | 'logger' | 'note'> & {
    probeEnvironment?: Record<string, string>;
    vp8LingerMs?: number;
  },
): Vp8OnDemand | undefined {
  const port = entry.ports.renditions.at(-1)?.port;
  if (port === undefined) return undefined;
  return new Vp8OnDemand({
    processId: options.processId,
    source: entry.source,
    rendition,
    port,
    webrtc,
    inputUrl: options.inputUrl,
    ffmpegBinary: options.ffmpegBinary,
    logger: options.logger,
    note: options.note,
    ...(options.probeEnvironment ? { env: options.probeEnvironment } : {}),
    ...(options.vp8LingerMs === undefined ? {} : { lingerMs: options.vp8LingerMs }),
  });
}

/** The first restart after a crash waits this long, doubling to {@link maxBackoffMs}. */
const firstBackoffMs = 1000;
const maxBackoffMs = 10_000;

const defaultSpawn = (binary: string, args: string[], env: Record<string, string> | undefined) =>
  spawn(binary, args, { stdio: ['ignore', 'ignore', 'pipe'], ...(env ? { env } : {}) });

/**
 * The VP8 rendition of one process made on demand: a second FFmpeg that reads the process's top
 * picture from the loopback feed and encodes VP8 into the source's VP8 track, running while at
 * least one viewer negotiated VP8 (a browser without H.264) and for `lingerMs` after the last one
 * left. An FFmpeg that exits while viewers wait is started again with a backoff (`exited` tells
 * each time). `close()` stops it for good; safe to call twice.
 */
export class Vp8OnDemand extends EventEmitter<{ started: []; exited: [code: number | null]; stopped: [] }> {
  readonly #options: Vp8OnDemandOptions;
  #child: ChildProcess | undefined;
  #linger: NodeJS.Timeout | undefined;
  #restart: NodeJS.Timeout | undefined;
  #backoffMs = firstBackoffMs;
  #closed = false;
  #startedAt: number | undefined;

  constructor(options: Vp8OnDemandOptions) {
    super();
    this.#options = options;
    options.source.on('demand', this.#onDemand);
    if (options.source.viewersOf('vp8') > 0) this.#start();
  }

  /** The encode runs now. */
  get running(): boolean {
    return this.#child !== undefined;
  }

  /** For the process's state: whether it runs, for how many viewers, at what estimated cost. */
  state(): { running: boolean; viewers: number; estimated_cpu: number; running_seconds?: number } {
    return {
      running: this.running,
      viewers: this.#options.source.viewersOf('vp8'),
      estimated_cpu: this.#options.rendition.estimated_cpu,
      ...(this.#startedAt === undefined
        ? {}
        : { running_seconds: Math.round((Date.now() - this.#startedAt) / 1000) }),
    };
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#options.source.off('demand', this.#onDemand);
    clearTimeout(this.#linger);
    clearTimeout(this.#restart);
    this.#stop('closed');
  }

  readonly #onDemand = (codec: VideoCodec, viewers: number): void => {
    if (codec !== 'vp8' || this.#closed) return;
    if (viewers > 0) {
      clearTimeout(this.#linger);
      this.#linger = undefined;
      if (!this.#child && !this.#restart) this.#start();
      return;
    }
    if (this.#linger) return;
    this.#linger = setTimeout(() => {
      this.#linger = undefined;
      clearTimeout(this.#restart);
      this.#restart = undefined;
      this.#stop('no VP8 viewer left');
    }, this.#options.lingerMs ?? 15_000);
    this.#linger.unref();
  };

  #start(): void {
    const { processId, rendition, logger } = this.#options;
    const leg = vp8OnDemandLeg({ rendition, webrtc: this.#options.webrtc, port: this.#options.port });
    const args = [
      ...['-hide_banner', '-nostdin', '-loglevel', 'error'],
      ...['-rtsp_transport', 'tcp', '-i', this.#options.inputUrl],
      ...legToArgs(leg),
    ];
    const child = (this.#options.spawnFfmpeg ?? defaultSpawn)(
      this.#options.ffmpegBinary,
      args,
      this.#options.env,
    );
    this.#child = child;
    this.#startedAt = Date.now();
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => {
      // The last lines say why it ended; the feed's token stays out of them (it is in the input URL only).
      stderr = (stderr + chunk.toString()).slice(-2000);
    });
    child.once('error', (error) =>
      logger.error({ processId, err: error }, 'VP8 on demand: FFmpeg did not start'),
    );
    child.once('exit', (code) => this.#exited(child, code, stderr));
    const cores = rendition.estimated_cpu;
    this.#options.note(
      `webrtc: VP8 ${rendition.id} on demand started for a viewer without H.264 (about ${cores} cores)`,
    );
    logger.info({ processId, rendition: rendition.id, estimatedCpu: cores }, 'VP8 on demand started');
    this.emit('started');
  }

  #exited(child: ChildProcess, code: number | null, stderr: string): void {
    if (this.#child !== child) return;
    this.#child = undefined;
    this.#startedAt = undefined;
    this.emit('exited', code);
    if (this.#closed || this.#options.source.viewersOf('vp8') === 0) return;
    const { processId, logger } = this.#options;
    const reason = stderr.trim().split('\n').at(-1) ?? '';
    logger.warn(
      { processId, exitCode: code, reason, restartInMs: this.#backoffMs },
      'VP8 on demand: FFmpeg exited',
    );
    this.#options.note(`webrtc: VP8 on demand exited (${code}); again in ${this.#backoffMs / 1000} s`);
    this.#restart = setTimeout(() => {
      this.#restart = undefined;
      if (!this.#closed && this.#options.source.viewersOf('vp8') > 0) this.#start();
    }, this.#backoffMs);
    this.#restart.unref();
    this.#backoffMs = Math.min(this.#backoffMs * 2, maxBackoffMs);
  }

  #stop(why: string): void {
    const child = this.#child;
    if (!child) return;
    this.#child = undefined;
    this.#startedAt = undefined;
    this.#backoffMs = firstBackoffMs;
    child.kill('SIGTERM');
    const kill = setTimeout(() => child.kill('SIGKILL'), 3000);
    kill.unref();
    child.once('exit', () => clearTimeout(kill));
    this.#options.note(`webrtc: VP8 on demand stopped (${why})`);
    this.#options.logger.info({ processId: this.#options.processId, why }, 'VP8 on demand stopped');
    this.emit('stopped');
  }
}
