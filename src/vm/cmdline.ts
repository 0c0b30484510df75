/**
 * The kernel command line of a VM image: the console on the first serial port,
 * systemd's status lines shown, no first-boot prompts, and a kernel panic ending
 * the VM at once (QEMU runs with -no-reboot) instead of hanging. `extra`
 * (vm.cmdline) comes last, so it can override any of these.
 *
 * - `cryptomgr.notests`: the kernel does not test each crypto algorithm it registers
 *   at boot, a large part of its time to `/init` under QEMU's TCG (docs/vm.md). They guard against broken implementations, not attacks;
 *   with `fips=1` the kernel runs them anyway, and `vm.cmdline: cryptomgr.notests=0`
 *   turns them back on.
 * - `initcall_blacklist=jent_mod_init`: the kernel does not start its jitter-entropy
 *   RNG, which times 1024 rounds of memory accesses when it starts. Only
 *   the kernel crypto API's DRBG uses it, to seed itself, and takes the kernel's own
 *   random pool without it; the kernel's RNG does not depend on it. FIPS mode
 *   requires it, so with `fips=1` in vm.cmdline it is left alone.
 * - `initramfs`: the kernel unpacks the OS into a ramfs, not the default tmpfs,
 *   which is capped at half the RAM (so a VM would need more memory); it runs `/init`.
 * - BusyBox init gets its host name from the kernel (`hostname=`) and no systemd options.
 * - `disk`: the kernel mounts the ext4 image on the first NVMe drive itself (ext4
 *   and NVMe are built into Debian's cloud kernel, so no initramfs is needed) and
 *   runs `/init` from it. `rw`: jeos run and jeos test attach the image with
 *   QEMU's snapshot=on, so the guest's writes never reach the file.
 */
import type { VmInit, VmRoot } from '../config/schema.js';

/** The block device the disk root is on: QEMU's first NVMe controller's first namespace. */
export const DISK_ROOT_DEVICE = '/dev/nvme0n1';

export interface CmdlineSpec {
  root?: VmRoot;
  init?: VmInit;
  /** Set by the kernel itself (`hostname=`) for BusyBox init, which then need not run `hostname`. */
  hostname?: string;
  /** `sysctl.<key>=<value>` arguments (see sysctl.ts): the kernel applies them before /init. */
  sysctl?: readonly string[];
}

/** Kernel initcalls a VM skips (see above); kept when vm.cmdline turns FIPS mode on. */
function skippedInitcalls(extra: string): string[] {
  return /(^|\s)fips=1(\s|$)/.test(extra) ? [] : ['initcall_blacklist=jent_mod_init'];
}

export function vmCmdline(extra: string, spec: CmdlineSpec = {}): string {
  const root = spec.root === 'disk' ? [`root=${DISK_ROOT_DEVICE}`, 'rootfstype=ext4', 'rw', 'init=/init'] : ['rootfstype=ramfs'];
  const init = spec.init === 'busybox' ? (spec.hostname ? [`hostname=${spec.hostname}`] : []) : ['systemd.show_status=1', 'systemd.firstboot=off'];
  const kernel = ['console=ttyS0', 'panic=-1', 'cryptomgr.notests', ...skippedInitcalls(extra)];
  return [...kernel, ...root, ...init, ...(spec.sysctl ?? []), extra.trim()].filter(Boolean).join(' ');
}
