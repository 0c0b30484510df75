import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { JeosError } from '../../src/errors.js';
import { resolve, whyPaths, type Resolution, type ResolveRequest } from '../../src/resolve/index.js';
import type { ArchiveIndex } from '../../src/archive/client.js';
import { doseCheck } from './dose.js';
import { makeIndex, type Recipe } from './fixture.js';

const names = (r: Resolution) => r.packages.map((p) => p.record.name);

/** Resolve, and have dose-debcheck confirm the set is closed and co-installable. */
async function solve(index: ArchiveIndex, request: ResolveRequest): Promise<Resolution> {
  const r = resolve(index, request);
  const dose = await doseCheck(r.packages.map((p) => p.record));
  assert.ok(dose.ok, `dose-debcheck disagrees:\n${dose.report}`);
  return r;
}

function unsatisfiable(index: ArchiveIndex, request: ResolveRequest, expected: RegExp): void {
  assert.throws(
    () => resolve(index, request),
    (e: unknown) => e instanceof JeosError && e.code === 'E_UNSATISFIABLE' && expected.test(e.message),
  );
}

describe('resolve', () => {
  it('takes the smaller alternative even when it is not the first', async () => {
    const index = makeIndex([
      { name: 'a', depends: 'big | small' },
      { name: 'big', installedSize: 5000 },
      { name: 'small', installedSize: 50 },
    ]);
    const r = await solve(index, { packages: ['a'] });
    assert.deepEqual(names(r), ['a', 'small']);
    assert.equal(r.totalInstalledSize, 150);
  });

  it('counts what an alternative pulls in, not only its own size', async () => {
    const index = makeIndex([
      { name: 'a', depends: 'x | y' },
      { name: 'x', installedSize: 10, depends: 'huge' },
      { name: 'huge', installedSize: 9000 },
      { name: 'y', installedSize: 500 },
    ]);
    assert.deepEqual(names(await solve(index, { packages: ['a'] })), ['a', 'y']);
  });

  it('satisfies a virtual package with its smallest provider, and a virtual request', async () => {
    const index = makeIndex([
      { name: 'cron-job', depends: 'mail-transport-agent' },
      { name: 'exim4', provides: 'mail-transport-agent', installedSize: 3000 },
      { name: 'postfix', provides: 'mail-transport-agent', installedSize: 2000 },
    ]);
    assert.deepEqual(names(await solve(index, { packages: ['cron-job'] })), ['cron-job', 'postfix']);
    assert.deepEqual(names(await solve(index, { packages: ['mail-transport-agent'] })), ['postfix']);
  });

  it('honours versioned Provides; an unversioned Provides never satisfies a versioned relation', async () => {
    const index = makeIndex([
      { name: 'a', depends: 'v (>= 2)' },
      { name: 'old', provides: 'v (= 1)', installedSize: 1 },
      { name: 'plain', provides: 'v', installedSize: 2 },
      { name: 'new', provides: 'v (= 2.1)', installedSize: 900 },
    ]);
    assert.deepEqual(names(await solve(index, { packages: ['a'] })), ['a', 'new']);
  });

  it('takes the second alternative when the first conflicts with something required', async () => {
    const index = makeIndex([
      { name: 'a', depends: 'b | c, d' },
      { name: 'b', installedSize: 1 },
      { name: 'c', installedSize: 800 },
      { name: 'd', conflicts: 'b' },
    ]);
    const r = await solve(index, { packages: ['a'] });
    assert.deepEqual(names(r), ['a', 'c', 'd']);
  });

  it('applies Conflicts on a virtual name to its providers, but never to the package itself', async () => {
    const index = makeIndex([
      { name: 'a', depends: 'mta-one, tool' },
      { name: 'mta-one', provides: 'mta', conflicts: 'mta', installedSize: 10 },
      { name: 'tool', depends: 'mta' },
      { name: 'mta-two', provides: 'mta', conflicts: 'mta', installedSize: 1 },
    ]);
    // mta-two is smaller, but it conflicts with mta-one (which provides mta): tool must use mta-one.
    assert.deepEqual(names(await solve(index, { packages: ['a'] })), ['a', 'mta-one', 'tool']);
  });

  it('honours Breaks with a version', async () => {
    const index = makeIndex([
      { name: 'a', depends: 'lib | lib-alt, e' },
      { name: 'lib', version: '1.0', installedSize: 1 },
      { name: 'lib-alt', installedSize: 400 },
      { name: 'e', breaks: 'lib (<< 2)' },
    ]);
    assert.deepEqual(names(await solve(index, { packages: ['a'] })), ['a', 'e', 'lib-alt']);
  });

  it('follows Pre-Depends like Depends', async () => {
    const index = makeIndex([
      { name: 'a', preDepends: 'init-system-helpers (>= 1.54~) | big' },
      { name: 'init-system-helpers', version: '1.68' },
      { name: 'big', installedSize: 9999 },
    ]);
    const r = await solve(index, { packages: ['a'] });
    assert.deepEqual(names(r), ['a', 'init-system-helpers']);
    assert.deepEqual(r.edges.find((e) => e.to === 'init-system-helpers')?.field, 'pre-depends');
  });

  it('treats :any as needing Multi-Arch: allowed (or foreign), and Architecture: all as native', async () => {
    const index = makeIndex([
      { name: 'script', architecture: 'all', depends: 'python3:any, perl:any, tool:amd64' },
      { name: 'python3', multiArch: 'allowed' },
      { name: 'perl', multiArch: 'foreign', architecture: 'all' },
      { name: 'tool', multiArch: 'same' },
      { name: 'bad', depends: 'libonly:any' },
      { name: 'libonly' },
    ]);
    assert.deepEqual(names(await solve(index, { packages: ['script'] })), ['perl', 'python3', 'script', 'tool']);
    unsatisfiable(index, { packages: ['bad'] }, /bad needs libonly:any, but libonly is Multi-Arch: no/);
  });

  it('takes the newest version across suites, never an older one to save bytes; pins override', async () => {
    const index = makeIndex([
      { name: 'nginx', version: '1.26.3-3', suite: 'trixie', installedSize: 10 },
      { name: 'nginx', version: '1.26.3-3+deb13u1', suite: 'trixie-security', installedSize: 20 },
      { name: 'nginx', version: '1.24.0-2', suite: 'trixie', installedSize: 5 },
    ]);
    const pick = (spec: string) => resolve(index, { packages: [spec] }).packages[0]!.record;
    assert.equal(pick('nginx').version, '1.26.3-3+deb13u1');
    assert.equal(pick('nginx=1.26.3-3').version, '1.26.3-3');
    assert.equal(pick('nginx=1.24.*').version, '1.24.0-2');
    assert.equal(pick('nginx=1.26.*').version, '1.26.3-3+deb13u1');
    assert.equal(pick('nginx/trixie').version, '1.26.3-3');
    assert.equal(pick('nginx/trixie-security').suite, 'trixie-security');
    unsatisfiable(index, { packages: ['nginx=9.9'] }, /nginx=9\.9 was requested, but the versions of nginx are 1\.26\.3-3\+deb13u1 \(trixie-security\)/);
  });

  it('a pin changes which relations the pinned package satisfies', async () => {
    const index = makeIndex([
      { name: 'app', depends: 'libfoo (>= 2)' },
      { name: 'libfoo', version: '1.5' },
      { name: 'libfoo', version: '2.0', suite: 'trixie-security' },
    ]);
    assert.equal((await solve(index, { packages: ['app'] })).packages[1]!.record.version, '2.0');
    unsatisfiable(index, { packages: ['app', 'libfoo=1.5'] }, /app needs libfoo \(>= 2\), but the only libfoo is 1\.5 \(trixie, pinned\)/);
  });

  it('explains a missing version in plain words', () => {
    const index = makeIndex([
      { name: 'nginx', depends: 'libfoo (>= 2)' },
      { name: 'libfoo', version: '1.5' },
    ]);
    unsatisfiable(index, { packages: ['nginx'] }, /^cannot install nginx: the request asks for nginx; nginx needs libfoo \(>= 2\), but the only libfoo is 1\.5 \(trixie\)$/);
  });

  it('explains a conflict chain: a needs b; b conflicts with c; a needs c', () => {
    const index = makeIndex([
      { name: 'a', depends: 'b, c' },
      { name: 'b', conflicts: 'c' },
      { name: 'c' },
    ]);
    unsatisfiable(index, { packages: ['a'] }, /^cannot install a: the request asks for a; a needs b; a needs c; b conflicts with c$/);
  });

  it('explains a name nothing has, and a chain through several packages', () => {
    const index = makeIndex([
      { name: 'top', depends: 'mid' },
      { name: 'mid', depends: 'ghost' },
    ]);
    unsatisfiable(index, { packages: ['nope'] }, /the request asks for nope, but no package is called or provides nope/);
    unsatisfiable(index, { packages: ['top'] }, /mid needs ghost, but no package is called or provides ghost; top needs mid/);
  });

  it('reports unsatisfiable requests that need search, naming the clashes', () => {
    // Every way of choosing between the alternatives hits a conflict; propagation alone cannot see it.
    const index = makeIndex([
      { name: 'a', depends: 'x1 | x2, y1 | y2' },
      { name: 'x1', conflicts: 'y1, y2' },
      { name: 'x2', conflicts: 'y1, y2' },
      { name: 'y1' },
      { name: 'y2' },
    ]);
    unsatisfiable(index, { packages: ['a'] }, /every combination of alternatives runs into a conflict \(x1 conflicts with y1/);
  });

  it('does not add Essential or required packages unless the minbase profile asks', async () => {
    const index = makeIndex([
      { name: 'app' },
      { name: 'coreutils', essential: true, priority: 'required', installedSize: 1000 },
      { name: 'dpkg', essential: true, depends: 'tar' },
      { name: 'tar', priority: 'required' },
      { name: 'extra', priority: 'optional' },
    ]);
    assert.deepEqual(names(await solve(index, { packages: ['app'] })), ['app']);
    assert.deepEqual(names(await solve(index, { packages: ['app'], profile: 'minbase' })), ['app', 'coreutils', 'dpkg', 'tar']);
  });

  it('ignores Recommends and Suggests unless Recommends are asked for', async () => {
    const index = makeIndex([
      { name: 'app', recommends: 'helper, missing-thing', suggests: 'docs' },
      { name: 'helper' },
      { name: 'docs' },
    ]);
    assert.deepEqual(names(await solve(index, { packages: ['app'] })), ['app']);
    assert.deepEqual(names(await solve(index, { packages: ['app'], recommends: true })), ['app', 'helper']);
  });

  describe('Recommends are soft, as in apt', () => {
    const skippedOf = (r: Resolution) => r.skippedRecommends.map((s) => `${s.owner}: ${s.relation}`);

    it('lists a Recommends nothing satisfies as skipped', async () => {
      const index = makeIndex([{ name: 'app', recommends: 'helper, missing-thing' }, { name: 'helper' }]);
      const r = await solve(index, { packages: ['app'], recommends: true });
      assert.deepEqual(names(r), ['app', 'helper']);
      assert.deepEqual(skippedOf(r), ['app: missing-thing']);
      assert.match(r.skippedRecommends[0]!.reason, /no package is called or provides missing-thing/);
      assert.deepEqual((await solve(index, { packages: ['app'] })).skippedRecommends, []);
    });

    it('skips a Recommends that conflicts with a Depends, and still resolves the request', async () => {
      const index = makeIndex([
        { name: 'app', depends: 'core', recommends: 'extra, helper' },
        { name: 'core', conflicts: 'extra' },
        { name: 'extra' },
        { name: 'helper' },
      ]);
      const r = await solve(index, { packages: ['app'], recommends: true });
      assert.deepEqual(names(r), ['app', 'core', 'helper']);
      assert.deepEqual(skippedOf(r), ['app: extra']);
      assert.match(r.skippedRecommends[0]!.reason, /app recommends extra/);
      assert.match(r.skippedRecommends[0]!.reason, /core conflicts with extra/);
    });

    it('skips a Recommends that Breaks something required (through a Provides too)', async () => {
      const index = makeIndex([
        { name: 'app', depends: 'mta', recommends: 'fancy' },
        { name: 'postfix', provides: 'mta' },
        { name: 'fancy', breaks: 'mta' },
      ]);
      const r = await solve(index, { packages: ['app'], recommends: true });
      assert.deepEqual(names(r), ['app', 'postfix']);
      assert.deepEqual(skippedOf(r), ['app: fancy']);
    });

    it('skips a Recommends whose own Depends cannot be satisfied', async () => {
      const index = makeIndex([
        { name: 'app', recommends: 'plugin, helper' },
        { name: 'plugin', depends: 'libgone (>= 2)' },
        { name: 'libgone', version: '1' },
        { name: 'helper', depends: 'libok' },
        { name: 'libok' },
      ]);
      const r = await solve(index, { packages: ['app'], recommends: true });
      assert.deepEqual(names(r), ['app', 'helper', 'libok']);
      assert.deepEqual(skippedOf(r), ['app: plugin']);
      assert.match(r.skippedRecommends[0]!.reason, /plugin needs libgone \(>= 2\)/);
    });

    it('keeps a Recommends that can be satisfied by choosing another alternative', async () => {
      // helper's cheaper dependency clashes with core; the Recommends is kept through the other one.
      const index = makeIndex([
        { name: 'app', depends: 'core', recommends: 'helper' },
        { name: 'core', conflicts: 'cheap' },
        { name: 'helper', depends: 'cheap | dear' },
        { name: 'cheap', installedSize: 10 },
        { name: 'dear', installedSize: 900 },
      ]);
      const r = await solve(index, { packages: ['app'], recommends: true });
      assert.deepEqual(names(r), ['app', 'core', 'dear', 'helper']);
      assert.deepEqual(r.skippedRecommends, []);
    });

    it('skips only the Recommends deeper in the chain when that is enough', async () => {
      const index = makeIndex([
        { name: 'app', depends: 'core', recommends: 'tool' },
        { name: 'core', conflicts: 'addon' },
        { name: 'tool', recommends: 'addon' },
        { name: 'addon' },
      ]);
      const r = await solve(index, { packages: ['app'], recommends: true });
      assert.deepEqual(names(r), ['app', 'core', 'tool']);
      assert.deepEqual(skippedOf(r), ['tool: addon']);
    });

    it('between two Recommends that exclude each other, keeps the first met from the request, deterministically', async () => {
      const recipes: Recipe[] = [
        { name: 'app', recommends: 'zed, alpha' },
        { name: 'zed', conflicts: 'alpha', installedSize: 900 },
        { name: 'alpha', installedSize: 10 },
      ];
      const forward = await solve(makeIndex(recipes), { packages: ['app'], recommends: true });
      const backward = resolve(makeIndex([...recipes].reverse()), { packages: ['app'], recommends: true });
      assert.deepEqual(names(forward), ['app', 'zed']);
      assert.deepEqual(skippedOf(forward), ['app: alpha']);
      assert.deepEqual(backward, forward);
      assert.deepEqual(resolve(makeIndex(recipes), { packages: ['app'], recommends: true }), forward);
    });

    it('still fails, explained without Recommends, when the request fails without them', () => {
      const index = makeIndex([
        { name: 'app', depends: 'missing', recommends: 'helper' },
        { name: 'helper', conflicts: 'app' },
      ]);
      unsatisfiable(index, { packages: ['app'], recommends: true }, /app needs missing, but no package is called or provides missing/);
    });
  });

  it('is deterministic: same answer twice, and whatever the record order', () => {
    const recipes: Recipe[] = [
      { name: 'a', depends: 'p | q, r | s' },
      { name: 'p', installedSize: 100 },
      { name: 'q', installedSize: 100 },
      { name: 'r', installedSize: 70, provides: 'v' },
      { name: 's', installedSize: 70, provides: 'v' },
      { name: 't', depends: 'v' },
    ];
    const first = resolve(makeIndex(recipes), { packages: ['a', 't'] });
    assert.deepEqual(resolve(makeIndex(recipes), { packages: ['t', 'a'] }), first);
    for (let i = 0; i < 5; i++) {
      const shuffled = [...recipes].sort(() => Math.random() - 0.5);
      assert.deepEqual(names(resolve(makeIndex(shuffled), { packages: ['a', 't'] })), names(first));
    }
  });

  it('records who pulled each package in, and why-paths from the request', () => {
    const index = makeIndex([
      { name: 'nginx', depends: 'libssl3t64, nginx-common' },
      { name: 'nginx-common', depends: 'libssl3t64' },
      { name: 'libssl3t64', depends: 'openssl-provider-legacy' },
      { name: 'openssl-provider-legacy' },
    ]);
    const r = resolve(index, { packages: ['nginx'] });
    assert.deepEqual(r.packages.find((p) => p.record.name === 'nginx')!.requestedBy, ['(request)']);
    assert.deepEqual(r.packages.find((p) => p.record.name === 'libssl3t64')!.requestedBy, ['nginx', 'nginx-common']);
    assert.deepEqual(whyPaths(r, 'openssl-provider-legacy'), [['nginx', 'libssl3t64', 'openssl-provider-legacy']]);
    assert.deepEqual(whyPaths(r, 'nginx'), [['nginx']]);
    assert.deepEqual(whyPaths(r, 'absent'), []);
  });
});

describe('dose helper', () => {
  it('fails on a set that misses a dependency or holds a conflict', async () => {
    const index = makeIndex([
      { name: 'a', depends: 'b' },
      { name: 'b' },
      { name: 'c', conflicts: 'b' },
    ]);
    const rec = (n: string) => index.byName.get(n)![0]!;
    assert.equal((await doseCheck([rec('a'), rec('b')])).ok, true);
    assert.equal((await doseCheck([rec('a')])).ok, false);
    assert.equal((await doseCheck([rec('b'), rec('c')])).ok, false);
  });
});
