// jeos outdated, jeos lock --update, the build's lock changes and jeos diff, through the compiled
// CLI against the signed loopback repository: webd 1.0-1 in trixie and 1.0-2 in trixie-security,
// whose changelog.Debian.gz names a CVE. A project locked to 1.0-1 is outdated (exit 1: a security
// update and its CVE, read from the newer .deb fetched into the cache); once its lock is updated
// it is current (exit 0); jeos diff of the two shows the version change, the changelog entry
// between them, the CVE and the files the new version changed.
import assert from 'node:assert/strict';
import { cp, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { after, before, describe, test } from 'node:test';
import type { DebRecipe } from '../fixtures/debs.js';
import { startHarness, trixieRepo, type Harness } from '../cli/harness.js';

const entry = (version: string, dist: string, urgency: string, change: string, date: string) =>
  `webd (${version}) ${dist}; urgency=${urgency}\n\n  * ${change}\n\n -- Jeos Fixture <fixture@example.invalid>  ${date}\n`;
const OLD = entry('1.0-1', 'trixie', 'medium', 'Initial release.', 'Mon, 01 Jun 2026 12:00:00 +0000');
const NEW = entry('1.0-2', 'trixie-security', 'high', 'Fix a buffer overflow in the request parser (CVE-2026-12345).', 'Mon, 15 Jun 2026 12:00:00 +0000');

const webd = (version: string, changelog: string, program: string): DebRecipe => ({
  name: 'webd',
  version,
  files: {
    '/usr/sbin/webd': { content: program, mode: 0o755 },
    '/usr/share/doc/webd/changelog.Debian.gz': gzipSync(Buffer.from(changelog)),
  },
});

const yaml = (pkg: string) => `name: webd
debian:
  suites: [trixie, trixie-security]
workload:
  packages: [${pkg}]
  command: [/usr/sbin/webd]
outputs: [tar]
`;

describe('jeos outdated, lock --update, diff', () => {
  let h: Harness;
  let old: string;
  let current: string;

  before(async () => {
    h = await startHarness(trixieRepo([webd('1.0-1', OLD, '#!/bin/sh\necho 1\n')], [webd('1.0-2', `${NEW}\n${OLD}`, '#!/bin/sh\necho 2\n')]));
    old = join(h.work, 'old');
    await mkdir(old);
    await writeFile(join(old, 'jeos.yaml'), yaml('webd=1.0-1'));
    const built = await h.jeos('build', old, '--quiet');
    assert.equal(built.code, 0, built.stderr);
  });
  after(async () => {
    await h?.close();
  });

  test('a lock older than the security suite is outdated: the package, its suite, its CVE; exit 1', async () => {
    const r = await h.jeos('outdated', old, '--json');
    assert.equal(r.code, 1, r.stderr);
    const out = JSON.parse(r.stdout);
    assert.equal(out.current, false);
    assert.equal(out.security, 1);
    const [u] = out.outdated;
    assert.deepEqual({ name: u.name, from: u.from, to: u.to, suite: u.suite, security: u.security, cves: u.cves }, {
      name: 'webd', from: '1.0-1', to: '1.0-2', suite: 'trixie-security', security: true, cves: ['CVE-2026-12345'],
    });
    assert.deepEqual(u.entries.map((e: { version: string }) => e.version), ['1.0-2'], 'only the entries after the locked version');
    const text = await h.jeos('outdated', old);
    assert.equal(text.code, 1);
    assert.match(text.stdout, /webd 1\.0-1 → 1\.0-2 \(trixie-security, security\)  CVE-2026-12345/);
    assert.match(text.stdout, /\| {3}\* Fix a buffer overflow in the request parser \(CVE-2026-12345\)\./);
  });

  test('jeos lock --update takes it and prints the change; the build prints the changes of a lock it writes anew; then current, exit 0', async () => {
    const updated = join(h.work, 'updated');
    await cp(old, updated, { recursive: true });
    await writeFile(join(updated, 'jeos.yaml'), yaml('webd'));
    const r = await h.jeos('lock', updated, '--update');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /jeos\.lock: 1 upgraded, 0 added, 0 removed/);
    assert.match(r.stdout, /^ {2}webd 1\.0-1 → 1\.0-2 \(trixie-security\)$/m);
    const now = await h.jeos('outdated', updated);
    assert.equal(now.code, 0, now.stdout + now.stderr);
    assert.match(now.stdout, /is current/);

    current = join(h.work, 'current');
    await cp(old, current, { recursive: true });
    await writeFile(join(current, 'jeos.yaml'), yaml('webd'));
    const built = await h.jeos('build', current);
    assert.equal(built.code, 0, built.stderr);
    assert.match(built.stderr, /locked again\njeos\.lock: 1 upgraded, 0 added, 0 removed.*\n {2}webd 1\.0-1 → 1\.0-2 \(trixie-security\)\n/);
  });

  test('jeos diff of the two locks and of the two projects: the version change, the changelog, the CVE, the files; exit 0', async () => {
    await writeFile(join(h.work, 'old.lock'), await readFile(join(old, 'jeos.lock')));
    const locks = await h.jeos('diff', join(h.work, 'old.lock'), join(current, 'jeos.lock'), '--json');
    assert.equal(locks.code, 0, locks.stderr);
    const d = JSON.parse(locks.stdout);
    assert.deepEqual(d.packages.upgraded, [{ name: 'webd', from: '1.0-1', to: '1.0-2', suite: 'trixie-security' }]);
    assert.deepEqual(d.cves, ['CVE-2026-12345']);
    assert.match(d.upgrades[0].entries[0].text, /^webd \(1\.0-2\) trixie-security; urgency=high/);
    assert.match(d.filesNote, /a lock alone has no build/);

    const dirs = await h.jeos('diff', old, current);
    assert.equal(dirs.code, 0, dirs.stderr);
    assert.match(dirs.stdout, /packages: 1 upgraded, 0 added, 0 removed/);
    assert.match(dirs.stdout, /webd 1\.0-1 → 1\.0-2 \(trixie-security\) {2}CVE-2026-12345/);
    assert.match(dirs.stdout, /files \(image\): 0 added, 0 removed, \d+ changed/);
    assert.match(dirs.stdout, /^ {2}~ \/usr\/sbin\/webd$/m);

    const same = await h.jeos('diff', current, current, '--json');
    assert.equal(same.code, 0, 'no change is still a comparison that ran');
    assert.deepEqual(JSON.parse(same.stdout).packages, { added: [], removed: [], upgraded: [], downgraded: [] });
    const bad = await h.jeos('diff', join(h.work, 'nowhere'), current, '--json');
    assert.equal(JSON.parse(bad.stdout).error.code, 'E_DIFF_INPUT');
  });
});
