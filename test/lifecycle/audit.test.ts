// jeos audit, end to end on the compiled CLI against a signed loopback repository. The image
// runs the host's own busybox (with the host's C library, packaged as fixture .debs), so the
// OCI image also runs under podman: a running container is audited clean, then with drift.
// The VM tree comes from a synthetic kernel and a stand-in systemd (as in test/vm/vm-build.test.ts).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmod, cp, mkdir, mkdtemp, readFile, realpath, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { KERNEL, kernelRecipe } from '../support/vm/packages.js';
import type { DebRecipe } from '../fixtures/debs.js';
import { runProgram, startHarness, trixieRepo, type Harness } from '../cli/harness.js';

const isRoot = process.getuid?.() === 0;

const unit = (install: string) => `[Unit]\nDescription=x\n\n[Service]\nExecStart=/bin/true\n\n[Install]\n${install}\n`;
const systemd: DebRecipe = {
  name: 'systemd',
  version: '257-1',
  files: {
    '/usr/lib/systemd/systemd': { content: '\x7fELF stand-in\n', mode: 0o755 },
    '/usr/lib/systemd/system/multi-user.target': '[Unit]\nDescription=Multi-User System\n',
    '/usr/lib/systemd/system/systemd-networkd.service': unit('WantedBy=multi-user.target'),
    '/usr/lib/systemd/system/getty.target': '[Unit]\nDescription=Login Prompts\n',
    '/usr/lib/systemd/system/ldconfig.service': unit(''),
    '/usr/lib/systemd/system/systemd-logind.service': unit(''),
    '/usr/lib/systemd/system/systemd-modules-load.service': unit(''),
  },
};

/** The host's busybox and the libraries it links, as the image's packages. */
async function hostBusybox(): Promise<DebRecipe[]> {
  const libs: NonNullable<DebRecipe['files']> = {};
  const ldd = execFileSync('ldd', ['/usr/bin/busybox']).toString();
  for (const m of ldd.matchAll(/(?:=>\s*)?(\/\S+)\s+\(0x/g)) {
    const path = m[1]!;
    libs[path.replace(/^\/usr/, '')] = { content: await readFile(await realpath(path)), mode: 0o755 };
  }
  return [
    { name: 'busybox', version: '1:1.37.0-6', depends: 'libc6', files: { '/usr/bin/busybox': { content: await readFile('/usr/bin/busybox'), mode: 0o755 } } },
    { name: 'libc6', version: '2.41-12', files: libs },
  ];
}

const yaml = `name: bbweb
debian:
  suites: [trixie, trixie-security]
workload:
  packages: [busybox]
  command: [/usr/bin/busybox, httpd, -f, -p, "8080", -h, /srv]
  files:
    - { path: /srv/index.html, content: "hello\\n" }
  ports: [8080]
outputs: [tar, oci, vm]
`;

const podmanWorks = (() => {
  try {
    execFileSync('podman', ['info'], { stdio: 'ignore', timeout: 30_000 });
    return true;
  } catch {
    return false;
  }
})();

describe('jeos audit', () => {
  let h: Harness;
  let project: string;
  let out: string;
  let scratch: string;

  const audit = async (...args: string[]) => {
    const r = await h.jeos('audit', project, ...args);
    return r;
  };
  const auditJson = async (against: string, ...more: string[]) => {
    const r = await audit('--against', against, '--json', ...more);
    assert.ok(r.code === 0 || r.code === 1, `exit ${r.code}: ${r.stdout}${r.stderr}`);
    return { code: r.code, report: JSON.parse(r.stdout) };
  };

  /** A fresh copy of the image tree, unpacked by the real tar as root (owners kept). */
  const unpack = async (name: string) => {
    const dir = join(scratch, name);
    await mkdir(dir);
    execFileSync('tar', ['-xpf', join(out, 'rootfs.tar'), '-C', dir, '--numeric-owner', '--same-owner']);
    return dir;
  };

  before(async () => {
    h = await startHarness(
      trixieRepo(
        [
          ...(await hostBusybox()),
          systemd,
          { name: 'libkmod2', version: '34-1', files: { '/usr/lib/x86_64-linux-gnu/libkmod.so.2': 'kmod\n' } },
          { name: 'linux-image-cloud-amd64', version: '6.12.0-9', depends: `${KERNEL} (= 6.12.0-9)` },
          kernelRecipe(),
        ],
        [],
      ),
    );
    project = join(h.work, 'bbweb');
    out = join(project, 'out');
    await mkdir(project);
    await writeFile(join(project, 'jeos.yaml'), yaml);
    const r = await h.jeos('build', project);
    assert.equal(r.code, 0, r.stderr);
    scratch = await mkdtemp(join(tmpdir(), 'jeos-audit-test-'));
  });
  after(async () => {
    await h?.close();
    if (scratch) await rm(scratch, { recursive: true, force: true });
  });

  test('the build\'s own outputs are clean: exit 0 for the tar, the OCI layout, the initramfs (--vm) and a directory tar unpacked', { skip: !isRoot && 'unpacking with owners needs root' }, async () => {
    for (const [against, kind, vm] of [
      [join(out, 'rootfs.tar'), 'tar', false],
      [join(out, 'oci'), 'oci', false],
      [join(out, 'vm/initrd.img'), 'initramfs', true],
      [await unpack('clean'), 'directory', false],
    ] as const) {
      const { code, report } = await auditJson(against, ...(vm ? ['--vm'] : []));
      assert.equal(code, 0, `${kind}: ${JSON.stringify(report.counts)}`);
      assert.equal(report.clean, true);
      assert.equal(report.target.kind, kind);
      assert.equal(report.tree, vm ? 'vm' : 'image');
      const text = await audit('--against', against, ...(vm ? ['--vm'] : []));
      assert.equal(text.code, 0, text.stderr);
      assert.match(text.stdout, new RegExp(`^clean: .* \\(${kind}`, 'm'));
    }
  });

  test('a byte changed, a file added, a mode changed, a setuid bit, a unit enabled: each named, exit 1', { skip: !isRoot && 'unpacking with owners needs root' }, async () => {
    const dir = await unpack('drift');
    const index = join(dir, 'srv/index.html');
    const bytes = await readFile(index);
    bytes[0] = bytes[0]! ^ 1;
    await writeFile(index, bytes);
    await writeFile(join(dir, 'etc/added.conf'), 'new\n');
    await chmod(join(dir, 'etc/passwd'), 0o666);
    await chmod(join(dir, 'usr/bin/busybox'), 0o4755);
    await mkdir(join(dir, 'etc/systemd/system/multi-user.target.wants'), { recursive: true });
    await symlink('/usr/lib/systemd/system/evil.service', join(dir, 'etc/systemd/system/multi-user.target.wants/evil.service'));
    await mkdir(join(dir, 'var/log'), { recursive: true });
    await writeFile(join(dir, 'var/log/workload.log'), 'state, not drift\n');

    const { code, report } = await auditJson(dir);
    assert.equal(code, 1);
    assert.equal(report.clean, false);
    const changed = Object.fromEntries(report.changed.map((c: { path: string; changes: string[] }) => [c.path, c.changes]));
    assert.deepEqual(changed['/srv/index.html'], ['content']);
    assert.deepEqual(changed['/etc/passwd'], ['mode']);
    assert.deepEqual(changed['/usr/bin/busybox'], ['mode']);
    assert.ok(report.added.some((a: { path: string }) => a.path === '/etc/added.conf'), 'the added file, by its absolute path in the image');
    assert.deepEqual(report.setuid, [{ path: '/usr/bin/busybox', mode: '4755', bits: ['setuid'] }]);
    assert.deepEqual(report.units.map((u: { unit: string; wantedBy: string }) => [u.unit, u.wantedBy]), [['evil.service', 'multi-user.target']]);
    assert.deepEqual(report.state.filter((s: { path: string }) => s.path === '/var/log/workload.log').map((s: { change: string }) => s.change), ['added'], 'state is reported');
    assert.ok(!report.added.some((a: { path: string }) => a.path.startsWith('/var/log')), 'and not counted as drift');

    const text = await audit('--against', dir);
    assert.equal(text.code, 1);
    assert.match(text.stdout, /^drift: .*differs from the image tree of bbweb/m);
    assert.match(text.stdout, /^ {2}changed +\/srv\/index\.html +content/m);
    assert.match(text.stdout, /^ {2}changed +\/etc\/passwd +mode 0644 -> 0666/m);
    assert.match(text.stdout, /^ {2}added +\/etc\/added\.conf /m);
    assert.match(text.stdout, /^ {2}setuid +\/usr\/bin\/busybox +4755 \(setuid\)/m);
    assert.match(text.stdout, /^ {2}unit +evil\.service enabled for multi-user\.target/m);
    // /var/log is in the image when its build made it (a unit's log directory), else it is added with the file.
    const manifest = JSON.parse(await readFile(join(out, 'manifest.json'), 'utf8'));
    const imageHasVarLog = manifest.trees.image.some((e: { path: string }) => e.path === '/var/log');
    assert.match(text.stdout, imageHasVarLog
      ? /^state \(not drift\): 1 path under the state directories\n {2}added +\/var\/log\/workload\.log$/m
      : /^state \(not drift\): 2 paths under the state directories\n {2}added +\/var\/log\n {2}added +\/var\/log\/workload\.log$/m);
  });

  test('a package record changed in dpkg\'s status is named with its fields', { skip: !isRoot && 'unpacking with owners needs root' }, async () => {
    const dir = await unpack('dpkg');
    const status = join(dir, 'var/lib/dpkg/status');
    const text = (await readFile(status, 'utf8')).replace(/^(Package: busybox\n(?:.+\n)*?Version: ).*$/m, '$11:9.9-1');
    await writeFile(status, `${text.trimEnd()}\n\nPackage: intruder\nStatus: install ok installed\nVersion: 1.0\n`);
    const { code, report } = await auditJson(dir);
    assert.equal(code, 1);
    assert.deepEqual(report.packages, [
      { package: 'busybox', change: 'changed', baseline: '1:1.37.0-6', target: '1:9.9-1', fields: ['Version'] },
      { package: 'intruder', change: 'added', target: '1.0' },
    ]);
  });

  test('bad input: coded errors with hints, exit 3; usage exit 2', async () => {
    const cases: Array<[string[], string]> = [
      [['--against', out], 'E_AUDIT_NOT_IMAGE'],
      [['--against', join(project, 'jeos.yaml')], 'E_AUDIT_NOT_IMAGE'],
      [['--against', join(scratch, 'nothing-here')], 'E_AUDIT_NO_TARGET'],
      [['--against', join(out, 'vm/initrd.img')], 'E_AUDIT_VARIANT'],
      [['--against', join(out, 'rootfs.tar'), '--out', join(scratch, 'no-out')], 'E_AUDIT_NO_RECORD'],
    ];
    const empty = join(scratch, 'empty-root');
    await mkdir(join(empty, 'data'), { recursive: true });
    cases.push([['--against', empty], 'E_AUDIT_NOT_IMAGE']);
    // A manifest.json from another build beside this build.json.
    const mixed = join(scratch, 'mixed-out');
    await cp(out, mixed, { recursive: true });
    const manifest = JSON.parse(await readFile(join(mixed, 'manifest.json'), 'utf8'));
    manifest.trees.image.pop();
    await writeFile(join(mixed, 'manifest.json'), JSON.stringify(manifest));
    cases.push([['--against', join(out, 'rootfs.tar'), '--out', mixed], 'E_AUDIT_RECORD_MISMATCH']);
    // A tar that another build wrote (its own build.json beside it says so).
    const other = join(scratch, 'other-out');
    await cp(out, other, { recursive: true });
    const record = JSON.parse(await readFile(join(other, 'build.json'), 'utf8'));
    record.lockDigest = '0'.repeat(64);
    const tar = await readFile(join(other, 'rootfs.tar'));
    tar[tar.length - 1] = 1; // past the end marker: the same tree, other bytes
    await writeFile(join(other, 'rootfs.tar'), tar);
    record.outputs[0].files[0].sha256 = execFileSync('sha256sum', [join(other, 'rootfs.tar')]).toString().split(' ')[0];
    await writeFile(join(other, 'build.json'), JSON.stringify(record));
    cases.push([['--against', join(other, 'rootfs.tar')], 'E_AUDIT_OTHER_BUILD']);

    for (const [args, code] of cases) {
      const json = await audit(...args, '--json');
      assert.equal(json.code, 3, `${args.join(' ')}: ${json.stdout}${json.stderr}`);
      const error = JSON.parse(json.stdout).error;
      assert.equal(error.code, code, `${args.join(' ')}: ${error.message}`);
      assert.ok(error.hint, `${code} has a hint`);
      const text = await audit(...args);
      assert.equal(text.code, 3);
      assert.match(text.stderr, new RegExp(`^error\\[${code}\\]: .*\\nhint: `, 'm'));
    }
    const usage = await h.jeos('audit', project);
    assert.equal(usage.code, 2, 'no --against is a usage error');
  });

  test('a running container: clean, then drift after podman exec changes a file and starts a listener', { skip: !podmanWorks && 'podman does not work here' }, async () => {
    const record = JSON.parse(await readFile(join(out, 'build.json'), 'utf8'));
    const tag = record.outputs.find((o: { format: string }) => o.format === 'oci').image.ref;
    // As jeos test --container runs it: pulled from the layout through a lower-case path, runc, bounded limits.
    const linkDir = join('/tmp', `jeos-audit-${process.pid}-${Date.now()}`);
    await mkdir(linkDir, { mode: 0o700 });
    const link = join(linkDir, 'oci');
    await symlink(join(out, 'oci'), link);
    const pulled = await runProgram(['podman', 'pull', '-q', `oci:${link}:${tag}`]);
    assert.equal(pulled.code, 0, pulled.stderr);
    const image = pulled.stdout.trim().split('\n').pop()!;
    const name = `jeos-audit-test-${process.pid}`;
    const run = await runProgram(['podman', 'run', '-d', '--name', name, '--runtime', 'runc', '--ulimit', 'nofile=1024:1024', '--ulimit', 'nproc=1024:1024', image]);
    try {
      assert.equal(run.code, 0, run.stderr);
      await new Promise((r) => setTimeout(r, 500));
      const clean = await auditJson(`container:${name}`);
      assert.equal(clean.code, 0, JSON.stringify(clean.report, null, 1).slice(0, 2000));
      assert.equal(clean.report.target.running, true);
      assert.ok(clean.report.runtime.includes('/etc/hosts'), 'what podman makes at start is runtime, not drift');
      assert.deepEqual(clean.report.sockets, [], 'the declared port 8080 is not drift');

      const exec = await runProgram(['podman', 'exec', name, '/usr/bin/busybox', 'sh', '-c', 'echo changed > /srv/index.html']);
      assert.equal(exec.code, 0, exec.stderr);
      const listener = await runProgram(['podman', 'exec', '-d', name, '/usr/bin/busybox', 'nc', '-l', '-p', '9999']);
      assert.equal(listener.code, 0, listener.stderr);
      await new Promise((r) => setTimeout(r, 500));
      const { code, report } = await auditJson(`container:${name}`);
      assert.equal(code, 1);
      assert.deepEqual(report.changed.map((c: { path: string }) => c.path), ['/srv/index.html']);
      assert.deepEqual(report.sockets.map((s: { protocol: string; port: number }) => `${s.protocol}/${s.port}`), ['tcp/9999']);
      assert.ok(report.processes.some((p: { args: string }) => /nc -l -p 9999/.test(p.args)), JSON.stringify(report.processes));
      const text = await audit('--against', `container:${name}`);
      assert.match(text.stdout, /^ {2}socket +tcp .*:9999 listening$/m);
      assert.match(text.stdout, /^ {2}changed +\/srv\/index\.html +content/m);
    } finally {
      await runProgram(['podman', 'rm', '-f', '-t', '0', name]);
      await runProgram(['podman', 'rmi', image]);
      await rm(linkDir, { recursive: true, force: true });
    }
  });
});
