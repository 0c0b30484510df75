/**
 * What setupVmSystem (system.ts) is given and what it reports: the VM system's spec, and the
 * record of everything it changed (for build.json). Here, below system.ts and the files that
 * do its parts, so that they can name both without importing each other.
 */
import type { VmNetwork, VmRoot } from '../../config/schema.js';
import type { TmpfilesRecord } from '../tmpfiles/tmpfiles.js';
import type { DiskHealthcheck } from './disk-boot.js';
import type { SysctlRecord } from './sysctl.js';
import type { WorkloadUnitSpec } from './units.js';
import type { ImageUpdateSpec } from './update.js';

export interface VmSystemSpec {
  hostname: string;
  /** The workload's service; none when jeos.yaml names no command (the packages' own units run). */
  workload?: WorkloadUnitSpec & { unit: string };
  /**
   * Kernel modules to insert at boot. With vm.network: networkd systemd-modules-load inserts
   * them all by name; with busybox, the drivers among them (VM_MODULES) load only for the
   * devices present, and the others by name.
   */
  modules: readonly string[];
  /** What loads the drivers and takes the DHCP lease (vm.network; busybox by default). */
  network?: VmNetwork;
  /** Where the root file system is: the initramfs (the default) or a disk image. */
  root?: VmRoot;
  /** Booted from a disk image (the disk output): /var and the ESP mounted, boot assessment with this health check. */
  disk?: { healthcheck?: DiskHealthcheck; update?: ImageUpdateSpec };
  /** Keep what debugging the boot from the kernel command line needs (vm.debug). */
  debug?: boolean;
  sourceDateEpoch: number;
}

export interface VmSystemReport {
  init: string;
  hostname: string;
  workloadUnit?: string;
  /** Files jeos wrote, as absolute paths. */
  files: string[];
  enabled: string[];
  /** Package units no longer started at boot, with the reason. */
  disabled: Array<{ unit: string; reason: string }>;
  masked: Array<{ unit: string; reason: string }>;
  /** The image's sysctl settings: on the kernel command line (systemd-sysctl.service masked) when the kernel can apply them all. */
  sysctl: SysctlRecord;
  /** The image's tmpfiles.d entries: applied at build time and made in /run by /init (systemd-tmpfiles-setup.service masked), or left to that service, with the entry that needs it. */
  tmpfiles: TmpfilesRecord;
  /** What loads the drivers and takes the DHCP lease on eth0, and the modules loaded by name (the drivers of the devices present load by their aliases). */
  network: NetworkReport;
  /** The LANG systemd gives every service, and why (written to /etc/locale.conf unless a package ships one). */
  locale: { lang: string; reason: string };
}

export interface NetworkReport {
  by: string;
  modulesByName: string[];
}
