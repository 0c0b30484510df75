/**
 * The drivers and the network with BusyBox, for both inits: a VM has no udev, so
 * something must load the drivers of the devices QEMU gives it, and something must
 * take a DHCP lease on eth0.
 *
 * - Drivers: BusyBox's modprobe loads, among the modules the image keeps, the ones
 *   whose aliases match a device present (each device's `modalias` in /sys, as udev's
 *   coldplug matches them), then the modules named in jeos.yaml (`vm.modules`), in
 *   the image's modules-load.d files and on the kernel command line. A virtio disk's
 *   driver loads only when a virtio disk is attached.
 * - Network: udhcpc takes the lease on eth0, applies it with /etc/jeos/udhcpc
 *   (address, default route, /etc/resolv.conf) and stays to renew it.
 *
 * In a systemd VM (vm.network: busybox, the default) this is done by /init, a BusyBox
 * script the kernel runs, before it hands PID 1 to systemd: as a service it cost its
 * systemd-executor (which links systemd's shared libraries, slow to start under QEMU's
 * TCG) and a place on the boot's critical path. jeos-network.service is left to
 * report, at boot, what /init could not do; it runs only then.
 */
import type { ImageTree } from '../../tree/index.js';
import { shellQuote } from '../../util/shell-quote.js';
import { readConfD } from '../../configure/confd.js';
import { VM_MODULES } from '../kernel/kernel-image.js';

export const BUSYBOX = 'usr/bin/busybox';
/** systemd, which /init runs as PID 1 once it is done. */
export const SYSTEMD_BINARY = 'usr/lib/systemd/systemd';
export const DHCP_SCRIPT = 'etc/jeos/udhcpc';
/** The script the kernel runs as /init in a systemd VM with vm.network: busybox; it ends by running systemd. */
export const INIT_SCRIPT = 'etc/jeos/init';
export const NETWORK_UNIT = 'jeos-network.service';
/** Written by /init when a module named did not load; jeos-network.service runs only when it exists. */
export const NETWORK_FAILED = '/run/jeos-network.failed';
/** Written by the DHCP script once eth0 has a lease. */
export const LEASE_FLAG = '/run/jeos-dhcp-bound';
/** Mount points /init mounts on: systemd makes them itself, so the image may lack them. */
export const INIT_MOUNT_POINTS = ['dev', 'proc', 'sys', 'run'] as const;
/** Where the booted VM reads its kernel command line. */
export const KERNEL_CMDLINE = '/proc/cmdline';
export const MODULES_LOAD_DIRS = ['etc/modules-load.d', 'run/modules-load.d', 'usr/local/lib/modules-load.d', 'usr/lib/modules-load.d'] as const;

/**
 * The modules the image's modules-load.d files name, read as systemd-modules-load
 * reads them (a name in an earlier directory hiding the same name in a later one, a
 * link to /dev/null masking it, files in the order of their names, `#` and `;` comments).
 */
export function modulesLoadD(tree: ImageTree): Array<{ module: string; file: string }> {
  const named: Array<{ module: string; file: string }> = [];
  for (const { file, text } of readConfD(tree, MODULES_LOAD_DIRS)) {
    for (const line of text.split('\n')) {
      const module = line.trim();
      if (module && !module.startsWith('#') && !module.startsWith(';')) named.push({ module, file });
    }
  }
  return named;
}

/** The modules a BusyBox network loads by name: the ones jeos.yaml asks for besides the drivers (VM_MODULES), and the ones the image's modules-load.d files name. */
export function modulesByName(tree: ImageTree, modules: readonly string[]): string[] {
  const drivers = new Set(VM_MODULES);
  return [...new Set([...modules.filter((m) => !drivers.has(m)), ...modulesLoadD(tree).map((m) => m.module)])];
}

/**
 * Shell lines (with `$bb` set to BusyBox) that load the drivers of the devices present,
 * then the modules named at build time, then those the kernel command line names
 * (read when the VM boots, so that `jeos run --append modules-load=…` works); a named module that does not load adds `jeos-modules` to
 * `$failed`. Aliases no kept module has are skipped quietly: most devices (the PCI
 * bridges, the CPU) have their drivers built in or none at all.
 */
export function loadModulesLines(named: readonly string[]): string[] {
  return [
    '# The drivers of the devices present: every device\'s modalias, matched against the kept modules\' aliases.',
    '# The shell reads them itself: under TCG a process (`cat`) costs a tenth of a second.',
    'set --; for f in /sys/bus/*/devices/*/modalias; do read -r a 2>/dev/null < "$f" && set -- "$@" "$a"; done',
    '[ $# -eq 0 ] || $bb modprobe -qa "$@"',
    ...(named.length ? [`$bb modprobe -a ${named.map(shellQuote).join(' ')} || failed="$failed jeos-modules"`] : []),
    '# The modules named on the kernel command line (modules-load=a,b; modules_load= too), as systemd-modules-load reads it.',
    `set -f --; read -r cmdline < ${KERNEL_CMDLINE}`,
    'for w in $cmdline; do case "$w" in modules[-_]load=*) IFS=,; set -- "$@" ${w#*=}; unset IFS;; esac; done; set +f',
    '[ $# -eq 0 ] || $bb modprobe -a "$@" || failed="$failed jeos-modules"',
  ];
}

/** udhcpc calls this with the lease in its environment ($ip, $mask, $router, $dns). */
export function dhcpScript(): string {
  return `#!/usr/bin/busybox sh
# Made by jeos: apply udhcpc's lease to the interface, the default route and /etc/resolv.conf.
bb=/${BUSYBOX}
case "$1" in
  deconfig)
    # Before the first lease there is no address to flush (one process fewer at boot).
    [ -e ${LEASE_FLAG} ] && $bb ip -4 addr flush dev "$interface"
    $bb ip link set "$interface" up
    ;;
  bound|renew)
    [ "$1" = renew ] && $bb ip -4 addr flush dev "$interface"
    $bb ip -4 addr add "$ip/\${mask:-24}" dev "$interface"
    for r in $router; do $bb ip -4 route replace default via "$r" dev "$interface"; break; done
    if [ -n "$dns" ]; then
      for s in $dns; do echo "nameserver $s"; done > /etc/resolv.conf
    fi
    : > ${LEASE_FLAG}
    ;;
esac
exit 0
`;
}

/**
 * /init for a systemd VM with vm.network: busybox. It mounts the kernel's file systems
 * with the options systemd would use (systemd finds them mounted and goes on), makes
 * /run's entries of the image's tmpfiles.d files (`runLines`, when jeos does them in
 * place of systemd-tmpfiles-setup.service), loads the modules, starts udhcpc in the
 * background (again a second after it stops), and then runs systemd as PID 1 with the
 * kernel's arguments. A named module that does not load is written to NETWORK_FAILED.
 */
export function initScript(named: readonly string[], runLines: readonly string[] = [], background: readonly string[] = []): string {
  return `#!/usr/bin/busybox sh
# Made by jeos (vm.network: busybox): the kernel runs this as /init. It loads the drivers (there is no
# udev) and starts BusyBox's udhcpc, which takes a DHCP lease on eth0 and renews it, then runs systemd.
# Done here, before systemd, this costs no systemd-executor; jeos-network.service reports what failed.
bb=/${BUSYBOX}
failed=
# The kernel's file systems, mounted as systemd mounts them; it finds them and goes on.
$bb mount -t devtmpfs -o mode=0755,size=4m,nosuid,strictatime devtmpfs /dev
$bb mount -t proc -o nosuid,nodev,noexec proc /proc
$bb mount -t sysfs -o nosuid,nodev,noexec sysfs /sys
$bb mount -t tmpfs -o mode=0755,size=20%,nr_inodes=800k,nosuid,nodev,strictatime tmpfs /run
${runLines.length ? `# /run is a new tmpfs at every boot: the entries the image's tmpfiles.d files declare there.\n${runLines.join('\n')}\n` : ''}# In a function, whose \`set --\` leaves the kernel's arguments to init (\$@) for systemd.
load_modules() {
${loadModulesLines(named).map((l) => `  ${l}`).join('\n')}
}
load_modules
if [ -n "$failed" ]; then
  msg="jeos: a module named in jeos.yaml, modules-load.d or the kernel command line did not load"
  echo "$msg" > ${NETWORK_FAILED}; echo "$msg" >&2
fi
# udhcpc takes the lease and renews it; if it stops, it is started again a second later.
( while :; do $bb udhcpc -f -S -i eth0 -s /${DHCP_SCRIPT} -t 10 -T 1; $bb sleep 1; done ) </dev/null >/dev/null 2>&1 &
${background.map((l) => `${l}\n`).join('')}exec /${SYSTEMD_BINARY} "$@"
`;
}

/** Reports at boot what /init could not do: it runs only when /init wrote NETWORK_FAILED, and fails. */
export function networkUnit(): string {
  return [
    '# Made by jeos (vm.network: busybox): /init loads the drivers and starts udhcpc before systemd runs.',
    '# This unit runs only when that failed, so that the failure shows among the failed units.',
    '[Unit]',
    'Description=jeos network setup in /init',
    'DefaultDependencies=no',
    `ConditionPathExists=${NETWORK_FAILED}`,
    'Wants=network.target',
    'Before=sysinit.target network.target',
    '',
    '[Service]',
    'Type=oneshot',
    'StandardOutput=journal+console',
    `ExecStart=/${BUSYBOX} cat ${NETWORK_FAILED}`,
    `ExecStart=/${BUSYBOX} false`,
    '',
    '[Install]',
    'WantedBy=sysinit.target',
    '',
  ].join('\n');
}
