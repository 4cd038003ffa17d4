import { webRtcConfigSchema } from '@dragon/ffmpeg-args';
import { z } from 'zod';
import { GlobSyntaxError } from './errors.js';
import { compileGlob } from './glob.js';

/**
 * Process ids (and metadata keys) become URL path segments, file names and log fields: no
 * slashes, no spaces, bounded, and not `.` or `..`, which no URL can address as a segment.
 */
export const processIdPattern = /^(?!\.\.?$)[A-Za-z0-9_.:-]{1,128}$/;
const ioIdPattern = /^[A-Za-z0-9_.:-]{0,128}$/;

/**
 * A NUL cannot be passed to a program at all (spawn refuses it) and other control characters have
 * no place in an address; options may keep tab, CR and LF (`-headers` needs CRLF).
 */
function hasControlCharacter(text: string, allowed: readonly number[] = []): boolean {
  for (let index = 0; index < text.length; index++) {
    const code = text.charCodeAt(index);
    if ((code < 0x20 || code === 0x7f) && !allowed.includes(code)) return true;
  }
  return false;
}
const optionWhitespace = [0x09, 0x0a, 0x0d];

/**
 * Which rules a config is held to. `new` is every config the API hands in. `stored` is a config read
 * back from the process store: an id `.`/`..` and control characters were accepted before they were
 * refused, and a store that holds them must still load (the manager logs what no longer passes).
 */
type Rules = 'new' | 'stored';

function optionList(rules: Rules) {
  const option = z.string().max(4096);
  return z
    .array(
      rules === 'stored'
        ? option
        : option.refine(
            (text) => !hasControlCharacter(text, optionWhitespace),
            'control characters are not allowed',
          ),
    )
    .max(512)
    .default([]);
}

/** An address or the reference, which expands into addresses. */
function addressText(rules: Rules, max: number) {
  const text = z.string().max(max);
  return rules === 'stored'
    ? text
    : text.refine((value) => !hasControlCharacter(value), 'control characters are not allowed');
}

/** The glob of a cleanup pattern (`memfs:/{processid}_*.ts`), or why it is not one. */
function cleanupGlobProblem(pattern: string): string | undefined {
  try {
    // Placeholders (`{processid}`) read as one-alternative groups: valid before and after expansion.
    compileGlob(pattern.replace(/^[a-z]+:/, ''), { separator: '/', extended: true });
    return undefined;
  } catch (error) {
    if (error instanceof GlobSyntaxError) return error.reason;
    throw error;
  }
}

function cleanupSchema(rules: Rules) {
  const pattern = z.string().min(1);
  return z.object({
    // Checked here so a bad glob is a 400 at the API, not a rule that fails every second.
    pattern:
      rules === 'stored'
        ? pattern
        : pattern.check((ctx) => {
            const problem = cleanupGlobProblem(ctx.value);
            if (problem) {
              ctx.issues.push({ code: 'custom', message: `not a valid glob: ${problem}`, input: ctx.value });
            }
          }),
    max_files: z.number().int().min(0).default(0),
    max_file_age_seconds: z.number().int().min(0).default(0),
    purge_on_delete: z.boolean().default(false),
  });
}

function inputSchema(rules: Rules) {
  return z.object({
    id: z.string().regex(ioIdPattern, 'letters, digits, _ . : - only').default(''),
    address: addressText(rules, 8192).min(1),
    options: optionList(rules),
  });
}

function buildProcessConfigSchema(rules: Rules) {
  const processId =
    rules === 'stored'
      ? /^(?:[A-Za-z0-9_.:-]{1,128})?$/
      : new RegExp(`^(?:${processIdPattern.source.slice(1, -1)})?$`);
  return z
    .object({
      id: z
        .string()
        // Empty: the manager generates one.
        .regex(processId, 'letters, digits, _ . : - only, at most 128, and not "." or ".."')
        .default(''),
      type: z.literal('ffmpeg').default('ffmpeg'),
      // `{reference}` expands into addresses, so it obeys their rule.
      reference: addressText(rules, 1024).default(''),
      input: z.array(inputSchema(rules)).min(1, 'at least one input').max(64),
      output: z
        .array(inputSchema(rules).extend({ cleanup: z.array(cleanupSchema(rules)).max(64).default([]) }))
        .max(64)
        .default([]),
      options: optionList(rules),
      reconnect: z.boolean().default(false),
      reconnect_delay_seconds: z.number().int().min(0).max(86_400).default(0),
      autostart: z.boolean().default(true),
      stale_timeout_seconds: z.number().int().min(0).max(86_400).default(0),
      limits: z
        .object({
          cpu_usage: z.number().min(0).default(0),
          memory_mbytes: z.number().int().min(0).default(0),
          waitfor_seconds: z.number().int().min(0).default(0),
        })
        .prefault({}),
      // Absent stays absent: the server may decide for processes whose config does not say.
      webrtc: webRtcConfigSchema.optional(),
    })
    .check((ctx) => {
      const config = ctx.value;
      if (config.output.length === 0 && !config.webrtc?.enabled) {
        ctx.issues.push({
          code: 'custom',
          message: 'at least one output, or webrtc.enabled',
          path: ['output'],
          input: config.output,
        });
      }
      for (const [kind, list] of [
        ['input', config.input],
        ['output', config.output],
      ] as const) {
        const seen = new Set<string>();
        list.forEach((io, index) => {
          if (io.id && seen.has(io.id)) {
            ctx.issues.push({
              code: 'custom',
              message: `duplicate ${kind} id "${io.id}"`,
              path: [kind, index, 'id'],
              input: io.id,
            });
          }
          seen.add(io.id);
        });
      }
    });
}

/**
 * A process config, field for field as datarhei Core v3's `ProcessConfig`, plus `webrtc`. An omitted
 * field defaults as a `POST /api/v3/process` to datarhei Core defaults it: `autostart` is true (the
 * API handler presets it), everything else is Go's zero value — `reconnect` false,
 * `reconnect_delay_seconds` and `stale_timeout_seconds` 0, limits 0 (none).
 */
export const processConfigSchema = buildProcessConfigSchema('new');

/** A config as the process store holds it: {@link processConfigSchema} without the rules added later. */
export const storedProcessConfigSchema = buildProcessConfigSchema('stored');

export type ProcessConfig = z.infer<typeof processConfigSchema>;
export type ProcessConfigInput = z.input<typeof processConfigSchema>;
export type ProcessInputConfig = ProcessConfig['input'][number];
export type ProcessOutputConfig = ProcessConfig['output'][number];

/** Fills empty ids: a random process id, `in_N`/`out_N` for inputs and outputs, never clashing. */
export function withGeneratedIds(config: ProcessConfig, randomId: () => string): ProcessConfig {
  const fill = <T extends { id: string }>(list: T[], prefix: string): T[] => {
    const taken = new Set(list.map((io) => io.id).filter((id) => id !== ''));
    let counter = 0;
    return list.map((io) => {
      if (io.id) return io;
      while (taken.has(`${prefix}_${counter}`)) counter++;
      const id = `${prefix}_${counter}`;
      taken.add(id);
      return { ...io, id };
    });
  };
  return {
    ...config,
    id: config.id || randomId(),
    input: fill(config.input, 'in'),
    output: fill(config.output, 'out'),
  };
}
