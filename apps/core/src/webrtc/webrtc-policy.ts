import { availableParallelism, loadavg } from 'node:os';
import { type CpuBudget, type WebRtcConfig, webRtcConfigSchema } from '@dragon/ffmpeg-args';
import { compileGlob, type ProcessConfig } from '@dragon/restream';
import type { Config } from '../config/config-schema.js';

/** `webrtc.auto_enable` (config-schema.ts says what each key means). */
export type AutoEnableConfig = Config['webrtc']['auto_enable'];

/** The machine's cores and its recent run-queue length (Linux's 1-minute load average). */
export type MachineLoad = () => { cores: number; load: number };

const machineLoad: MachineLoad = () => ({ cores: availableParallelism(), load: loadavg()[0] ?? 0 });

/** A process's WebRTC as it runs: its own `webrtc` block, or the server's for it. */
export interface ProcessWebRtc {
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
 * when it has one (an explicit `enabled: false` wins), else `webrtc.auto_enable`'s. And, for the
 * processes it enables, how much CPU their transcodes may take at a start.
 */
export class WebRtcPolicy {
  readonly #config: AutoEnableConfig;
  readonly #ids: ((id: string) => boolean)[];
  readonly #references: ((reference: string) => boolean)[];
  readonly #machine: MachineLoad;

  constructor(config: AutoEnableConfig, machine: MachineLoad = machineLoad) {
    this.#config = config;
    this.#ids = config.processes.map((pattern) => compileGlob(pattern));
    this.#references = config.references.map((pattern) => compileGlob(pattern));
    this.#machine = machine;
  }

  /** The WebRTC a process runs with, or undefined when it sends none. */
  of(id: string, config: Pick<ProcessConfig, 'reference' | 'webrtc'>): ProcessWebRtc | undefined {
    if (config.webrtc) return ownWebRtc(id, config);
    const covered =
      this.#ids.some((matches) => matches(id)) ||
      (config.reference !== '' && this.#references.some((matches) => matches(config.reference)));
    return covered ? { config: autoBlock, origin: 'auto' } : undefined;
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
