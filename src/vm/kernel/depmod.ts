/**
 * What `depmod` writes into /usr/lib/modules/<version>/, computed from the modules
 * themselves, without running it (the kernel package's postinst runs depmod; jeos
 * runs no maintainer scripts, and a build host need not have kmod).
 *
 * The files follow kmod's depmod (tools/depmod.c): modules ordered by
 * modules.order, dependencies ordered by depmod's topological sort, the same
 * headers and line formats, and binary indexes built by the same trie writer — so
 * for the same modules they are byte-identical to depmod's output (checked against
 * the real depmod by the tests). One difference: depmod learns dependencies by
 * matching undefined symbols to exports, jeos reads the `depends=` list modpost
 * wrote into each module from the same symbol tables. modules.symbols lists the
 * same lines in a stable order (depmod's follows its hash table).
 */
import { KmodIndex } from './kmod-index.js';

export interface ModuleRecord {
  /** Module name, `-` already turned into `_` (`virtio_net`). */
  name: string;
  /** Path relative to the modules directory (`kernel/drivers/net/virtio_net.ko.xz`). */
  relPath: string;
  /** `.modinfo` key/value pairs in section order. */
  info: Array<[string, string]>;
  /** Exported symbols. */
  exports: string[];
  /** Symbols needed from elsewhere, in symbol-table order. */
  imports: string[];
}

/** Every file depmod writes, in the order depmod writes them. */
export const DEPMOD_FILES = [
  'modules.dep',
  'modules.dep.bin',
  'modules.alias',
  'modules.alias.bin',
  'modules.softdep',
  'modules.weakdep',
  'modules.symbols',
  'modules.symbols.bin',
  'modules.builtin.bin',
  'modules.builtin.alias.bin',
  'modules.devname',
] as const;

export type DepmodFile = (typeof DEPMOD_FILES)[number];

export interface DepmodInput {
  modules: ModuleRecord[];
  /** Contents of modules.order, modules.builtin and modules.builtin.modinfo, when the package has them. */
  order?: Buffer;
  builtin?: Buffer;
  builtinModinfo?: Buffer;
}

/** kmod's modname_normalize: the file name up to its first `.`, `-` as `_`. */
export function moduleNameOf(path: string): string {
  const base = path.slice(path.lastIndexOf('/') + 1);
  const dot = base.indexOf('.');
  return (dot < 0 ? base : base.slice(0, dot)).replaceAll('-', '_');
}

/** kmod's alias_normalize: `-` as `_`, except inside `[…]`; undefined for an unmatched bracket. */
export function normalizeAlias(alias: string): string | undefined {
  let out = '';
  for (let i = 0; i < alias.length; i++) {
    const c = alias[i]!;
    if (c === ']') return undefined;
    if (c === '[') {
      const close = alias.indexOf(']', i);
      if (close < 0) return undefined;
      out += alias.slice(i, close + 1);
      i = close;
      continue;
    }
    out += c === '-' ? '_' : c;
  }
  return out;
}

function values(mod: ModuleRecord, key: string): string[] {
  return mod.info.filter(([k]) => k === key).map(([, v]) => v);
}

/** The module names in a `depends=` value. */
export function dependsOf(mod: ModuleRecord): string[] {
  return values(mod, 'depends')
    .flatMap((v) => v.split(','))
    .map((n) => n.trim().replaceAll('-', '_'))
    .filter((n) => n !== '');
}

interface Mod {
  rec: ModuleRecord;
  idx: number;
  deps: Mod[];
  users: number;
  depSortIdx: number;
}

/** Modules in depmod's order: as modules.order lists them, then the others by path. */
function sortModules(input: DepmodInput): ModuleRecord[] {
  const rank = new Map<string, number>();
  const lines = input.order?.toString('latin1').split('\n') ?? [];
  lines.forEach((line, i) => {
    if (line !== '' && !rank.has(line)) rank.set(line, i);
  });
  // modules.order names the uncompressed path (`…/virtio_net.ko`).
  const uncompressed = (rel: string) => `${rel.slice(0, rel.lastIndexOf('/') + 1)}${rel.slice(rel.lastIndexOf('/') + 1).replace(/\.ko(\.[a-z]+)?$/, '.ko')}`;
  const key = (m: ModuleRecord) => rank.get(uncompressed(m.relPath));
  return [...input.modules].sort((a, b) => {
    const ra = key(a);
    const rb = key(b);
    if (ra !== undefined && rb !== undefined) return ra - rb;
    if (ra !== undefined) return -1;
    if (rb !== undefined) return 1;
    return a.relPath < b.relPath ? -1 : a.relPath > b.relPath ? 1 : 0;
  });
}

/** depmod_calculate_dependencies: Kahn's algorithm with a stack, modules without users first. */
function topologicalSort(mods: Mod[]): void {
  const users = mods.map((m) => m.users);
  const roots: number[] = [];
  for (const m of mods) if (users[m.idx] === 0) roots.push(m.idx);
  let sorted = 0;
  while (roots.length > 0) {
    const src = mods[roots.pop()!]!;
    src.depSortIdx = sorted++;
    for (const dst of src.deps) {
      if (--users[dst.idx]! === 0) roots.push(dst.idx);
    }
  }
  if (sorted < mods.length) {
    const cyclic = mods.filter((m) => users[m.idx]! > 0).map((m) => m.rec.name);
    throw new Error(`kernel modules depend on each other in a cycle: ${cyclic.join(', ')}`);
  }
  for (const m of mods) m.deps.sort((a, b) => a.depSortIdx - b.depSortIdx);
}

function allSortedDependencies(mod: Mod): Mod[] {
  const seen = new Set<Mod>();
  const visit = (m: Mod) => {
    for (const d of m.deps) {
      if (seen.has(d)) continue;
      seen.add(d);
      visit(d);
    }
  };
  visit(mod);
  return [...seen].sort((a, b) => a.depSortIdx - b.depSortIdx);
}

/** Each module's `.modinfo` builtin entries: `name.key=value`, NUL-separated. */
function builtinAliases(modinfo: Buffer): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (const entry of modinfo.toString('latin1').split('\0')) {
    const dot = entry.indexOf('.');
    const eq = entry.indexOf('=', dot + 1);
    if (dot <= 0 || eq < 0 || entry.slice(dot + 1, eq) !== 'alias' || eq + 1 === entry.length) continue;
    out.push([entry.slice(0, dot), entry.slice(eq + 1)]);
  }
  return out;
}

const text = (s: string) => Buffer.from(s, 'latin1');

/** Every file depmod would write for these modules. */
export function depmod(input: DepmodInput): Map<DepmodFile, Buffer> {
  const mods: Mod[] = sortModules(input).map((rec, idx) => ({ rec, idx, deps: [], users: 0, depSortIdx: Number.MAX_SAFE_INTEGER }));
  const byName = new Map(mods.map((m) => [m.rec.name, m]));
  // A symbol exported twice belongs to the module loaded last (depmod's hash_add replaces).
  const owners = new Map<string, Mod>();
  for (const m of mods) for (const sym of m.rec.exports) owners.set(sym, m);
  const addDependency = (m: Mod, dep: Mod | undefined) => {
    if (!dep || dep === m || m.deps.includes(dep)) return;
    m.deps.push(dep);
    dep.users++;
  };
  for (const m of mods) {
    // depmod's order: the owners of the module's undefined symbols, in symbol-table
    // order; then whatever `depends=` names that no symbol led to.
    for (const sym of m.rec.imports) addDependency(m, owners.get(sym));
    for (const name of dependsOf(m.rec)) addDependency(m, byName.get(name));
  }
  topologicalSort(mods);

  const out = new Map<DepmodFile, Buffer>();
  const depLines: string[] = [];
  const depIndex = new KmodIndex();
  for (const m of mods) {
    const line = [`${m.rec.relPath}:`, ...allSortedDependencies(m).map((d) => d.rec.relPath)].join(' ');
    depLines.push(`${line}\n`);
    depIndex.insert(m.rec.name, line, m.idx);
  }
  out.set('modules.dep', text(depLines.join('')));
  out.set('modules.dep.bin', depIndex.toBuffer());

  let aliases = '# Aliases extracted from modules themselves.\n';
  const aliasIndex = new KmodIndex();
  for (const m of mods) {
    for (const alias of values(m.rec, 'alias')) {
      aliases += `alias ${alias} ${m.rec.name}\n`;
      const normal = normalizeAlias(alias);
      if (normal !== undefined) aliasIndex.insert(normal, m.rec.name, m.idx);
    }
  }
  out.set('modules.alias', text(aliases));
  out.set('modules.alias.bin', aliasIndex.toBuffer());

  for (const [file, key, header] of [
    ['modules.softdep', 'softdep', '# Soft dependencies extracted from modules themselves.\n'],
    ['modules.weakdep', 'weakdep', '# Weak dependencies extracted from modules themselves.\n'],
  ] as const) {
    let body = header;
    for (const m of mods) for (const v of values(m.rec, key)) body += `${key} ${m.rec.name} ${v}\n`;
    out.set(file, text(body));
  }

  let symbols = '# Aliases for symbols, used by symbol_request().\n';
  const symbolIndex = new KmodIndex();
  for (const [sym, m] of owners) {
    symbols += `alias symbol:${sym} ${m.rec.name}\n`;
    symbolIndex.insert(`symbol:${sym}`, m.rec.name, m.idx);
  }
  out.set('modules.symbols', text(symbols));
  out.set('modules.symbols.bin', symbolIndex.toBuffer());

  const builtinIndex = new KmodIndex();
  for (const line of input.builtin?.toString('latin1').split('\n') ?? []) {
    if (/^[A-Za-z]/.test(line)) builtinIndex.insert(moduleNameOf(line), '', 0);
  }
  out.set('modules.builtin.bin', builtinIndex.toBuffer());

  const builtinAliasIndex = new KmodIndex();
  for (const [name, alias] of input.builtinModinfo ? builtinAliases(input.builtinModinfo) : []) {
    const normal = normalizeAlias(alias);
    if (normal !== undefined) builtinAliasIndex.insert(normal, name, 0);
  }
  out.set('modules.builtin.alias.bin', builtinAliasIndex.toBuffer());

  let devnames = '';
  for (const m of mods) {
    let devname: string | undefined;
    let node: string | undefined;
    for (const alias of values(m.rec, 'alias')) {
      const dev = /^(char|block)-major-(\d+)-(\d+)/.exec(alias);
      if (alias.startsWith('devname:')) devname = alias.slice('devname:'.length);
      else if (dev) node = `${dev[1] === 'char' ? 'c' : 'b'}${Number(dev[2])}:${Number(dev[3])}`;
      if (devname !== undefined && node !== undefined) break;
    }
    if (devname === undefined || node === undefined) continue;
    if (devnames === '') devnames = '# Device nodes to trigger on-demand module loading.\n';
    devnames += `${m.rec.name} ${devname} ${node}\n`;
  }
  out.set('modules.devname', text(devnames));
  return out;
}
