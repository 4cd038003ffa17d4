export type {
  ProcessConfig,
  ProcessConfigInput,
  ProcessInputConfig,
  ProcessOutputConfig,
} from './config-schema.js';
export { processConfigSchema, processIdPattern } from './config-schema.js';
export {
  AppendOutputOutsideStartError,
  FFmpegUnavailableError,
  HookAbortedError,
  ManagerClosedError,
  MetadataKeyInvalidError,
  ProcessConfigInvalidError,
  ProcessExistsError,
  ProcessNotFoundError,
  StoreCorruptError,
} from './errors.js';
export type { AppendedOutput } from './ffmpeg-command.js';
export type { HardwareDevice } from './ffmpeg-devices.js';
export type { ProbeResult, ProbeStream } from './ffmpeg-probe.js';
export type { ExecState, RunExit } from './ffmpeg-run.js';
export type { Skills } from './ffmpeg-skills.js';
export { minimumFFmpegVersion } from './ffmpeg-skills.js';
export type {
  PlaceholderContext,
  PlaceholderParams,
  PlaceholderResolver,
  PlaceholderTemplate,
  PlaceholderTemplates,
} from './placeholders.js';
export { createPlaceholderResolver, placeholderTemplate, replacePlaceholders } from './placeholders.js';
export type {
  ListFilter,
  ManagerLogger,
  ProcessCommand,
  ProcessHooks,
  ProcessManagerOptions,
} from './process-manager.js';
export { ProcessManager } from './process-manager.js';
export type { ProcessReportJson, ProcessStateJson, ProgressIoJson, ProgressJson } from './process-views.js';
