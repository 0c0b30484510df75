// Live tier: the nginx example built as a VM image from the real archive (mirrors from apt's
// configuration, signatures checked), booted by jeos test --vm under QEMU (KVM when it works
// here, else TCG) and answering HTTP 200 through the forwarded port; a workload with a bad
// command line fails jeos test --vm with nginx's own complaint on the console.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe } from 'node:test';
import { runJeosLive, skippedEarlier, test } from '../live.js';
import { cli, root } from '../cli/harness.js';

const work = await mkdtemp(join(tmpdir(), 'jeos-nginx-vm-'));
const cacheDir = process.env.JEOS_CACHE_DIR ?? join(work, 'cache');
const project = join(work, 'nginx');
const skip = spawnSync('sh', ['-c', 'command -v qemu-system-x86_64']).status !== 0 && 'qemu-system-x86_64 is not installed (apt-get install qemu-system-x86)';

const jeos = (...args: string[]) => runJeosLive(cacheDir, ...args);

/** The example with `vm` among its outputs, whatever it lists today. */
async function withVmOutput(dir: string): Promise<void> {
  const yaml = await readFile(join(dir, 'jeos.yaml'), 'utf8');
  await writeFile(join(dir, 'jeos.yaml'), yaml.replace(/^outputs:.*$/m, 'outputs: [tar, vm]'));
}

/** A copy of the locked project, without its out/, in WORK/NAME, with jeos.yaml edited; the yaml as written. */
async function copyWith(name: string, edit: (yaml: string) => string): Promise<{ dir: string; yaml: string }> {
  const dir = join(work, name);
  await cp(project, dir, { recursive: true });
  await rm(join(dir, 'out'), { recursive: true, force: true });
  const yaml = edit(await readFile(join(dir, 'jeos.yaml'), 'utf8'));
  await writeFile(join(dir, 'jeos.yaml'), yaml);
  return { dir, yaml };
}

describe('the nginx example as a VM, from the live archive', { skip }, () => {
  before(async () => {
    await cp(join(root, 'examples/nginx'), project, { recursive: true });
    await rm(join(project, 'jeos.lock'), { force: true });
    await rm(join(project, 'out'), { recursive: true, force: true });
    await withVmOutput(project);
  });
  after(async () => {
    await rm(work, { recursive: true, force: true });
  });

  test('builds, boots, and answers HTTP 200 through the forwarded port with no failed unit', async () => {
    const built = await jeos('build', project, '--quiet');
    assert.equal(built.code, 0, built.stderr + built.stdout);
    // The default vm.network: BusyBox loads the drivers and takes the lease; the answer below proves both worked.
    const record = JSON.parse(await readFile(join(project, 'out/build.json'), 'utf8'));
    assert.ok(record.vm.system.enabled.includes('jeos-network.service'), record.vm.system.enabled.join(' '));
    assert.ok(!record.vm.system.enabled.includes('systemd-networkd.service'));
    // systemd-tmpfiles-clean.timer starts its service 15 minutes after boot: the trim keeps the program it runs.
    const trim = JSON.parse(await readFile(join(project, 'out/trim.json'), 'utf8'));
    assert.deepEqual(trim.vm.kept['/usr/bin/systemd-tmpfiles'], { why: 'unit', from: '/usr/lib/systemd/system/systemd-tmpfiles-clean.service', pkg: 'systemd' });

    const tested = await jeos('test', project, '--vm', '--json');
    assert.equal(tested.code, 0, `${tested.stderr}\n${tested.stdout}`);
    const r = JSON.parse(tested.stdout);
    assert.equal(r.mode, 'vm');
    assert.equal(r.ok, true);
    assert.equal(r.healthcheck.kind, 'http');
    assert.match(r.healthcheck.detail, /^HTTP 200 /);
    assert.deepEqual(r.failedUnits, []);
    assert.equal(r.reported, true, 'the guest reported through its second serial port');
    const t = r.timings;
    assert.ok(t.kernel > 0 && t.userspace > t.kernel && t.ready >= t.userspace, JSON.stringify(t));
    assert.ok(r.memory, r.memoryNote);
    assert.ok(r.memory.usedMiB > 0 && r.memory.usedMiB < r.memory.totalMiB, JSON.stringify(r.memory));
  });

  test('a module named on the kernel command line is loaded at boot: one the image lacks fails jeos-network.service, and jeos test --vm with it', async (t) => {
    if (skippedEarlier(t)) return;
    // The same image as above; only the command line differs. A failure is what shows from the host that the line was read.
    const tested = await jeos('test', project, '--vm', '--json', '--append', 'modules-load=jeos_no_such_module', '--timeout', '90');
    assert.equal(tested.code, 1, `${tested.stderr}\n${tested.stdout}`);
    const r = JSON.parse(tested.stdout);
    assert.equal(r.ok, false);
    assert.match(r.cmdline, / modules-load=jeos_no_such_module$/);
    assert.ok(r.failedUnits.includes('jeos-network.service'), JSON.stringify(r.failedUnits));
  });

  test('journald, which no longer holds the boot back, still has every message: the kernel\'s first, and the workload\'s first line', async (t) => {
    if (skippedEarlier(t)) return;
    // The workload is a script that looks in the journal for both, and only then makes the page the health check asks for.
    const script = [
      '#!/usr/bin/busybox sh',
      'echo "journal-check: the workload starts"',
      'bb=/usr/bin/busybox',
      'for i in $($bb seq 60); do',
      '  if /usr/bin/journalctl -b -k -o cat | $bb grep -q "^Linux version" &&',
      '     /usr/bin/journalctl -b -u nginx.service -o cat | $bb grep -q "^journal-check: the workload starts$"; then',
      '    echo found > /var/www/html/journal.txt; break',
      '  fi',
      '  $bb sleep 1',
      'done',
      'exec /usr/sbin/nginx -g "daemon off;"',
      '',
    ].join('\n');
    const { dir: checked, yaml } = await copyWith('journal', (y) =>
      y
        .replace(/^(\s*)command: \[.*\]$/m, '$1command: [/usr/local/bin/journal-check]')
        .replace(/^(\s*)files:$/m, '$1files:\n$1  - path: /usr/local/bin/journal-check\n$1    source: journal-check\n$1    mode: "0755"')
        .replace(/^(\s*)http: http:\/\/localhost:80\/$/m, '$1http: http://localhost:80/journal.txt'),
    );
    await writeFile(join(checked, 'journal-check'), script, { mode: 0o755 });
    assert.match(yaml, /journal\.txt/);
    assert.match(yaml, /source: journal-check/);
    const built = await jeos('build', checked, '--quiet', '--offline');
    assert.equal(built.code, 0, built.stderr + built.stdout);
    const tested = await jeos('test', checked, '--vm', '--json', '--timeout', '120');
    assert.equal(tested.code, 0, `${tested.stderr}\n${tested.stdout}`);
    const r = JSON.parse(tested.stdout);
    assert.match(r.healthcheck.detail, /^HTTP 200 /, 'the script found both messages in the journal');
    assert.deepEqual(r.failedUnits, []);
  });

  test('a workload that cannot start fails jeos test --vm with its own error on the console', async (t) => {
    if (skippedEarlier(t)) return;
    // -X is no option of nginx's: it says so and exits 1, and systemd restarts it until it gives up.
    const { dir: broken, yaml } = await copyWith('broken', (y) => y.replace(/^(\s*command: \[.*)\]\s*$/m, '$1, -X]'));
    assert.match(yaml, /-X\]/);
    const built = await jeos('build', broken, '--quiet', '--offline');
    assert.equal(built.code, 0, built.stderr + built.stdout);

    const tested = await jeos('test', broken, '--vm', '--timeout', '45');
    assert.equal(tested.code, 1, `${tested.stderr}\n${tested.stdout}`);
    assert.match(tested.stdout, /^FAILED: /m);
    assert.match(tested.stdout, /nginx: invalid option: "X"/);
  });
});
