// Live tier: servers of issue 24 whose Debian setup happens in maintainer scripts (point 1), from
// jeos init --from PKG to a passing jeos test, container then VM, with no edits but privoxy's own
// configuration (Debian generates it with a Perl filter from a debconf answer that listens on the
// loopback address only). rabbitmq-server: the Erlang cookie its postinst makes with openssl rand
// is made at first start (configure's table of per-instance secrets), with the chmod and chown
// that follow. dovecot-imapd: ssl-cert's snakeoil certificate made at first start (init's table of
// after-install generators, which dovecot-core's postinst names by the certificate's path), and
// dovecot-core's links to it made at build time (postinsts in dependency order). prosody: the
// in-place migration of a pre-0.8 configuration decided not to run (grep -q on the image's file).
// pdns-server: the bind backend it Recommends (init's table of known programs). postfix: start-fg from
// the table of known programs, its main.cf made at first start (init's table of after-install generators).
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, describe } from 'node:test';
import { test } from '../live.js';
import { hasPodman, serverHarness, vmOnly } from '../support/servers/harness.js';

const { jeos, init, buildAndTest, buildAndTestVm, work, cleanup } = await serverHarness();

/** A server's container check passed, with a detail that matches. */
async function containerPasses(dir: string, detail: RegExp): Promise<void> {
  const t = await buildAndTest(dir);
  if (hasPodman) assert.match(t.detail!, detail);
}

describe('jeos init for servers set up by their maintainer scripts', () => {
  after(cleanup);

  test('rabbitmq-server: port 5672, and the packages the first-start cookie step runs (dash, openssl, coreutils); the build makes it at start and serves in podman', async () => {
    const out = await init('rabbitmq-server');
    assert.deepEqual(out.ports, [5672]);
    assert.deepEqual(out.healthcheck, { tcp: 5672 });
    assert.deepEqual(out.pre, []);
    for (const p of ['dash', 'openssl', 'coreutils']) assert.ok(out.packages.includes(p), out.packages.join(', '));
    assert.ok(out.choices.some((c: { value: string; why: string }) => c.value === 'openssl' && /makes a per-instance secret \(\/var\/lib\/rabbitmq\/\.erlang\.cookie\)/.test(c.why)));
    await containerPasses('rabbitmq-server', /^tcp 5672 accepts connections/);
    const record = JSON.parse(await readBuildJson('rabbitmq-server'));
    assert.ok(JSON.stringify(record).includes('openssl rand -base64 -out /var/lib/rabbitmq/.erlang.cookie 42'));
  });

  test('dovecot-imapd: the snakeoil certificate made at first start by openssl, an IMAP greeting on port 143 in podman', async () => {
    const out = await init('dovecot-imapd');
    assert.deepEqual(out.command, ['/usr/sbin/dovecot', '-F']);
    assert.deepEqual(out.healthcheck, { imap: 143 });
    assert.equal(out.pre.length, 1);
    assert.match(out.pre[0].join(' '), /openssl req -new -x509 .*-keyout \/etc\/ssl\/private\/ssl-cert-snakeoil\.key -out \/etc\/ssl\/certs\/ssl-cert-snakeoil\.pem/);
    await containerPasses('dovecot-imapd', /^imap 143 greets: "\* OK/);
  });

  test('prosody: its postinst builds (the util.ztact migration is decided not to run), port 5222 in podman', async () => {
    const out = await init('prosody');
    assert.deepEqual(out.healthcheck, { tcp: 5222 });
    await containerPasses('prosody', /^tcp 5222 accepts connections/);
  });

  test('pdns-server: pdns-backend-bind, which it Recommends and its pdns.conf needs, is added; a DNS answer on port 53 in podman', async () => {
    const out = await init('pdns-server');
    assert.ok(out.packages.includes('pdns-backend-bind'), out.packages.join(', '));
    assert.deepEqual(out.healthcheck, { dns: { port: 53, name: 'localhost', type: 'A' } });
    await containerPasses('pdns-server', /^dns A localhost on port 53: /);
  });

  test('privoxy: with its own configuration listening on every address (Debian generates one for the loopback address only), port 8118 in podman', async () => {
    const out = await init('privoxy');
    assert.deepEqual(out.healthcheck, { tcp: 8118 });
    await writeFile(join(work, 'privoxy', 'jeos.yaml'), withPrivoxyConfig(await readFile(join(work, 'privoxy', 'jeos.yaml'), 'utf8')));
    await containerPasses('privoxy', /^tcp 8118 accepts connections/);
  });

  test('postfix: postfix start-fg with the packages its start scripts run, main.cf made at first start as its postinst makes it, an SMTP greeting on port 25 in podman', async () => {
    const out = await init('postfix');
    assert.deepEqual(out.command, ['/usr/sbin/postfix', 'start-fg']);
    assert.deepEqual(out.healthcheck, { smtp: 25 });
    assert.equal(out.pre.length, 1);
    assert.match(out.pre[0].join(' '), /cp \/usr\/share\/postfix\/main\.cf\.debian main\.cf && .*postconf -e "myhostname=\$h"/);
    for (const p of ['dash', 'coreutils', 'perl-base']) assert.ok(out.packages.includes(p), out.packages.join(', '));
    await containerPasses('postfix', /^smtp 25 greets: "220 .*ESMTP Postfix/);
  });

  // The same images in a VM, one at a time.
  for (const [dir, detail] of [
    ['prosody', /^tcp 5222 accepts connections/],
    ['pdns-server', /^dns A localhost on port 53: /],
    ['privoxy', /^tcp 8118 accepts connections/],
  ] as const) {
    test(`${dir} in a VM: the same check passes`, vmOnly, async () => {
      const r = await buildAndTestVm(dir);
      assert.match(r.healthcheck.detail, detail);
    });
  }

  // Slower first starts: dovecot's makes an RSA key (15 s under emulation, QEMU without KVM), the Erlang VM
  // (rabbitmq-server took 100 s to listen on a loaded host), and postfix's (main.cf made, post-install and
  // the chroot's copies: 60 s). Under TCG jeos test waits three times the check's 60 s (timeoutSeconds).
  for (const [dir, detail] of [
    ['dovecot-imapd', /^imap 143 greets: "\* OK/],
    ['rabbitmq-server', /^tcp 5672 accepts connections/],
    ['postfix', /^smtp 25 greets: "220 .*ESMTP Postfix/],
  ] as const) {
    test(`${dir} in a VM: its first-start steps run by ExecStartPre=, the same check passes`, vmOnly, async () => {
      const built = await jeos('build', dir, '--frozen', '--format', 'vm');
      assert.equal(built.code, 0, built.stderr + built.stdout);
      const tested = await jeos('test', dir, '--vm', '--json');
      assert.equal(tested.code, 0, `${tested.stderr}\n${tested.stdout}`);
      const r = JSON.parse(tested.stdout);
      assert.match(r.healthcheck.detail, detail);
      assert.equal(r.timeoutSeconds, r.accel === 'tcg' ? 180 : 60);
      console.log(`# ${dir} VM: ready ${r.timings.ready} ms (${r.accel}, waited up to ${r.timeoutSeconds} s)`);
    });
  }
});

async function readBuildJson(dir: string): Promise<string> {
  return readFile(join(work, dir, 'out', 'build.json'), 'utf8');
}

/** privoxy's own configuration as a workload file: Debian's, listening on every address. */
function withPrivoxyConfig(yaml: string): string {
  const config = [
    'confdir /etc/privoxy',
    'logdir /var/log/privoxy',
    'actionsfile match-all.action',
    'actionsfile default.action',
    'actionsfile user.action',
    'filterfile default.filter',
    'filterfile user.filter',
    'logfile logfile',
    'listen-address 0.0.0.0:8118',
    'toggle 1',
    'enable-remote-toggle 0',
    'enable-edit-actions 0',
    'buffer-limit 4096',
  ];
  const files = `  files:\n    - path: /etc/privoxy/config\n      content: |\n${config.map((l) => `        ${l}`).join('\n')}\n`;
  return yaml.replace(/^workload:\n/m, `workload:\n${files}`);
}
