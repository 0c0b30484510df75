import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { configureImage } from '../configure/index.js';
import { materialize } from '../../test/support/configure/materialize.js';
import { installFake, mergedUsrTree, type FakePackage } from '../../test/support/configure/packages.js';
import { buildElf } from '../../test/support/elf/synthetic.js';
import { ImageTree } from '../tree/index.js';
import { explainPath } from './explain.js';
import { trimImage } from './trim.js';
import type { TrimOptions } from './types.js';

const LD = '/lib64/ld-linux-x86-64.so.2';
const T = 'usr/lib/x86_64-linux-gnu';
const exe = (spec: Parameters<typeof buildElf>[0]) => ({ content: buildElf({ type: 2, interpreter: LD, ...spec }), mode: 0o755 });
const lib = (soname: string, needed: string[] = []) => ({ content: buildElf({ soname, needed }), mode: 0o644 });

/** A small image: an app with a private library dir, system libraries, scripts, docs and configuration. */
function image(extra: FakePackage[] = []) {
  const tree = mergedUsrTree(new ImageTree());
  const specs: FakePackage[] = [
    {
      name: 'libc6',
      multiArch: 'same',
      files: {
        [`/${T}/ld-linux-x86-64.so.2`]: lib('ld-linux-x86-64.so.2'),
        '/usr/lib64/ld-linux-x86-64.so.2': { symlink: `../lib/x86_64-linux-gnu/ld-linux-x86-64.so.2` },
        [`/${T}/libc.so.6`]: lib('libc.so.6'),
        [`/${T}/libnss_files.so.2`]: lib('libnss_files.so.2', ['libc.so.6']),
        [`/${T}/libnss_hesiod.so.2`]: lib('libnss_hesiod.so.2', ['libc.so.6']),
        [`/${T}/gconv/UTF-16.so`]: lib('UTF-16.so'),
        '/usr/share/doc/libc6/copyright': 'GPL\n',
        '/usr/share/doc/libc6/changelog.Debian.gz': 'changes\n',
        '/usr/share/locale/de/LC_MESSAGES/libc.mo': 'de\n',
        '/usr/share/locale/fr/LC_MESSAGES/libc.mo': 'fr\n',
      },
    },
    { name: 'libbar2', multiArch: 'same', files: { [`/${T}/libbar.so.2.0.1`]: lib('libbar.so.2', ['libc.so.6']), [`/${T}/libbar.so.2`]: { symlink: 'libbar.so.2.0.1' } } },
    { name: 'libunused1', multiArch: 'same', files: { [`/${T}/libunused.so.1`]: lib('libunused.so.1', ['libc.so.6']) } },
    {
      name: 'app',
      control: [['Depends', 'libbar2, libc6']],
      conffiles: ['/etc/app/app.conf'],
      files: {
        '/usr/bin/app': exe({ needed: ['libfoo.so.1', 'libc.so.6'], runpath: '$ORIGIN/../lib/app' }),
        '/usr/lib/app/libfoo.so.1': lib('libfoo.so.1', ['libbar.so.2']),
        '/usr/share/app/data.txt': 'data\n',
        '/etc/app/app.conf': 'conf\n',
        '/usr/share/man/man1/app.1.gz': 'man\n',
        '/usr/share/doc/app/copyright': 'MIT\n',
      },
    },
    {
      name: 'tools',
      files: {
        '/usr/bin/helper': exe({ needed: ['libc.so.6'] }),
        '/usr/bin/other': exe({ needed: ['libunused.so.1'] }),
        '/usr/bin/wrapper': { content: '#!/bin/sh\n# runs the helper\nset -e\nexec helper --fast "$@"\n', mode: 0o755 },
        '/usr/bin/pyscript': { content: '#!/usr/bin/env python3\nprint(1)\n', mode: 0o755 },
        '/usr/bin/dash': exe({ needed: ['libc.so.6'] }),
        '/usr/bin/sh': { symlink: 'dash' },
        '/etc/alternatives/other': { symlink: '/usr/bin/other' },
        '/etc/tools/data-link': { symlink: '/usr/share/app/data.txt' },
      },
    },
    ...extra,
  ];
  const packages = specs.map((s) => installFake(tree, s));
  configureImage(tree, packages, { architecture: 'amd64', sourceDateEpoch: 1_700_000_000, workloadUser: 'root', os: { codename: 'trixie', versionId: '13', imageId: 'app', imageVersion: '0' } });
  return { tree, packages };
}

const options = (over: Partial<TrimOptions> = {}): TrimOptions => ({
  architecture: 'amd64',
  settings: { enabled: true, keep: [], locales: [] },
  roots: [{ why: 'command', argv: ['/usr/bin/app', '--serve'] }],
  requested: ['app'],
  ...over,
});

test('keeps the program, its interpreter and its libraries found as ld.so finds them, and drops the rest', () => {
  const { tree, packages } = image();
  const { record, explanation } = trimImage(tree, packages, options());
  for (const kept of ['usr/bin/app', 'usr/lib/app/libfoo.so.1', `${T}/libbar.so.2`, `${T}/libbar.so.2.0.1`, `${T}/libc.so.6`, `${T}/ld-linux-x86-64.so.2`, 'usr/lib64/ld-linux-x86-64.so.2', 'lib64']) {
    assert.ok(tree.get(kept), `${kept} is kept`);
  }
  for (const gone of [`${T}/libunused.so.1`, 'usr/bin/other', 'usr/bin/helper', `${T}/gconv/UTF-16.so`, 'usr/share/man/man1/app.1.gz', 'usr/share/doc/libc6/changelog.Debian.gz', 'usr/share/locale/de/LC_MESSAGES/libc.mo', 'etc/alternatives/other']) {
    assert.equal(tree.get(gone), undefined, `${gone} is dropped`);
  }
  assert.equal(tree.get('usr/share/man'), undefined, 'emptied directories under /usr go');
  // Configuration, the requested package's data, licences and links into data stay.
  for (const kept of ['etc/app/app.conf', 'usr/share/app/data.txt', 'usr/share/doc/libc6/copyright', 'usr/share/doc/app/copyright', 'etc/tools/data-link']) assert.ok(tree.get(kept), `${kept} is kept`);

  assert.deepEqual(explanation.kept['/usr/lib/app/libfoo.so.1'], { why: 'needed', from: '/usr/bin/app', detail: 'libfoo.so.1', pkg: 'app' });
  assert.deepEqual(explanation.kept[`/${T}/libbar.so.2`], { why: 'needed', from: '/usr/lib/app/libfoo.so.1', detail: 'libbar.so.2', pkg: 'libbar2:amd64' });
  assert.deepEqual(explanation.kept['/usr/bin/app'], { why: 'command', pkg: 'app' });
  const chain = explainPath(explanation, `/lib/x86_64-linux-gnu/libbar.so.2.0.1`);
  assert.deepEqual(chain.chain.map((c) => c.path), [`/${T}/libbar.so.2.0.1`, `/${T}/libbar.so.2`, '/usr/lib/app/libfoo.so.1', '/usr/bin/app']);
  assert.deepEqual(explainPath(explanation, `/${T}/libunused.so.1`), { path: `/${T}/libunused.so.1`, state: 'dropped', chain: [], droppedFrom: 'libunused1:amd64' });

  assert.ok(record.dropped.files > 0 && record.kept.files + record.dropped.files === record.before.files);
  assert.deepEqual(record.missing, []);
  const unused = record.packages.find((p) => p.name === 'libunused1:amd64');
  assert.equal(unused?.keptFiles, 0);
});

test('scripts bring their interpreter and the commands they run; what no package ships is reported missing', () => {
  const { tree, packages } = image();
  const { record, explanation } = trimImage(tree, packages, options({ roots: [{ why: 'command', argv: ['wrapper'] }, { why: 'healthcheck', argv: ['/usr/bin/pyscript'] }] }));
  assert.ok(tree.get('usr/bin/helper'), 'exec helper');
  assert.ok(tree.get('usr/bin/dash'), '#!/bin/sh through /bin → usr/bin and sh → dash');
  assert.equal(explanation.kept['/usr/bin/helper']?.why, 'script');
  assert.equal(explanation.kept['/usr/bin/wrapper']?.why, 'command');
  assert.deepEqual(
    record.missing.map((m) => [m.what, m.neededBy, m.why]),
    [
      ['/usr/bin/env', '/usr/bin/pyscript', 'interpreter'],
      ['python3', '/usr/bin/pyscript', 'command'],
    ],
  );
  assert.ok(!tree.get('usr/bin/set'), 'shell builtins are not commands');
});

test('the dpkg database names exactly what is left, and dpkg --verify agrees', async () => {
  const { tree, packages } = image();
  trimImage(tree, packages, options(), 1_700_000_000);
  const list = tree.readFile('var/lib/dpkg/info/libc6:amd64.list')!.toString();
  assert.match(list, /^\/usr\/lib\/x86_64-linux-gnu\/libc\.so\.6$/m);
  assert.doesNotMatch(list, /UTF-16|changelog|libc\.mo/);
  assert.doesNotMatch(tree.readFile('var/lib/dpkg/info/libc6:amd64.md5sums')!.toString(), /UTF-16|changelog/);
  const dropped = tree.readFile('var/lib/jeos/trim/libc6:amd64.dropped')!.toString().split('\n');
  assert.ok(dropped.includes(`/${T}/gconv/UTF-16.so`) && dropped.includes('/usr/share/doc/libc6/changelog.Debian.gz'));
  assert.equal(tree.get('var/lib/jeos/trim/app.dropped')?.kind, 'file', 'app lost its man page');
  assert.equal(tree.get('var/lib/dpkg/info/app.conffiles')?.kind, 'file', 'conffiles stay');

  const dpkg = spawnSync('dpkg', ['--version']);
  if (dpkg.status !== 0) return;
  const root = await mkdtemp(join(tmpdir(), 'jeos-trim-'));
  try {
    await materialize(tree, root);
    const verify = spawnSync('dpkg', [`--root=${root}`, '--verify'], { encoding: 'utf8' });
    assert.equal(verify.status, 0, verify.stdout + verify.stderr);
    assert.equal(verify.stdout, '', 'no file is missing or changed');
    // ld.so.cache was rebuilt for what is left: the real ldconfig reads it back without the dropped library.
    const cache = execFileSync('ldconfig', ['-p', '-C', join(root, 'etc/ld.so.cache')], { encoding: 'utf8' });
    assert.match(cache, /libbar\.so\.2 /);
    assert.doesNotMatch(cache, /libunused/);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});

test('trim.keep and trim.locales bring files back; unmatched globs are reported', () => {
  const { tree, packages } = image();
  const { record, explanation } = trimImage(tree, packages, options({ settings: { enabled: true, keep: ['/usr/lib/*/gconv/**', '/nothing/**'], locales: ['de'] } }));
  assert.ok(tree.get(`${T}/gconv/UTF-16.so`));
  assert.equal(explanation.kept[`/${T}/gconv/UTF-16.so`]?.why, 'keep');
  assert.ok(tree.get('usr/share/locale/de/LC_MESSAGES/libc.mo'));
  assert.equal(tree.get('usr/share/locale/fr/LC_MESSAGES/libc.mo'), undefined);
  assert.deepEqual(record.unmatchedKeep, ['/nothing/**']);
});

test('a package with nothing but documentation passes "requested" on to what it depends on', () => {
  const { tree, packages } = image([{ name: 'app-meta', control: [['Depends', 'tools (>= 1)']], files: { '/usr/share/doc/app-meta/copyright': 'MIT\n' } }]);
  trimImage(tree, packages, options({ requested: ['app-meta'], roots: [] }));
  assert.ok(tree.get('usr/bin/other'), "tools' files all stay");
  assert.ok(tree.get(`${T}/libunused.so.1`), 'and what their programs need');
});

test('rules fire on what is reached: nginx keeps its modules; a real program importing getpwnam keeps the NSS modules nsswitch.conf names', () => {
  const id = ['/usr/bin/id', '/bin/id'].find(existsSync);
  const { tree, packages } = image([
    {
      name: 'nginx',
      files: {
        '/usr/sbin/nginx': exe({ needed: ['libc.so.6'] }),
        '/usr/lib/nginx/modules/ngx_stream_module.so': lib('ngx_stream_module.so', ['libc.so.6']),
        ...(id ? { '/usr/bin/id': { content: readFileSync(id), mode: 0o755 } } : {}),
        '/etc/nsswitch.conf': 'passwd: files\ngroup: files [SUCCESS=merge] systemd\n',
      },
    },
  ]);
  const { record } = trimImage(tree, packages, options({ requested: [], roots: [{ why: 'command', argv: ['/usr/sbin/nginx'] }, ...(id ? [{ why: 'healthcheck' as const, argv: ['/usr/bin/id'] }] : [])] }));
  assert.ok(tree.get('usr/lib/nginx/modules/ngx_stream_module.so'));
  assert.equal(record.rules.find((r) => r.name === 'nginx')?.by, '/usr/sbin/nginx');
  if (!id) return;
  assert.ok(tree.get(`${T}/libnss_files.so.2`), 'files is named in nsswitch.conf');
  assert.equal(tree.get(`${T}/libnss_hesiod.so.2`), undefined, 'hesiod is not');
  assert.equal(record.rules.find((r) => r.name === 'nss')?.by, '/usr/bin/id');
});

test('VM trees start from /init and the programs of enabled units; masked units run nothing', () => {
  const { tree, packages } = image([
    {
      name: 'systemd',
      files: {
        '/usr/lib/systemd/systemd': exe({ needed: ['libc.so.6'] }),
        '/usr/lib/systemd/system/helper.service': '[Service]\nExecStart=-/usr/bin/helper --unit\n',
        '/usr/lib/systemd/system/other.service': '[Service]\nExecStart=/usr/bin/other\n',
        '/usr/lib/systemd/system/multi-user.target.wants/helper.service': { symlink: '../helper.service' },
        '/usr/lib/systemd/system/multi-user.target.wants/other.service': { symlink: '../other.service' },
      },
    },
  ]);
  tree.symlink('init', '/usr/lib/systemd/systemd');
  tree.symlink('etc/systemd/system/other.service', '/dev/null');
  const { explanation } = trimImage(tree, packages, options({ requested: [], roots: [], units: true }));
  assert.ok(tree.get('usr/lib/systemd/systemd'));
  assert.deepEqual(explanation.kept['/usr/bin/helper'], { why: 'unit', from: '/usr/lib/systemd/system/helper.service', pkg: 'tools' });
  assert.equal(tree.get('usr/bin/other'), undefined, 'other.service is masked');
});

test('an enabled socket, timer or path unit brings the program of the unit it starts; a masked one brings none', () => {
  const service = (command: string) => `[Service]\nExecStart=${command}\n`;
  const wanted = (target: string, names: string[]) => Object.fromEntries(names.map((n) => [`/usr/lib/systemd/system/${target}.wants/${n}`, { symlink: `../${n}` }]));
  const { tree, packages } = image([
    {
      name: 'systemd',
      files: {
        '/usr/lib/systemd/systemd': exe({ needed: ['libc.so.6'] }),
        // As Debian's systemd-tmpfiles-clean: the timer names no unit, and the service's program is a bare name found on PATH.
        '/usr/lib/systemd/system/clean.timer': '[Timer]\nOnBootSec=15min\n',
        '/usr/lib/systemd/system/clean.service': service('clean-tool --clean'),
        '/usr/lib/systemd/system/named.timer': '[Timer]\nOnCalendar=daily\nUnit=other-name.service\n',
        '/usr/lib/systemd/system/other-name.service': service('/usr/bin/named-tool'),
        '/usr/lib/systemd/system/conn.socket': '[Socket]\nListenStream=99\nAccept=yes\n',
        '/usr/lib/systemd/system/conn@.service': service('/usr/bin/conn-tool'),
        '/usr/lib/systemd/system/watch.path': '[Path]\nPathChanged=/etc/x\n',
        '/usr/lib/systemd/system/watch.service': service('/usr/bin/watch-tool'),
        '/usr/lib/systemd/system/off.socket': '[Socket]\nListenStream=98\n',
        '/usr/lib/systemd/system/off.service': service('/usr/bin/off-tool'),
        ...wanted('timers.target', ['clean.timer', 'named.timer']),
        ...wanted('sockets.target', ['conn.socket', 'off.socket']),
        ...wanted('paths.target', ['watch.path']),
      },
    },
    { name: 'tools', files: Object.fromEntries(['clean-tool', 'named-tool', 'conn-tool', 'watch-tool', 'off-tool'].map((t) => [`/usr/bin/${t}`, exe({ needed: ['libc.so.6'] })])) },
  ]);
  tree.symlink('init', '/usr/lib/systemd/systemd');
  tree.symlink('etc/systemd/system/off.socket', '/dev/null');
  const { explanation } = trimImage(tree, packages, options({ requested: [], roots: [], units: true }));
  assert.deepEqual(explanation.kept['/usr/bin/clean-tool'], { why: 'unit', from: '/usr/lib/systemd/system/clean.service', pkg: 'tools' });
  assert.equal(explanation.kept['/usr/bin/named-tool']?.from, '/usr/lib/systemd/system/other-name.service', 'Unit= names the service');
  assert.equal(explanation.kept['/usr/bin/conn-tool']?.from, '/usr/lib/systemd/system/conn@.service', 'Accept=yes: one instance of NAME@.service a connection');
  assert.equal(explanation.kept['/usr/bin/watch-tool']?.from, '/usr/lib/systemd/system/watch.service');
  assert.equal(tree.get('usr/bin/off-tool'), undefined, 'off.socket is masked: its service never starts');
});

test('a unit whose ConditionPathExists= or ConditionFileIsExecutable= names a file the image lacks runs nothing', () => {
  const unit = (condition: string, command: string) => `[Unit]\n${condition}\n[Service]\nExecStart=${command}\n`;
  const { tree, packages } = image([
    {
      name: 'systemd',
      files: {
        '/usr/lib/systemd/systemd': exe({ needed: ['libc.so.6'] }),
        // As Debian's kmod-static-nodes.service: skipped at boot when kmod is not installed.
        '/usr/lib/systemd/system/static-nodes.service': unit('ConditionPathExists=/usr/bin/kmod', '/usr/bin/kmod static-nodes'),
        '/usr/lib/systemd/system/exec.service': unit('ConditionFileIsExecutable=/usr/sbin/absent', '/usr/sbin/absent'),
        '/usr/lib/systemd/system/present.service': unit('ConditionPathExists=/usr/bin/helper', '/usr/bin/helper'),
        '/usr/lib/systemd/system/runtime.service': unit('ConditionPathExists=/run/flag', '/usr/bin/runtime-tool'),
        '/usr/lib/systemd/system/negated.service': unit('ConditionPathExists=!/etc/absent.conf', '/usr/bin/negated-tool'),
        '/usr/lib/systemd/system/either.service': unit('ConditionPathExists=|/usr/bin/nothing\nConditionPathExists=|/run/x', '/usr/bin/either-tool'),
        ...Object.fromEntries(
          ['static-nodes', 'exec', 'present', 'runtime', 'negated', 'either'].map((n) => [`/usr/lib/systemd/system/sysinit.target.wants/${n}.service`, { symlink: `../${n}.service` }]),
        ),
      },
    },
  ]);
  tree.symlink('init', '/usr/lib/systemd/systemd');
  const { explanation, record } = trimImage(tree, packages, options({ requested: [], roots: [], units: true }));
  assert.equal(explanation.kept['/usr/bin/helper']?.why, 'unit', 'a condition the image meets leaves the unit in');
  // Conditions decided at boot (/run), negated or triggering ones do not take a unit out: its programs are still looked for.
  assert.deepEqual(record.missing.map((m) => m.what).sort(), ['/usr/bin/either-tool', '/usr/bin/negated-tool', '/usr/bin/runtime-tool']);
});

test("a library finds its own libraries in the DT_RPATH of the program that loads it, but not in the program's DT_RUNPATH", () => {
  // /opt/app/bin/app names libA, a system library without a search path of its own; libA names libB, which is
  // only in /opt/app/lib. ld.so searches the RPATHs of the loaders ($ORIGIN the program's directory), not a RUNPATH.
  const appWith = (tag: 'rpath' | 'runpath') => ({
    name: 'optapp',
    files: {
      '/opt/app/bin/app': exe({ needed: ['libA.so.1', 'libc.so.6'], [tag]: '$ORIGIN/../lib' }),
      '/opt/app/lib/libB.so.1': lib('libB.so.1', ['libc.so.6']),
    },
  });
  const liba = { name: 'liba1', multiArch: 'same' as const, files: { [`/${T}/libA.so.1`]: lib('libA.so.1', ['libB.so.1', 'libc.so.6']) } };
  const roots = [{ why: 'command' as const, argv: ['/opt/app/bin/app'] }];

  const rpath = image([appWith('rpath'), liba]);
  const kept = trimImage(rpath.tree, rpath.packages, options({ requested: [], roots }));
  assert.ok(rpath.tree.get('opt/app/lib/libB.so.1'), 'libB is kept');
  assert.deepEqual(kept.explanation.kept['/opt/app/lib/libB.so.1'], { why: 'needed', from: `/${T}/libA.so.1`, detail: 'libB.so.1', pkg: 'optapp' });
  assert.deepEqual(kept.record.missing, []);

  const runpath = image([appWith('runpath'), liba]);
  const gone = trimImage(runpath.tree, runpath.packages, options({ requested: [], roots }));
  assert.ok(runpath.tree.get(`${T}/libA.so.1`), 'libA is in a system directory');
  assert.equal(runpath.tree.get('opt/app/lib/libB.so.1'), undefined, 'libB is not');
  assert.deepEqual(gone.record.missing, [{ what: 'libB.so.1', neededBy: `/${T}/libA.so.1`, why: 'needed' }]);
});

test("a package's copyright goes when nothing else of it is left; a package something is left of keeps it, through a link to its source's directory too", async () => {
  const gone = lib('libgone.so.1');
  const { tree, packages } = image([
    { name: 'libgone1', multiArch: 'same', files: { [`/${T}/libgone.so.1`]: gone, '/usr/share/doc/libgone1/copyright': 'BSD\n' } },
    // Debian's layout for packages of one source: libgcc-s1's doc directory is a link to gcc-14-base's.
    { name: 'baz', files: { '/usr/bin/baz': exe({ needed: ['libc.so.6'] }), '/usr/bin/baz-extra': exe({}), '/usr/share/doc/baz': { symlink: 'baz-common' } } },
    { name: 'baz-common', files: { '/usr/share/doc/baz-common/copyright': 'Artistic\n', '/usr/share/doc/baz-common/changelog.gz': 'changes\n' } },
  ]);
  const roots = [...options().roots, { why: 'healthcheck' as const, argv: ['/usr/bin/baz'] }];
  const { record, explanation } = trimImage(tree, packages, options({ roots }), 1_700_000_000);

  for (const path of [`${T}/libgone.so.1`, 'usr/share/doc/libgone1/copyright', 'usr/share/doc/libgone1', 'usr/bin/baz-extra', 'usr/share/doc/baz-common/changelog.gz']) {
    assert.equal(tree.get(path), undefined, `${path} is dropped`);
  }
  assert.deepEqual(record.packages.find((p) => p.name === 'libgone1:amd64'), { name: 'libgone1:amd64', keptFiles: 0, droppedFiles: 2, droppedBytes: gone.content.length + 4 });
  assert.deepEqual(explanation.dropped['libgone1:amd64']?.filter((p) => !['/usr/share/doc', '/usr/share'].includes(p)), [`/${T}/libgone.so.1`, '/usr/share/doc/libgone1', '/usr/share/doc/libgone1/copyright']);
  // baz keeps /usr/bin/baz: its licence stays, as /usr/share/doc/baz/copyright through the link.
  assert.equal(tree.readFile('usr/share/doc/baz/copyright')?.toString(), 'Artistic\n');
  assert.deepEqual(explanation.kept['/usr/share/doc/baz'], { why: 'copyright', pkg: 'baz' });
  assert.deepEqual(explanation.kept['/usr/share/doc/baz-common/copyright'], { why: 'copyright', pkg: 'baz-common' });
  for (const path of ['usr/share/doc/libc6/copyright', 'usr/share/doc/app/copyright']) assert.ok(tree.get(path), `${path} is kept`);

  // The package stays installed in dpkg's status, its file list naming no file (as a metapackage's would).
  const list = tree.readFile('var/lib/dpkg/info/libgone1:amd64.list')!.toString();
  assert.doesNotMatch(list, /libgone|copyright/);
  assert.equal(tree.readFile('var/lib/dpkg/info/libgone1:amd64.md5sums')?.toString() ?? '', '');
  assert.match(tree.readFile('var/lib/dpkg/status')!.toString(), /^Package: libgone1\nStatus: install ok installed$/m);
  if (spawnSync('dpkg', ['--version']).status !== 0) return;
  const root = await mkdtemp(join(tmpdir(), 'jeos-trim-'));
  try {
    await materialize(tree, root);
    for (const args of [['--verify'], ['--audit'], ['--verify', 'libgone1']]) {
      const r = spawnSync('dpkg', [`--root=${root}`, ...args], { encoding: 'utf8' });
      assert.deepEqual([r.status, r.stdout, r.stderr], [0, '', ''], `dpkg ${args.join(' ')}`);
    }
    const files = spawnSync('dpkg', [`--root=${root}`, '-L', 'libgone1'], { encoding: 'utf8' }).stdout;
    assert.doesNotMatch(files, /libgone|copyright/);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});
