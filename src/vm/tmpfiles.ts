/**
 * The image's tmpfiles.d entries, done without systemd-tmpfiles at boot. Under QEMU's
 * TCG, systemd-tmpfiles-setup.service (a program linking systemd's 4 MB shared
 * library, run before sysinit.target) held the nginx VM's boot back by about 1.3 s.
 * Most of its work does not need the booted machine:
 *
 * - An entry outside /run is applied to the tree at build time, as
 *   `systemd-tmpfiles --create --remove --boot` would apply it to the initramfs's root
 *   (a ramfs, made anew from the same archive at every boot).
 * - /run is a new tmpfs at every boot: its directories, links and small files become
 *   a few BusyBox commands that the VM's early script runs (jeos-network.service, or
 *   BusyBox init's /etc/jeos/boot).
 * - Some entries have nothing to act on in a jeos VM: ACLs and file attributes (a
 *   ramfs keeps neither; systemd-tmpfiles fails those lines too), credentials (none
 *   are given), /dev (left to devtmpfs, as the service's --exclude-prefix=/dev does),
 *   the journal's group and ACLs when nobody but root could read it.
 *
 * An entry that fits none of these (a pattern in /run, a device node, content with
 * escapes, a specifier only the booted machine knows) keeps systemd-tmpfiles-setup,
 * and build.json names it, as it names what keeps systemd-sysctl.
 */
import { globToRegExp } from '../trim/index.js';
import { readAccounts, type Accounts, type ImageTree, type NodeMeta, type TreeNode } from '../tree/index.js';
import { shellQuote } from './busybox-network.js';
import { expandSpecifiers, readTmpfiles, type TmpfilesLine } from './tmpfiles-parse.js';

export interface TmpfilesContext {
  hostname: string;
  /** systemd's journald, which keeps the journal in /run/log/journal (Storage=volatile), or no journal at all (BusyBox init). */
  journal: 'journald' | 'none';
  sourceDateEpoch: number;
}

/** What build.json records, each entry as `file: line`. */
export interface TmpfilesRecord {
  on: string;
  /** Why systemd-tmpfiles-setup.service still runs, when it does: the first entry jeos cannot do. */
  reason?: string;
  /** Applied to the tree at build time. */
  build: string[];
  /** Made in /run at boot by BusyBox commands. */
  boot: string[];
  /** Entries that have nothing to act on in a jeos VM. */
  nothingToDo: Array<{ line: string; reason: string }>;
}

export interface TmpfilesPlan {
  record: TmpfilesRecord;
  /** Shell lines (with `$bb` set to BusyBox) that make the /run entries. */
  bootLines: string[];
}

type Area = 'build' | 'boot';
interface Entry {
  line: TmpfilesLine;
  where: string;
  /** The path inside the tree, without the leading slash (symlinks in its parents followed). */
  path: string;
  area: Area;
  glob: boolean;
  /** The argument, its specifiers expanded. */
  argument?: string;
}
type Verdict = { none: string } | { blocker: string } | { area: Area; path: string; glob: boolean; argument?: string };

const MODIFIERS = new Set(['+', '!', '-', '=', '~', '^', '$']);
const CREATE_DIR = new Set(['d', 'D', 'v', 'q', 'Q', 'e']);
const ADJUST = new Set(['z', 'Z']);
const NO_RAMFS_SUPPORT = new Set(['a', 'A', 'h', 'H', 't', 'T']);
const REMOVE = new Set(['r', 'R']);
const GLOB = /[*?[]/;
const JOURNAL_GROUPS = ['adm', 'systemd-journal'];

const at = (line: TmpfilesLine): string => `${line.file}: ${line.text}`;
const parentOf = (p: string): string => (p.includes('/') ? p.slice(0, p.lastIndexOf('/')) : '');
const under = (path: string, dir: string): boolean => path === dir || path.startsWith(`${dir}/`);

/** Users besides root who could read the journal through its group (systemd-journal) or ACLs (adm). */
export function journalReaders(accounts: Accounts): string[] {
  const readers = new Set<string>();
  for (const group of JOURNAL_GROUPS) {
    for (const member of accounts.members.get(group) ?? []) readers.add(member);
    const gid = accounts.groups.get(group);
    for (const [name, { gid: primary }] of accounts.users) if (gid !== undefined && primary === gid) readers.add(name);
  }
  readers.delete('root');
  return [...readers].sort();
}

function classify(line: TmpfilesLine, tree: ImageTree, ctx: TmpfilesContext, readers: readonly string[]): Verdict {
  const unknownModifier = [...line.modifiers].find((m) => !MODIFIERS.has(m));
  if (unknownModifier) return { blocker: `the modifier ${unknownModifier}` };
  if (line.modifiers.includes('^')) return { none: 'its content comes from a credential, and a jeos VM is given none' };
  if (line.type === 'x' || line.type === 'X') return { none: 'it only keeps a path from being cleaned by age, and nothing cleans at boot' };
  const raw = line.path;
  if (/^\/(run|var)\/log\/journal(\/|$)/.test(raw)) {
    if (ctx.journal === 'none') return { none: 'the VM runs no journald' };
    if (raw.startsWith('/var/')) return { none: 'journald keeps the journal in /run/log/journal (Storage=volatile)' };
    if (readers.length) return { blocker: `the journal's group and ACLs let ${readers.join(', ')} read it, and BusyBox cannot set ACLs` };
    return { none: `it lets members of ${JOURNAL_GROUPS.join(' and ')} read the journal, and the image has none besides root` };
  }
  const expanded = expandSpecifiers(raw, ctx);
  if ('unknown' in expanded) return { blocker: `${expanded.unknown} is known only once the machine has booted` };
  const argument = line.argument === undefined || line.modifiers.includes('~') ? { value: line.argument } : expandSpecifiers(line.argument, ctx);
  if ('unknown' in argument) return { blocker: `${argument.unknown} in the argument is known only once the machine has booted` };
  if (!expanded.value.startsWith('/')) return { blocker: 'the path is not absolute' };
  const glob = GLOB.test(expanded.value);
  let path: string;
  try {
    path = glob ? expanded.value.slice(1) : tree.resolve(expanded.value.slice(1));
  } catch {
    return { blocker: 'the path leads outside the image through a symlink' };
  }
  if (under(path, 'dev')) return { none: 'systemd-tmpfiles-setup.service leaves /dev to devtmpfs (--exclude-prefix=/dev)' };
  if (under(path, 'proc') || under(path, 'sys')) return { blocker: 'it writes to the kernel\'s files at boot' };
  if (NO_RAMFS_SUPPORT.has(line.type) && !under(path, 'run')) {
    return { none: 'the root is a ramfs, which keeps no ACLs or file attributes (systemd-tmpfiles fails this line too)' };
  }
  return { area: under(path, 'run') ? 'boot' : 'build', path, glob, ...(argument.value === undefined ? {} : { argument: argument.value }) };
}

interface Mode {
  bits: number;
  onlyNew: boolean;
  masked: boolean;
}

function parseMode(text: string | undefined): Mode | undefined | 'bad' {
  if (text === undefined) return undefined;
  const m = /^(:?)(~?)([0-7]{1,4})$/.exec(text);
  if (!m) return 'bad';
  return { bits: parseInt(m[3]!, 8), onlyNew: m[1] === ':', masked: m[2] === '~' };
}

/** A mode for an existing entry: `~` keeps the kinds of access (read, write, execute) the entry had none of. */
function adjustedMode(mode: Mode, old: number, isDir: boolean): number {
  if (!mode.masked) return mode.bits;
  let bits = mode.bits;
  if (!(old & 0o111)) bits &= ~0o111;
  if (!(old & 0o444)) bits &= ~0o444;
  if (!(old & 0o222)) bits &= ~0o222;
  if (!isDir) bits &= ~0o7000;
  return bits;
}

interface Owner {
  uid?: number;
  gid?: number;
  onlyNew: boolean;
}

function parseOwner(line: TmpfilesLine, accounts: Accounts): Owner | string {
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
function content(entry: Entry): string | undefined | 'unsupported' {
  if (entry.argument === undefined) return undefined;
  if (entry.line.modifiers.includes('~')) return Buffer.from(entry.argument, 'base64').toString('utf8');
  return /["'\\]/.test(entry.argument) ? 'unsupported' : entry.argument;
}

/** Paths first by their components, so that a directory comes before what is in it. */
function byPath(a: Entry, b: Entry): number {
  const pa = a.path.split('/');
  const pb = b.path.split('/');
  for (let i = 0; i < Math.min(pa.length, pb.length); i++) if (pa[i] !== pb[i]) return pa[i]! < pb[i]! ? -1 : 1;
  return pa.length - pb.length;
}

/** Which lines count: for one path, the first line that makes it and the first of each kind that adjusts it (later ones are ignored, as systemd-tmpfiles ignores duplicates). */
function firstPerPath(entries: Entry[]): { first: Entry[]; duplicates: Entry[] } {
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
 * The plan for the image's tmpfiles.d entries. `needsService` is set when any entry
 * cannot be done without systemd-tmpfiles; then nothing is applied and the plan only
 * names the entry. Otherwise `apply` changes the tree and `bootLines` make /run.
 */
export function planTmpfiles(tree: ImageTree, ctx: TmpfilesContext): TmpfilesPlan & { needsService?: string; apply: () => void } {
  const accounts = readAccounts(tree);
  const readers = journalReaders(accounts);
  const record: TmpfilesRecord = { on: '', build: [], boot: [], nothingToDo: [] };
  const entries: Entry[] = [];
  let needsService: string | undefined;
  for (const line of readTmpfiles(tree)) {
    const verdict = classify(line, tree, ctx, readers);
    if ('none' in verdict) record.nothingToDo.push({ line: at(line), reason: verdict.none });
    else if ('blocker' in verdict) needsService ??= `${at(line)} (${verdict.blocker})`;
    else entries.push({ line, where: at(line), ...verdict });
  }
  const { first, duplicates } = firstPerPath(entries);
  for (const d of duplicates) record.nothingToDo.push({ line: d.where, reason: 'an earlier line for the same path wins' });
  const ordered = first.sort(byPath);
  const boot = new BootScript();
  const made = new Set<string>();
  const ops: Array<() => void> = [];
  for (const entry of ordered) {
    const result = entry.area === 'boot' ? planBoot(entry, tree, accounts, boot, made) : planBuild(entry, tree, accounts, ctx.sourceDateEpoch, ops);
    if (result === undefined) (entry.area === 'boot' ? record.boot : record.build).push(entry.where);
    else if ('none' in result) record.nothingToDo.push({ line: entry.where, reason: result.none });
    else needsService ??= `${entry.where} (${result.blocker})`;
  }
  if (needsService) return { record: { on: '', build: [], boot: [], nothingToDo: [], reason: needsService }, bootLines: [], needsService, apply: () => {} };
  return { record, bootLines: boot.lines(), apply: () => ops.forEach((op) => op()) };
}

type Outcome = undefined | { none: string } | { blocker: string };

/** The BusyBox commands that make /run's entries, gathered so that each command runs once. */
class BootScript {
  private dirs: string[] = [];
  private links: string[] = [];
  private files: string[] = [];
  private modes = new Map<string, string[]>();
  private owners = new Map<string, string[]>();

  dir(path: string): void {
    this.dirs.push(path);
  }
  link(path: string, target: string, replace: boolean): void {
    this.links.push(`$bb ln -s${replace ? 'fn' : ''} ${shellQuote(target)} ${shellQuote(path)}`);
  }
  file(path: string, text: string | undefined, truncate: boolean): void {
    const write = text === undefined ? `: > ${shellQuote(path)}` : `printf %s ${shellQuote(text)} > ${shellQuote(path)}`;
    this.files.push(truncate ? write : `[ -e ${shellQuote(path)} ] || ${write}`);
  }
  /** `made`: a directory or file just made, which the service's umask (0022) already gave 0755 or 0644. */
  mode(path: string, bits: number, recursive = false, made?: 'dir' | 'file'): void {
    if ((made === 'dir' && bits === 0o755) || (made === 'file' && bits === 0o644)) return;
    const key = `${recursive ? '-R ' : ''}${bits.toString(8).padStart(4, '0')}`;
    this.modes.set(key, [...(this.modes.get(key) ?? []), path]);
  }
  owner(path: string, uid: number | undefined, gid: number | undefined, recursive = false): void {
    if ((uid ?? 0) === 0 && (gid ?? 0) === 0) return; // made by root, as root
    // `chown 33:` would also set the user's login group: only the ids given are named.
    const key = `${recursive ? '-R ' : ''}${uid ?? ''}${gid === undefined ? '' : `:${gid}`}`;
    this.owners.set(key, [...(this.owners.get(key) ?? []), path]);
  }
  lines(): string[] {
    const q = (paths: string[]) => paths.map(shellQuote).join(' ');
    return [
      ...(this.dirs.length ? [`$bb mkdir -p ${q(this.dirs)}`] : []),
      ...this.links,
      ...this.files,
      ...[...this.modes].map(([mode, paths]) => `$bb chmod ${mode} ${q(paths)}`),
      ...[...this.owners].map(([owner, paths]) => `$bb chown ${owner} ${q(paths)}`),
    ];
  }
}

/** /run at boot: a new, empty tmpfs, in which only systemd and journald have made their own directories. */
function planBoot(entry: Entry, tree: ImageTree, accounts: Accounts, boot: BootScript, made: Set<string>): Outcome {
  const { line } = entry;
  const path = `/${entry.path}`;
  const type = line.type;
  if (REMOVE.has(type)) return { none: '/run is a new, empty tmpfs at every boot' };
  if (type === 'C') {
    const source = entry.argument ?? `/usr/share/factory${path}`;
    return tree.get(source.slice(1)) ? { blocker: 'copying into /run at boot is left to systemd-tmpfiles' } : { none: `${source}, the source to copy, is not in the image` };
  }
  if (entry.glob) {
    if (!ADJUST.has(type) && !NO_RAMFS_SUPPORT.has(type) && type !== 'w') return { blocker: 'a pattern' };
    const re = globToRegExp(entry.path);
    return [...made].some((p) => re.test(p)) ? { blocker: 'a pattern matching entries made at boot' } : { none: 'nothing it matches has been made when systemd-tmpfiles-setup.service would run' };
  }
  const owner = parseOwner(line, accounts);
  if (typeof owner === 'string') return { none: owner };
  const mode = parseMode(line.mode);
  if (mode === 'bad') return { blocker: `the mode ${line.mode}` };
  const madeEarlier = made.has(entry.path);
  if (ADJUST.has(type) || NO_RAMFS_SUPPORT.has(type) || type === 'w') {
    if (!madeEarlier) {
      if (under(entry.path, 'run/systemd') || under(entry.path, 'run/credentials')) return { blocker: 'systemd may have made it before, and BusyBox runs beside it' };
      return { none: 'nothing has made it when systemd-tmpfiles-setup.service would run' };
    }
    if (!ADJUST.has(type)) return { blocker: 'BusyBox cannot set ACLs or file attributes, or write files systemd-tmpfiles would' };
    if (mode && !mode.masked) boot.mode(path, mode.bits, type === 'Z');
    else if (mode) return { blocker: 'a masked mode (~) at boot' };
    boot.owner(path, owner.uid, owner.gid, type === 'Z');
    return undefined;
  }
  if (CREATE_DIR.has(type)) {
    if (type === 'e') return madeEarlier ? undefined : { none: 'nothing has made it when systemd-tmpfiles-setup.service would run' };
    boot.dir(path);
    boot.mode(path, mode?.bits ?? 0o755, false, 'dir');
    boot.owner(path, owner.uid, owner.gid);
  } else if (type === 'L') {
    if (entry.argument === undefined) return { blocker: 'a link into /usr/share/factory at boot' };
    boot.link(path, entry.argument, line.modifiers.includes('+'));
  } else if (type === 'f' || type === 'F') {
    const text = content(entry);
    if (text === 'unsupported') return { blocker: 'content with quotes or escapes' };
    boot.file(path, text, type === 'F' || line.modifiers.includes('+'));
    boot.mode(path, mode?.bits ?? 0o644, false, 'file');
    boot.owner(path, owner.uid, owner.gid);
  } else return { blocker: `the type ${type} at boot` };
  made.add(entry.path);
  return undefined;
}

/** Everything outside /run: applied to the tree, which is the root at every boot. */
function planBuild(entry: Entry, tree: ImageTree, accounts: Accounts, mtime: number, ops: Array<() => void>): Outcome {
  const { line, path } = entry;
  const type = line.type;
  if (entry.glob) {
    if (!REMOVE.has(type) && !ADJUST.has(type)) return { blocker: 'a pattern' };
    const re = globToRegExp(path);
    const matches = tree.entries().map(([p]) => p).filter((p) => re.test(p));
    if (!matches.length) return { none: 'nothing in the image matches it' };
    return planBuildAt(matches, entry, tree, accounts, mtime, ops);
  }
  return planBuildAt([path], entry, tree, accounts, mtime, ops);
}

function planBuildAt(paths: string[], entry: Entry, tree: ImageTree, accounts: Accounts, mtime: number, ops: Array<() => void>): Outcome {
  const { line } = entry;
  const type = line.type;
  const owner = parseOwner(line, accounts);
  if (typeof owner === 'string') return { none: owner };
  const mode = parseMode(line.mode);
  if (mode === 'bad') return { blocker: `the mode ${line.mode}` };
  const plus = line.modifiers.includes('+');
  const meta = (bits: number): NodeMeta => ({ mode: bits, uid: owner.uid ?? 0, gid: owner.gid ?? 0, mtime });
  const adjust = (node: TreeNode) => {
    if (mode && !mode.onlyNew && node.kind !== 'symlink') node.mode = adjustedMode(mode, node.mode, node.kind === 'dir');
    if (!owner.onlyNew) {
      if (owner.uid !== undefined) node.uid = owner.uid;
      if (owner.gid !== undefined) node.gid = owner.gid;
    }
  };
  if (REMOVE.has(type)) {
    const present = paths.filter((p) => tree.get(p));
    if (!present.length) return { none: 'it is not in the image' };
    if (type === 'r' && present.some((p) => tree.get(p)!.kind === 'dir' && tree.list(p).length)) return { none: 'r does not remove a directory that is not empty' };
    ops.push(() => present.forEach((p) => tree.remove(p)));
    return undefined;
  }
  if (ADJUST.has(type)) {
    const present = paths.filter((p) => tree.get(p));
    if (!present.length) return { none: 'it is not in the image' };
    ops.push(() => {
      for (const p of present) {
        adjust(tree.get(p)!);
        if (type === 'Z') for (const [q, node] of tree.entries()) if (q.startsWith(`${p}/`)) adjust(node);
      }
    });
    return undefined;
  }
  const path = paths[0]!;
  const existing = tree.get(path);
  const replace = line.modifiers.includes('=');
  if (CREATE_DIR.has(type)) {
    if (existing && existing.kind !== 'dir' && !(replace && type !== 'e')) {
      return { none: type === 'e' ? 'it is not a directory' : `a ${existing.kind} is in its place (systemd-tmpfiles fails this line too)` };
    }
    if (!existing && type === 'e') return { none: 'it is not in the image' };
    ops.push(() => {
      const node = tree.get(path);
      if (node?.kind === 'dir') {
        adjust(node);
        // D, with --remove: what the directory holds is removed at every boot.
        if (type === 'D') for (const child of tree.list(path)) tree.remove(`${path}/${child}`);
      } else {
        if (node) tree.remove(path);
        tree.mkdirp(parentOf(path), { mode: 0o755, uid: 0, gid: 0, mtime });
        tree.put(path, { kind: 'dir', ...meta(mode?.bits ?? 0o755) });
      }
    });
    return undefined;
  }
  if (type === 'L') {
    if (entry.argument === undefined) return { blocker: 'a link into /usr/share/factory' };
    if (existing && !plus) return { none: 'something is already there' };
    const target = entry.argument;
    ops.push(() => {
      tree.remove(path);
      tree.mkdirp(parentOf(path), { mode: 0o755, uid: 0, gid: 0, mtime });
      tree.symlink(path, target, { mode: 0o777, uid: 0, gid: 0, mtime });
    });
    return undefined;
  }
  if (type === 'f' || type === 'F' || type === 'w') {
    const text = content(entry);
    if (text === 'unsupported') return { blocker: 'content with quotes or escapes' };
    const truncate = type === 'F' || (type === 'f' && plus);
    const target = existing?.kind === 'symlink' ? tree.resolve(path, { followLast: true }) : path;
    const node = tree.get(target);
    if (type === 'w') {
      if (node?.kind !== 'file') return { none: 'w writes only to a file that exists, and it is not in the image' };
      if (text === undefined) return { none: 'it has nothing to write' };
      ops.push(() => {
        node.data = plus ? Buffer.concat([node.data, Buffer.from(text)]) : Buffer.from(text);
        node.mtime = mtime;
      });
      return undefined;
    }
    if (node && node.kind !== 'file') return { none: `a ${node.kind} is in its place (systemd-tmpfiles fails this line too)` };
    ops.push(() => {
      const now = tree.get(target);
      if (now?.kind === 'file') {
        if (truncate) (now.data = Buffer.from(text ?? '')), (now.mtime = mtime);
        adjust(now);
      } else {
        tree.mkdirp(parentOf(target), { mode: 0o755, uid: 0, gid: 0, mtime });
        tree.writeFile(target, text ?? '', meta(mode?.bits ?? 0o644));
      }
    });
    return undefined;
  }
  if (type === 'C') {
    const source = entry.argument ?? `/usr/share/factory/${path}`;
    if (!tree.get(source.slice(1))) return { none: `${source}, the source to copy, is not in the image` };
    if (existing && !plus) return { none: 'something is already there' };
    return { blocker: 'copying at build time is not done yet' };
  }
  return { blocker: `the type ${type}` };
}
