/**
 * How big a root file system is, measured the same way for every side of bench/trim.ts: the bytes of
 * its regular files (each inode once, so hard links count once) plus the length of each symlink's
 * target — what the files hold, not what a particular file system spends on blocks and directories.
 */
import { spawnSync } from 'node:child_process';
import { lstatSync, mkdtempSync, readdirSync, readlinkSync, rmSync } from 'node:fs';
import { join } from 'node:path';

export interface TreeSize {
  /** Regular-file bytes plus symlink target lengths. */
  bytes: number;
  files: number;
  symlinks: number;
  directories: number;
}

export function treeSize(root: string): TreeSize {
  const out: TreeSize = { bytes: 0, files: 0, symlinks: 0, directories: 0 };
  const seen = new Set<string>();
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      const st = lstatSync(path, { bigint: false });
      if (st.isDirectory()) {
        out.directories++;
        walk(path);
      } else if (st.isSymbolicLink()) {
        out.symlinks++;
        out.bytes += Buffer.byteLength(readlinkSync(path));
      } else if (st.isFile()) {
        const key = `${st.dev}:${st.ino}`;
        if (seen.has(key)) continue;
        seen.add(key);
        out.files++;
        out.bytes += st.size;
      }
    }
  };
  walk(root);
  return out;
}

/** Extract a tar archive into a scratch directory under `work`, measure it, remove it. */
export function tarSize(tar: string, work: string): TreeSize {
  const dir = mkdtempSync(join(work, 'extract-'));
  try {
    const r = spawnSync('tar', ['-xf', tar, '-C', dir], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`tar -xf ${tar} failed: ${r.stderr}`);
    return treeSize(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
