import assert from 'node:assert/strict';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe } from 'node:test';
import type { ArchiveIndex } from '../../src/archive/client.js';
import { openArchive } from '../../src/archive/open.js';
import { resolveSettings } from '../../src/settings/index.js';
import { resolve, whyPaths } from '../../src/resolve/index.js';
import { doseCheck } from './dose.js';
import { WORKLOAD_LIST } from './workloads.js';
import { it } from '../live.js';

// Live tier: the real trixie index (mirror from apt's configuration), loaded once.
const cacheDir = process.env.JEOS_CACHE_DIR ?? join(tmpdir(), 'jeos-cache');

describe('resolve real trixie workloads; dose-debcheck agrees with every set', () => {
  // Loaded once, by the first test: a mirror inconsistency then skips each test (it() is live's).
  let loading: Promise<ArchiveIndex> | undefined;
  const archive = () => (loading ??= (async () => openArchive(await resolveSettings({ flags: { cacheDir } })))());

  it(`resolves ${WORKLOAD_LIST.length} workloads to sets dose-debcheck finds closed and co-installable`, async () => {
    const index = await archive();
    assert.ok(WORKLOAD_LIST.length >= 40);
    const results = WORKLOAD_LIST.map((w) => ({ w, r: resolve(index, { packages: [w] }) }));
    const failures: string[] = [];
    for (let i = 0; i < results.length; i += 8) {
      const batch = results.slice(i, i + 8);
      const doses = await Promise.all(batch.map(({ r }) => doseCheck(r.packages.map((p) => p.record))));
      doses.forEach((d, j) => {
        if (!d.ok) failures.push(`${batch[j]!.w}:\n${d.report}`);
      });
    }
    assert.deepEqual(failures, []);
    for (const { w, r } of results) {
      assert.ok(r.packages.some((p) => p.record.name === w), `${w} is in its own set`);
      assert.equal(r.stats.optimal, true, `${w}: optimum proven`);
      // Nothing Essential is added just because it is Essential: each member is pulled in by something.
      for (const p of r.packages) assert.ok(p.requestedBy.length > 0, `${w}: ${p.record.name} has a reason`);
      for (const p of r.packages) assert.ok(whyPaths(r, p.record.name).length > 0, `${w}: why ${p.record.name}`);
    }
  });

  it('resolves every workload with Recommends too: never fails, dose-debcheck agrees, skipped ones are explained', async () => {
    const index = await archive();
    const failures: string[] = [];
    for (let i = 0; i < WORKLOAD_LIST.length; i += 8) {
      const batch = WORKLOAD_LIST.slice(i, i + 8).map((w) => ({ w, r: resolve(index, { packages: [w], recommends: true }) }));
      const doses = await Promise.all(batch.map(({ r }) => doseCheck(r.packages.map((p) => p.record))));
      doses.forEach((d, j) => {
        if (!d.ok) failures.push(`${batch[j]!.w}:\n${d.report}`);
      });
      for (const { w, r } of batch) {
        const names = new Set(r.packages.map((p) => p.record.name));
        for (const s of r.skippedRecommends) assert.ok(names.has(s.owner) && s.reason.length > 0, `${w}: skipped ${s.owner}: ${s.relation}`);
      }
    }
    assert.deepEqual(failures, []);
  });

  it('does not pull in the Essential set for a small workload, but minbase does', async () => {
    const index = await archive();
    const plain = resolve(index, { packages: ['curl'] });
    const names = new Set(plain.packages.map((p) => p.record.name));
    assert.ok(!names.has('coreutils') && !names.has('dpkg'), 'curl alone needs neither coreutils nor dpkg');
    const base = resolve(index, { packages: ['curl'], profile: 'minbase' });
    const baseNames = new Set(base.packages.map((p) => p.record.name));
    for (const n of ['coreutils', 'dpkg', 'bash', 'base-files']) assert.ok(baseNames.has(n), `minbase has ${n}`);
    const dose = await doseCheck(base.packages.map((p) => p.record));
    assert.ok(dose.ok, dose.report);
  });

  it('explains an impossible pin in plain words', async () => {
    const index = await archive();
    assert.throws(() => resolve(index, { packages: ['nginx=0.1'] }), /nginx=0\.1 was requested, but the versions of nginx are/);
  });
});
