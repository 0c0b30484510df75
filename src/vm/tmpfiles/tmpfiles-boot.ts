/**
 * The /run half of the tmpfiles.d entries: /run is a new tmpfs at every boot, so its
 * directories, links and small files are made early by the VM's script
 * (jeos-network.service's, or BusyBox init's /etc/jeos/boot). They are written at
 * build time into one small tar archive, which one BusyBox process unpacks: under
 * TCG every process costs a tenth of a second or more, so one `tar` does the work of
 * the `mkdir`, `ln`, `chmod` and `chown` it replaces.
 */
import type { Accounts, ImageTree } from '../../tree/index.js';
import { globToRegExp } from '../../util/path-glob.js';
import { tarChunks, type TarItem } from '../../util/tar/chunks.js';
import { ADJUST, byComponents, content, CREATE_DIR, NO_RAMFS_SUPPORT, parseMode, parseOwner, REMOVE, under, type Entry, type Outcome } from '../../configure/tmpfiles/entry.js';

/** The archive of /run's entries, in the image. */
export const RUN_ARCHIVE = 'etc/jeos/tmpfiles-run.tar';
/** Made once the archive is unpacked, so that a restarted script does not unpack it again (systemd-tmpfiles-setup runs once a boot). */
export const RUN_MADE_FLAG = '/run/jeos-tmpfiles.done';

interface RunNode {
  kind: 'dir' | 'file' | 'symlink';
  mode: number;
  uid: number;
  gid: number;
  target?: string;
  text?: string;
}

/** /run as the entries leave it: each path made, with its final mode and owner. */
export class RunEntries {
  private nodes = new Map<string, RunNode>();
  private recursive: Array<{ path: string; change: (node: RunNode) => void }> = [];

  get size(): number {
    return this.nodes.size;
  }
  dir(path: string): void {
    this.nodes.set(path, { kind: 'dir', mode: 0o755, uid: 0, gid: 0 });
  }
  link(path: string, target: string): void {
    this.nodes.set(path, { kind: 'symlink', mode: 0o777, uid: 0, gid: 0, target });
  }
  file(path: string, text: string | undefined): void {
    this.nodes.set(path, { kind: 'file', mode: 0o644, uid: 0, gid: 0, text: text ?? '' });
  }
  /** With `recursive` (`Z`), everything under the path too, once all entries are made: systemd-tmpfiles takes a path's children before the path itself. */
  mode(path: string, bits: number, recursive = false): void {
    this.adjust(path, recursive, (node) => (node.mode = bits));
  }
  /** Only the ids given change (`chown 33:` would also set the user's login group). */
  owner(path: string, uid: number | undefined, gid: number | undefined, recursive = false): void {
    this.adjust(path, recursive, (node) => {
      if (uid !== undefined) node.uid = uid;
      if (gid !== undefined) node.gid = gid;
    });
  }
  private adjust(path: string, recursive: boolean, change: (node: RunNode) => void): void {
    if (recursive) this.recursive.push({ path, change });
    else change(this.nodes.get(path)!);
  }

  /** The members, each directory before what is in it. */
  items(mtime: number): TarItem[] {
    const nodes = new Map([...this.nodes].map(([p, node]) => [p, { ...node }]));
    for (const { path, change } of this.recursive) {
      // The directories `tar` makes on the way to an entry (as `mkdir -p` would) are under the path too.
      for (const below of [...nodes.keys()].filter((p) => p.startsWith(`${path}/`))) {
        for (let parent = below.slice(0, below.lastIndexOf('/')); parent.length > path.length; parent = parent.slice(0, parent.lastIndexOf('/'))) {
          if (!nodes.has(parent)) nodes.set(parent, { kind: 'dir', mode: 0o755, uid: 0, gid: 0 });
        }
      }
      for (const [p, node] of nodes) if ((p === path || p.startsWith(`${path}/`)) && node.kind !== 'symlink') change(node);
    }
    return [...nodes]
      .sort(([a], [b]) => byComponents(a, b))
      .map(([path, { kind, mode, uid, gid, target, text }]) => {
        const data = kind === 'file' ? Buffer.from(text!, 'utf8') : undefined;
        const entry = { path: path.slice(1), type: kind, mode, uid, gid, mtime, size: data?.length ?? 0 };
        return { entry: target === undefined ? entry : { ...entry, linkname: target }, ...(data ? { data } : {}) };
      });
  }
  archive(mtime: number): Buffer {
    return Buffer.concat([...tarChunks(this.items(mtime))]);
  }
  /** The script's line: BusyBox's tar keeps each member's mode and owner, and makes missing parents as `mkdir -p` would. */
  lines(): string[] {
    if (this.nodes.size === 0) return [];
    return [`[ -e ${RUN_MADE_FLAG} ] || { $bb tar -xpf /${RUN_ARCHIVE} -C / && : > ${RUN_MADE_FLAG}; }`];
  }
}

/** /run at boot: a new, empty tmpfs, in which only systemd and journald have made their own directories. */
export function planBoot(entry: Entry, tree: ImageTree, accounts: Accounts, boot: RunEntries, made: Set<string>): Outcome {
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
    if (mode) boot.mode(path, mode.bits);
    boot.owner(path, owner.uid, owner.gid);
  } else if (type === 'L') {
    if (entry.argument === undefined) return { blocker: 'a link into /usr/share/factory at boot' };
    boot.link(path, entry.argument);
  } else if (type === 'f' || type === 'F') {
    const text = content(entry);
    if (text === 'unsupported') return { blocker: 'content with quotes or escapes' };
    boot.file(path, text);
    if (mode) boot.mode(path, mode.bits);
    boot.owner(path, owner.uid, owner.gid);
  } else return { blocker: `the type ${type} at boot` };
  made.add(entry.path);
  return undefined;
}

