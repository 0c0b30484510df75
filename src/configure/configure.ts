/**
 * The configure stage: what the packages' maintainer scripts would have done,
 * reproduced declaratively on the image tree by named effect modules, in a
 * fixed order, with a report of every script command and what became of it.
 *
 *   scan scripts → users → filesystem → alternatives → ld-so → ca-certificates
 *   → os-release → machine-id → systemd-units → dpkg-database
 */
import { JeosError } from '../errors.js';
import type { ImageTree } from '../tree/index.js';
import type { UnpackedPackage } from '../unpack/types.js';
import { configureAlternatives } from './effects/alternatives.js';
import { configureCaCertificates } from './effects/ca-certificates.js';
import type { EffectContext } from './effects/context.js';
import { captureShippedState, configureDpkgDatabase, type ShippedState } from './effects/dpkg-database.js';
import { configureFilesystem } from './effects/filesystem.js';
import { configureLdSo } from './effects/ld-so.js';
import { configureMachineId } from './effects/machine-id.js';
import { configureOsRelease } from './effects/os-release.js';
import { configureSystemdUnits } from './effects/systemd-units.js';
import { configureUsers } from './effects/users.js';
import { scanScripts, scriptReports, sortPackages, unreproducedSteps } from './scripts.js';
import { checkWorkloadSteps, workloadPaths } from './workload-paths.js';
import { firstStartSteps, markUnrunnable } from './first-start.js';
import type { ConfigureOptions, ConfigureReport, EffectReport } from './types.js';

/** The effects, in the order they run; dpkg-database comes last so that it sees the packages as shipped. */
const EFFECTS: Array<[string, (ctx: EffectContext, shipped: ShippedState) => EffectReport]> = [
  ['users', configureUsers],
  ['filesystem', configureFilesystem],
  ['alternatives', configureAlternatives],
  ['ld-so', configureLdSo],
  ['ca-certificates', configureCaCertificates],
  ['os-release', configureOsRelease],
  ['machine-id', configureMachineId],
  ['systemd-units', configureSystemdUnits],
  ['dpkg-database', configureDpkgDatabase],
];

export function configureImage(tree: ImageTree, packages: UnpackedPackage[], options: ConfigureOptions): ConfigureReport {
  const sorted = sortPackages(packages);
  const shipped = captureShippedState(tree, sorted);
  const scan = named('maintainer scripts', () => scanScripts(tree, sorted, options.architecture));
  const ctx: EffectContext = { tree, packages: sorted, options, actions: scan.actions };
  const effects = EFFECTS.map(([name, fn]) => named(name, () => fn(ctx, shipped)));
  const firstStart = firstStartSteps(scan, options.workload?.pre);
  markUnrunnable(scan, firstStart, tree);
  if (options.workload) checkWorkloadSteps(unreproducedSteps(scan), workloadPaths(tree, sorted, options.workload), options.workload);
  const atStart = firstStart.filter((s) => !s.lacks && !s.answered);
  if (atStart.length) {
    effects.push({
      effect: 'first-start',
      changed: atStart.flatMap((s) => s.paths).sort(),
      summary: `${atStart.length} per-instance secret${atStart.length === 1 ? '' : 's'} made at first start, before the workload, not in the image: ${atStart.map((s) => s.from.join('; ')).join(' | ')}`,
    });
  }
  return { effects, scripts: scriptReports(scan), firstStart };
}

/** Run one named part; a JeosError from inside gets the name in front of its message. */
function named<T>(name: string, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof JeosError) throw new JeosError(e.code, `${name}: ${e.message}`, { hint: e.hint, cause: e, details: e.details });
    throw e;
  }
}
