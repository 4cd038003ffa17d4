export type { DecoderPlan } from './decoder-delay.js';
export { decoderPlanSchema, planDecoder, sliceDecodeMaxHeight } from './decoder-delay.js';
export type { ProbeFailure } from './errors.js';
export { InvalidLegOptionsError, ProbeFailedError } from './errors.js';
export type { BannerStream, InputFacts, MediaFacts, StreamFacts } from './input-facts.js';
export { factsFromBanner, inputFactsSchema, streamFactsSchema } from './input-facts.js';
export type { InputPacing } from './input-pacing.js';
export { inputPacingSchema, planPacing } from './input-pacing.js';
export type { RenditionPlan } from './ladder.js';
export { renditionPlanSchema } from './ladder.js';
export type { ProcessInput } from './listening-input.js';
export { isListeningInput, isLoopingInput } from './listening-input.js';
export type { CpuBudget, MediaPlan, PlanSettings, TrackAction, TrackPlan } from './media-plan.js';
export { mediaPlanSchema, planMedia, trackPlanSchema } from './media-plan.js';
export type { PlanCheck } from './plan-check.js';
export { checkPlan } from './plan-check.js';
export type { ProbeOptions } from './probe-input.js';
export { probeInput } from './probe-input.js';
export { ffprobePathFor, probeInputOptions } from './probe-options.js';
export { redactCredentials } from './redact.js';
export {
  audioTranscodeCores,
  referenceRungCores,
  renditionCores,
  videoDecodeCores,
  videoTranscodeCores,
} from './transcode-cost.js';
export type {
  AudioMode,
  RenditionConfig,
  RenditionsSetting,
  VideoMode,
  Vp8Mode,
  WebRtcConfig,
  WebRtcConfigInput,
} from './webrtc-config.js';
export {
  audioModeSchema,
  renditionSchema,
  renditionsSettingSchema,
  videoModeSchema,
  vp8ModeSchema,
  webRtcConfigSchema,
} from './webrtc-config.js';
export type { RtpLeg, TrackKind, WebRtcLegOptions } from './webrtc-legs.js';
export {
  buildWebRtcLegs,
  droppedNalTypes,
  h264CopyBitstreamFilters,
  legToArgs,
  maxRtpPacketSize,
  producedRenditions,
  rungBenchmarkArgs,
  vp8OnDemandLeg,
  vp8PayloadType,
} from './webrtc-legs.js';
