import { outOfMemoryHint, vmMemoryOf } from '../vm-memory.js';
import { readFile, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { InvalidArgumentError, Option, type Command } from 'commander';
import { resolveSettings } from '../../settings/index.js';
import { testContainer, type ContainerTestResult } from '../../boot/container.js';
import { isExecNotFound, missingInterpreters, type MissingEntry, type MissingInterpreter } from '../../boot/exec-failure.js';
import { testVm, type VmTestResult } from '../../boot/vm/index.js';
import { testDiskCommand } from './test-disk.js';
import { portSpec } from '../../build/image-spec.js';
import { loadConfig, type LoadedConfig } from '../../config/load.js';
import { describeSuspects, trimSuspects, type TrimExplanation, type TrimSuspect } from '../../trim/index.js';
import { JeosError } from '../../errors.js';
import { recoverOutputDir } from '../../outputs/index.js';
import { printJson } from '../format.js';
import { guestPorts, vmOptions, vmProgress } from './run.js';

export interface TestFlags {
  container?: boolean;
  vm?: boolean;
  disk?: boolean;
  image?: string;
  untilVersion?: string;
  writable?: boolean;
  memory?: number;
  cpus?: number;
  accel?: 'auto' | 'kvm' | 'tcg';
  append?: string;
  pvh?: boolean;
  timeout?: number;
  /** Keep the whole serial console in this file (--vm, --disk). */
  console?: string;
  out?: string;
  json?: boolean;
  quiet?: boolean;
  /** false: print nothing on stdout (jeos build --check --json folds the result into its own JSON). */
  print?: boolean;
}

const seconds = (v: string) => {
  const n = Number(v);
  if (!(n > 0)) throw new InvalidArgumentError('a number of seconds above 0');
  return n;
};

export function registerTest(program: Command): void {
  vmOptions(
    program
      .command('test')
      .argument('[dir]', 'directory holding jeos.yaml', '.')
      .description('run the built image and check that the workload answers its health check')
      .addOption(new Option('--container', 'run the OCI image with podman (the default)').conflicts(['vm', 'disk']))
      .addOption(new Option('--vm', 'boot the VM image (out/vm) headless in QEMU instead').conflicts('disk'))
      .option('--disk', 'boot the disk image (out/disk.img) headless under UEFI (QEMU with OVMF) instead')
      .option('--image <path>', 'with --disk: the disk image to boot (raw or qcow2; default: out/disk.img)')
      .option('--until-version <version>', 'with --disk: wait, across reboots, until this version completes its boot (another one completing fails unless it reboots, e.g. into an update, before --timeout)')
      .option('--writable', 'with --disk: the guest writes to the disk file (boot counting and blessing stay on it); default: a snapshot')
      .option('--out <dir>', 'where jeos build wrote the image (default: DIR/out)')
      .option('--timeout <seconds>', 'with --vm: how long the boot may take to be healthy (default: healthcheck.timeout, three times that without KVM); with --disk: the whole wait, across reboots', seconds)
      .option('--console <file>', 'with --vm or --disk: keep the whole serial console (firmware, kernel, the guest\'s services) in this file')
      .option('--json', 'print machine-readable JSON on stdout')
      .option('-q, --quiet', 'no progress output'),
    'with --vm: ',
  )
    .addHelpText(
      'after',
      `
The health check comes from workload.healthcheck in jeos.yaml: an HTTP URL and
status, a TCP port, or a command run inside the container. Ports are published
on 127.0.0.1 only. Exit status 0 only when the workload answers.

With --vm the VM boots headless (KVM when it works here, else TCG; --memory,
--cpus, --accel, --append and --no-pvh as for jeos run). It passes when the health check passes
through a forwarded port and the guest reports that no systemd unit failed;
it prints the time to kernel start, to userspace and to ready (ms since QEMU
started) and the guest's memory in use. A command health check cannot run in
a VM. On failure it prints the tail of the console (the workload's own errors
are there: journald forwards them).

Examples:
  jeos build examples/nginx && jeos test examples/nginx --container
  jeos test . --json
  jeos test examples/nginx --vm --memory 128
  jeos test . --vm --accel tcg --json
  jeos test examples/nginx --disk --json
  jeos test . --disk --image /tmp/copy.qcow2

With --disk the disk image boots under UEFI: OVMF from the host (apt-get install
ovmf), the image's own systemd-boot and boot entry. The disk is attached with
snapshot=on, so a test never changes it. It reports the version that booted and
the time to each stage: firmware, boot loader, kernel, userspace, healthy.`,
    )
    .action(async (dir: string, flags: TestFlags) => {
      const loaded = await loadConfig(dir);
      const outDir = resolve(flags.out ?? join(loaded.dir, 'out'));
      await recoverOutputDir(outDir);
      if (flags.console && !flags.vm && !flags.disk) throw new JeosError('E_TEST_CONSOLE_WITHOUT_VM', '--console keeps a VM\'s serial console: it goes with --vm or --disk', { hint: `jeos test ${dir} --vm --console ${flags.console}` });
      if (flags.image && !flags.disk) throw new JeosError('E_TEST_IMAGE_WITHOUT_DISK', '--image names a disk image: it goes with --disk', { hint: `jeos test ${dir} --disk --image ${flags.image}` });
      const { ok } = flags.disk
        ? await testDiskCommand(dir, loaded, outDir, flags)
        : flags.vm
          ? await testVmCommand(dir, loaded, outDir, flags)
          : await testContainerCommand(dir, loaded, outDir, flags);
      if (!ok) process.exitCode = 1;
    });
}

/** jeos test (and jeos build --check) for the container image; true when the health check passed. */
/** What a test found: whether the health check passed and, when a trimmed image failed, the dropped paths its output names. */
export interface TestOutcome {
  ok: boolean;
  namedDropped: string[];
}

const outcome = (ok: boolean, trim: TrimDiagnosis | undefined): TestOutcome => ({ ok, namedDropped: trim?.suspects.map((s) => s.path) ?? [] });

export async function testContainerCommand(dir: string, loaded: LoadedConfig, outDir: string, flags: TestFlags): Promise<TestOutcome> {
  const ociDir = join(outDir, 'oci');
  if (!(await stat(join(ociDir, 'index.json')).catch(() => undefined))) {
    throw new JeosError('E_TEST_NO_IMAGE', `no OCI image in ${ociDir}`, {
      hint: `build it first: jeos build ${dir} (with oci among the outputs)`,
    });
  }
  const log = (line: string) => !flags.json && !flags.quiet && process.stderr.write(`${line}\n`);
  await noteStaleImage(loaded.digest, outDir, log);
  const w = loaded.config.workload;
  const result = await testContainer({
    ociDir,
    ports: containerPorts(w.ports),
    healthcheck: w.healthcheck,
    onEvent: (e) => {
      if (e.type === 'fallback') log(`note: ${e.reason}`);
      else if (e.type === 'started') log(`started ${e.container}${Object.keys(e.ports).length ? `: ${Object.entries(e.ports).map(([k, v]) => `${k} → ${v}`).join(', ')}` : ''}`);
    },
  });
  const trim = result.ok ? undefined : await trimDiagnosis(outDir, 'image', result.logs ?? '');
  const interpreters = result.ok ? [] : await interpreterDiagnosis(outDir, 'image', `${result.healthcheck.detail}\n${result.logs}`, loaded);
  if (flags.print === false) return outcome(result.ok, trim);
  if (flags.json) printJson({ mode: 'container', ...result, ...(trim ? { trim } : {}), ...(interpreters.length ? { missingInterpreters: interpreters } : {}) });
  else printResult(result, trim, dir, interpreters);
  return outcome(result.ok, trim);
}

/** The workload's declared ports, as podman publishes them. */
export function containerPorts(ports: Array<number | string>): Array<{ port: number; protocol: 'tcp' | 'udp' }> {
  return ports.map((p) => {
    const [port, protocol] = portSpec(p).split('/');
    return { port: Number(port), protocol: protocol as 'tcp' | 'udp' };
  });
}

/**
 * The workload could not be started (exec failed with ENOENT): name the interpreters its
 * program needs that the image lacks, from what the trim recorded in build.json.
 */
async function interpreterDiagnosis(outDir: string, variant: 'image' | 'vm', output: string, loaded: LoadedConfig): Promise<MissingInterpreter[]> {
  if (!isExecNotFound(output)) return [];
  const record = JSON.parse(await readFile(join(outDir, 'build.json'), 'utf8').catch(() => '{}')) as Partial<Record<'image' | 'vm', { trim?: { missing?: MissingEntry[] } }>>;
  const command = loaded.config.workload.command;
  return missingInterpreters(record[variant]?.trim?.missing ?? [], typeof command === 'string' ? command.split(' ') : (command ?? []));
}

interface TrimDiagnosis {
  trimmed: boolean;
  suspects: TrimSuspect[];
}

/** For a failed check: was the image trimmed, and which dropped files does the output name? */
async function trimDiagnosis(outDir: string, tree: 'image' | 'vm', output: string): Promise<TrimDiagnosis> {
  const text = await readFile(join(outDir, 'trim.json'), 'utf8').catch(() => undefined);
  const explanation = text ? (JSON.parse(text) as Record<string, TrimExplanation | undefined>)[tree] : undefined;
  if (!explanation) return { trimmed: false, suspects: [] };
  return { trimmed: true, suspects: trimSuspects(explanation, output) };
}

function printTrimDiagnosis(trim: TrimDiagnosis | undefined, dir: string, vm: boolean): void {
  if (!trim?.trimmed) return;
  if (trim.suspects.length) return console.log(describeSuspects(trim.suspects).join('\n'));
  console.log(
    `note: the image is trimmed and its output names no dropped file. To tell whether the trim broke it:\n  jeos build ${dir} --no-trim && jeos test ${dir}${vm ? ' --vm' : ''}\n(jeos why /PATH tells why a file was kept or dropped.)`,
  );
}

function printResult(r: ContainerTestResult, trim: TrimDiagnosis | undefined, dir: string, interpreters: MissingInterpreter[]): void {
  const t = r.timings;
  if (r.ok) {
    console.log(`ok: ${r.healthcheck.detail} (ready ${t.ready} ms after start; load ${t.load} ms, runtime ${r.runtime})`);
    return;
  }
  console.log(`FAILED: ${r.healthcheck.detail}`);
  if (r.logs) console.log(`--- the workload's last output ---\n${r.logs}`);
  for (const m of interpreters) console.log(m.message);
  printTrimDiagnosis(trim, dir, false);
}

async function noteStaleImage(digest: string, outDir: string, log: (line: string) => void): Promise<void> {
  const built = JSON.parse(await readFile(join(outDir, 'build.json'), 'utf8').catch(() => '{}')) as { configDigest?: string };
  if (built.configDigest && built.configDigest !== digest) {
    log(`note: the image in ${outDir} was built for a different package selection than jeos.yaml now asks for; run jeos build`);
  }
}

/** jeos test --vm (and jeos build --check for VM images); true when the health check passed. */
export async function testVmCommand(dir: string, loaded: LoadedConfig, outDir: string, flags: TestFlags): Promise<TestOutcome> {
  const log = (line: string) => !flags.json && !flags.quiet && process.stderr.write(`${line}\n`);
  await noteStaleImage(loaded.digest, outDir, log);
  const w = loaded.config.workload;
  const memory = await vmMemoryOf(loaded, outDir);
  if (flags.memory === undefined && !memory.set && memory.memoryMiB !== loaded.config.vm.memory) log(`note: the VM gets ${memory.memoryMiB} MiB (vm.memory unset; ${memory.fit!.why})`);
  const result = await testVm({
    vmDir: join(outDir, 'vm'),
    project: dir,
    memoryMiB: flags.memory ?? memory.memoryMiB,
    cpus: flags.cpus ?? loaded.config.vm.cpus,
    ports: guestPorts(loaded.config),
    healthcheck: w.healthcheck,
    timeoutMs: flags.timeout ? flags.timeout * 1000 : undefined,
    ...(flags.console ? { consoleFile: resolve(flags.console) } : {}),
    accel: flags.accel,
    extraCmdline: flags.append,
    cacheDir: (await resolveSettings()).cacheDir,
    pvh: flags.pvh,
    onEvent: vmProgress(log),
  });
  const trim = result.ok ? undefined : await trimDiagnosis(outDir, 'vm', result.console ?? '');
  const interpreters = result.ok ? [] : await interpreterDiagnosis(outDir, 'vm', result.console ?? '', loaded);
  const hint = result.code === 'E_VM_OUT_OF_MEMORY' ? outOfMemoryHint(memory, result.memoryMiB) : undefined;
  if (flags.print === false) return outcome(result.ok, trim);
  if (flags.json) printJson({ mode: 'vm', ...result, ...(hint ? { hint } : {}), ...(trim ? { trim } : {}), ...(interpreters.length ? { missingInterpreters: interpreters } : {}) });
  else printVmResult(result, trim, dir, interpreters, hint);
  return outcome(result.ok, trim);
}

function printVmResult(r: VmTestResult, trim: TrimDiagnosis | undefined, dir: string, interpreters: MissingInterpreter[], hint?: string): void {
  const t = r.timings;
  const memory = r.memory ? `guest memory used ${r.memory.usedMiB} MiB of ${r.memory.totalMiB}` : 'guest memory not reported';
  const ms = (v: number | null) => (v === null ? '?' : `${v} ms`);
  if (r.ok) {
    console.log(`ok: ${r.healthcheck.detail} — kernel ${ms(t.kernel)}, userspace ${ms(t.userspace)}, ready ${ms(t.ready)}, ${memory} (${r.accel}, ${r.machine}, ${r.cpus} vCPU${r.cpus === 1 ? '' : 's'}, ${r.kernelEntry === 'pvh' ? 'PVH entry' : 'bzImage'})`);
    return;
  }
  console.log(`FAILED${r.code ? `[${r.code}]` : ''}: ${r.failure ?? r.healthcheck.detail} (${r.accel}, ${r.machine}; kernel ${ms(t.kernel)}, userspace ${ms(t.userspace)})`);
  if (r.console) console.log(`--- the console's last lines ---\n${r.console}`);
  if (hint) console.log(`hint: ${hint}`);
  for (const m of interpreters) console.log(m.message);
  printTrimDiagnosis(trim, dir, true);
}
