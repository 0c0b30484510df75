/**
 * Which of a package's service units is the workload, and what it runs. Every
 * service unit the package and its same-source companions ship is a candidate
 * (a template `x@.service` too, with its DefaultInstance=); each command is
 * expanded as systemd would (expand.ts) and its program followed through symlinks
 * — the alternatives links the configure stage made — to the file. The one that
 * runs a program of these packages wins (a shell line that ends by exec'ing one counts), a plain daemon before a oneshot, then
 * the unit named like the package.
 */
import { SYSTEM_UNITS } from '../configure/index.js';
import type { ImageTree } from '../tree/index.js';
import type { UnpackedPackage } from '../unpack/index.js';
import { environmentOf, expandCommand, parseEnvironmentFile, specifiers, type Expanded } from './expand.js';
import { canonicalUsr } from './host-fs.js';
import { execTarget, shellCommand, type ShellNeed } from './shell.js';
import { parseService, parseSocketPorts, type ServiceSection } from './unit.js';

export interface UnitCandidate {
  /** The unit's name as systemd would start it (`named.service`, `postfix@-.service`). */
  name: string;
  pkg: string;
  service: ServiceSection;
  expanded: Expanded;
  /** The program the command names, after expansion. */
  program: string;
  /** Where the program leads in the packages (through alternatives links), absolute; undefined when they do not have it. */
  real?: string;
  /** The real program is a file these packages ship. */
  runsOwn: boolean;
  /** The command is a shell running a script line. */
  shell?: ShellNeed;
  /** The program of these packages that the shell line ends by exec'ing (`sh -c "…; exec /usr/sbin/d -f"`), as the file it leads to, with its arguments. */
  execs?: { path: string; args: string[] };
  /** ExecStartPre= lines, expanded as ExecStart= is (a `-` prefix kept on the program). */
  pre: string[][];
  /** EnvironmentFile= paths the packages do not ship, without the `-` that makes them optional. */
  missingEnvironmentFiles: string[];
  /** EnvironmentFile= paths the packages ship, specifiers filled in. */
  environmentFiles: string[];
  /** Environment= assignments, specifiers filled in (`%H` and other run-time ones stay). */
  environment: string[];
  /** TCP ports of the unit's .socket, if it has one. */
  socket?: { name: string; ports: number[] };
}

export function serviceCandidates(tree: ImageTree, packages: UnpackedPackage[], name: string): UnitCandidate[] {
  const dirs = SYSTEM_UNITS.paths.map((d) => `/${d}/`);
  const inUnitDir = (p: string) => dirs.some((d) => p.startsWith(d) && !p.slice(d.length).includes('/'));
  const shipped = new Set(packages.flatMap((p) => p.paths.map(canonicalUsr)));
  const out: UnitCandidate[] = [];
  for (const pkg of packages) {
    for (const file of pkg.paths.filter((p) => inUnitDir(p) && p.endsWith('.service')).sort()) {
      const service = parseService(tree.readFile(file.slice(1))?.toString('utf8') ?? '');
      if (!service.execStart) continue;
      const base = file.slice(file.lastIndexOf('/') + 1);
      let unitName = base;
      let instance: string | undefined;
      if (base.endsWith('@.service')) {
        if (service.defaultInstance === undefined) continue; // a template with no default instance is started by name only
        instance = service.defaultInstance;
        unitName = base.replace('@.service', `@${instance}.service`);
      }
      const unit = { name: unitName, instance };
      const files: string[][] = [];
      const missing: string[] = [];
      const shippedFiles: string[] = [];
      for (const f of service.environmentFiles) {
        const path = specifiers(f.path, unit);
        const text = tree.readFile(path.slice(1))?.toString('utf8');
        if (text === undefined) {
          if (!f.optional) missing.push(path);
          continue;
        }
        files.push(parseEnvironmentFile(text));
        shippedFiles.push(path);
      }
      const env = environmentOf(service.environment.map((a) => specifiers(a, unit)), files);
      const expanded = expandCommand(service.execStart.map((w) => specifiers(w, unit)), env);
      const program = expanded.argv[0] ?? service.execStart[0]!;
      const pre = service.execStartPre.map((w) => expandCommand(w.map((x) => specifiers(x, unit)), env).argv).filter((a) => a.length > 0);
      const real = realProgram(tree, program);
      const target = execTarget(expanded.argv);
      const targetReal = target && realProgram(tree, target.path);
      const execs = targetReal && shipped.has(canonicalUsr(targetReal)) ? { path: targetReal, args: target.args } : undefined;
      const socketText = tree.readFile(file.slice(1).replace(/(@)?\.service$/, (_, at) => (at ? '@.socket' : '.socket')))?.toString('utf8');
      const socketName = base.replace(/\.service$/, '.socket');
      out.push({
        name: unitName,
        pkg: pkg.name,
        service,
        expanded,
        program,
        real,
        runsOwn: (real !== undefined && shipped.has(canonicalUsr(real))) || execs !== undefined,
        shell: real && !execs ? undefined : shellCommand(expanded.argv),
        ...(execs ? { execs } : {}),
        missingEnvironmentFiles: missing,
        environmentFiles: shippedFiles,
        environment: service.environment.map((a) => specifiers(a, unit)),
        pre,
        ...(socketText ? { socket: { name: socketName, ports: parseSocketPorts(socketText) } } : {}),
      });
    }
  }
  const rank = (c: UnitCandidate) => [
    c.runsOwn ? 0 : c.shell ? 1 : c.real ? 2 : 3,
    c.service.type === 'oneshot' ? 1 : 0,
    c.name === `${name}.service` ? 0 : c.name.startsWith(`${name}@`) ? 1 : c.name === `${c.pkg}.service` ? 2 : 3,
  ];
  const cmp = (a: UnitCandidate, b: UnitCandidate) => {
    const [ra, rb] = [rank(a), rank(b)];
    for (let i = 0; i < ra.length; i++) if (ra[i] !== rb[i]) return ra[i]! - rb[i]!;
    return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
  };
  // A unit whose program is nowhere (and is no shell) cannot be the workload.
  return out.filter((c) => c.real || c.shell).sort(cmp);
}

/** The file a program path leads to in the packages' tree, through symlinks (/usr/bin/x → /etc/alternatives/x → /usr/bin/x.real), absolute. */
export function realProgram(tree: ImageTree, path: string): string | undefined {
  for (const p of new Set([path, canonicalUsr(path)])) {
    try {
      const resolved = tree.resolve(p.slice(1), { followLast: true });
      const kind = tree.get(resolved)?.kind;
      if (kind === 'file' || kind === 'hardlink') return `/${resolved}`;
    } catch {
      // a link loop or a link out of the tree: not a program here
    }
  }
  return undefined;
}

/**
 * Whether a program path reaches its file through /etc/alternatives: then the command names the file
 * it leads to (the choice is made when the image is built). Other links are kept as written: a
 * multi-call program tells its names apart by argv[0] (/usr/bin/valkey-server → valkey-check-rdb
 * runs the server only when called valkey-server).
 */
export function throughAlternatives(tree: ImageTree, path: string): boolean {
  let p = path;
  for (let hop = 0; hop < 16; hop++) {
    let real: string;
    try {
      real = tree.resolve(p.slice(1));
    } catch {
      return false;
    }
    const node = tree.get(real);
    if (node?.kind !== 'symlink') return false;
    p = node.target.startsWith('/') ? node.target : `/${real.slice(0, real.lastIndexOf('/') + 1)}${node.target}`;
    if (/^\/etc\/alternatives\//.test(p)) return true;
  }
  return false;
}
