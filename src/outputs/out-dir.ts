/**
 * The output directory and the few names jeos keeps inside it, checked the way a hostile
 * project could plant them: out/ may come from a cloned repository, so an entry that
 * merely has a jeos name proves nothing. jeos acts only on entries it made itself — a
 * real directory or regular file (never a symlink, which is never followed) owned by the
 * current user — and refuses, with a coded error, to read or write through anything else.
 */
import { readFileSync } from 'node:fs';
import { constants, lstat, mkdir, open } from 'node:fs/promises';
import { hostname } from 'node:os';
import { dirname, join } from 'node:path';
import type { Stats } from 'node:fs';
import { JeosError } from '../errors.js';

export const STAGING_PREFIX = '.jeos-staging-';
export const OLD_PREFIX = '.jeos-old-';
/** The commit journal: present only while (or because) a commit moves outputs. */
export const JOURNAL = '.jeos-commit.json';
/** The build lock: present while a build owns the directory. */
export const LOCK = '.jeos-lock';

/**
 * Every top-level name a jeos build writes into out/. A commit removes those the new build
 * did not write, so out/ holds one build; anything else in out/ is the user's and stays.
 * A new writer's top-level name belongs here.
 */
// Written out rather than imported from the writers (which depend on the staging, which
// depends on this); src/record/record.test.ts checks every writer's and record's name is here.
export const OUTPUT_NAMES: readonly string[] = ['rootfs.tar', 'oci', 'image.oci.tar', 'vm', 'disk.img', 'disk.qcow2', 'build.json', 'manifest.json', 'trim.json', 'sbom.spdx.json', 'sbom.cdx.json', 'report.html'];

/** One top-level output name: no separators, not `.`/`..`, not a hidden (scratch or control) name. */
export function isOutputName(name: unknown): name is string {
  return typeof name === 'string' && name !== '' && !name.includes('/') && !name.includes('\0') && !name.startsWith('.');
}

/** Who owns a lock or a journal: enough to tell, on this machine, whether that process still runs. */
export interface ProcessIdentity {
  pid: number;
  /** Start time of the process in clock ticks since boot (Linux), so a reused pid is not taken for the owner. */
  start?: number;
  /** The kernel's boot id (Linux): a record from before a reboot has no live owner. */
  boot?: string;
  host: string;
}

function readProc(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

function startTicks(pid: number): number | undefined {
  const stat = readProc(`/proc/${pid}/stat`);
  // The command name (field 2) may hold spaces and parentheses; the fields after it do not.
  const fields = stat?.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields?.[19]);
  return Number.isSafeInteger(ticks) ? ticks : undefined;
}

export function processIdentity(): ProcessIdentity {
  const start = startTicks(process.pid);
  const boot = readProc('/proc/sys/kernel/random/boot_id')?.trim();
  return { pid: process.pid, ...(start !== undefined ? { start } : {}), ...(boot ? { boot } : {}), host: hostname() };
}

export function pidAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Whether the process a lock or journal names still runs (a different boot, or a reused pid, is not it). */
export function identityAlive(owner: ProcessIdentity): boolean {
  const here = processIdentity();
  if (owner.boot && here.boot && owner.boot !== here.boot) return false;
  if (!pidAlive(owner.pid)) return false;
  if (owner.start !== undefined && here.start !== undefined) {
    const start = startTicks(owner.pid);
    if (start !== undefined && start !== owner.start) return false;
  }
  return true;
}

export function isProcessIdentity(v: unknown): v is ProcessIdentity {
  const o = v as Partial<ProcessIdentity> | null;
  return (
    typeof o === 'object' && o !== null &&
    Number.isSafeInteger(o.pid) && o.pid! > 0 &&
    (o.start === undefined || Number.isSafeInteger(o.start)) &&
    (o.boot === undefined || typeof o.boot === 'string') &&
    typeof o.host === 'string'
  );
}

export async function lstatOrUndefined(path: string): Promise<Stats | undefined> {
  try {
    return await lstat(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}

const uid = process.getuid?.();

/** Made by jeos (as far as a file system can tell): not a symlink, the right type, owned by this user. */
export function ownedAs(st: Stats, type: 'dir' | 'file'): boolean {
  const typeOk = type === 'dir' ? st.isDirectory() : st.isFile();
  return typeOk && (uid === undefined || st.uid === uid);
}

export function describeEntry(st: Stats): string {
  const type = st.isSymbolicLink() ? 'a symlink' : st.isDirectory() ? 'a directory' : st.isFile() ? 'a regular file' : 'a special file';
  return uid !== undefined && st.uid !== uid ? `${type} owned by uid ${st.uid}` : type;
}

export function foreignEntry(path: string, st: Stats, what: string): JeosError {
  return new JeosError('E_OUTPUT_FOREIGN', `${path} is ${describeEntry(st)}, not the ${what} jeos makes: jeos will not read, move or remove it`, {
    hint: `nothing jeos runs made it (a cloned project can carry one); if no jeos build is running, remove ${path} and build again`,
  });
}

/**
 * A small control file (lock, journal) jeos made, or undefined when there is none. Anything
 * else under that name is refused, and the file is opened without following a link.
 */
export async function readOwnFile(path: string, what: string): Promise<{ text: string; ino: number } | undefined> {
  const st = await lstatOrUndefined(path);
  if (!st) return undefined;
  if (!ownedAs(st, 'file') || st.size > 1 << 16) throw foreignEntry(path, st, what);
  let fh;
  try {
    fh = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
  try {
    const now = await fh.stat();
    if (now.ino !== st.ino || now.dev !== st.dev) return readOwnFile(path, what);
    return { text: await fh.readFile('utf8'), ino: now.ino };
  } finally {
    await fh.close();
  }
}

/**
 * Check out/ before anything is read or written in it: a real directory, never a symlink —
 * not even one the user named with --out, since jeos cannot tell a link the user chose
 * from one a cloned project planted. `create` makes it (and its parents) when missing.
 */
export async function checkOutDir(outDir: string, options: { create: boolean }): Promise<boolean> {
  let st: Stats | undefined;
  try {
    st = await lstatOrUndefined(outDir);
    if (!st && options.create) {
      await mkdir(dirname(outDir), { recursive: true });
      await mkdir(outDir).catch((e: NodeJS.ErrnoException) => {
        if (e.code !== 'EEXIST') throw e;
      });
      st = await lstat(outDir);
    }
  } catch (e) {
    throw new JeosError('E_OUTPUT_DIR', `cannot prepare the output directory ${outDir}: ${(e as Error).message}`, {
      hint: 'check that the output directory is writable and on a file system that supports rename',
      cause: e,
    });
  }
  if (!st) return false;
  if (st.isSymbolicLink()) {
    throw new JeosError('E_OUTPUT_DIR_SYMLINK', `the output directory ${outDir} is a symlink: jeos does not write or read outputs through one`, {
      hint: `a cloned project can carry such a link; remove it, or name the real directory with --out (for example --out "$(realpath ${outDir})")`,
    });
  }
  if (!st.isDirectory()) {
    throw new JeosError('E_OUTPUT_DIR', `the output directory ${outDir} is ${describeEntry(st)}, not a directory`, {
      hint: 'remove it, or choose another output directory with --out',
    });
  }
  return true;
}

export const journalPath = (outDir: string) => join(outDir, JOURNAL);
export const lockPath = (outDir: string) => join(outDir, LOCK);
