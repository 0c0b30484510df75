/**
 * Literal file-system commands from maintainer scripts, carried out on the tree
 * in script order: mkdir, install, touch, `: > f`/`echo … > f`/`cat > f <<EOF`,
 * cp, ln -s, rm, rmdir, chown, chgrp, chmod and dpkg-statoverride --add (which
 * is also recorded in /var/lib/dpkg/statoverride). Owners are looked up in the
 * accounts the users effect wrote. A command whose path is missing, or whose
 * user does not exist, is marked not reproduced with the reason.
 */
import type { ImageTree, TreeNode } from '../../tree/index.js';
import { normalizePath } from '../../tree/index.js';
import { parentOf } from '../../util/path.js';
import { actionsOf, type Action, type ActionRecord } from '../actions.js';
import { applyMode } from '../maintscripts/file-commands.js';
import type { EffectReport } from '../types.js';
import { Changes, madeMeta, type EffectContext } from './context.js';

class Failure extends Error {}

export function configureFilesystem(ctx: EffectContext): EffectReport {
  const changes = new Changes();
  const overrides: string[] = [];
  let done = 0;
  const records = actionsOf(ctx.actions, 'mkdir', 'write-file', 'touch', 'copy', 'symlink', 'move', 'remove', 'chown', 'chmod', 'statoverride', 'setcap', 'divert');
  for (const r of records) {
    try {
      apply(ctx, r, changes, overrides);
      done++;
    } catch (e) {
      if (!(e instanceof Failure)) throw e;
      r.failed = e.message;
    }
  }
  if (overrides.length) {
    ctx.tree.writeFile('var/lib/dpkg/statoverride', overrides.join(''), madeMeta(ctx.options, 0o644));
    changes.add('var/lib/dpkg/statoverride');
  }
  const failed = records.length - done;
  return changes.report('filesystem', `${done} script file operations carried out${failed ? `, ${failed} not (see the script report)` : ''}`);
}

function apply(ctx: EffectContext, r: ActionRecord, changes: Changes, overrides: string[]): void {
  const { tree, options } = ctx;
  const a = r.action as Extract<Action, { kind: 'mkdir' | 'write-file' | 'touch' | 'copy' | 'symlink' | 'move' | 'remove' | 'chown' | 'chmod' | 'statoverride' | 'setcap' | 'divert' }>;
  switch (a.kind) {
    case 'mkdir':
      for (const p of a.paths) {
        const real = tree.resolve(p, { followLast: true });
        const node = tree.get(real);
        if (node) {
          if (node.kind !== 'dir') throw new Failure(`${p} exists and is not a directory`);
          continue;
        }
        if (!a.parents && !tree.isDir(parentOf(real))) throw new Failure(`the parent of ${p} does not exist`);
        tree.mkdirp(real, madeMeta(options, a.mode ?? 0o755));
        changes.add(real);
      }
      return;
    case 'write-file': {
      const real = tree.resolve(a.path, { followLast: true });
      if (!tree.isDir(parentOf(real))) throw new Failure(`the directory of ${a.path} does not exist`);
      const node = tree.get(real);
      if (node && node.kind !== 'file') throw new Failure(`${a.path} is a ${node.kind}`);
      const data = Buffer.from(a.content, 'latin1');
      const content = a.append && node ? Buffer.concat([node.data, data]) : data;
      tree.put(real, node ? { ...node, data: content } : { kind: 'file', data: content, ...madeMeta(options, 0o644) });
      changes.add(real);
      return;
    }
    case 'touch':
      for (const p of a.paths) {
        const real = tree.resolve(p, { followLast: true });
        if (tree.get(real)) continue;
        if (!tree.isDir(parentOf(real))) throw new Failure(`the directory of ${p} does not exist`);
        tree.writeFile(real, '', madeMeta(options, 0o644));
        changes.add(real);
      }
      return;
    case 'copy': {
      const srcPath = tree.resolve(normalizePath(a.from), { followLast: true });
      const src = tree.get(srcPath);
      if (src?.kind === 'dir') {
        if (!a.recursive) throw new Failure(`${a.from} is a directory (cp without -r)`);
        copyTree(ctx, a, srcPath, changes);
        return;
      }
      const data = tree.readFile(normalizePath(a.from));
      if (!src || data === undefined) throw new Failure(`${a.from} is not a file in the image`);
      let dest = tree.resolve(a.to, { followLast: true });
      if (tree.isDir(dest) && !a.noTargetDirectory) dest = `${dest}/${a.from.split('/').pop()}`;
      const existing = tree.get(dest);
      if (existing && a.onlyIfMissing) return;
      if (existing && existing.kind !== 'file') throw new Failure(`${a.to} is a ${existing.kind}`);
      if (!tree.isDir(parentOf(dest))) throw new Failure(`the directory of ${a.to} does not exist`);
      const meta = a.preserve
        ? { mode: src.mode, uid: src.uid, gid: src.gid, mtime: src.mtime }
        : existing
          ? { mode: existing.mode, uid: existing.uid, gid: existing.gid, mtime: options.sourceDateEpoch }
          : madeMeta(options, src.mode & 0o7755);
      tree.put(dest, { kind: 'file', data: Buffer.from(data), ...meta, ...(existing?.pkg ? { pkg: existing.pkg } : {}) });
      changes.add(dest);
      return;
    }
    case 'symlink': {
      let link = tree.resolve(a.link, { followLast: !a.noDereference });
      if (!a.noDereference && tree.isDir(link)) link = `${link}/${a.target.replace(/\/+$/, '').split('/').pop()}`;
      else link = tree.resolve(a.link);
      const existing = tree.get(link);
      if (existing?.kind === 'dir') throw new Failure(`${a.link} is a directory`);
      if (existing && !a.force) throw new Failure(`${a.link} already exists`);
      if (!tree.isDir(parentOf(link))) throw new Failure(`the directory of ${a.link} does not exist`);
      tree.symlink(link, a.target, madeMeta(options, 0o777));
      changes.add(link);
      return;
    }
    case 'move': {
      const from = tree.resolve(a.from);
      const node = tree.get(from);
      if (!node) throw new Failure(`${a.from} is not in the image`);
      let to = tree.resolve(a.to, { followLast: true });
      if (tree.isDir(to) && node.kind !== 'dir') to = `${to}/${from.split('/').pop()}`;
      else to = tree.resolve(a.to);
      if (to === from) return;
      if (to.startsWith(`${from}/`)) throw new Failure(`cannot move ${a.from} into itself`);
      if (!tree.isDir(parentOf(to))) throw new Failure(`the directory of ${a.to} does not exist`);
      if (tree.get(to)?.kind === 'dir') throw new Failure(`${a.to} is a directory`);
      const moved = node.kind === 'dir' ? tree.entries().filter(([p]) => p === from || p.startsWith(`${from}/`)) : [[from, node] as const];
      tree.remove(from);
      for (const [p, n] of moved) tree.put(to + p.slice(from.length), n);
      changes.add(from);
      changes.add(to);
      return;
    }
    case 'remove':
      for (const p of a.paths) {
        const real = tree.resolve(p);
        const node = tree.get(real);
        if (!node) continue;
        if (a.dirsOnly) {
          if (node.kind !== 'dir') throw new Failure(`${p} is not a directory`);
          if (tree.list(real).length) throw new Failure(`${p} is not empty`);
        } else if (node.kind === 'dir' && !a.recursive) throw new Failure(`${p} is a directory`);
        tree.remove(real);
        changes.add(real);
      }
      return;
    case 'chown': {
      const accounts = ctx.accounts!;
      const uid = a.user === undefined ? undefined : accounts.uid(a.user);
      if (a.user !== undefined && uid === undefined) throw new Failure(`user ${a.user} does not exist`);
      const gid = a.loginGroup ? accounts.primaryGid(a.user!) : a.group === undefined ? undefined : accounts.gid(a.group);
      if (a.group !== undefined && gid === undefined) throw new Failure(`group ${a.group} does not exist`);
      eachPath(a.paths, (p) =>
        forEachTarget(tree, p, a.recursive, false, (path, node) => {
          if (uid !== undefined) node.uid = uid;
          if (gid !== undefined) node.gid = gid;
          changes.add(path);
        }),
      );
      return;
    }
    case 'chmod':
      eachPath(a.paths, (p) =>
        forEachTarget(tree, p, a.recursive, true, (path, node) => {
          const mode = applyMode(node.mode, a.mode, node.kind === 'dir');
          if (mode === undefined) throw new Failure(`mode ${a.mode} is not understood`);
          node.mode = mode;
          changes.add(path);
        }),
      );
      return;
    case 'setcap': {
      const real = tree.resolve(a.path, { followLast: true });
      let node = tree.get(real);
      let at = real;
      if (node?.kind === 'hardlink') {
        at = node.target;
        node = tree.get(at);
      }
      if (node?.kind !== 'file') throw new Failure(`${a.path} is not a file in the image`);
      const xattrs = new Map(node.xattrs ?? []);
      if (a.value.length) xattrs.set('security.capability', a.value);
      else xattrs.delete('security.capability');
      if (xattrs.size) node.xattrs = xattrs;
      else delete node.xattrs;
      changes.add(at);
      return;
    }
    case 'divert': {
      // The database entry is written by the dpkg-database effect; --rename also moves the file.
      if (!a.rename) return;
      const from = tree.resolve(a.path);
      const to = tree.resolve(a.to);
      const node = tree.get(from);
      if (!node || tree.get(to)) return;
      if (!tree.isDir(parentOf(to))) throw new Failure(`the directory of ${a.to} does not exist`);
      tree.remove(from);
      tree.put(to, node);
      changes.add(from);
      changes.add(to);
      return;
    }
    case 'statoverride': {
      const accounts = ctx.accounts!;
      const uid = accounts.uid(a.user.replace(/^#/, ''));
      const gid = accounts.gid(a.group.replace(/^#/, ''));
      if (uid === undefined) throw new Failure(`user ${a.user} does not exist`);
      if (gid === undefined) throw new Failure(`group ${a.group} does not exist`);
      overrides.push(`${a.user} ${a.group} ${a.mode.toString(8)} ${a.path}\n`);
      // --update on a path that does not exist only warns in dpkg-statoverride: the override is recorded (chrony's /var/log/chrony, which its unit's LogsDirectory= makes).
      if (a.update && tree.get(tree.resolve(a.path, { followLast: true }))) {
        forEachTarget(tree, a.path, false, false, (path, node) => {
          node.uid = uid;
          node.gid = gid;
          node.mode = a.mode;
          changes.add(path);
        });
      }
      return;
    }
  }
}

/**
 * cp -r / cp -a of a directory: into DEST/NAME when DEST is a directory (DEST itself
 * with -T, or when the source ends in `/.`), else DEST is made. Files, links and
 * directories below are copied; with -a (preserve) their owners, modes and times too,
 * without it the copies are root's, at SOURCE_DATE_EPOCH, with the source's permission
 * bits less setuid. An existing file is replaced unless -n.
 */
function copyTree(ctx: EffectContext, a: Extract<Action, { kind: 'copy' }>, srcPath: string, changes: Changes): void {
  const { tree, options } = ctx;
  let dest = tree.resolve(a.to, { followLast: true });
  if (tree.isDir(dest) && !a.noTargetDirectory && !/\/\.\/?$/.test(a.from)) dest = `${dest}/${srcPath.split('/').pop()}`;
  if (dest === srcPath || dest.startsWith(`${srcPath}/`)) throw new Failure(`cannot copy ${a.from} into itself`);
  if (!tree.isDir(parentOf(dest))) throw new Failure(`the directory of ${a.to} does not exist`);
  const existing = tree.get(dest);
  if (existing && existing.kind !== 'dir') throw new Failure(`${a.to} is a ${existing.kind}`);
  const meta = (n: TreeNode) => (a.preserve ? { mode: n.mode, uid: n.uid, gid: n.gid, mtime: n.mtime } : madeMeta(options, n.mode & 0o1777));
  const below = tree.entries().filter(([p]) => p === srcPath || p.startsWith(`${srcPath}/`));
  for (const [p, n] of below) {
    const to = dest + p.slice(srcPath.length);
    const there = tree.get(to);
    if (n.kind === 'dir') {
      if (there?.kind === 'dir') continue;
      if (there) throw new Failure(`${to} is a ${there.kind}`);
      tree.put(to, { kind: 'dir', ...meta(n) });
    } else {
      if (there?.kind === 'dir') throw new Failure(`/${to} is a directory`);
      if (there && a.onlyIfMissing) continue;
      const node = n.kind === 'hardlink' ? tree.get(n.target) : n;
      if (node?.kind === 'file') tree.put(to, { kind: 'file', data: Buffer.from(node.data), ...meta(node) });
      else if (node?.kind === 'symlink') tree.symlink(to, node.target, meta(node));
      else throw new Failure(`${p} is a ${node?.kind ?? 'missing'} node, which cp does not copy here`);
    }
    changes.add(to);
  }
}

/**
 * chown, chgrp and chmod act on each path they can, as the tools do (they report the
 * others and exit non-zero): a missing path fails the command for that path only.
 */
function eachPath(paths: string[], fn: (path: string) => void): void {
  const failures: string[] = [];
  for (const p of paths) {
    try {
      fn(p);
    } catch (e) {
      if (!(e instanceof Failure)) throw e;
      failures.push(e.message);
    }
  }
  if (failures.length) throw new Failure(failures.length < paths.length ? `${failures.join('; ')}; done for the other paths` : failures.join('; '));
}

/** The node a command-line path names (following symlinks), and with `recursive` everything below it. */
function forEachTarget(tree: ImageTree, path: string, recursive: boolean, skipLinks: boolean, fn: (path: string, node: TreeNode) => void): void {
  const real = tree.resolve(path, { followLast: true });
  const node = tree.get(real);
  if (!node) throw new Failure(`${path} does not exist in the image`);
  const visit = (p: string, n: TreeNode): void => {
    if (skipLinks && n.kind === 'symlink') return;
    fn(p, n);
    if (n.kind === 'hardlink') {
      const target = tree.get(n.target);
      if (target) fn(n.target, target);
    }
  };
  visit(real, node);
  if (!recursive || node.kind !== 'dir') return;
  const prefix = real === '' ? '' : `${real}/`;
  for (const [p, n] of tree.entries()) if (p.startsWith(prefix) && p !== real) visit(p, n);
}

