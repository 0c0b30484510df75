// The BusyBox network script's pieces, run by the real BusyBox with `$bb` standing in for the commands
// they would start: what they read and what they would run, on this host.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { dhcpScript, initScript, KERNEL_CMDLINE, LEASE_FLAG, loadModulesLines, NETWORK_FAILED } from './busybox-network.js';

const needsBusybox = spawnSync('sh', ['-c', 'command -v busybox']).status === 0 ? false : 'needs busybox (CI installs it)';

/** Runs `body` with a new temporary directory, removed afterwards. */
function inWorkDir(prefix: string, body: (work: string) => void): void {
  const work = mkdtempSync(join(tmpdir(), prefix));
  try {
    body(work);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

test('the drivers\' aliases are read by the shell itself: the same list `cat /sys/bus/*/devices/*/modalias` gives', { skip: needsBusybox }, () => {
  // `$bb` records its arguments instead of loading anything; the host's own devices stand in for the VM's.
  const lines = loadModulesLines([]).join('\n');
  const run = spawnSync('busybox', ['sh', '-c', `bb=recorded; recorded() { printf '%s\\n' "$@"; }\n${lines}`], { encoding: 'utf8' });
  assert.equal(run.status, 0, run.stderr);
  const cat = spawnSync('busybox', ['sh', '-c', 'cat /sys/bus/*/devices/*/modalias 2>/dev/null'], { encoding: 'utf8' });
  const aliases = cat.stdout.split('\n').filter(Boolean);
  assert.ok(aliases.length > 0, 'the host has devices with aliases');
  assert.deepEqual(run.stdout.split('\n').filter(Boolean), ['modprobe', '-qa', ...aliases]);
  const none = spawnSync('busybox', ['sh', '-c', `cd /; bb=recorded; recorded() { echo called; }\n${lines.replaceAll('/sys/bus/', '/nonexistent/')}`], { encoding: 'utf8' });
  assert.equal(none.stdout, '', 'no devices, no modprobe');
});

test('modules named on the kernel command line are loaded by name, as systemd-modules-load reads modules-load= and modules_load=; one that fails to load fails the script', { skip: needsBusybox }, () => {
  inWorkDir('jeos-cmdline-', (work) => {
    const cmdline = join(work, 'cmdline');
    // `$bb` records what it would run, and fails for a module called `missing`; `*` would glob if the shell let it.
    const run = (line: string) => {
      writeFileSync(cmdline, `${line}\n`);
      const lines = loadModulesLines(['dummy']).join('\n').replaceAll('/sys/bus/', '/nonexistent/').replaceAll(KERNEL_CMDLINE, cmdline);
      const script = `cd ${work}; failed=; bb=recorded; recorded() { echo "$*"; case " $* " in *" missing "*) return 1;; esac; }\n${lines}\necho "failed=$failed"`;
      return spawnSync('busybox', ['sh', '-c', script], { encoding: 'utf8' }).stdout;
    };
    assert.equal(run('console=ttyS0 panic=-1'), 'modprobe -a dummy\nfailed=\n', 'nothing named: no second modprobe');
    assert.equal(run('console=ttyS0 modules-load=br_netfilter,vxlan quiet modules_load=* x=modules-load=no'),
      'modprobe -a dummy\nmodprobe -a br_netfilter vxlan *\nfailed=\n');
    assert.equal(run('modules-load=missing'), 'modprobe -a dummy\nmodprobe -a missing\nfailed= jeos-modules\n');
  });
});

test('/init hands systemd the kernel\'s arguments whole, after the modules; a module that does not load is written down for jeos-network.service', { skip: needsBusybox }, () => {
  inWorkDir('jeos-init-', (work) => {
    const cmdline = join(work, 'cmdline');
    const failedFile = join(work, 'failed');
    // `$bb` records what it would run (and fails for a module called `missing`); udhcpc's loop runs once; systemd says what it got.
    const script = initScript(['wireguard'])
      .replace(/^bb=.*$/m, 'bb=recorded; recorded() { echo "$*"; case " $* " in *" missing "*) return 1;; esac; }')
      .replaceAll('/sys/bus/', '/nonexistent/')
      .replaceAll(KERNEL_CMDLINE, cmdline)
      .replaceAll(NETWORK_FAILED, failedFile)
      .replace('while :; do', 'for once in 1; do')
      .replace(') </dev/null >/dev/null 2>&1 &', ') >/dev/null; wait')
      .replace(/^exec \/usr\/lib\/systemd\/systemd "\$@"$/m, 'printf "systemd got: %s\\n" "$@"');
    const boot = (line: string) => {
      writeFileSync(cmdline, `${line}\n`);
      rmSync(failedFile, { force: true });
      return spawnSync('busybox', ['sh', '-c', script, 'init', 'single', 'systemd.unit=rescue.target'], { encoding: 'utf8' });
    };
    const ok = boot('console=ttyS0 modules-load=vxlan');
    assert.equal(ok.status, 0, ok.stderr);
    assert.match(ok.stdout, /^mount -t proc -o nosuid,nodev,noexec proc \/proc$/m);
    assert.match(ok.stdout, /^modprobe -a wireguard\nmodprobe -a vxlan\n/m);
    assert.match(ok.stdout, /\nsystemd got: single\nsystemd got: systemd\.unit=rescue\.target\n$/);
    assert.equal(spawnSync('test', ['-e', failedFile]).status, 1, 'nothing failed, nothing written');
    const bad = boot('modules-load=missing');
    assert.match(bad.stderr, /jeos: a module named in jeos\.yaml, modules-load\.d or the kernel command line did not load/);
    assert.match(bad.stdout, /\nsystemd got: single\n/, 'systemd runs all the same');
    assert.equal(spawnSync('cat', [failedFile], { encoding: 'utf8' }).stdout, 'jeos: a module named in jeos.yaml, modules-load.d or the kernel command line did not load\n');
  });
});

test('the lease script brings eth0 up before the first lease without flushing addresses it cannot have yet; afterwards it flushes them', { skip: needsBusybox }, () => {
  inWorkDir('jeos-dhcp-', (work) => {
    const flag = join(work, 'bound');
    const script = dhcpScript().replace(/^bb=.*$/m, 'bb=recorded; recorded() { echo "$*"; }').replaceAll(LEASE_FLAG, flag);
    const deconfig = () => spawnSync('busybox', ['sh', '-c', script, 'udhcpc', 'deconfig'], { encoding: 'utf8', env: { interface: 'eth0' } }).stdout;
    assert.equal(deconfig(), 'ip link set eth0 up\n');
    writeFileSync(flag, '');
    assert.equal(deconfig(), 'ip -4 addr flush dev eth0\nip link set eth0 up\n');
  });
});
