import { readFile } from 'node:fs/promises';
import { vmMemoryOf } from '../vm-memory.js';
import { join, resolve } from 'node:path';
import { InvalidArgumentError, Option, type Command } from 'commander';
import { resolveSettings } from '../../settings/index.js';
import { urlPort, type HealthcheckSpec } from '../../boot/health.js';
import { chooseForwards, claimVmName, startVm, vmRegistryDir, type Forward, type GuestPort, type VmEvent, type VmExit, type VmHandle } from '../../boot/vm/index.js';
import { portSpec } from '../../build/image-spec.js';
import { loadConfig } from '../../config/load.js';
import type { Config } from '../../config/schema.js';
import { JeosError } from '../../errors.js';
import { DISK_IMG, recoverOutputDir } from '../../outputs/index.js';
import { readDiskImage, requireOvmf, varsFor } from '../../boot/disk/index.js';

interface RunFlags {
  memory?: number;
  cpus?: number;
  accel?: 'auto' | 'kvm' | 'tcg';
  out?: string;
  append?: string;
  pvh?: boolean;
  quiet?: boolean;
  disk?: boolean;
  image?: string;
  writable?: boolean;
  name?: string;
}

export function parseCpus(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < 1 || n > 64) throw new InvalidArgumentError('a whole number of CPUs between 1 and 64');
  return n;
}

export function parseMemory(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < 32 || n > 65536) throw new InvalidArgumentError('a whole number of MiB between 32 and 65536');
  return n;
}

/** The options jeos run and jeos test --vm share. */
export function vmOptions(command: Command, prefix = ''): Command {
  return command
    .option('--memory <MiB>', `${prefix}guest memory (default: vm.memory in jeos.yaml; unset, 256 or what the built initramfs needs)`, parseMemory)
    .option('--cpus <N>', `${prefix}virtual CPUs (default: vm.cpus in jeos.yaml, else 2 under KVM and 1 under TCG)`, parseCpus)
    .addOption(new Option('--accel <mode>', `${prefix}KVM when a probe boot shows it works, else TCG`).choices(['auto', 'kvm', 'tcg']).default('auto'))
    .option('--append <args>', `${prefix}more kernel command-line arguments, after the image's own`)
    .option('--no-pvh', `${prefix}boot vmlinuz as it is (jeos otherwise boots the kernel's uncompressed ELF, cached, through its PVH entry: no decompression at boot)`);
}

/** The guest ports a VM forwards: the workload's, and the health check's. */
export function guestPorts(config: Config): GuestPort[] {
  const ports = config.workload.ports.map((p) => {
    const [port, protocol] = portSpec(p).split('/');
    return { port: Number(port), protocol: protocol as 'tcp' | 'udp' };
  });
  const hc = config.workload.healthcheck;
  if (hc?.http) ports.push({ port: urlPort(new URL(hc.http)), protocol: 'tcp' });
  if (hc?.tcp) ports.push({ port: hc.tcp, protocol: 'tcp' });
  return ports;
}

/** How a forwarded port is reached: the health check's URL on the host port, an http(s) URL for web ports, else host:port. */
export function forwardUrl(f: Forward, healthcheck: HealthcheckSpec | undefined): string {
  if (f.protocol === 'tcp' && healthcheck?.http && urlPort(new URL(healthcheck.http)) === f.guestPort) {
    const u = new URL(healthcheck.http);
    u.hostname = '127.0.0.1';
    u.port = String(f.hostPort);
    return u.href;
  }
  if (f.protocol === 'tcp' && [80, 8000, 8080].includes(f.guestPort)) return `http://127.0.0.1:${f.hostPort}/`;
  if (f.protocol === 'tcp' && [443, 8443].includes(f.guestPort)) return `https://127.0.0.1:${f.hostPort}/`;
  return `127.0.0.1:${f.hostPort}${f.protocol === 'udp' ? ' (udp)' : ''}`;
}

/** Progress lines on stderr for a VM boot. */
export function vmProgress(log: (line: string) => void): (e: VmEvent) => void {
  return (e) => {
    if (e.type === 'accel') log(`accelerator: ${e.accel} (${e.reason}), machine ${e.machine}`);
    else if (e.type === 'kernel') {
      const how = e.entry === 'pvh' ? 'the uncompressed ELF, through its PVH entry' : `vmlinuz as it is (${e.reason})`;
      log(`kernel: ${how}${e.added.length ? `; added for TCG with one vCPU: ${e.added.join(' ')}` : ''}`);
    }
    else if (e.type === 'started') log(`QEMU started (pid ${e.pid})`);
    else if (e.type === 'marker') log(`${e.name === 'kernel' ? 'kernel started' : 'userspace started'} at ${e.ms} ms`);
    else if (e.type === 'report') log(`guest reached multi-user at ${e.ms} ms: ${e.failedUnits.length ? `failed units: ${e.failedUnits.join(', ')}` : 'no failed units'}`);
  };
}

export function registerRun(program: Command): void {
  vmOptions(
    program
      .command('run')
      .argument('[dir]', 'directory holding jeos.yaml', '.')
      .description('boot the VM image in QEMU with its serial console on this terminal; Ctrl-C stops it')
      .option('--out <dir>', 'where jeos build wrote the image (default: DIR/out; the VM is in its vm/)')
      .option('-q, --quiet', 'only the console: no accelerator or URL lines')
      .option('--disk', 'boot the disk image (out/disk.img) under UEFI (QEMU with OVMF, the image\'s own systemd-boot) instead of out/vm')
      .option('--image <path>', 'with --disk: the disk image to boot (raw or qcow2; default: out/disk.img)')
      .option('--writable', 'with --disk: the guest writes to the disk image itself (boot counting, /var); otherwise to a temporary overlay')
      .option('--name <name>', "the VM's name, for jeos audit --against vm:NAME (default: jeos.yaml's name)"),
  )
    .addHelpText(
      'after',
      `
The console (kernel messages, systemd's status, the workload's log) is written to
stdout; lines typed on a terminal go to the console's input. Each port the
workload declares is forwarded from 127.0.0.1: the same port number when it is
1024 or above and free, else a free one. The URLs are printed when QEMU is up.

KVM is used when a short probe boot shows it works on this host (the verdict is
cached until the next reboot); otherwise TCG, the CPU emulator, with -cpu max,-erms.
The kernel is booted through its PVH entry: the uncompressed kernel inside
vmlinuz is taken out once and kept in the cache, so no boot spends time
decompressing it (about 1.2 s under TCG). --no-pvh boots vmlinuz as it is.
Ctrl-C or SIGTERM stops QEMU at once: the guest's writes go nowhere (the disk
image is attached with snapshot=on), nothing is lost.
Exit status 0 when stopped so or when the guest powers off; 1 when the guest
rebooted (a kernel panic, with panic=-1) or QEMU failed.

Examples:
  jeos build examples/nginx --format vm && jeos run examples/nginx
  jeos run . --memory 128 --accel tcg
  jeos run . --append 'systemd.log_level=debug'
  jeos run examples/nginx --disk

With --disk the disk image boots under UEFI: OVMF from the host (apt-get install
ovmf) with a private copy of its variables per disk (in the cache), the image's
own systemd-boot and boot entries. --append reaches the kernel through
systemd-boot (SMBIOS io.systemd.boot.kernel-cmdline-extra).

While it runs, jeos audit DIR --against vm:NAME compares the guest's files,
processes and listening sockets with the build's record (the guest answers on a
virtio-serial port only jeos run adds; docs/audit.md).`,
    )
    .action(async (dir: string, flags: RunFlags) => {
      const loaded = await loadConfig(dir);
      const outDir = resolve(flags.out ?? join(loaded.dir, 'out'));
      await recoverOutputDir(outDir);
      const log = (line: string) => !flags.quiet && process.stderr.write(`jeos: ${line}\n`);
      if ((flags.image || flags.writable) && !flags.disk) {
        throw new JeosError('E_RUN_DISK_FLAG', `${flags.image ? '--image' : '--writable'} goes with --disk`, { hint: `jeos run ${dir} --disk ${flags.image ? `--image ${flags.image}` : '--writable'}` });
      }
      const settings = await resolveSettings();
      const uefi = flags.disk ? await uefiBoot(flags.image ? resolve(flags.image) : join(outDir, DISK_IMG), dir, flags.writable ?? false, settings.cacheDir) : undefined;
      if (uefi) log(`disk ${uefi.disk} (${uefi.format}${uefi.snapshot ? ', snapshot: the guest\'s writes are dropped when it stops' : ', writable'}) under UEFI, variables in ${uefi.vars}`);
      const forwards = await chooseForwards(guestPorts(loaded.config), 'same');
      const vmName = flags.name ?? loaded.config.name;
      const claim = await claimVmName(vmName, vmRegistryDir());
      // Signals are ours from the start: a Ctrl-C while QEMU is still starting stops it as soon as it is up.
      let userStop = false;
      let vm: VmHandle | undefined;
      const stopOnSignal = () => {
        if (userStop) return;
        userStop = true;
        void vm?.stop();
      };
      process.on('SIGINT', stopOnSignal);
      process.on('SIGTERM', stopOnSignal);
      const forwardInput = (d: Buffer) => vm?.writeConsole(d);
      let exit: VmExit;
      try {
        try {
          vm = await startVm({
            vmDir: join(outDir, 'vm'),
            ...(uefi ? { uefi } : {}),
            project: dir,
            memoryMiB: flags.memory ?? (await vmMemoryOf(loaded, outDir)).memoryMiB,
            cpus: flags.cpus ?? loaded.config.vm.cpus,
            forwards,
            accel: flags.accel,
            extraCmdline: flags.append,
            cacheDir: settings.cacheDir,
            pvh: flags.pvh,
            name: `jeos-${vmName}`,
            auditSocket: claim.auditSocket,
            onConsole: (chunk) => process.stdout.write(chunk),
            onEvent: (e) => (e.type === 'accel' || (e.type === 'kernel' && !uefi)) && vmProgress(log)(e),
          });
        } catch (e) {
          if (!userStop) throw e;
          log('stopped');
          return;
        }
        if (userStop) void vm.stop();
        await claim.record({ qemuPid: vm.pid, outDir, lockDigest: await lockDigestOf(outDir) });
        for (const f of forwards) log(`${forwardUrl(f, loaded.config.workload.healthcheck)} → guest port ${f.guestPort}${f.protocol === 'udp' ? '/udp' : ''}`);
        log(`jeos audit ${dir} --against vm:${vmName} compares it with the build's record`);
        log('Ctrl-C stops the VM');
        if (process.stdin.isTTY) process.stdin.on('data', forwardInput);
        exit = await vm.exited;
      } finally {
        await claim.release();
        process.off('SIGINT', stopOnSignal);
        process.off('SIGTERM', stopOnSignal);
        process.stdin.off('data', forwardInput);
        process.stdin.destroy();
      }
      process.exitCode = exitStatus(exit, userStop);
      if (process.exitCode === 0) log(userStop ? 'stopped' : `the guest powered off (${exit.reason ?? 'QEMU exited'})`);
    });
}

/** The lock digest of the build in outDir, for jeos audit to check the VM against the right record. */
async function lockDigestOf(outDir: string): Promise<string | null> {
  try {
    return (JSON.parse(await readFile(join(outDir, 'build.json'), 'utf8')) as { lockDigest?: string }).lockDigest ?? null;
  } catch {
    return null;
  }
}

/**
 * What jeos run --disk boots: OVMF's code, the disk's own variables (kept in the cache per
 * disk, as a machine keeps its NVRAM), the disk itself.
 */
async function uefiBoot(disk: string, project: string, writable: boolean, cacheDir: string) {
  const firmware = await requireOvmf();
  const image = await readDiskImage(disk, project);
  const vars = await varsFor(firmware, image.path, { persistent: true, cacheDir });
  return { code: firmware.code, vars: vars.path, disk: image.path, format: image.format, snapshot: !writable };
}

/** 0 for a stop the user asked for or a guest power-off; a JeosError for a reboot (panic) or a QEMU failure. */
export function exitStatus(exit: VmExit, userStop: boolean): number {
  // Ctrl-C on a terminal reaches QEMU too (same process group): it stops on the signal itself.
  if (userStop || exit.reason === 'host-signal' || exit.reason === 'host-qmp-quit') return 0;
  if (exit.reason === 'guest-shutdown' && exit.code === 0) return 0;
  if (exit.reason === 'guest-reset' || exit.reason === 'guest-panic') {
    throw new JeosError('E_VM_GUEST_RESET', `the guest ${exit.reason === 'guest-panic' ? 'panicked' : 'rebooted'} (QEMU stops instead of rebooting)`, {
      hint: 'read the console output above; a kernel panic there says why (the image\'s cmdline has panic=-1)',
    });
  }
  const message = exit.stderr.split('\n').filter(Boolean).slice(-3).join(' ');
  throw new JeosError('E_VM_QEMU', `QEMU stopped (${exit.signal ?? `status ${exit.code}`})${message ? `: ${message}` : ''}`, {
    hint: 'rerun with --accel tcg if KVM misbehaves on this host',
  });
}
