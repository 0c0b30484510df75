import { requireTool, run } from '../tools.js';
import { AUDIT_PORT_NAME } from './registry.js';
import type { Accel, Forward, Machine } from './types.js';

export const QEMU = 'qemu-system-x86_64';

/** Fail in the first second when QEMU is missing. */
export function requireQemu(): Promise<string> {
  return requireTool(QEMU, 'boot VM images (jeos run, jeos test --vm)', 'qemu-system-x86');
}

/** `7.2.22` from `QEMU emulator version 7.2.22 (Debian …)`; the whole first line when it has another form. */
export async function qemuVersion(binary: string): Promise<string> {
  const r = await run(binary, ['--version'], { timeoutMs: 10_000 });
  const first = r.stdout.split('\n')[0]?.trim() ?? '';
  return /version (\S+)/.exec(first)?.[1] ?? first;
}

/**
 * The machine type: q35, the modern chipset (PCIe, no ISA/IDE to probe) and what KVM
 * users expect; under TCG it boots the images as fast as pc. microvm is not used: it
 * has one serial port (the report channel is the second), no PCI, and under TCG its
 * kernel cannot calibrate the TSC without `tsc_early_khz=`, which QEMU does not tell.
 * The measurements behind this: docs/vm.md, "Why q35".
 */
export function defaultMachine(): Machine {
  return 'q35';
}

/**
 * The CPU model for an accelerator: the host's under KVM. Under TCG, `max` (the default
 * qemu64 model crashed Debian's 6.12 kernel once systemd started) without `erms`:
 * with "enhanced rep movsb/stosb" the kernel clears every page with `rep stosb` and
 * glibc copies large blocks with `rep movsb`, and TCG runs a rep string instruction one
 * element per step, so a 4 KiB page takes 4096 steps instead of 512 with `rep stosq`
 * (what that costs a boot: docs/vm.md, "The machine").
 */
export function cpuModel(accel: Accel): string {
  return accel === 'kvm' ? 'host' : 'max,-erms';
}

/**
 * Virtual CPUs unless asked: two under KVM; one under TCG. Two vCPUs under QEMU 7.2's
 * multi-threaded TCG boot faster, but Debian's kernel then sometimes oopsed at boot on an
 * int3 its own code patching had left (`Oops: int3` in sched_clock_cpu, a static key); with
 * one vCPU it never did (docs/vm.md, "The machine").
 */
export function defaultCpus(accel: Accel): number {
  return accel === 'kvm' ? 2 : 1;
}

/**
 * Kernel arguments the runner adds for the accelerator, after the image's own command line
 * and before the user's (`--append`). Under TCG with one vCPU, `noreplace-smp`: a kernel
 * that finds one CPU rewrites every `lock` prefix in its code (tens of thousands) for a
 * uniprocessor, which is slow under TCG (docs/vm.md, "noreplace-smp under TCG"); the locked
 * instructions it keeps are correct on one CPU. Under KVM the patching is quick and an
 * unlocked kernel runs a little faster, so nothing is added there, nor to out/vm/cmdline,
 * which is how the image boots elsewhere.
 */
export function accelCmdline(accel: Accel, cpus: number): string[] {
  return accel === 'tcg' && cpus === 1 ? ['noreplace-smp'] : [];
}

/**
 * A UEFI boot from a disk image (jeos run/test --disk): OVMF's code read-only and a private
 * copy of its variables as the two pflash drives, the disk as a virtio block device, and the
 * runner's and the user's kernel arguments handed to systemd-boot through SMBIOS Type 11
 * (`io.systemd.boot.kernel-cmdline-extra`, which it appends to a Type #1 entry's options).
 */
export interface UefiSpec {
  code: string;
  vars: string;
  disk: string;
  format: 'raw' | 'qcow2';
  /** Guest writes go to a temporary overlay that lives as long as QEMU (across guest reboots), never to the file. */
  snapshot: boolean;
  cmdlineExtra?: string;
}

export interface QemuArgsSpec {
  /** Direct kernel boot (out/vm), or `uefi` below. */
  kernel?: string;
  uefi?: UefiSpec;
  initrd?: string;
  /** A root file system image, attached read-write as the first NVMe drive with snapshot=on: the guest's writes go to a temporary overlay, never to the file. */
  disk?: string;
  /** The image's command line followed by anything the user added. */
  cmdline: string;
  memoryMiB: number;
  /** Virtual CPUs (-smp). */
  cpus: number;
  accel: Accel;
  machine: Machine;
  forwards: Forward[];
  /** Unix sockets this process listens on; QEMU connects to each as a client at start-up. */
  sockets: { console: string; report: string; qmp: string };
  /** A socket QEMU listens on for the guest's audit port (jeos run: jeos audit --against vm:NAME). */
  auditSocket?: string;
  name?: string;
}

/** `hostfwd=tcp:127.0.0.1:8080-:80`: only the loopback interface, any guest address (the DHCP one). */
export function hostfwd(f: Forward): string {
  return `hostfwd=${f.protocol}:127.0.0.1:${f.hostPort}-:${f.guestPort}`;
}

/** Besides the NIC: the balloon (the guest's memory figures for jeos test) and an RNG. */
export const GUEST_DEVICES = ['-device', 'virtio-balloon-pci,id=balloon0', '-device', 'virtio-rng-pci'];

/**
 * QEMU's argument vector. Commas in paths are doubled, as QEMU's option syntax wants.
 * Serial 0 is the console, serial 1 the guest's report channel, both on sockets this
 * process owns (so nothing the guest prints before we are ready is lost: QEMU cannot
 * start until it has connected).
 */
export function qemuArgs(spec: QemuArgsSpec): string[] {
  const esc = (s: string) => s.replaceAll(',', ',,');
  const netdev = ['user', 'id=net0', ...spec.forwards.map(hostfwd)].join(',');
  return [
    ...(spec.name ? ['-name', esc(spec.name)] : []),
    '-machine', spec.machine,
    '-accel', spec.accel,
    '-cpu', cpuModel(spec.accel),
    '-m', String(spec.memoryMiB),
    '-smp', String(spec.cpus),
    '-nodefaults', '-no-user-config', '-display', 'none',
    // A disk reboots into its next try (boot counting); a direct boot stops at its first reboot or panic.
    ...(spec.uefi ? [] : ['-no-reboot']),
    ...(spec.uefi ? uefiArgs(spec.uefi) : ['-kernel', spec.kernel!, ...(spec.initrd ? ['-initrd', spec.initrd] : []), '-append', spec.cmdline]),
    ...(spec.disk
      ? ['-drive', `file=${esc(spec.disk)},if=none,id=root,format=raw,snapshot=on`, '-device', 'nvme,drive=root,serial=jeos-root']
      : []),
    '-chardev', `socket,id=console,path=${esc(spec.sockets.console)}`,
    '-serial', 'chardev:console',
    '-chardev', `socket,id=report,path=${esc(spec.sockets.report)}`,
    '-serial', 'chardev:report',
    '-chardev', `socket,id=qmp,path=${esc(spec.sockets.qmp)}`,
    '-mon', 'chardev=qmp,mode=control',
    '-netdev', netdev,
    '-device', 'virtio-net-pci,netdev=net0',
    ...GUEST_DEVICES,
    ...(spec.auditSocket ? auditPortArgs(spec.auditSocket) : []),
  ];
}

/**
 * The guest's audit port: a virtio-serial port named AUDIT_PORT_NAME whose host side is a
 * socket QEMU listens on (jeos audit connects to it; nothing waits for it at start).
 */
export function auditPortArgs(socket: string): string[] {
  return [
    '-device', 'virtio-serial-pci,id=vser0',
    '-chardev', `socket,id=audit,path=${socket.replaceAll(',', ',,')},server=on,wait=off`,
    '-device', `virtserialport,bus=vser0.0,chardev=audit,name=${AUDIT_PORT_NAME}`,
  ];
}

function uefiArgs(u: UefiSpec): string[] {
  const esc = (s: string) => s.replaceAll(',', ',,');
  return [
    '-drive', `if=pflash,format=raw,unit=0,readonly=on,file=${esc(u.code)}`,
    '-drive', `if=pflash,format=raw,unit=1,file=${esc(u.vars)}`,
    '-drive', `file=${esc(u.disk)},if=none,id=disk,format=${u.format}${u.snapshot ? ',snapshot=on' : ''}`,
    '-device', 'virtio-blk-pci,drive=disk,bootindex=0',
    // A watchdog the guest's systemd arms (RuntimeWatchdogSec): a hung boot resets the machine, which is a failed try.
    '-device', 'i6300esb',
    ...(u.cmdlineExtra ? ['-smbios', `type=11,value=${esc(`io.systemd.boot.kernel-cmdline-extra=${u.cmdlineExtra}`)}`] : []),
  ];
}

/** The kernel command line: the image's, then the runner's for the accelerator (accelCmdline), then the user's additions. */
export function joinCmdline(image: string, extra: string | undefined, runner: readonly string[] = []): string {
  return [image.trim(), ...runner, extra?.trim()].filter(Boolean).join(' ');
}
