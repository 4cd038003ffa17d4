import {
  type BannerStream,
  checkPlan,
  factsFromBanner,
  type InputFacts,
  isListeningInput,
  type MediaPlan,
  type PlanCheck,
  type PlanSettings,
  ProbeFailedError,
  type ProcessInput,
  planMedia,
} from '@dragon/ffmpeg-args';

/** Probes one pulled input (ffprobe, bounded); rejects with `ProbeFailedError`. */
export type ProbeInput = (input: ProcessInput, signal: AbortSignal) => Promise<InputFacts>;

/**
 * How many restarts in a row plan checks may ask for. A plan made from some facts fits those
 * facts (`checkPlan`'s property), and a restart plans from the banner it did not fit, so a second
 * one in a row means the input changed between runs; a third, that it keeps changing (a publisher
 * flapping between sources). Past the bound the process runs on and the misfit is only reported.
 */
export const maxReplansInARow = 3;

/** What one process's planning remembers between starts; a change of inputs or settings forgets it. */
interface Memory {
  fingerprint: string;
  /** FFmpeg's banner of the latest run that printed one, per input. */
  banner: InputFacts[] | undefined;
  /** The next start plans from `banner`: the last one restarted because its plan did not fit it. */
  fromBanner: boolean;
  replansInARow: number;
  /**
   * B-frames were seen on a copied video leg: H.264 from these inputs reorders, whatever the
   * probe read in its first packets (an encoder that switched them on later).
   */
  reorders: boolean;
}

export interface StartPlan {
  plan: MediaPlan;
  /** Why facts are missing (a failed probe, credentials redacted), for the process log. */
  notes: string[];
}

export interface PlanVerdict extends PlanCheck {
  /** Restart now: the next start plans from the banner this one did not fit. */
  restart: boolean;
}

/**
 * Decides each start's media plan from what the input really is, and remembers what the next
 * start needs: pulled inputs are probed; an input FFmpeg serves itself (listening) is planned from
 * the banner of its previous run, or conservatively the first time. Knows nothing of sockets.
 */
export class MediaPlanner {
  readonly #memory = new Map<string, Memory>();
  readonly #probe: ProbeInput;

  constructor(probe: ProbeInput) {
    this.#probe = probe;
  }

  /**
   * The plan of one start. Never rejects for a probe that fails (the plan then rests on the
   * previous banner, or on nothing); an aborted start gets the plan without probing further.
   */
  async plan(
    processId: string,
    inputs: readonly ProcessInput[],
    settings: PlanSettings,
    signal: AbortSignal,
  ): Promise<StartPlan> {
    const memory = this.#recall(processId, inputs, settings);
    const fromBanner = memory.fromBanner;
    memory.fromBanner = false;
    const notes: string[] = [];
    const facts: (InputFacts | undefined)[] = [];
    for (const [index, input] of inputs.entries()) {
      const banner = memory.banner?.[index];
      if (isListeningInput(input) || (fromBanner && banner) || signal.aborted) {
        facts.push(banner);
        continue;
      }
      try {
        facts.push(await this.#probe(input, signal));
      } catch (error) {
        if (!(error instanceof ProbeFailedError)) throw error;
        if (error.failure !== 'aborted') notes.push(`input ${index}: ${error.message}`);
        facts.push(banner);
      }
    }
    const known = memory.reorders ? facts.map(withReorders) : facts;
    return { plan: planMedia(known, settings, inputs), notes };
  }

  /**
   * Checks a start's plan against its own FFmpeg's banner and remembers the banner for the next
   * start. An empty banner (a log level that hides the stream lines) proves nothing.
   */
  check(
    processId: string,
    plan: MediaPlan,
    streams: readonly BannerStream[],
    inputs: readonly ProcessInput[],
    settings: PlanSettings,
  ): PlanVerdict {
    if (streams.length === 0) return { fits: true, reasons: [], restart: false };
    const memory = this.#recall(processId, inputs, settings);
    const banner = factsFromBanner(streams, inputs);
    memory.banner = banner;
    const verdict = checkPlan(plan, memory.reorders ? banner.map(withReorders) : banner, settings);
    if (verdict.fits) {
      memory.replansInARow = 0;
      return { ...verdict, restart: false };
    }
    if (memory.replansInARow >= maxReplansInARow) return { ...verdict, restart: false };
    memory.replansInARow++;
    memory.fromBanner = true;
    return { ...verdict, restart: true };
  }

  /**
   * A copied H.264 leg showed B-frames: every later plan of this process transcodes its H.264.
   * True the first time only, so a caller that restarts on it restarts once.
   */
  sawReorders(processId: string): boolean {
    const memory = this.#memory.get(processId);
    if (!memory || memory.reorders) return false;
    memory.reorders = true;
    return true;
  }

  /** The process is gone (removed, renamed): nothing of it is kept. */
  forget(processId: string): void {
    this.#memory.delete(processId);
  }

  #recall(processId: string, inputs: readonly ProcessInput[], settings: PlanSettings): Memory {
    const fingerprint = JSON.stringify([
      inputs.map(({ address, options }) => [address, options ?? []]),
      settings.video,
      settings.audio,
      settings.force_transcode,
    ]);
    const known = this.#memory.get(processId);
    if (known?.fingerprint === fingerprint) return known;
    const fresh: Memory = {
      fingerprint,
      banner: undefined,
      fromBanner: false,
      replansInARow: 0,
      reorders: false,
    };
    this.#memory.set(processId, fresh);
    return fresh;
  }
}

function withReorders(facts: InputFacts | undefined): InputFacts | undefined {
  if (!facts) return facts;
  return {
    ...facts,
    streams: facts.streams.map((stream) =>
      stream.kind === 'video' && stream.codec === 'h264' ? { ...stream, reorders: true } : stream,
    ),
  };
}
