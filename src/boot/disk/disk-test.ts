/**
 * jeos test --disk: boot a disk image under UEFI (OVMF, systemd-boot, the boot entry's
 * kernel and initramfs), headless, and follow the machine across reboots until a version
 * completes its boot (the guest's boot assessment passed: its health check, no failed
 * units, the entry blessed), or the time is up. A failed try reboots the guest (QMP RESET,
 * a new firmware line on the console); after three, systemd-boot falls back to the previous
 * version. The workload's health check is then tried from the host through the forwarded
 * port too. Reports the version that runs, the boots it took, whether it rolled back and
 * each boot's stages. The disk is attached with snapshot=on unless `writable`.
 */
import { rm } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import { healthcheckForwards, healthcheckKind, probeNetwork, probeTcp, type HealthcheckSpec, type ProbeResult } from '../health.js';
import { chooseForwards } from '../vm/ports.js';
import { startVm } from '../vm/runner.js';
import { checkVmHealthcheck, mapperOf, TEST_CMDLINE, type VmTestOptions, type VmTestResult } from '../vm/vm-test.js';
import { DiskBootLog, type DiskBoot } from './boot-markers.js';
import { requireOvmf, varsFor } from './firmware.js';
import { readDiskImage } from './image.js';

export interface DiskTestOptions extends Omit<VmTestOptions, 'vmDir' | 'uefi' | 'pvh' | 'onConsole'> {
  /** out/disk.img, or the file named with --image. */
  disk: string;
  /** Wait until this version completes a boot; another one completing is a failure unless it reboots (into an update) before the timeout. */
  untilVersion?: string;
  /** Let the guest write to the disk file (boot counting and blessing stay on it); default snapshot=on. */
  writable?: boolean;
}

export interface DiskTestResult extends Omit<VmTestResult, 'kernelEntry' | 'kernelNote'> {
  /** The version that runs (from its boot entry's command line), or null when no kernel said. */
  version: string | null;
  /** Boots seen (power-on and every reboot). */
  boots: number;
  /** QMP RESET events: guest reboots, watchdog resets. */
  resets: number;
  /** Whether the version that completed its boot is not the one that booted first, which never completed one (not an update). */
  rolledBack: boolean;
  /** Each boot's stages, in ms since QEMU started. */
  perBoot: DiskBoot[];
  disk: { path: string; format: 'raw' | 'qcow2'; snapshot: boolean };
  firmware: { code: string; vars: string };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** How long the host keeps trying the health check once the guest says its boot is complete. */
const HOST_PROBE_MS = 30_000;

function probe(spec: HealthcheckSpec, forwards: Parameters<typeof mapperOf>[0]): Promise<ProbeResult> {
  const map = mapperOf(forwards);
  return spec.tcp ? probeTcp(spec.tcp, map) : probeNetwork(spec, map)!;
}

export async function testDisk(options: DiskTestOptions): Promise<DiskTestResult> {
  checkVmHealthcheck(options.healthcheck);
  const firmware = await requireOvmf();
  const image = await readDiskImage(options.disk, options.project);
  const vars = await varsFor(firmware, image.path, { persistent: false });
  const spec = options.healthcheck;
  // Across reboots: three tries of a failing version and the fallback, each up to the health check's timeout.
  const timeoutMs = options.timeoutMs ?? ((spec?.timeout ?? 60) * 5 + 120) * 1000;
  const log = new DiskBootLog();
  let resets = 0;
  const t0 = performance.now();
  const since = () => Math.round(performance.now() - t0);
  const ports = [...options.ports, ...healthcheckForwards(spec)];
  const forwards = await chooseForwards(ports, 'free');
  try {
    const vm = await startVm({
      vmDir: '',
      uefi: { code: firmware.code, vars: vars.path, disk: image.path, format: image.format, snapshot: !options.writable },
      project: options.project,
      memoryMiB: options.memoryMiB,
      cpus: options.cpus,
      forwards,
      accel: options.accel,
      machine: options.machine,
      cacheDir: options.cacheDir,
      extraCmdline: [...TEST_CMDLINE, options.extraCmdline].filter(Boolean).join(' '),
      onConsole: (chunk) => log.feed(chunk, since()),
      ...(options.consoleFile ? { consoleFile: options.consoleFile } : {}),
      onQmpEvent: (event) => event === 'RESET' && resets++,
      onEvent: options.onEvent,
    });
    let failure: string | undefined;
    let health: ProbeResult | undefined;
    let attempts = 0;
    let ready: number | null = null;
    const deadline = since() + timeoutMs;
    try {
      for (;;) {
        if (vm.hasExited()) {
          const exit = await vm.exited;
          failure = `QEMU stopped (${exit.reason ?? exit.signal ?? `status ${exit.code}`})`;
          break;
        }
        const boot = log.current;
        if (boot.timings.complete !== null) {
          if (options.untilVersion && boot.version !== options.untilVersion) {
            // Another version may yet reboot into this one (an update from its channel): wait for a reboot until the deadline.
            if (since() < deadline && !vm.hasExited()) {
              await sleep(100);
              continue;
            }
            failure = `version ${boot.version ?? '?'} completed its boot, not ${options.untilVersion}, and did not reboot into it within ${Math.round(timeoutMs / 1000)} s`;
            break;
          }
          if (!spec) {
            ready = boot.timings.complete;
            break;
          }
          // The guest's check passed; the host's, through the forwarded port, must too.
          const until = Math.min(deadline, since() + HOST_PROBE_MS);
          while (!health?.ok && since() < until && !vm.hasExited()) {
            attempts++;
            health = await probe(spec, vm.forwards);
            if (!health.ok) await sleep(250);
          }
          if (health?.ok) ready = since();
          else failure = `version ${boot.version ?? '?'} completed its boot, but the host's health check failed: ${health?.detail ?? 'not tried'}`;
          break;
        }
        if (since() >= deadline) {
          failure = `no version completed its boot within ${Math.round(timeoutMs / 1000)} s (${log.boots.length} boot${log.boots.length === 1 ? '' : 's'})`;
          break;
        }
        await sleep(100);
      }
      const memory = vm.hasExited() ? null : await vm.memory(failure ? 1000 : 3000);
      const failedUnits = vm.latestReport()?.failedUnits ?? [];
      const exit = await vm.stop();
      const final = log.current;
      // The guest's "healthy" line goes through journald and may come after the boot completed, or not at all: the host's check stands in.
      if (final.timings.healthy === null && ready !== null) final.timings.healthy = ready;
      const first = log.boots.find((b) => b.version !== null)?.version ?? null;
      const ok = !failure;
      const kind = (healthcheckKind(spec) ?? 'report') as VmTestResult['healthcheck']['kind'];
      return {
        ok,
        accel: vm.accel.accel,
        accelReason: vm.accel.reason,
        machine: vm.machine,
        memoryMiB: options.memoryMiB,
        cpus: vm.cpus,
        cmdline: vm.cmdline,
        forwards: vm.forwards,
        timings: { kernel: final.timings.kernel, userspace: final.timings.userspace, ready: ok ? ready : null, total: since() },
        memory,
        ...(memory ? {} : { memoryNote: 'the guest sent no memory statistics' }),
        failedUnits,
        reported: vm.latestReport() !== undefined,
        healthcheck: {
          kind,
          ok: spec ? !!health?.ok : final.timings.complete !== null,
          detail: spec ? (health?.detail ?? 'not tried: no version completed its boot') : final.timings.complete !== null ? 'the boot completed (no health check declared)' : 'the boot did not complete',
          attempts,
        },
        ...(failure ? { failure } : {}),
        ...(ok ? {} : { console: vm.console.tail() + (exit.stderr ? `\n--- QEMU ---\n${exit.stderr}` : '') }),
        version: final.version,
        boots: log.boots.length,
        resets,
        // Rolled back: the version that booted first never completed a boot. One that completed and then rebooted into another was updated.
        rolledBack: first !== null && final.version !== null && final.version !== first && !log.boots.some((b) => b.version === first && b.timings.complete !== null),
        perBoot: log.boots,
        disk: { path: image.path, format: image.format, snapshot: !options.writable },
        firmware: { code: firmware.code, vars: vars.path },
      };
    } finally {
      if (!vm.hasExited()) await vm.stop();
    }
  } finally {
    if (vars.temporary) await rm(vars.temporary, { recursive: true, force: true });
  }
}
