/**
 * The configure stage: what the packages' maintainer scripts would have done,
 * reproduced declaratively on the image tree by named effect modules, in a
 * fixed order, with a report of every script command and what became of it.
 *
 *   scan scripts → users → filesystem → alternatives → ld-so → ca-certificates
 *   → os-release → machine-id → systemd-units → dpkg-database
 */
import type { ImageTree } from '../tree/index.js';
import type { UnpackedPackage } from '../unpack/types.js';
import { configureAlternatives } from './effects/alternatives.js';
import { configureCaCertificates } from './effects/ca-certificates.js';
import type { EffectContext } from './effects/context.js';
import { captureShippedState, configureDpkgDatabase } from './effects/dpkg-database.js';
import { configureFilesystem } from './effects/filesystem.js';
import { configureLdSo } from './effects/ld-so.js';
import { configureMachineId } from './effects/machine-id.js';
import { configureOsRelease } from './effects/os-release.js';
import { configureSystemdUnits } from './effects/systemd-units.js';
import { configureUsers } from './effects/users.js';
import { scanScripts, scriptReports, sortPackages } from './scripts.js';
import type { ConfigureOptions, ConfigureReport, EffectReport } from './types.js';

export function configureImage(tree: ImageTree, packages: UnpackedPackage[], options: ConfigureOptions): ConfigureReport {
  const sorted = sortPackages(packages);
  const shipped = captureShippedState(tree, sorted);
  const scan = scanScripts(tree, sorted, options.architecture);
  const ctx: EffectContext = { tree, packages: sorted, options, actions: scan.actions };
  const effects: EffectReport[] = [
    configureUsers(ctx),
    configureFilesystem(ctx),
    configureAlternatives(ctx),
    configureLdSo(ctx),
    configureCaCertificates(ctx),
    configureOsRelease(ctx),
    configureMachineId(ctx),
    configureSystemdUnits(ctx),
    configureDpkgDatabase(ctx, shipped),
  ];
  return { effects, scripts: scriptReports(scan) };
}
