/**
 * The disk bench's QEMU harness: boot a GPT disk image under OVMF (code read-only, a variables
 * store given by the caller), the disk on virtio-blk with snapshot=on, on the same platform and
 * accelerator as every VM of bench/vm.ts; watch the console for the firmware starting the boot
 * loader (OVMF's `BdsDxe: starting`) and probe the forwarded HTTP port (a new request every
 * 200 ms, each waiting up to 2 s) until it answers 200. Times are ms since the spawn.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import { GUEST_DEVICES } from '../../src/boot/vm/index.js';
import { ACCEL, PLATFORM, freePort } from '../vm/qemu.js';

export interface UefiBoot {
  ok: boolean;
  firmware: number | null;
  kernel: number | null;
  ready: number | null;
  /** QEMU's CPU time (user + system, ms) at the same moments: what the boot cost, whatever else the host ran. */
  cpu: { firmware: number | null; kernel: number | null; ready: number | null };
  failure?: string;
}

/** A process's CPU time in ms (/proc/PID/stat utime + stime, in clock ticks of 10 ms). */
function cpuMs(pid: number | undefined): number | null {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /s, '').split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return null;
  }
}

function httpOk(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, path: '/', agent: false, timeout: 2000 }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(false));
    req.end();
  });
}

export interface UefiSpec {
  disk: string;
  code: string;
  vars: string;
  memoryMiB: number;
  deadlineMs: number;
  /** The NIC's -device options after its model (default: virtio-net-pci with QEMU's iPXE option ROM, as jeos test --disk). */
  nicOptions?: string;
  /** Further QEMU arguments (firmware settings through -fw_cfg, -boot). */
  extra?: string[];
}

export async function bootUefi(spec: UefiSpec): Promise<UefiBoot> {
  const port = await freePort();
  const q = (p: string) => p.replaceAll(',', ',,');
  const args = [
    ...PLATFORM, ...ACCEL, '-m', String(spec.memoryMiB), '-smp', '1',
    '-drive', `if=pflash,format=raw,unit=0,readonly=on,file=${q(spec.code)}`,
    '-drive', `if=pflash,format=raw,unit=1,file=${q(spec.vars)}`,
    '-drive', `file=${q(spec.disk)},if=none,id=disk,format=raw,snapshot=on`, '-device', 'virtio-blk-pci,drive=disk,bootindex=0',
    '-netdev', `user,id=n0,hostfwd=tcp:127.0.0.1:${port}-:80`, '-device', `virtio-net-pci,netdev=n0${spec.nicOptions ?? ''}`,
    ...(spec.extra ?? []),
    ...GUEST_DEVICES,
    '-display', 'none', '-monitor', 'none', '-serial', 'stdio', '-no-reboot',
  ];
  const t0 = performance.now();
  const since = () => Math.round(performance.now() - t0);
  const child = spawn('qemu-system-x86_64', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const result: UefiBoot = { ok: false, firmware: null, kernel: null, ready: null, cpu: { firmware: null, kernel: null, ready: null } };
  let log = '';
  let exited: string | undefined;
  child.stdout.on('data', (chunk: Buffer) => {
    log += chunk.toString('latin1');
    if (result.firmware === null && /BdsDxe: starting Boot/.test(log)) (result.firmware = since()), (result.cpu.firmware = cpuMs(child.pid));
    if (result.kernel === null && /Linux version \d/.test(log)) (result.kernel = since()), (result.cpu.kernel = cpuMs(child.pid));
  });
  child.stderr.on('data', (chunk: Buffer) => (log += chunk.toString('latin1')));
  const gone = new Promise<void>((r) => child.on('exit', (code, signal) => ((exited = `qemu exited (${signal ?? code})`), r())));
  while (!exited && since() < spec.deadlineMs && !result.ok) {
    void httpOk(port).then((ok) => {
      if (ok && !result.ok) {
        result.ok = true;
        result.ready = since();
        result.cpu.ready = cpuMs(child.pid);
      }
    });
    await new Promise((r) => setTimeout(r, 200));
  }
  if (!result.ok) result.failure = `${exited ?? `no HTTP 200 within ${spec.deadlineMs / 1000} s`}\n${log.split('\n').slice(-15).join('\n')}`;
  if (!exited) {
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    await gone;
    clearTimeout(timer);
  }
  return result;
}
