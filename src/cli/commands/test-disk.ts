/** jeos test --disk: the disk image booted under UEFI, its version and each boot's stages. */
import { join, resolve } from 'node:path';
import { testDisk, type DiskTestResult } from '../../boot/disk/index.js';
import type { LoadedConfig } from '../../config/load.js';
import { resolveSettings } from '../../settings/index.js';
import { DISK_IMG } from '../../outputs/index.js';
import { printJson } from '../format.js';
import { guestPorts, vmProgress } from './run.js';

export interface DiskTestFlags {
  image?: string;
  untilVersion?: string;
  writable?: boolean;
  memory?: number;
  cpus?: number;
  accel?: 'auto' | 'kvm' | 'tcg';
  append?: string;
  timeout?: number;
  console?: string;
  json?: boolean;
  quiet?: boolean;
  print?: boolean;
}

export async function testDiskCommand(dir: string, loaded: LoadedConfig, outDir: string, flags: DiskTestFlags): Promise<{ ok: boolean; namedDropped: string[] }> {
  const log = (line: string) => !flags.json && !flags.quiet && process.stderr.write(`${line}\n`);
  const w = loaded.config.workload;
  const result = await testDisk({
    disk: flags.image ? resolve(flags.image) : join(outDir, DISK_IMG),
    project: dir,
    memoryMiB: flags.memory ?? loaded.config.vm.memory,
    cpus: flags.cpus ?? loaded.config.vm.cpus,
    ports: guestPorts(loaded.config),
    healthcheck: w.healthcheck,
    timeoutMs: flags.timeout ? flags.timeout * 1000 : undefined,
    ...(flags.console ? { consoleFile: resolve(flags.console) } : {}),
    ...(flags.untilVersion ? { untilVersion: flags.untilVersion } : {}),
    ...(flags.writable ? { writable: true } : {}),
    accel: flags.accel,
    extraCmdline: flags.append,
    cacheDir: (await resolveSettings()).cacheDir,
    // The console's first byte is the firmware's under UEFI, not the kernel's: the stages come with the result.
    onEvent: (e) => e.type !== 'kernel' && !(e.type === 'marker' && e.name === 'kernel') && vmProgress(log)(e),
  });
  if (flags.print !== false) {
    if (flags.json) printJson({ mode: 'disk', ...result });
    else printDiskResult(result);
  }
  return { ok: result.ok, namedDropped: [] };
}

const ms = (v: number | null) => (v === null ? '?' : `${v} ms`);

export function printDiskResult(r: DiskTestResult): void {
  const boot = r.perBoot[r.perBoot.length - 1]!;
  const t = boot.timings;
  const stages = `firmware ${ms(t.firmware)}, boot loader ${ms(t.bootLoader)}, kernel ${ms(t.kernel)}, userspace ${ms(t.userspace)}, healthy ${ms(t.healthy)}, complete ${ms(t.complete)}`;
  const memory = r.memory ? `guest memory used ${r.memory.usedMiB} MiB of ${r.memory.totalMiB}` : 'guest memory not reported';
  const where = `${r.accel}, ${r.machine}, ${r.cpus} vCPU${r.cpus === 1 ? '' : 's'}, UEFI, ${r.disk.format}`;
  if (r.ok) console.log(`ok: version ${r.version ?? '?'}${r.rolledBack ? ' (rolled back)' : ''} — ${r.healthcheck.detail}; ${stages}; ${memory} (${where}; ${r.boots} boot${r.boots === 1 ? '' : 's'})`);
  else console.log(`FAILED: ${r.failure ?? r.healthcheck.detail} (version ${r.version ?? '?'}; ${stages}; ${where})`);
  // Updates, refusals and the ESP's repairs, whatever the console's tail kept.
  const said = r.perBoot.flatMap((b, i) => b.said.map((line) => `  boot ${i + 1} (${b.version ?? '?'}): ${line}`));
  if (said.length) console.log(`--- what jeos-update and the ESP's check said ---\n${said.join('\n')}`);
  if (!r.ok && r.console) console.log(`--- the console's last lines ---\n${r.console}`);
}
