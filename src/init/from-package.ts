/**
 * `jeos init --from PACKAGE`: the workload's command comes from the package
 * itself. Its .deb (and those of its dependencies built from the same source,
 * where Debian often puts the systemd unit: nginx → nginx-common) is fetched
 * through the verified package cache, unpacked in memory and configured (for the
 * alternatives links); the command is the ExecStart= of the service unit that runs
 * one of its programs (units.ts), else its one program in /usr/sbin or /usr/bin.
 */
import { readFile } from 'node:fs/promises';
import { candidateOf, providersOf, searchPackages } from '../archive/candidates.js';
import type { PackageRecord } from '../archive/packages.js';
import { parseRelations } from '../archive/relations.js';
import { configureImage } from '../configure/index.js';
import { JeosError } from '../errors.js';
import { fetchPackages } from '../fetch/index.js';
import { lockedPackageOf } from '../lock/lock.js';
import { ImageTree } from '../tree/index.js';
import { unpackPackages, type UnpackedPackage } from '../unpack/index.js';
import type { InitContext } from './types.js';
import { portFromConfig } from './config-ports.js';
import { canonicalUsr } from './host-fs.js';
import { KNOWN_PROGRAMS, knownProgram } from './known.js';
import { generatorsNamed } from './generators.js';
import type { FirstStartStep } from '../configure/index.js';
import { interpreterNeed } from './shell.js';
import { unitSettings } from './unit-settings.js';
import { realProgram, serviceCandidates, throughAlternatives, type UnitCandidate } from './units.js';
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
  const configured = configureForInit(ctx, tree, unpacked.packages);
  if (configured.note) notes.push(configured.note);
  const program = (p: Program): Program => withFirstStart(p, configured.firstStart);

  // The service unit that runs a program these packages ship (units.ts says which).
  const unit = serviceCandidates(tree, unpacked.packages, record.name)[0];
  if (unit) {
    const known = knownShipped(tree, unpacked.packages);
    if (unit.real && !knownProgram(unit.real, unit.expanded.argv.slice(1)) && known && !unit.runsOwn) {
      const from = `${known}: ExecStart= of ${unit.name} runs ${unit.program} (a wrapper), and jeos's table of known programs knows how to run ${known} directly`;
      return { record, why, program: program(withFacts(tree, { path: known, args: [], from, userArgs: false })), notes };
    }
    return { record, why, program: program(withPre(unitProgram(tree, unit), unit, unpacked.packages, tree, notes)), notes };
  }
  // Else the package's own program: the one named like the package, or its only one.
  const own = unpacked.packages.find((p) => p.name === record.name)!;
  const programs = own.paths.filter((p) => /^\/(usr\/)?s?bin\/[^/]+$/.test(p) && realProgram(tree, p));
  const named = programs.find((p) => p.endsWith(`/${record.name}`));
  const chosen = named ?? (programs.length === 1 ? programs[0] : undefined);
  if (chosen) {
    const from = named ? `the program named like the package, ${chosen}` : `the package's only program, ${chosen}`;
    // No unit: the generators its scripts run are still steps before the command (postfix's main.cf).
    return { record, why, program: program(withPre(withFacts(tree, { path: chosen, args: [], from, userArgs: false }), { pre: [], name: '' }, unpacked.packages, tree, notes)), notes };
  }
  notes.push(
    programs.length
      ? `no command: ${record.name} has no service unit and ${programs.length} programs (${programs.slice(0, 6).join(', ')}${programs.length > 6 ? ', …' : ''}); set workload.command`
      : `no command: ${record.name} has no service unit and no program in /usr/bin or /usr/sbin; set workload.command`,
  );
  return { record, why, notes };
}

/**
 * The configure stage on the packages read, for the links their maintainer scripts would make:
 * update-alternatives' (/usr/bin/x → /etc/alternatives/x → the real program), and the per-instance
 * secrets they make, which the build runs at first start. What else it does is not used. A failure
 * leaves the tree as unpacked, with a note.
 */
function configureForInit(ctx: InitContext, tree: ImageTree, packages: UnpackedPackage[]): { note?: string; firstStart: FirstStartStep[] } {
  try {
    const report = configureImage(tree, packages, { architecture: ctx.index.architecture, sourceDateEpoch: 0, os: { imageId: 'init', imageVersion: '0' } });
    return { firstStart: report.firstStart };
  } catch (e) {
    return { note: `the packages' alternatives links could not be made (${(e as Error).message}); a command through /etc/alternatives is not followed`, firstStart: [] };
  }
}

/** The packages the first-start steps of the packages' scripts run, and dash for the shell that runs them (docs/init.md). */
function withFirstStart(program: Program, steps: readonly FirstStartStep[]): Program {
  if (!steps.length) return program;
  const needs = [...(program.needs ?? [])];
  const need = (value: string, why: string): void => void (needs.some((n) => n.value === value) || needs.push({ key: 'package', value, why }));
  for (const s of steps) {
    const why = `${s.from[0]} makes a per-instance secret (${s.paths.join(', ')}); jeos build runs it at first start, before the workload`;
    need('dash', `${why}, with /bin/sh, and dash is Essential in Debian (no package depends on it)`);
    for (const p of s.packages) need(p, `${why}, and it runs a program of ${p}`);
  }
  return { ...program, needs };
}

/** A program of the table of known programs that these packages ship in /usr/sbin or /usr/bin, and that the table knows how to run on its own. */
function knownShipped(tree: ImageTree, packages: UnpackedPackage[]): string | undefined {
  const names = new Set(KNOWN_PROGRAMS.filter((k) => !k.argsStart && (k.args || k.user)).map((k) => k.program));
  for (const pkg of packages) {
    const hit = pkg.paths.find((p) => /^\/usr\/s?bin\/[^/]+$/.test(p) && names.has(p.slice(p.lastIndexOf('/') + 1)) && tree.stat(p.slice(1)));
    if (hit) return hit;
  }
  return undefined;
}

function unitProgram(tree: ImageTree, unit: UnitCandidate): Program {
  const [written, ...args] = unit.expanded.argv;
  const notes: string[] = [];
  const s = unit.service;
  const from = `ExecStart= of ${unit.name} (package ${unit.pkg})`;
  // A program reached through alternatives links is written as the file it leads to; other links as written (argv[0] may matter).
  const path = unit.real && unit.real !== written && unit.real !== canonicalUsr(written!) && throughAlternatives(tree, written!) ? unit.real : written!;
  const via = path !== written ? `, ${written} → ${path} through the packages' links` : '';
  if (unit.expanded.unset.length) {
    notes.push(`${unit.name}'s ExecStart= names ${unit.expanded.unset.map((v) => `$${v}`).join(', ')}, which neither its Environment= nor its EnvironmentFile= sets: expanded to nothing, as systemd would`);
  }
  if (unit.expanded.emptyWords.length) notes.push(`${unit.name}'s ExecStart= has an empty argument (${unit.expanded.emptyWords.join(', ')}): systemd would pass "", jeos.yaml cannot hold one, so it is left out (with its option)`);
  for (const f of unit.missingEnvironmentFiles) notes.push(`${unit.name} needs EnvironmentFile=${f}, which the package does not ship (systemd would not start it): its variables are unset`);
  const sets = [s.environment.length ? 'Environment=' : '', s.environmentFiles.length ? `EnvironmentFile=${s.environmentFiles.map((f) => f.path).join(', ')}` : ''].filter(Boolean);
  const expandedFrom = sets.length && s.execStart!.some((w) => w.includes('$')) ? ` expanded with its ${sets.join(' and ')}` : '';
  const program: Program = {
    path,
    args,
    from: `${from}${expandedFrom}${via}`,
    userArgs: false,
    user: s.user,
    forking: s.type === 'forking',
    pidFile: s.pidFile,
    notes,
    ...(unit.socket ? { socket: unit.socket } : {}),
    settings: unitSettings(unit, s.user, (p) => tree.has(p.slice(1))),
  };
  if (unit.execs) {
    program.daemon = unit.execs;
    program.from += `, a shell line that ends by running ${unit.execs.path}`;
  }
  if (unit.shell) program.needs = [{ key: 'package', value: unit.shell.package, why: `${unit.shell.why}, and ${unit.shell.interpreter} is Essential in Debian (no package depends on it), so the image has none unless asked` }];
  return withFacts(tree, program);
}

/**
 * The steps before the command: the unit's ExecStartPre= lines, then the after-install generators
 * (generators.ts) that the packages' postinst or init scripts run and no ExecStartPre= line already does.
 */
function withPre(program: Program, unit: Pick<UnitCandidate, 'pre' | 'name'>, packages: UnpackedPackage[], tree: ImageTree, notes: string[]): Program {
  // A step that only checks the configuration (nginx -t, named-checkconf) changes nothing: the image's
  // own start reports a bad configuration anyway, so it is left out rather than bring a shell for it.
  const checks = unit.pre.filter((argv) => isConfigCheck(argv, program.path));
  for (const argv of checks) notes.push(`ExecStartPre=${argv.join(' ')} of ${unit.name} only checks the configuration: left out of workload.pre`);
  // A unit's step that runs a generator of the table is written as the table writes it, with what it needs.
  const pre: NonNullable<Program['pre']> = unit.pre.filter((argv) => !checks.includes(argv)).map((argv) => {
    const g = generatorsNamed([argv.join(' ')])[0];
    if (!g) return { argv, why: `ExecStartPre= of ${unit.name}`, packages: [] };
    return { argv: g.step, why: `ExecStartPre= of ${unit.name} (${argv.join(' ')}), as jeos's table of after-install generators runs it: ${g.why}`, packages: g.packages, ...(g.files ? { files: g.files } : {}) };
  });
  const texts: string[] = unit.pre.filter((argv) => !checks.includes(argv)).map((a) => a.join(' '));
  const scripts: string[] = [];
  for (const pkg of packages) {
    const postinst = pkg.controlFiles.get('postinst');
    if (postinst) scripts.push(postinst.toString('utf8'));
    for (const p of pkg.paths.filter((x) => x.startsWith('/etc/init.d/'))) {
      const text = tree.readFile(p.slice(1))?.toString('utf8');
      if (text) scripts.push(text);
    }
  }
  const fromUnit = new Set(generatorsNamed(texts).map((g) => g.name));
  for (const g of generatorsNamed(scripts)) {
    if (fromUnit.has(g.name)) continue;
    pre.push({ argv: g.step, why: `after-install generator: ${g.why} (jeos runs no maintainer script at build time)`, packages: g.packages, ...(g.files ? { files: g.files } : {}) });
  }
  return pre.length ? { ...program, pre } : program;
}

/**
 * A step that only checks the configuration: a `*checkconf` program (named-checkconf,
 * nsd-checkconf), an argument that names a check (`configtest`, `conf-check` as in
 * `knotc conf-check`, `checkconfig`, `--check-config`), or the workload's own program run with `-t`, `-T`
 * or `--test` (nginx, sshd). `-c` is not taken for a check: it usually names a file.
 */
const CHECK_VERBS = /^(configtest|conf-?check|check-?conf(ig)?|--?(config-?test|check-?config|test-?config))$/;

export function isConfigCheck(argv: readonly string[], program: string): boolean {
  const [first = '', ...args] = argv;
  const path = first.replace(/^[-@+!:]+/, '');
  const name = path.slice(path.lastIndexOf('/') + 1);
  if (/-?checkconf$/.test(name) || args.some((a) => CHECK_VERBS.test(a))) return true;
  return path === program && args.some((a) => a === '-t' || a === '-T' || a === '--test');
}

/** What the packages' files say about a program: the port its configuration names, and the shell it needs. */
function withFacts(tree: ImageTree, program: Program): Program {
  const configPort = portFromConfig(tree, program.daemon?.path ?? program.path);
  const data = tree.readFile(program.path.slice(1));
  const need = !program.needs && data ? interpreterNeed(program.path, data) : undefined;
  const shipped = need && realProgram(tree, need.interpreter);
  return {
    ...program,
    ...(configPort ? { configPort } : {}),
    ...(need && !shipped ? { needs: [{ key: 'package', value: need.package, why: `${need.why}; ${need.package} is Essential in Debian (no package depends on it), so the image has it only when asked` }] } : {}),
  };
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
  const fetched = await fetchPackages({ packages: locked }, { cacheDir: ctx.cacheDir, mirrors: mirrorOf, offline: ctx.offline, ...(ctx.timeouts ? { timeouts: ctx.timeouts } : {}) });
  const debs = await Promise.all(fetched.map(async (f) => ({ label: `${f.pkg.name}_${f.pkg.version}_${f.pkg.architecture}`, bytes: await readFile(f.path) })));
  const tree = new ImageTree();
  const { packages } = await unpackPackages(tree, debs, { architecture: ctx.index.architecture, cacheDir: ctx.cacheDir });
  // The requested package first, then its companions in dependency order.
  packages.sort((a, b) => group.findIndex((r) => r.name === a.name) - group.findIndex((r) => r.name === b.name));
  return { tree, packages };
}
