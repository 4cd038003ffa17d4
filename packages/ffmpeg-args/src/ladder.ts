import { z } from 'zod';
import type { StreamFacts } from './input-facts.js';
import { renditionCores, videoDecodeCores } from './transcode-cost.js';
import type { RenditionConfig, RenditionsSetting, Vp8Mode } from './webrtc-config.js';

/** One rendition of a start's ladder, as the plan and the process's state show it. */
export const renditionPlanSchema = z.object({
  /** `720p`, `360p`, `vp8-360p`, `audio`: unique in the plan. */
  id: z.string(),
  /** `top`: the video track as planned; `rung`: a smaller H.264 encode; `vp8`; `audio-only`: the Opus track alone. */
  kind: z.enum(['top', 'rung', 'vp8', 'audio-only']),
  /**
   * `transcode`: FFmpeg encodes it in this start; `on-demand`: a second FFmpeg encodes it while a
   * viewer needs it (VP8); `off`: planned but not made (`reason` says why).
   */
  action: z.enum(['copy', 'transcode', 'on-demand', 'off']),
  /** Height in pixels; absent when not known. */
  height: z.number().int().optional(),
  /** Frame rate the rendition is sent at, when FFmpeg lowers it (inputs above 30 fps). */
  fps: z.number().optional(),
  /** Target bitrate, kbit/s; 0 for a copy (as fast as its input). */
  bitrate_kbit: z.number().int().min(0),
  /** Estimated CPU cores of its scale and encode (the shared decode is in the plan's `ladder_cpu_cores`). */
  estimated_cpu: z.number().min(0),
  reason: z.string(),
});

export type RenditionPlan = z.infer<typeof renditionPlanSchema>;

/** CPU a start may take: see `CpuBudget` in media-plan.ts (declared there, used here). */
interface Budget {
  cores: number;
  why: string;
}

export interface LadderInput {
  /** The top's plan: its action, and its estimated cores. */
  top: { action: 'copy' | 'transcode' | 'off'; cpu_cores: number; reason: string };
  audio: { action: 'copy' | 'transcode' | 'off' };
  /** The input's video stream, when known. */
  stream: StreamFacts | undefined;
  renditions: RenditionsSetting | undefined;
  vp8: Vp8Mode | undefined;
  maxHeight: number;
  maxBitrateKbit: number;
  /** What the renditions may take together; absent: whatever they cost. */
  budget: Budget | undefined;
  /** Set when the renditions cannot be sent by this server: they are planned, shown and not made. */
  blocked: string | undefined;
  /** This machine's cost factor (see `renditionCores`); absent: the model's margin. */
  costFactor: number | undefined;
}

export interface Ladder {
  renditions: RenditionPlan[];
  notes: string[];
  /** Estimated cores of the renditions FFmpeg makes, the decode they add beside a copied top included. */
  cpuCores: number;
}

/**
 * Target bitrates of the `auto` ladder, kbit/s at up to 25 fps and above: each rung sized for a
 * class of link (1080p for a 4K top only), so a viewer's estimate lands on one (docs/media-plan.md).
 */
const autoRungs: readonly { height: number; at25: number; at30: number }[] = [
  { height: 1080, at25: 3500, at30: 4000 },
  { height: 720, at25: 1800, at30: 2000 },
  { height: 480, at25: 800, at30: 900 },
  { height: 360, at25: 350, at30: 420 },
  { height: 240, at25: 130, at30: 150 },
];

/** The VP8 rendition: 360p (or the top's height when smaller) at a bitrate libvpx needs for it. */
const vp8Height = 360;
const vp8BitrateKbit = 450;
/** Opus as the WebRTC leg encodes it (webrtc-legs.ts). */
const opusKbit = 64;
/** The top's height when the input is not known and `max_height` is 0. */
const assumedTopHeight = 1080;

const round = (cores: number) => Math.round(cores * 100) / 100;

/**
 * The ladder of one start: the top, the rungs below it, VP8 and the audio-only fallback, each with
 * what it costs and whether FFmpeg makes it.
 *
 * - `auto` rungs are the heights of `autoRungs` below the top's; an explicit ladder's rungs at or
 *   above the top's height are dropped (never scaled up).
 * - With a budget, rungs are added in order of use to a viewer on a bad link — 360p, VP8, the
 *   smaller ones, then the larger ones — while they fit; each refused one says why, in `notes`.
 *   The first one added beside a copied top also pays for decoding the input. VP8 made on demand
 *   is charged too (with its own decode): its room is kept for it, so the ladder and the VP8 fit
 *   together once a viewer without H.264 comes, though it is not in `cpuCores` (it runs only then);
 *   refused, such a viewer gets audio alone.
 */
export function planLadder(input: LadderInput): Ladder {
  const mode = input.renditions ?? 'off';
  const vp8 = input.vp8 ?? 'off';
  if (mode === 'off' && vp8 === 'off') return { renditions: [], notes: [], cpuCores: 0 };
  if (input.top.action === 'off') {
    return { renditions: [], notes: ['no renditions: the plan sends no video'], cpuCores: 0 };
  }
  const notes: string[] = [];
  const known = input.stream?.height;
  const topHeight =
    input.top.action === 'transcode' && known && input.maxHeight > 0
      ? Math.min(known, input.maxHeight)
      : (known ?? (input.maxHeight || assumedTopHeight));
  const fps = input.stream?.fps;
  const capped = fps !== undefined && fps > 30 ? { fps: 30 } : {};
  const top: RenditionPlan = {
    id: `${topHeight}p`,
    kind: 'top',
    action: input.top.action,
    ...(known ? { height: topHeight } : {}),
    bitrate_kbit: input.top.action === 'transcode' ? input.maxBitrateKbit : 0,
    estimated_cpu: input.top.cpu_cores,
    reason: input.top.reason,
  };

  const wanted: RenditionPlan[] = [];
  // `auto` takes the heights below the top's as a matter of course; an explicit ladder is told.
  const configured =
    mode === 'auto' ? autoLadder(fps).filter((rung) => rung.height < topHeight) : mode === 'off' ? [] : mode;
  for (const rung of configured) {
    const id = `${rung.height}p`;
    if (rung.height >= topHeight) {
      notes.push(`${id} not added: not below the top's ${topHeight}p (renditions are never scaled up)`);
    } else if (wanted.some((other) => other.id === id)) {
      notes.push(`${id} not added twice`);
    } else {
      wanted.push({
        id,
        kind: 'rung',
        action: 'transcode',
        height: rung.height,
        ...capped,
        bitrate_kbit: rung.bitrate_kbit,
        estimated_cpu: renditionCores(input.stream, rung.height, 'h264', input.costFactor),
        reason: `${mode === 'auto' ? 'ladder auto' : 'ladder as set'}: H.264 at ${rung.bitrate_kbit} kbit/s`,
      });
    }
  }
  const vp8Rung =
    vp8 === 'off' ? undefined : vp8Rendition(vp8, Math.min(vp8Height, topHeight), capped, input);
  const ordered = byUse(wanted, vp8Rung);

  let left = input.budget?.cores ?? Number.POSITIVE_INFINITY;
  let decode = input.top.action === 'copy' ? videoDecodeCores(input.stream, input.costFactor) : 0;
  let spent = 0;
  const decided = new Map<string, RenditionPlan>();
  for (const rendition of ordered) {
    // Made on demand by an FFmpeg of its own, which decodes the top itself (in its estimate).
    const onDemand = rendition.action === 'on-demand';
    const paysDecode = onDemand ? 0 : decode;
    const cost = round(rendition.estimated_cpu + paysDecode);
    if (input.budget && cost > left) {
      const why = onDemand
        ? `${rendition.id} not made on demand: it would take about ${cost} cores while a viewer without H.264 watches; ${round(Math.max(0, left))} are left (${input.budget.why}); such a viewer gets audio only`
        : `${rendition.id} not added: it would take about ${cost} cores${paysDecode > 0 ? ' (decoding the copied top included)' : ''}; ${round(Math.max(0, left))} are left (${input.budget.why})`;
      notes.push(why);
      decided.set(rendition.id, { ...rendition, action: 'off', reason: why });
      continue;
    }
    left -= cost;
    if (!onDemand) {
      spent += cost;
      decode = 0;
    }
    decided.set(rendition.id, rendition);
  }
  if (vp8Rung && !decided.has(vp8Rung.id)) decided.set(vp8Rung.id, vp8Rung);

  let renditions = [
    top,
    ...wanted.map((rung) => decided.get(rung.id) ?? rung),
    ...(vp8Rung ? [decided.get(vp8Rung.id) ?? vp8Rung] : []),
  ];
  if (input.blocked && renditions.some(isMade)) {
    notes.push(`renditions planned, not made: ${input.blocked}`);
    renditions = renditions.map((rendition) =>
      isMade(rendition)
        ? { ...rendition, action: 'off', reason: `${rendition.reason}; not made: ${input.blocked}` }
        : rendition,
    );
    spent = 0;
  }
  if (mode !== 'off' && input.audio.action !== 'off') {
    renditions.push({
      id: 'audio',
      kind: 'audio-only',
      action: input.audio.action,
      bitrate_kbit: input.audio.action === 'transcode' ? opusKbit : 0,
      estimated_cpu: 0,
      reason: 'the audio track alone, for a link below the lowest rendition',
    });
  }
  return { renditions, notes, cpuCores: round(spent) };
}

/** A rendition FFmpeg encodes in this start: a rung or VP8 with a leg of its own. */
export function isProduced(rendition: RenditionPlan): boolean {
  return (rendition.kind === 'rung' || rendition.kind === 'vp8') && rendition.action === 'transcode';
}

/** A rendition this start makes or can make: produced, or made on demand. */
function isMade(rendition: RenditionPlan): boolean {
  return isProduced(rendition) || rendition.action === 'on-demand';
}

function autoLadder(fps: number | undefined): RenditionConfig[] {
  // Unknown frame rate: sized for 30 fps, the larger need.
  const fast = fps === undefined || fps > 25;
  return autoRungs.map(({ height, at25, at30 }) => ({ height, bitrate_kbit: fast ? at30 : at25 }));
}

function vp8Rendition(
  mode: 'always' | 'on-demand',
  height: number,
  capped: { fps?: number },
  input: LadderInput,
): RenditionPlan {
  const rendition: RenditionPlan = {
    id: `vp8-${height}p`,
    kind: 'vp8',
    action: 'transcode',
    height,
    ...capped,
    bitrate_kbit: vp8BitrateKbit,
    estimated_cpu: renditionCores(input.stream, height, 'vp8', input.costFactor),
    reason: `VP8 for viewers without H.264, at ${vp8BitrateKbit} kbit/s`,
  };
  if (mode === 'always') return rendition;
  // A second FFmpeg decodes the process's top to make it: the decode is its own.
  const cores = round(rendition.estimated_cpu + videoDecodeCores(input.stream, input.costFactor));
  return {
    ...rendition,
    action: 'on-demand',
    estimated_cpu: cores,
    reason: `VP8 for viewers without H.264, at ${vp8BitrateKbit} kbit/s: encoded from the top by a second FFmpeg only while such a viewer watches (about ${cores} cores then)`,
  };
}

/**
 * Order of use to a viewer on a bad link: the largest rung up to 360p (a phone, hotel Wi-Fi), VP8
 * (a browser without H.264 gets no video without it), the smaller rungs, then the larger ones.
 */
function byUse(rungs: readonly RenditionPlan[], vp8: RenditionPlan | undefined): RenditionPlan[] {
  const small = rungs.filter((rung) => (rung.height ?? 0) <= 360).sort(byHeight(-1));
  const large = rungs.filter((rung) => (rung.height ?? 0) > 360).sort(byHeight(1));
  return [...small.slice(0, 1), ...(vp8 ? [vp8] : []), ...small.slice(1), ...large];
}

function byHeight(direction: 1 | -1) {
  return (a: RenditionPlan, b: RenditionPlan) => direction * ((a.height ?? 0) - (b.height ?? 0));
}
