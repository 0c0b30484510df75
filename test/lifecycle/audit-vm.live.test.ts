// Live tier: jeos audit --against vm:NAME, a VM jeos run runs (real QEMU, the real archive). The
// image's workload is BusyBox's nc listening on its declared port, running /srv/drift for each
// connection: the host connects once, and the guest changes itself from inside (a byte of a file,
// a file added, a mode, a setuid copy, a unit enabled, a server on an undeclared port). The audit
// before is clean (exit 0); after, each change is named (exit 1). Nothing of jeos runs in the guest
// but the audit agent its /init started; the changes are made by the image's own BusyBox.
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe } from 'node:test';
import { cli } from '../cli/harness.js';
import { runJeosLive, skippedEarlier, test } from '../live.js';

const work = await mkdtemp(join(tmpdir(), 'jeos-audit-vm-'));
const cacheDir = process.env.JEOS_CACHE_DIR ?? join(work, 'cache');
const env = { ...process.env, JEOS_CACHE_DIR: cacheDir, NO_COLOR: '1' };
const skip = spawnSync('sh', ['-c', 'command -v qemu-system-x86_64']).status !== 0 && 'qemu-system-x86_64 is not installed (apt-get install qemu-system-x86)';
const NAME = `auditvm-${process.pid}`;

const DRIFT = `#!/usr/bin/busybox sh
bb=/usr/bin/busybox
$bb printf 'jello\\n' > /srv/index.html
$bb chmod 0600 /srv/mode.txt
$bb printf 'new\\n' > /srv/added.txt
$bb mkdir -p /usr/local/sbin /usr/local/bin
$bb cp /usr/bin/busybox /usr/local/sbin/sb
$bb chmod 4755 /usr/local/sbin/sb
$bb ln -s /dev/null /etc/systemd/system/multi-user.target.wants/drift.service
$bb ln -s /usr/bin/busybox /usr/local/bin/httpd
/usr/local/bin/httpd -p 9999 -h /srv
echo drifted
`;

const yaml = `name: auditvm
debian:
  suites: [trixie, trixie-security]
workload:
  packages: [busybox]
  command: [/usr/bin/busybox, nc, -ll, -p, "8080", -e, /srv/drift]
  files:
    - { path: /srv/index.html, content: "hello\\n" }
    - { path: /srv/mode.txt, content: "mode\\n" }
    - { path: /srv/drift, mode: "0755", content: ${JSON.stringify(DRIFT)} }
  ports: [8080]
outputs: [tar, vm]
`;

/** jeos audit --json: its exit status and report. */
async function audit(project: string, ...args: string[]) {
  const r = await runJeosLive(cacheDir, 'audit', project, ...args, '--json');
  return { code: r.code, report: JSON.parse(r.stdout), stderr: r.stderr };
}

describe('jeos audit against a VM jeos run runs', { skip, timeout: 900_000 }, () => {
  let project: string;
  let run: ChildProcess | undefined;
  let hostPort = 0;

  before(async () => {
    project = join(work, 'auditvm');
    await mkdir(project, { recursive: true });
    await writeFile(join(project, 'jeos.yaml'), yaml);
  });
  after(async () => {
    if (run && run.exitCode === null) {
      run.kill('SIGTERM');
      await new Promise((r) => run!.once('close', r));
    }
    await rm(work, { recursive: true, force: true });
  });

  test('build, then jeos run --name: the guest reaches multi-user and the registry names the VM', async () => {
    const built = await runJeosLive(cacheDir, 'build', project, '--quiet');
    assert.equal(built.code, 0, built.stderr);
    run = spawn(process.execPath, [cli, 'run', project, '--name', NAME], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let console = '';
    let err = '';
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no boot report within 180 s:\n${err}\n${console.slice(-3000)}`)), 180_000);
      const check = () => {
        const port = /127\.0\.0\.1:(\d+)\/? → guest port 8080/.exec(err);
        if (port) hostPort = Number(port[1]);
        if (hostPort && /Finished .*jeos-report\.service/.test(console)) (clearTimeout(timer), resolve());
      };
      run!.stdout!.on('data', (d: Buffer) => ((console += d.toString()), check()));
      run!.stderr!.on('data', (d: Buffer) => ((err += d.toString()), check()));
      run!.once('close', (code) => reject(new Error(`jeos run ended (${code}):\n${err}\n${console.slice(-3000)}`)));
    });
    assert.match(err, new RegExp(`jeos audit .* --against vm:${NAME}`));
  });

  test('clean: exit 0, the VM tree, no process or socket beyond the image\'s', async (t) => {
    if (skippedEarlier(t)) return;
    const { code, report, stderr } = await audit(project, '--against', `vm:${NAME}`);
    assert.equal(code, 0, `${stderr}${JSON.stringify({ counts: report.counts, added: report.added, changed: report.changed, processes: report.processes, sockets: report.sockets }, null, 1)}`);
    assert.equal(report.tree, 'vm');
    assert.deepEqual(report.target, { path: `vm:${NAME}`, kind: 'vm', running: true });
    assert.deepEqual(report.processes, []);
    assert.deepEqual(report.sockets, []);
    assert.ok(report.timings.read > 0);
  });

  test('the guest changes itself: a byte, a file added, a mode, a setuid file, a unit enabled, a server on port 9999: each named, exit 1', async (t) => {
    if (skippedEarlier(t)) return;
    const answer = await new Promise<string>((resolve, reject) => {
      let got = '';
      const s = connect(hostPort, '127.0.0.1');
      s.on('data', (d) => (got += d.toString()));
      s.on('close', () => resolve(got));
      s.on('error', reject);
      s.setTimeout(60_000, () => s.destroy(new Error('the drift script did not answer')));
    });
    assert.match(answer, /drifted/);
    const { code, report, stderr } = await audit(project, '--against', `vm:${NAME}`);
    assert.equal(code, 1, stderr);
    const changed = Object.fromEntries(report.changed.map((c: { path: string; changes: string[] }) => [c.path, c.changes]));
    assert.deepEqual(changed['/srv/index.html'], ['content']);
    assert.deepEqual(changed['/srv/mode.txt'], ['mode']);
    const added = report.added.map((a: { path: string }) => a.path);
    for (const p of ['/srv/added.txt', '/usr/local/sbin/sb', '/etc/systemd/system/multi-user.target.wants/drift.service']) assert.ok(added.includes(p), `${p} added: ${added.join(' ')}`);
    assert.deepEqual(report.setuid, [{ path: '/usr/local/sbin/sb', mode: '4755', bits: ['setuid'] }]);
    assert.deepEqual(report.units.map((u: { unit: string; wantedBy: string }) => `${u.unit} ${u.wantedBy}`), ['drift.service multi-user.target']);
    assert.ok(report.processes.some((p: { name: string; args: string }) => p.name === 'httpd' && /-p 9999/.test(p.args)), JSON.stringify(report.processes));
    assert.ok(report.sockets.some((s: { protocol: string; port: number }) => s.protocol === 'tcp' && s.port === 9999), JSON.stringify(report.sockets));
    assert.ok(!report.sockets.some((s: { port: number }) => s.port === 8080), 'the declared port is not drift');
  });

  test('a name no jeos run holds: E_AUDIT_NO_VM with a hint, exit 3', async (t) => {
    if (skippedEarlier(t)) return;
    const { code, report } = await audit(project, '--against', 'vm:nothing-here');
    assert.equal(code, 3);
    assert.equal(report.error.code, 'E_AUDIT_NO_VM');
    assert.match(report.error.hint, /jeos run/);
  });
});
