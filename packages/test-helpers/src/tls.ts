import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A self-signed certificate for `localhost` made with OpenSSL (for RTMPS); `remove()` deletes it. */
export function selfSignedCertificate(): { certFile: string; keyFile: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'dragon-rtmps-'));
  const [certFile, keyFile] = [join(dir, 'cert.pem'), join(dir, 'key.pem')];
  const made = spawnSync('openssl', [
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:prime256v1',
    '-nodes',
    '-keyout',
    keyFile,
    '-out',
    certFile,
    '-subj',
    '/CN=localhost',
    '-days',
    '1',
  ]);
  if (made.status !== 0) throw new Error(`openssl failed: ${made.stderr.toString()}`);
  return { certFile, keyFile, remove: () => rmSync(dir, { recursive: true, force: true }) };
}
