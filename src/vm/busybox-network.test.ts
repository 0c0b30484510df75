// The BusyBox network script's pieces, run by the real BusyBox with `$bb` standing in for the commands
// they would start: what they read and what they would run, on this host.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { dhcpScript, KERNEL_CMDLINE, LEASE_FLAG, loadModulesLines } from './busybox-network.js';

const needsBusybox = spawnSync('sh', ['-c', 'command -v busybox']).status === 0 ? false : 'needs busybox (CI installs it)';

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
  const work = mkdtempSync(join(tmpdir(), 'jeos-cmdline-'));
  try {
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
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
});

test('the lease script brings eth0 up before the first lease without flushing addresses it cannot have yet; afterwards it flushes them', { skip: needsBusybox }, () => {
  const work = mkdtempSync(join(tmpdir(), 'jeos-dhcp-'));
  try {
    const flag = join(work, 'bound');
    const script = dhcpScript().replace(/^bb=.*$/m, 'bb=recorded; recorded() { echo "$*"; }').replaceAll(LEASE_FLAG, flag);
    const deconfig = () => spawnSync('busybox', ['sh', '-c', script, 'udhcpc', 'deconfig'], { encoding: 'utf8', env: { interface: 'eth0' } }).stdout;
    assert.equal(deconfig(), 'ip link set eth0 up\n');
    writeFileSync(flag, '');
    assert.equal(deconfig(), 'ip -4 addr flush dev eth0\nip link set eth0 up\n');
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
});
