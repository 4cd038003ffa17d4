import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mismatches, responseSchema, type ShapeRules } from './datarhei-swagger.js';
import { type InProcessCore, startInProcessCore } from './in-process-core.js';

let server: InProcessCore;

const request = (path: string, init?: RequestInit) => server.request(path, init);
const json = async (path: string, init?: RequestInit) => {
  const answer = await request(path, init);
  return { status: answer.status, body: (await answer.json()) as unknown };
};
const send = (path: string, body: unknown, method: string) =>
  json(path, { method, body: JSON.stringify(body), headers: { 'Content-Type': 'application/json' } });

/** datarhei's own omissions and nils, and Dragon's additions. */
const rules: ShapeRules = {
  optional: {
    // Left out by the `filter` query.
    'api.Process': ['config', 'state', 'report', 'metadata'],
    'api.ProcessConfigIO': ['cleanup'],
    'api.ProgressIO': ['pix_fmt', 'width', 'height', 'sampling_hz', 'layout', 'channels'],
  },
  nullable: {
    'api.ProgressIO': ['avstream'],
    'api.SkillsCodec': ['encoders', 'decoders'],
  },
  extra: {
    'api.ProcessConfig': ['webrtc'],
    'api.ProcessReport': ['exit_state'],
    'api.ProcessReportHistoryEntry': ['exit_state'],
  },
};

/** A test pattern and a tone into two null outputs, logged with level prefixes. */
const process = {
  id: 'contract',
  reference: 'swagger',
  options: ['-loglevel', 'level+info'],
  input: [
    { id: 'pattern', address: 'testsrc2=size=160x120:rate=25', options: ['-re', '-f', 'lavfi'] },
    { id: 'tone', address: 'sine=sample_rate=48000', options: ['-re', '-f', 'lavfi'] },
  ],
  output: [
    {
      id: 'both',
      address: '-',
      options: ['-map', '0:v', '-map', '1:a', '-c:v', 'mpeg4', '-c:a', 'pcm_s16le', '-f', 'null'],
      cleanup: [{ pattern: 'memfs:/{processid}_*.ts', max_files: 3 }],
    },
    { id: 'video', address: '-', options: ['-map', '0:v', '-c:v', 'mpeg4', '-f', 'null'] },
  ],
  autostart: true,
};

type State = { exec: string; progress: { frame: number; outputs: unknown[]; inputs: unknown[] } };

async function waitForFrames(): Promise<State> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    const state = (await json('/api/v3/process/contract/state')).body as State;
    if (state.exec === 'running' && state.progress.frame > 0 && state.progress.outputs.length > 0)
      return state;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error('the contract process never reported frames');
}

beforeAll(async () => {
  server = await startInProcessCore();
  const added = await send('/api/v3/process', process, 'POST');
  expect(added.status).toBe(200);
  expect(mismatches(added.body, responseSchema('/api/v3/process', 'post', 200), rules)).toEqual([]);
  await waitForFrames();
  // A second run, so the report has a history entry.
  await send('/api/v3/process/contract/command', { command: 'restart' }, 'PUT');
  await waitForFrames();
  await send('/api/v3/process/contract/metadata/ui', { tab: 1 }, 'PUT');
});
afterAll(async () => {
  await server?.close();
});

describe("the process API against datarhei's API description, with a running FFmpeg", () => {
  const filters = ['', 'config', 'state', 'report', 'metadata', 'config,state,report,metadata', 'bogus'];

  it.each(filters)(
    'GET /api/v3/process?filter=%s lists processes in the documented shape',
    async (filter) => {
      const answer = await json(`/api/v3/process?filter=${filter}`);
      expect(answer.status).toBe(200);
      expect(answer.body).toHaveLength(1);
      expect(mismatches(answer.body, responseSchema('/api/v3/process', 'get', 200), rules)).toEqual([]);
    },
  );

  it.each(filters)('GET /api/v3/process/{id}?filter=%s answers in the documented shape', async (filter) => {
    const answer = await json(`/api/v3/process/contract?filter=${filter}`);
    expect(answer.status).toBe(200);
    expect(mismatches(answer.body, responseSchema('/api/v3/process/{id}', 'get', 200), rules)).toEqual([]);
  });

  it.each([
    ['config', '/api/v3/process/{id}/config'],
    ['state', '/api/v3/process/{id}/state'],
    ['report', '/api/v3/process/{id}/report'],
    ['probe', '/api/v3/process/{id}/probe'],
  ])('GET %s answers in the documented shape', async (part, path) => {
    const answer = await json(`/api/v3/process/contract/${part}`);
    expect(answer.status).toBe(200);
    expect(mismatches(answer.body, responseSchema(path, 'get', 200), rules)).toEqual([]);
  });

  it('fills the state with every input and output stream and moving counters', async () => {
    const state = (await json('/api/v3/process/contract/state')).body as {
      progress: { inputs: { id: string }[]; outputs: { id: string; type: string; frame: number }[] };
    };
    expect(state.progress.inputs.map((io) => io.id)).toEqual(['pattern', 'tone']);
    expect(state.progress.outputs.map((io) => `${io.id}:${io.type}`).sort()).toEqual([
      'both:audio',
      'both:video',
      'video:video',
    ]);
    expect(
      state.progress.outputs.find((io) => io.id === 'both' && io.type === 'video')?.frame,
    ).toBeGreaterThan(0);
    const report = (await json('/api/v3/process/contract/report')).body as {
      history: unknown[];
      prelude: string[];
    };
    expect(report.history.length).toBeGreaterThan(0);
    expect(report.prelude.length).toBeGreaterThan(0);
  });

  it('GET /api/v3/skills answers in the documented shape', async () => {
    const answer = await json('/api/v3/skills');
    expect(answer.status).toBe(200);
    expect(mismatches(answer.body, responseSchema('/api/v3/skills', 'get', 200), rules)).toEqual([]);
  });

  it('PUT /api/v3/process/{id} answers 200, 400 and 404 in the documented shapes', async () => {
    const schema = (status: number) => responseSchema('/api/v3/process/{id}', 'put', status);
    const merged = await send('/api/v3/process/contract', { reference: 'swagger-2' }, 'PUT');
    expect(merged.status).toBe(200);
    expect(mismatches(merged.body, schema(200), rules)).toEqual([]);
    const invalid = await send('/api/v3/process/contract', { input: [] }, 'PUT');
    expect(invalid.status).toBe(400);
    expect(mismatches(invalid.body, schema(400), rules)).toEqual([]);
    const unknown = await send('/api/v3/process/nope', process, 'PUT');
    expect(unknown.status).toBe(404);
    expect(mismatches(unknown.body, schema(404), rules)).toEqual([]);
  });

  it.each([
    ['/api/v3/process/{id}', 'get', '/api/v3/process/nope'],
    ['/api/v3/process/{id}/config', 'get', '/api/v3/process/nope/config'],
    ['/api/v3/process/{id}/state', 'get', '/api/v3/process/nope/state'],
    ['/api/v3/process/{id}/report', 'get', '/api/v3/process/nope/report'],
  ])('%s answers an unknown id with the documented 404', async (path, method, url) => {
    const answer = await json(url);
    expect(answer.status).toBe(404);
    expect(mismatches(answer.body, responseSchema(path, method, 404), rules)).toEqual([]);
  });

  it('checks what it claims: a misnamed or mistyped field is reported', () => {
    const schema = responseSchema('/api/v3/skills', 'get', 200);
    expect(mismatches({ filters: [] }, schema, rules)).toEqual(
      expect.arrayContaining(['$.filter: missing', "$.filters: not in datarhei's api.Skills"]),
    );
    expect(mismatches({ id: 5 }, { $ref: '#/definitions/api.ProcessConfigIO' }, rules)).toEqual([
      '$.address: missing',
      '$.id: not a string',
      '$.options: missing',
    ]);
  });
});
