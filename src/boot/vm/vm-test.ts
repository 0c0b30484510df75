/**
 * jeos test --vm: boot the image headless, wait for the workload's health check
 * through a forwarded port and for the guest's report of failed units, read the
 * guest's memory use, power off.
 */
import { connect } from 'node:net';
import { JeosError } from '../../errors.js';
import { healthcheckForwards, healthcheckKind, probeNetwork, probeTcp, type HealthcheckKind, type HealthcheckSpec, type PortMapper, type ProbeResult } from '../health.js';
import { chooseForwards } from './ports.js';
import { startVm, type StartVmOptions, type VmHandle } from './runner.js';
import type { Accel, AccelChoice, BootTimings, Forward, GuestMemory, GuestPort, KernelEntry, Machine, VmEvent } from './types.js';

export interface VmTestOptions {
  vmDir: string;
  project?: string;
  memoryMiB: number;
  /** Virtual CPUs (default: defaultCpus in qemu.ts). */
  cpus?: number;
  ports: GuestPort[];
  healthcheck?: HealthcheckSpec;
  /** Overall limit; default: the health check's timeout (seconds in jeos.yaml, else 60 s), times TCG_TIMEOUT_FACTOR under TCG. */
  timeoutMs?: number;
  accel?: AccelChoice;
  machine?: Machine;
  cacheDir?: string;
  /** false: boot the bzImage, not its uncompressed ELF (StartVmOptions.pvh). */
  pvh?: boolean;
  extraCmdline?: string;
  /** Boot a disk image under UEFI instead of out/vm (StartVmOptions.uefi). */
  uefi?: StartVmOptions['uefi'];
  /** Raw console bytes as they arrive. */
  onConsole?: (chunk: Buffer) => void;
  /** Keep the whole serial console in this file (StartVmOptions.consoleFile). */
  consoleFile?: string;
  onEvent?: (e: VmEvent) => void;
}

export interface VmTestResult {
  ok: boolean;
  accel: Accel;
  /** Why this accelerator (the KVM probe's verdict, or the flag). */
  accelReason: string;
  machine: Machine;
  /** How the kernel was booted: its uncompressed ELF through the PVH entry, or the bzImage (kernelNote says why). */
  kernelEntry: KernelEntry;
  kernelNote?: string;
  memoryMiB: number;
  cpus: number;
  /** The kernel command line QEMU got: out/vm/cmdline, what jeos adds for the accelerator, then --append. */
  cmdline: string;
  forwards: Forward[];
  timings: BootTimings;
  /** Guest memory from the balloon driver; null when it sent none (memoryNote says why). */
  memory: GuestMemory | null;
  memoryNote?: string;
  failedUnits: string[];
  /** Whether the guest's report channel answered (multi-user.target reached). */
  reported: boolean;
  healthcheck: { kind: Exclude<HealthcheckKind, 'command'> | 'report'; ok: boolean; detail: string; attempts: number };
  /** How long jeos test waited for the workload to be healthy: --timeout, else the check's timeout (times TCG_TIMEOUT_FACTOR under TCG). */
  timeoutSeconds?: number;
  /** What went wrong, in one line, when not ok. */
  failure?: string;
  /** A coded cause, when the console names one: E_VM_OUT_OF_MEMORY (the console's line is in failure). */
  code?: 'E_VM_OUT_OF_MEMORY';
  /** The last console lines, when the test failed. */
  console?: string;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const PROBE_INTERVAL_MS = 250;
const MAX_IN_FLIGHT = 24;

export function mapperOf(forwards: Forward[]): PortMapper {
  return (port, protocol) => {
    const f = forwards.find((x) => x.guestPort === port && x.protocol === protocol);
    return f ? { host: '127.0.0.1', port: f.hostPort } : undefined;
  };
}

/** A command health check runs inside the image, which a VM test cannot do: say so before booting. */
export function checkVmHealthcheck(spec: HealthcheckSpec | undefined): void {
  if (spec?.command !== undefined) {
    throw new JeosError('E_VM_HEALTHCHECK_COMMAND', 'workload.healthcheck.command cannot run in a VM test (jeos has no way into the guest)', {
      hint: 'use an http: or tcp: health check for VM images (jeos test --container can run commands)',
    });
  }
}

/**
 * Under QEMU's user networking the host side of a forwarded port accepts every
 * connection, listening guest or not; it is dropped only when the guest answers with
 * a reset. So a TCP check counts when the connection survives a second, and is only
 * tried once the guest reported (its network is up then, so a closed port resets).
 */
async function probeTcpThroughSlirp(port: number, mapPort: PortMapper): Promise<ProbeResult> {
  const first = await probeTcp(port, mapPort);
  if (!first.ok) return first;
  const mapped = mapPort(port, 'tcp')!;
  return new Promise((resolve) => {
    const socket = connect({ host: mapped.host, port: mapped.port });
    const done = (r: ProbeResult) => (socket.destroy(), resolve(r));
    socket.once('close', () => done({ ok: false, detail: `tcp ${port}: the guest closed the connection (nothing listening yet?)` }));
    socket.once('error', (e) => done({ ok: false, detail: `tcp ${port}: ${e.message}` }));
    socket.once('connect', () => setTimeout(() => done({ ok: true, detail: `tcp ${port} accepts connections` }), 1000));
  });
}

/** The protocol checks (http, dns, a greeting) need an answer, so a forward with no guest behind it fails them by itself. */
function probe(spec: HealthcheckSpec, mapPort: PortMapper): Promise<ProbeResult> {
  if (spec.tcp) return probeTcpThroughSlirp(spec.tcp, mapPort);
  return probeNetwork(spec, mapPort)!;
}

/**
 * What jeos test adds to the kernel command line, after the runner's arguments and before
 * --append: systemd names units by name alone in its console status lines. With its
 * default (`name - description`) a line longer than the serial console's 80 columns is
 * shortened in the middle, and a failed unit's name could be cut
 * (`Failed to start jeos-network.servi…eth0 (BusyBox modprobe and udhcpc)`).
 */
export const TEST_CMDLINE = ['systemd.status_unit_format=name'];

/**
 * Under TCG (no KVM) the guest runs several times slower than on the hardware a health check's
 * timeout is written for: a first start that makes keys or starts the Erlang VM took 60–100 s
 * there (rabbitmq-server, postfix, dovecot-imapd). Without --timeout, jeos test waits this many
 * times the check's timeout; the report says how long it waited (timeoutSeconds).
 */
export const TCG_TIMEOUT_FACTOR = 3;

/** How long to wait for the workload to be healthy when --timeout is not given, in ms. */
export function waitFor(spec: HealthcheckSpec | undefined, accel: Accel): number {
  return (spec?.timeout ?? 60) * 1000 * (accel === 'tcg' ? TCG_TIMEOUT_FACTOR : 1);
}

export async function testVm(options: VmTestOptions): Promise<VmTestResult> {
  checkVmHealthcheck(options.healthcheck);
  const spec = options.healthcheck;
  const ports: GuestPort[] = [...options.ports, ...healthcheckForwards(spec)];
  const forwards = await chooseForwards(ports, 'free');
  const vm = await startVm({
    vmDir: options.vmDir,
    project: options.project,
    memoryMiB: options.memoryMiB,
    cpus: options.cpus,
    forwards,
    accel: options.accel,
    machine: options.machine,
    cacheDir: options.cacheDir,
    pvh: options.pvh,
    extraCmdline: [...TEST_CMDLINE, options.extraCmdline].filter(Boolean).join(' '),
    ...(options.uefi ? { uefi: options.uefi } : {}),
    ...(options.onConsole ? { onConsole: options.onConsole } : {}),
    ...(options.consoleFile ? { consoleFile: options.consoleFile } : {}),
    onEvent: options.onEvent,
  });
  const timeoutMs = options.timeoutMs ?? waitFor(spec, vm.accel.accel);
  try {
    return { ...(await watch(vm, options, spec, timeoutMs)), timeoutSeconds: Math.round(timeoutMs / 1000) };
  } finally {
    if (!vm.hasExited()) await vm.stop();
  }
}

async function watch(vm: VmHandle, options: VmTestOptions, spec: HealthcheckSpec | undefined, timeoutMs: number): Promise<VmTestResult> {
  const deadline = vm.now() + timeoutMs;
  const mapPort = mapperOf(vm.forwards);
  const kind = (healthcheckKind(spec) ?? 'report') as VmTestResult['healthcheck']['kind'];
  let reportedUnits: string[] | undefined;
  let healthy: ProbeResult | undefined;
  let last: ProbeResult = { ok: false, detail: 'not probed yet' };
  let attempts = 0;
  let ready: number | null = null;
  let failure: string | undefined;
  let inFlight = 0;
  let nextProbe = 0;

  for (;;) {
    reportedUnits = vm.latestReport()?.failedUnits;
    if (vm.hasExited()) {
      const exit = await vm.exited;
      failure = `QEMU stopped before the workload was ready (${exit.reason ?? exit.signal ?? `status ${exit.code}`})`;
      break;
    }
    // Probes start with userspace (TCP ones with the report, see above) and overlap: one made while the
    // guest's network is still down hangs until its own timeout, and must not hold back the next.
    const probeNow = spec && !healthy && inFlight < MAX_IN_FLIGHT && (spec.tcp ? reportedUnits !== undefined : vm.console.markers.userspace !== null);
    if (probeNow && vm.now() >= nextProbe) {
      attempts++;
      inFlight++;
      nextProbe = vm.now() + PROBE_INTERVAL_MS;
      void probe(spec, mapPort).then((r) => {
        inFlight--;
        if (healthy) return;
        last = r;
        options.onEvent?.({ type: 'probe', ok: r.ok, detail: r.detail });
        if (r.ok) (healthy = r), (ready = vm.now());
      });
    }
    const failed = [...new Set([...(reportedUnits ?? []), ...vm.console.failedUnits])];
    if (reportedUnits && failed.length) {
      failure = `failed units: ${failed.join(', ')}`;
      break;
    }
    if (reportedUnits && (healthy || !spec)) {
      ready ??= vm.now();
      break;
    }
    if (vm.now() >= deadline) {
      failure = !reportedUnits
        ? `${healthy ? 'the workload answered, but ' : ''}the guest did not report within ${Math.round(timeoutMs / 1000)} s${healthy ? '' : ` (health check: ${last.detail})`}`
        : `not healthy after ${Math.round(timeoutMs / 1000)} s: ${last.detail}`;
      break;
    }
    await sleep(50);
  }

  // A guest that ran out of memory resets or fails its units: the kernel's line says why.
  const oom = vm.console.outOfMemory;
  if (oom && failure) failure = `the guest ran out of memory with ${options.memoryMiB} MiB ("${oom}"); ${failure}`;
  const failedUnits = [...new Set([...(reportedUnits ?? []), ...vm.console.failedUnits])];
  let memory: GuestMemory | null = null;
  let memoryNote: string | undefined;
  if (!vm.hasExited()) {
    memory = await vm.memory(failure ? 1000 : 5000);
    if (!memory) memoryNote = 'the guest sent no memory statistics (is virtio_balloon loaded?)';
  } else memoryNote = 'QEMU had stopped';
  const exit = await vm.stop();
  const ok = !failure;
  return {
    ok,
    accel: vm.accel.accel,
    accelReason: vm.accel.reason,
    machine: vm.machine,
    kernelEntry: vm.kernel.entry,
    ...(vm.kernel.reason ? { kernelNote: vm.kernel.reason } : {}),
    memoryMiB: options.memoryMiB,
    cpus: vm.cpus,
    cmdline: vm.cmdline,
    forwards: vm.forwards,
    timings: { kernel: vm.console.markers.kernel, userspace: vm.console.markers.userspace, ready: ok ? ready : null, total: vm.now() },
    memory,
    ...(memoryNote ? { memoryNote } : {}),
    failedUnits,
    reported: reportedUnits !== undefined,
    healthcheck: {
      kind,
      ok: kind === 'report' ? reportedUnits !== undefined : !!healthy,
      detail: kind === 'report' ? (reportedUnits ? 'the guest reached multi-user.target (no health check declared)' : 'the guest did not report') : (healthy ?? last).detail,
      attempts,
    },
    ...(failure ? { failure } : {}),
    ...(oom && failure ? { code: 'E_VM_OUT_OF_MEMORY' as const } : {}),
    ...(ok ? {} : { console: vm.console.tail() + (exit.stderr ? `\n--- QEMU ---\n${exit.stderr}` : '') }),
  };
}
