/**
 * How much memory a VM whose whole OS is in its initramfs needs, and how to tell from its
 * console that it ran out.
 *
 * While the kernel unpacks the initramfs, RAM holds the compressed initrd.img (QEMU loads it) and
 * the files it unpacks into (a ramfs that never shrinks), on top of what the kernel itself takes:
 * Debian's cloud kernel cannot start in less than 72 MiB whatever the image (docs/vm.md, "Lighter
 * VMs"). examples/nginx fits that sum exactly: 72 + 26.3 MiB unpacked + 12.2 MiB of LZ4 =
 * 110.5 MiB, and its smallest working size measured is 112 (104 ran out while the kernel unpacked).
 * The running system (systemd, journald, the workload) needs more on top; HEADROOM_MIB is what the
 * nginx VM used beyond its files when it answered (62 MiB in use, 26 of them files), doubled.
 */

export const KERNEL_FLOOR_MIB = 72;
export const HEADROOM_MIB = 128;
/** vm.memory's default: what the VM gets whenever that is enough. */
export const DEFAULT_VM_MEMORY_MIB = 256;

const MiB = 1024 * 1024;
const roundUp = (n: number, step: number): number => Math.ceil(n / step) * step;

export interface InitrdSizes {
  /** out/vm/initrd.img's size, compressed. */
  size: number;
  /** The cpio archive it unpacks to: the files' bytes and their headers. */
  uncompressedSize: number;
}

export interface VmMemoryFit {
  /** The least the guest can unpack its initramfs in (rounded up to 8 MiB). */
  neededMiB: number;
  /** What jeos gives the VM when jeos.yaml sets no vm.memory: the default, or the need plus headroom in steps of 64 MiB. */
  chosenMiB: number;
  /** In words: the sizes and the sum. */
  why: string;
}

export function vmMemoryFit(initrd: InitrdSizes, defaultMiB = DEFAULT_VM_MEMORY_MIB): VmMemoryFit {
  const unpacked = initrd.uncompressedSize / MiB;
  const compressed = initrd.size / MiB;
  const neededMiB = roundUp(KERNEL_FLOOR_MIB + unpacked + compressed, 8);
  const chosenMiB = Math.max(defaultMiB, roundUp(neededMiB + HEADROOM_MIB, 64));
  const why = `the initramfs unpacks to ${unpacked.toFixed(1)} MiB from ${compressed.toFixed(1)} MiB, and the kernel needs ${KERNEL_FLOOR_MIB} MiB: at least ${neededMiB} MiB to boot`;
  return { neededMiB, chosenMiB, why };
}

/** Console lines that say the guest ran out of memory (the kernel's words). */
const OUT_OF_MEMORY = [/System is deadlocked on memory/, /Kernel panic - not syncing: Out of memory/, /Out of memory: Killed process/, /Initramfs unpacking failed: write error/, /\boom-kill:/];
/**
 * Other lines of the kernel's out-of-memory report, which say it less plainly: taken when none of the
 * above came through readable (the kernel's console drops characters when the host reads it late).
 */
const OUT_OF_MEMORY_REPORT = [/\binvoked oom-killer: /, /Out of memory and no killable processes/];

const bare = (line: string) => line.replace(/^\[\s*[\d.]+\]\s*/, '').trim();

/** Whether a line says plainly that the guest ran out of memory (not only a line of the report). */
export function saysOutOfMemory(line: string): boolean {
  return OUT_OF_MEMORY.some((re) => re.test(line));
}

/** The first console line that says the guest ran out of memory, else the first line of the kernel's report, if any. */
export function outOfMemoryLine(console: string): string | undefined {
  const lines = console.split('\n');
  const plain = lines.find(saysOutOfMemory) ?? lines.find((line) => OUT_OF_MEMORY_REPORT.some((re) => re.test(line)));
  return plain === undefined ? undefined : bare(plain);
}
