/**
 * One tmpfiles.d entry as jeos acts on it: where it acts (the tree at build time, or
 * /run at boot), and what its mode, owner and argument fields mean (tmpfiles.d(5)).
 * Shared by the build-time half (build.ts: a VM's tree and a container image's) and a VM's
 * boot-time half (src/vm/tmpfiles/tmpfiles-boot.ts).
 */
import type { Accounts, ImageTree } from '../../tree/index.js';
import { expandSpecifiers, type SpecifierValues, type TmpfilesLine } from './parse.js';

export type Area = 'build' | 'boot';
export interface Entry {
  line: TmpfilesLine;
  where: string;
  /** The path inside the tree, without the leading slash (symlinks in its parents followed). */
  path: string;
  area: Area;
  glob: boolean;
  /** The argument, its specifiers expanded. */
  argument?: string;
}
export type Verdict = { none: string } | { blocker: string } | { area: Area; path: string; glob: boolean; argument?: string };

/** What a line came to: done (undefined), nothing to do (with the reason), or a reason to keep systemd-tmpfiles-setup. */
export type Outcome = undefined | { none: string } | { blocker: string };

export const MODIFIERS = new Set(['+', '!', '-', '=', '~', '^', '$']);
export const CREATE_DIR = new Set(['d', 'D', 'v', 'q', 'Q', 'e']);
export const ADJUST = new Set(['z', 'Z']);
export const NO_RAMFS_SUPPORT = new Set(['a', 'A', 'h', 'H', 't', 'T']);
export const REMOVE = new Set(['r', 'R']);
export const GLOB = /[*?[]/;
export const JOURNAL_GROUPS = ['adm', 'systemd-journal'];

export const at = (line: TmpfilesLine): string => `${line.file}: ${line.text}`;
export const under = (path: string, dir: string): boolean => path === dir || path.startsWith(`${dir}/`);

export interface Mode {
  bits: number;
  onlyNew: boolean;
  masked: boolean;
}

export function parseMode(text: string | undefined): Mode | undefined | 'bad' {
  if (text === undefined) return undefined;
  const m = /^(:?)(~?)([0-7]{1,4})$/.exec(text);
  if (!m) return 'bad';
  return { bits: parseInt(m[3]!, 8), onlyNew: m[1] === ':', masked: m[2] === '~' };
}

/** A mode for an existing entry: `~` keeps the kinds of access (read, write, execute) the entry had none of. */
export function adjustedMode(mode: Mode, old: number, isDir: boolean): number {
  if (!mode.masked) return mode.bits;
  let bits = mode.bits;
  if (!(old & 0o111)) bits &= ~0o111;
  if (!(old & 0o444)) bits &= ~0o444;
  if (!(old & 0o222)) bits &= ~0o222;
  if (!isDir) bits &= ~0o7000;
  return bits;
}

export interface Owner {
  uid?: number;
  gid?: number;
  onlyNew: boolean;
}

export function parseOwner(line: TmpfilesLine, accounts: Accounts): Owner | string {
  const owner: Owner = { onlyNew: false };
  const id = (text: string, names: Map<string, number>, what: string): number | string => {
    const name = text.replace(/^:/, '');
    if (text.startsWith(':')) owner.onlyNew = true;
    if (/^\d+$/.test(name)) return Number(name);
    if (name === 'root') return 0; // systemd knows root without a user database, as it knows 0
    return names.get(name) ?? `no ${what} ${name} in the image (systemd-tmpfiles fails this line too)`;
  };
  if (line.user !== undefined) {
    const uid = id(line.user, new Map([...accounts.users].map(([n, u]) => [n, u.uid])), 'user');
    if (typeof uid === 'string') return uid;
    owner.uid = uid;
  }
  if (line.group !== undefined) {
    const gid = id(line.group, accounts.groups, 'group');
    if (typeof gid === 'string') return gid;
    owner.gid = gid;
  }
  return owner;
}

/** The argument of f and w lines: plain text only (escapes and quotes are left to systemd-tmpfiles). */
export function content(entry: Entry): string | undefined | 'unsupported' {
  if (entry.argument === undefined) return undefined;
  if (entry.line.modifiers.includes('~')) return Buffer.from(entry.argument, 'base64').toString('utf8');
  return /["'\\]/.test(entry.argument) ? 'unsupported' : entry.argument;
}


/** Paths compared component by component, so that a directory comes before what is in it. */
export function byComponents(a: string, b: string): number {
  const pa = a.split('/');
  const pb = b.split('/');
  for (let i = 0; i < Math.min(pa.length, pb.length); i++) if (pa[i] !== pb[i]) return pa[i]! < pb[i]! ? -1 : 1;
  return pa.length - pb.length;
}

/** Which lines count: for one path, the first line that makes it and the first of each kind that adjusts it (later ones are ignored, as systemd-tmpfiles ignores duplicates). */
export function firstPerPath(entries: Entry[]): { first: Entry[]; duplicates: Entry[] } {
  const seen = new Set<string>();
  const first: Entry[] = [];
  const duplicates: Entry[] = [];
  for (const e of entries) {
    const kind = CREATE_DIR.has(e.line.type) || 'fFwLCpcb'.includes(e.line.type) ? 'make' : e.line.type;
    const key = `${e.path}\0${kind}`;
    (seen.has(key) ? duplicates : first).push(e);
    seen.add(key);
  }
  return { first, duplicates };
}

/**
 * Where a line acts in the tree: its path and argument with their specifiers expanded,
 * the symlinks among its parents followed (/var/run/x is /run/x; a pattern's own
 * components are matched later), or why that cannot be known at build time. `when`
 * names the moment a specifier jeos does not know becomes known ("the machine has
 * booted", "the container runs").
 */
export function entryTarget(
  line: TmpfilesLine,
  tree: ImageTree,
  values: SpecifierValues,
  when: string,
): { problem: string } | { path: string; glob: boolean; argument?: string } {
  const expanded = expandSpecifiers(line.path, values);
  if ('unknown' in expanded) return { problem: `${expanded.unknown} is known only once ${when}` };
  const argument = line.argument === undefined || line.modifiers.includes('~') ? { value: line.argument } : expandSpecifiers(line.argument, values);
  if ('unknown' in argument) return { problem: `${argument.unknown} in the argument is known only once ${when}` };
  if (!expanded.value.startsWith('/')) return { problem: 'the path is not absolute' };
  let path: string;
  try {
    const parts = expanded.value.slice(1).split('/');
    const first = parts.findIndex((p) => GLOB.test(p));
    path = first < 0 ? tree.resolve(parts.join('/')) : [tree.resolve(parts.slice(0, first).join('/'), { followLast: true }), ...parts.slice(first)].filter(Boolean).join('/');
  } catch {
    return { problem: 'the path leads outside the image through a symlink' };
  }
  return { path, glob: GLOB.test(expanded.value), ...(argument.value === undefined ? {} : { argument: argument.value }) };
}
