/** Shared types of the VM runner: what a boot is asked for and what it reports. */

export type Accel = 'kvm' | 'tcg';
export type AccelChoice = Accel | 'auto';
export type Machine = 'q35' | 'pc';
/** How QEMU starts the kernel: its uncompressed ELF through the PVH entry, the bzImage as it is, or (uefi) the firmware boots a disk whose boot loader loads it. */
export type KernelEntry = 'pvh' | 'bzimage' | 'uefi';

/** A port of the guest reachable on the host's loopback interface (QEMU user networking). */
export interface Forward {
  protocol: 'tcp' | 'udp';
  guestPort: number;
  hostPort: number;
}

/** A port the image declares, before a host port is chosen for it. */
export interface GuestPort {
  port: number;
  protocol: 'tcp' | 'udp';
}

/** The files `jeos build --format vm` writes into out/vm. */
export interface VmImage {
  dir: string;
  kernel: string;
  /** The initramfs holding the OS (vm.root: initramfs)… */
  initrd?: string;
  /** …or the ext4 image holding it (vm.root: disk), booted from an NVMe drive. */
  disk?: string;
  /** The kernel command line, one line, whitespace trimmed. */
  cmdline: string;
}

/** Guest memory as the balloon driver reports it (MiB). */
export interface GuestMemory {
  totalMiB: number;
  availableMiB: number;
  usedMiB: number;
}

/** Milliseconds since QEMU was spawned. */
export interface BootTimings {
  /** The first byte on the console (the kernel's `Linux version` line under -kernel). */
  kernel: number | null;
  /** The kernel ran /init. */
  userspace: number | null;
  /** The health check first passed (or, without one, the guest's report arrived). */
  ready: number | null;
  /** Until QEMU was gone. */
  total: number;
}

export type VmEvent =
  | { type: 'accel'; accel: Accel; machine: Machine; reason: string }
  | { type: 'kernel'; entry: KernelEntry; reason?: string; /** Kernel arguments the runner added for the accelerator (accelCmdline). */ added: string[] }
  | { type: 'started'; pid: number; forwards: Forward[] }
  | { type: 'marker'; name: 'kernel' | 'userspace'; ms: number }
  | { type: 'probe'; ok: boolean; detail: string }
  | { type: 'report'; ms: number; failedUnits: string[] }
  | { type: 'stopping'; reason: string };
