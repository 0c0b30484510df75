/**
 * Figures for issue 25: the nginx example as a jeos disk image against a conventional Debian disk
 * (bench/vm.ts's peer, made into a GPT disk with an ESP and systemd-boot: bench/disk/conventional-disk.ts),
 * both booted with the same OVMF (the host's ovmf package), side by side in one run, alternating.
 *   npm run build && npx tsx bench/disk.ts [--runs N] [--memory MiB] [--dir examples/nginx] [--keep] [--firmware-options]
 * (--firmware-options: the jeos disk alone, under variants of the QEMU/OVMF settings: bench/disk/firmware-options.ts)
 *
 * Per run, each disk twice under UEFI: with a fresh copy of OVMF_VARS_4M.fd (what jeos test --disk did
 * until now: every firmware start a first one) and with a warm copy (the variables one earlier boot of
 * that disk left, copied anew for each run), through bench/disk/uefi.ts; and the jeos image's direct-kernel
 * boot through `jeos test --vm --json`, for what UEFI adds. Times are ms since QEMU started: the firmware
 * starting the boot loader, the kernel's first line, HTTP 200 on the forwarded port 80. Medians over --runs
 * (default 3). Sizes: each disk's apparent size and the bytes in use (du). What a failing version costs
 * before the good one serves again comes from the lifecycle flow (test/disk/lifecycle.live.test.ts prints it).
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync, cpSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { OVMF_CODE, OVMF_DIR, OVMF_VARS } from '../src/boot/disk/index.js';
import { bootLoaderFrom, conventionalDisk } from './disk/conventional-disk.js';
import { compareFirmwareOptions } from './disk/firmware-options.js';
import { bootUefi, type UefiBoot } from './disk/uefi.js';
import { makeConventional } from './vm/conventional.js';
import { qemuVersion } from './vm/qemu.js';

const args = process.argv.slice(2);
const opt = (name: string, dflt: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1]! : dflt;
};
const runs = Number(opt('runs', '3'));
const memoryMiB = Number(opt('memory', '512'));
const example = resolve(opt('dir', 'examples/nginx'));
const cli = resolve('dist/jeos.mjs');
const code = join(OVMF_DIR, OVMF_CODE);
const template = join(OVMF_DIR, OVMF_VARS);
const work = mkdtempSync(join(tmpdir(), 'jeos-bench-disk-'));
const log = (s: string) => process.stderr.write(`${s}\n`);

function jeos(...argv: string[]): string {
  const r = spawnSync('node', [cli, ...argv], { encoding: 'utf8', timeout: 900_000 });
  if (r.status !== 0) throw new Error(`jeos ${argv.join(' ')} failed:\n${r.stderr}${r.stdout}`);
  return r.stdout;
}
const used = (path: string) => Number(spawnSync('du', ['-B1', path], { encoding: 'utf8' }).stdout.split('\t')[0]);
const median = (xs: Array<number | null>) => {
  const v = xs.filter((x): x is number => x !== null).sort((a, b) => a - b);
  return v.length ? v[Math.floor((v.length - 1) / 2)]! : null;
};
const ms = (x: number | null) => (x === null ? '-' : String(x));

try {
  log('building the jeos disk (outputs [vm, disk], version 1.0) …');
  const project = join(work, 'nginx');
  cpSync(example, project, { recursive: true });
  rmSync(join(project, 'out'), { recursive: true, force: true });
  const yaml = readFileSync(join(project, 'jeos.yaml'), 'utf8').replace(/^outputs:.*$/m, 'outputs: [vm, disk]\nversion: "1.0"');
  writeFileSync(join(project, 'jeos.yaml'), yaml);
  jeos('build', project, '--quiet');
  const jeosDisk = join(project, 'out/disk.img');
  const record = JSON.parse(readFileSync(join(project, 'out/build.json'), 'utf8'));
  const espFirst = record.outputs.find((o: { format: string }) => o.format === 'disk').disk.esp.first as number;

  if (args.includes('--firmware-options')) {
    const directKernel = () => JSON.parse(jeos('test', project, '--vm', '--accel', 'tcg', '--json', '--memory', String(memoryMiB))).timings.ready as number | null;
    const lines = await compareFirmwareOptions({ disk: jeosDisk, code, template, work, memoryMiB, runs, directKernel, log });
    const head = [
      'The nginx disk under OVMF: what jeos could change on its side of the firmware (bench/disk/firmware-options.ts)',
      `${new Date().toISOString().slice(0, 10)}, this build host: ${cpus().length} vCPUs (${cpus()[0]?.model ?? '?'}), QEMU ${qemuVersion()}`,
      `TCG, 1 vCPU, -m ${memoryMiB}, q35, -nodefaults, fresh variables; ${runs} runs, alternating; ms since QEMU started`,
      '',
    ];
    process.stdout.write(`${[...head, ...lines].join('\n')}\n`);
    if (!args.includes('--keep')) rmSync(work, { recursive: true, force: true });
    process.exit(0);
  }

  log('building the conventional Debian disk (mmdebstrap, systemd-boot on an ESP) …');
  const conventional = await makeConventional(work);
  const convDisk = await conventionalDisk(conventional, bootLoaderFrom(jeosDisk, espFirst, join(work, 'BOOTX64.EFI')), work);

  const disks = { jeos: jeosDisk, conventional: convDisk } as const;
  // The warm variables: what one boot of each disk left in its own copy.
  const warm: Record<string, string> = {};
  for (const [name, disk] of Object.entries(disks)) {
    warm[name] = join(work, `${name}-warm.fd`);
    copyFileSync(template, warm[name]!);
    const primed = await bootUefi({ disk, code, vars: warm[name]!, memoryMiB, deadlineMs: 180_000 });
    if (!primed.ok) throw new Error(`${name} did not serve (priming boot): ${primed.failure}`);
  }

  const rows: Record<string, UefiBoot[]> = {};
  const vm: Array<number | null> = [];
  for (let i = 0; i < runs; i++) {
    for (const [name, disk] of Object.entries(disks)) {
      for (const kind of ['fresh', 'warm'] as const) {
        const vars = join(work, 'vars.fd');
        copyFileSync(kind === 'fresh' ? template : warm[name]!, vars);
        const b = await bootUefi({ disk, code, vars, memoryMiB, deadlineMs: 180_000 });
        if (!b.ok) throw new Error(`${name} (${kind} variables) did not serve: ${b.failure}`);
        (rows[`${name} ${kind}`] ??= []).push(b);
        log(`run ${i + 1}: ${name} ${kind}: firmware ${ms(b.firmware)}, kernel ${ms(b.kernel)}, HTTP 200 ${ms(b.ready)}`);
      }
    }
    const t = JSON.parse(jeos('test', project, '--vm', '--accel', 'tcg', '--json', '--memory', String(memoryMiB)));
    vm.push(t.timings.ready);
    log(`run ${i + 1}: jeos direct kernel: HTTP 200 ${ms(t.timings.ready)}`);
  }

  const lines: string[] = [];
  lines.push('The nginx example as a jeos disk image against a conventional Debian disk, both under the same OVMF');
  lines.push(`${new Date().toISOString().slice(0, 10)}, this build host: ${cpus().length} vCPUs (${cpus()[0]?.model ?? '?'}), QEMU ${qemuVersion()}`);
  lines.push(`TCG, 1 vCPU, -m ${memoryMiB}, q35, the disk on virtio-blk (snapshot=on); ${runs} runs, alternating; ms since QEMU started`);
  lines.push('fresh: a pristine copy of OVMF_VARS_4M.fd; warm: a copy of the variables one earlier boot of that disk left');
  lines.push('');
  lines.push(`${'disk, variables'.padEnd(26)}${Array.from({ length: runs }, (_, i) => `run ${i + 1}`.padStart(8)).join('')}  median`);
  for (const [row, boots] of Object.entries(rows)) {
    for (const stage of ['firmware', 'kernel', 'ready'] as const) {
      const label = `${row} ${stage === 'ready' ? 'HTTP 200' : stage}`;
      lines.push(`${label.padEnd(26)}${boots.map((b) => ms(b[stage]).padStart(8)).join('')}  ${ms(median(boots.map((b) => b[stage]))).padStart(6)}`);
    }
  }
  lines.push(`${'jeos direct kernel (vm)'.padEnd(26)}${vm.map((x) => ms(x).padStart(8)).join('')}  ${ms(median(vm)).padStart(6)}`);
  lines.push('');
  const m = (row: string, stage: 'firmware' | 'ready') => median(rows[row]!.map((b) => b[stage]));
  const vmReady = median(vm);
  for (const kind of ['fresh', 'warm']) {
    const ready = m(`jeos ${kind}`, 'ready');
    const fw = m(`jeos ${kind}`, 'firmware');
    lines.push(`jeos, ${kind} variables: HTTP 200 at ${ms(ready)} ms, the firmware ${ms(fw)} ms of it (${ready && fw ? Math.round((100 * fw) / ready) : '-'}%); UEFI adds ${ready && vmReady ? ((ready - vmReady) / 1000).toFixed(1) : '-'} s to the direct-kernel boot`);
    const cr = m(`conventional ${kind}`, 'ready');
    const cf = m(`conventional ${kind}`, 'firmware');
    lines.push(`conventional, ${kind} variables: HTTP 200 at ${ms(cr)} ms, the firmware ${ms(cf)} ms of it (${cr && cf ? Math.round((100 * cf) / cr) : '-'}%)`);
  }
  lines.push('');
  for (const [name, disk] of Object.entries(disks)) {
    lines.push(`size ${name}: ${(statSync(disk).size / 2 ** 20).toFixed(0)} MiB apparent, ${(used(disk) / 2 ** 20).toFixed(1)} MiB in use (du)`);
  }
  process.stdout.write(`${lines.join('\n')}\n`);
} finally {
  if (!args.includes('--keep')) rmSync(work, { recursive: true, force: true });
  else log(`kept ${work}`);
}
