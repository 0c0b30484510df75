/**
 * The maintainer script scan and its report. Each package's preinst (`install`)
 * and postinst (`configure` with no previous version) is interpreted as dpkg
 * would run it on a first installation; then the triggers that the installed
 * packages activate are worked out and the interested packages' postinsts are
 * interpreted again with `triggered`. Every command that would run is reported
 * as reproduced, not applicable or not reproduced — nothing is dropped.
 */
import type { ImageTree } from '../tree/index.js';
import type { UnpackedPackage } from '../unpack/types.js';
import { shellQuote } from '../util/shell-quote.js';
import type { ActionRecord } from './actions.js';
import { STATIC_GROUPS, STATIC_USERS } from './effects/base-passwd.js';
import { readSysusers } from './effects/sysusers.js';
import { classify, substitute, type ClassifyContext } from './maintscripts/commands.js';
import { ScriptWorld } from './maintscripts/world.js';
import type { Node } from './shell/ast.js';
import { interpret, type ExecutedCommand } from './shell/interpret.js';
import { parseScript, ShellSyntaxError } from './shell/parse.js';
import type { ScriptReport } from './types.js';
import type { UnreproducedStep } from './workload-paths.js';
import type { FirstStartCommand } from './maintscripts/classification.js';

type Status = 'reproduced' | 'notApplicable' | 'notReproduced';

interface Entry {
  text: string;
  status: Status;
  note?: string;
  /** Not reproduced, but it could only have removed files. */
  removesOnly?: boolean;
  records: ActionRecord[];
  /** The absolute paths among the command's words (and its output file): what it acts on. */
  paths: string[];
}

interface ScriptLog {
  pkg: string;
  script: string;
  entries: Entry[];
}

export interface ScriptScan {
  logs: ScriptLog[];
  /** Every action, in the order the scripts would have run. */
  actions: ActionRecord[];
  /** Per-instance steps left to the first start, in script order (first-start.ts groups them). */
  firstStart: Array<FirstStartCommand & { pkg: string; script: string; command: string }>;
}

/** dpkg's name for a package instance: `name:arch` for Multi-Arch: same. */
export function packageId(pkg: UnpackedPackage): string {
  return pkg.multiArch === 'same' ? `${pkg.name}:${pkg.architecture}` : pkg.name;
}

export function sortPackages(packages: UnpackedPackage[]): UnpackedPackage[] {
  const key = (p: UnpackedPackage): string => `${p.name}\u0000${p.architecture}`;
  return [...packages].sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
}

export function scanScripts(tree: ImageTree, packages: UnpackedPackage[], architecture: string): ScriptScan {
  const world = new ScriptWorld(tree);
  for (const u of STATIC_USERS) world.users.add(u.name);
  for (const g of STATIC_GROUPS) world.groups.add(g.name);
  for (const line of readSysusers(tree).lines) {
    if (line.type === 'u') {
      world.users.add(line.name);
      if (line.gid === undefined && line.groupName === undefined) world.groups.add(line.name);
    } else if (line.type === 'g') world.groups.add(line.name);
  }
  const ctx: ClassifyContext = { world, architecture, pkg: '', debconf: debconfDefaults(packages), activations: new Set() };
  const scan: ScriptScan = { logs: [], actions: [], firstStart: [] };
  const sorted = sortPackages(packages);

  for (const pkg of sorted) runScript(scan, ctx, pkg, 'preinst', ['install']);
  for (const pkg of configureOrder(sorted)) runScript(scan, ctx, pkg, 'postinst', ['configure', '']);
  runTriggers(scan, ctx, sorted);
  return scan;
}

/**
 * The order dpkg configures packages in: each after what it depends on (Depends, Pre-Depends;
 * a virtual name through the packages that Provide it), so that a postinst sees its
 * dependencies configured (dovecot-core's links the certificate ssl-cert's postinst made).
 * Ties and dependency cycles fall back to the name order.
 */
export function configureOrder(sorted: UnpackedPackage[]): UnpackedPackage[] {
  const field = (p: UnpackedPackage, name: string): string => p.control.find(([k]) => k.toLowerCase() === name)?.[1] ?? '';
  const byName = new Map<string, UnpackedPackage[]>();
  const add = (name: string, p: UnpackedPackage): void => void byName.set(name, [...(byName.get(name) ?? []), p]);
  for (const p of sorted) {
    add(p.name, p);
    for (const v of field(p, 'provides').split(',')) if (v.trim()) add(v.trim().split(/[\s(]/)[0]!, p);
  }
  const deps = (p: UnpackedPackage): UnpackedPackage[] =>
    [field(p, 'pre-depends'), field(p, 'depends')]
      .join(',')
      .split(/[,|]/)
      .map((d) => d.trim().split(/[\s(:]/)[0]!)
      .filter(Boolean)
      .flatMap((n) => byName.get(n) ?? [])
      .filter((d) => d !== p);
  const out: UnpackedPackage[] = [];
  const state = new Map<UnpackedPackage, 'visiting' | 'done'>();
  const visit = (p: UnpackedPackage): void => {
    if (state.has(p)) return;
    state.set(p, 'visiting');
    for (const d of deps(p)) visit(d);
    state.set(p, 'done');
    out.push(p);
  };
  for (const p of sorted) visit(p);
  return out;
}

function runScript(scan: ScriptScan, ctx: ClassifyContext, pkg: UnpackedPackage, member: 'preinst' | 'postinst', positional: string[], label: string = member): void {
  const data = pkg.controlFiles.get(member);
  if (!data) return;
  const log: ScriptLog = { pkg: packageId(pkg), script: label, entries: [] };
  scan.logs.push(log);
  const text = data.toString('utf8');
  const shebang = /^#!\s*(\S+)(?:\s+(\S+))?/.exec(text);
  const interp = shebang ? (shebang[1]!.endsWith('/env') ? shebang[2] ?? '' : shebang[1]!) : '/bin/sh';
  if (!/(^|\/)(sh|bash|dash)$/.test(interp)) {
    log.entries.push({ text: 'whole script', status: 'notReproduced', note: `written for ${interp}, which jeos does not interpret`, records: [], paths: [] });
    return;
  }
  let ast: Node;
  try {
    ast = parseScript(text);
  } catch (e) {
    if (!(e instanceof ShellSyntaxError)) throw e;
    log.entries.push({ text: 'whole script', status: 'notReproduced', note: `could not be parsed (${e.message})`, records: [], paths: [] });
    return;
  }
  ctx.pkg = pkg.name;
  interpret(ast, {
    positional,
    name: member,
    env: {
      DPKG_ROOT: '',
      DPKG_ADMINDIR: '/var/lib/dpkg',
      DPKG_MAINTSCRIPT_PACKAGE: pkg.name,
      DPKG_MAINTSCRIPT_ARCH: pkg.architecture,
      DPKG_MAINTSCRIPT_NAME: member,
      DPKG_MAINTSCRIPT_PACKAGE_REFCOUNT: '1',
      DEBIAN_FRONTEND: 'noninteractive',
      PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
    },
    host: {
      substitute: (text) => substitute(text, ctx),
      debconf: (question) => ctx.debconf.get(question),
      glob: (pattern) => ctx.world.glob(pattern),
      run(cmd) {
        const c = classify(cmd, ctx);
        if (c.status === 'silent') return c.exit;
        // A command reached only through a condition the scan could not decide is run as if it held; say so.
        const note = !cmd.certain && c.status !== 'notApplicable' ? [c.note, 'condition undecided at build time'].filter(Boolean).join('; ') : c.note;
        const paths = [...cmd.words, cmd.stdout.to === 'file' ? cmd.stdout.path : undefined]
          .filter((w): w is string => w !== undefined)
          .map((w) => w.replace(/^--?[\w-]+=/, ''))
          .filter((w) => w.startsWith('/'));
        const entry: Entry = { text: commandText(cmd), status: c.status, ...(note ? { note } : {}), ...(c.removesOnly ? { removesOnly: true } : {}), records: [], paths };
        for (const action of c.actions ?? []) {
          const record: ActionRecord = { action, pkg: log.pkg, script: label, command: entry.text };
          entry.records.push(record);
          scan.actions.push(record);
        }
        log.entries.push(entry);
        if (c.firstStart) scan.firstStart.push({ ...c.firstStart, pkg: log.pkg, script: label, command: entry.text });
        return c.exit;
      },
    },
  });
}

/**
 * dpkg runs `postinst triggered NAMES` for a package interested in a trigger that
 * another package activates: explicitly (`activate` in its triggers file, or
 * dpkg-trigger in a script) or, for file triggers, by shipping a path under it.
 */
function runTriggers(scan: ScriptScan, ctx: ClassifyContext, packages: UnpackedPackage[]): void {
  const activatedBy = new Map<string, Set<string>>();
  const activate = (name: string, by: string): void => void activatedBy.set(name, (activatedBy.get(name) ?? new Set()).add(by));
  for (const name of ctx.activations) activate(name, 'a maintainer script');
  const directives = packages.map((pkg) => ({ pkg, lines: triggerLines(pkg) }));
  for (const { pkg, lines } of directives) {
    for (const [directive, name] of lines) if (directive.startsWith('activate') && name) activate(name, packageId(pkg));
  }
  const interested = new Map<string, string[]>();
  for (const { pkg, lines } of directives) {
    for (const [directive, name] of lines) {
      if (directive.startsWith('interest') && name) interested.set(name, [...(interested.get(name) ?? []), packageId(pkg)]);
    }
  }
  const shippedUnder = (dir: string): string[] =>
    packages.filter((p) => p.paths.some((path) => path === dir || path.startsWith(dir.endsWith('/') ? dir : `${dir}/`))).map(packageId);

  for (const { pkg, lines } of directives) {
    if (!lines.length) continue;
    const log: ScriptLog = { pkg: packageId(pkg), script: 'triggers', entries: [] };
    scan.logs.push(log);
    const fired: string[] = [];
    for (const [directive, name, raw] of lines) {
      if (directive.startsWith('interest') && name) {
        const by = name.startsWith('/') ? shippedUnder(name) : [...(activatedBy.get(name) ?? [])];
        if (by.length) fired.push(name);
        log.entries.push({
          text: raw,
          status: 'notApplicable',
          note: by.length ? `activated by ${by.join(', ')}: see its "postinst triggered" run` : 'not activated by any package in the image',
          records: [],
          paths: [],
        });
      } else if (directive.startsWith('activate') && name) {
        const who = interested.get(name) ?? [];
        log.entries.push({ text: raw, status: 'notApplicable', note: who.length ? `handled by ${who.join(', ')}` : 'no package in the image is interested', records: [], paths: [] });
      } else {
        log.entries.push({ text: raw, status: 'notReproduced', note: 'trigger directive not understood', records: [], paths: [] });
      }
    }
    if (fired.length) runScript(scan, ctx, pkg, 'postinst', ['triggered', fired.join(' ')], 'postinst triggered');
  }
}

/**
 * The default answer of every debconf question the packages define (their `templates`
 * members): what a non-interactive installation answers when no config script set one.
 */
function debconfDefaults(packages: UnpackedPackage[]): Map<string, string | undefined> {
  const defaults = new Map<string, string | undefined>();
  for (const pkg of packages) {
    const text = pkg.controlFiles.get('templates')?.toString('utf8');
    if (!text) continue;
    for (const para of text.split(/\n\s*\n/)) {
      const name = /^Template:\s*(\S+)/m.exec(para)?.[1];
      // Without a Default the answer comes from the package's config script, which jeos does not run: unknown.
      if (name) defaults.set(name, /^Default:[ \t]*(.*)$/m.exec(para)?.[1]?.trim());
    }
  }
  return defaults;
}

function triggerLines(pkg: UnpackedPackage): Array<[string, string | undefined, string]> {
  const text = pkg.controlFiles.get('triggers')?.toString('utf8') ?? '';
  return text
    .split('\n')
    .map((l) => l.replace(/#.*/, '').trim())
    .filter(Boolean)
    .map((l) => {
      const [directive, name] = l.split(/\s+/);
      return [directive!, name, l];
    });
}

/** How a command is shown: expanded when every word is known, as written otherwise. */
function commandText(cmd: ExecutedCommand): string {
  const where = `line ${cmd.line}${cmd.inFunction ? ` in ${cmd.inFunction}()` : ''}`;
  const known = cmd.words.length > 0 && cmd.words.every((w): w is string => w !== undefined);
  let text = known ? (cmd.words as string[]).map(shellQuote).join(' ') : cmd.raw;
  if (known && cmd.stdout.to === 'file' && cmd.stdout.path !== undefined) text += ` ${cmd.stdout.append ? '>>' : '>'} ${cmd.stdout.path}`;
  if (!known && cmd.words.length === 0) text = cmd.raw;
  return `${where}: ${text}`;
}

/** The report, once the effects have marked what they could not carry out. */
export function scriptReports(scan: ScriptScan): ScriptReport[] {
  return scan.logs.map((log) => {
    const out: ScriptReport = { pkg: log.pkg, script: log.script, reproduced: [], notApplicable: [], notReproduced: [] };
    const seen = { reproduced: new Set<string>(), notApplicable: new Set<string>(), notReproduced: new Set<string>() };
    for (const e of log.entries) {
      const failed = e.records.map((r) => r.failed).filter((f): f is string => f !== undefined);
      const status: Status = failed.length ? 'notReproduced' : e.status;
      const undecided = e.note?.endsWith('condition undecided at build time') ? '; condition undecided at build time' : '';
      const note = failed.length ? failed.join('; ') + undecided : e.note;
      const line = note ? `${e.text} (${note})` : e.text;
      if (seen[status].has(line)) continue;
      seen[status].add(line);
      out[status].push(line);
    }
    return out;
  });
}

/**
 * The steps not reproduced, with the paths each acts on: for a command jeos does not
 * know, the absolute paths among its words; for one it carried out in part, the paths
 * it failed on (those its failure names).
 */
export function unreproducedSteps(scan: ScriptScan): UnreproducedStep[] {
  const steps: UnreproducedStep[] = [];
  for (const log of scan.logs) {
    for (const e of log.entries) {
      const failed = e.records.filter((r) => r.failed !== undefined);
      if (!failed.length && e.status !== 'notReproduced') continue;
      // A clean-up jeos did not do leaves something extra, never something the workload lacks.
      if (!failed.length && e.removesOnly) continue;
      const paths = failed.length ? e.paths.filter((p) => failed.some((r) => r.failed!.includes(p))) : e.paths;
      const why = failed.length ? failed.map((r) => r.failed).join('; ') : e.note;
      steps.push({ pkg: log.pkg, script: log.script, line: why ? `${e.text} (${why})` : e.text, paths: [...new Set(paths)] });
    }
  }
  return steps;
}
