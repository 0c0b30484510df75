/**
 * vm.init: busybox — a VM that boots without systemd. The kernel runs `/init`, a link
 * to Debian's BusyBox, which runs as its `init` applet and reads `/etc/inittab`:
 *
 * - `sysinit`: `/etc/jeos/boot`, a shell script that mounts the kernel's file systems
 *   (the host name is set by the kernel, `hostname=`), then, while the workload
 *   starts, loads the modules (there is no udev), brings up `lo`, takes a DHCP lease
 *   on `eth0` with BusyBox's udhcpc (which keeps renewing it in the background) and
 *   writes the boot report on the second serial port.
 * - `respawn` (restart always / on-failure) or `once` (restart no): `/etc/jeos/workload`,
 *   which runs the workload's command in its directory, with its environment, as its
 *   user (BusyBox's start-stop-daemon changes user and group), its output on the console.
 *   When the command fails, it writes a new report naming the workload, so that
 *   `jeos test --vm` fails with the workload's own output in the console tail.
 *
 * No journal, no units, no service manager: the price of a boot that is done in a
 * fraction of a second after the kernel. Every BusyBox command is called as
 * `busybox NAME`: Debian's packages install no applet links.
 */
import { JeosError } from '../../errors.js';
import type { ImageTree, NodeMeta } from '../../tree/index.js';
import { ensureTmp } from '../../configure/tmp-dir.js';
import { planSysctl, sysctlRecord } from '../system/sysctl.js';
import { planTmpfiles, tmpfilesNotDone } from '../tmpfiles/tmpfiles.js';
import { parentOf } from '../../util/path.js';
import { shellQuote } from '../../util/shell-quote.js';
import type { VmSystemReport } from '../system/system.js';
import { REPORT_BEGIN, REPORT_END, REPORT_TTY, type WorkloadUnitSpec } from '../system/units.js';
import { BUSYBOX, DHCP_SCRIPT, dhcpScript, LEASE_FLAG, loadModulesLines, modulesByName } from './busybox-network.js';
import { hostsFor } from '../system/hosts.js';

const BOOT_SCRIPT = 'etc/jeos/boot';
const WORKLOAD_SCRIPT = 'etc/jeos/workload';
const PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

export interface BusyboxInitSpec {
  hostname: string;
  /** The workload; without one the VM boots to a running init and nothing else. */
  workload?: WorkloadUnitSpec & { name: string };
  /** Kernel modules to load by name at boot, in order, after the drivers of the devices present. */
  modules: readonly string[];
  sourceDateEpoch: number;
}

/** The kernel's file systems, mounted by one `mount -a` (every exec costs tens of milliseconds under TCG). */
const FSTAB = `# Made by jeos (vm.init: busybox): mounted at boot by /etc/jeos/boot.
proc     /proc     proc     nosuid,nodev,noexec           0 0
sysfs    /sys      sysfs    nosuid,nodev,noexec           0 0
devtmpfs /dev      devtmpfs nosuid,mode=0755              0 0
devpts   /dev/pts  devpts   nosuid,noexec,gid=5,mode=0620 0 0
tmpfs    /dev/shm  tmpfs    nosuid,nodev,mode=1777        0 0
tmpfs    /run      tmpfs    nosuid,nodev,mode=0755        0 0
`;

function bootScript(modules: readonly string[], runLines: readonly string[]): string {
  return `#!/usr/bin/busybox sh
# Made by jeos (vm.init: busybox): what a VM needs before its workload starts.
# The host name comes from the kernel command line (hostname=).
bb=/${BUSYBOX}
export PATH=${PATH}
failed=

# /dev/pts and /dev/shm are made on the devtmpfs, so the mounts come in two rounds.
$bb mount -a -t proc,sysfs,devtmpfs
$bb mkdir -p /dev/pts /dev/shm && $bb mount -a -t devpts,tmpfs
${runLines.length ? `\n# /run is a new tmpfs at every boot: the entries the image's tmpfiles.d files declare there.\n${runLines.join('\n')}\n` : ''}
# The drivers and the network come up while the workload starts (as with systemd, where the
# workload's unit is ordered only after network.target, not after a lease).
(
${loadModulesLines(modules).map((l) => `  ${l}`).join('\n')}
  $bb ip link set lo up
  # udhcpc brings eth0 up, takes a lease, then goes to the background and renews it (-b: it keeps trying there if none came).
  $bb udhcpc -i eth0 -s /${DHCP_SCRIPT} -t 10 -T 1 -b >/dev/null 2>&1
  [ -e ${LEASE_FLAG} ] || failed="$failed jeos-network:eth0"
  { echo ${REPORT_BEGIN}; for unit in $failed; do echo "$unit failed"; done; echo ${REPORT_END}; } > ${REPORT_TTY}
  echo "jeos: booted\${failed:+, failed:$failed}"
) &
`;
}

function workloadScript(w: WorkloadUnitSpec & { name: string }): string {
  const [user = 'root', group] = w.user.split(':');
  const [program = '', ...args] = w.command;
  const asRoot = user === 'root' && (group === undefined || group === 'root');
  const exe = program.includes('/') ? shellQuote(program) : `"$($bb which ${shellQuote(program)})"`;
  const run = asRoot
    ? `${shellQuote(program)} ${args.map(shellQuote).join(' ')}`
    : `$bb start-stop-daemon -S -c ${shellQuote(group ? `${user}:${group}` : user)} -x ${exe} -- ${args.map(shellQuote).join(' ')}`;
  const env = Object.entries(w.env).map(([k, v]) => `export ${k}=${shellQuote(v)}`);
  return `#!/usr/bin/busybox sh
# Made by jeos (vm.init: busybox): the workload ${w.name}, restart: ${w.restart}.
bb=/${BUSYBOX}
export PATH=${PATH} HOME=/root
${env.join('\n')}
cd ${shellQuote(w.workdir)} || exit 1
${run.trimEnd()}
status=$?
if [ "$status" != 0 ]; then
  { echo ${REPORT_BEGIN}; echo "${w.name}.workload failed: exit status $status"; echo ${REPORT_END}; } > ${REPORT_TTY}
  echo "jeos: ${w.name} exited with status $status"
  $bb sleep 1
  exit "$status"
fi
${w.restart === 'on-failure' ? `# Finished well: nothing to restart; park here so that init does not respawn it.\nexec $bb sleep 2147483647` : 'exit 0'}
`;
}

/** What the setup did, for build.json's vm.system (the systemd setup's fields that apply). */
export type BusyboxSystemReport = Pick<VmSystemReport, 'init' | 'hostname' | 'workloadUnit' | 'files' | 'enabled' | 'disabled' | 'masked' | 'sysctl' | 'tmpfiles' | 'network'>;

export function setupBusyboxInit(tree: ImageTree, spec: BusyboxInitSpec): BusyboxSystemReport {
  const meta = (mode: number): NodeMeta => ({ mode, uid: 0, gid: 0, mtime: spec.sourceDateEpoch });
  const report: BusyboxSystemReport = { init: `/${BUSYBOX}`, hostname: spec.hostname, files: [], enabled: [], disabled: [], masked: [], sysctl: sysctlRecord(planSysctl(tree, 'busybox'), 'busybox'), tmpfiles: tmpfilesNotDone(''), network: { by: 'BusyBox modprobe and udhcpc (/etc/jeos/boot)', modulesByName: modulesByName(tree, spec.modules) } };
  const write = (path: string, text: string, mode = 0o644) => {
    tree.mkdirp(parentOf(path), meta(0o755));
    tree.writeFile(path, text, meta(mode));
    report.files.push(`/${path}`);
  };
  if (tree.stat(BUSYBOX)?.kind !== 'file') {
    throw new JeosError('E_VM_NO_INIT', `the image has no /${BUSYBOX}`, { hint: 'vm.init: busybox needs BusyBox (busybox-static is added to the request for vm outputs; run jeos lock if jeos.lock predates it)' });
  }
  tree.symlink('init', `/${BUSYBOX}`, meta(0o777));
  // The kernel opens /dev/console for init before anything is mounted.
  tree.mkdirp('dev', meta(0o755));
  if (!tree.has('dev/console')) tree.put('dev/console', { kind: 'char', major: 5, minor: 1, ...meta(0o600) });
  if (!tree.has('dev/null')) tree.put('dev/null', { kind: 'char', major: 1, minor: 3, ...meta(0o666) });
  for (const dir of ['proc', 'sys', 'run']) tree.mkdirp(dir, meta(0o755));
  if (ensureTmp(tree, spec.sourceDateEpoch)) report.files.push('/tmp');

  write('etc/hostname', `${spec.hostname}\n`);
  write('etc/fstab', FSTAB);
  const hosts = hostsFor(tree.readFile('etc/hosts')?.toString('utf8'), spec.hostname);
  if (hosts !== undefined) write('etc/hosts', hosts);
  // No systemd-tmpfiles runs here: what jeos can do of the image's tmpfiles.d entries is all there is.
  const tmpfiles = planTmpfiles(tree, { hostname: spec.hostname, journal: 'none', sourceDateEpoch: spec.sourceDateEpoch });
  if (tmpfiles.needsService) report.tmpfiles = tmpfilesNotDone('not applied', tmpfiles.needsService);
  else {
    tmpfiles.apply();
    report.tmpfiles = { ...tmpfiles.record, on: tmpfiles.record.boot.length ? `the build, and /${BOOT_SCRIPT} for /run` : 'the build' };
  }
  write(BOOT_SCRIPT, bootScript(report.network.modulesByName, tmpfiles.bootLines), 0o755);
  write(DHCP_SCRIPT, dhcpScript(), 0o755);
  const inittab = [
    '# Made by jeos (vm.init: busybox). Format: id:runlevels:action:process (BusyBox ignores the first two).',
    `::sysinit:/${BOOT_SCRIPT}`,
  ];
  if (spec.workload) {
    write(WORKLOAD_SCRIPT, workloadScript(spec.workload), 0o755);
    inittab.push(`::${spec.workload.restart === 'no' ? 'once' : 'respawn'}:/${WORKLOAD_SCRIPT}`);
    report.workloadUnit = `/${WORKLOAD_SCRIPT}`;
  }
  inittab.push(`::ctrlaltdel:/${BUSYBOX} poweroff`, `::shutdown:/${BUSYBOX} umount -a -r`);
  write('etc/inittab', `${inittab.join('\n')}\n`);
  return report;
}
