/**
 * A VM runs its workload, not every service its packages would start on a full system.
 * Maintainer scripts enable their packages' units (deb-systemd-helper enable, reproduced by
 * the configure stage): pgbouncer's dependency postgresql-common enables postgresql.service,
 * which started in pgbouncer's VM, failed on a /bin/true the image does not have, and failed
 * the boot. So in a VM with a workload unit, a service, socket, timer or path unit that a
 * package enabled is disabled (its enablement links removed) unless it is the workload's,
 * one the workload's unit or the package unit it stands in for needs (Wants=, Requires=,
 * BindsTo=, Upholds=, followed through those units), or one of the init's own packages
 * (systemd's units are the VM's system).
 * Each is reported with its reason; the units jeos enabled itself stay.
 */
import { findUnit, SYSTEM_UNITS } from '../../configure/index.js';
import type { ImageTree } from '../../tree/index.js';
import { unitEntries } from '../../util/unit-file.js';

/** Packages whose units make up the VM's system rather than a workload's extras: the init itself. */
export const INIT_PACKAGES: RegExp = /^(systemd|systemd-[a-z0-9-]+|udev)$/;

const ENABLED_LINK = /^etc\/systemd\/system\/[^/]+\.(wants|requires|upholds)\/([^/]+\.(service|socket|timer|path))$/;
const NEEDS = new Set(['Wants', 'Requires', 'Requisite', 'BindsTo', 'Upholds']);
const INFO = 'var/lib/dpkg/info';

/** The units the workload's unit needs, followed through their own needs. */
export function neededUnits(tree: ImageTree, workloadUnit: string): Set<string> {
  const needed = new Set<string>([workloadUnit]);
  const queue = [workloadUnit];
  while (queue.length) {
    const unit = queue.shift()!;
    const file = findUnit(tree, unit, SYSTEM_UNITS.paths);
    const text = file ? tree.readFile(file.slice(1))?.toString('utf8') : undefined;
    if (!text) continue;
    for (const [key, value] of unitEntries(text, 'Unit')) {
      if (!NEEDS.has(key)) continue;
      for (const name of value.split(/\s+/).filter(Boolean)) {
        if (needed.has(name)) continue;
        needed.add(name);
        queue.push(name);
      }
    }
  }
  return needed;
}

/** Unit names the init's own packages ship (from their dpkg file lists). */
function initUnits(tree: ImageTree): Set<string> {
  const names = new Set<string>();
  for (const [path, node] of tree.entries()) {
    const m = new RegExp(`^${INFO}/([^/:]+)(?::[a-z0-9]+)?\\.list$`).exec(path);
    if (!m || !INIT_PACKAGES.test(m[1]!) || node.kind !== 'file') continue;
    for (const line of tree.readFile(path)?.toString('utf8').split('\n') ?? []) {
      const unit = /\/systemd\/system\/([^/]+)$/.exec(line);
      if (unit) names.add(unit[1]!);
    }
  }
  return names;
}

/** The package units enabled at boot that the workload does not need: their links go, each reported. */
export function disableStrayUnits(tree: ImageTree, workloadUnit: string, report: { enabled: string[]; disabled: Array<{ unit: string; reason: string }> }): void {
  // What the workload needs: its unit's needs, and those of the package units it stands in for (disabled as duplicates before).
  const needed = neededUnits(tree, workloadUnit);
  for (const d of report.disabled) for (const u of neededUnits(tree, d.unit)) needed.add(u);
  const system = initUnits(tree);
  const stray: string[] = [];
  for (const [path, node] of tree.entries()) {
    const m = ENABLED_LINK.exec(path);
    if (!m || node.kind !== 'symlink') continue;
    const unit = m[2]!;
    // An instance (getty@tty1.service) is the template's (getty@.service) for whom ships it.
    const template = unit.replace(/@[^.]+\./, '@.');
    if (needed.has(unit) || report.enabled.includes(unit) || system.has(unit) || system.has(template)) continue;
    stray.push(path);
  }
  for (const path of stray) {
    tree.remove(path);
    const unit = path.slice(path.lastIndexOf('/') + 1);
    if (report.disabled.some((d) => d.unit === unit)) continue;
    report.disabled.push({ unit, reason: `a package enabled it, and the VM starts only the workload's ${workloadUnit} and the units it needs (Wants=, Requires=)` });
  }
}
