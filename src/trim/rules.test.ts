/**
 * Rules of the trim's table that fire on a runtime's module: the time-zone database is kept
 * when Python's zoneinfo or pytz is (radicale imports pytz, which reads tzdata.zi at import),
 * and only then. And the gconv converters, for a program that converts character sets (the
 * host's own iconv) but not for gpg or fsck.fat, which import iconv_open and do without it in the image.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { test } from 'node:test';
import { configureImage } from '../configure/index.js';
import { installFake, mergedUsrTree, type FakePackage } from '../../test/support/configure/packages.js';
import { buildElf } from '../../test/support/elf/synthetic.js';
import { ImageTree } from '../tree/index.js';
import { trimImage } from './trim.js';

const LD = '/lib64/ld-linux-x86-64.so.2';
const T = 'usr/lib/x86_64-linux-gnu';
const exe = (needed: string[]) => ({ content: buildElf({ type: 2, interpreter: LD, needed }), mode: 0o755 });
const lib = (soname: string) => ({ content: buildElf({ soname }), mode: 0o644 });

function image(extra: FakePackage[]) {
  const tree = mergedUsrTree(new ImageTree());
  const specs: FakePackage[] = [
    { name: 'libc6', files: { [`/${T}/ld-linux-x86-64.so.2`]: lib('ld-linux-x86-64.so.2'), '/usr/lib64/ld-linux-x86-64.so.2': { symlink: '../lib/x86_64-linux-gnu/ld-linux-x86-64.so.2' }, [`/${T}/libc.so.6`]: lib('libc.so.6') } },
    { name: 'tzdata', files: { '/usr/share/zoneinfo/tzdata.zi': '# version 2025b\n', '/usr/share/zoneinfo/Europe/Berlin': 'TZif2\n' } },
    { name: 'server', files: { '/usr/sbin/server': exe(['libc.so.6']) } },
    ...extra,
  ];
  const packages = specs.map((s) => installFake(tree, s));
  configureImage(tree, packages, { architecture: 'amd64', sourceDateEpoch: 1_700_000_000, workloadUser: 'root', os: { codename: 'trixie', versionId: '13', imageId: 'x', imageVersion: '0' } });
  return { tree, packages };
}

/** The trim with `argv` as the workload's command (and any more programs as its health checks). */
const trim = (tree: ImageTree, packages: ReturnType<typeof image>['packages'], argv: string[], ...checks: string[][]) =>
  trimImage(tree, packages, {
    architecture: 'amd64',
    settings: { enabled: true, keep: [], locales: [] },
    roots: [{ why: 'command', argv }, ...checks.map((c) => ({ why: 'healthcheck' as const, argv: c }))],
    requested: [],
  });

const python: FakePackage = {
  name: 'python3.13-minimal',
  files: { '/usr/bin/python3.13': exe(['libc.so.6']), '/usr/lib/python3.13/os.py': 'import sys\n' },
};

test('tzdata: pytz kept (a Python program imports it) keeps /usr/share/zoneinfo, which it opens by a path it builds', () => {
  const { tree, packages } = image([
    python,
    { name: 'python3-tz', files: { '/usr/lib/python3/dist-packages/pytz/__init__.py': 'tzdata_zi = "/usr/share/zoneinfo/tzdata.zi"\n' } },
    { name: 'app', files: { '/usr/bin/app': { content: '#!/usr/bin/python3.13\nimport pytz\n', mode: 0o755 } } },
  ]);
  const { record } = trim(tree, packages, ['/usr/bin/app']);
  assert.ok(tree.get('usr/share/zoneinfo/tzdata.zi'), 'tzdata.zi is kept');
  assert.ok(tree.get('usr/share/zoneinfo/Europe/Berlin'));
  assert.equal(record.rules.find((r) => r.name === 'tzdata')?.by, '/usr/lib/python3/dist-packages/pytz/__init__.py');
});

test("tzdata: Python's own zoneinfo module kept keeps the database too", () => {
  const { tree, packages } = image([{ ...python, files: { ...python.files, '/usr/lib/python3.13/zoneinfo/_tzpath.py': 'TZPATH = ()\n' } }]);
  const { record } = trim(tree, packages, ['/usr/bin/python3.13', '-m', 'http.server']);
  assert.ok(tree.get('usr/share/zoneinfo/tzdata.zi'));
  assert.equal(record.rules.find((r) => r.name === 'tzdata')?.by, '/usr/lib/python3.13/zoneinfo/_tzpath.py');
});

test('tzdata: a program that reaches neither the database nor a time-zone module does not keep it', () => {
  const { tree, packages } = image([]);
  const { record } = trim(tree, packages, ['/usr/sbin/server']);
  assert.equal(tree.get('usr/share/zoneinfo/tzdata.zi'), undefined);
  assert.equal(record.rules.find((r) => r.name === 'tzdata'), undefined);
});

test('gconv: kept for a program that converts character sets (the host\'s iconv), not for gpg or fsck.fat, which import iconv_open too', (t) => {
  const host = ['/usr/bin/iconv', '/usr/bin/gpg', '/usr/sbin/fsck.fat'];
  const absent = host.filter((p) => !existsSync(p));
  if (absent.length) return t.skip(`${absent.join(', ')} not on this machine (apt-get install gpg)`);
  const real = (p: string) => ({ content: readFileSync(p), mode: 0o755 });
  const withGconv = () =>
    image([
      { name: 'libc6-converters', files: { [`/${T}/gconv/EUC-TW.so`]: lib('EUC-TW.so'), [`/${T}/gconv/gconv-modules.cache`]: 'cache\n' } },
      { name: 'libc-bin', files: { '/usr/bin/iconv': real('/usr/bin/iconv') } },
      { name: 'gpg', files: { '/usr/bin/gpg': real('/usr/bin/gpg') } },
      { name: 'dosfstools', files: { '/usr/sbin/fsck.fat': real('/usr/sbin/fsck.fat') } },
    ]);
  const converts = withGconv();
  const kept = trim(converts.tree, converts.packages, ['/usr/bin/iconv']);
  assert.ok(converts.tree.get(`${T}/gconv/EUC-TW.so`), 'iconv keeps the converters');
  assert.equal(kept.record.rules.find((r) => r.name === 'gconv')?.by, '/usr/bin/iconv');
  const verifies = withGconv();
  const dropped = trim(verifies.tree, verifies.packages, ['/usr/bin/gpg'], ['/usr/sbin/fsck.fat']);
  assert.ok(verifies.tree.get('usr/bin/gpg') && verifies.tree.get('usr/sbin/fsck.fat'));
  assert.equal(verifies.tree.get(`${T}/gconv/EUC-TW.so`), undefined, 'gpg and fsck.fat do not');
  assert.equal(dropped.record.rules.find((r) => r.name === 'gconv'), undefined);
});
