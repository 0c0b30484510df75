/**
 * An unpacked root directory as a target: every path with lstat's type, mode and owner,
 * files hashed. Symlinks are not followed, and the walk stays on the root's file system
 * (as `find -xdev`): a live root's /proc or /sys is one directory, not its contents.
 */
import { lstat, readdir, readFile, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import { Collector, DPKG_STATUS, sha256 } from './collect.js';
import type { EntryType, ObservedEntry } from './types.js';

/** Directories read at once, and files of one directory read at once. */
const PARALLEL = 16;

function typeOf(st: { isFile(): boolean; isDirectory(): boolean; isSymbolicLink(): boolean; isCharacterDevice(): boolean; isBlockDevice(): boolean }): EntryType {
  if (st.isFile()) return 'file';
  if (st.isDirectory()) return 'dir';
  if (st.isSymbolicLink()) return 'symlink';
  if (st.isCharacterDevice()) return 'char';
  if (st.isBlockDevice()) return 'block';
  return 'fifo';
}

/**
 * Read a root directory. `sizeOf(path)` is the baseline's size for a file, so a file
 * whose size already differs is not read at all.
 */
export async function readDirectory(root: string, sizeOf: (path: string) => number | undefined): Promise<Collector> {
  const out = new Collector();
  const rootStat = await lstat(root);
  out.put('/', { type: 'dir', mode: rootStat.mode & 0o7777, uid: rootStat.uid, gid: rootStat.gid });
  const queue: string[] = ['/'];
  let running = 0;
  let failed: unknown;
  await new Promise<void>((resolve) => {
    const pump = () => {
      if (failed !== undefined) return running === 0 && resolve();
      while (running < PARALLEL && queue.length) {
        const dir = queue.shift()!;
        running++;
        visit(dir)
          .catch((e) => (failed ??= e))
          .finally(() => {
            running--;
            pump();
          });
      }
      if (running === 0 && !queue.length) resolve();
    };
    const visit = async (dir: string) => {
      const names = await readdir(join(root, dir));
      for (let i = 0; i < names.length; i += PARALLEL) await Promise.all(names.slice(i, i + PARALLEL).map(async (name) => {
          const path = dir === '/' ? `/${name}` : `${dir}/${name}`;
          const full = join(root, path);
          const st = await lstat(full);
          const type = typeOf(st);
          const entry: ObservedEntry = { type, mode: st.mode & 0o7777, uid: st.uid, gid: st.gid };
          if (type === 'file') {
            entry.size = st.size;
            const baseline = sizeOf(path);
            if (baseline === undefined || baseline === st.size || path === DPKG_STATUS) {
              const data = await readFile(full);
              entry.sha256 = sha256(data);
              out.put(path, entry, data);
              return;
            }
          } else if (type === 'symlink') entry.target = await readlink(full);
          else if (type === 'char' || type === 'block') entry.device = `${Math.floor(st.rdev / 256) & 0xfff}:${(st.rdev & 0xff) | ((st.rdev >> 12) & 0xfff00)}`;
          else if (type === 'dir' && st.dev === rootStat.dev) queue.push(path);
          out.put(path, entry);
      }));
    };
    pump();
  });
  if (failed !== undefined) throw failed;
  return out;
}
