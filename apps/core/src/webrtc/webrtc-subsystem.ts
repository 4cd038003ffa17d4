import {
  buildWebRtcLegs,
  type MediaPlan,
  type PlanSettings,
  probeInput,
  producedRenditions,
  type RenditionPlan,
  type TrackPlan,
  vp8PayloadType,
  type WebRtcConfig,
} from '@dragon/ffmpeg-args';
import type { PortAllocator, RtpPortSet } from '@dragon/portalloc';
import type { ProcessHooks, StartContext, StopContext } from '@dragon/restream';
import {
  FanoutPlane,
  type FanoutPlaneEvents,
  type FanoutWorkerDiedError,
  RtpSource,
  type WorkerRestart,
} from '@dragon/webrtc';
import type { Logger } from 'pino';
import { type CostCalibration, EncodeCalibration } from './encode-calibration.js';
import { MediaPlanner, type ProbeInput } from './media-planner.js';
import { isWarning, judgeVideo, type RunPace, readsInRealTime, type VideoVerdict } from './video-health.js';
import type { ProcessWebRtc, WebRtcPolicy } from './webrtc-policy.js';
import type { WebRtcHealth, WebRtcState } from './webrtc-status.js';

type SourceHealth = ReturnType<RtpSource['health']>['video'];

/** One start of a process as the WebRTC side sees it: its plan, and what its legs delivered. */
interface Run {
  readonly context: StartContext;
  readonly webrtc: WebRtcConfig;
  readonly origin: ProcessWebRtc['origin'];
  /** What the plan was made with (the budget of an auto-enabled start included): its checks use the same. */
  readonly settings: PlanSettings;
  readonly plan: MediaPlan;
  readonly plannedAt: number;
  /** The input comes at its own pace: FFmpeg's speed should be about 1. */
  readonly realTime: boolean;
  /** The source's counters when the run started: the run's own are the difference. */
  readonly baseline: { video: SourceHealth; audioPackets: number };
  firstVideoAt: number | undefined;
  verdict: VideoVerdict;
  /** FFmpeg of this run has exited; the next start makes a new run. */
  ended: boolean;
}

interface SourceEntry {
  source: RtpSource;
  ports: RtpPortSet;
  /** The `webrtc` block the source was opened for; a change means new sockets and legs. */
  webrtc: string;
  /** The renditions it has ports for (`480p,360p`), one leg each; another ladder means new sockets. */
  renditions: string;
  run: Run | undefined;
}

export interface WebRtcSubsystemOptions {
  ports: PortAllocator;
  logger: Logger;
  /** Which processes send WebRTC with which settings, and the CPU an auto-enabled one may take. */
  policy: WebRtcPolicy;
  /**
   * The data plane the processes' sources go to; its worker deaths and restarts are logged here
   * while the subsystem is open. @default FanoutPlane.shared()
   */
  plane?: FanoutPlane;
  /** The FFmpeg the processes run; ffprobe is taken from beside it. */
  ffmpegBinary: string;
  /** ffprobe's environment and working directory: the ones FFmpeg gets. */
  probeEnvironment?: Record<string, string>;
  probeCwd?: string;
  /**
   * How long probing one input may take. A live input needs FFmpeg's analysis time (5 s) plus
   * connecting. @default 10000
   */
  probeTimeoutMs?: number;
  /** The probe itself; a real ffprobe unless a test gives another. */
  probe?: ProbeInput;
  /**
   * This machine's factor for the renditions' CPU estimates, measured once when a ladder is first
   * planned. @default an `EncodeCalibration` of `ffmpegBinary`
   */
  calibration?: CostCalibration;
  /** How often the legs' health is judged. @default 1000 */
  healthIntervalMs?: number;
  /** Called when a process's source goes away for good, so its viewers' sessions are dropped. */
  onSourceClosed?: (processId: string) => void;
}

/**
 * Connects the process manager to the WebRTC engine through restream's hooks, given to
 * `ProcessManager.create({ hooks: subsystem.hooks })`. At every start it decides the media plan
 * (probe, or the banner of the previous run) and adds the legs that plan calls for; when FFmpeg's
 * own banner shows the plan cannot work, or a copied leg turns out to carry B-frames, it asks for
 * another start. A process's source lives from its start until the manager says the process is
 * not coming back (stop, remove, rename, shutdown, an exit without reconnect) or its `webrtc`
 * block changes — so viewers keep watching across FFmpeg crashes, reconnects, restarts and updates.
 */
export class WebRtcSubsystem {
  readonly hooks: ProcessHooks = {
    onStart: (context) => this.#onStart(context),
    onStop: (context) => this.#onStop(context),
  };
  readonly #entries = new Map<string, SourceEntry>();
  readonly #options: WebRtcSubsystemOptions;
  readonly #planner: MediaPlanner;
  readonly #calibration: CostCalibration;
  /** The calibration's note went to the log (once per server, not per start). */
  #calibrationLogged = false;
  readonly #timer: NodeJS.Timeout;
  readonly #plane: FanoutPlane;
  readonly #planeEvents: { [K in keyof FanoutPlaneEvents]: (...args: FanoutPlaneEvents[K]) => void };

  constructor(options: WebRtcSubsystemOptions) {
    this.#options = options;
    this.#plane = options.plane ?? FanoutPlane.shared();
    const logger = options.logger;
    this.#planeEvents = {
      workerDied: (error: FanoutWorkerDiedError, restartInMs: number) =>
        logger.error(
          { err: error, shard: error.shard, restartInMs },
          'a media data-plane worker died: its sources and viewers go to a new one',
        ),
      workerRestarted: ({ shard, sources, viewers, priority }: WorkerRestart) =>
        logger.warn(
          { shard, sources, viewers, nice: priority.nice },
          'media data-plane worker restarted with its sources and viewers',
        ),
    };
    this.#plane.on('workerDied', this.#planeEvents.workerDied);
    this.#plane.on('workerRestarted', this.#planeEvents.workerRestarted);
    const timeoutMs = options.probeTimeoutMs ?? 10_000;
    this.#planner = new MediaPlanner(
      options.probe ??
        ((input, signal) =>
          probeInput(input, {
            ffmpegBinary: options.ffmpegBinary,
            timeoutMs,
            signal,
            ...(options.probeEnvironment ? { env: options.probeEnvironment } : {}),
            ...(options.probeCwd ? { cwd: options.probeCwd } : {}),
          })),
    );
    this.#calibration =
      options.calibration ??
      new EncodeCalibration({
        ffmpegBinary: options.ffmpegBinary,
        ...(options.probeEnvironment ? { env: options.probeEnvironment } : {}),
        ...(options.probeCwd ? { cwd: options.probeCwd } : {}),
      });
    this.#timer = setInterval(() => this.#checkHealth(Date.now()), options.healthIntervalMs ?? 1000);
    this.#timer.unref();
  }

  /** The data plane the sources go to (its figures are in the metrics). */
  get plane(): FanoutPlane {
    return this.#plane;
  }

  source(processId: string): RtpSource | undefined {
    return this.#entries.get(processId)?.source;
  }

  /** The latest start's plan and its legs' health, for the process's state; none without a source. */
  status(processId: string): WebRtcState | undefined {
    const entry = this.#entries.get(processId);
    const run = entry?.run;
    if (!entry || !run) return undefined;
    return {
      enabled_by: run.origin === 'auto' ? 'auto_enable' : 'config',
      player: playerPath(processId),
      plan: run.plan,
      planned_at: Math.floor(run.plannedAt / 1000),
      health: this.#health(entry, run),
    };
  }

  async close(): Promise<void> {
    clearInterval(this.#timer);
    this.#plane.off('workerDied', this.#planeEvents.workerDied);
    this.#plane.off('workerRestarted', this.#planeEvents.workerRestarted);
    for (const id of [...this.#entries.keys()]) this.#teardown(id, 'shutdown');
  }

  async #onStart(context: StartContext): Promise<void> {
    const { id } = context;
    const existing = this.#entries.get(id);
    const resolved = this.#options.policy.of(id, context.config);
    if (!resolved) {
      if (existing) this.#teardown(id, 'webrtc disabled');
      return;
    }
    const { config: webrtc, origin } = resolved;
    const fingerprint = JSON.stringify(webrtc);
    if (existing && existing.webrtc !== fingerprint) this.#teardown(id, 'webrtc config changed');
    const ladderSpent = this.#ladderSpent(id);
    // Timed once, the first time a ladder is planned; processes without one never wait for it.
    const calibration =
      webrtc.renditions !== 'off' || webrtc.vp8 === 'always' ? await this.#calibration.get() : undefined;
    if (calibration && !this.#calibrationLogged) {
      this.#calibrationLogged = true;
      this.#options.logger.info({ factor: calibration.factor }, calibration.note);
    }
    const settings: PlanSettings = {
      ...webrtc,
      // A process that did not ask for WebRTC gets no transcode the budget and the machine cannot take.
      ...(origin === 'auto' ? { cpu_budget: this.#options.policy.budget(this.#autoSpent(id)) } : {}),
      rendition_budget: this.#options.policy.renditionBudget(ladderSpent.cores, ladderSpent.processes),
      ...(calibration ? { rendition_cost_factor: calibration.factor } : {}),
    };
    const { plan, notes } = await this.#planner.plan(id, context.expanded.input, settings, context.signal);
    const renditions = producedRenditions(plan);
    const current = this.#entries.get(id);
    if (current && current.renditions !== renditionKey(renditions)) this.#teardown(id, 'renditions changed');
    const entry = this.#entries.get(id) ?? (await this.#open(id, webrtc, fingerprint, renditions));
    const legs = buildWebRtcLegs({
      webrtc,
      plan,
      videoPort: entry.ports.video.port,
      audioPort: entry.ports.audio.port,
      renditionPorts: entry.ports.renditions.map((leased) => leased.port),
    });
    for (const leg of legs) {
      const legId = leg.rendition ? `webrtc_video_${leg.rendition}` : `webrtc_${leg.kind}`;
      context.appendOutput({ id: legId, address: leg.address, options: [...leg.options] });
    }
    // Viewers play what arrives when it arrives: an input FFmpeg could read faster than real time
    // (HLS, a file, a generator) would reach them in bursts (see planPacing).
    for (const { input, paced } of plan.pacing) if (paced) context.addInputOptions(input, ['-re']);
    entry.source.setActiveTracks({ video: plan.video.action !== 'off', audio: plan.audio.action !== 'off' });
    const health = entry.source.health().video;
    const run: Run = {
      context,
      webrtc,
      origin,
      settings,
      plan,
      plannedAt: Date.now(),
      realTime: readsInRealTime(context.expanded.input),
      baseline: { video: health, audioPackets: entry.source.stats().audio?.packets ?? 0 },
      firstVideoAt: undefined,
      verdict: { condition: plan.video.action === 'off' ? 'off' : 'waiting' },
      ended: false,
    };
    entry.run = run;
    if (origin === 'auto') {
      context.note('webrtc: on by webrtc.auto_enable (the process config has no webrtc block)');
    }
    for (const note of notes) context.note(`webrtc: ${note}`);
    context.note(
      `webrtc plan (${plan.basis}): ${describeTrack('video', plan.video)}; ${describeTrack('audio', plan.audio)}; about ${plan.cpu_cores} cores`,
    );
    if (plan.renditions.length > 0) {
      context.note(
        `webrtc renditions: ${plan.renditions.map((r) => `${r.id} ${r.action}`).join(', ')}; about ${plan.ladder_cpu_cores} cores`,
      );
    }
    for (const note of plan.ladder_notes) context.note(`webrtc: ${note}`);
    if (calibration) context.note(`webrtc: ${calibration.note}`);
    context.note(
      `webrtc: sub-second player at ${playerPath(id)}, WHEP at /api/v3/process/${encodeURIComponent(id)}/whep`,
    );
    for (const { input, paced, reason } of plan.pacing) {
      if (paced) context.note(`webrtc: input ${input} ${reason}`);
    }
    this.#options.logger.info(
      {
        processId: id,
        enabledBy: origin,
        basis: plan.basis,
        video: plan.video,
        audio: plan.audio,
        cpuCores: plan.cpu_cores,
        ...(settings.cpu_budget ? { cpuBudget: settings.cpu_budget } : {}),
        ...(plan.renditions.length > 0
          ? {
              renditions: plan.renditions.map(({ id, action }) => `${id} ${action}`),
              ladderCpuCores: plan.ladder_cpu_cores,
              ladderNotes: plan.ladder_notes,
            }
          : {}),
        notes,
      },
      'webrtc media plan',
    );
    for (const track of [plan.video, plan.audio]) {
      if (track.warning) this.#options.logger.warn({ processId: id }, track.warning);
    }
    void context.inputs.then((streams) => this.#checkPlan(entry, run, streams ?? []));
  }

  /** FFmpeg printed its banner: does the plan fit what it found? If not, start again with it. */
  #checkPlan(entry: SourceEntry, run: Run, streams: Parameters<MediaPlanner['check']>[2]): void {
    if (entry.run !== run || this.#entries.get(run.context.id) !== entry) return;
    const { id } = run.context;
    const verdict = this.#planner.check(id, run.plan, streams, run.context.expanded.input, run.settings);
    if (verdict.fits) return;
    const why = `the media plan does not fit the input FFmpeg found: ${verdict.reasons.join('; ')}`;
    if (verdict.restart && run.context.restart(`webrtc: ${why}`)) {
      this.#options.logger.warn(
        { processId: id, reasons: verdict.reasons },
        'webrtc plan does not fit; replanning',
      );
      return;
    }
    run.context.note(`webrtc: ${why}; not restarting again (the input keeps changing)`);
    this.#options.logger.warn({ processId: id, reasons: verdict.reasons }, 'webrtc plan does not fit');
  }

  async #open(
    id: string,
    webrtc: WebRtcConfig,
    fingerprint: string,
    renditions: readonly RenditionPlan[],
  ): Promise<SourceEntry> {
    const ports = await this.#options.ports.allocateRtpPorts(renditions.length);
    try {
      // Both sockets always: which tracks a run sends is decided per start (`setActiveTracks`).
      // Each rendition FFmpeg makes is a track of its own, on its own port, in the legs' order.
      const source = await RtpSource.open({
        id,
        video: { socket: ports.video.takeSocket(), payloadType: webrtc.video_pt },
        renditions: renditions.map((rendition, index) => ({
          id: rendition.id,
          codec: rendition.kind === 'vp8' ? 'vp8' : 'h264',
          bitrateKbit: rendition.bitrate_kbit,
          ...(rendition.height === undefined ? {} : { height: rendition.height }),
          socket: ports.renditions[index]!.takeSocket(),
          payloadType: rendition.kind === 'vp8' ? vp8PayloadType(webrtc) : webrtc.video_pt,
        })),
        audio: { socket: ports.audio.takeSocket(), payloadType: webrtc.audio_pt },
        plane: this.#plane,
      });
      const entry: SourceEntry = {
        source,
        ports,
        webrtc: fingerprint,
        renditions: renditionKey(renditions),
        run: undefined,
      };
      this.#entries.set(id, entry);
      this.#options.logger.info({ processId: id, videoPort: ports.video.port }, 'webrtc source opened');
      return entry;
    } catch (error) {
      ports.release();
      throw error;
    }
  }

  /** The estimated cores of the other auto-enabled processes' running transcodes. */
  #autoSpent(exceptId: string): number {
    let cores = 0;
    for (const [id, entry] of this.#entries) {
      const run = entry.run;
      if (id !== exceptId && run && !run.ended && run.origin === 'auto') cores += run.plan.cpu_cores;
    }
    return cores;
  }

  /** The estimated cores of the other processes' running renditions, and how many processes run them. */
  #ladderSpent(exceptId: string): { cores: number; processes: number } {
    let cores = 0;
    let processes = 0;
    for (const [id, entry] of this.#entries) {
      const run = entry.run;
      if (id === exceptId || !run || run.ended || run.plan.ladder_cpu_cores === 0) continue;
      cores += run.plan.ladder_cpu_cores;
      processes++;
    }
    return { cores: Math.round(cores * 100) / 100, processes };
  }

  #onStop(context: StopContext): void {
    const entry = this.#entries.get(context.id);
    if (entry?.run) entry.run.ended = true;
    if (context.reason === 'remove' || context.reason === 'rename') this.#planner.forget(context.id);
    // The manager knows whether it starts the process again (restart, reload, update, reconnect):
    // if it does, the source and its viewers stay for the next run.
    if (!context.comingBack) this.#teardown(context.id, `process ${context.reason}`);
  }

  /** Judges every running leg; a change of verdict is logged and noted in the process's log. */
  #checkHealth(now: number): void {
    for (const [id, entry] of this.#entries) {
      const run = entry.run;
      if (!run || run.ended) continue;
      const video = this.#runVideo(entry, run, now);
      const previous = run.verdict;
      const verdict = judgeVideo(run.plan.video, video, now, run.webrtc.video, pace(run), previous.condition);
      run.verdict = verdict;
      if (verdict.condition === previous.condition) continue;
      if (isWarning(verdict.condition)) {
        run.context.note(`webrtc: ${verdict.message}`);
        this.#options.logger.warn({ processId: id, video: verdict.condition }, verdict.message ?? '');
      } else if (isWarning(previous.condition)) {
        run.context.note(`webrtc: video ${verdict.condition} again`);
        this.#options.logger.info({ processId: id, video: verdict.condition }, 'webrtc video recovered');
      }
      // B-frames on a copy the plan chose: the next plan transcodes. Restarting now rather than at
      // the next start, because a live input may run for weeks and every viewer until then would
      // see a frozen picture; the planner says yes once, so this cannot repeat.
      if (
        verdict.condition === 'b-frames' &&
        run.webrtc.video === 'auto' &&
        !run.webrtc.force_transcode &&
        this.#planner.sawReorders(id)
      ) {
        run.context.restart('webrtc: B-frames on the copied video; transcoding it');
      }
    }
  }

  #runVideo(entry: SourceEntry, run: Run, now: number) {
    const current = entry.source.health().video;
    const base = run.baseline.video;
    const packets = current.packets - base.packets;
    if (packets > 0 && run.firstVideoAt === undefined) run.firstVideoAt = now;
    const after = (at: number | null, since: number | null) => (at !== null && at !== since ? at : null);
    return {
      packets,
      keyframes: current.keyframes - base.keyframes,
      decodableKeyframes: current.decodableKeyframes - base.decodableKeyframes,
      reorderedAccessUnits: current.reorderedAccessUnits - base.reorderedAccessUnits,
      firstPacketAt: run.firstVideoAt,
      lastPacketAt: after(current.lastPacketAt, base.lastPacketAt),
      lastDecodableKeyframeAt: after(current.lastDecodableKeyframeAt, base.lastDecodableKeyframeAt),
    };
  }

  #health(entry: SourceEntry, run: Run): WebRtcHealth {
    const now = Date.now();
    const video = this.#runVideo(entry, run, now);
    const verdict = run.ended
      ? run.verdict
      : judgeVideo(run.plan.video, video, now, run.webrtc.video, pace(run), run.verdict.condition);
    const status = run.ended
      ? 'stopped'
      : isWarning(verdict.condition)
        ? 'warning'
        : verdict.condition === 'waiting'
          ? 'waiting'
          : 'ok';
    return {
      status,
      video: verdict.condition,
      ...(verdict.message === undefined ? {} : { message: verdict.message }),
      video_packets: video.packets,
      audio_packets: (entry.source.stats().audio?.packets ?? 0) - run.baseline.audioPackets,
      keyframes: video.keyframes,
      decodable_keyframes: video.decodableKeyframes,
      reordered_frames: video.reorderedAccessUnits,
      ...(video.lastDecodableKeyframeAt === null
        ? {}
        : { last_keyframe_seconds_ago: Math.round((now - video.lastDecodableKeyframeAt) / 100) / 10 }),
    };
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

/** Where the process's own player page is, on this server. */
export function playerPath(processId: string): string {
  return `/player/${encodeURIComponent(processId)}`;
}

/** How fast the run's FFmpeg goes, from its own progress reports. */
function pace(run: Run): RunPace {
  return { speed: run.context.speed(), realTime: run.realTime };
}

/** `video copy h264: H.264 High … copied` — a track's decision as one line of the log. */
function describeTrack(kind: 'video' | 'audio', track: TrackPlan): string {
  if (track.action === 'off') return `${kind} off (${track.reason})`;
  const change = track.action === 'copy' ? track.from : `${track.from} → ${track.to}`;
  return `${kind} ${track.action} ${change}${track.stream ? ` from ${track.stream}` : ''} (${track.reason})`;
}

/** What a source was opened with: a plan that makes other renditions needs another source. */
function renditionKey(renditions: readonly RenditionPlan[]): string {
  return renditions.map((rendition) => rendition.id).join(',');
}
