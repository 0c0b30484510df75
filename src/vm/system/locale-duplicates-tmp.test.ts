// The VM system setup on small synthetic images, followed by the trim where the order matters
// (the trim runs after setupVmSystem, as in jeos build): the locale services get, package units
// that would start the workload's program a second time behind a wrapper script, and /tmp.
// The units a VM does not run: masked-units.test.ts; /init, the network and the journal:
// init-network-journal.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { C_UTF8, exe, image, spec, trimVm } from '../../../test/support/vm/system-image.js';
import type { ImageTree } from '../../tree/index.js';
import { setupVmSystem } from './system.js';

test('without the C.UTF-8 locale, services get LANG=C from /etc/locale.conf, not systemd\'s default C.UTF-8', () => {
  const { tree, packages } = image();
  const report = setupVmSystem(tree, spec(['/usr/sbin/webd']));
  assert.equal(tree.readFile('etc/locale.conf')?.toString(), '# Made by jeos: the locale systemd gives every service.\nLANG=C\n');
  assert.equal(report.locale.lang, 'C');
  assert.match(report.locale.reason, /no C\.UTF-8 locale .*libc-bin/);
  assert.ok(report.files.includes('/etc/locale.conf'));
  trimVm(tree, packages);
  assert.match(tree.readFile('etc/locale.conf')!.toString(), /^LANG=C$/m, 'the trim keeps the file jeos wrote');
});

test('with the C.UTF-8 locale, /etc/locale.conf names it and the trim keeps it though nothing imports setlocale()', () => {
  const { tree, packages } = image([], { localeC8: true });
  const report = setupVmSystem(tree, spec(['/usr/sbin/webd']));
  assert.match(tree.readFile('etc/locale.conf')!.toString(), /^LANG=C\.UTF-8$/m);
  assert.deepEqual(report.locale, { lang: 'C.UTF-8', reason: `the image has the C.UTF-8 locale (/${C_UTF8}), which the trim keeps` });
  const { record, explanation } = trimVm(tree, packages);
  for (const f of ['LC_CTYPE', 'LC_COLLATE', 'LC_MESSAGES/SYS_LC_MESSAGES']) assert.ok(tree.get(`${C_UTF8}/${f}`), `${f} is in the trimmed tree`);
  assert.deepEqual(explanation.kept[`/${C_UTF8}/LC_CTYPE`], { why: 'rule', detail: 'systemd-locale', from: '/usr/lib/systemd/systemd', pkg: 'libc-bin' });
  assert.ok(record.rules.some((r) => r.name === 'systemd-locale' && r.files === 3));
});

test('a locale.conf a package ships is left alone; the trim keeps the locale it names, and only that one', () => {
  const { tree, packages } = image(
    [{ name: 'locales', files: { '/etc/locale.conf': 'LANG="de_DE.UTF-8"\n', '/usr/lib/locale/de_DE.utf8/LC_CTYPE': 'de\n', '/usr/lib/locale/fr_FR.utf8/LC_CTYPE': 'fr\n' } }],
    { localeC8: true },
  );
  const report = setupVmSystem(tree, spec(['/usr/sbin/webd']));
  assert.equal(tree.readFile('etc/locale.conf')!.toString(), 'LANG="de_DE.UTF-8"\n');
  assert.ok(!report.files.includes('/etc/locale.conf'));
  assert.deepEqual(report.locale, { lang: 'de_DE.UTF-8', reason: '/etc/locale.conf comes from the package locales' });
  trimVm(tree, packages);
  assert.ok(tree.get('usr/lib/locale/de_DE.utf8/LC_CTYPE'), 'the locale locale.conf names (its codeset normalised as glibc does)');
  assert.equal(tree.get('usr/lib/locale/fr_FR.utf8/LC_CTYPE'), undefined);
  assert.equal(tree.get(`${C_UTF8}/LC_CTYPE`), undefined, 'C.UTF-8 is not what services get here');
});

/** The units disabled as duplicates of the workload (the others a package enabled go as strays: stray-units.test.ts). */
const duplicates = (report: ReturnType<typeof setupVmSystem>) => report.disabled.filter((d) => d.reason.startsWith('it starts '));

test('a package unit that starts what a wrapper script runs is not started; units running other programs are not duplicates', () => {
  const start = '#!/bin/sh\n# make a key on first start, then serve\nset -e\nif [ ! -s /etc/webd/key ]; then\n  mkkey /etc/webd/key\nfi\nexec /usr/sbin/webd -c /etc/webd/site.conf\n';
  const { tree } = image([{ name: 'site', files: { '/usr/local/bin/start-site': { content: start, mode: 0o755 }, '/usr/bin/mkkey': exe() } }]);
  const report = setupVmSystem(tree, spec(['/usr/local/bin/start-site']));
  assert.deepEqual(duplicates(report), [{ unit: 'webd.service', reason: "it starts /usr/sbin/webd, which the workload's site.service runs through /usr/local/bin/start-site" }]);
  const wants = 'etc/systemd/system/multi-user.target.wants';
  assert.equal(tree.get(`${wants}/webd.service`), undefined);
  assert.ok(!duplicates(report).some((d) => d.unit === 'webd-keygen.service'), 'webd-keygen runs a program the script does not');
  assert.ok(!duplicates(report).some((d) => d.unit === 'webd-shell.service'), 'the script\'s own shell does not make every shell unit a duplicate');
  assert.ok(tree.get(`${wants}/site.service`));
});

test('programs are found on the workload\'s PATH and through scripts the wrapper runs; sh -c counts its commands', () => {
  const outer = '#!/bin/sh\nexec run-site "$@"\n';
  const inner = '#!/bin/sh\nexec webd-keygen --serve\n';
  const files = { '/opt/site/bin/start': { content: outer, mode: 0o755 }, '/opt/site/bin/run-site': { content: inner, mode: 0o755 } };
  const viaPath = image([{ name: 'site', files }]);
  const report = setupVmSystem(viaPath.tree, spec(['start'], { PATH: '/opt/site/bin:/usr/bin' }));
  assert.deepEqual(duplicates(report), [{ unit: 'webd-keygen.service', reason: "it starts /usr/bin/webd-keygen, which the workload's site.service runs through /opt/site/bin/run-site" }]);

  const shell = image();
  const bySh = setupVmSystem(shell.tree, spec(['/bin/sh', '-c', 'exec webd --foreground']));
  assert.deepEqual(duplicates(bySh).map((d) => d.unit), ['webd.service'], 'not webd-shell.service: running a shell is not running its program');
});

test('the workload\'s own program is still recognised when it is the command itself', () => {
  const { tree } = image();
  const report = setupVmSystem(tree, spec(['/usr/sbin/webd', '-g', 'daemon off;']));
  assert.deepEqual(duplicates(report), [{ unit: 'webd.service', reason: "it starts /usr/sbin/webd, which the workload's site.service runs" }]);
});

test('/tmp is made (1777, root) when no package ships it, fixed when jeos made it for a workload file, and kept by the trim', () => {
  const { tree, packages } = image();
  assert.equal(tree.get('tmp'), undefined);
  tree.writeFile('tmp/seed', 'x\n'); // a workload file's parent, made 0755 on the way
  const report = setupVmSystem(tree, spec(['/usr/sbin/webd']));
  assert.ok(report.files.includes('/tmp'));
  assert.deepEqual(pick(tree.get('tmp')), { kind: 'dir', mode: 0o1777, uid: 0, gid: 0 });
  trimVm(tree, packages);
  assert.deepEqual(pick(tree.get('tmp')), { kind: 'dir', mode: 0o1777, uid: 0, gid: 0 }, 'the trim keeps /tmp');

  const shipped = image([{ name: 'base-files', files: { '/tmp/.keep': '' } }]);
  shipped.tree.put('tmp', { ...shipped.tree.get('tmp')!, mode: 0o1777 } as never);
  const again = setupVmSystem(shipped.tree, spec(['/usr/sbin/webd']));
  assert.ok(!again.files.includes('/tmp'), "a package's /tmp is left as shipped");
  assert.equal(shipped.tree.get('tmp')?.pkg, 'base-files');
});

function pick(node: ReturnType<ImageTree['get']>) {
  return node && { kind: node.kind, mode: node.mode, uid: node.uid, gid: node.gid };
}
