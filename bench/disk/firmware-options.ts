/**
 * bench/disk.ts --firmware-options: what jeos could change on its side of a UEFI boot of the nginx disk,
 * side by side in one run, alternating, against the direct-kernel boot. Each variant is the QEMU command
 * line of jeos test --disk (bench/disk/uefi.ts) with one change more than the one before it:
 * - the NIC without QEMU's iPXE option ROM (romfile=): OVMF otherwise loads and starts iPXE's EFI driver;
 * - OVMF's PXE boot options off (-fw_cfg opt/org.tianocore/IPv4PXESupport and IPv6PXESupport = n), so
 *   the firmware's own network stack does not make boot options for the NIC;
 * - -boot strict=on: only the devices with a bootindex are tried.
 * Fresh variables each boot (a copy of OVMF_VARS_4M.fd), as jeos test --disk has. Besides wall-clock
 * times, QEMU's own CPU time at each stage: under TCG with one vCPU the guest's work is QEMU's CPU time,
 * which other load on a shared host does not stretch as it stretches the wall clock.
 */
import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { bootUefi, type UefiBoot, type UefiSpec } from './uefi.js';

interface Variant {
  name: string;
  spec: Pick<UefiSpec, 'nicOptions' | 'extra'>;
}

const NO_ROM = ',romfile=';
const NO_PXE = ['-fw_cfg', 'name=opt/org.tianocore/IPv4PXESupport,string=n', '-fw_cfg', 'name=opt/org.tianocore/IPv6PXESupport,string=n'];
export const VARIANTS: Variant[] = [
  { name: 'as jeos test --disk', spec: {} },
  { name: '+ NIC without option ROM', spec: { nicOptions: NO_ROM } },
  { name: '+ no PXE boot options', spec: { nicOptions: NO_ROM, extra: NO_PXE } },
  { name: '+ -boot strict=on', spec: { nicOptions: NO_ROM, extra: [...NO_PXE, '-boot', 'strict=on'] } },
];

const median = (xs: Array<number | null>) => {
  const v = xs.filter((x): x is number => x !== null).sort((a, b) => a - b);
  return v.length ? v[Math.floor((v.length - 1) / 2)]! : null;
};
const ms = (x: number | null) => (x === null ? '-' : String(x));

export async function compareFirmwareOptions(o: {
  disk: string;
  code: string;
  template: string;
  work: string;
  memoryMiB: number;
  runs: number;
  directKernel: () => number | null;
  log: (s: string) => void;
}): Promise<string[]> {
  const rows = new Map<string, UefiBoot[]>(VARIANTS.map((v) => [v.name, []]));
  const direct: Array<number | null> = [];
  for (let i = 0; i < o.runs; i++) {
    for (const v of VARIANTS) {
      const vars = join(o.work, 'vars.fd');
      copyFileSync(o.template, vars);
      const b = await bootUefi({ disk: o.disk, code: o.code, vars, memoryMiB: o.memoryMiB, deadlineMs: 180_000, ...v.spec });
      if (!b.ok) throw new Error(`${v.name} did not serve: ${b.failure}`);
      rows.get(v.name)!.push(b);
      o.log(`run ${i + 1}: ${v.name}: firmware ${ms(b.firmware)}, kernel ${ms(b.kernel)}, HTTP 200 ${ms(b.ready)}`);
    }
    direct.push(o.directKernel());
    o.log(`run ${i + 1}: direct kernel: HTTP 200 ${ms(direct.at(-1)!)}`);
  }
  const lines = [`${'variant'.padEnd(40)}${Array.from({ length: o.runs }, (_, i) => `run ${i + 1}`.padStart(8)).join('')}  median`];
  for (const [name, boots] of rows) {
    for (const stage of ['firmware', 'kernel', 'ready'] as const) {
      const label = `${name} ${stage === 'ready' ? 'HTTP 200' : stage}`;
      lines.push(`${label.padEnd(40)}${boots.map((b) => ms(b[stage]).padStart(8)).join('')}  ${ms(median(boots.map((b) => b[stage]))).padStart(6)}`);
    }
    for (const stage of ['firmware', 'kernel', 'ready'] as const) {
      const label = `  QEMU CPU ms to ${stage === 'ready' ? 'HTTP 200' : stage}`;
      lines.push(`${label.padEnd(40)}${boots.map((b) => ms(b.cpu[stage]).padStart(8)).join('')}  ${ms(median(boots.map((b) => b.cpu[stage]))).padStart(6)}`);
    }
  }
  const d = median(direct);
  lines.push(`${'direct kernel (jeos test --vm) HTTP 200'.padEnd(40)}${direct.map((x) => ms(x).padStart(8)).join('')}  ${ms(d).padStart(6)}`);
  lines.push('');
  for (const [name, boots] of rows) {
    const r = median(boots.map((b) => b.ready));
    lines.push(
      `${name}: HTTP 200 at ${ms(r)} ms, firmware ${ms(median(boots.map((b) => b.firmware)))} ms; UEFI adds ${r !== null && d !== null ? ((r - d) / 1000).toFixed(1) : '-'} s; QEMU CPU to the firmware's start ${ms(median(boots.map((b) => b.cpu.firmware)))} ms, to HTTP 200 ${ms(median(boots.map((b) => b.cpu.ready)))} ms`,
    );
  }
  return lines;
}
