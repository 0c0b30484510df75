/**
 * The /run half of the tmpfiles.d entries: /run is a new tmpfs at every boot, so its
 * directories, links and small files are made by a few BusyBox commands, run early
 * (jeos-network.service's script, or BusyBox init's /etc/jeos/boot).
 */
import { globToRegExp } from '../trim/index.js';
import type { Accounts, ImageTree } from '../tree/index.js';
import { shellQuote } from './busybox-network.js';
import { ADJUST, content, CREATE_DIR, NO_RAMFS_SUPPORT, parseMode, parseOwner, REMOVE, under, type Entry, type Outcome } from './tmpfiles-entry.js';

/** The BusyBox commands that make /run's entries, gathered so that each command runs once. */
export class BootScript {
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
export function planBoot(entry: Entry, tree: ImageTree, accounts: Accounts, boot: BootScript, made: Set<string>): Outcome {
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

