/**
 * Placing one data.tar entry in the image tree, as dpkg would on a merged-/usr system:
 * paths checked, parents resolved through symlinks (never out of the root), directory
 * entries over links to directories skipped, file conflicts settled by conflicts.ts.
 */
import { JeosError } from '../errors.js';
import { normalizePath, type ImageTree, type NodeMeta, type TreeNode } from '../tree/index.js';
import { parentOf } from '../util/path.js';
import { settle } from './conflicts.js';
import type { Owner, PackageState } from './state.js';
import type { TarEntry } from './tar.js';
import type { Diversion, UnpackStats } from './types.js';

export interface PlaceOptions {
  /** Keep device nodes and FIFOs (unpack.allowDevices); otherwise they are refused. */
  allowDevices: boolean;
}

export function placeEntry(
  tree: ImageTree,
  pkg: PackageState,
  entry: TarEntry,
  owners: Map<string, Owner>,
  diversions: ReadonlyMap<string, Diversion>,
  stats: UnpackStats,
  options: PlaceOptions = { allowDevices: false },
): void {
  stats.entries++;
  // JSON.stringify escapes control characters, so the name prints on one line as it is.
  const where = `${pkg.deb.label}: entry ${shown(entry.path)}`;
  if (entry.path.startsWith('/')) {
    throw new JeosError('E_DEB_UNSAFE_ENTRY', `${where} has an absolute path`, {
      hint: 'a .deb must hold relative paths (./usr/...); this package is broken or hostile',
    });
  }
  checkEntry(entry, where, options);
  try {
    const rel = normalizePath(entry.path);
    const listed = rel === '' ? '/.' : `/${rel}`;
    checkLength(listed, where);
    pkg.paths.push(listed);
    if (rel === '') return; // the image root is jeos's

    const diversion = entry.type === 'dir' ? undefined : diversions.get(listed);
    const target = diversion && diversion.package !== pkg.name ? normalizePath(diversion.to) : rel;
    const slash = target.lastIndexOf('/');
    const dir = tree.resolve(parentOf(target), { followLast: true });
    const real = dir === '' ? target.slice(slash + 1) : `${dir}/${target.slice(slash + 1)}`;
    const existing = tree.get(real);
    const meta: NodeMeta = { mode: entry.mode, uid: entry.uid, gid: entry.gid, mtime: entry.mtime, pkg: pkg.id };
    if (entry.xattrs) meta.xattrs = entry.xattrs;

    if (entry.type === 'dir') {
      // A directory where a symlink to a directory already is (bin -> usr/bin): keep the link, as dpkg does.
      if (existing?.kind === 'symlink' && tree.stat(real)?.kind === 'dir') return;
      if (existing && existing.kind !== 'dir') {
        const outcome = settle(tree, pkg, listed, real, existing, { kind: 'dir', ...meta }, owners);
        if (outcome !== 'replace') return;
        owners.delete(real);
      }
      tree.put(real, { kind: 'dir', ...meta });
      return;
    }

    const node = nodeOf(tree, pkg, entry, meta, where);
    if (existing) {
      if (existing.kind === 'dir') {
        const owner = existing.pkg ?? 'jeos';
        throw new JeosError('E_UNPACK_FILE_CONFLICT', `${where}: ${pkg.id} ships a ${node.kind} at /${real}, where ${owner} has a directory`, {
          hint: 'the two packages cannot be installed together; remove one of them from the image',
        });
      }
      const outcome = settle(tree, pkg, listed, real, existing, node, owners);
      if (outcome !== 'replace') {
        // The file on "disk" is the other package's; this package's hard links to the name still work, as with dpkg.
        if (node.kind === 'file' && existing.kind === 'file') pkg.files.set(rel, real);
        return;
      }
    }
    tree.put(real, node);
    owners.set(real, { pkg, listed });
    if (node.kind === 'file') {
      pkg.files.set(rel, real);
      stats.files++;
      stats.bytes += node.data.length;
    }
  } catch (e) {
    throw asEntryError(e, where);
  }
}

/** A name as JSON text, its middle left out when it is very long. */
function shown(path: string): string {
  return JSON.stringify(path.length > 240 ? `${path.slice(0, 120)}…${path.slice(-80)}` : path);
}

/** Control characters (C0 and DEL): dpkg's file lists are one path per line, and no tool expects them in a name. */
const CONTROL = /[\u0000-\u001f\u007f]/;
/** Linux's NAME_MAX (bytes of one component) and PATH_MAX (bytes of a path, its NUL included). */
const NAME_MAX = 255;
const PATH_MAX = 4096;

function checkEntry(entry: TarEntry, where: string, options: PlaceOptions): void {
  const bad = CONTROL.exec(entry.path) ?? (entry.type === 'hardlink' ? CONTROL.exec(entry.linkname) : null);
  if (bad) {
    const code = `U+${bad[0].charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}`;
    const which = CONTROL.test(entry.path) ? 'its name' : `its hard link target ${shown(entry.linkname)}`;
    throw new JeosError('E_DEB_BAD_NAME', `${where}: ${which} holds a control character (${code})`, {
      hint: "dpkg lists a package's files one per line (/var/lib/dpkg/info/*.list), so a name with a newline would forge the database; the package is broken or hostile",
    });
  }
  if (entry.type === 'symlink' && Buffer.byteLength(entry.linkname) >= PATH_MAX) {
    throw tooLong(where, `its symlink target is ${Buffer.byteLength(entry.linkname)} bytes long, past PATH_MAX (${PATH_MAX - 1} bytes)`);
  }
  if ((entry.type === 'char' || entry.type === 'block' || entry.type === 'fifo') && !options.allowDevices) {
    const what = entry.type === 'fifo' ? 'a FIFO' : `a ${entry.type} device (${entry.devmajor}:${entry.devminor})`;
    throw new JeosError('E_DEB_SPECIAL_FILE', `${where} is ${what}; Debian Policy forbids device nodes and FIFOs in a package's data`, {
      hint: 'the package is broken or hostile; to keep such entries anyway (they are recorded in the image, nothing is created on the host), set unpack.allowDevices: true in jeos.yaml',
    });
  }
}

/** A path the kernel would refuse with ENAMETOOLONG. */
function checkLength(listed: string, where: string): void {
  const bytes = Buffer.byteLength(listed);
  if (bytes >= PATH_MAX) throw tooLong(where, `its path is ${bytes} bytes long, past PATH_MAX (${PATH_MAX - 1} bytes)`);
  for (const name of listed.split('/')) {
    const length = Buffer.byteLength(name);
    if (length > NAME_MAX) throw tooLong(where, `its component ${JSON.stringify(name.slice(0, 32) + '…')} is ${length} bytes long, past NAME_MAX (${NAME_MAX} bytes)`);
  }
}

function tooLong(where: string, why: string): JeosError {
  return new JeosError('E_DEB_NAME_TOO_LONG', `${where}: ${why}`, {
    hint: 'the kernel cannot hold such a name (ENAMETOOLONG), so neither can the image; the package is broken or hostile',
  });
}

function nodeOf(tree: ImageTree, pkg: PackageState, entry: TarEntry, meta: NodeMeta, where: string): TreeNode {
  switch (entry.type) {
    case 'file':
      return { kind: 'file', data: entry.data, ...meta };
    case 'symlink':
      return { kind: 'symlink', target: entry.linkname, ...meta };
    case 'char':
    case 'block':
      return { kind: entry.type, major: entry.devmajor, minor: entry.devminor, ...meta };
    case 'fifo':
      return { kind: 'fifo', ...meta };
    case 'hardlink': {
      const target = pkg.files.get(normalizePath(entry.linkname));
      const file = target === undefined ? undefined : tree.get(target);
      if (target === undefined || file?.kind !== 'file') {
        throw new JeosError('E_DEB_BAD_HARDLINK', `${where} is a hard link to ${JSON.stringify(entry.linkname)}, which is not a regular file earlier in the same package`, {
          hint: 'the package is malformed; a hard link must name a file shipped before it in the same data.tar',
        });
      }
      // A hard link shares its inode, so it has the file's metadata.
      const { kind: _kind, data: _data, ...fileMeta } = file;
      return { kind: 'hardlink', target, ...fileMeta, pkg: pkg.id };
    }
    case 'dir':
      throw new Error('unreachable: directories are placed by placeEntry');
  }
}

const TREE_ERRORS: Record<string, { code: string; what: string; hint: string }> = {
  E_TREE_UNSAFE_PATH: {
    code: 'E_DEB_UNSAFE_ENTRY',
    what: 'contains a ".." component',
    hint: 'a .deb must not climb out of the directory it is unpacked in; this package is broken or hostile',
  },
  E_TREE_ESCAPE: {
    code: 'E_DEB_SYMLINK_ESCAPE',
    what: 'would be written outside the image root, through a symlink',
    hint: 'a symlink in the image climbs above the root; this package (or an earlier one) is broken or hostile',
  },
  E_TREE_SYMLINK_LOOP: {
    code: 'E_DEB_SYMLINK_LOOP',
    what: 'lies under a symlink loop',
    hint: 'symlinks in the image point at each other; check the packages that ship them',
  },
  E_TREE_NOT_A_DIRECTORY: {
    code: 'E_UNPACK_NOT_A_DIRECTORY',
    what: 'lies under something that is not a directory',
    hint: 'another package ships a file where this package expects a directory; the two cannot be installed together',
  },
};

function asEntryError(e: unknown, where: string): unknown {
  if (!(e instanceof JeosError)) return e;
  const mapped = TREE_ERRORS[e.code];
  if (!mapped) return e;
  return new JeosError(mapped.code, `${where} ${mapped.what} (${e.message})`, { hint: mapped.hint, cause: e });
}
