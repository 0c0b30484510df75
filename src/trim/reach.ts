/**
 * What a workload can reach: from its entry points, every path walked (each
 * symlink on the way included), every ELF object's interpreter and DT_NEEDED
 * libraries found the way the dynamic linker finds them, the libraries its
 * `.note.dlopen` notes name, scripts' interpreters and the commands they run,
 * and the files of the rules (rules.ts) that a kept file sets off.
 */
import { posix } from 'node:path';
import { isElf, librarySearch, readDlopenNotes, readElf, readImports, type ElfInfo, type InheritedRpath } from '../elf/index.js';
import type { ImageTree } from '../tree/index.js';
import { globMatcher } from '../util/path-glob.js';
import { localeSpellings, systemLocales } from './locales.js';
import { isSharedDir, NAMED_DIR_LIMIT, pathsInProgram } from './named.js';
import type { TrimRule } from './rules.js';
import { scriptCommands, shebangOf } from './scripts.js';
import type { KeepReason, MissingFile } from './types.js';

const MAX_HOPS = 40;
/** Kept as data: configuration, state, licences; nothing in them is run on their account. */
const PASSIVE = new Set<KeepReason['why']>(['area', 'copyright', 'locale', 'layout', 'link']);
/** Kept because something runs them. */
const RUN = new Set<KeepReason['why']>(['command', 'healthcheck', 'unit', 'interpreter', 'script']);
/** Programs whose strings are read for the paths they name: the ones run as the workload, its checks and units, and what they run. */
const NAMING = new Set<KeepReason['why']>(['command', 'healthcheck', 'unit', 'script', 'named']);

export interface ReachOptions {
  triplet: string;
  /** ld.so.cache's soname → paths (every hwcaps variant). */
  cache: Map<string, string[]>;
  /** PATH directories, tree form. */
  path: string[];
  rules: readonly TrimRule[];
  /** Paths only trim.keep may bring back. */
  dropped: (path: string) => boolean;
}

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

export class Reach {
  readonly kept = new Map<string, KeepReason>();
  readonly missing: MissingFile[] = [];
  readonly fired = new Map<string, FiredRule>();
  private readonly queue: Array<{ path: string; run: boolean; elfOnly?: boolean; inherited: InheritedRpath; naming?: boolean }> = [];
  /** The tree's paths in byte order, for the files under a directory (made when first needed: the tree does not change while reaching). */
  private sorted?: string[];
  /** Rules about a run program (`when.runs`), fired once what is queued has been analysed. */
  private readonly laterRules: Array<{ rule: TrimRule; by: string }> = [];
  /** Directories kept whole already (keepTree). */
  private readonly wholeDirs = new Set<string>();
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
  private readonly defaultDirs: string[];

  constructor(
    private readonly tree: ImageTree,
    private readonly options: ReachOptions,
  ) {
    this.reaches = options.rules.filter((r) => r.when.reaches).map((rule) => ({ rule, match: globMatcher(rule.when.reaches!) }));
    this.runs = options.rules.filter((r) => r.when.runs).map((rule) => ({ rule, match: globMatcher(rule.when.runs!) }));
    const t = options.triplet;
    this.defaultDirs = [`lib/${t}`, `usr/lib/${t}`, 'lib', 'usr/lib'];
  }

  /**
   * Keep a path: every symlink on the way, and the node it leads to (the last
   * component followed too unless `follow` is false). Returns the path kept at the
   * end, or undefined when it leads nowhere in the image. `inherited`: the DT_RPATH
   * directories the object that loads this one passes on (its libraries may be there).
   */
  keep(path: string, reason: KeepReason, follow = true, inherited: InheritedRpath = []): string | undefined {
    const pending = path.split('/').filter((p) => p !== '' && p !== '.');
    const done: string[] = [];
    let hops = 0;
    // The reason the next path to be named in full gets: the caller's, then "the target of" each link in turn.
    let last = reason;
    while (pending.length > 0) {
      const part = pending.shift()!;
      if (part === '..') {
        if (done.length === 0) return undefined;
        done.pop();
        continue;
      }
      const here = done.length ? `${done.join('/')}/${part}` : part;
      const node = this.tree.get(here);
      if (node?.kind === 'symlink' && (pending.length > 0 || follow)) {
        if (++hops > MAX_HOPS) return undefined;
        if (pending.length === 0) {
          this.mark(here, last, reason.why);
          last = { why: 'target', from: here };
        } else this.mark(here, { why: 'link', from: path }, 'link');
        const target = node.target.split('/').filter((p) => p !== '');
        if (node.target.startsWith('/')) done.length = 0;
        pending.unshift(...target);
        continue;
      }
      if (!node && pending.length > 0) return undefined;
      done.push(part);
    }
    const real = done.join('/');
    const node = this.tree.get(real);
    if (!node) return undefined;
    this.mark(real, last, reason.why, inherited);
    if (node.kind === 'hardlink') this.mark(node.target, { why: 'hardlink', from: real }, reason.why, inherited);
    return real;
  }

  /** Find a command the way execvp() does: a path as it is, a bare name on PATH. */
  findCommand(word: string): string | undefined {
    if (word.includes('/')) return this.isFile(word) ? word.replace(/^\/+/, '') : undefined;
    for (const dir of this.options.path) {
      const candidate = dir ? `${dir}/${word}` : word;
      if (this.isFile(candidate)) return candidate;
    }
    return undefined;
  }

  /** Keep a command and report it missing when it is not in the image. */
  keepCommand(word: string, reason: KeepReason): string | undefined {
    const found = this.findCommand(word);
    if (found) return this.keep(found, reason);
    this.missing.push({ what: word, neededBy: reason.from ?? `(${reason.why})`, why: 'command' });
    return undefined;
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
   * Keep a path a configuration file or a program names (`from`), when it is in the image: a file (and the
   * links on the way), or a directory with everything in it when it is not a shared one (isSharedDir) and
   * `whole` allows. Returns whether anything was kept.
   */
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

  keepNamed(path: string, from: string, whole: boolean): boolean {
    if (this.options.dropped(path)) return false;
    let real: string;
    try {
      real = this.tree.resolve(path, { followLast: true });
    } catch {
      return false;
    }
    const node = this.tree.get(real);
    if (!node) return false;
    const reason: KeepReason = { why: 'named', from, detail: `/${path}` };
    if (node.kind !== 'dir') return this.keep(path, reason) !== undefined;
    if (!whole || isSharedDir(real)) return false;
    this.keep(path, reason);
    return this.keepTree(real, reason) > 0;
  }

  /**
   * Keep everything under a directory, following the directory links in it (a language pack reached
   * through a link to another directory), at most NAMED_DIR_LIMIT files. Returns the number of paths kept.
   */
  keepTree(dir: string, reason: KeepReason, depth = 0): number {
    if (this.wholeDirs.has(dir) || depth > 8) return 0;
    this.wholeDirs.add(dir);
    const paths = this.under(dir);
    if (paths.length > NAMED_DIR_LIMIT) return 0;
    let kept = 0;
    for (const path of paths) {
      const node = this.tree.get(path)!;
      if (node.kind === 'dir' || this.options.dropped(path)) continue;
      if (this.keep(path, reason, node.kind === 'symlink') !== undefined) kept++;
      if (node.kind === 'symlink') {
        try {
          const target = this.tree.resolve(path, { followLast: true });
          if (this.tree.get(target)?.kind === 'dir' && !isSharedDir(target)) kept += this.keepTree(target, { ...reason, from: path }, depth + 1);
        } catch {
          // a loop or a link out of the tree: nothing to keep
        }
      }
    }
    return kept;
  }

  /** Every path below a directory (not the directory itself). */
  private under(dir: string): string[] {
    this.sorted ??= this.tree.entries().map(([p]) => p);
    const prefix = `${dir}/`;
    let lo = 0;
    let hi = this.sorted.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.sorted[mid]! < prefix) lo = mid + 1;
      else hi = mid;
    }
    const out: string[] = [];
    for (let i = lo; i < this.sorted.length && this.sorted[i]!.startsWith(prefix); i++) out.push(this.sorted[i]!);
    return out;
  }

  /** A rule's glob for each NSS service ($SERVICE) or configured locale ($LOCALE) it stands for. */
  private expandGlob(glob: string): string[] {
    if (glob.includes('$SERVICE')) return nssServices(this.tree).map((s) => glob.replace('$SERVICE', s));
    if (glob.includes('$LOCALE')) {
      return systemLocales(this.tree).flatMap(localeSpellings).map((l) => glob.replace('$LOCALE', l));
    }
    return [glob];
  }

  private isFile(path: string): boolean {
    try {
      const node = this.tree.stat(path);
      return node !== undefined && node.kind !== 'dir';
    } catch {
      return false;
    }
  }

  /**
   * `origin`: the reason the chain that led here started with; it decides whether the file is analysed as run.
   * A path kept already is analysed again when reached in a way it was not analysed for: run, with other
   * inherited DT_RPATH directories, or at all (a file first kept as data, /etc/ssl/openssl.cnf, that a rule
   * then reaches sets off the rules it matches whichever came first).
   */
  private mark(path: string, reason: KeepReason, origin: KeepReason['why'] = reason.why, inherited: InheritedRpath = []): void {
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

  /** Where ld.so finds a library: in `dirs` (librarySearch: RPATHs, RUNPATH), ld.so.cache, then the default directories. */
  findLibrary(soname: string, dirs: readonly string[]): string[] {
    if (soname.includes('/')) return this.isFile(soname) ? [soname.replace(/^\/+/, '')] : [];
    for (const dir of dirs) if (this.isFile(`${dir}/${soname}`)) return [`${dir}/${soname}`];
    const cached = (this.options.cache.get(soname) ?? []).filter((p) => this.isFile(p));
    if (cached.length) return cached;
    for (const dir of this.defaultDirs) if (this.isFile(`${dir}/${soname}`)) return [`${dir}/${soname}`];
    return [];
  }
}
