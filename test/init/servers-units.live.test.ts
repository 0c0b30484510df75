// Live tier: servers of issue 24 whose units set up more than a command line, from jeos init --from to
// jeos test --container, then --vm one at a time. What jeos does for them: the unit's RuntimeDirectory=
// and kin made (kea's /run/kea, knot's /run/knot), AmbientCapabilities= as file capabilities in the
// container and as the VM unit's own (caddy and knot bind port 53 or 80 as their user), Environment= and
// EnvironmentFile= as the command's environment (etcd's ETCD_DATA_DIR, slapd's SLAPD_USER), the Essential
// package a step's mkdir or a shell line's chown needs (vsftpd, slapd), slapd's configuration database
// made at start as its postinst makes it, with an LDAP check, knotc conf-check left out, a /var/log for
// vsftpd's log, and kea's lease-file cleaner kept (its library names it). Two edits, both the
// application's own configuration where Debian's serves nobody from outside: etcd listens on localhost
// only (ETCD_LISTEN_CLIENT_URLS in /etc/default/etcd, the unit's EnvironmentFile=), and knot.conf has no
// listen address at all. kea-dhcp4 gets no health check: docs/init.md says why.
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, describe } from 'node:test';
import { test } from '../live.js';
import { hasPodman, serverHarness, vmOnly } from '../support/servers/harness.js';

const { work, jeos, init, buildAndTest, buildAndTestVm, cleanup } = await serverHarness();

const KNOT_CONF = `server:
    rundir: "/run/knot"
    user: knot:knot
    automatic-acl: on
    listen: [ 0.0.0.0@53, ::@53 ]
log:
  - target: syslog
    any: info
database:
    storage: "/var/lib/knot"
template:
  - id: default
    storage: "/var/lib/knot"
    file: "%s.zone"
`;

/** The application's own configuration, where Debian's serves nobody from outside. */
const CONFIG: Record<string, { path: string; content: string; owner?: string; mode?: string }> = {
  'etcd-server': { path: '/etc/default/etcd', content: 'ETCD_LISTEN_CLIENT_URLS=http://0.0.0.0:2379\nETCD_ADVERTISE_CLIENT_URLS=http://localhost:2379\n' },
  knot: { path: '/etc/knot/knot.conf', content: KNOT_CONF, owner: 'root:knot', mode: '0640' },
};

async function withConfig(pkg: string): Promise<void> {
  const file = join(work, pkg, 'jeos.yaml');
  const { path, content, owner, mode } = CONFIG[pkg]!;
  const extra = `${owner ? `      owner: ${owner}\n` : ''}${mode ? `      mode: "${mode}"\n` : ''}`;
  const yaml = await readFile(file, 'utf8');
  await writeFile(file, yaml.replace(/^workload:\n/m, `workload:\n  files:\n    - path: ${path}\n      content: ${JSON.stringify(content)}\n${extra}`));
}

const notes = (out: Record<string, any>) => (out.notes as string[]).join('\n');
const has = (out: Record<string, any>, ...packages: string[]) => {
  for (const p of packages) assert.ok(out.packages.includes(p), `${p} in ${out.packages.join(', ')}`);
};

/** The summary of the container build's unit-setup effect in build.json. */
async function unitSetup(pkg: string): Promise<string> {
  const record = JSON.parse(await readFile(join(work, pkg, 'out', 'build.json'), 'utf8'));
  return (record.image.configure as Array<{ effect: string; summary: string }>).filter((e) => e.effect === 'unit-setup').map((e) => e.summary).join('\n');
}

describe('jeos init for Debian servers whose units set up their surroundings', () => {
  after(cleanup);

  test('vsftpd: the unit\'s -/bin/mkdir step kept with its -, coreutils for it; /var/log made for its log; the FTP greeting in podman', async () => {
    const out = await init('vsftpd');
    assert.deepEqual(out.pre, [['-/bin/mkdir', '-p', '/var/run/vsftpd/empty']]);
    has(out, 'dash', 'coreutils');
    assert.deepEqual(out.healthcheck, { ftp: 21 });
    const t = await buildAndTest('vsftpd');
    if (hasPodman) assert.match(t.detail!, /^ftp 21 greets: "220 /);
    assert.match(await unitSetup('vsftpd'), /made .*\/var\/log/);
  });

  test('slapd: coreutils and sed for its shell line and its configuration database made at start; EnvironmentFile= as the environment; an LDAP bind answered in podman', async () => {
    const out = await init('slapd');
    assert.equal(out.command[0], 'sh');
    has(out, 'dash', 'coreutils', 'sed');
    assert.deepEqual(out.environmentFiles, ['/etc/default/slapd']);
    assert.match(out.pre.map((p: string[]) => p.join(' ')).join('\n'), /slapadd -F \/etc\/ldap\/slapd\.d -b cn=config/);
    assert.deepEqual(out.healthcheck, { ldap: 389 });
    const t = await buildAndTest('slapd');
    if (hasPodman) assert.match(t.detail!, /^ldap 389 answers an anonymous bind: success/);
  });

  test('kea-dhcp4-server: the unit\'s directories, environment and capabilities; running in podman with its lease-file cleaner, which its library names', async () => {
    const out = await init('kea-dhcp4-server');
    assert.equal(out.user, '_kea');
    assert.deepEqual(out.env, { KEA_LOCKFILE_DIR: '/run/lock/kea' });
    assert.deepEqual(out.directories, [
      { path: '/run/kea', mode: '0750' },
      { path: '/run/lock/kea', mode: '0750' },
      { path: '/var/log/kea', mode: '0750' },
      { path: '/var/lib/kea', mode: '0750' },
    ]);
    assert.deepEqual(out.capabilities, ['CAP_NET_BIND_SERVICE', 'CAP_NET_RAW']);
    assert.equal(out.healthcheck, null);
    assert.match(notes(out), /listens on UDP only/);
    const t = await buildAndTest('kea-dhcp4-server');
    if (hasPodman) assert.match(t.detail!, /^still running after/);
    assert.match(await unitSetup('kea-dhcp4-server'), /kea-dhcp4: file capabilities CAP_NET_BIND_SERVICE; left out .*CAP_NET_RAW/);
    const why = await jeos('why', '/usr/sbin/kea-lfc', 'kea-dhcp4-server');
    assert.match(why.stdout, /named by \/usr\/lib\/x86_64-linux-gnu\/libkea-dhcpsrv\.so/);
  });

  test('knot: knotc conf-check left out, /run/knot and /var/lib/knot made, port 53 bound as knot by its capability; answering DNS in podman', async () => {
    const out = await init('knot');
    assert.deepEqual(out.pre, []);
    assert.match(notes(out), /knotc conf-check of knot\.service only checks the configuration/);
    assert.equal(out.user, 'knot');
    assert.deepEqual(out.directories, [{ path: '/run/knot' }, { path: '/var/lib/knot' }]);
    assert.deepEqual(out.capabilities, ['CAP_NET_BIND_SERVICE', 'CAP_SETPCAP']);
    assert.deepEqual(out.environmentFiles, ['/etc/default/knot']);
    assert.ok(out.choices.some((c: { key: string; why: string }) => c.key === 'ports' && /knot\.conf has it commented out/.test(c.why)));
    await withConfig('knot');
    const t = await buildAndTest('knot');
    if (hasPodman) assert.match(t.detail!, /^dns A localhost on port 53: /);
  });

  test('caddy: AmbientCapabilities= as the file capability of /usr/bin/caddy, so it binds :80 as caddy in podman', async () => {
    const out = await init('caddy');
    assert.equal(out.user, 'caddy');
    assert.deepEqual(out.capabilities, ['CAP_NET_BIND_SERVICE']);
    assert.deepEqual(out.healthcheck, { http: 'http://localhost:80/' });
    const t = await buildAndTest('caddy');
    if (hasPodman) assert.match(t.detail!, /^HTTP 200 from http:\/\/localhost\//);
    assert.match(await unitSetup('caddy'), /\/usr\/bin\/caddy: file capabilities CAP_NET_BIND_SERVICE/);
  });

  test('etcd-server: the unit\'s ETCD_DATA_DIR and its /etc/default file as the environment (%H left out with a note); healthy in podman once it listens on every address', async () => {
    const out = await init('etcd-server');
    assert.equal(out.env.ETCD_DATA_DIR, '/var/lib/etcd/default');
    assert.deepEqual(out.environmentFiles, ['/etc/default/etcd']);
    assert.match(notes(out), /ETCD_NAME=%H of etcd\.service is left out/);
    assert.ok(out.choices.some((c: { key: string; why: string }) => c.key === 'ports' && /localhost only until ETCD_LISTEN_CLIENT_URLS/.test(c.why)));
    await withConfig('etcd-server');
    const t = await buildAndTest('etcd-server');
    if (hasPodman) assert.match(t.detail!, /^HTTP 200 from http:\/\/localhost:2379\/health/);
  });

  test('vsftpd in a VM: the FTP greeting', vmOnly, async () => {
    const r = await buildAndTestVm('vsftpd');
    assert.match(r.healthcheck.detail, /^ftp 21 greets: "220 /);
  });

  test('slapd in a VM: its configuration database made by the ExecStartPre= step, the LDAP bind answered', vmOnly, async () => {
    const r = await buildAndTestVm('slapd');
    assert.match(r.healthcheck.detail, /^ldap 389 answers an anonymous bind: success/);
  });

  test('kea-dhcp4-server in a VM: RuntimeDirectory= in its unit, the boot reaches multi-user.target with no unit failed', vmOnly, async () => {
    const r = await buildAndTestVm('kea-dhcp4-server');
    assert.ok(r.ok, JSON.stringify(r.healthcheck));
    assert.match(r.healthcheck.detail, /multi-user\.target/);
  });

  test('knot in a VM: AmbientCapabilities= and RuntimeDirectory= in its unit, answering DNS', vmOnly, async () => {
    const r = await buildAndTestVm('knot');
    assert.match(r.healthcheck.detail, /^dns A localhost on port 53: /);
  });

  test('caddy in a VM: AmbientCapabilities= in its unit, HTTP 200 on port 80', vmOnly, async () => {
    const r = await buildAndTestVm('caddy');
    assert.match(r.healthcheck.detail, /^HTTP 200 from http:\/\/localhost\//);
  });

  test('etcd-server in a VM: EnvironmentFile= in its unit, /health answers', vmOnly, async () => {
    const r = await buildAndTestVm('etcd-server');
    assert.match(r.healthcheck.detail, /^HTTP 200 from http:\/\/localhost:2379\/health/);
  });
});
