// What a program opens by a fixed path: paths its configuration and its own strings name, trim.keep
// globs through directory links, a configuration link to a directory, and the rules for a server's
// own data and a runtime's library tree.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { configureImage } from '../configure/index.js';
import { installFake, mergedUsrTree, type FakePackage } from '../../test/support/configure/packages.js';
import { buildElf } from '../../test/support/elf/synthetic.js';
import { ImageTree } from '../tree/index.js';
import { pathsInConfig, pathsInProgram } from './named.js';
import { trimImage } from './trim.js';
import type { TrimOptions } from './types.js';

const LD = '/lib64/ld-linux-x86-64.so.2';
const T = 'usr/lib/x86_64-linux-gnu';
/** A program holding these strings in its data, as .rodata holds them. */
const exe = (strings: string[] = []) => ({
  content: Buffer.concat([buildElf({ type: 2, interpreter: LD, needed: ['libc.so.6'] }), Buffer.from(`\0${strings.join('\0')}\0`, 'latin1')]),
  mode: 0o755,
});
const lib = (soname: string) => ({ content: buildElf({ soname }), mode: 0o644 });

function image(extra: FakePackage[]) {
  const tree = mergedUsrTree(new ImageTree());
  const specs: FakePackage[] = [
    {
      name: 'libc6',
      files: { [`/${T}/ld-linux-x86-64.so.2`]: lib('ld-linux-x86-64.so.2'), '/usr/lib64/ld-linux-x86-64.so.2': { symlink: '../lib/x86_64-linux-gnu/ld-linux-x86-64.so.2' }, [`/${T}/libc.so.6`]: lib('libc.so.6'), [`/${T}/libother.so.1`]: lib('libother.so.1') },
    },
    ...extra,
  ];
  const packages = specs.map((s) => installFake(tree, s));
  configureImage(tree, packages, { architecture: 'amd64', sourceDateEpoch: 1_700_000_000, workloadUser: 'root', os: { codename: 'trixie', versionId: '13', imageId: 'x', imageVersion: '0' } });
  return { tree, packages };
}

const options = (argv: string[], over: Partial<TrimOptions> = {}): TrimOptions => ({
  architecture: 'amd64',
  settings: { enabled: true, keep: [], locales: [] },
  roots: [{ why: 'command', argv }],
  requested: [],
  ...over,
});

test('paths in configuration text and in a program\'s strings: directives and quoted words, not comments, variables, globs or format strings', () => {
  const conf = [
    'zone "." { type hint; file "/usr/share/dns/root.hints"; };',
    '# file "/usr/share/dns/root.key";',
    '  // include "/usr/share/dns/other";',
    'path=/usr/lib/srv/plugins:/opt/srv/lib',
    'templates = /usr/share/srv/$LANG/x',
    'glob /usr/share/srv/*.sql',
    'log /var/log/srv.log',
    'url http://example.invalid/usr/share/not-a-path',
  ].join('\n');
  assert.deepEqual(pathsInConfig(conf).sort(), ['opt/srv/lib', 'usr/lib/srv/plugins', 'usr/share/dns/root.hints']);
  const data = Buffer.from('\x7fELF\0/usr/share/srv/web\0/usr/share/srv/%s.tmpl\0/etc/srv.conf\0not/usr/x\0/usr/lib/srv/\0', 'latin1');
  assert.deepEqual(pathsInProgram(data).sort(), ['usr/lib/srv', 'usr/share/srv/web']);
});

test('a path a kept configuration file names is kept (a directory whole unless it is a shared one); a package nothing is used of is not read', () => {
  const { tree, packages } = image([
    {
      name: 'srv',
      conffiles: ['/etc/srv/srv.conf'],
      files: {
        '/usr/sbin/srvd': exe(),
        '/etc/srv/srv.conf': `zone "." { file "/usr/share/dns/root.hints"; };\n# /usr/share/dns/root.key\ndirectory "/usr/share/srvdata/";\nlibdir "/${T}";\n`,
      },
    },
    { name: 'dns-root-data', files: { '/usr/share/dns/root.hints': 'hints\n', '/usr/share/dns/root.key': 'key\n', '/usr/share/dns/root.ds': 'ds\n' } },
    { name: 'srvdata', files: { '/usr/share/srvdata/a.sql': 'a\n', '/usr/share/srvdata/sub/b.sql': 'b\n' } },
    { name: 'unused', files: { '/usr/bin/unused': exe(), '/etc/unused.conf': 'ds /usr/share/dns/root.ds\n' } },
  ]);
  const { explanation } = trimImage(tree, packages, options(['/usr/sbin/srvd']));
  assert.ok(tree.get('usr/share/dns/root.hints'), 'named in srv.conf');
  assert.deepEqual(explanation.kept['/usr/share/dns/root.hints'], { why: 'named', from: '/etc/srv/srv.conf', detail: '/usr/share/dns/root.hints', pkg: 'dns-root-data' });
  assert.equal(tree.get('usr/share/dns/root.key'), undefined, 'a path in a comment line is not followed');
  assert.equal(tree.get('usr/share/dns/root.ds'), undefined, 'unused.conf is not read: nothing of its package is used');
  assert.ok(tree.get('usr/share/srvdata/a.sql') && tree.get('usr/share/srvdata/sub/b.sql'), 'a named directory is kept whole');
  assert.equal(tree.get(`${T}/libother.so.1`), undefined, 'a shared directory is not kept whole');
});

test('a run program\'s strings: a file of any package, a directory of its own package whole, another package\'s directory not', () => {
  const { tree, packages } = image([
    { name: 'srv', files: { '/usr/sbin/srvd': exe(['/usr/share/srv/web', '/usr/share/common/mime.types', '/usr/share/otherdir']), '/usr/share/srv/web/index.xsl': 'xsl\n', '/usr/share/srv/web/img/logo.png': 'png\n' } },
    { name: 'common', files: { '/usr/share/common/mime.types': 'types\n', '/usr/share/common/unused': 'u\n', '/usr/share/otherdir/x': 'x\n' } },
  ]);
  const { explanation } = trimImage(tree, packages, options(['/usr/sbin/srvd']));
  assert.ok(tree.get('usr/share/srv/web/index.xsl') && tree.get('usr/share/srv/web/img/logo.png'));
  assert.equal(explanation.kept['/usr/share/common/mime.types']?.why, 'named');
  assert.equal(tree.get('usr/share/common/unused'), undefined);
  assert.equal(tree.get('usr/share/otherdir/x'), undefined, "another package's directory is kept only when the program names a file in it");
});

test('a library the run program loads: the programs it names are kept (a helper it spawns), not its other paths', () => {
  const withStrings = (content: Buffer, strings: string[]) => Buffer.concat([content, Buffer.from(`\0${strings.join('\0')}\0`, 'latin1')]);
  const { tree, packages } = image([
    { name: 'srv', files: { '/usr/sbin/srvd': { content: buildElf({ type: 2, interpreter: LD, needed: ['libsrv.so.1', 'libc.so.6'] }), mode: 0o755 } } },
    { name: 'libsrv1', files: { [`/${T}/libsrv.so.1`]: { content: withStrings(buildElf({ soname: 'libsrv.so.1' }), ['/usr/sbin/srv-lfc', '/usr/share/srv-common/data', '/usr/sbin/srv-notes']), mode: 0o644 } } },
    { name: 'srv-common', files: { '/usr/sbin/srv-lfc': exe(), '/usr/sbin/srv-unused': exe(), '/usr/share/srv-common/data': 'd\n', '/usr/sbin/srv-notes': 'not a program\n' } },
  ]);
  const { explanation } = trimImage(tree, packages, options(['/usr/sbin/srvd']));
  assert.deepEqual(explanation.kept['/usr/sbin/srv-lfc'], { why: 'named', from: `/${T}/libsrv.so.1`, detail: '/usr/sbin/srv-lfc', pkg: 'srv-common' });
  assert.equal(tree.get('usr/sbin/srv-unused'), undefined);
  assert.equal(tree.get('usr/share/srv-common/data'), undefined, 'a library\'s data paths are not followed');
  assert.equal(tree.get('usr/sbin/srv-notes'), undefined, 'a file that is not executable is no program');
});

test('trim.keep globs match through directory links; a configuration link to a directory keeps what is in it', () => {
  const { tree, packages } = image([
    {
      name: 'langpack',
      files: {
        '/usr/sbin/srvd': exe(),
        '/usr/share/app/lang': { symlink: '../../lib/app/lang' },
        '/usr/lib/app/lang/de.msg': 'de\n',
        '/usr/lib/app/lang/fr.msg': 'fr\n',
        '/etc/srv/web': { symlink: '/usr/share/srvweb' },
        '/usr/share/srvweb/status.xsl': 'xsl\n',
      },
    },
  ]);
  const { record, explanation } = trimImage(tree, packages, options(['/usr/sbin/srvd'], { settings: { enabled: true, keep: ['/usr/share/app/lang/de.*'], locales: [] } }));
  assert.ok(tree.get('usr/lib/app/lang/de.msg'), 'kept through usr/share/app/lang → usr/lib/app/lang');
  assert.ok(tree.get('usr/share/app/lang'), 'and the link');
  assert.equal(tree.get('usr/lib/app/lang/fr.msg'), undefined);
  assert.deepEqual(record.unmatchedKeep, []);
  assert.deepEqual(explanation.kept['/usr/lib/app/lang/de.msg'], { why: 'keep', detail: '/usr/share/app/lang/de.*', pkg: 'langpack' });
  assert.ok(tree.get('usr/share/srvweb/status.xsl'), '/etc/srv/web → /usr/share/srvweb');
});

test('rules: a server\'s own share directory (named after the program or its package), a Java runtime\'s tree', () => {
  const { tree, packages, } = image([
    { name: 'srvd-core', files: { '/usr/sbin/srvd': exe(), '/usr/share/srvd/schema.sql': 'create\n', '/usr/share/srvd-core/errmsg.sys': 'e\n', '/usr/share/unrelated/x': 'x\n' } },
    {
      name: 'openjdk-21-jre-headless',
      files: {
        '/usr/lib/jvm/java-21-openjdk-amd64/bin/java': exe(),
        '/usr/lib/jvm/java-21-openjdk-amd64/lib/modules': 'jimage\n',
        '/usr/lib/jvm/java-21-openjdk-amd64/conf/security/java.security': 'policy\n',
        '/usr/bin/java': { symlink: '/usr/lib/jvm/java-21-openjdk-amd64/bin/java' },
      },
    },
  ]);
  const { record } = trimImage(tree, packages, options(['/usr/sbin/srvd'], { roots: [{ why: 'command', argv: ['/usr/sbin/srvd'] }, { why: 'healthcheck', argv: ['/usr/bin/java', '-version'] }] }));
  assert.ok(tree.get('usr/share/srvd/schema.sql') && tree.get('usr/share/srvd-core/errmsg.sys'));
  assert.equal(tree.get('usr/share/unrelated/x'), undefined);
  assert.ok(tree.get('usr/lib/jvm/java-21-openjdk-amd64/lib/modules') && tree.get('usr/lib/jvm/java-21-openjdk-amd64/conf/security/java.security'));
  assert.deepEqual(record.rules.map((r) => r.name).filter((n) => n === 'server-share' || n === 'java').sort(), ['java', 'server-share']);
});
