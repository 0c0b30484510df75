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
import type { TrimRule } from './rules.js';
import { scriptCommands, shebangOf } from './scripts.js';
import type { KeepReason, MissingFile } from './types.js';

const MAX_HOPS = 40;
/** Kept as data: configuration, state, licences; nothing in them is run on their account. */
const PASSIVE = new Set<KeepReason['why']>(['area', 'copyright', 'locale', 'layout', 'link']);
/** Kept because something runs them. */
const RUN = new Set<KeepReason['why']>(['command', 'healthcheck', 'unit', 'interpreter', 'script']);

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
  private readonly queue: Array<{ path: string; run: boolean; elfOnly?: boolean; inherited: InheritedRpath }> = [];
  /**
   * The analyses queued for each path, by whether it is run and what its loader passed on: a library
   * two programs load inherits each one's DT_RPATH, and may find its own libraries in either.
   */
  private readonly analysed = new Map<string, Set<string>>();
  private readonly unresolved: MissingFile[] = [];
  private readonly reaches: Array<{ rule: TrimRule; match: (p: string) => boolean }>;
  private readonly defaultDirs: string[];

  constructor(
    private readonly tree: ImageTree,
    private readonly options: ReachOptions,
  ) {
    this.reaches = options.rules.filter((r) => r.when.reaches).map((rule) => ({ rule, match: globMatcher(rule.when.reaches!) }));
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
    for (let item = this.queue.shift(); item !== undefined; item = this.queue.shift()) this.analyse(item.path, item.run, item.inherited, item.elfOnly);
    const loaded = new Set([...this.kept.keys()].map((p) => posix.basename(p)));
    this.missing.push(...this.unresolved.filter((m) => !loaded.has(m.what)));
    this.unresolved.length = 0;
  }

  fire(rule: TrimRule, by: string): void {
    if (this.fired.has(rule.name)) return;
    const fired: FiredRule = { rule, by, files: 0 };
    this.fired.set(rule.name, fired);
    const match = globMatcher(rule.keep.flatMap((g) => this.expandGlob(g)));
    for (const [path, node] of this.tree.entries()) {
      if (node.kind === 'dir' || !match(path) || this.options.dropped(path)) continue;
      if (this.keep(path, { why: 'rule', detail: rule.name, from: by })) fired.files++;
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
    this.analyseLater(path, RUN.has(origin), inherited);
    for (const { rule, match } of this.reaches) if (match(path)) this.fire(rule, path);
  }

  private analyseLater(path: string, run: boolean, inherited: InheritedRpath, elfOnly = false): void {
    const key = `${run}\0${inherited.join(':')}`;
    const done = this.analysed.get(path) ?? this.analysed.set(path, new Set()).get(path)!;
    if (done.has(key)) return;
    done.add(key);
    this.queue.push({ path, run, inherited, elfOnly });
  }

  /** ELF objects are followed wherever they are kept; a script only when it is run, or executable. */
  private analyse(path: string, run: boolean, inherited: InheritedRpath, elfOnly = false): void {
    const data = this.tree.readFile(path);
    if (!data || data.length < 4) return;
    if (isElf(data)) this.analyseElf(path, data, inherited);
    else if (!elfOnly && data[0] === 0x23 && data[1] === 0x21 && (run || (this.tree.stat(path)!.mode & 0o111) !== 0)) this.analyseScript(path, data);
  }

  private analyseElf(path: string, data: Buffer, inherited: InheritedRpath): void {
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
    const search = librarySearch(info, posix.dirname(`/${path}`), inherited, this.options.triplet);
    const dirs = search.dirs.map((d) => d.replace(/^\/+/, ''));
    for (const soname of info.needed) {
      const found = this.findLibrary(soname, dirs);
      // Not found by its own search path, it may still be loaded already by the program (through the
      // program's RUNPATH): decided once everything reachable is known.
      if (found.length === 0) this.unresolved.push({ what: soname, neededBy: path, why: 'needed' });
      for (const lib of found) this.keep(lib, { why: 'needed', from: path, detail: soname }, true, search.inherited);
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
