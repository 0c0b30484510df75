/**
 * `jeos disk add` never edits the disk file in place: it copies the disk beside itself
 * (`.<name>.jeos-add-<pid>`, sparse, so only the used bytes are copied), edits the copy,
 * fsyncs it and renames it over the disk, then fsyncs the directory. A rename is atomic, so
 * a kill at any moment leaves the disk file either exactly as it was, byte for byte, or with
 * the new version complete. A killed add leaves its copy beside the disk; the next add
 * removes it (or refuses while the add that made it still runs).
 */
import { execFile } from 'node:child_process';
import { access, constants, open, readdir, realpath, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { JeosError } from '../../errors.js';
import { processAlive } from '../../util/process.js';

export interface StagedCopy {
  /** The copy to edit. */
  path: string;
  /** The disk it replaces (symbolic links followed). */
  disk: string;
  /** Copies an earlier, killed add had left beside the disk, removed. */
  staleRemoved: string[];
  /** The copy, fsynced, becomes the disk. */
  commit(beforeRename?: () => void): Promise<void>;
  /** The copy goes; the disk stays as it was. */
  discard(): Promise<void>;
}

const prefixFor = (disk: string) => `.${basename(disk)}.jeos-add-`;


/** The copies of `disk` a killed jeos disk add left (none while another add is running: E_DISK_BUSY). */
export async function staleCopies(disk: string): Promise<string[]> {
  const dir = dirname(disk);
  const prefix = prefixFor(disk);
  const found: string[] = [];
  for (const name of await readdir(dir)) {
    if (!name.startsWith(prefix)) continue;
    const pid = Number(name.slice(prefix.length));
    if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && processAlive(pid)) {
      throw new JeosError('E_DISK_BUSY', `another jeos disk add (process ${pid}) is writing ${disk}: its copy ${join(dir, name)} is there`, {
        hint: `wait for it to finish; if no jeos disk add runs, remove ${join(dir, name)}`,
      });
    }
    found.push(join(dir, name));
  }
  return found;
}

export async function stageCopy(diskPath: string): Promise<StagedCopy> {
  const disk = await realpath(diskPath);
  // A device's node must not be replaced by a file: jeos disk add edits image files only.
  if (!(await stat(disk)).isFile()) {
    throw new JeosError('E_DISK_NOT_FILE', `${diskPath} is not a disk image file (a device or another special file)`, {
      hint: 'add the version to the image file, then write that to the device (dd, or the hypervisor\'s import)',
    });
  }
  await access(disk, constants.W_OK).catch((e: NodeJS.ErrnoException) => {
    throw new JeosError('E_DISK_OPEN', `cannot write ${diskPath}: ${e.code ?? e.message}`, { hint: 'check the file\'s permissions (and that no VM is running it)' });
  });
  const stale = await staleCopies(disk);
  for (const p of stale) await rm(p, { force: true });
  const path = join(dirname(disk), `${prefixFor(disk)}${process.pid}`);
  const discard = () => rm(path, { force: true });
  try {
    await new Promise<void>((resolve, reject) =>
      execFile('cp', ['--sparse=auto', '--reflink=auto', '--preserve=mode', '--', disk, path], (error, _stdout, stderr) =>
        error ? reject(new Error(stderr.trim() || error.message)) : resolve(),
      ),
    );
  } catch (e) {
    await discard();
    throw new JeosError('E_DISK_COPY', `cannot copy ${diskPath} beside itself to edit the copy: ${(e as Error).message}`, {
      hint: `jeos disk add edits a copy in ${dirname(disk)} and renames it over the disk, so a kill leaves the disk as it was: it needs that directory writable and room there for the disk's used bytes`,
      cause: e,
    });
  }
  return {
    path,
    disk,
    staleRemoved: stale,
    discard,
    async commit(beforeRename) {
      const fh = await open(path, 'r+');
      try {
        await fh.sync();
      } finally {
        await fh.close();
      }
      beforeRename?.();
      await rename(path, disk);
      const dir = await open(dirname(disk), 'r');
      try {
        await dir.sync();
      } finally {
        await dir.close();
      }
    },
  };
}
