// jeos lock / resolve / why, end to end on the compiled CLI against a signed loopback repository.
import assert from 'node:assert/strict';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startHarness, trixieRepo, type Harness } from './harness.js';

describe('jeos lock, resolve and why', () => {
  let h: Harness;
  let dir: string;
  const yaml = (packages: string[]) => `name: app\ndebian:\n  suites: [trixie, trixie-security]\nworkload:\n  packages: [${packages.join(', ')}]\n`;

  before(async () => {
    h = await startHarness(
      trixieRepo(
        [
          // app needs an httpd: big-httpd is listed first but tiny-httpd is smaller.
          { name: 'app', version: '2.0-1', depends: 'libapp (>= 2), big-httpd | tiny-httpd', installedSizeKiB: 50 },
          { name: 'libapp', version: '2.1-1', depends: 'libc', installedSizeKiB: 40 },
          { name: 'libc', version: '2.41-1', installedSizeKiB: 12000 },
          { name: 'big-httpd', version: '1', depends: 'libc', installedSizeKiB: 900 },
          { name: 'tiny-httpd', version: '1', depends: 'libc', installedSizeKiB: 30 },
          { name: 'old', version: '1', depends: 'libapp (>= 3)', installedSizeKiB: 1 },
        ],
        [{ name: 'libc', version: '2.41-1+deb13u1', installedSizeKiB: 12001 }],
      ),
    );
    dir = join(h.work, 'img');
    await mkdir(dir);
    await writeFile(join(dir, 'jeos.yaml'), yaml(['app']));
  });
  after(async () => {
    await h?.close();
  });

  test('lock writes the smallest closure with versions, suites, hashes and sizes; --json has the documented shape', async () => {
    const r = await h.jeos('lock', dir, '--json');
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout);
    assert.deepEqual(out.packages.map((p: { name: string }) => p.name), ['app', 'libapp', 'libc', 'tiny-httpd']);
    assert.equal(out.totalInstalledSize, 50 + 40 + 12001 + 30);
    const libc = out.packages.find((p: { name: string }) => p.name === 'libc');
    assert.deepEqual(Object.keys(libc).sort(), ['architecture', 'filename', 'installedSize', 'name', 'sha256', 'size', 'suite', 'version']);
    assert.equal(libc.version, '2.41-1+deb13u1', 'the security update wins');
    assert.equal(libc.suite, 'trixie-security');
    assert.match(libc.sha256, /^[0-9a-f]{64}$/);
    assert.match(libc.filename, /^pool\/main\/.*libc_2\.41-1\+deb13u1_amd64\.deb$/);

    const lock = JSON.parse(await readFile(join(dir, 'jeos.lock'), 'utf8'));
    assert.equal(lock.lockVersion, 1);
    assert.match(lock.configDigest, /^[0-9a-f]{64}$/);
    assert.deepEqual(lock.suites.map((s: { suite: string }) => s.suite), ['trixie', 'trixie-security']);
    assert.ok(lock.suites.every((s: { date: string }) => !Number.isNaN(Date.parse(s.date))), 'Release dates are recorded');
    const app = lock.packages.find((p: { name: string }) => p.name === 'app');
    assert.deepEqual(app.neededBy, ['(request)']);
    const tiny = lock.packages.find((p: { name: string }) => p.name === 'tiny-httpd');
    assert.deepEqual(tiny.neededBy, ['app: big-httpd | tiny-httpd']);
  });

  test('the lock is byte-identical when written again from the same inputs', async () => {
    const first = await readFile(join(dir, 'jeos.lock'));
    assert.equal((await h.jeos('lock', dir, '-q')).code, 0);
    assert.deepEqual(await readFile(join(dir, 'jeos.lock')), first);
  });

  test('lock prints the closure largest first with the total', async () => {
    const r = await h.jeos('lock', dir);
    assert.equal(r.code, 0, r.stderr);
    const names = r.stdout.split('\n').slice(1, 5).map((l) => l.split(/\s+/)[0]);
    assert.deepEqual(names, ['libc', 'app', 'libapp', 'tiny-httpd']);
    assert.match(r.stdout, /^4 packages, 11\.8 MiB installed \(12121 KiB\)$/m);
  });

  test('why explains from the lock, and says when the config changed since the lock was written', async () => {
    const fromLock = await h.jeos('why', 'libc', dir, '--json');
    assert.equal(fromLock.code, 0, fromLock.stderr);
    const w = JSON.parse(fromLock.stdout);
    assert.equal(w.source, 'lock');
    assert.deepEqual(w.paths, [['app', 'libapp', 'libc'], ['app', 'tiny-httpd', 'libc']]);
    assert.equal((await h.jeos('why', 'libc', dir)).stdout, 'app → libapp → libc\napp → tiny-httpd → libc\n');

    await writeFile(join(dir, 'jeos.yaml'), yaml(['app', 'big-httpd']));
    const stale = await h.jeos('why', 'big-httpd', dir);
    assert.equal(stale.code, 0, stale.stderr);
    assert.match(stale.stderr, /jeos\.lock was written for a different jeos\.yaml \(it changed since\); run jeos lock/);
    assert.equal(stale.stdout, 'big-httpd\n');
    const missing = await h.jeos('why', 'old', dir);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /error\[E_NOT_IN_IMAGE\]: old is not in the image/);
    await writeFile(join(dir, 'jeos.yaml'), yaml(['app']));
  });

  test('resolve answers for packages on the command line without writing anything', async () => {
    const r = await h.jeos('resolve', 'tiny-httpd', '--suite', 'trixie', '--json');
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout);
    assert.deepEqual(out.packages.map((p: { name: string }) => p.name), ['libc', 'tiny-httpd']);
    assert.equal(out.totalInstalledSize, 30 + 12001);
  });

  test('an unsatisfiable request names the chain of requirements', async () => {
    const r = await h.jeos('resolve', 'old', '--suite', 'trixie');
    assert.equal(r.code, 1);
    assert.match(r.stderr, /error\[E_UNSATISFIABLE\]: cannot install old: .*old needs libapp \(>= 3\), but the only libapp is 2\.1-1 \(trixie\)/);
    assert.match(r.stderr, /^hint: /m);
  });
});
