/**
 * The bench's own QEMU harness: boot a kernel with an initrd, a disk or both, watch the
 * serial console, and probe the forwarded HTTP port (overlapping requests) until it answers 200. Every VM of
 * bench/vm.ts (the conventional one and each jeos shape) goes through this same function,
 * so they are timed the same way.
 */
import { spawn, spawnSync } from 'node:child_process';
import { request } from 'node:http';
import { createServer } from 'node:net';
import { cpuModel, defaultMachine, GUEST_DEVICES } from '../../src/boot/vm/index.js';

export interface BootSpec {
  kernel: string;
  initrd?: string;
  append: string;
  /**
   * A raw disk image, opened with snapshot=on (every boot starts from the same bytes): on virtio-blk
   * (the conventional VM's /dev/vda), or as the first NVMe drive (jeos's vm.root: disk, /dev/nvme0n1,
   * attached as src/boot/vm/qemu.ts attaches it).
   */
  disk?: { path: string; bus: 'virtio' | 'nvme' };
  memoryMiB: number;
  /** Virtual CPUs (-smp), the same for every VM of a run. */
  cpus: number;
  /** Give up after this long (ms since spawn). */
  deadlineMs: number;
}

export interface BootResult {
  ok: boolean;
  /**
   * ms since qemu was spawned: first console byte, the kernel's `Run /init as init process` (the conventional
   * VM's initramfs-tools /init; jeos's /init), systemd starting as PID 1 (never with BusyBox init), HTTP 200.
   * Any of them may be missing.
   */
  console: number | null;
  init: number | null;
  systemd: number | null;
  ready: number | null;
  /** Why it failed: qemu exited (panic=-1 and -no-reboot turn a panic into an exit) or the deadline passed. */
  failure?: string;
  consoleTail: string;
}

/** The accelerator and CPU model of every VM in the bench, the conventional one too: jeos run's own under TCG. */
export const ACCEL = ['-accel', 'tcg', '-cpu', cpuModel('tcg')];

/**
 * The platform every VM in the bench boots on, the conventional one too: jeos run's (src/boot/vm/qemu.ts):
 * its machine type, no default devices, and the virtio RNG and balloon it attaches. Without `-machine`
 * and `-nodefaults`, QEMU gives an i440fx PC with a VGA card, an IDE CD-ROM and a floppy controller,
 * which jeos run never boots on. (The one run on each platform gave the same jeos times to /init,
 * 3.0 s: the difference is fidelity, not speed.)
 */
export const PLATFORM = ['-machine', defaultMachine(), '-nodefaults', '-no-user-config'];

export function qemuVersion(): string {
  const r = spawnSync('qemu-system-x86_64', ['--version'], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error('qemu-system-x86_64 is not installed (apt-get install qemu-system-x86)');
  return r.stdout.split('\n')[0]!.replace(/^QEMU emulator version /, '');
}

/** A free TCP port on 127.0.0.1 (closed again; the small race with other programs is acceptable here). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/** GET / once; the status code, or undefined when nothing answered within timeoutMs. */
function httpStatus(port: number, timeoutMs: number): Promise<number | undefined> {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, path: '/', agent: false, timeout: timeoutMs }, (res) => {
      res.resume();
      resolve(res.statusCode);
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(undefined));
    req.end();
  });
}

function diskArgs(disk: BootSpec['disk']): string[] {
  if (!disk) return [];
  const file = `file=${disk.path.replaceAll(',', ',,')},format=raw,snapshot=on`;
  return disk.bus === 'virtio'
    ? ['-drive', `${file},if=virtio`]
    : ['-drive', `${file},if=none,id=root`, '-device', 'nvme,drive=root,serial=jeos-root'];
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function boot(spec: BootSpec): Promise<BootResult> {
  const port = await freePort();
  const args = [
    ...PLATFORM,
    ...ACCEL,
    '-m', String(spec.memoryMiB),
    '-smp', String(spec.cpus),
    '-kernel', spec.kernel,
    ...(spec.initrd ? ['-initrd', spec.initrd] : []),
    '-append', spec.append,
    ...diskArgs(spec.disk),
    '-netdev', `user,id=n0,hostfwd=tcp:127.0.0.1:${port}-:80`,
    '-device', 'virtio-net-pci,netdev=n0',
    ...GUEST_DEVICES,
    '-display', 'none', '-monitor', 'none', '-serial', 'stdio', '-no-reboot',
  ];
  const t0 = performance.now();
  const since = () => Math.round(performance.now() - t0);
  const child = spawn('qemu-system-x86_64', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const result: BootResult = { ok: false, console: null, init: null, systemd: null, ready: null, consoleTail: '' };
  let log = '';
  let exited: string | undefined;
  child.stdout.on('data', (chunk: Buffer) => {
    result.console ??= since();
    log += chunk.toString('latin1');
    if (result.init === null && log.includes('Run /init as init process')) result.init = since();
    if (result.systemd === null && /systemd\[1\]: systemd \d+|Welcome to /.test(log)) result.systemd = since();
  });
  child.stderr.on('data', (chunk: Buffer) => (log += chunk.toString('latin1')));
  const gone = new Promise<void>((r) => child.on('exit', (code, signal) => ((exited = `qemu exited (${signal ?? code})`), r())));

  // Probes overlap (a new one every 200 ms, each waiting up to 2 s), as jeos test's do: QEMU's user
  // networking holds a request sent before the guest's network is up, and a single probe waiting on
  // it would read the ready time late by up to its timeout. Every VM here is probed the same way.
  await new Promise<void>((done) => {
    let finished = false;
    const finish = () => {
      if (finished) return;
      finished = true;
      clearInterval(timer);
      done();
    };
    const probe = () => {
      if (exited || since() >= spec.deadlineMs) return finish();
      void httpStatus(port, 2000).then((status) => {
        if (status === 200 && !result.ok) {
          result.ready = since();
          result.ok = true;
          finish();
        }
      });
    };
    const timer = setInterval(probe, 200);
    void gone.then(finish);
    probe();
  });
  if (!result.ok) {
    const first = (re: RegExp) => re.exec(log)?.[0];
    const why = [/Initramfs unpacking failed: [^\r\n]*/, /Kernel panic - not syncing: [^\r\n]*/, /Out of memory: [^\r\n]*/].map(first);
    result.failure = [exited ?? `no HTTP 200 within ${spec.deadlineMs / 1000} s`, ...why].filter(Boolean).join('; ');
  }
  if (!exited) {
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    await gone;
    clearTimeout(timer);
  }
  result.consoleTail = log.split('\n').slice(-15).join('\n');
  return result;
}
