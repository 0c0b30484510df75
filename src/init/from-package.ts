/**
 * `jeos init --from PACKAGE`: the workload's command comes from the package
 * itself. Its .deb (and those of its dependencies built from the same source,
 * where Debian often puts the systemd unit: nginx → nginx-common) is fetched
 * through the verified package cache and unpacked in memory; the command is the
 * ExecStart= of the package's service unit, else its one program in
 * /usr/sbin or /usr/bin.
 */
import { readFile } from 'node:fs/promises';
import { candidateOf, providersOf, searchPackages } from '../archive/candidates.js';
import type { PackageRecord } from '../archive/packages.js';
import { parseRelations } from '../archive/relations.js';
import { SYSTEM_UNITS } from '../configure/index.js';
import { JeosError } from '../errors.js';
import { fetchPackages } from '../fetch/index.js';
import { lockedPackageOf } from '../lock/lock.js';
import { ImageTree } from '../tree/index.js';
import { unpackPackages, type UnpackedPackage } from '../unpack/index.js';
import type { InitContext } from './types.js';
import { KNOWN_PROGRAMS, knownProgram } from './known.js';
import { parseService, type ServiceSection } from './unit.js';
import type { Program } from './workload.js';

export interface PackageProgram {
  record: PackageRecord;
  /** Why this package (when the name was virtual). */
  why: string;
  program?: Program;
  /** Why there is no program, or what to know about the one found. */
  notes: string[];
}

/** The archive package a name stands for: the package itself, or the one package that Provides it. */
export function findPackage(ctx: InitContext, name: string): { record: PackageRecord; why: string } | undefined {
  const record = candidateOf(ctx.index, name);
  if (record) return { record, why: `package ${name} ${record.version} (${record.suite})` };
  const providers = providersOf(ctx.index, name);
  if (providers.length === 1) {
    const p = providers[0]!;
    return { record: p, why: `${name} is a virtual package; ${p.name} ${p.version} (${p.suite}) is the one that provides it` };
  }
  if (providers.length > 1) {
    throw new JeosError('E_INIT_AMBIGUOUS', `${name} is a virtual package that ${providers.length} packages provide: ${providers.map((p) => p.name).join(', ')}`, {
      hint: `choose one: jeos init DIR --from ${providers[0]!.name}`,
    });
  }
  return undefined;
}

export function noSuchPackage(ctx: InitContext, name: string): JeosError {
  const similar = searchPackages(ctx.index, name).slice(0, 5).map((p) => p.name);
  return new JeosError('E_INIT_NO_PACKAGE', `there is no package ${name} in ${ctx.index.suites.map((s) => s.suite).join(', ')}, and no ${name} on the PATH`, {
    hint: similar.length ? `did you mean ${similar.join(', ')}? (jeos search ${name})` : `look for it with jeos search ${name}`,
  });
}

const sourceOf = (r: PackageRecord) => (r.source ?? r.name).split(' ')[0];

export async function programOfPackage(ctx: InitContext, record: PackageRecord, why: string): Promise<PackageProgram> {
  const group = [record, ...sameSourceDependencies(ctx, record)];
  const unpacked = await unpackGroup(ctx, group);
  const tree = unpacked.tree;
  const notes: string[] = [];

  // A service unit whose ExecStart= runs a program these packages ship.
  for (const pkg of unpacked.packages) {
    for (const unit of unitsOf(pkg, record.name)) {
      const service = parseService(tree.readFile(unit.slice(1))?.toString('utf8') ?? '');
      const path = service.execStart?.[0];
      if (!path || !tree.stat(path.slice(1))) continue;
      const name = unit.slice(unit.lastIndexOf('/') + 1);
      const known = knownShipped(tree, unpacked.packages);
      if (!knownProgram(path, service.execStart!.slice(1)) && known) {
        const from = `${known}: ExecStart= of ${name} runs ${path} (a wrapper), and jeos's table of known programs knows how to run ${known} directly`;
        return { record, why, program: { path: known, args: [], from, userArgs: false }, notes };
      }
      if (service.dropped.length) notes.push(`${name}'s ExecStart= expands ${service.dropped.join(' ')} (set in /etc/default or the unit's Environment=), left out`);
      return { record, why, program: unitProgram(service, name, pkg.name), notes };
    }
  }
  // Else the package's own program: the one named like the package, or its only one.
  const own = unpacked.packages.find((p) => p.name === record.name)!;
  const programs = own.paths.filter((p) => /^\/(usr\/)?s?bin\/[^/]+$/.test(p) && tree.stat(p.slice(1))?.kind === 'file');
  const named = programs.find((p) => p.endsWith(`/${record.name}`));
  const chosen = named ?? (programs.length === 1 ? programs[0] : undefined);
  if (chosen) {
    const from = named ? `the program named like the package, ${chosen}` : `the package's only program, ${chosen}`;
    return { record, why, program: { path: chosen, args: [], from, userArgs: false }, notes };
  }
  notes.push(
    programs.length
      ? `no command: ${record.name} has no service unit and ${programs.length} programs (${programs.slice(0, 6).join(', ')}${programs.length > 6 ? ', …' : ''}); set workload.command`
      : `no command: ${record.name} has no service unit and no program in /usr/bin or /usr/sbin; set workload.command`,
  );
  return { record, why, notes };
}

/** A program of the table of known programs that these packages ship in /usr/sbin or /usr/bin. */
function knownShipped(tree: ImageTree, packages: UnpackedPackage[]): string | undefined {
  const names = new Set(KNOWN_PROGRAMS.filter((k) => !k.argsStart).map((k) => k.program));
  for (const pkg of packages) {
    const hit = pkg.paths.find((p) => /^\/usr\/s?bin\/[^/]+$/.test(p) && names.has(p.slice(p.lastIndexOf('/') + 1)) && tree.stat(p.slice(1)));
    if (hit) return hit;
  }
  return undefined;
}

function unitProgram(service: ServiceSection, unit: string, pkg: string): Program {
  const [path, ...args] = service.execStart!;
  return { path: path!, args, from: `ExecStart= of ${unit} (package ${pkg})`, userArgs: false, user: service.user, forking: service.type === 'forking' };
}

/** Service units a package ships, `NAME.service` first, templates (`x@.service`) left out. */
function unitsOf(pkg: UnpackedPackage, name: string): string[] {
  const dirs = SYSTEM_UNITS.paths.map((d) => `/${d}/`);
  const units = pkg.paths.filter((p) => dirs.some((d) => p.startsWith(d) && !p.slice(d.length).includes('/')) && p.endsWith('.service') && !p.includes('@'));
  const rank = (p: string) => (p.endsWith(`/${name}.service`) ? 0 : p.endsWith(`/${pkg.name}.service`) ? 1 : 2);
  return units.sort((a, b) => rank(a) - rank(b) || (a < b ? -1 : 1));
}

/** Direct dependencies built from the same source package (nginx → nginx-common), at most a few. */
function sameSourceDependencies(ctx: InitContext, record: PackageRecord): PackageRecord[] {
  const source = sourceOf(record);
  const out: PackageRecord[] = [];
  for (const alternatives of parseRelations([record.preDepends, record.depends].filter(Boolean).join(', '))) {
    const dep = candidateOf(ctx.index, alternatives[0]!.name);
    if (dep && dep.name !== record.name && sourceOf(dep) === source && !out.includes(dep)) out.push(dep);
  }
  return out.slice(0, 4);
}

async function unpackGroup(ctx: InitContext, group: PackageRecord[]): Promise<{ tree: ImageTree; packages: UnpackedPackage[] }> {
  const locked = group.map((r) => lockedPackageOf(r));
  const mirrorOf = (suite: string) => ctx.index.suites.find((s) => s.suite === suite)!.mirror;
  ctx.onProgress?.(`reading ${group.map((r) => `${r.name} ${r.version}`).join(', ')} to find the workload's command`);
  const fetched = await fetchPackages({ packages: locked }, { cacheDir: ctx.cacheDir, mirrors: mirrorOf, offline: ctx.offline });
  const debs = await Promise.all(fetched.map(async (f) => ({ label: `${f.pkg.name}_${f.pkg.version}_${f.pkg.architecture}`, bytes: await readFile(f.path) })));
  const tree = new ImageTree();
  const { packages } = await unpackPackages(tree, debs, { architecture: ctx.index.architecture, cacheDir: ctx.cacheDir });
  // The requested package first, then its companions in dependency order.
  packages.sort((a, b) => group.findIndex((r) => r.name === a.name) - group.findIndex((r) => r.name === b.name));
  return { tree, packages };
}
