/** The steps every variant shares, in the order variants list them. */
import { readFile } from 'node:fs/promises';
import type { VmInit } from '../config/schema.js';
import { configureImage } from '../configure/index.js';
import { trimImage, type TrimOptions } from '../trim/index.js';
import { unpackPackages } from '../unpack/index.js';
import { argv } from '../util/argv.js';
import type { Lock, LockedPackage } from '../lock/types.js';
import type { BuildContext, Step } from './variant.js';
import { imageVersion } from './disk.js';
import { addWorkloadFiles } from './workload-files.js';
import { addFirstStartSteps, preSteps, START_SCRIPT } from './first-start.js';

const mib = (n: number) => `${(n / 1048576).toFixed(1)} MiB`;

/** Debian release names to os-release VERSION_ID. */
const VERSION_IDS: Record<string, string> = { bookworm: '12', trixie: '13', forky: '14' };

/** Unpack the variant's locked packages into its empty tree. */
export function unpackStep(packages: (lock: Lock) => LockedPackage[]): Step {
  return {
    name: 'unpack',
    async run(ctx, state) {
      const debs = await Promise.all(
        packages(ctx.lock).map(async (p) => ({ label: `${p.name}_${p.version}_${p.architecture}`, bytes: await readFile(ctx.debOf(p).path) })),
      );
      const { allowDevices, maxPackageMiB } = ctx.config.unpack;
      const unpacked = await unpackPackages(state.tree, debs, { architecture: ctx.lock.architecture, cacheDir: ctx.settings.cacheDir, allowDevices, maxPackageMiB });
      state.packages = unpacked.packages;
      return `${unpacked.packages.length} packages, ${state.tree.size} entries`;
    },
  };
}

/** Reproduce what the maintainer scripts would have done (users, alternatives, caches, units, dpkg database). */
export const configureStep: Step = {
  name: 'configure',
  async run(ctx, state) {
    const w = ctx.config.workload;
    const codename = ctx.lock.suites.find((s) => !s.suite.includes('-'))?.codename ?? undefined;
    const report = configureImage(state.tree, state.packages, {
      architecture: ctx.lock.architecture,
      sourceDateEpoch: ctx.epoch,
      workloadUser: w.user.split(':')[0],
      referencedUsers: w.files.map((f) => f.owner.split(':')[0]!),
      referencedGroups: w.files.flatMap((f) => f.owner.split(':').slice(1)),
      workload: { command: w.command ? argv(w.command) : [], pre: w.pre.map(argv), packages: w.packages.map((p) => p.split(/[=/]/)[0]!), files: w.files.map((f) => f.path) },
      os: { codename, versionId: VERSION_IDS[codename ?? ''], imageId: ctx.config.name, imageVersion: imageVersion(ctx.config, ctx.epoch) },
    });
    state.configured = report;
    const atStart = addFirstStartSteps(ctx, report.firstStart);
    return `${report.effects.length} effects, ${report.scripts.filter((s) => s.notReproduced.length).length} scripts not reproduced${atStart ? `, ${atStart} per-instance steps at first start` : ''}`;
  },
};

/** jeos.yaml's workload.files, with owners from the image's own accounts. */
export const workloadStep: Step = {
  name: 'workload',
  async run(ctx, state) {
    state.workloadFiles = await addWorkloadFiles(state.tree, ctx.config.workload.files, ctx.loaded.dir, ctx.epoch);
    return `${state.workloadFiles.length} files added`;
  },
};

/**
 * The file-level trim. Its entry points are the workload's command and health check,
 * and for a VM its init: systemd's enabled units, or BusyBox behind /init.
 */
export function trimStep(init?: (ctx: BuildContext) => VmInit): Step {
  return {
    name: 'trim',
    when: (ctx) => ctx.trim.enabled,
    async run(ctx, state) {
      const options = trimOptions(ctx, init?.(ctx));
      // The programs of the per-instance steps the configure stage left to the first start.
      for (const s of state.configured?.firstStart ?? []) if (!s.lacks) for (const p of s.programs) options.roots.push({ why: 'command', argv: [p] });
      const result = trimImage(state.tree, state.packages, options, ctx.epoch);
      state.trim = result;
      const t = result.record;
      return `${t.kept.files} files kept (${mib(t.kept.bytes)}), ${t.dropped.files} dropped (${mib(t.dropped.bytes)})`;
    },
  };
}

function trimOptions(ctx: BuildContext, vmInit: VmInit | undefined): TrimOptions {
  const w = ctx.config.workload;
  return {
    architecture: ctx.lock.architecture,
    settings: ctx.trim,
    requested: w.packages,
    roots: [
      ...(w.command ? [{ why: 'command' as const, argv: argv(w.command) }] : []),
      ...(w.healthcheck?.command ? [{ why: 'healthcheck' as const, argv: argv(w.healthcheck.command) }] : []),
      // workload.pre's programs, and in the container the script that runs them.
      ...(w.command ? preSteps(w.pre).map((p) => ({ why: 'command' as const, argv: p.argv })) : []),
      ...(w.command && w.pre.length && !vmInit ? [{ why: 'command' as const, argv: [START_SCRIPT] }] : []),
      ...(vmInit === 'busybox' ? [{ why: 'unit' as const, argv: ['/init'] }] : []),
    ],
    ...(w.env.PATH ? { path: w.env.PATH } : {}),
    units: vmInit === 'systemd',
  };
}
