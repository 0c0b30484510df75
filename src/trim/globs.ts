/**
 * `trim.keep` globs through directory links. A glob is matched against tree paths,
 * where a file reached through a link to a directory (/usr/share/app/lang →
 * ../../lib/app/lang) is stored under the link's target only; a user writes the
 * path as the program opens it. So each glob is also matched against the paths
 * below every directory link, spelled through the link. One link deep: a link
 * inside a linked directory is followed only when it is itself spelled in full.
 */
import type { ImageTree } from '../tree/index.js';

/** The directory part of a glob before its first wildcard (`usr/share/app/` for `/usr/share/app/*.d/**`). */
function literalDir(glob: string): string {
  const g = glob.replace(/^\/+/, '');
  const wild = g.search(/[*?[]/);
  const literal = wild < 0 ? g : g.slice(0, wild);
  return literal.slice(0, literal.lastIndexOf('/') + 1);
}

/** Paths (through a directory link) that each glob matches: the link's path plus the file's path below the target. */
export function keepGlobMatches(tree: ImageTree, globs: ReadonlyArray<{ glob: string; re: RegExp }>): Array<{ glob: string; path: string }> {
  if (!globs.length) return [];
  const entries = tree.entries();
  const links: Array<{ link: string; target: string }> = [];
  for (const [path, node] of entries) {
    if (node.kind !== 'symlink') continue;
    let target: string;
    try {
      target = tree.resolve(path, { followLast: true });
    } catch {
      continue;
    }
    if (tree.get(target)?.kind === 'dir' && target !== '') links.push({ link: path, target });
  }
  const out: Array<{ glob: string; path: string }> = [];
  for (const { glob, re } of globs) {
    const dir = literalDir(glob);
    for (const { link, target } of links) {
      // Only links the glob can reach: on its literal directory, or below it.
      if (!(`${link}/`.startsWith(dir) || dir.startsWith(`${link}/`))) continue;
      const prefix = `${target}/`;
      for (const [path, node] of entries) {
        if (node.kind === 'dir' || !path.startsWith(prefix)) continue;
        const spelled = `${link}/${path.slice(prefix.length)}`;
        if (re.test(spelled) && !re.test(path)) out.push({ glob, path: spelled });
      }
    }
  }
  return out;
}
