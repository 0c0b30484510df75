/**
 * jeos init's decisions: what `--from` names (a package, a program on this
 * machine, a command line), which packages and files the workload needs, and
 * its command, ports and health check, each with the reason it was chosen.
 */
import { posix } from 'node:path';
import { candidateOf } from '../archive/candidates.js';
import { JeosError } from '../errors.js';
import { findPackage, noSuchPackage, programOfPackage } from './from-package.js';
import { canonicalUsr, HostFs } from './host-fs.js';
import { knownProgram } from './known.js';
import { PackageFinder } from './owners.js';
import { traceProgram } from './trace.js';
import type { Choice, HostFile, InitContext, InitPlan, InitSource } from './types.js';
import { splitCommandLine } from './unit.js';
import { workloadOf, type Program, type WorkloadPart } from './workload.js';

const PACKAGE_NAME = /^[a-z0-9][a-z0-9+.-]+$/;
const SYSTEM_DIRS = ['/usr/sbin', '/usr/bin', '/sbin', '/bin'];

export async function planInit(ctx: InitContext, from: string, options: { name?: string; cwd?: string } = {}): Promise<InitPlan> {
  let words: string[];
  try {
    words = splitCommandLine(from);
  } catch (e) {
    throw new JeosError('E_INIT_BAD_COMMAND', `--from ${JSON.stringify(from)}: ${(e as Error).message}`, {
      hint: 'quote the command line as a shell would; it is split into words, with no shell to run it',
      cause: e,
    });
  }
  if (!words.length) {
    throw new JeosError('E_INIT_BAD_COMMAND', '--from is empty', { hint: 'give a package name, an absolute path to a program, or a command line' });
  }
  const fs = new HostFs(ctx.root);
  const [first, ...args] = words as [string, ...string[]];
  if (words.length === 1 && PACKAGE_NAME.test(first)) {
    const found = findPackage(ctx, first);
    if (found) return fromPackage(ctx, { kind: 'package', from, package: found.record.name }, found, options);
  }
  let path = first;
  const notes: string[] = [];
  if (!first.includes('/')) {
    const onPath = await fs.which(first, ctx.path);
    if (!onPath) return fromArchiveCommand(ctx, fs, from, first, args, options);
    path = await preferPackaged(ctx, fs, first, onPath, notes);
  } else if (!first.startsWith('/')) {
    if (ctx.root !== '/') throw new JeosError('E_INIT_NOT_FOUND', `${first} is a relative path`, { hint: 'with --root, give the program\'s absolute path inside that root' });
    path = posix.resolve(options.cwd ?? process.cwd(), first);
  }
  const source: InitSource = words.length === 1 && first.includes('/') ? { kind: 'path', from, path } : { kind: 'command', from, argv: [path, ...args] };
  return fromHostProgram(ctx, fs, source, path, args, options, notes);
}

/**
 * A bare command name that the PATH resolves to an unpackaged file (a pyenv shim, a
 * virtualenv, a ~/bin wrapper) while the system directories have a packaged program
 * of that name: the image is made of Debian packages, so the packaged one is used.
 * A path given explicitly is always taken as it is.
 */
async function preferPackaged(ctx: InitContext, fs: HostFs, word: string, onPath: string, notes: string[]): Promise<string> {
  const system = await fs.which(word, SYSTEM_DIRS);
  if (!system || system === onPath) return onPath;
  const owners = await new PackageFinder(ctx, fs).find([onPath, system]);
  if (owners.has(onPath) || !owners.has(system)) return onPath;
  notes.push(`${word} on the PATH is ${onPath}, which belongs to no Debian package; ${system} (${owners.get(system)!.package}) is used instead. Give --from ${onPath} to copy that file as it is`);
  return system;
}

async function fromPackage(
  ctx: InitContext,
  source: InitSource,
  found: { record: import('../archive/packages.js').PackageRecord; why: string },
  options: { name?: string },
): Promise<InitPlan> {
  const { record, why } = found;
  const pp = await programOfPackage(ctx, record, why);
  const part = pp.program ? workloadOf(pp.program) : undefined;
  return assemble(source, options.name ?? record.name, [record.name], [{ key: 'package', value: record.name, why }], part, [], pp.notes);
}

/** A command that is not on this machine: the archive's Contents index says which package ships it. */
async function fromArchiveCommand(ctx: InitContext, fs: HostFs, from: string, word: string, args: string[], options: { name?: string }): Promise<InitPlan> {
  const finder = new PackageFinder(ctx, fs);
  const candidates = ['/usr/bin', '/usr/sbin'].map((d) => `${d}/${word}`);
  const found = await finder.find(candidates);
  const hit = candidates.find((c) => found.has(c));
  if (!hit) {
    if (args.length === 0 && PACKAGE_NAME.test(word)) throw noSuchPackage(ctx, word);
    throw new JeosError('E_INIT_NOT_FOUND', `${word} is not on the PATH (${ctx.path.join(':')})${finder.contentsMissing ? '' : ', and no package in the archive ships /usr/bin or /usr/sbin/' + word}`, {
      hint: `give the program's absolute path, or the package that has it (jeos search ${word})`,
    });
  }
  const owner = found.get(hit)!;
  const record = candidateOf(ctx.index, owner.package)!;
  let program: Program = { path: hit, args, from: args.length ? 'as given on the command line' : `the program ${hit}`, userArgs: args.length > 0 };
  if (!args.length) program = (await unitProgramFor(ctx, record.name, hit)) ?? program;
  const source: InitSource = { kind: 'command', from, argv: [hit, ...args] };
  const why = { key: 'package', value: record.name, why: `${word} is not on this machine's PATH; ${owner.why}` };
  return assemble(source, options.name ?? word, [record.name], [why], workloadOf(program), [], []);
}

async function fromHostProgram(
  ctx: InitContext,
  fs: HostFs,
  source: InitSource,
  path: string,
  args: string[],
  options: { name?: string },
  notes: string[] = [],
): Promise<InitPlan> {
  if (!(await fs.exists(path))) {
    throw new JeosError('E_INIT_NOT_FOUND', `${path} does not exist${ctx.root === '/' ? '' : ` under ${ctx.root}`}`, { hint: 'give the absolute path of a program on this machine' });
  }
  if (!(await fs.isExecutable(path))) {
    throw new JeosError('E_INIT_NOT_EXECUTABLE', `${path} is not an executable file`, { hint: 'give a program: a regular file with an execute permission bit' });
  }
  const finder = new PackageFinder(ctx, fs);
  const traced = await traceProgram(fs, finder, path, ctx.index.architecture);
  const packages: string[] = [];
  const reasons: Choice[] = [];
  for (const [file, owner] of traced.packaged) {
    if (packages.includes(owner.package)) continue;
    packages.push(owner.package);
    reasons.push({ key: 'package', value: owner.package, why: file === path ? owner.why : `${traced.reason.get(file)}; ${owner.why}` });
    // An interpreter jeos knows may need more than its own package (python3 → its standard library).
    const known = knownProgram(file, file === path ? args : []);
    for (const extra of known?.packages ?? []) {
      if (packages.includes(extra)) continue;
      packages.push(extra);
      reasons.push({ key: 'package', value: extra, why: `${file} is a known program: ${known!.note}` });
    }
  }
  const hostFiles: HostFile[] = [];
  for (const file of traced.unpackaged) {
    hostFiles.push({ hostPath: file, path: (await fs.realpath(file)) ?? file, mode: (await fs.mode(file)).toString(8).padStart(4, '0') });
    const why = file === path ? 'it belongs to no Debian package' : `${traced.reason.get(file)}, and it belongs to no Debian package`;
    reasons.push({ key: 'files', value: `${file} (copied into DIR/files${file})`, why });
  }
  if (!packages.length) {
    throw new JeosError('E_INIT_NO_PACKAGES', `${path} needs no Debian package at all (a static program)`, {
      hint: 'jeos builds images from Debian packages; name at least one with --from PACKAGE, or use a dynamically linked program',
    });
  }
  const userArgs = args.length > 0;
  let program: Program = { path, args, from: userArgs ? 'as given on the command line' : `the program ${path}`, userArgs };
  const own = traced.packaged.get(path);
  if (own && !userArgs) program = (await unitProgramFor(ctx, own.package, path)) ?? program;
  const env: Record<string, string> = {};
  // A copied library needs LD_LIBRARY_PATH when neither the linker cache nor an RPATH or RUNPATH (copied with its object) leads to it.
  const libDirs = [...new Set(hostFiles.filter((f) => f.hostPath !== path && /\.so(\.|$)/.test(f.path) && !traced.onSearchPath.has(f.hostPath)).map((f) => posix.dirname(f.path)))];
  const defaults = /^\/(usr\/)?lib(64)?(\/[a-z0-9_]+-linux-gnu[a-z]*)?$/;
  const extraDirs = libDirs.filter((d) => !defaults.test(d));
  if (extraDirs.length) env.LD_LIBRARY_PATH = extraDirs.join(':');
  const plan = assemble(source, options.name ?? posix.basename(path), packages, reasons, workloadOf(program), hostFiles, notes);
  plan.env = { ...plan.env, ...env };
  if (extraDirs.length) plan.choices.push({ key: 'env', value: `LD_LIBRARY_PATH=${env.LD_LIBRARY_PATH}`, why: 'copied libraries are in directories the image\'s linker cache does not list' });
  return plan;
}

/** The unit's command when the package's service runs this program (its arguments and User=). */
async function unitProgramFor(ctx: InitContext, pkg: string, path: string): Promise<Program | undefined> {
  const record = candidateOf(ctx.index, pkg);
  if (!record) return undefined;
  const { program } = await programOfPackage(ctx, record, '');
  if (!program || canonicalUsr(program.path) !== canonicalUsr(path)) return undefined;
  return { ...program, path };
}

const CHOICE_ORDER = ['package', 'files', 'command', 'pre', 'user', 'env', 'workdir', 'directories', 'capabilities', 'ports', 'healthcheck'];

function assemble(
  source: InitSource,
  name: string,
  packages: string[],
  why: Choice[],
  part: WorkloadPart | undefined,
  hostFiles: HostFile[],
  notes: string[],
): InitPlan {
  const all = [...packages];
  for (const p of part?.packages ?? []) if (!all.includes(p)) all.push(p);
  const rank = (c: Choice) => CHOICE_ORDER.indexOf(c.key);
  const choices = [...why, ...(part?.choices ?? [])].map((c, i) => ({ c, i })).sort((a, b) => rank(a.c) - rank(b.c) || a.i - b.i).map(({ c }) => c);
  const program = part?.command?.[0];
  return {
    source,
    name: imageName(name),
    description: `${program ? posix.basename(program) : name}, set up by jeos init --from ${source.from}`,
    packages: all,
    command: part?.command,
    pre: part?.pre ?? [],
    user: part?.user,
    env: { ...(part?.env ?? {}) },
    environmentFiles: part?.environmentFiles ?? [],
    directories: part?.directories ?? [],
    capabilities: part?.capabilities ?? [],
    ...(part?.workdir ? { workdir: part.workdir } : {}),
    ports: part?.ports ?? [],
    healthcheck: part?.healthcheck,
    inline: part?.inline ?? [],
    hostFiles,
    choices,
    notes: [...notes, ...(part?.notes ?? [])],
  };
}

/** An image name jeos.yaml accepts: lower-case letters, digits, dots and dashes. */
export function imageName(name: string): string {
  const clean = name.toLowerCase().replace(/[^a-z0-9.-]+/g, '-').replace(/^[^a-z0-9]+/, '').replace(/-+$/, '');
  return clean || 'workload';
}
