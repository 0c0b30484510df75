/**
 * The kernel command line of a VM image: the console on the first serial port,
 * systemd's status lines shown, no first-boot prompts, and a kernel panic ending
 * the VM at once (QEMU runs with -no-reboot) instead of hanging. `extra`
 * (vm.cmdline) comes last, so it can override any of these.
 *
 * - `initramfs`: the kernel unpacks the OS into a ramfs, not the default tmpfs,
 *   which is capped at half the RAM (the nginx VM then needed 192 MiB instead of
 *   160); it runs `/init`.
 * - `disk`: the kernel mounts the ext4 image on the first NVMe drive itself (ext4
 *   and NVMe are built into Debian's cloud kernel, so no initramfs is needed) and
 *   runs `/init` from it. `rw`: jeos run and jeos test attach the image with
 *   QEMU's snapshot=on, so the guest's writes never reach the file.
 */
import type { VmRoot } from '../config/schema.js';

/** The block device the disk root is on: QEMU's first NVMe controller's first namespace. */
export const DISK_ROOT_DEVICE = '/dev/nvme0n1';

export function vmCmdline(extra: string, root: VmRoot = 'initramfs'): string {
  const rootArgs = root === 'disk' ? [`root=${DISK_ROOT_DEVICE}`, 'rootfstype=ext4', 'rw', 'init=/init'] : ['rootfstype=ramfs'];
  return ['console=ttyS0', 'panic=-1', ...rootArgs, 'systemd.show_status=1', 'systemd.firstboot=off', extra.trim()].filter(Boolean).join(' ');
}
