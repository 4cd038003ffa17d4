export type { AtomicJsonFileOptions } from './atomic-json-file.js';
export { AtomicJsonFile } from './atomic-json-file.js';
export type {
  ProcessConfig,
  ProcessConfigInput,
  ProcessInputConfig,
  ProcessOutputConfig,
} from './config-schema.js';
export { processConfigSchema } from './config-schema.js';
export {
  AppendOutputOutsideStartError,
  FFmpegAccessDeniedError,
  FFmpegSpawnError,
  FFmpegUnavailableError,
  GlobSyntaxError,
  HookAbortedError,
  ManagerClosedError,
  ManagerOptionsInvalidError,
  MetadataKeyInvalidError,
  MetadataTooLargeError,
  NoSuchInputError,
  ProcessConfigInvalidError,
  ProcessExistsError,
  ProcessNotFoundError,
  StoreCorruptError,
  StoreFullError,
  StoreWriteError,
} from './errors.js';
export type { FFmpegAccessOptions } from './ffmpeg-access.js';
export { defaultFFmpegEnvironment } from './ffmpeg-access.js';
export type { AppendedOutput } from './ffmpeg-command.js';
export type { HardwareDevice } from './ffmpeg-devices.js';
export type { StreamFacts } from './ffmpeg-output-parser.js';
export type { ProbeResult, ProbeStream } from './ffmpeg-probe.js';
export { probeResultSchema } from './ffmpeg-probe.js';
export type { ExecState, RunExit } from './ffmpeg-run.js';
export { execStateSchema } from './ffmpeg-run.js';
export type { Skills } from './ffmpeg-skills.js';
export { minimumFFmpegVersion, skillsSchema, verifyFFmpeg } from './ffmpeg-skills.js';
export type { GlobOptions } from './glob.js';
export { compileGlob } from './glob.js';
export type { ListFilter } from './list-filter.js';
export { listFilterMatcher } from './list-filter.js';
export type { ManagerLogger, ProcessManagerOptions } from './manager-options.js';
export { processManagerOptionsSchema } from './manager-options.js';
export type {
  PlaceholderContext,
  PlaceholderParams,
  PlaceholderResolver,
  PlaceholderTemplate,
  PlaceholderTemplates,
} from './placeholders.js';
export { createPlaceholderResolver, placeholderTemplate, replacePlaceholders } from './placeholders.js';
export type { ProcessCommand, ProcessManagerEvents } from './process-manager.js';
export { ProcessManager } from './process-manager.js';
export type { ProcessField } from './process-query.js';
export { listFilterOf, parseFields } from './process-query.js';
export type { ProcessReportJson, ProcessStateJson, ProgressIoJson, ProgressJson } from './process-views.js';
export { processReportJsonSchema, processStateJsonSchema } from './process-views.js';
export type { ProcessHooks, StartContext, StopContext, StopReason } from './start-context.js';
