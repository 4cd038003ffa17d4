import {
  listFilterMatcher,
  listFilterOf,
  type ProcessField,
  type ProcessManager,
  parseFields,
} from '@dragon/restream';
import { type Context, Hono } from 'hono';
import type { Logger } from 'pino';
import type { NodeRecord, ProcessRecord } from './cluster-records.js';
import { NodeUnreachableError, ProcessExistsOnNodeError } from './errors.js';
import { forwardedHeader, type NodeRequest } from './node-auth.js';

export interface ClusterProcessApiOptions {
  nodeId: string;
  manager: ProcessManager;
  /** Every process record in Redis. */
  records(): Promise<ProcessRecord[]>;
  record(processId: string): Promise<ProcessRecord | undefined>;
  /** A live node by id. */
  node(nodeId: string): Promise<NodeRecord | undefined>;
  /** Headers that let exactly this request past the login of the node it goes to (see NodeAuth). */
  nodeHeaders(request: NodeRequest): Record<string, string>;
  /** A process was created or changed here through the API. */
  changed(processId: string): Promise<void>;
  /** Forgets the record of a process whose node is gone. */
  forget(processId: string, nodeId: string): Promise<void>;
  logger: Logger;
}

type ProcessJson = Record<string, unknown> & { id: string };

/** Process ids in the order the local list has them (code units, as `Array.prototype.sort`). */
const byId = (a: ProcessJson, b: ProcessJson) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

/**
 * The process API across the cluster, in front of the local process routes: the list shows every
 * process of every node (local ones from the manager, the others from their records in Redis, each
 * with the `core_id` of the node that runs it, as datarhei's cluster does); a request for a process
 * another node runs is forwarded to that node, signed as coming from this one.
 */
export function clusterProcessApi(options: ClusterProcessApiOptions): Hono {
  const { nodeId, manager, logger } = options;
  const routes = new Hono();

  const forward = async (c: Context, node: NodeRecord): Promise<Response> => {
    const url = `${node.url}${c.req.path}${new URL(c.req.url).search}`;
    const method = c.req.method;
    const body = method === 'GET' || method === 'HEAD' ? undefined : await c.req.arrayBuffer();
    let response: Response;
    try {
      response = await fetch(url, {
        method,
        headers: {
          ...options.nodeHeaders({ to: node.id, method, url, body }),
          'Content-Type': c.req.header('content-type') ?? 'application/json',
        },
        ...(body ? { body } : {}),
        signal: AbortSignal.timeout(10_000),
      });
    } catch (error) {
      throw new NodeUnreachableError(node.id, { cause: error });
    }
    const headers = new Headers();
    const type = response.headers.get('content-type');
    if (type) headers.set('Content-Type', type);
    return new Response(response.body, { status: response.status, headers });
  };

  /** A record answered here because its node is gone: its last state, marked as such. */
  const fromRecord = (record: ProcessRecord, fields: Set<ProcessField>, live: boolean): ProcessJson => {
    const process: ProcessJson = {
      id: record.id,
      type: 'ffmpeg',
      reference: record.reference,
      created_at: record.created_at,
      updated_at: record.updated_at,
      core_id: record.node,
    };
    if (fields.has('config')) process.config = record.config;
    if (fields.has('state')) {
      process.state = live
        ? record.state
        : { ...record.state, exec: 'failed', last_logline: `node ${record.node} does not answer` };
    }
    if (fields.has('report')) process.report = null;
    // datarhei leaves `metadata` out when a process has none, as the local routes do.
    if (fields.has('metadata') && Object.keys(record.metadata).length > 0) process.metadata = record.metadata;
    return process;
  };

  /** Reports of processes on other nodes: one request per node, for the ids it runs. */
  const reports = async (records: ProcessRecord[]): Promise<Map<string, unknown>> => {
    const byNode = new Map<string, ProcessRecord[]>();
    for (const record of records) byNode.set(record.node, [...(byNode.get(record.node) ?? []), record]);
    const found = new Map<string, unknown>();
    await Promise.all(
      [...byNode].map(async ([id, list]) => {
        const node = await options.node(id);
        if (!node) return;
        const ids = list.map((record) => record.id).join(',');
        const url = `${node.url}/api/v3/process?filter=report&id=${encodeURIComponent(ids)}`;
        try {
          const response = await fetch(url, {
            headers: options.nodeHeaders({ to: node.id, method: 'GET', url }),
            signal: AbortSignal.timeout(5000),
          });
          if (!response.ok) return;
          for (const process of (await response.json()) as ProcessJson[])
            found.set(process.id, process.report);
        } catch (error) {
          logger.warn({ node: id, err: error }, 'could not read reports from a node');
        }
      }),
    );
    return found;
  };

  routes.get('/process', async (c, next) => {
    await next();
    if (c.res.status !== 200 || c.req.header(forwardedHeader)) return;
    const local = (await c.res.json()) as ProcessJson[];
    for (const process of local) process.core_id = nodeId;
    const fields = parseFields(c.req.query('filter'));
    const matches = listFilterMatcher(listFilterOf((name) => c.req.query(name)));
    const remote = (await options.records()).filter(
      (record) => !manager.has(record.id) && record.node !== nodeId && matches(record),
    );
    const remoteReports = fields.has('report') ? await reports(remote) : new Map<string, unknown>();
    const live = new Set<string>();
    for (const id of new Set(remote.map((record) => record.node))) if (await options.node(id)) live.add(id);
    const merged = [
      ...local,
      ...remote.map((record) => {
        const process = fromRecord(record, fields, live.has(record.node));
        if (remoteReports.has(record.id)) process.report = remoteReports.get(record.id);
        return process;
      }),
    ].sort(byId);
    c.res = c.json(merged);
  });

  routes.post('/process', async (c, next) => {
    const body = (await c.req.json().catch(() => undefined)) as { id?: unknown } | undefined;
    const id = typeof body?.id === 'string' ? body.id : '';
    const existing = id && !manager.has(id) ? await options.record(id) : undefined;
    if (existing && existing.node !== nodeId) throw new ProcessExistsOnNodeError(id, existing.node);
    await next();
    if (c.res.status === 200) {
      const created = (await c.res.clone().json()) as { id?: string };
      if (created.id) await options.changed(created.id);
    }
  });

  const perProcess = async (c: Context, next: () => Promise<void>) => {
    const id = c.req.param('id') ?? '';
    const sub = c.req.path.slice(c.req.path.indexOf(`/process/${id}`) + `/process/${id}`.length);
    if (manager.has(id) || c.req.header(forwardedHeader)) {
      await next();
      if (c.res.status !== 200 || !manager.has(id)) return;
      if (c.req.method !== 'GET') await options.changed(id);
      else if (sub === '') c.res = c.json({ ...((await c.res.json()) as object), core_id: nodeId });
      return;
    }
    const record = await options.record(id);
    if (!record) return next(); // unknown everywhere: the local routes answer 404
    const node = await options.node(record.node);
    if (node) return forward(c, node);
    // Its node is gone: what can be answered from the record is; a delete forgets it.
    if (c.req.method === 'DELETE' && sub === '') {
      await options.forget(id, record.node);
      return c.json('OK');
    }
    if (c.req.method === 'GET' && sub === '')
      return c.json(fromRecord(record, parseFields(c.req.query('filter')), false));
    if (c.req.method === 'GET' && sub === '/config') return c.json(record.config);
    if (c.req.method === 'GET' && sub === '/metadata') return c.json(record.metadata);
    throw new NodeUnreachableError(record.node);
  };
  routes.all('/process/:id', perProcess);
  routes.all('/process/:id/*', perProcess);
  return routes;
}
