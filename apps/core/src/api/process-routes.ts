import { HttpError } from '@dragon/http-error';
import { DeclaredRoutes, errorAnswer, jsonAnswer, named, okAnswer } from '@dragon/http-routes';
import {
  listFilterOf,
  type ProcessConfig,
  type ProcessField,
  type ProcessManager,
  parseFields,
  probeResultSchema,
  processConfigSchema,
  processReportJsonSchema,
  skillsSchema,
} from '@dragon/restream';
import { z } from 'zod';
import { readJson } from './api-error.js';
import { bindProcessConfig } from './process-body.js';
import {
  isObject,
  type metadataSchema,
  orNull,
  processSchema,
  processStateSchema,
  unknownProcess,
  unknownProcessAnswer,
} from './process-schemas.js';

const commands = ['start', 'stop', 'restart', 'reload'] as const;

/** The body of `PUT /api/v3/process/{id}/command`. */
export const commandBodySchema = z.object({ command: z.enum(commands) });

const config = named('ProcessConfig', processConfigSchema);
const configInput = named('ProcessConfigInput', processConfigSchema);
const skills = named('Skills', skillsSchema);

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
export function createProcessRoutes(
  manager: ProcessManager,
  options: ProcessRoutesOptions = {},
): DeclaredRoutes {
  const routes = new DeclaredRoutes();
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
  const param = (value: string | undefined) => value ?? '';

  routes.declare(
    {
      method: 'get',
      path: '/process',
      summary: 'List processes',
      query: {
        filter: 'Which of config, state, report and metadata to include (comma-separated)',
        reference: 'Only processes with this reference',
        id: 'Only these ids (comma-separated)',
        idpattern: 'Only ids matching this glob',
        refpattern: 'Only references matching this glob',
      },
      responses: { 200: jsonAnswer('Processes', named('ProcessList', z.array(processSchema))) },
    },
    (c) => {
      const fields = parseFields(c.req.query('filter'));
      return c.json(
        manager.list(listFilterOf((name) => c.req.query(name))).map((id) => describe(id, fields)),
      );
    },
  );

  routes.declare(
    {
      method: 'post',
      path: '/process',
      summary: 'Add a process',
      body: configInput,
      responses: { 200: jsonAnswer('The stored config', config), 400: errorAnswer('Invalid config') },
    },
    async (c) => {
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
    },
  );

  routes.declare(
    {
      method: 'get',
      path: '/process/{id}',
      summary: 'One process',
      query: { filter: 'Which of config, state, report and metadata to include (comma-separated)' },
      responses: { 200: jsonAnswer('Process', named('Process', processSchema)), ...unknownProcessAnswer },
    },
    (c) => {
      const id = requireProcess(param(c.req.param('id')));
      return c.json(describe(id, parseFields(c.req.query('filter'))));
    },
  );

  // datarhei prefills the body with the current config, so a partial body changes only what it names.
  routes.declare(
    {
      method: 'put',
      path: '/process/{id}',
      summary:
        "Merge a body into the process's config, as datarhei does: named fields change, the rest stays; another id renames (restarts it when running)",
      body: configInput,
      responses: {
        200: jsonAnswer('The stored config', config),
        400: errorAnswer('Invalid config'),
        ...unknownProcessAnswer,
      },
    },
    async (c) => {
      const id = param(c.req.param('id'));
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
    },
  );

  routes.declare(
    {
      method: 'delete',
      path: '/process/{id}',
      summary: 'Stop and delete a process',
      responses: { 200: okAnswer('OK'), ...unknownProcessAnswer },
    },
    async (c) => {
      await manager.remove(requireProcess(param(c.req.param('id'))));
      return c.json('OK');
    },
  );

  // datarhei checks the body first, and answers a command for an unknown id with 400.
  routes.declare(
    {
      method: 'put',
      path: '/process/{id}/command',
      summary: 'start, stop, restart or reload',
      body: named('Command', commandBodySchema),
      responses: { 200: okAnswer('OK'), 400: errorAnswer('Unknown command or process') },
    },
    async (c) => {
      const body = await readJson(c);
      if (!isObject(body))
        throw new HttpError(400, 'Invalid JSON', ['the body must be a JSON object (api.Command)']);
      const parsed = commandBodySchema.safeParse(body);
      if (!parsed.success) {
        throw new HttpError(400, 'Unknown command provided', [
          'Known commands are: start, stop, reload, restart',
        ]);
      }
      const id = param(c.req.param('id'));
      if (!manager.has(id)) throw new HttpError(400, 'Command failed', ['unknown process']);
      await manager.command(id, parsed.data.command);
      return c.json('OK');
    },
  );

  routes.declare(
    {
      method: 'get',
      path: '/process/{id}/config',
      summary: "The process's config",
      responses: { 200: jsonAnswer('Config', config), ...unknownProcessAnswer },
    },
    (c) => c.json(manager.getConfig(requireProcess(param(c.req.param('id'))))),
  );
  routes.declare(
    {
      method: 'get',
      path: '/process/{id}/state',
      summary:
        "The process state, as datarhei's; with WebRTC on, Dragon adds `webrtc`: the latest start's media plan and its legs' health",
      responses: {
        200: jsonAnswer('State', named('ProcessState', processStateSchema)),
        ...unknownProcessAnswer,
      },
    },
    (c) => c.json(state(requireProcess(param(c.req.param('id'))))),
  );
  routes.declare(
    {
      method: 'get',
      path: '/process/{id}/report',
      summary: "The current (or last) run's prelude and log, and the runs before it",
      responses: {
        200: jsonAnswer('Report', named('ProcessReport', processReportJsonSchema)),
        ...unknownProcessAnswer,
      },
    },
    (c) => c.json(manager.getReport(requireProcess(param(c.req.param('id'))))),
  );
  // datarhei answers a probe of an unknown id with 200 and the reason in the log.
  routes.declare(
    {
      method: 'get',
      path: '/process/{id}/probe',
      summary:
        "The streams FFmpeg finds in the process's inputs (an unknown id: 200 with the reason in `log`)",
      responses: { 200: jsonAnswer('Probe', named('Probe', probeResultSchema)) },
    },
    async (c) => {
      const id = param(c.req.param('id'));
      if (!manager.has(id)) return c.json({ streams: [], log: [`Unknown process ID (${id})`] });
      return c.json(await manager.probe(id));
    },
  );

  routes.declare(
    {
      method: 'get',
      path: '/skills',
      summary: 'What the installed FFmpeg can do',
      responses: { 200: jsonAnswer('Skills', skills) },
    },
    (c) => c.json(manager.skills()),
  );
  routes.declare(
    {
      method: 'get',
      path: '/skills/reload',
      summary: 'Detect FFmpeg skills again',
      responses: { 200: jsonAnswer('Skills', skills) },
    },
    async (c) => c.json(await manager.reloadSkills()),
  );

  return routes;
}
