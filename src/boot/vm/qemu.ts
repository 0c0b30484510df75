import { requireTool, run } from '../tools.js';
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
 * The machine type: q35. Measured here under TCG (QEMU 7.2, two CPUs shared with
 * other VMs): to /init of a tiny initramfs q35 took 2.7 s, pc 3.2 s, microvm 2.2 s
 * (single runs); the nginx image, alternating, answered HTTP 200 after 14.6–16.3 s
 * on q35 and 14.9–15.1 s on pc (one outlier each at 26–29 s under load), so q35
 * and pc tie. microvm is out: it needs `pit=on` (without a PIT the kernel cannot
 * calibrate its clock and stops), has one serial port (the report channel is the
 * second), and no PCI (its `pcie=on` stalled the console here; virtio-mmio would
 * need the virtio_mmio module the image does not load). Tried again with `acpi=on`
 * (its virtio-mmio devices described in ACPI, the module loaded): under TCG the kernel
 * then cannot calibrate the TSC (no speaker port for the PIT method, no HPET, no ACPI PM
 * timer) and hangs, unless `tsc_early_khz=` gives the host's TSC frequency, which QEMU
 * does not tell and a wrong value would skew the guest's clock. With it, the nginx VM
 * reached /init about 0.3 s sooner (4 alternating boots each). q35 is the modern chipset
 * (PCIe, no ISA/IDE to probe) and what KVM users expect.
 */
export function defaultMachine(): Machine {
  return 'q35';
}

/**
 * The CPU model for an accelerator: the host's under KVM. Under TCG, `max` (the default
 * qemu64 model crashed Debian's 6.12 kernel once systemd started) without `erms`:
 * with "enhanced rep movsb/stosb" the kernel clears every page with `rep stosb` and
 * glibc copies large blocks with `rep movsb`, and TCG runs a rep string instruction one
 * element per step, so a 4 KiB page takes 4096 steps instead of 512 with `rep stosq`.
 * The nginx VM answered about 0.7 s sooner without it (median of 6 boots each,
 * alternating); taking AVX away as well changed nothing.
 */
export function cpuModel(accel: Accel): string {
  return accel === 'kvm' ? 'host' : 'max,-erms';
}

/**
 * Virtual CPUs unless asked: two under KVM; one under TCG. With two, QEMU 7.2's multi-threaded
 * TCG runs them on two host threads and systemd's boot-time services side by side (the nginx VM
 * answered after 6.5-8.0 s instead of 10.5-11.7), but Debian's kernel then oopsed at boot on an
 * int3 its own code patching had left (`Oops: int3` in sched_clock_cpu, a static key) in 2 of
 * about 60 boots here; with one vCPU it never did.
 */
export function defaultCpus(accel: Accel): number {
  return accel === 'kvm' ? 2 : 1;
}

/**
 * Kernel arguments the runner adds for the accelerator, after the image's own command line
 * and before the user's (`--append`). Under TCG with one vCPU, `noreplace-smp`: a kernel
 * that finds one CPU rewrites every `lock` prefix in its code (tens of thousands) for a
 * uniprocessor, and under TCG that patching took 0.3–0.5 s of the boot (from the kernel's
 * "Enabled xstate features" to "Freeing SMP alternatives memory"; 0.2–0.3 s with the
 * argument, three boots each). The locked instructions it keeps are correct on one CPU.
 * Under KVM the patching takes milliseconds and an unlocked kernel runs a little faster,
 * so nothing is added there, nor to out/vm/cmdline, which is how the image boots elsewhere.
 */
export function accelCmdline(accel: Accel, cpus: number): string[] {
  return accel === 'tcg' && cpus === 1 ? ['noreplace-smp'] : [];
}

export interface QemuArgsSpec {
  kernel: string;
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
    '-nodefaults', '-no-user-config', '-no-reboot', '-display', 'none',
    '-kernel', spec.kernel,
    ...(spec.initrd ? ['-initrd', spec.initrd] : []),
    '-append', spec.cmdline,
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
  ];
}

/** The kernel command line: the image's, then the runner's for the accelerator (accelCmdline), then the user's additions. */
export function joinCmdline(image: string, extra: string | undefined, runner: readonly string[] = []): string {
  return [image.trim(), ...runner, extra?.trim()].filter(Boolean).join(' ');
}
