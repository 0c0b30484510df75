import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generatorsNamed } from './generators.js';
import { knownProgram } from './known.js';

test('a generator is offered when a script names what it makes: dovecot-core links the snakeoil certificate; postfix copies main.cf.debian', () => {
  const dovecot = 'ln -s /etc/ssl/certs/ssl-cert-snakeoil.pem /etc/dovecot/private/dovecot.pem';
  assert.deepEqual(generatorsNamed([dovecot]).map((g) => g.name), ['make-ssl-cert']);
  assert.deepEqual(generatorsNamed(['\tcp /usr/share/postfix/main.cf.debian main.cf']).map((g) => g.name), ['main.cf.debian']);
  assert.deepEqual(generatorsNamed(['echo main.cf.debianx']), []);
});

test('the snakeoil step makes a self-signed certificate for the host name once, its key private', { skip: spawnSync('openssl', ['version']).status !== 0 && 'openssl is not installed' }, async () => {
  const [g] = generatorsNamed(['make-ssl-cert generate-default-snakeoil']);
  const dir = await mkdtemp(join(tmpdir(), 'jeos-snakeoil-'));
  try {
    const script = g!.step[2]!.replaceAll('/etc/ssl/private/', `${dir}/`).replaceAll('/etc/ssl/certs/', `${dir}/`).replaceAll('/usr/bin/', '');
    const run = spawnSync('/bin/sh', ['-c', script]);
    assert.equal(run.status, 0, run.stderr.toString());
    const cert = join(dir, 'ssl-cert-snakeoil.pem');
    const key = join(dir, 'ssl-cert-snakeoil.key');
    assert.equal((await stat(key)).mode & 0o777, 0o600);
    assert.equal((await stat(cert)).mode & 0o777, 0o644);
    const subject = spawnSync('openssl', ['x509', '-in', cert, '-noout', '-subject']).stdout.toString();
    const host = (await readFile('/proc/sys/kernel/hostname', 'utf8')).trim();
    assert.match(subject, new RegExp(`CN ?= ?${host.replace(/[.]/g, '\\.')}`));
    const first = await readFile(cert, 'utf8');
    assert.equal(spawnSync('/bin/sh', ['-c', script]).status, 0);
    assert.equal(await readFile(cert, 'utf8'), first, 'kept');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('known programs: pdns_server with the backend it Recommends, postfix start-fg with what its start scripts run, rabbitmq-server on 5672', () => {
  assert.deepEqual(knownProgram('/usr/sbin/pdns_server', [])?.packages, ['pdns-backend-bind']);
  const postfix = knownProgram('/usr/sbin/postfix', [])!;
  assert.deepEqual([postfix.args, postfix.ports, postfix.check], [['start-fg'], [25], 'smtp']);
  assert.ok(postfix.packages!.includes('perl-base'));
  assert.deepEqual(knownProgram('/usr/lib/rabbitmq/bin/rabbitmq-server', [])?.ports, [5672]);
});
