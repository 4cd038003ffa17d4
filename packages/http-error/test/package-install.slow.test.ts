import { fileURLToPath } from 'node:url';
import { runInstalledPackages } from '@dragon/test-helpers';
import { describe, expect, it } from 'vitest';

// The package as a user installs it: packed, installed into a fresh project, imported there.
// Needs `pnpm build` first.
const packageDir = fileURLToPath(new URL('..', import.meta.url));

describe('@dragon/http-error installed from its tarball into a fresh project', () => {
  it('builds the answer of an HttpError', async () => {
    const script = `
      import { errorBodySchema, HttpError } from '@dragon/http-error';
      const res = new HttpError(404, 'Not here', ['x'], { code: 'NOPE' }).getResponse();
      const body = errorBodySchema.parse(await res.json());
      process.stdout.write(JSON.stringify({ status: res.status, body }));
    `;
    const output = await runInstalledPackages([packageDir], script);

    expect(JSON.parse(output)).toEqual({
      status: 404,
      body: { code: 404, message: 'Not here', details: ['NOPE', 'x'] },
    });
  }, 300_000);
});
