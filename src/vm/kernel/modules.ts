/**
 * Kernel module selection: from the modules a Debian kernel package ships, keep
 * only the ones the image asks for and what they depend on, and drop the rest.
 *
 * Dependencies come from each module's own `.modinfo` (`depends=`, written by
 * modpost; `softdep=` and `weakdep=` are followed too, since modprobe loads soft
 * dependencies and weak ones are what initramfs tools include). Modules built into
 * the kernel (`modules.builtin`) count as present. The package ships no
 * modules.dep — its postinst runs depmod — so after trimming, the depmod files are
 * written for the kept modules (see depmod.ts): libkmod looks modules up only in
 * the binary `.bin` indexes, so they must exist and agree with what is kept.
 */
import { availableParallelism } from 'node:os';
import { JeosError } from '../../errors.js';
import { modulesDirOf, type ImageTree } from '../../tree/index.js';
import { decompress, type Compression } from '../../unpack/index.js';
import { depmod, DEPMOD_FILES, dependsOf, moduleNameOf, normalizeAlias, type ModuleRecord } from './depmod.js';
import { readModuleElf } from './module-elf.js';

/** What a VM on QEMU's virtio devices needs; filesystem modules are added by name. */
export const DEFAULT_MODULES: readonly string[] = ['virtio_blk', 'virtio_net', 'virtio_console', 'virtio_rng', 'virtio_pci'];

const MODULE_FILE = /\.ko(\.xz|\.zst|\.gz)?$/;

export interface KeptModule {
  name: string;
  /** Tree path of the module file. */
  path: string;
  /** Why it is kept: `wanted`, `needed by X`, `soft dependency of X`, `weak dependency of X`. */
  why: string[];
  /** Firmware files the module may load (`firmware=` in its modinfo). */
  firmware: string[];
}

export interface ModuleSelection {
  version: string;
  /** Tree path of the modules directory. */
  modulesDir: string;
  /** Modules kept, by name. */
  keep: KeptModule[];
  /** Tree paths of the module files to drop, sorted. */
  drop: string[];
  /** Wanted (or depended-on) names the kernel has built in. */
  builtin: string[];
  /** Soft or weak dependencies that name no module the package has (modprobe skips those too). */
  unresolved: Array<{ module: string; kind: 'softdep' | 'weakdep'; target: string }>;
}

export interface SelectOptions {
  /** Follow `softdep=` and `weakdep=` of kept modules (default true). */
  softDependencies?: boolean;
  /** Modules decompressed at once (default: one per CPU). */
  concurrency?: number;
}

function compressionOf(path: string): Compression {
  if (path.endsWith('.xz')) return 'xz';
  if (path.endsWith('.zst')) return 'zstd';
  if (path.endsWith('.gz')) return 'gzip';
  return 'none';
}

function levenshtein(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) row[j] = Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = row;
  }
  return prev[b.length]!;
}

/** Close names for a module that does not exist: the nearest by edits, then names containing it. */
export function similarNames(name: string, known: Iterable<string>, limit = 5): string[] {
  const all = [...new Set(known)].sort();
  const scored = all.map((k) => [k, levenshtein(name, k)] as const).filter(([, d]) => d <= Math.max(2, Math.floor(name.length / 3)));
  const best = Math.min(...scored.map(([, d]) => d));
  const nearest = scored.filter(([, d]) => d === best).map(([k]) => k);
  const containing = all.filter((k) => k.includes(name) && !nearest.includes(k));
  return [...nearest, ...containing].slice(0, limit);
}

/** A glob as modprobe matches aliases (fnmatch: `*`, `?`, `[…]`). */
function aliasMatcher(pattern: string): (alias: string) => boolean {
  if (!/[*?[]/.test(pattern)) return (alias) => alias === pattern;
  const re = new RegExp(`^${pattern.replace(/[.+^${}()|\\]/g, '\\$&').replaceAll('*', '.*').replaceAll('?', '.')}$`);
  return (alias) => re.test(alias);
}

/** The modules of one kernel in the tree, read on demand. */
class ModuleSet {
  readonly files = new Map<string, string>();
  readonly builtin = new Set<string>();
  readonly builtinAliases = new Set<string>();
  private readonly records = new Map<string, Promise<ModuleRecord>>();
  private aliasIndex: Promise<Array<[(alias: string) => boolean, string]>> | undefined;

  constructor(
    readonly tree: ImageTree,
    readonly version: string,
    readonly dir: string,
    private readonly concurrency: number,
  ) {
    const prefix = `${dir}/`;
    for (const [path, node] of tree.entries()) {
      if (!path.startsWith(prefix) || !MODULE_FILE.test(path) || (node.kind !== 'file' && node.kind !== 'hardlink')) continue;
      const name = moduleNameOf(path);
      const other = this.files.get(name);
      if (other) {
        throw new JeosError('E_VM_MODULE_DUPLICATE', `kernel ${version} has two files for module ${name}: /${other} and /${path}`, {
          hint: 'keep one package that provides this module',
        });
      }
      this.files.set(name, path);
    }
    for (const line of this.text('modules.builtin')?.split('\n') ?? []) if (/^[A-Za-z]/.test(line)) this.builtin.add(moduleNameOf(line));
    for (const entry of this.text('modules.builtin.modinfo')?.split('\0') ?? []) {
      const m = /^[^.=]+\.alias=(.+)$/.exec(entry);
      const alias = m && normalizeAlias(m[1]!);
      if (alias) this.builtinAliases.add(alias);
    }
  }

  text(name: string): string | undefined {
    return this.tree.readFile(`${this.dir}/${name}`)?.toString('latin1');
  }

  read(name: string): Promise<ModuleRecord> {
    let record = this.records.get(name);
    if (!record) {
      const path = this.files.get(name)!;
      record = (async () => {
        const raw = this.tree.readFile(path);
        if (!raw) throw new Error(`module ${path} has no contents`);
        const relPath = path.slice(this.dir.length + 1);
        const data = await decompress(raw, compressionOf(path), { label: `kernel ${this.version}`, member: relPath });
        const elf = readModuleElf(data, `/${path}`);
        return { name, relPath, info: elf.info, exports: elf.exports, imports: elf.imports };
      })();
      this.records.set(name, record);
    }
    return record;
  }

  async readAll(names: string[]): Promise<ModuleRecord[]> {
    const out: ModuleRecord[] = new Array(names.length);
    let next = 0;
    const worker = async () => {
      while (next < names.length) {
        const i = next++;
        out[i] = await this.read(names[i]!);
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.concurrency, names.length) }, worker));
    return out;
  }

  /** The module an alias leads to; reads every module the first time (only soft dependencies on aliases need it). */
  async moduleForAlias(alias: string): Promise<string | undefined> {
    this.aliasIndex ??= this.readAll([...this.files.keys()].sort()).then((records) =>
      records.flatMap((r) => r.info.filter(([k]) => k === 'alias').map(([, v]) => [aliasMatcher(normalizeAlias(v) ?? v), r.name] as [(a: string) => boolean, string])),
    );
    const normal = normalizeAlias(alias) ?? alias;
    return (await this.aliasIndex).find(([matches]) => matches(normal))?.[1];
  }
}

function softTargets(value: string): string[] {
  return value.split(/\s+/).filter((t) => t !== '' && t !== 'pre:' && t !== 'post:');
}

function openModules(tree: ImageTree, version: string, options: SelectOptions): ModuleSet {
  const dir = modulesDirOf(tree, version);
  if (!dir) {
    throw new JeosError('E_VM_NO_MODULES', `the image has no modules directory for kernel ${version} (/usr/lib/modules/${version})`, {
      hint: 'the kernel package is incomplete, or the version does not match /boot/vmlinuz-*',
    });
  }
  return new ModuleSet(tree, version, dir, options.concurrency ?? availableParallelism());
}

async function select(set: ModuleSet, wanted: readonly string[], options: SelectOptions): Promise<ModuleSelection> {
  const why = new Map<string, string[]>();
  const builtin = new Set<string>();
  const unresolved: ModuleSelection['unresolved'] = [];
  const unknown: string[] = [];
  let queue: string[] = [];
  const want = (name: string, reason: string): boolean => {
    if (set.files.has(name)) {
      const reasons = why.get(name);
      if (reasons) {
        if (!reasons.includes(reason)) reasons.push(reason);
      } else {
        why.set(name, [reason]);
        queue.push(name);
      }
      return true;
    }
    if (set.builtin.has(name)) {
      builtin.add(name);
      return true;
    }
    return false;
  };
  for (const raw of wanted) {
    const name = raw.trim().replaceAll('-', '_');
    if (name !== '' && !want(name, 'wanted')) unknown.push(raw);
  }
  if (unknown.length > 0) {
    const known = [...set.files.keys(), ...set.builtin];
    throw new JeosError('E_VM_MODULE_UNKNOWN', `kernel ${set.version} has no module ${unknown.map((u) => JSON.stringify(u)).join(', ')}`, {
      hint: 'name modules as modprobe does (file name without .ko; - and _ are the same); list them with: find /usr/lib/modules -name "*.ko*"',
      details: unknown.map((u) => {
        const close = similarNames(u.trim().replaceAll('-', '_'), known);
        return close.length ? `${u}: did you mean ${close.join(', ')}?` : `${u}: no module with a similar name`;
      }),
    });
  }

  while (queue.length > 0) {
    const level = queue;
    queue = [];
    for (const record of await set.readAll(level)) {
      for (const dep of dependsOf(record)) {
        if (!want(dep, `needed by ${record.name}`)) {
          throw new JeosError('E_VM_MODULE_MISSING', `kernel module ${record.name} needs ${dep}, which kernel ${set.version} does not have`, {
            hint: 'the kernel package is incomplete or mixed with modules built for another kernel',
          });
        }
      }
      if (options.softDependencies === false) continue;
      for (const [kind, label] of [['softdep', 'soft'], ['weakdep', 'weak']] as const) {
        for (const value of record.info.filter(([k]) => k === kind).map(([, v]) => v)) {
          for (const target of softTargets(value)) {
            const name = target.replaceAll('-', '_');
            const reason = `${label} dependency of ${record.name}`;
            if (want(name, reason) || set.builtinAliases.has(normalizeAlias(target) ?? target)) continue;
            const viaAlias = await set.moduleForAlias(target);
            if (viaAlias) want(viaAlias, reason);
            else unresolved.push({ module: record.name, kind, target });
          }
        }
      }
    }
  }

  const keep: KeptModule[] = [];
  for (const [name, reasons] of [...why].sort(([a], [b]) => (a < b ? -1 : 1))) {
    const record = await set.read(name);
    const firmware = record.info.filter(([k]) => k === 'firmware').map(([, v]) => v);
    keep.push({ name, path: set.files.get(name)!, why: reasons, firmware });
  }
  const drop = [...set.files].filter(([name]) => !why.has(name)).map(([, path]) => path).sort();
  return { version: set.version, modulesDir: set.dir, keep, drop, builtin: [...builtin].sort(), unresolved };
}

/**
 * Which module files of kernel `version` the wanted modules need (names as modprobe
 * takes them; `-` and `_` are the same). Reads only the modules it keeps, unless a
 * soft dependency names an alias. Unknown names are an error that suggests close ones.
 */
export async function selectKernelModules(tree: ImageTree, version: string, wanted: readonly string[], options: SelectOptions = {}): Promise<ModuleSelection> {
  return select(openModules(tree, version, options), wanted, options);
}

export interface ModuleTrim extends ModuleSelection {
  /** Tree paths of the depmod files written (modules.dep, modules.dep.bin, …). */
  written: string[];
  /** Bytes of module files removed. */
  droppedBytes: number;
  /** Directories removed because trimming left them empty (tree paths, deepest first). */
  removedDirs: string[];
}

/**
 * Remove every module of kernel `version` that the wanted ones do not need (and
 * directories left empty), then write the depmod files for the kept set and cut
 * modules.order down to it, so modprobe, udev's autoloading and `modinfo` see a
 * consistent module tree.
 */
export async function trimKernelModules(tree: ImageTree, version: string, wanted: readonly string[], options: SelectOptions = {}): Promise<ModuleTrim> {
  const set = openModules(tree, version, options);
  const selection = await select(set, wanted, options);
  let droppedBytes = 0;
  for (const path of selection.drop) {
    droppedBytes += tree.readFile(path)?.length ?? 0;
    tree.remove(path);
  }
  const removedDirs = removeEmptyDirs(tree, selection.modulesDir);

  const records = await set.readAll(selection.keep.map((k) => k.name));
  const dir = selection.modulesDir;
  const orderNode = tree.get(`${dir}/modules.order`);
  // The files depmod would have made at install time; their time is the package's.
  const meta = { mode: 0o644, uid: 0, gid: 0, mtime: orderNode?.mtime ?? tree.get(dir)?.mtime ?? 0 };
  if (orderNode?.kind === 'file') {
    const kept = new Set(records.map((r) => r.relPath.replace(/\.ko(\.[a-z]+)$/, '.ko')));
    const lines = orderNode.data.toString('latin1').split('\n').filter((line) => kept.has(line));
    orderNode.data = Buffer.from(lines.map((l) => `${l}\n`).join(''), 'latin1');
  }
  const files = depmod({
    modules: records,
    order: tree.readFile(`${dir}/modules.order`),
    builtin: tree.readFile(`${dir}/modules.builtin`),
    builtinModinfo: tree.readFile(`${dir}/modules.builtin.modinfo`),
  });
  const written: string[] = [];
  for (const name of DEPMOD_FILES) {
    written.push(tree.writeFile(`${dir}/${name}`, files.get(name)!, meta));
  }
  return { ...selection, written, droppedBytes, removedDirs };
}

/** Remove directories under `root` that hold nothing, deepest first; returns them. */
function removeEmptyDirs(tree: ImageTree, root: string): string[] {
  const dirs = tree
    .entries()
    .filter(([path, node]) => node.kind === 'dir' && path.startsWith(`${root}/`))
    .map(([path]) => path)
    .reverse();
  const removed: string[] = [];
  for (const dir of dirs) {
    if (tree.list(dir).length > 0) continue;
    tree.remove(dir);
    removed.push(dir);
  }
  return removed;
}
