import { fileURLToPath } from 'node:url';
import { runInstalledPackages } from '@dragon/test-helpers';
import { describe, expect, it } from 'vitest';

// The package as a user installs it: packed with the Dragon packages it depends on, installed into
// a fresh project, imported there. Needs `pnpm build` first.
const packageDir = (name: string) => fileURLToPath(new URL(`../../${name}`, import.meta.url));

describe('@dragon/filesystems installed from its tarball into a fresh project', () => {
  it('serves a memfs file over its HTTP routes', async () => {
    const script = `
      import { createFsHttpRoutes, MemFilesystem } from '@dragon/filesystems';
      const mem = new MemFilesystem();
      await mem.write('/hello.txt', Buffer.from('hello'));
      const routes = createFsHttpRoutes({
        mounts: [{ filesystem: mem, mountpoint: '/memfs', allowWrite: false, defaultContentType: 'text/plain' }],
        clientAddress: () => '127.0.0.1',
      });
      const res = await routes.app.request('http://localhost/memfs/hello.txt');
      process.stdout.write(JSON.stringify({ status: res.status, text: await res.text() }));
    `;
    const output = await runInstalledPackages(
      ['filesystems', 'http-error', 'http-routes', 'restream', 'ffmpeg-args'].map(packageDir),
      script,
    );

    expect(JSON.parse(output)).toEqual({ status: 200, text: 'hello' });
  }, 240_000);
});
