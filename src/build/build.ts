import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { loadConfig } from '../config/load.js';
import { JeosError, step } from '../errors.js';
import { fetchPackages, type FetchedPackage } from '../fetch/index.js';
import { LOCK_FILE } from '../lock/types.js';
import { lockOutputDir, writeOutputs, type OutputFormat, type OutputResult } from '../outputs/index.js';
import type { BuildRecord } from '../record/index.js';
import { sha256 } from '../util/hash.js';
import { checkDiskTools, diskSpec } from './disk.js';
import { ensureLock } from './ensure-lock.js';
import { sourceDateEpoch } from './epoch.js';
import { imageSpecOf } from './image-spec.js';
import { withFileEnvironment } from './unit-setup.js';
import { recordFiles, recordIn } from './record.js';
import type { BuildEvent, BuildOptions, BuildStep } from './types.js';
import { runVariant, type BuildContext } from './variant.js';
import { imageVariant } from './variants/image.js';
import { vmVariant } from './variants/vm.js';

const SUPPORTED_FORMATS: readonly OutputFormat[] = ['tar', 'oci', 'oci-archive', 'vm', 'disk'];

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
  if (requested.includes('disk') && !configured.includes('disk')) {
    // The lock holds systemd-boot-efi (and the kernel) only when the config asks for a disk image.
    throw new JeosError('E_BUILD_DISK_NOT_CONFIGURED', '--format disk needs disk among the outputs in jeos.yaml', {
      hint: 'add disk to outputs: in jeos.yaml (the lock then includes the kernel, systemd and systemd-boot-efi), then build again',
    });
  }
  return [...new Set(requested)] as OutputFormat[];
}

/**
 * jeos build, as a list of named steps:
 *   config → lock → fetch → each variant's steps (src/build/variants: image for the
 *   container outputs, vm for the vm and disk outputs) → outputs with the record.
 * Each step is named in its errors; nothing under the output directory changes unless
 * every step succeeds.
 */
export async function build(options: BuildOptions): Promise<BuildResult> {
  const emit = options.onEvent ?? (() => {});
  const { settings } = options;
  const timings: Record<string, number> = {};
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
  const config = loaded.config;
  const formats = buildFormats(options.formats ?? config.outputs, config.outputs);
  // The disk image holds the VM variant's tree: it is another output of the vm variant.
  const wantsDisk = formats.includes('disk');
  const wantsVm = formats.includes('vm') || wantsDisk;
  if (wantsDisk) await checkDiskTools(config);
  const outDir = options.outDir ?? join(loaded.dir, 'out');

  // One build at a time in out/, refused in the first second (E_OUTPUT_LOCKED), before any slow work.
  const outLock = await lockOutputDir(outDir);
  try {
    const lock = await run('lock', () => ensureLock(loaded, settings, options.frozen ?? false, emit), (l) => `${l.packages.length} packages`);
    const lockBytes = await readFile(join(loaded.dir, LOCK_FILE));
    const epoch = sourceDateEpoch(lock, settings.sourceDateEpoch);

    const fetched = await run(
      'fetch',
      () =>
        fetchPackages(
          { packages: [...lock.packages, ...(wantsVm ? [...lock.vmPackages!, lock.kernel!] : [])] },
          { cacheDir: settings.cacheDir, mirrors: settings.mirrors, offline: settings.offline, timeouts: settings.timeouts, onEvent: (event) => emit({ kind: 'fetch', event }) },
        ),
      (f) => `${f.filter((p) => p.from === 'download').length} downloaded, ${f.filter((p) => p.from === 'cache').length} cached`,
    );
    const fetchedOf = new Map(fetched.map((f) => [f.pkg, f]));

    const ctx: BuildContext = {
      loaded,
      config,
      lock,
      settings,
      epoch,
      trim: {
        ...config.trim,
        ...(options.trim === false ? { enabled: false } : {}),
        keep: [...config.trim.keep, ...(options.keep ?? [])],
      },
      debOf: (pkg): FetchedPackage => fetchedOf.get(pkg)!,
    };
    const timed = async <T>(name: string, fn: () => Promise<T>): Promise<T> => {
      const t = performance.now();
      const value = await fn();
      timings[name] = Math.round(performance.now() - t);
      return value;
    };
    const image = await timed('image', () => runVariant(imageVariant, ctx, emit));
    const vm = wantsVm ? await timed('vm', () => runVariant(vmVariant, ctx, emit)) : undefined;

    let outputsStarted = 0;
    let record: BuildRecord | undefined;
    const spec = {
      ...withFileEnvironment(imageSpecOf(config, lock), image.environment),
      ...(vm ? { vm: { cmdline: vm.vm!.cmdline, root: config.vm.root } } : {}),
      ...(wantsDisk ? { disk: diskSpec(config, epoch, sha256(lockBytes)) } : {}),
    };
    const outputs = await run(
      'outputs',
      () => {
        outputsStarted = performance.now();
        return writeOutputs(image.tree, spec, formats, {
          outDir,
          sourceDateEpoch: epoch,
          layerCacheDir: join(settings.cacheDir, 'layers'),
          onEvent: (event) => emit({ kind: 'output', event }),
          ...(vm ? { trees: { vm: vm.tree, disk: vm.tree } } : {}),
          extraFiles: (results: OutputResult[]) => {
            // The record is written with the outputs, before they are committed: its outputs and total times stop there.
            timings.outputs = Math.round(performance.now() - outputsStarted);
            timings.total = Math.round(performance.now() - began);
            const files = recordFiles(ctx, { image, ...(vm ? { vm } : {}) }, results, {
              lockDigest: sha256(lockBytes),
              timings: timings as BuildRecord['timings'],
            });
            record = recordIn(files);
            return files;
          },
        });
      },
      (o) => o.map((r) => r.path).join(', '),
    );
    return { record: record!, outDir, outputs };
  } finally {
    await outLock.release();
  }
}
