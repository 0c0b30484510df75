/**
 * Boots a VM image under QEMU: the console and the report channel come in on
 * sockets this process listens on, QEMU is controlled over QMP, and everything
 * lives in a temporary directory removed when QEMU is gone.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, open, rm } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { JeosError } from '../../errors.js';
import { chooseAccel, kvmDeviceError, type AccelDecision } from './accel.js';
import { ConsoleLog } from './console.js';
import { readVmImage } from './image.js';
import { bootKernel, type BootKernel } from './pvh.js';
import { QmpClient } from './qmp.js';
import { accelCmdline, defaultCpus, defaultMachine, joinCmdline, qemuArgs, requireQemu, type UefiSpec } from './qemu.js';
import { ReportReader, type GuestReport } from './report.js';
import type { AccelChoice, Forward, GuestMemory, Machine, VmEvent, VmImage } from './types.js';

export interface StartVmOptions {
  /** out/vm: vmlinuz, cmdline, and initrd.img or root.img (unless `uefi`). */
  vmDir: string;
  /** Boot a disk image under UEFI instead (jeos run/test --disk); `vmDir` is then not read. */
  uefi?: Omit<UefiSpec, 'cmdlineExtra'>;
  /** The project directory, for hints. */
  project?: string;
  memoryMiB: number;
  /** Virtual CPUs (default defaultCpus(accel)). */
  cpus?: number;
  forwards: Forward[];
  accel?: AccelChoice;
  machine?: Machine;
  /** Appended to the image's kernel command line. */
  extraCmdline?: string;
  /** For the KVM probe's cached verdict, and the uncompressed kernel booted through its PVH entry. */
  cacheDir?: string;
  /** false: boot the bzImage as it is, not its uncompressed ELF through the PVH entry (see pvh.ts). */
  pvh?: boolean;
  name?: string;
  /** A socket for QEMU to listen on for the guest's audit port (see qemu.ts auditPortArgs). */
  auditSocket?: string;
  /** Raw console bytes as they arrive (jeos run writes them to the terminal). */
  onConsole?: (chunk: Buffer) => void;
  /** Keep the whole serial console, as the guest sent it, in this file (jeos test --console). */
  consoleFile?: string;
  onEvent?: (e: VmEvent) => void;
  /** QMP events as they come (RESET on every guest reboot), with the time since QEMU started. */
  onQmpEvent?: (event: string, ms: number) => void;
  /** How long QEMU may take to connect its sockets. */
  startTimeoutMs?: number;
}

export interface VmExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** From QEMU's SHUTDOWN event: guest-shutdown, guest-reset (a panic with panic=-1), host-qmp-quit, host-signal, … */
  reason: string | null;
  /** QEMU's own messages. */
  stderr: string;
}

export interface VmHandle {
  pid: number;
  /** Holds QEMU's sockets; removed when QEMU is gone. */
  tempDir: string;
  image: VmImage;
  /** What QEMU's -kernel got: the vmlinuz, or its uncompressed ELF (PVH entry). */
  kernel: BootKernel;
  /** Virtual CPUs (-smp). */
  cpus: number;
  /** The kernel command line QEMU got: the image's, the runner's for the accelerator, the user's. */
  cmdline: string;
  accel: AccelDecision;
  machine: Machine;
  forwards: Forward[];
  console: ConsoleLog;
  /** Milliseconds since QEMU was spawned. */
  now(): number;
  /** Resolves once the guest wrote its first whole report; stays pending otherwise. */
  report: Promise<GuestReport>;
  /** The newest report (a guest may report again when a unit fails later). */
  latestReport(): GuestReport | undefined;
  /** Resolves when QEMU is gone (and its temporary directory removed). */
  exited: Promise<VmExit>;
  hasExited(): boolean;
  /** Send bytes to the console (its serial input). */
  writeConsole(data: string | Buffer): void;
  /** The balloon driver's memory figures, or null when the guest did not send any in time. */
  memory(timeoutMs?: number): Promise<GuestMemory | null>;
  /** Stop QEMU: ACPI power button first when `graceMs` is given, then QMP quit, then SIGKILL. */
  stop(options?: { graceMs?: number }): Promise<VmExit>;
}

const BALLOON = '/machine/peripheral/balloon0';
const MiB = 1024 * 1024;

function listen(path: string): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(path, () => resolve(server));
  });
}

function firstConnection(server: Server): Promise<Socket> {
  return new Promise((resolve) => server.once('connection', resolve));
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * The accelerator of a UEFI boot. KVM's probe boots the image's kernel, which a disk keeps
 * on its ESP; until it can boot the firmware instead, `auto` takes TCG unless asked.
 */
async function chooseUefiAccel(choice: AccelChoice): Promise<AccelDecision> {
  if (choice === 'tcg') return { accel: 'tcg', reason: 'asked for (--accel tcg)' };
  const deviceError = await kvmDeviceError();
  if (choice === 'kvm') {
    if (deviceError) throw new JeosError('E_VM_KVM', `KVM is not usable: ${deviceError}`, { hint: 'use --accel tcg (slower, works everywhere) or --accel auto' });
    return { accel: 'kvm', reason: 'asked for (--accel kvm)' };
  }
  return { accel: 'tcg', reason: deviceError ?? 'KVM is not probed for UEFI boots (--accel kvm uses it)' };
}
/** The file jeos test --console keeps the whole console in: refused before QEMU starts when it cannot be written. */
async function openConsoleFile(path: string) {
  const file = await open(path, 'w').catch((e: NodeJS.ErrnoException) => {
    throw new JeosError('E_VM_CONSOLE_FILE', `cannot write the console to ${path}: ${e.code ?? e.message}`, { hint: 'name a file in a directory that exists and that you can write' });
  });
  const stream = file.createWriteStream();
  stream.on('error', () => {});
  return stream;
}
/** A timer for Promise.race that does not keep the process alive once QEMU and its sockets are gone. */
const deadline = (ms: number) => new Promise((r) => setTimeout(r, ms).unref());

export async function startVm(options: StartVmOptions): Promise<VmHandle> {
  const qemu = await requireQemu();
  const uefi = options.uefi;
  // Under UEFI the kernel is on the disk, for the boot loader to find: nothing to read or probe KVM with here.
  const image: VmImage = uefi ? { dir: dirname(uefi.disk), kernel: '', disk: uefi.disk, cmdline: '' } : await readVmImage(options.vmDir, options.project);
  const accel = uefi ? await chooseUefiAccel(options.accel ?? 'auto') : await chooseAccel(options.accel ?? 'auto', { qemu, kernel: image.kernel, cacheDir: options.cacheDir });
  const machine = options.machine ?? defaultMachine();
  options.onEvent?.({ type: 'accel', accel: accel.accel, machine, reason: accel.reason });
  const cpus = options.cpus ?? defaultCpus(accel.accel);
  const kernel: BootKernel = uefi ? { path: '', entry: 'uefi' } : await bootKernel(image.kernel, { cacheDir: options.cacheDir, pvh: options.pvh });
  const added = accelCmdline(accel.accel, cpus);
  options.onEvent?.({ type: 'kernel', entry: kernel.entry, ...(kernel.reason ? { reason: kernel.reason } : {}), added });
  // Under UEFI this is only what is added to the boot entry's own command line.
  const cmdline = joinCmdline(image.cmdline, options.extraCmdline, added);

  // Before the sockets and their directory: a refusal here leaves nothing behind.
  const consoleFile = options.consoleFile ? await openConsoleFile(options.consoleFile) : undefined;
  const dir = await mkdtemp(join(tmpdir(), 'jeos-vm-'));
  const sockets = { console: join(dir, 'console.sock'), report: join(dir, 'report.sock'), qmp: join(dir, 'qmp.sock') };
  const servers = await Promise.all([listen(sockets.console), listen(sockets.report), listen(sockets.qmp)]);
  const connections = Promise.all([firstConnection(servers[0]), firstConnection(servers[1]), firstConnection(servers[2])]);
  const args = qemuArgs({
    ...(uefi ? { uefi: { ...uefi, cmdlineExtra: cmdline } } : { kernel: kernel.path }),
    ...(image.initrd ? { initrd: image.initrd } : {}),
    ...(image.disk && !uefi ? { disk: image.disk } : {}),
    cmdline,
    memoryMiB: options.memoryMiB,
    cpus,
    accel: accel.accel,
    machine,
    forwards: options.forwards,
    sockets,
    ...(options.auditSocket ? { auditSocket: options.auditSocket } : {}),
    name: options.name,
  });

  const consoleLog = new ConsoleLog(60);
  const reportReader = new ReportReader();
  let stderr = '';
  let shutdownReason: string | null = null;
  let exitedFlag = false;
  const spawnedAt = performance.now();
  const now = () => Math.round(performance.now() - spawnedAt);
  const child = spawn(qemu, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
  const exited = new Promise<VmExit>((resolve) => {
    child.on('error', (e) => (stderr += `${e.message}\n`));
    child.on('close', (code, signal) => {
      exitedFlag = true;
      consoleLog.end(now());
      consoleFile?.end();
      for (const s of servers) s.close();
      rm(dir, { recursive: true, force: true }).finally(() => resolve({ code, signal, reason: shutdownReason, stderr: stderr.trim() }));
    });
  });

  const started = await Promise.race([
    connections.then((c) => ({ sockets: c })),
    exited.then((e) => ({ exit: e })),
    deadline(options.startTimeoutMs ?? 30_000).then(() => ({ timeout: true as const })),
  ]);
  if (!('sockets' in started)) {
    if (!exitedFlag) child.kill('SIGKILL');
    const exit = await exited;
    const why = 'timeout' in started ? `did not start within ${Math.round((options.startTimeoutMs ?? 30_000) / 1000)} s` : `exited at once (${exit.signal ?? `status ${exit.code}`})`;
    const message = exit.stderr.split('\n').filter(Boolean).slice(-3).join(' ');
    throw new JeosError('E_VM_QEMU', `QEMU ${why}${message ? `: ${message}` : ''}`, {
      hint: /hostfwd|host forwarding/i.test(message)
        ? 'a forwarded port is in use on 127.0.0.1; stop what holds it or let jeos pick another'
        : `run it by hand to see more: ${qemu} ${args.map((a) => (/[\s;'"]/.test(a) ? JSON.stringify(a) : a)).join(' ')}`,
    });
  }
  const [consoleSocket, reportSocket, qmpSocket] = started.sockets;
  options.onEvent?.({ type: 'started', pid: child.pid!, forwards: options.forwards });

  let kernelSeen = false;
  let userspaceSeen = false;
  consoleSocket.on('data', (d: Buffer) => {
    consoleLog.feed(d, now());
    consoleFile?.write(d);
    options.onConsole?.(d);
    const m = consoleLog.markers;
    if (!kernelSeen && m.kernel !== null) (kernelSeen = true), options.onEvent?.({ type: 'marker', name: 'kernel', ms: m.kernel });
    if (!userspaceSeen && m.userspace !== null) (userspaceSeen = true), options.onEvent?.({ type: 'marker', name: 'userspace', ms: m.userspace });
  });
  consoleSocket.on('error', () => {});
  const report = new Promise<GuestReport>((resolve) => {
    reportSocket.on('data', (d: Buffer) => {
      const done = reportReader.feed(d);
      if (done) {
        options.onEvent?.({ type: 'report', ms: now(), failedUnits: done.failedUnits });
        resolve(done);
      }
    });
  });
  reportSocket.on('error', () => {});

  const qmp = new QmpClient(qmpSocket);
  qmp.onEvent((e) => {
    options.onQmpEvent?.(e.event, now());
    if (e.event === 'SHUTDOWN') shutdownReason = String(e.data?.reason ?? 'shutdown');
  });
  const greeted = await Promise.race([qmp.handshake().then(() => true), deadline(10_000).then(() => false)]).catch(() => false);
  if (!greeted) {
    child.kill('SIGKILL');
    const exit = await exited;
    throw new JeosError('E_VM_QMP', `QEMU did not answer on its control socket${exit.stderr ? `: ${exit.stderr.split('\n').slice(-1)[0]}` : ''}`, {
      hint: 'QEMU started but its QMP monitor stayed silent for 10 s (an overloaded host?); try again',
    });
  }
  // Ask the balloon driver for statistics every second from the start; reading them later then has fresh figures.
  await qmp.execute('qom-set', { path: BALLOON, property: 'guest-stats-polling-interval', value: 1 }).catch(() => {});

  const stop = async (opts: { graceMs?: number } = {}): Promise<VmExit> => {
    if (!exitedFlag && opts.graceMs) {
      options.onEvent?.({ type: 'stopping', reason: 'ACPI power button' });
      await qmp.execute('system_powerdown').catch(() => {});
      await Promise.race([exited, deadline(opts.graceMs)]);
    }
    if (!exitedFlag) {
      options.onEvent?.({ type: 'stopping', reason: 'quit' });
      await qmp.execute('quit', undefined, 5000).catch(() => {});
      await Promise.race([exited, deadline(5000)]);
    }
    if (!exitedFlag) child.kill('SIGKILL');
    qmp.close();
    return exited;
  };

  return {
    pid: child.pid!,
    tempDir: dir,
    image,
    kernel,
    cpus,
    cmdline,
    accel,
    machine,
    forwards: options.forwards,
    console: consoleLog,
    now,
    report,
    latestReport: () => reportReader.report,
    exited,
    hasExited: () => exitedFlag,
    writeConsole: (data) => void consoleSocket.write(data),
    async memory(timeoutMs = 5000) {
      const deadline = Date.now() + timeoutMs;
      while (!exitedFlag) {
        const got = await qmp.execute<{ stats?: Record<string, number>; 'last-update'?: number }>('qom-get', { path: BALLOON, property: 'guest-stats' }).catch(() => undefined);
        const s = got?.stats;
        const total = s?.['stat-total-memory'] ?? -1;
        const available = s?.['stat-available-memory'] ?? -1;
        const free = s?.['stat-free-memory'] ?? -1;
        if ((got?.['last-update'] ?? 0) > 0 && total > 0 && (available >= 0 || free >= 0)) {
          const totalMiB = Math.round(total / MiB);
          const availableMiB = Math.round((available >= 0 ? available : free) / MiB);
          return { totalMiB, availableMiB, usedMiB: totalMiB - availableMiB };
        }
        if (Date.now() >= deadline) return null;
        await sleep(250);
      }
      return null;
    },
    stop,
  };
}
