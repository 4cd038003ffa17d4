import { type ProcessManager, processIdPattern } from '@dragon/restream';
import { Hono } from 'hono';
import { z } from 'zod';
import { ApiError, readJson } from './api-error.js';

const processFields = ['config', 'state', 'report', 'metadata'] as const;
type ProcessField = (typeof processFields)[number];

const commandSchema = z.object({ command: z.enum(['start', 'stop', 'restart', 'reload']) });

/** datarhei's `filter` query: a comma list of the parts to include; empty means all. */
function parseFilter(filter: string | undefined): Set<ProcessField> {
  const wanted = (filter ?? '')
    .split(',')
    .map((part) => part.trim())
    .filter((part): part is ProcessField => (processFields as readonly string[]).includes(part));
  return new Set(wanted.length > 0 ? wanted : processFields);
}

function checkId(id: string): string {
  if (!processIdPattern.test(id)) throw new ApiError(404, 'Unknown process ID', [`no process "${id}"`]);
  return id;
}

function requireProcess(manager: ProcessManager, id: string): string {
  checkId(id);
  if (!manager.has(id)) throw new ApiError(404, 'Unknown process ID', [`no process "${id}"`]);
  return id;
}

/** The datarhei Core v3 process API over a ProcessManager. */
export function createProcessRoutes(manager: ProcessManager): Hono {
  const routes = new Hono();

  const describe = (id: string, fields: Set<ProcessField>) => {
    const config = manager.getConfig(id);
    const process: Record<string, unknown> = {
      id,
      type: 'ffmpeg',
      reference: config.reference,
      created_at: manager.getCreatedAt(id),
    };
    if (fields.has('config')) process.config = config;
    if (fields.has('state')) process.state = manager.getState(id);
    if (fields.has('report')) process.report = manager.getReport(id);
    if (fields.has('metadata')) process.metadata = manager.getMetadata(id) ?? null;
    return process;
  };

  routes.get('/process', (c) => {
    const ids = c.req.query('id');
    const reference = c.req.query('reference');
    const idPattern = c.req.query('idpattern');
    const referencePattern = c.req.query('refpattern');
    const filter = {
      ...(ids ? { ids: ids.split(',').map((id) => id.trim()) } : {}),
      ...(reference ? { reference } : {}),
      ...(idPattern ? { idPattern } : {}),
      ...(referencePattern ? { referencePattern } : {}),
    };
    const fields = parseFilter(c.req.query('filter'));
    return c.json(manager.list(filter).map((id) => describe(id, fields)));
  });

  routes.post('/process', async (c) => {
    const body = await readJson(c);
    if (body !== null && typeof body === 'object' && 'type' in body && body.type !== 'ffmpeg') {
      throw new ApiError(400, 'Unsupported process type', ['only "ffmpeg" processes are supported']);
    }
    return c.json(await manager.add(body as never));
  });

  routes.get('/process/:id', (c) => {
    const id = requireProcess(manager, c.req.param('id'));
    return c.json(describe(id, parseFilter(c.req.query('filter'))));
  });

  routes.put('/process/:id', async (c) => {
    const id = requireProcess(manager, c.req.param('id'));
    return c.json(await manager.update(id, (await readJson(c)) as never));
  });

  routes.delete('/process/:id', async (c) => {
    await manager.remove(requireProcess(manager, c.req.param('id')));
    return c.json('OK');
  });

  routes.put('/process/:id/command', async (c) => {
    const id = requireProcess(manager, c.req.param('id'));
    const parsed = commandSchema.safeParse(await readJson(c));
    if (!parsed.success)
      throw new ApiError(400, 'Unknown command provided', ['expected start, stop, restart or reload']);
    await manager.command(id, parsed.data.command);
    return c.json('OK');
  });

  routes.get('/process/:id/config', (c) =>
    c.json(manager.getConfig(requireProcess(manager, c.req.param('id')))),
  );
  routes.get('/process/:id/state', (c) =>
    c.json(manager.getState(requireProcess(manager, c.req.param('id')))),
  );
  routes.get('/process/:id/report', (c) =>
    c.json(manager.getReport(requireProcess(manager, c.req.param('id')))),
  );
  routes.get('/process/:id/probe', async (c) =>
    c.json(await manager.probe(requireProcess(manager, c.req.param('id')))),
  );

  routes.get('/process/:id/metadata', (c) => {
    const id = requireProcess(manager, c.req.param('id'));
    return c.json((manager.getMetadata(id) as object | undefined) ?? {});
  });
  routes.get('/process/:id/metadata/:key', (c) => {
    const id = requireProcess(manager, c.req.param('id'));
    const value = manager.getMetadata(id, c.req.param('key'));
    if (value === undefined) throw new ApiError(404, 'Unknown key', [`no metadata "${c.req.param('key')}"`]);
    return c.json(value as object);
  });
  routes.put('/process/:id/metadata/:key', async (c) => {
    const id = requireProcess(manager, c.req.param('id'));
    const value = await readJson(c);
    await manager.setMetadata(id, c.req.param('key'), value);
    return c.json(value as object);
  });

  routes.get('/metadata', (c) => c.json((manager.getGlobalMetadata() as object | undefined) ?? {}));
  routes.get('/metadata/:key', (c) => {
    const value = manager.getGlobalMetadata(c.req.param('key'));
    if (value === undefined) throw new ApiError(404, 'Unknown key', [`no metadata "${c.req.param('key')}"`]);
    return c.json(value as object);
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
