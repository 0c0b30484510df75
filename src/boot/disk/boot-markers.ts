/**
 * What the serial console says about each stage of a UEFI boot, with the host's arrival
 * time: the firmware starting the boot loader (OVMF's `BdsDxe: starting`), the kernel's EFI
 * stub taking over from systemd-boot, the kernel's first line, /init, and which version
 * booted (jeos.version= on the kernel's command line, which each boot entry carries; else the version
 * the guest names when its boot completes), and
 * what the ESP's check before it is mounted and jeos-update said (repairs, updates, refusals).
 * A reboot starts a new boot: the firmware's next `BdsDxe` line after the kernel ran.
 */
import { cleanLine } from '../vm/console.js';

/** What the guest prints once boot-complete.target is reached (src/vm/system/disk-boot.ts writes the unit). */
export const BOOT_COMPLETE_MARK = 'JEOS_BOOT_COMPLETE';

/** Milliseconds since QEMU was spawned; null when the stage was not seen. */
export interface DiskBootTimings {
  /** The firmware started the boot loader. */
  firmware: number | null;
  /** The boot loader handed over to the kernel (its EFI stub). */
  bootLoader: number | null;
  /** The kernel's `Linux version` line. */
  kernel: number | null;
  /** The kernel ran /init. */
  userspace: number | null;
  /** The health check first passed (inside the guest, before boot-complete.target). */
  healthy: number | null;
  /** boot-complete.target was reached: the guest said so on the console (and the entry is blessed). */
  complete: number | null;
}

export interface DiskBoot {
  /** The version that booted (`jeos.version=`), or null before the kernel said. */
  version: string | null;
  /** When this boot began: 0 for the first, else when the firmware printed again. */
  began: number;
  timings: DiskBootTimings;
  /** What the guest's lifecycle scripts said in this boot, in order: `jeos-disk: …` (the ESP's repair) and `jeos-update: …`. */
  said: string[];
}

const empty = (began: number): DiskBoot => ({ version: null, began, timings: { firmware: null, bootLoader: null, kernel: null, userspace: null, healthy: null, complete: null }, said: [] });
/** `JEOS_BOOT_COMPLETE 2.0`: the guest adds its os-release IMAGE_VERSION. */
const COMPLETE_VERSION = new RegExp(`\\b${BOOT_COMPLETE_MARK} (\\S+)`);
/** A line of jeos-disk-mounts or jeos-update, after the journal's `[time] name[pid]: ` prefix. */
const LIFECYCLE_LINE = /\b(jeos-(?:disk|update): .*)$/;

export class DiskBootLog {
  readonly boots: DiskBoot[] = [empty(0)];
  private partial = '';
  private readonly decoder = new TextDecoder('utf-8');

  get current(): DiskBoot {
    return this.boots[this.boots.length - 1]!;
  }

  feed(chunk: Uint8Array, ms: number): void {
    this.partial += this.decoder.decode(chunk, { stream: true });
    let nl: number;
    while ((nl = this.partial.indexOf('\n')) >= 0) {
      this.line(cleanLine(this.partial.slice(0, nl)), ms);
      this.partial = this.partial.slice(nl + 1);
    }
  }

  line(text: string, ms: number): void {
    let boot = this.current;
    // The firmware again after anything of a kernel (its EFI stub on): a reboot, even when a line of it was missed.
    if (/\bBdsDxe: (loading|starting) Boot/.test(text) && (boot.timings.bootLoader !== null || boot.timings.kernel !== null || boot.version !== null)) {
      this.boots.push(empty(ms));
      boot = this.current;
    }
    // Each marker on its own: one console line can carry two when an output lacked its newline.
    const t = boot.timings;
    if (t.firmware === null && /\bBdsDxe: starting Boot/.test(text)) t.firmware = ms;
    if (t.bootLoader === null && /\bEFI stub: /.test(text)) t.bootLoader = ms;
    if (t.kernel === null && /\bLinux version \d/.test(text)) t.kernel = ms;
    if (t.userspace === null && /\bRun \S+ as init process\b/.test(text)) t.userspace = ms;
    if (t.healthy === null && /\bjeos-health: healthy\b/.test(text)) t.healthy = ms;
    if (t.complete === null && text.includes(BOOT_COMPLETE_MARK)) t.complete = ms;
    // The version from the kernel's command line, else from the line that says the boot completed (the
    // kernel's console output loses characters when the host reads it late; userspace's does not).
    const v = /\bKernel command line: .*\bjeos\.version=(\S+)/.exec(text) ?? COMPLETE_VERSION.exec(text);
    if (v && boot.version === null) boot.version = v[1]!;
    const said = LIFECYCLE_LINE.exec(text);
    if (said) boot.said.push(said[1]!);
  }
}
