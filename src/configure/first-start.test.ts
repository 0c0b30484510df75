import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ImageTree } from '../tree/index.js';
import { installFake, mergedUsrTree, type FakePackage } from '../../test/support/configure/packages.js';
import { configureImage } from './configure.js';
import { SNAKEOIL_STEP } from './maintscripts/secrets.js';
import type { ConfigureReport } from './types.js';

const OPTIONS = { architecture: 'amd64', sourceDateEpoch: 0, os: { imageId: 't', imageVersion: '1' } };

function configure(specs: FakePackage[], pre: string[][] = []): { report: ConfigureReport; tree: ImageTree } {
  const tree = mergedUsrTree(new ImageTree());
  const packages = specs.map((s) => installFake(tree, s));
  const report = configureImage(tree, packages, { ...OPTIONS, workload: { command: ['/usr/sbin/d'], pre, packages: [specs[0]!.name], files: [] } });
  return { report, tree };
}

// rabbitmq-server's postinst, as Debian ships it (the part that makes the Erlang cookie).
const COOKIE = `#!/bin/sh
set -e
if [ "$1" = "configure" ]; then
	mkdir -p /var/lib/rabbitmq/mnesia
	if ! [ -e /var/lib/rabbitmq/.erlang.cookie ] ; then
		OLD_UMASK=$(umask)
		umask 077; openssl rand -base64 -out /var/lib/rabbitmq/.erlang.cookie 42
		umask \${OLD_UMASK}
	fi
	chmod 0400 /var/lib/rabbitmq/.erlang.cookie
	chown -R daemon:daemon /var/lib/rabbitmq
fi
`;
const BROKER: FakePackage = {
  name: 'broker',
  files: { '/usr/bin/sh': { content: 'x', mode: 0o755 }, '/usr/sbin/d': { content: '#!/bin/sh\n', mode: 0o755 }, '/usr/bin/openssl': { content: 'x', mode: 0o755 }, '/usr/bin/chmod': { content: 'x', mode: 0o755 }, '/usr/bin/chown': { content: 'x', mode: 0o755 }, '/var/lib/rabbitmq/x': '' },
  scripts: { postinst: COOKIE },
};

test('a secret a postinst generates becomes a first-start step with the chmod and chown that follow on its path, not an error', () => {
  const { report, tree } = configure([BROKER]);
  assert.equal(report.firstStart.length, 1);
  const [step] = report.firstStart;
  assert.deepEqual(step!.paths, ['/var/lib/rabbitmq/.erlang.cookie']);
  assert.deepEqual(step!.commands, [
    '/usr/bin/openssl rand -base64 -out /var/lib/rabbitmq/.erlang.cookie 42',
    '/usr/bin/chmod 0400 /var/lib/rabbitmq/.erlang.cookie',
    '/usr/bin/chown daemon:daemon /var/lib/rabbitmq/.erlang.cookie',
  ]);
  assert.deepEqual(step!.packages, ['openssl', 'coreutils']);
  assert.deepEqual(step!.programs, ['/usr/bin/openssl', '/usr/bin/chmod', '/usr/bin/chown']);
  assert.deepEqual(step!.argv.slice(0, 2), ['/bin/sh', '-c']);
  // The cookie is not in the image; the directory's own chown -R still is.
  assert.equal(tree.stat('var/lib/rabbitmq/.erlang.cookie'), undefined);
  assert.equal(tree.stat('var/lib/rabbitmq/mnesia')?.uid, 1);
  // build.json's configure effects say what is made at start, and from which script lines.
  const effect = report.effects.find((e) => e.effect === 'first-start')!;
  assert.deepEqual(effect.changed, ['/var/lib/rabbitmq/.erlang.cookie']);
  assert.match(effect.summary, /^1 per-instance secret made at first start, .*broker postinst: line 7: openssl rand -base64 -out \/var\/lib\/rabbitmq\/\.erlang\.cookie 42; broker postinst: line 10: chmod 0400/);
  const postinst = report.scripts.find((s) => s.pkg === 'broker')!;
  assert.ok(postinst.reproduced.some((l) => /openssl rand .*made at first start/.test(l)), postinst.reproduced.join('\n'));
  assert.deepEqual(postinst.notReproduced, []);
});

test('the first-start step makes the secret once, private, and keeps an existing one', { skip: spawnSync('openssl', ['version']).status !== 0 && 'openssl is not installed' }, async () => {
  const { report } = configure([BROKER]);
  const dir = await mkdtemp(join(tmpdir(), 'jeos-first-start-'));
  try {
    const script = report.firstStart[0]!.argv[2]!
      .replaceAll('/var/lib/rabbitmq', dir)
      .replaceAll('/usr/bin/', '')
      .replace(/ && chown [^;]*;/, ';');
    assert.equal(spawnSync('/bin/sh', ['-c', script]).status, 0);
    const cookie = join(dir, '.erlang.cookie');
    const first = await readFile(cookie, 'utf8');
    assert.match(first, /^[A-Za-z0-9+/=\n]{56,}$/);
    assert.equal((await stat(cookie)).mode & 0o777, 0o400);
    assert.equal(spawnSync('/bin/sh', ['-c', script]).status, 0);
    assert.equal(await readFile(cookie, 'utf8'), first);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('make-ssl-cert at first start: a companion that links the snakeoil certificate is configured after ssl-cert, and its links are made at build time', () => {
  const sslCert: FakePackage = {
    name: 'ssl-cert',
    files: { '/usr/sbin/make-ssl-cert': { content: '#!/bin/bash\n', mode: 0o755 }, '/etc/ssl/certs/.keep': '', '/etc/ssl/private/.keep': '' },
    scripts: { postinst: '#!/bin/sh\nset -e\nmake-ssl-cert generate-default-snakeoil\n' },
  };
  // Named so that it sorts before ssl-cert: dpkg still configures it after what it depends on.
  const core: FakePackage = {
    name: 'dovecot-core',
    control: [['Depends', 'ssl-cert (>= 1.0), libc6']],
    files: { '/etc/dovecot/private/.keep': '' },
    scripts: {
      postinst: `#!/bin/sh
set -e
if [ ! -e /etc/dovecot/private/dovecot.pem ] && [ -e /etc/ssl/certs/ssl-cert-snakeoil.pem ] && [ -e /etc/ssl/private/ssl-cert-snakeoil.key ]; then
  ln -s /etc/ssl/certs/ssl-cert-snakeoil.pem /etc/dovecot/private/dovecot.pem
fi
`,
    },
  };
  const { report, tree } = configure([core, sslCert]);
  // Made by openssl as make-ssl-cert would, without its bash, debconf and Perl.
  assert.deepEqual(report.firstStart.map((s) => s.commands), [[SNAKEOIL_STEP]]);
  assert.deepEqual(report.firstStart[0]!.packages, ['openssl', 'coreutils']);
  // This image has no shell, openssl or chmod: the step is not run, and its line says so.
  assert.deepEqual(report.firstStart[0]!.lacks, ['/bin/sh', 'openssl', 'chmod']);
  assert.match(report.scripts.find((s) => s.pkg === 'ssl-cert')!.notReproduced.join('\n'), /make-ssl-cert generate-default-snakeoil \(a per-instance secret, made at first start, but the image lacks \/bin\/sh, openssl, chmod/);
  const link = tree.get('etc/dovecot/private/dovecot.pem');
  assert.equal(link?.kind, 'symlink');
  assert.equal(link?.kind === 'symlink' && link.target, '/etc/ssl/certs/ssl-cert-snakeoil.pem');
});

test('a secret workload.pre already makes (a step naming its program or file) is not added again', () => {
  const { report } = configure([BROKER], [['/bin/sh', '-c', 'echo x > /var/lib/rabbitmq/.erlang.cookie']]);
  assert.equal(report.firstStart[0]!.answered, true);
});

test('commands that make no secret stay what they were: openssl x509 is not a generator, dd from a file is a copy', () => {
  const { report } = configure([
    {
      name: 'other',
      files: { '/usr/sbin/d': { content: '#!/bin/sh\n', mode: 0o755 }, '/usr/bin/openssl': { content: 'x', mode: 0o755 }, '/usr/bin/dd': { content: 'x', mode: 0o755 } },
      scripts: { postinst: '#!/bin/sh\nopenssl x509 -in /etc/a.pem -noout\ndd if=/etc/a of=/etc/b\nhead -c 32 /dev/urandom > /etc/other.key\n' },
    },
  ]);
  assert.deepEqual(report.firstStart.map((s) => s.commands), [['head -c 32 /dev/urandom > /etc/other.key']]);
  const r = report.scripts.find((s) => s.pkg === 'other')!;
  assert.ok(r.notReproduced.some((l) => l.includes('dd if=/etc/a of=/etc/b')), r.notReproduced.join('\n'));
});
