/**
 * A build variant is one tree made by one ordered list of named steps: the container
 * image's, the VM's. Variants share steps (unpack, configure, workload, trim) and add
 * their own (the VM's kernel and boot setup); a new output that needs the same tree
 * (a disk image holds the VM's) reuses a variant instead of adding one.
 */
import type { Config, LoadedConfig } from '../config/index.js';
import type { ConfigureReport } from '../configure/index.js';
import { step } from '../errors.js';
import type { FetchedPackage } from '../fetch/index.js';
import type { Lock, LockedPackage } from '../lock/types.js';
import type { VariantName, VmRecord } from '../record/index.js';
import type { Settings } from '../settings/index.js';
import { ImageTree } from '../tree/index.js';
import type { TrimResult, TrimSettings } from '../trim/index.js';
import type { UnpackedPackage } from '../unpack/index.js';
import type { BuildEvent } from './types.js';

/** What every step of every variant may read: the build's inputs, decided before the variants run. */
export interface BuildContext {
  loaded: LoadedConfig;
  config: Config;
  lock: Lock;
  settings: Settings;
  /** SOURCE_DATE_EPOCH of every output. */
  epoch: number;
  /** The trim settings of this build (jeos.yaml's, with --no-trim and extra keeps applied). */
  trim: TrimSettings;
  /** The verified .deb of a locked package. */
  debOf(pkg: LockedPackage): FetchedPackage;
}

/** One variant's tree and what its steps found out about it, filled in step by step. */
export interface VariantState {
  readonly name: VariantName;
  readonly tree: ImageTree;
  packages: UnpackedPackage[];
  configured?: ConfigureReport;
  /** Absolute paths jeos.yaml's workload.files were written to. */
  workloadFiles: string[];
  trim?: TrimResult;
  /** VM variant: its kernel, modules, boot setup and command line. */
  vm?: VmParts;
  /** Untrimmed VM: documentation left out of the tree. */
  excluded?: VmRecord['excluded'];
  timings: Record<string, number>;
  /** Image variant: the variables of workload.environmentFiles, read from the image (unit-setup.ts). */
  environment?: Record<string, string>;
}

export interface VmParts {
  kernel: VmRecord['kernel'];
  modules: VmRecord['modules'];
  /** Where the kernel's modules are in the tree (`usr/lib/modules/<release>`): files of the kernel package, outside dpkg's database. */
  modulesDir: string;
  /** Modules the image asks for (vm.modules and what the boot needs), loaded at boot. */
  wanted: string[];
  /** Set by the system step. */
  system?: VmRecord['system'];
  cmdline: string;
}

export interface Step {
  name: string;
  /** Whether the step runs in this build (default: always). */
  when?(ctx: BuildContext): boolean;
  /** Do the step's work on the variant's state; returns the one-line summary progress shows. */
  run(ctx: BuildContext, state: VariantState): Promise<string>;
}

export interface Variant {
  name: VariantName;
  steps: readonly Step[];
}

/**
 * Run a variant's steps in order on a new tree. Each step's errors carry its name (and
 * the variant's, but for the image's), and its time goes into the state and an event.
 */
export async function runVariant(variant: Variant, ctx: BuildContext, emit: (e: BuildEvent) => void): Promise<VariantState> {
  const state: VariantState = { name: variant.name, tree: new ImageTree(), packages: [], workloadFiles: [], timings: {} };
  const run = async () => {
    for (const s of variant.steps) {
      if (s.when && !s.when(ctx)) continue;
      emit({ kind: 'step', variant: variant.name, step: s.name, state: 'start' });
      const began = performance.now();
      const detail = await step(s.name, () => s.run(ctx, state));
      const ms = Math.round(performance.now() - began);
      state.timings[s.name] = ms;
      emit({ kind: 'step', variant: variant.name, step: s.name, state: 'done', ms, detail });
    }
  };
  if (variant.name === 'image') await run();
  else await step(variant.name, run);
  return state;
}
