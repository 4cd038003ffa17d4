import {
  buildWebRtcLegs,
  type PlanSettings,
  probeInput,
  type RenditionPlan,
  type WebRtcConfig,
} from '@dragon/ffmpeg-args';
import type { PortAllocator } from '@dragon/portalloc';
import type { ProcessHooks, StartContext, StopContext } from '@dragon/restream';
import { FanoutPlane, type RtpSource } from '@dragon/webrtc';
import type { Logger } from 'pino';
import { autoEnabledCores, ladderCores } from './cpu-spent.js';
import { type CostCalibration, EncodeCalibration } from './encode-calibration.js';
import { MediaPlanner, type ProbeInput } from './media-planner.js';
import { logPlan, notePlan, playerPath } from './plan-report.js';
import { logPlaneWorkers } from './plane-log.js';
import { openSourceEntry, renditionKey, type SourceEntry, sourceRenditions } from './source-entry.js';
import { isWarning, judgeVideo, readsInRealTime } from './video-health.js';
import { vp8OnDemandOf } from './vp8-on-demand.js';
import type { WebRtcPolicy } from './webrtc-policy.js';
import { pace, type Run, runHealth, runVideo } from './webrtc-run.js';
import { renditionFigures, type WebRtcState } from './webrtc-status.js';

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
  /**
   * Where a process's top picture can be read back on loopback (the loopback feed): without it,
   * `vp8: 'on-demand'` makes no VP8.
   */
  pictureUrl?: (processId: string) => string;
  /** How long a VP8 encode made on demand outlives its last viewer. @default 15000 */
  vp8LingerMs?: number;
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
  readonly #stopPlaneLog: () => void;

  constructor(options: WebRtcSubsystemOptions) {
    this.#options = options;
    this.#plane = options.plane ?? FanoutPlane.shared();
    this.#stopPlaneLog = logPlaneWorkers(this.#plane, options.logger);
    const timeoutMs = options.probeTimeoutMs ?? 10_000;
    // ffprobe and the calibration run as the processes' FFmpeg: same environment, same directory.
    const ffmpeg = {
      ffmpegBinary: options.ffmpegBinary,
      ...(options.probeEnvironment ? { env: options.probeEnvironment } : {}),
      ...(options.probeCwd ? { cwd: options.probeCwd } : {}),
    };
    this.#planner = new MediaPlanner(
      options.probe ?? ((input, signal) => probeInput(input, { ...ffmpeg, timeoutMs, signal })),
    );
    this.#calibration = options.calibration ?? new EncodeCalibration(ffmpeg);
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
    const renditions = entry.source.renditions();
    return {
      enabled_by: run.origin === 'auto' ? 'auto_enable' : 'config',
      player: playerPath(processId),
      plan: run.plan,
      planned_at: Math.floor(run.plannedAt / 1000),
      health: runHealth(entry.source, run),
      ...(renditions.length > 1 ? { renditions: renditionFigures(renditions, run.plan) } : {}),
      ...(entry.vp8 ? { vp8_on_demand: entry.vp8.state() } : {}),
    };
  }

  async close(): Promise<void> {
    clearInterval(this.#timer);
    this.#stopPlaneLog();
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
    const ladderSpent = ladderCores(this.#entries, id);
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
      ...(origin === 'auto'
        ? { cpu_budget: this.#options.policy.budget(autoEnabledCores(this.#entries, id)) }
        : {}),
      rendition_budget: this.#options.policy.renditionBudget(ladderSpent.cores, ladderSpent.processes),
      ...(calibration ? { rendition_cost_factor: calibration.factor } : {}),
    };
    const { plan, notes } = await this.#planner.plan(id, context.expanded.input, settings, context.signal);
    const { produced, onDemand, renditions } = sourceRenditions(plan, this.#options.pictureUrl !== undefined);
    const current = this.#entries.get(id);
    if (current && current.renditions !== renditionKey(renditions)) this.#teardown(id, 'renditions changed');
    const entry = this.#entries.get(id) ?? (await this.#open(id, webrtc, fingerprint, renditions, onDemand));
    const legs = buildWebRtcLegs({
      webrtc,
      plan,
      videoPort: entry.ports.video.port,
      audioPort: entry.ports.audio.port,
      renditionPorts: entry.ports.renditions.slice(0, produced.length).map((leased) => leased.port),
    });
    for (const leg of legs) {
      const legId = leg.rendition ? `webrtc_video_${leg.rendition}` : `webrtc_${leg.kind}`;
      context.appendOutput({ id: legId, address: leg.address, options: [...leg.options] });
    }
    // Viewers play what arrives when it arrives: an input FFmpeg could read faster than real time
    // (HLS, a file, a generator) would reach them in bursts (see planPacing).
    for (const { input, paced } of plan.pacing) if (paced) context.addInputOptions(input, ['-re']);
    // A transcode's decoder hands frames on as they are decoded (see planDecoder).
    if (plan.decoder) context.addInputOptions(plan.decoder.input, plan.decoder.options);
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
    const report = { id, origin, plan, settings, notes, calibration };
    notePlan(context, report);
    logPlan(this.#options.logger, report);
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
    onDemand: RenditionPlan | undefined,
  ): Promise<SourceEntry> {
    const { ports } = this.#options;
    const entry = await openSourceEntry({ id, webrtc, fingerprint, renditions, ports, plane: this.#plane });
    const pictureUrl = this.#options.pictureUrl;
    if (onDemand && pictureUrl) {
      entry.vp8 = vp8OnDemandOf(entry, onDemand, webrtc, {
        ...this.#options,
        processId: id,
        inputUrl: pictureUrl(id),
        note: (line) => this.#entries.get(id)?.run?.context.note(line),
      });
    }
    this.#entries.set(id, entry);
    this.#options.logger.info({ processId: id, videoPort: entry.ports.video.port }, 'webrtc source opened');
    return entry;
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
      const video = runVideo(entry.source, run, now);
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

  #teardown(id: string, reason: string): void {
    const entry = this.#entries.get(id);
    if (!entry) return;
    this.#entries.delete(id);
    this.#options.onSourceClosed?.(id);
    entry.vp8?.close();
    entry.source.close();
    entry.ports.release();
    this.#options.logger.info({ processId: id, reason }, 'webrtc source closed');
  }
}
