/**
 * systemd's drop-in configuration directories (sysctl.d, modules-load.d): `*.conf` in
 * /etc, /run, /usr/local/lib and /usr/lib, a name in an earlier directory hiding the
 * same name in a later one, an empty file or a link to /dev/null masking it, and the
 * files read in the order of their names, whatever their directory.
 */
import type { ImageTree } from '../tree/index.js';

/** The files that count, in the order systemd reads them, with their text; `file` is an absolute path. */
export function readConfD(tree: ImageTree, dirs: readonly string[]): Array<{ file: string; text: string }> {
  const chosen = new Map<string, string>();
  for (const dir of dirs) {
    const node = tree.stat(dir);
    if (node?.kind !== 'dir') continue;
    for (const name of tree.list(dir)) {
      if (!name.endsWith('.conf') || chosen.has(name)) continue;
      chosen.set(name, `${dir}/${name}`);
    }
  }
  const files: Array<{ file: string; text: string }> = [];
  for (const name of [...chosen.keys()].sort()) {
    const path = chosen.get(name)!;
    const link = tree.get(path);
    if (link?.kind === 'symlink' && link.target === '/dev/null') continue;
    const data = tree.readFile(path);
    if (data) files.push({ file: `/${path}`, text: data.toString('utf8') });
  }
  return files;
}
