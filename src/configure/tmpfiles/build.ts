/**
 * The build-time half of the tmpfiles.d entries: everything outside /run is applied to
 * the tree, as `systemd-tmpfiles --create --remove --boot` would apply it to the root
 * the initramfs unpacks into at every boot.
 */
import type { Accounts, ImageTree, NodeMeta, TreeNode } from '../../tree/index.js';
import { parentOf } from '../../util/path.js';
import { globToRegExp } from '../../util/path-glob.js';
import { adjustedMode, ADJUST, content, CREATE_DIR, parseMode, parseOwner, REMOVE, type Entry, type Outcome } from './entry.js';

/** Everything outside /run: applied to the tree, which is the root at every boot. */
export function planBuild(entry: Entry, tree: ImageTree, accounts: Accounts, mtime: number, ops: Array<() => void>): Outcome {
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
  // Missing parents are made as systemd-tmpfiles makes them: 0755, root.
  const parents = (p: string) => tree.mkdirp(parentOf(p), { mode: 0o755, uid: 0, gid: 0, mtime });
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
        parents(path);
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
      parents(path);
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
        parents(target);
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
