import { readFileSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { type CpuBudget, type WebRtcConfig, webRtcConfigSchema } from '@dragon/ffmpeg-args';
import { compileGlob, type ProcessConfig } from '@dragon/restream';
import type { Config } from '../config/config-schema.js';

/** `webrtc.auto_enable` (config-schema.ts says what each key means). */
export type AutoEnableConfig = Config['webrtc']['auto_enable'];

/** The server's `webrtc` keys the policy follows (config-schema.ts says what each means). */
export type PolicyConfig = Pick<
  Config['webrtc'],
  'auto_enable' | 'renditions' | 'renditions_cpu_budget' | 'vp8'
>;

/** The machine's cores and its recent run-queue length (Linux's 1-minute load average). */
export type MachineLoad = () => { cores: number; load: number };

/**
 * The cores this process may use: the CPUs it may run on, capped by the cgroup v2 CPU quota
 * (`cpu.max` `quota period`: docker `--cpus 1.5` is `150000 100000`), which a NAS user sets and
 * `availableParallelism()` does not see.
 */
export function effectiveCores(cpuMax = '/sys/fs/cgroup/cpu.max'): number {
  const cores = availableParallelism();
  let text: string;
  try {
    text = readFileSync(cpuMax, 'utf8');
  } catch {
    return cores; // cgroup v1 or no cgroup file system: no quota to read
  }
  const [quota, period] = text.trim().split(/\s+/);
  const limit = Number(quota) / Number(period);
  return quota !== 'max' && Number.isFinite(limit) && limit > 0 ? Math.min(cores, limit) : cores;
}

const machineLoad: MachineLoad = () => ({ cores: effectiveCores(), load: loadavg()[0] ?? 0 });

/** A process's WebRTC as it runs: its own `webrtc` block, or the server's for it. */
export interface ProcessWebRtc {
  /** The block, with `renditions` and `vp8` set (the server's where the block does not say). */
  config: WebRtcConfig;
  /** `config`: the process's own block; `auto`: `webrtc.auto_enable` covers it. */
  origin: 'config' | 'auto';
}

/** A process's own `webrtc` block, when it turns WebRTC on (what the policy answers for a process with one). */
export function ownWebRtc(_id: string, config: Pick<ProcessConfig, 'webrtc'>): ProcessWebRtc | undefined {
  return config.webrtc?.enabled ? { config: config.webrtc, origin: 'config' } : undefined;
}

/** What `webrtc.auto_enable` gives a process it covers: WebRTC on, everything else at its defaults. */
const autoBlock: WebRtcConfig = webRtcConfigSchema.parse({ enabled: true });

const round = (cores: number) => Math.round(cores * 100) / 100;

/**
 * The one answer to "does this process send WebRTC, with which settings": its own `webrtc` block
 * when it has one (an explicit `enabled: false` wins), else `webrtc.auto_enable`'s, with the
 * server's renditions and VP8 where the block does not say. And, at a start, how much CPU an
 * auto-enabled process's transcodes and every process's renditions may take.
 */
export class WebRtcPolicy {
  readonly #config: AutoEnableConfig;
  readonly #server: PolicyConfig;
  readonly #ids: ((id: string) => boolean)[];
  readonly #references: ((reference: string) => boolean)[];
  readonly #machine: MachineLoad;

  constructor(server: PolicyConfig, machine: MachineLoad = machineLoad) {
    this.#server = server;
    this.#config = server.auto_enable;
    this.#ids = this.#config.processes.map((pattern) => compileGlob(pattern));
    this.#references = this.#config.references.map((pattern) => compileGlob(pattern));
    this.#machine = machine;
  }

  /** The WebRTC a process runs with, or undefined when it sends none. */
  of(id: string, config: Pick<ProcessConfig, 'reference' | 'webrtc'>): ProcessWebRtc | undefined {
    const own = config.webrtc ? ownWebRtc(id, config) : undefined;
    const covered =
      !config.webrtc &&
      (this.#ids.some((matches) => matches(id)) ||
        (config.reference !== '' && this.#references.some((matches) => matches(config.reference))));
    const found: ProcessWebRtc | undefined =
      own ?? (covered ? { config: autoBlock, origin: 'auto' } : undefined);
    if (!found) return undefined;
    const { renditions, vp8 } = found.config;
    return {
      ...found,
      config: {
        ...found.config,
        renditions: renditions ?? this.#server.renditions,
        vp8: vp8 ?? this.#server.vp8,
      },
    };
  }

  /**
   * What a start's renditions may take: `renditions_cpu_budget` of the machine's cores, less the
   * renditions of the other running processes (`spentByOthers`, by the plans' estimates). Not the
   * load: a ladder decided by a passing spike would differ from one restart to the next.
   */
  renditionBudget(spentByOthers: number, others: number): CpuBudget {
    const { cores } = this.#machine();
    const share = this.#server.renditions_cpu_budget;
    return {
      cores: round(Math.max(0, share * cores - spentByOthers)),
      why: `webrtc.renditions_cpu_budget is ${share} of ${round(cores)} cores, ${round(spentByOthers)} taken by the renditions of ${others} other process${others === 1 ? '' : 'es'}`,
    };
  }

  /**
   * What an auto-enabled start's transcodes may take: what `transcode_cores` leaves after the
   * other auto-enabled processes' transcodes (`spentByOthers`), and no more than the machine has
   * idle (cores minus its load average).
   */
  budget(spentByOthers: number): CpuBudget {
    const { cores, load } = this.#machine();
    const configured = round(Math.max(0, this.#config.transcode_cores - spentByOthers));
    const idle = round(Math.max(0, cores - load));
    if (idle < configured) {
      return {
        cores: idle,
        why: `the machine has about ${idle} of ${cores} cores idle (load ${round(load)})`,
      };
    }
    return {
      cores: configured,
      why: `webrtc.auto_enable.transcode_cores is ${this.#config.transcode_cores}, ${round(spentByOthers)} taken by other processes`,
    };
  }
}
