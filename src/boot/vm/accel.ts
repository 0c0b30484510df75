/**
 * KVM or TCG. /dev/kvm existing is not enough: on some hosts (nested or restricted
 * VMs) QEMU hangs with -accel kvm or asserts with -cpu host. So "KVM works" means a
 * short probe boot of the image's own kernel printed its first console line in
 * time. The verdict is cached per host boot and QEMU version.
 */
import { spawn } from 'node:child_process';
import { constants } from 'node:fs';
import { mkdir, open, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { JeosError } from '../../errors.js';
import { qemuVersion } from './qemu.js';
import type { Accel, AccelChoice } from './types.js';

export interface AccelDecision {
  accel: Accel;
  /** Why, in a few words ("KVM probe: …", "asked for"). */
  reason: string;
}

export interface AccelContext {
  qemu: string;
  /** A kernel to probe with (the image's). */
  kernel: string;
  /** Where the verdict is cached (`<cacheDir>/vm/kvm-probe.json`); no caching without it. */
  cacheDir?: string;
  kvmDevice?: string;
  probeTimeoutMs?: number;
}

interface Verdict {
  key: string;
  works: boolean;
  reason: string;
}

/** Whether the KVM device can be opened read-write; the error's message when not. */
export async function kvmDeviceError(device = '/dev/kvm'): Promise<string | undefined> {
  try {
    const fh = await open(device, constants.O_RDWR);
    await fh.close();
    return undefined;
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    return `${device}: ${err.code === 'ENOENT' ? 'not present' : err.code === 'EACCES' ? 'permission denied (not in the kvm group?)' : err.message}`;
  }
}

/** The telling line of QEMU's stderr: its first `error:` line, else the last, without the program name. */
export function qemuMessage(stderr: string): string {
  const lines = stderr.split('\n').map((l) => l.replace(/^qemu-system-\w+: /, '').trim()).filter(Boolean);
  return (lines.find((l) => /^error:/i.test(l))?.replace(/^error:\s*/i, '') ?? lines[lines.length - 1] ?? '').slice(0, 200);
}

/** Boot the kernel under KVM without an initramfs and wait for its first console line. */
export function probeKvm(qemu: string, kernel: string, timeoutMs = 4000): Promise<{ works: boolean; reason: string }> {
  return new Promise((resolve) => {
    const args = ['-machine', 'q35', '-accel', 'kvm', '-cpu', 'host', '-m', '128', '-nodefaults', '-no-user-config', '-no-reboot'];
    args.push('-display', 'none', '-serial', 'stdio', '-kernel', kernel, '-append', 'console=ttyS0 panic=-1');
    const began = Date.now();
    const child = spawn(qemu, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    let settled = false;
    const finish = (works: boolean, reason: string) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      child.kill('SIGKILL');
      resolve({ works, reason });
    };
    const timer = setTimeout(() => finish(false, `QEMU printed nothing under KVM within ${timeoutMs / 1000} s (it hangs on this host)`), timeoutMs);
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString('latin1');
      if (/Linux version/.test(out)) finish(true, `the kernel started under KVM in ${Date.now() - began} ms`);
    });
    child.stderr.on('data', (d: Buffer) => (err += d.toString('utf8')));
    child.on('error', (e) => finish(false, e.message));
    child.on('close', (code, signal) => {
      finish(false, `QEMU exited under KVM (${signal ?? `status ${code}`})${err.trim() ? `: ${qemuMessage(err)}` : ''}`);
    });
  });
}

/** What a cached verdict is valid for: this boot of the host and this QEMU. */
export async function hostKey(qemu: string): Promise<string | undefined> {
  const bootId = await readFile('/proc/sys/kernel/random/boot_id', 'utf8').catch(() => undefined);
  return bootId ? `${bootId.trim()} qemu ${await qemuVersion(qemu)}` : undefined;
}

async function readVerdict(file: string, key: string): Promise<Verdict | undefined> {
  try {
    const v = JSON.parse(await readFile(file, 'utf8')) as Verdict;
    return v.key === key && typeof v.works === 'boolean' ? v : undefined;
  } catch {
    return undefined;
  }
}

async function writeVerdict(file: string, verdict: Verdict): Promise<void> {
  try {
    await mkdir(join(file, '..'), { recursive: true });
    const tmp = `${file}.${process.pid}.tmp`;
    await writeFile(tmp, `${JSON.stringify(verdict, null, 2)}\n`);
    await rename(tmp, file);
  } catch {
    // A cache that cannot be written only costs the next run another probe.
  }
}

/** Decide the accelerator for `choice` (auto: KVM when the probe boots, else TCG). */
export async function chooseAccel(choice: AccelChoice, ctx: AccelContext): Promise<AccelDecision> {
  if (choice === 'tcg') return { accel: 'tcg', reason: 'asked for (--accel tcg)' };
  const deviceError = await kvmDeviceError(ctx.kvmDevice);
  if (choice === 'kvm') {
    if (deviceError) {
      throw new JeosError('E_VM_KVM', `KVM is not usable: ${deviceError}`, {
        hint: 'use --accel tcg (slower, works everywhere) or --accel auto',
      });
    }
    return { accel: 'kvm', reason: 'asked for (--accel kvm)' };
  }
  if (deviceError) return { accel: 'tcg', reason: deviceError };
  const key = ctx.cacheDir ? await hostKey(ctx.qemu) : undefined;
  const file = ctx.cacheDir ? join(ctx.cacheDir, 'vm', 'kvm-probe.json') : undefined;
  const cached = file && key ? await readVerdict(file, key) : undefined;
  const verdict = cached ?? { key: key ?? '', ...(await probeKvm(ctx.qemu, ctx.kernel, ctx.probeTimeoutMs)) };
  if (!cached && file && key) await writeVerdict(file, verdict);
  const source = cached ? 'KVM probe (cached for this boot)' : 'KVM probe';
  return verdict.works ? { accel: 'kvm', reason: `${source}: ${verdict.reason}` } : { accel: 'tcg', reason: `${source}: ${verdict.reason}` };
}
