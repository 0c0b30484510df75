import assert from 'node:assert/strict';
import { cp, mkdtemp, readdir, readFile, rm, stat, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { buildSignedRepo, type SignedRepo } from '../../test/fixtures/signed-repo.js';
import { serveDirectory, type Served } from '../../test/fixtures/serve.js';
import { JeosError } from '../errors.js';
import { candidateOf } from './candidates.js';
import { resolveSettings, type Settings } from '../settings/index.js';
import { openArchive } from './open.js';

/** Every file under dir, relative paths. */
async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []);
  return entries.filter((e) => e.isFile()).map((e) => join(e.parentPath ?? (e as unknown as { path: string }).path, e.name).slice(dir.length + 1));
}

async function rejectsWith(promise: Promise<unknown>, code: string, message?: RegExp): Promise<JeosError> {
  try {
    await promise;
  } catch (e) {
    assert.ok(e instanceof JeosError, `expected JeosError ${code}, got ${String((e as Error)?.stack ?? e)}`);
    assert.equal(e.code, code, `expected ${code}, got ${e.code}: ${e.message}`);
    if (message) assert.match(e.message, message);
    assert.ok(e.hint && e.hint.length > 10, `${code} has a hint`);
    return e;
  }
  assert.fail(`expected ${code}, but it succeeded`);
}

const nextWeek = new Date(Date.now() + 7 * 86400_000);
const lastWeek = new Date(Date.now() - 7 * 86400_000);

describe('archive client against a signed repository on loopback', () => {
  let repo: SignedRepo;
  let served: Served;
  const cleanups: Array<() => Promise<void>> = [];

  before(async () => {
    repo = await buildSignedRepo({
      suites: [
        {
          suite: 'stable',
          codename: 'trixie',
          validUntil: nextWeek,
          packages: [
            { name: 'web', version: '1.0-1', depends: 'libweb (>= 1.0)', description: 'a web server' },
            { name: 'libweb', version: '1.0-1', multiArch: 'same', description: 'web library' },
            { name: 'tool', version: '2.0', architecture: 'all', description: 'a tool for everyone' },
          ],
        },
        {
          suite: 'stable-security',
          codename: 'trixie-security',
          validUntil: nextWeek,
          packages: [{ name: 'web', version: '1.0-1+deb13u1', depends: 'libweb (>= 1.0)', description: 'a web server' }],
        },
        { suite: 'old', codename: 'expired', validUntil: lastWeek, packages: [{ name: 'web', version: '0.9' }] },
      ],
    });
    served = await serveDirectory(repo.root);
  });
  after(async () => {
    await served?.close();
    await repo?.cleanup();
    for (const c of cleanups) await c();
  });

  async function settings(extra: { keyring?: string; suites?: string[]; offline?: boolean; mirror?: string } = {}): Promise<Settings> {
    const cacheDir = await mkdtemp(join(tmpdir(), 'jeos-cache-'));
    cleanups.push(() => rm(cacheDir, { recursive: true, force: true }));
    const mirror = extra.mirror ?? served.url;
    return resolveSettings({
      flags: { mirror, securityMirror: mirror, keyring: extra.keyring ?? repo.keyring, cacheDir, offline: extra.offline },
      env: {},
      aptEtc: '/nonexistent',
      debian: { suites: extra.suites ?? ['trixie', 'trixie-security'] },
    });
  }

  test('loads verified indices by hash, and the newest version across suites is the candidate', async () => {
    const s = await settings();
    const before = served.requests.length;
    const index = await openArchive(s);
    assert.equal(index.packages.length, 4);
    assert.equal(candidateOf(index, 'web')?.version, '1.0-1+deb13u1');
    assert.equal(candidateOf(index, 'web')?.suite, 'trixie-security');
    assert.equal(candidateOf(index, 'tool')?.architecture, 'all');
    assert.equal(candidateOf(index, 'libweb')?.multiArch, 'same');
    const requested = served.requests.slice(before);
    assert.ok(requested.some((p) => /\/dists\/trixie\/main\/binary-amd64\/by-hash\/SHA256\/[0-9a-f]{64}$/.test(p)), requested.join('\n'));
    assert.ok(index.suites[0]!.release.date instanceof Date);

    // The cache now serves an offline load, with the same answer and no network.
    const count = served.requests.length;
    const offline = await openArchive({ ...s, offline: true });
    assert.equal(served.requests.length, count);
    assert.deepEqual(offline.packages.map((p) => `${p.name}=${p.version}`).sort(), index.packages.map((p) => `${p.name}=${p.version}`).sort());
    // …including from the raw index when the pre-parsed form is gone.
    await rm(join(s.cacheDir, 'parsed'), { recursive: true });
    assert.equal((await openArchive({ ...s, offline: true })).packages.length, 4);
  });

  test('a tampered InRelease is refused', async () => {
    const dir = join(repo.root, 'dists', 'stable');
    const original = await readFile(join(dir, 'InRelease'), 'utf8');
    try {
      await writeFile(join(dir, 'InRelease'), original.replace(/^Suite: stable$/m, 'Suite: stabIe'));
      const s = await settings();
      await rejectsWith(openArchive(s), 'E_SIGNATURE_INVALID', /InRelease of trixie/);
      const cached = await filesUnder(s.cacheDir);
      assert.ok(!cached.some((f) => f.endsWith('/trixie/InRelease')), `the refused InRelease is not cached: ${cached.join(', ')}`);
      assert.ok(!cached.some((f) => f.includes('.tmp-')), 'no temporary files are left');
    } finally {
      await writeFile(join(dir, 'InRelease'), original);
    }
  });

  test('a tampered Packages index is refused and never enters the cache', async () => {
    const dir = join(repo.root, 'dists', 'stable', 'main', 'binary-amd64');
    const byHash = join(dir, 'by-hash', 'SHA256');
    const saved = await mkdtemp(join(tmpdir(), 'jeos-saved-'));
    cleanups.push(() => rm(saved, { recursive: true, force: true }));
    await cp(dir, saved, { recursive: true });
    try {
      for (const name of await readdir(byHash)) await writeFile(join(byHash, name), 'not the index\n');
      await writeFile(join(dir, 'Packages.xz'), 'not the index\n');
      const s = await settings();
      await rejectsWith(openArchive(s), 'E_INDEX_HASH_MISMATCH', /does not match the signed Release/);
      const cached = await filesUnder(s.cacheDir);
      for (const f of cached) {
        const content = await readFile(join(s.cacheDir, f), 'utf8');
        assert.ok(!content.includes('not the index'), `the bad index must not be cached, found in ${f}`);
        assert.ok(!content.includes('a tool for everyone'), `nothing of trixie's index is cached, found in ${f}`);
      }
      assert.ok(!cached.some((f) => f.includes('.tmp-')), 'no temporary files are left');
    } finally {
      await rm(dir, { recursive: true });
      await cp(saved, dir, { recursive: true });
    }
  });

  test('an InRelease signed by a key outside the keyring is refused', async () => {
    const s = await settings({ keyring: repo.otherKeyring });
    await rejectsWith(openArchive(s), 'E_SIGNATURE_UNKNOWN_KEY', /not in the keyring/);
  });

  test('expired metadata (Valid-Until in the past) is refused', async () => {
    await rejectsWith(openArchive(await settings({ suites: ['expired'] })), 'E_RELEASE_EXPIRED', /expired on/);
  });

  test('a Release that describes another suite than the one asked for is refused', async () => {
    // Serve trixie's (validly signed) metadata under the name forky, as a misconfigured mirror or a replay would.
    await cp(join(repo.root, 'dists', 'stable'), join(repo.root, 'dists', 'forky'), { recursive: true });
    await rejectsWith(openArchive(await settings({ suites: ['forky'] })), 'E_SUITE_MISMATCH', /describes suite stable\/trixie, not forky/);
  });

  test('an unknown suite is named', async () => {
    await rejectsWith(openArchive(await settings({ suites: ['bogus'] })), 'E_SUITE_NOT_FOUND', /suite bogus was not found/);
  });

  test('an unreachable mirror is named', async () => {
    const s = await settings({ mirror: 'http://127.0.0.1:9/' });
    await rejectsWith(openArchive(s), 'E_MIRROR_UNREACHABLE', /cannot reach http:\/\/127\.0\.0\.1:9\//);
  });

  test('offline with an empty cache says exactly what is missing', async () => {
    const s = await settings({ offline: true });
    const e = await rejectsWith(openArchive(s), 'E_OFFLINE_MISSING', /cache has no InRelease for trixie/);
    assert.match(e.hint!, new RegExp(s.cacheDir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')));
  });

  test('a truncated cache file is detected: offline names it, online fetches it again', async () => {
    const s = await settings();
    await openArchive(s);
    await rm(join(s.cacheDir, 'parsed'), { recursive: true });
    const byHash = join(s.cacheDir, 'by-hash', 'sha256');
    for (const f of await readdir(byHash)) await truncate(join(byHash, f), 10);
    await rejectsWith(openArchive({ ...s, offline: true }), 'E_OFFLINE_MISSING', /no valid copy of trixie/);
    const again = await openArchive(s);
    assert.equal(again.packages.length, 4);
    for (const f of await readdir(byHash)) assert.ok((await stat(join(byHash, f))).size > 10);
  });

  test('a damaged pre-parsed cache is ignored, not trusted', async () => {
    const s = await settings();
    await openArchive(s);
    const parsedDir = join(s.cacheDir, 'parsed');
    for (const f of await filesUnder(parsedDir)) await truncate(join(parsedDir, f), 20);
    const index = await openArchive({ ...s, offline: true });
    assert.equal(candidateOf(index, 'web')?.version, '1.0-1+deb13u1');
  });
});

describe('unsigned repository', () => {
  test('a suite with only an unsigned Release is refused', async () => {
    const repo = await buildSignedRepo({ sign: false, suites: [{ suite: 'trixie', packages: [{ name: 'a', version: '1' }] }] });
    const served = await serveDirectory(repo.root);
    const cacheDir = await mkdtemp(join(tmpdir(), 'jeos-cache-'));
    try {
      await rejectsWith(
        openArchive(await resolveSettings({ flags: { mirror: served.url, keyring: repo.keyring, cacheDir }, env: {}, aptEtc: '/nonexistent', debian: { suites: ['trixie'] } })),
        'E_RELEASE_UNSIGNED',
        /has no signed InRelease/,
      );
    } finally {
      await served.close();
      await repo.cleanup();
      await rm(cacheDir, { recursive: true, force: true });
    }
  });
});
