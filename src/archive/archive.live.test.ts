// Live tier: the real Debian archive, mirrors read from this machine's apt configuration
// (or JEOS_MIRROR / JEOS_SECURITY_MIRROR), signatures checked against debian-archive-keyring.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';
import { test } from '../../test/live.js';
import { candidateOf } from './candidates.js';
import { resolveSettings } from '../settings/index.js';
import { openArchive } from './open.js';
import { compareVersions } from './version.js';

const cacheDir = process.env.JEOS_CACHE_DIR ?? (await mkdtemp(join(tmpdir(), 'jeos-live-')));
after(async () => {
  if (!process.env.JEOS_CACHE_DIR) await rm(cacheDir, { recursive: true, force: true });
});

test('trixie with its updates and security suites loads, verified, and security updates are candidates', async () => {
  const index = await openArchive(await resolveSettings({ flags: { cacheDir } }));
  assert.deepEqual(index.suites.map((s) => s.suite), ['trixie', 'trixie-updates', 'trixie-security']);
  const main = index.suites[0]!;
  assert.equal(main.release.codename, 'trixie');
  assert.ok(main.indices[0]!.packages > 60_000, `trixie main has ${main.indices[0]!.packages} packages`);
  const nginx = candidateOf(index, 'nginx');
  assert.ok(nginx, 'nginx is in trixie');
  for (const p of index.byName.get('nginx') ?? []) assert.ok(compareVersions(nginx.version, p.version) >= 0, 'the candidate is the newest version');
  assert.ok(nginx.installedSize > 0 && /^[0-9a-f]{64}$/.test(nginx.sha256) && nginx.filename.startsWith('pool/'));
  const security = index.suites.find((s) => s.suite === 'trixie-security')!;
  assert.ok(security.release.validUntil && security.release.validUntil > new Date(), 'the security suite carries a future Valid-Until');

  const offline = await openArchive(await resolveSettings({ flags: { cacheDir, offline: true } }));
  assert.equal(offline.packages.length, index.packages.length);
});
