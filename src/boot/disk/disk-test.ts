/**
 * jeos test --disk: boot a disk image under UEFI (OVMF, systemd-boot, the boot entry's
 * kernel and initramfs), headless, with the disk attached with snapshot=on so a test never
 * changes the file, and check the workload's health check as jeos test --vm does. Reports
 * the version that booted and each boot's stages. One boot for now: following the machine
 * across reboots (boot counting, rollback) comes with boot assessment.
 */
import { rm } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import { testVm, type VmTestOptions, type VmTestResult } from '../vm/vm-test.js';
import { DiskBootLog, type DiskBoot } from './boot-markers.js';
import { requireOvmf, varsFor } from './firmware.js';
import { readDiskImage } from './image.js';

export interface DiskTestOptions extends Omit<VmTestOptions, 'vmDir' | 'uefi' | 'pvh' | 'onConsole'> {
  /** out/disk.img, or the file named with --image. */
  disk: string;
}

export interface DiskTestResult extends Omit<VmTestResult, 'kernelEntry' | 'kernelNote'> {
  /** The version that runs (from its boot entry's command line), or null when no kernel said. */
  version: string | null;
  /** Boots seen (power-on and every reboot). */
  boots: number;
  /** Whether the machine fell back to an older version (boot assessment; false until it exists). */
  rolledBack: boolean;
  /** Each boot's stages, in ms since QEMU started. */
  perBoot: DiskBoot[];
  disk: { path: string; format: 'raw' | 'qcow2'; snapshot: true };
  firmware: { code: string; vars: string };
}

export async function testDisk(options: DiskTestOptions): Promise<DiskTestResult> {
  const firmware = await requireOvmf();
  const image = await readDiskImage(options.disk, options.project);
  const vars = await varsFor(firmware, image.path, { persistent: false });
  const log = new DiskBootLog();
  let firstByte: number | undefined;
  try {
    const result = await testVm({
      ...options,
      vmDir: '',
      uefi: { code: firmware.code, vars: vars.path, disk: image.path, format: image.format, snapshot: true },
      onConsole: (chunk) => {
        const now = performance.now();
        firstByte ??= now;
        log.feed(chunk, now);
      },
    });
    // The log has host times; the runner counts from QEMU's start, and its first console byte is in both.
    const offset = firstByte !== undefined && result.timings.kernel !== null ? firstByte - result.timings.kernel : 0;
    const rel = (ms: number | null) => (ms === null ? null : Math.round(ms - offset));
    const perBoot = log.boots.map((b, i) => ({
      version: b.version,
      began: i === 0 ? 0 : rel(b.began)!,
      timings: {
        firmware: rel(b.timings.firmware),
        bootLoader: rel(b.timings.bootLoader),
        kernel: rel(b.timings.kernel),
        userspace: rel(b.timings.userspace),
        healthy: i === log.boots.length - 1 ? result.timings.ready : null,
      },
    }));
    const { kernelEntry: _entry, kernelNote: _note, ...rest } = result;
    return {
      ...rest,
      version: log.current.version,
      boots: log.boots.length,
      rolledBack: false,
      perBoot,
      disk: { path: image.path, format: image.format, snapshot: true },
      firmware: { code: firmware.code, vars: vars.path },
    };
  } finally {
    if (vars.temporary) await rm(vars.temporary, { recursive: true, force: true });
  }
}
