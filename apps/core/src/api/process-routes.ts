import { HttpError } from '@dragon/http-error';
import {
  type ProcessConfig,
  type ProcessManager,
  processConfigSchema,
  processReportJsonSchema,
  processStateJsonSchema,
} from '@dragon/restream';
import { Hono } from 'hono';
import { z } from 'zod';
import { webRtcStateSchema } from '../webrtc/webrtc-status.js';
import { readJson } from './api-error.js';
import { bindProcessConfig } from './process-body.js';
import { listFilterOf, type ProcessField, parseFields } from './process-query.js';

const commands = ['start', 'stop', 'restart', 'reload'] as const;

/** The body of `PUT /api/v3/process/{id}/command`. */
export const commandBodySchema = z.object({ command: z.enum(commands) });

/** Metadata values are any JSON; a process or the server without any answers `null`. */
export const metadataSchema = z.json();

/** A process's state: datarhei's, and with WebRTC on, Dragon's `webrtc` (the plan and its legs' health). */
export const processStateSchema = processStateJsonSchema.extend({ webrtc: webRtcStateSchema.optional() });

/** datarhei's `api.Process`; `filter` picks which of config, state, report and metadata come along. */
export const processSchema = z.object({
  id: z.string(),
  type: z.literal('ffmpeg'),
  reference: z.string(),
  created_at: z.number(),
  updated_at: z.number(),
  config: processConfigSchema.optional(),
  state: processStateSchema.optional(),
  report: processReportJsonSchema.optional(),
  metadata: metadataSchema.optional(),
});

/** The bodies datarhei Core answers for an id it does not know. */
const unknownProcess = () => new HttpError(404, 'Unknown process ID', ['unknown process']);

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** Metadata as datarhei sends it: `null` when none is stored. */
function orNull(metadata: unknown): unknown {
  return isObject(metadata) && Object.keys(metadata).length === 0 ? null : metadata;
}

/**
 * A manager error as datarhei's handler words it for `action` (`Invalid process config` on add,
 * `Process can't be updated` on update); a type error in the body is its `Invalid JSON`.
 */
function configError(error: unknown, action: string): unknown {
  const code = (error as { code?: unknown }).code;
  if (code === 'PROCESS_EXISTS') return new HttpError(400, action, ['process already exists']);
  if (code !== 'PROCESS_CONFIG_INVALID') return error;
  const invalid = error as { issues: { code: string }[]; details: string[] };
  const typeError = invalid.issues.some((issue) => issue.code === 'invalid_type');
  return new HttpError(400, typeError ? 'Invalid JSON' : action, invalid.details);
}

export interface ProcessRoutesOptions {
  /**
   * Dragon's own fields of a process's state, added beside datarhei's (which stay as they are):
   * `{ webrtc: { plan, health } }` for a process with WebRTC.
   */
  stateExtras?: (id: string) => Record<string, unknown>;
}

/** The datarhei Core v3 process API over a ProcessManager: routes, statuses and bodies as datarhei's. */
export function createProcessRoutes(manager: ProcessManager, options: ProcessRoutesOptions = {}): Hono {
  const routes = new Hono();
  const state = (id: string) => ({ ...manager.getState(id), ...options.stateExtras?.(id) });

  const describe = (id: string, fields: Set<ProcessField>) => {
    const config = manager.getConfig(id);
    const process: z.input<typeof processSchema> = {
      id,
      type: 'ffmpeg',
      reference: config.reference,
      created_at: manager.getCreatedAt(id),
      updated_at: manager.getUpdatedAt(id),
    };
    if (fields.has('config')) process.config = config;
    if (fields.has('state')) process.state = state(id);
    if (fields.has('report')) process.report = manager.getReport(id);
    // datarhei leaves `metadata` out when a process has none.
    const metadata = fields.has('metadata') ? orNull(manager.getMetadata(id)) : null;
    // The store keeps only what parsed as JSON.
    if (metadata !== null) process.metadata = metadata as z.infer<typeof metadataSchema>;
    return process;
  };

  const requireProcess = (id: string) => {
    if (!manager.has(id)) throw unknownProcess();
    return id;
  };

  routes.get('/process', (c) => {
    const fields = parseFields(c.req.query('filter'));
    return c.json(manager.list(listFilterOf((name) => c.req.query(name))).map((id) => describe(id, fields)));
  });

  routes.post('/process', async (c) => {
    const body = bindProcessConfig(await readJson(c), {});
    if (body.type === '') {
      throw new HttpError(400, 'Unsupported process type', ['Supported process types are: ffmpeg']);
    }
    // Dragon adds WebRTC as an output of its own: a process may have no other.
    const webRtcOnly = isObject(body.webrtc) && body.webrtc.enabled === true;
    const outputs = (body.output as unknown[] | undefined) ?? [];
    if ((body.input as unknown[]).length === 0 || (outputs.length === 0 && !webRtcOnly)) {
      throw new HttpError(400, 'At least one input and one output need to be defined');
    }
    // An omitted id is generated; an empty one is an error, as in datarhei.
    if (typeof body.id === 'string' && body.id.trim() === '') {
      throw new HttpError(400, 'Invalid process config', ['an empty ID is not allowed']);
    }
    try {
      return c.json(await manager.add(body as never));
    } catch (error) {
      throw configError(error, 'Invalid process config');
    }
  });

  routes.get('/process/:id', (c) => {
    const id = requireProcess(c.req.param('id'));
    return c.json(describe(id, parseFields(c.req.query('filter'))));
  });

  // datarhei prefills the body with the current config, so a partial body changes only what it names.
  routes.put('/process/:id', async (c) => {
    const id = c.req.param('id');
    if (!manager.has(id)) throw new HttpError(404, 'Process not found', [id]);
    const current: ProcessConfig = manager.getConfig(id);
    const body = bindProcessConfig(await readJson(c), current as unknown as Record<string, unknown>);
    if (typeof body.id === 'string' && body.id.trim() === '') {
      throw new HttpError(400, "Process can't be updated", ['an empty ID is not allowed']);
    }
    try {
      return c.json(await manager.update(id, { ...body, type: 'ffmpeg' } as never));
    } catch (error) {
      if ((error as { code?: unknown }).code === 'PROCESS_NOT_FOUND') {
        throw new HttpError(404, 'Process not found', [id]);
      }
      throw configError(error, "Process can't be updated");
    }
  });

  routes.delete('/process/:id', async (c) => {
    await manager.remove(requireProcess(c.req.param('id')));
    return c.json('OK');
  });

  // datarhei checks the body first, and answers a command for an unknown id with 400.
  routes.put('/process/:id/command', async (c) => {
    const body = await readJson(c);
    if (!isObject(body))
      throw new HttpError(400, 'Invalid JSON', ['the body must be a JSON object (api.Command)']);
    const command = commands.find((known) => known === body.command);
    if (!command) {
      throw new HttpError(400, 'Unknown command provided', [
        'Known commands are: start, stop, reload, restart',
      ]);
    }
    const id = c.req.param('id');
    if (!manager.has(id)) throw new HttpError(400, 'Command failed', ['unknown process']);
    await manager.command(id, command);
    return c.json('OK');
  });

  routes.get('/process/:id/config', (c) => c.json(manager.getConfig(requireProcess(c.req.param('id')))));
  routes.get('/process/:id/state', (c) => c.json(state(requireProcess(c.req.param('id')))));
  routes.get('/process/:id/report', (c) => c.json(manager.getReport(requireProcess(c.req.param('id')))));
  // datarhei answers a probe of an unknown id with 200 and the reason in the log.
  routes.get('/process/:id/probe', async (c) => {
    const id = c.req.param('id');
    if (!manager.has(id)) return c.json({ streams: [], log: [`Unknown process ID (${id})`] });
    return c.json(await manager.probe(id));
  });

  routes.get('/process/:id/metadata', (c) =>
    c.json(orNull(manager.getMetadata(requireProcess(c.req.param('id'))))),
  );
  routes.get('/process/:id/metadata/:key', (c) => {
    const all = manager.getMetadata(requireProcess(c.req.param('id'))) as Record<string, unknown>;
    const key = c.req.param('key');
    if (!Object.hasOwn(all, key)) throw new HttpError(404, 'Unknown process ID', ['unknown key']);
    return c.json(all[key] as object);
  });
  routes.put('/process/:id/metadata/:key', async (c) => {
    const value = await readJson(c);
    await manager.setMetadata(requireProcess(c.req.param('id')), c.req.param('key'), value);
    return c.json(value as object);
  });

  routes.get('/metadata', (c) => c.json(orNull(manager.getGlobalMetadata())));
  routes.get('/metadata/:key', (c) => {
    const all = manager.getGlobalMetadata() as Record<string, unknown>;
    const key = c.req.param('key');
    if (!Object.hasOwn(all, key)) throw new HttpError(404, 'Metadata not found', ['unknown key']);
    return c.json(all[key] as object);
  });
  routes.put('/metadata/:key', async (c) => {
    const value = await readJson(c);
    await manager.setGlobalMetadata(c.req.param('key'), value);
    return c.json(value as object);
  });

  routes.get('/skills', (c) => c.json(manager.skills()));
  routes.get('/skills/reload', async (c) => c.json(await manager.reloadSkills()));

  return routes;
}
