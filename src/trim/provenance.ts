/**
 * Keeping the dpkg database truthful after a trim: each package's file list and
 * md5sums name only what is still in the image, and what was dropped is recorded
 * next to it, in /var/lib/jeos/trim/<package>.dropped (dpkg's own spelling of the
 * paths, one per line). `dpkg --verify` then checks exactly the files present.
 */
import type { ImageTree } from '../tree/index.js';
import { defaultMeta } from '../tree/tree.js';

const INFO = 'var/lib/dpkg/info';
export const DROPPED_DIR = 'var/lib/jeos/trim';

function present(tree: ImageTree, path: string): boolean {
  if (path === '/.') return true;
  try {
    return tree.get(tree.resolve(path)) !== undefined;
  } catch {
    return false;
  }
}

function rewrite(tree: ImageTree, path: string, text: string): void {
  const node = tree.get(path);
  const { kind: _kind, ...meta } = node ?? { kind: 'file', ...defaultMeta(0o644) };
  tree.writeFile(path, text, { mode: meta.mode, uid: meta.uid, gid: meta.gid, mtime: meta.mtime });
}

/** Rewrite every package's .list and .md5sums for the trimmed tree; returns the dropped paths per package id. */
export function recordTrimInDpkgDatabase(tree: ImageTree, ids: string[], mtime: number): Map<string, string[]> {
  const dropped = new Map<string, string[]>();
  for (const id of ids) {
    const list = tree.readFile(`${INFO}/${id}.list`);
    if (!list) continue;
    const lines = list.toString('utf8').split('\n').filter(Boolean);
    const kept = lines.filter((l) => present(tree, l));
    if (kept.length === lines.length) continue;
    const gone = lines.filter((l) => !present(tree, l));
    dropped.set(id, gone);
    rewrite(tree, `${INFO}/${id}.list`, kept.map((l) => `${l}\n`).join(''));
    const sums = tree.readFile(`${INFO}/${id}.md5sums`);
    if (sums) {
      const keptSums = sums
        .toString('utf8')
        .split('\n')
        .filter((l) => l && present(tree, `/${l.slice(l.indexOf('  ') + 2)}`));
      rewrite(tree, `${INFO}/${id}.md5sums`, keptSums.map((l) => `${l}\n`).join(''));
    }
    tree.mkdirp(DROPPED_DIR, { ...defaultMeta(0o755), mtime });
    tree.writeFile(`${DROPPED_DIR}/${id}.dropped`, gone.map((l) => `${l}\n`).join(''), { ...defaultMeta(0o644), mtime });
  }
  return dropped;
}
