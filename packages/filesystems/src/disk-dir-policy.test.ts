import { mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { realPathOf, unpublishableReason } from './disk-dir-policy.js';

const base = mkdtempSync(join(tmpdir(), 'dragon-dirs-'));
afterAll(() => rmSync(base, { recursive: true, force: true }));

const dataDir = join(base, 'config');
mkdirSync(dataDir, { recursive: true });
const keep = [{ name: 'db.dir', path: dataDir }];
const home = join(base, 'home-of-the-server');
const reason = (directory: string) => unpublishableReason('storage.disk.dir', directory, keep, home);

describe('unpublishableReason', () => {
  it.each([
    ['/'],
    ['/etc'],
    ['/etc/ssl'],
    ['/proc'],
    ['/proc/self'],
    ['/sys/kernel'],
    ['/dev'],
    ['/boot'],
    ['/run/secrets'],
    ['/var/run'],
    ['/usr/share'],
    ['/bin'],
    ['/lib'],
    ['/var'],
    ['/var/lib'],
    ['/root'],
    ['/home'],
    ['/home/alice'],
    ['/tmp'],
  ])('refuses %s', (directory) => {
    expect(reason(directory)).toMatch(/^storage\.disk\.dir: /);
  });

  it.each([
    ['/srv/dragon'],
    ['/var/lib/dragon/data'],
    ['/root/dragon/data'],
    ['/home/alice/streams'],
    ['/dev/shm/hls'],
  ])('accepts %s', (directory) => {
    expect(reason(directory)).toBeUndefined();
  });

  it('refuses a directory that contains the data directory or is it, accepts one inside it or beside it', () => {
    expect(reason(dataDir)).toContain('contains db.dir');
    expect(reason(base)).toContain('contains db.dir');
    expect(reason(join(dataDir, 'disk'))).toBeUndefined();
    expect(reason(join(base, 'data'))).toBeUndefined();
    expect(reason(home)).toContain('contains');
  });

  it('judges a directory by where its symbolic links lead', () => {
    const toParent = join(base, 'public-link');
    symlinkSync(base, toParent);
    expect(reason(toParent)).toContain(`really ${realPathOf(base)}`);
    const throughLink = join(base, 'via');
    symlinkSync('/', throughLink);
    expect(reason(join(throughLink, 'etc'))).toContain('system directory /etc');
    // Not there yet: judged by its deepest existing ancestor.
    expect(reason(join(throughLink, 'etc', 'not-yet', 'there'))).toContain('system directory /etc');
    const toEtc = join(base, 'etc-link');
    symlinkSync('/etc', toEtc);
    expect(reason(toEtc)).toContain('system directory /etc');
  });
});
