import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { sha256 } from '../archive/cache.js';
import { openArchive } from '../archive/open.js';
import { discoverMirrors } from '../archive/mirrors.js';
import { loadConfig, type LoadedConfig } from '../config/load.js';
import type { VmInit } from '../config/schema.js';
import { configureImage } from '../configure/index.js';
import { JeosError, step } from '../errors.js';
import { fetchPackages } from '../fetch/index.js';
import { createLock, lockStatus, readLock, writeLock } from '../lock/lock.js';
import { resolveLock } from '../lock/request.js';
import { LOCK_FILE, type Lock, type LockedPackage } from '../lock/types.js';
import { writeOutputs, type OutputFormat, type OutputResult } from '../outputs/index.js';
import { ImageTree } from '../tree/index.js';
import { unpackPackages, type UnpackedPackage } from '../unpack/index.js';
import { ensureTmp } from '../util/tmp-dir.js';
import { VERSION } from '../version.js';
import { sourceDateEpoch } from './epoch.js';
import { imageSpecOf } from './image-spec.js';
import { treeStats } from './tree-stats.js';
import type { BuildEvent, BuildOptions, BuildRecord, BuildStep } from './types.js';
import { trimImage, type TrimOptions, type TrimResult } from '../trim/index.js';
import { argv } from '../boot/health.js';
import { excludeDocumentation } from '../vm/index.js';
import { makeVmImage } from './vm-image.js';
import { addWorkloadFiles } from './workload-files.js';

const SUPPORTED_FORMATS: readonly OutputFormat[] = ['tar', 'oci', 'oci-archive', 'vm'];

export interface BuildResult {
  record: BuildRecord;
  outDir: string;
  outputs: OutputResult[];
}

/** The formats to write: --format, else the config's outputs. Disk images come with their own stage. */
export function buildFormats(requested: string[], configured: readonly string[] = requested): OutputFormat[] {
  const unsupported = requested.filter((f) => !SUPPORTED_FORMATS.includes(f as OutputFormat));
  if (unsupported.length) {
    throw new JeosError('E_BUILD_FORMAT_UNSUPPORTED', `this jeos cannot write ${unsupported.join(', ')} images yet`, {
      hint: `choose from ${SUPPORTED_FORMATS.join(', ')} (--format, or outputs: in jeos.yaml)`,
    });
  }
  if (requested.includes('vm') && !configured.includes('vm')) {
    // The lock holds the kernel and systemd only when the config asks for a VM.
    throw new JeosError('E_BUILD_VM_NOT_CONFIGURED', '--format vm needs vm among the outputs in jeos.yaml', {
      hint: 'add vm to outputs: in jeos.yaml (the lock then includes the kernel and systemd), then build again',
    });
  }
  return [...new Set(requested)] as OutputFormat[];
}

/**
 * jeos build: lock (when needed) → fetch → unpack → configure → workload files →
 * vm (kernel and boot setup, for VM images) → outputs. Each step is named in its errors; nothing under the output directory
 * changes unless every step succeeds.
 */
export async function build(options: BuildOptions): Promise<BuildResult> {
  const emit = options.onEvent ?? (() => {});
  const timings = {} as Record<BuildStep | 'total', number>;
  const began = performance.now();
  const run = async <T>(name: BuildStep, fn: () => Promise<T>, detail: (value: T) => string): Promise<T> => {
    emit({ kind: 'step', step: name, state: 'start' });
    const t = performance.now();
    const value = await step(name, fn);
    timings[name] = Math.round(performance.now() - t);
    emit({ kind: 'step', step: name, state: 'done', ms: timings[name], detail: detail(value) });
    return value;
  };

  const loaded = await run('config', () => loadConfig(options.dir), (l) => l.path);
  const formats = buildFormats(options.formats ?? loaded.config.outputs, loaded.config.outputs);
  const wantsVm = formats.includes('vm');
  const outDir = options.outDir ?? join(loaded.dir, 'out');

  const lock = await run('lock', () => ensureLock(loaded, options, emit), (l) => `${l.packages.length} packages`);
  const lockBytes = await readFile(join(loaded.dir, LOCK_FILE));
  const epoch = sourceDateEpoch(lock, options.env);

  const mirrors = await discoverMirrors({ env: options.env, config: options.archive.debian ?? loaded.config.debian });
  // lockStatus makes a lock without them stale when the config asks for a VM (and buildFormats refuses vm otherwise).
  const vmPackages = wantsVm ? [...lock.vmPackages!, lock.kernel!] : [];
  const fetched = await run(
    'fetch',
    () =>
      fetchPackages({ packages: [...lock.packages, ...vmPackages] }, {
        cacheDir: options.cacheDir,
        mirrors,
        offline: options.offline,
        onEvent: (event) => emit({ kind: 'fetch', event }),
      }),
    (f) => `${f.filter((p) => p.from === 'download').length} downloaded, ${f.filter((p) => p.from === 'cache').length} cached`,
  );
  const fetchedOf = new Map(fetched.map((f) => [f.pkg, f]));

  // The container image's tree; a VM image gets a tree of its own (its packages, kernel and boot setup).
  const architecture = loaded.config.debian.architecture;
  const unpackInto = async (into: ImageTree, packages: LockedPackage[]) => {
    const debs = await Promise.all(
      packages.map(async (p) => ({ label: `${p.name}_${p.version}_${p.architecture}`, bytes: await readFile(fetchedOf.get(p)!.path) })),
    );
    return unpackPackages(into, debs, { architecture, cacheDir: options.cacheDir });
  };
  const codename = lock.suites.find((s) => !s.suite.includes('-'))?.codename ?? undefined;
  const configureTree = (into: ImageTree, packages: UnpackedPackage[]) =>
    configureImage(into, packages, {
      architecture,
      sourceDateEpoch: epoch,
      workloadUser: loaded.config.workload.user.split(':')[0],
      referencedUsers: loaded.config.workload.files.map((f) => f.owner.split(':')[0]!),
      referencedGroups: loaded.config.workload.files.flatMap((f) => f.owner.split(':').slice(1)),
      os: { codename, versionId: VERSION_IDS[codename ?? ''], imageId: loaded.config.name, imageVersion: lock.configDigest.slice(0, 12) },
    });
  const addFiles = (into: ImageTree) => addWorkloadFiles(into, loaded.config.workload.files, loaded.dir, epoch);

  const tree = new ImageTree();
  const unpacked = await run('unpack', () => unpackInto(tree, lock.packages), (u) => `${u.packages.length} packages, ${tree.size} entries`);
  const report = await run(
    'configure',
    async () => {
      const configured = configureTree(tree, unpacked.packages);
      // The VM's system setup makes its own /tmp (setupVmSystem), recorded in build.json's vm.system.
      if (ensureTmp(tree, epoch)) configured.effects.push({ effect: 'tmp', changed: ['/tmp'], summary: 'made /tmp (1777, root): no package in the image ships it (base-files does)' });
      return configured;
    },
    (r) => `${r.effects.length} effects, ${r.scripts.filter((s) => s.notReproduced.length).length} scripts not reproduced`,
  );
  await run('workload', () => addFiles(tree), (added) => `${added.length} files added`);

  const w = loaded.config.workload;
  const trimSettings = {
    ...loaded.config.trim,
    ...(options.trim === false ? { enabled: false } : {}),
    keep: [...loaded.config.trim.keep, ...(options.keep ?? [])],
  };
  // A VM's trim also starts from its init: systemd's enabled units, or BusyBox behind /init.
  const trimOptions = (vmInit?: VmInit): TrimOptions => ({
    architecture,
    settings: trimSettings,
    requested: w.packages,
    roots: [
      ...(w.command ? [{ why: 'command' as const, argv: argv(w.command) }] : []),
      ...(w.healthcheck?.command ? [{ why: 'healthcheck' as const, argv: argv(w.healthcheck.command) }] : []),
      ...(vmInit === 'busybox' ? [{ why: 'unit' as const, argv: ['/init'] }] : []),
    ],
    ...(w.env.PATH ? { path: w.env.PATH } : {}),
    units: vmInit === 'systemd',
  });
  const trimmed = trimSettings.enabled
    ? await run('trim', async () => trimImage(tree, unpacked.packages, trimOptions(), epoch), trimSummary)
    : undefined;

  const vm = wantsVm
    ? await run(
        'vm',
        async () => {
          const vmTree = new ImageTree();
          const vmUnpacked = await unpackInto(vmTree, [...lock.packages, ...lock.vmPackages!]);
          const vmReport = configureTree(vmTree, vmUnpacked.packages);
          // Untrimmed, a VM still leaves out documentation: in RAM for the machine's life, it is never read.
          const excluded = trimSettings.enabled ? undefined : excludeDocumentation(vmTree); // before the workload's files, which always stay
          await addFiles(vmTree);
          return makeVmImage(vmTree, { configured: vmReport, excluded }, fetchedOf.get(lock.kernel!)!, loaded.config, {
            sourceDateEpoch: epoch,
            cacheDir: options.cacheDir,
            ...(trimSettings.enabled ? { trim: (t: ImageTree) => trimImage(t, vmUnpacked.packages, trimOptions(loaded.config.vm.init), epoch) } : {}),
          });
        },
        (v) => `${lock.vmPackages!.length} more packages, kernel ${v.record.kernel.release}, ${v.record.modules.kept.length} modules kept (${v.record.modules.droppedFiles} dropped)`,
      )
    : undefined;

  let outputsStarted = 0;
  const image = {
    ...imageSpecOf(loaded.config, { 'org.opencontainers.image.version': lock.configDigest.slice(0, 12) }),
    ...(vm ? { vm: { cmdline: vm.cmdline, root: loaded.config.vm.root } } : {}),
  };
  const outputs = await run(
    'outputs',
    () => {
      outputsStarted = performance.now();
      return writeOutputs(tree, image, formats, {
        outDir,
        sourceDateEpoch: epoch,
        layerCacheDir: join(options.cacheDir, 'layers'),
        onEvent: (event) => emit({ kind: 'output', event }),
        ...(vm ? { trees: { vm: vm.tree } } : {}),
        extraFiles: (results: OutputResult[]) => [
          { path: 'build.json', data: JSON.stringify(recordOf(results), null, 2) + '\n' },
          ...(trimmed || vm?.trim ? [{ path: 'trim.json', data: JSON.stringify({ image: trimmed?.explanation, vm: vm?.trim?.explanation }, null, 1) + '\n' }] : []),
        ],
      });
    },
    (o) => o.map((r) => r.path).join(', '),
  );

  function recordOf(results: OutputResult[]): BuildRecord {
    // build.json is written with the outputs, before they are committed: its outputs and
    // total times stop there.
    timings.outputs ??= Math.round(performance.now() - outputsStarted);
    timings.total = Math.round(performance.now() - began);
    return {
      buildVersion: 1,
      jeos: VERSION,
      name: loaded.config.name,
      configDigest: lock.configDigest,
      lockDigest: sha256(lockBytes),
      sourceDateEpoch: epoch,
      architecture: lock.architecture,
      packages: lock.packages.map((p) => ({ name: p.name, version: p.version, architecture: p.architecture, sha256: p.sha256 })),
      tree: treeStats(tree),
      outputs: results.map((r) => ({ format: r.format, path: r.path, files: r.files, ...(r.image ? { image: r.image } : {}), ...(r.vm ? { vm: r.vm } : {}) })),
      notReproduced: report.scripts
        .filter((s) => s.notReproduced.length)
        .map((s) => ({ pkg: s.pkg, script: s.script, commands: s.notReproduced })),
      configure: report.effects,
      ...(trimmed ? { trim: trimmed.record } : {}),
      ...(vm ? { vm: vm.record } : {}),
      timings,
    };
  }
  timings.total = Math.round(performance.now() - began);
  return { record: recordOf(outputs), outDir, outputs };
}

function trimSummary(t: TrimResult): string {
  const mib = (n: number) => `${(n / 1048576).toFixed(1)} MiB`;
  return `${t.record.kept.files} files kept (${mib(t.record.kept.bytes)}), ${t.record.dropped.files} dropped (${mib(t.record.dropped.bytes)})`;
}

/** Debian release names to os-release VERSION_ID. */
const VERSION_IDS: Record<string, string> = { bookworm: '12', trixie: '13', forky: '14' };

async function ensureLock(loaded: LoadedConfig, options: BuildOptions, emit: (e: BuildEvent) => void): Promise<Lock> {
  const status = await lockStatus(loaded);
  if (status.state === 'fresh') {
    emit({ kind: 'lock', state: 'fresh' });
    return status.lock;
  }
  const reason = status.state === 'missing' ? `${LOCK_FILE} does not exist` : status.reason;
  if (options.frozen) {
    throw new JeosError('E_BUILD_LOCK_STALE', reason, { hint: 'run `jeos lock` and commit jeos.lock, or build without --frozen' });
  }
  const index = await openArchive({ ...options.archive, debian: options.archive.debian ?? loaded.config.debian, cacheDir: options.cacheDir, offline: options.offline });
  await writeLock(loaded.dir, createLock(loaded, index, resolveLock(index, loaded.config)));
  emit({ kind: 'lock', state: 'written', reason });
  const lock = await readLock(loaded.dir);
  if (!lock) throw new JeosError('E_BUILD_LOCK', `${LOCK_FILE} could not be read back after writing it`);
  return lock;
}
