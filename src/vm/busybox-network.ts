/**
 * The drivers and the network with BusyBox, for both inits: a VM has no udev, so
 * something must load the drivers of the devices QEMU gives it, and something must
 * take a DHCP lease on eth0.
 *
 * - Drivers: BusyBox's modprobe loads, among the modules the image keeps, the ones
 *   whose aliases match a device present (each device's `modalias` in /sys, as udev's
 *   coldplug matches them), then the modules named in jeos.yaml (`vm.modules`) and in
 *   the image's modules-load.d files. A virtio disk's driver loads only when a virtio
 *   disk is attached.
 * - Network: udhcpc takes the lease on eth0, applies it with /etc/jeos/udhcpc
 *   (address, default route, /etc/resolv.conf) and stays to renew it.
 *
 * In a systemd VM (vm.network: busybox, the default) this is one service,
 * jeos-network.service, in place of systemd-modules-load and systemd-networkd: under
 * QEMU's TCG each service costs its systemd-executor and its program, each linking
 * systemd's shared libraries, while BusyBox is one small program linking only libc.
 */
import type { ImageTree } from '../tree/index.js';
import { readConfD } from './confd.js';
import { VM_MODULES } from './kernel-image.js';

export const BUSYBOX = 'usr/bin/busybox';
export const DHCP_SCRIPT = 'etc/jeos/udhcpc';
export const NETWORK_SCRIPT = 'etc/jeos/network';
export const NETWORK_UNIT = 'jeos-network.service';
/** Written by the DHCP script once eth0 has a lease. */
export const LEASE_FLAG = '/run/jeos-dhcp-bound';
const NETWORK_PID = '/run/jeos-network.pid';
/** Where the booted VM reads its kernel command line. */
export const KERNEL_CMDLINE = '/proc/cmdline';
export const MODULES_LOAD_DIRS = ['etc/modules-load.d', 'run/modules-load.d', 'usr/local/lib/modules-load.d', 'usr/lib/modules-load.d'] as const;

/** One shell word: single quotes, with each `'` written as `'\''`. */
export function shellQuote(word: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(word) ? word : `'${word.replaceAll("'", "'\\''")}'`;
}

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
 * jeos-network.service's script: the entries of the image's tmpfiles.d files in /run
 * (`runLines`, when jeos does them in place of systemd-tmpfiles-setup.service), the
 * modules, then udhcpc in the background, its PID for systemd (Type=forking). The unit
 * is started once the modules are in, so units ordered after sysinit.target find them
 * and /run's entries, as they would after systemd-modules-load and systemd-tmpfiles-setup;
 * the lease comes while the rest of the boot goes on, as it did with systemd-networkd.
 */
export function networkScript(named: readonly string[], runLines: readonly string[] = []): string {
  return `#!/usr/bin/busybox sh
# Made by jeos (vm.network: busybox): run by ${NETWORK_UNIT}. There is no udev: this loads the drivers,
# then BusyBox's udhcpc takes a DHCP lease on eth0 and stays to renew it.
bb=/${BUSYBOX}
failed=
${runLines.length ? `# /run is a new tmpfs at every boot: the entries the image's tmpfiles.d files declare there.\n${runLines.join('\n')}\n` : ''}${loadModulesLines(named).join('\n')}
$bb udhcpc -f -i eth0 -s /${DHCP_SCRIPT} -t 10 -T 1 &
echo $! > ${NETWORK_PID}
[ -z "$failed" ] || { echo "jeos: a module named in jeos.yaml, modules-load.d or the kernel command line did not load" >&2; exit 1; }
`;
}

export function networkUnit(): string {
  return [
    '# Made by jeos (vm.network: busybox): the drivers and DHCP on eth0, in place of systemd-modules-load and systemd-networkd.',
    '[Unit]',
    'Description=Drivers and DHCP on eth0 (BusyBox modprobe and udhcpc)',
    'DefaultDependencies=no',
    'Wants=network.target',
    'Before=sysinit.target network.target shutdown.target',
    'Conflicts=shutdown.target',
    '',
    '[Service]',
    'Type=forking',
    `PIDFile=${NETWORK_PID}`,
    `ExecStart=/${NETWORK_SCRIPT}`,
    'Restart=on-failure',
    'RestartSec=1',
    '',
    '[Install]',
    'WantedBy=sysinit.target',
    '',
  ].join('\n');
}
