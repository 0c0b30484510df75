/**
 * What a workload can reach: from its entry points, every path walked (each
 * symlink on the way included), every ELF object's interpreter and DT_NEEDED
 * libraries found the way the dynamic linker finds them, the libraries its
 * `.note.dlopen` notes name, scripts' interpreters and the commands they run,
 * and the files of the rules (rules.ts) that a kept file sets off.
 *
 * Keeping one path (the links on the way, a command on PATH, a library where
 * ld.so finds it, a named path or directory) is PathKeeper's, in keep.ts; Reach
 * adds what a kept file leads to.
 */
import { posix } from 'node:path';
import { isElf, librarySearch, readDlopenNotes, readElf, readImports, type ElfInfo, type InheritedRpath } from '../elf/index.js';
import type { ImageTree } from '../tree/index.js';
import { globMatcher } from '../util/path-glob.js';
import { PathKeeper, type ReachOptions } from './keep.js';
import { localeSpellings, systemLocales } from './locales.js';
import { pathsInProgram } from './named.js';
import type { TrimRule } from './rules.js';
import { scriptCommands, shebangOf } from './scripts.js';
import type { KeepReason, MissingFile } from './types.js';

export type { ReachOptions } from './keep.js';

/** Kept as data: configuration, state, licences; nothing in them is run on their account. */
const PASSIVE = new Set<KeepReason['why']>(['area', 'copyright', 'locale', 'layout', 'link']);
/** Kept because something runs them. */
const RUN = new Set<KeepReason['why']>(['command', 'healthcheck', 'unit', 'interpreter', 'script']);
/** Programs whose strings are read for the paths they name: the ones run as the workload, its checks and units, and what they run. */
const NAMING = new Set<KeepReason['why']>(['command', 'healthcheck', 'unit', 'script', 'named']);

interface FiredRule {
  rule: TrimRule;
  by: string;
  files: number;
}

/** The NSS services /etc/nsswitch.conf names, or glibc's built-in choice (files, dns) without one. */
export function nssServices(tree: ImageTree): string[] {
  const text = tree.readFile('etc/nsswitch.conf')?.toString('utf8');
  if (text === undefined) return ['files', 'dns'];
  const services = new Set<string>();
  for (const line of text.split('\n')) {
    const m = /^\s*[a-z_]+\s*:(.*)$/.exec(line.replace(/#.*/, ''));
    if (!m) continue;
    for (const word of m[1]!.replace(/\[[^\]]*\]/g, ' ').split(/\s+/)) if (/^[a-z0-9_]+$/.test(word)) services.add(word);
  }
  return [...services].sort();
}

export class Reach extends PathKeeper {
  readonly fired = new Map<string, FiredRule>();
  private readonly queue: Array<{ path: string; run: boolean; elfOnly?: boolean; inherited: InheritedRpath; naming?: boolean }> = [];
  /** Rules about a run program (`when.runs`), fired once what is queued has been analysed. */
  private readonly laterRules: Array<{ rule: TrimRule; by: string }> = [];
  /** Libraries whose named programs were kept (keepProgramsNamedBy). */
  private readonly namingLibraries = new Set<string>();
  /**
   * The analyses queued for each path, by whether it is run and what its loader passed on: a library
   * two programs load inherits each one's DT_RPATH, and may find its own libraries in either.
   */
  private readonly analysed = new Map<string, Set<string>>();
  private readonly unresolved: MissingFile[] = [];
  private readonly reaches: Array<{ rule: TrimRule; match: (p: string) => boolean }>;
  private readonly runs: Array<{ rule: TrimRule; match: (p: string) => boolean }>;

  constructor(tree: ImageTree, options: ReachOptions) {
    super(tree, options);
    this.reaches = options.rules.filter((r) => r.when.reaches).map((rule) => ({ rule, match: globMatcher(rule.when.reaches!) }));
    this.runs = options.rules.filter((r) => r.when.runs).map((rule) => ({ rule, match: globMatcher(rule.when.runs!) }));
  }

  /** Analyse every kept file until nothing new is reached. */
  run(): void {
    do {
      for (let item = this.queue.shift(); item !== undefined; item = this.queue.shift()) this.analyse(item.path, item.run, item.inherited, item.elfOnly, item.naming);
      for (let r = this.laterRules.shift(); r !== undefined; r = this.laterRules.shift()) this.fire(r.rule, r.by);
    } while (this.queue.length > 0);
    const loaded = new Set([...this.kept.keys()].map((p) => posix.basename(p)));
    this.missing.push(...this.unresolved.filter((m) => !loaded.has(m.what)));
    this.unresolved.length = 0;
  }

  fire(rule: TrimRule, by: string): void {
    // A rule about the program that sets it off ($PROGRAM, $PACKAGE) fires once per program.
    const perProgram = rule.keep.some((g) => g.includes('$PROGRAM') || g.includes('$PACKAGE'));
    const key = perProgram ? `${rule.name}\0${by}` : rule.name;
    if (this.fired.has(key)) return;
    const fired: FiredRule = { rule, by, files: 0 };
    this.fired.set(key, fired);
    const program = posix.basename(by);
    const pkg = (this.tree.get(by)?.pkg ?? '').split(':')[0]!;
    const globs = rule.keep
      .map((g) => g.replaceAll('$PROGRAM', program).replaceAll('$PACKAGE', pkg))
      .filter((g) => !g.includes('//'));
    const match = globMatcher(globs.flatMap((g) => this.expandGlob(g)));
    for (const [path, node] of this.tree.entries()) {
      if (node.kind === 'dir' || !match(path) || this.options.dropped(path)) continue;
      if (this.keep(path, { why: 'rule', detail: rule.name, from: by })) fired.files++;
    }
  }

  /**
   * A library that a program run as the workload loads directly: the programs it names by absolute path
   * (a helper it spawns: libkea-dhcpsrv runs /usr/sbin/kea-lfc), not its other paths, which the
   * program may never reach.
   */
  private keepProgramsNamedBy(lib: string): void {
    if (this.namingLibraries.has(lib)) return;
    this.namingLibraries.add(lib);
    const data = this.tree.readFile(lib);
    if (!data || !isElf(data)) return;
    for (const named of pathsInProgram(data)) if (named !== lib && this.isProgramFile(named)) this.keepNamed(named, lib, false);
  }

  /** Whether a path leads to an executable file in a program directory (/usr/bin, /usr/sbin, /usr/libexec). */
  private isProgramFile(path: string): boolean {
    try {
      const real = this.tree.resolve(path, { followLast: true });
      const node = this.tree.get(real);
      return (node?.kind === 'file' || node?.kind === 'hardlink') && (node.mode & 0o111) !== 0 && /^(usr\/)?(s?bin|libexec)\//.test(real);
    } catch {
      return false;
    }
  }

  /** A rule's glob for each NSS service ($SERVICE) or configured locale ($LOCALE) it stands for. */
  private expandGlob(glob: string): string[] {
    if (glob.includes('$SERVICE')) return nssServices(this.tree).map((s) => glob.replace('$SERVICE', s));
    if (glob.includes('$LOCALE')) {
      return systemLocales(this.tree).flatMap(localeSpellings).map((l) => glob.replace('$LOCALE', l));
    }
    return [glob];
  }

  /**
   * `origin`: the reason the chain that led here started with; it decides whether the file is analysed as run.
   * A path kept already is analysed again when reached in a way it was not analysed for: run, with other
   * inherited DT_RPATH directories, or at all (a file first kept as data, /etc/ssl/openssl.cnf, that a rule
   * then reaches sets off the rules it matches whichever came first).
   */
  protected override mark(path: string, reason: KeepReason, origin: KeepReason['why'] = reason.why, inherited: InheritedRpath = []): void {
    const again = this.kept.has(path);
    if (!again) this.kept.set(path, reason);
    const node = this.tree.get(path);
    if ((node?.kind !== 'file' && node?.kind !== 'hardlink') || PASSIVE.has(origin)) return;
    // A requested package's files are all kept, but of them only its programs (executable ELF files, which a
    // wrapper may run by a path jeos cannot read) bring their libraries: a plugin nothing loads does not
    // (postgresql's optional llvmjit.so would bring 180 MB of LLVM), nor does a script nothing runs.
    if (origin === 'package') {
      if ((node.mode & 0o111) !== 0) this.analyseLater(path, false, inherited, true);
      return;
    }
    this.analyseLater(path, RUN.has(origin), inherited, false, NAMING.has(origin));
    for (const { rule, match } of this.reaches) if (match(path)) this.fire(rule, path);
    // After what the program itself needs, so that its libraries keep their DT_NEEDED reason.
    if (origin === 'command' || origin === 'healthcheck') for (const { rule, match } of this.runs) if (match(path)) this.laterRules.push({ rule, by: path });
  }

  private analyseLater(path: string, run: boolean, inherited: InheritedRpath, elfOnly = false, naming = false): void {
    const key = `${run}\0${naming}\0${inherited.join(':')}`;
    const done = this.analysed.get(path) ?? this.analysed.set(path, new Set()).get(path)!;
    if (done.has(key)) return;
    done.add(key);
    this.queue.push({ path, run, inherited, elfOnly, naming });
  }

  /** ELF objects are followed wherever they are kept; a script only when it is run, or executable. */
  private analyse(path: string, run: boolean, inherited: InheritedRpath, elfOnly = false, naming = false): void {
    const data = this.tree.readFile(path);
    if (!data || data.length < 4) return;
    if (isElf(data)) this.analyseElf(path, data, inherited, naming);
    else if (!elfOnly && data[0] === 0x23 && data[1] === 0x21 && (run || (this.tree.stat(path)!.mode & 0o111) !== 0)) this.analyseScript(path, data);
  }

  private analyseElf(path: string, data: Buffer, inherited: InheritedRpath, naming = false): void {
    let info: ElfInfo | undefined;
    try {
      info = readElf(data, `/${path}`);
    } catch {
      return; // a broken ELF file is kept as data; nothing it names can be known
    }
    if (!info) return;
    if (info.interpreter && !this.keep(info.interpreter, { why: 'interpreter', from: path })) {
      this.missing.push({ what: info.interpreter, neededBy: path, why: 'interpreter' });
    }
    // A program (it has an interpreter: not a library) that is run: the files it names by absolute path,
    // and the directories of its own package it names (a server's share directory).
    if (naming && info.interpreter) {
      const own = this.tree.get(path)?.pkg;
      for (const named of pathsInProgram(data)) {
        if (named === path) continue;
        const dir = this.realDir(named);
        this.keepNamed(named, path, dir !== undefined && own !== undefined && this.tree.get(dir)?.pkg === own);
      }
    }

    const search = librarySearch(info, posix.dirname(`/${path}`), inherited, this.options.triplet);
    const dirs = search.dirs.map((d) => d.replace(/^\/+/, ''));
    for (const soname of info.needed) {
      const found = this.findLibrary(soname, dirs);
      // Not found by its own search path, it may still be loaded already by the program (through the
      // program's RUNPATH): decided once everything reachable is known.
      if (found.length === 0) this.unresolved.push({ what: soname, neededBy: path, why: 'needed' });
      for (const lib of found) {
        const kept = this.keep(lib, { why: 'needed', from: path, detail: soname }, true, search.inherited);
        if (naming && kept !== undefined) this.keepProgramsNamedBy(kept);
      }
    }
    const imports = readImports(data, `/${path}`);
    for (const rule of this.options.rules) {
      if (rule.when.notFrom && globMatcher(rule.when.notFrom)(path)) continue;
      if (rule.when.imports?.some((s) => imports.has(s))) this.fire(rule, path);
    }
    for (const feature of readDlopenNotes(data, `/${path}`)) {
      if (feature.priority === 'suggested') continue; // optional extras the program runs fine without
      for (const soname of feature.soname) {
        for (const lib of this.findLibrary(soname, dirs)) {
          this.keep(lib, { why: 'dlopen', from: path, detail: feature.feature ?? soname }, true, search.inherited);
        }
      }
    }
  }

  private analyseScript(path: string, data: Buffer): void {
    const shebang = shebangOf(data);
    if (!shebang) return;
    const interp = this.keep(shebang.interpreter, { why: 'interpreter', from: path });
    if (!interp) this.missing.push({ what: shebang.interpreter, neededBy: path, why: 'interpreter' });
    if (shebang.command) this.keepCommand(shebang.command, { why: 'interpreter', from: path });
    const text = data.toString('utf8');
    for (const word of scriptCommands(text, shebang)) {
      // A word that is no program in the image may be a shell function or builtin: not reported.
      const found = this.findCommand(word);
      if (found) this.keep(found, { why: 'script', from: path, detail: word });
    }
  }

  /** The directory a path leads to, or undefined. */
  private realDir(path: string): string | undefined {
    try {
      const real = this.tree.resolve(path, { followLast: true });
      return this.tree.get(real)?.kind === 'dir' ? real : undefined;
    } catch {
      return undefined;
    }
  }
}
