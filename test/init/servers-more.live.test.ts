// Live tier: more servers of issue 24 from jeos init --from, built and passing jeos test --container, then
// --vm one at a time. Each of these Debian sets up to serve only its own machine, and init says so; the one
// edit is the application's own configuration, a file in workload.files (chrony: an allow directive in
// /etc/chrony/conf.d, which Debian's chrony.conf reads; the others: listen on every address). What jeos
// does for them: chronyd gets -x in the container only (the container table: no CAP_SYS_TIME) and an ntp
// check over UDP; valkey a RESP PING, nats its INFO greeting; radicale's trim keeps the time-zone
// database pytz opens (the tzdata rule); pgbouncer's VM starts no postgresql.service (postgresql-common
// enables it; only the workload and what it needs start in a VM). php8.4-fpm behind nginx is
// examples/php-fpm-nginx: two servers in one image, a script starting php-fpm, then nginx.
import assert from 'node:assert/strict';
import { cp, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, describe } from 'node:test';
import { test } from '../live.js';
import { hasPodman, hasQemu, serverHarness, vmOnly } from '../support/servers/harness.js';

const { work, jeos, init, buildAndTest, buildAndTestVm, cleanup } = await serverHarness();

/** The application's own configuration, the edit init's note asks for. */
const CONFIG: Record<string, { path: string; content: string }> = {
  chrony: { path: '/etc/chrony/conf.d/allow.conf', content: 'allow all\n' },
  'valkey-server': { path: '/etc/valkey/valkey.conf', content: 'bind * -::*\nprotected-mode no\nport 6379\ndir /var/lib/valkey\n' },
  'nats-server': { path: '/etc/nats-server.conf', content: 'host: 0.0.0.0\nport: 4222\n' },
  pgbouncer: {
    path: '/etc/pgbouncer/pgbouncer.ini',
    content: '[databases]\n\n[pgbouncer]\nlisten_addr = *\nlisten_port = 6432\nunix_socket_dir = /var/run/postgresql\nauth_type = md5\nauth_file = /etc/pgbouncer/userlist.txt\n',
  },
  // Debian's package leaves /var/lib/radicale/collections to root (its README says to chown it); the
  // postinst makes /var/cache/radicale the radicale user's, so the collections go there.
  radicale: { path: '/etc/radicale/config', content: '[server]\nhosts = 0.0.0.0:5232\n\n[rights]\ntype = from_file\nfile = /etc/radicale/rights\n\n[storage]\nfilesystem_folder = /var/cache/radicale/collections\n' },
};

async function withConfig(pkg: string): Promise<void> {
  const file = join(work, pkg, 'jeos.yaml');
  const { path, content } = CONFIG[pkg]!;
  const yaml = await readFile(file, 'utf8');
  await writeFile(file, yaml.replace(/^workload:\n/m, `workload:\n  files:\n    - path: ${path}\n      content: ${JSON.stringify(content)}\n`));
}

const notes = (out: Record<string, any>) => (out.notes as string[]).join('\n');

/** The OCI image config of a project's build (its layout's first manifest). */
async function imageConfig(pkg: string): Promise<{ Entrypoint: string[]; Cmd: string[] }> {
  const oci = join(work, pkg, 'out', 'oci');
  const blob = async (digest: string) => JSON.parse(await readFile(join(oci, 'blobs', ...digest.split(':')), 'utf8'));
  const index = JSON.parse(await readFile(join(oci, 'index.json'), 'utf8'));
  const manifest = await blob(index.manifests[0].digest);
  return (await blob(manifest.config.digest)).config;
}

describe('jeos init for more Debian servers (their configuration edited to serve)', () => {
  after(cleanup);

  test('chrony: the unit\'s chronyd in the foreground, an ntp check on 123/udp, and the note that Debian\'s configuration serves no clients; in podman with -x (no CAP_SYS_TIME)', async () => {
    const out = await init('chrony');
    assert.deepEqual(out.command, ['/usr/sbin/chronyd', '-n', '-F', '1']);
    assert.deepEqual(out.ports, ['123/udp']);
    assert.deepEqual(out.healthcheck, { ntp: 123 });
    assert.ok(out.choices.some((c: { key: string; why: string }) => c.key === 'healthcheck' && /chrony\.conf has none/.test(c.why)));
    await withConfig('chrony');
    const t = await buildAndTest('chrony');
    if (hasPodman) assert.match(t.detail!, /^ntp 123\/udp answers: stratum \d+, /);
    const image = await imageConfig('chrony');
    assert.deepEqual([...image.Entrypoint, ...image.Cmd], ['/usr/sbin/chronyd', '-n', '-F', '1', '-x'], 'the container table adds -x');
  });

  test('valkey-server: a RESP PING on 6379, and the loopback-only bind noted', async () => {
    const out = await init('valkey-server');
    assert.deepEqual(out.healthcheck, { redis: 6379 });
    assert.match(notes(out), /valkey\.conf: port 6379 listens on the loopback address only/);
    await withConfig('valkey-server');
    const t = await buildAndTest('valkey-server');
    if (hasPodman) assert.match(t.detail!, /^redis 6379 answers PING: "\+PONG"/);
  });

  test('nats-server: its INFO greeting on 4222, and Debian\'s host: 127.0.0.1 noted', async () => {
    const out = await init('nats-server');
    assert.deepEqual(out.healthcheck, { nats: 4222 });
    assert.match(notes(out), /nats-server\.conf: port: 4222 listens on the loopback address only/);
    await withConfig('nats-server');
    const t = await buildAndTest('nats-server');
    if (hasPodman) assert.match(t.detail!, /^nats 4222 greets: "INFO \{/);
  });

  test('pgbouncer: port 6432 from pgbouncer.ini, listen_addr = localhost noted', async () => {
    const out = await init('pgbouncer');
    assert.deepEqual(out.healthcheck, { tcp: 6432 });
    assert.match(notes(out), /pgbouncer\.ini: listen_port = 6432 listens on the loopback address only/);
    await withConfig('pgbouncer');
    const t = await buildAndTest('pgbouncer');
    if (hasPodman) assert.match(t.detail!, /^tcp 6432 accepts connections/);
  });

  test('radicale: GET /.web/ on 5232, the default localhost:5232 noted; the trim keeps the zoneinfo pytz reads at import', async () => {
    const out = await init('radicale');
    assert.deepEqual(out.healthcheck, { http: 'http://localhost:5232/.web/' });
    assert.match(notes(out), /\/etc\/radicale\/config sets no hosts, so radicale's default localhost:5232 listens on the loopback address only/);
    await withConfig('radicale');
    const t = await buildAndTest('radicale');
    if (hasPodman) assert.match(t.detail!, /^HTTP 200 from http:\/\/localhost:5232\/\.web\//);
    const why = await jeos('why', '/usr/share/zoneinfo/tzdata.zi', 'radicale');
    assert.match(why.stdout, /tzdata/);
  });

  // The same images in a VM, one at a time.
  test('chrony in a VM: chronyd as written (it may set the clock there), the ntp check passes', vmOnly, async () => {
    const r = await buildAndTestVm('chrony');
    assert.match(r.healthcheck.detail, /^ntp 123\/udp answers: stratum \d+, /);
  });

  test('valkey-server in a VM: +PONG', vmOnly, async () => {
    const r = await buildAndTestVm('valkey-server');
    assert.match(r.healthcheck.detail, /^redis 6379 answers PING: "\+PONG"/);
  });

  test('nats-server in a VM: the INFO greeting', vmOnly, async () => {
    const r = await buildAndTestVm('nats-server');
    assert.match(r.healthcheck.detail, /^nats 4222 greets: "INFO \{/);
  });

  test('pgbouncer in a VM: postgresql.service (postgresql-common enables it) is not started, port 6432 answers', vmOnly, async () => {
    const r = await buildAndTestVm('pgbouncer');
    assert.match(r.healthcheck.detail, /^tcp 6432 accepts connections/);
    const record = JSON.parse(await readFile(join(work, 'pgbouncer', 'out', 'build.json'), 'utf8'));
    const disabled = JSON.stringify(record).match(/"unit":"postgresql\.service","reason":"([^"]+)"/);
    assert.match(disabled?.[1] ?? '', /a package enabled it, and the VM starts only the workload's/);
  });

  test('radicale in a VM: GET /.web/ answers 200', vmOnly, async () => {
    const r = await buildAndTestVm('radicale');
    assert.match(r.healthcheck.detail, /^HTTP 200 from http:\/\/localhost:5232\/\.web\//);
  });

  test('php8.4-fpm behind nginx (examples/php-fpm-nginx): GET /index.php answers 200 through php-fpm\'s socket, in podman and in a VM', async () => {
    const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
    await cp(join(root, 'examples', 'php-fpm-nginx'), join(work, 'php-fpm-nginx'), { recursive: true });
    // Examples carry no lock (.gitignore): resolve one, as a user would before jeos build --frozen.
    const locked = await jeos('lock', 'php-fpm-nginx');
    assert.equal(locked.code, 0, locked.stderr + locked.stdout);
    const t = await buildAndTest('php-fpm-nginx');
    if (hasPodman) assert.equal(t.detail, 'HTTP 200 from http://localhost/index.php');
    if (!hasQemu) return;
    const r = await buildAndTestVm('php-fpm-nginx');
    assert.equal(r.healthcheck.detail, 'HTTP 200 from http://localhost/index.php');
    const record = JSON.parse(await readFile(join(work, 'php-fpm-nginx', 'out', 'build.json'), 'utf8'));
    const duplicates = [...JSON.stringify(record).matchAll(/"unit":"([^"]+)","reason":"it starts /g)].map((m) => m[1]).sort();
    assert.deepEqual(duplicates, ['nginx.service', 'php8.4-fpm.service'], 'the packages\' own units start what the script runs');
  });
});
