/**
 * The "newc" cpio format (`070701`), the one the kernel unpacks into its initramfs
 * (Documentation/driver-api/early-userspace/buffer-format.rst): a 110-byte ASCII
 * header of thirteen 8-digit hex fields, the NUL-terminated name, padding to a
 * multiple of four, the data, padding to a multiple of four. The archive ends with
 * an entry named `TRAILER!!!`.
 */
import { JeosError } from '../../errors.js';

export const NEWC_MAGIC = '070701';
export const NEWC_HEADER_SIZE = 110;
export const TRAILER_NAME = 'TRAILER!!!';

/**
 * The kernel's PATH_MAX. init/initramfs.c silently skips an entry whose name (with
 * its NUL) or symlink target is longer, so the writer refuses such trees instead.
 */
export const KERNEL_PATH_MAX = 4096;
/** Every numeric field is 8 hex digits. */
export const NEWC_MAX_FIELD = 0xffff_ffff;
/** The kernel packs device numbers as 12-bit major, 20-bit minor (MKDEV). */
export const MAX_DEV_MAJOR = 0xfff;
export const MAX_DEV_MINOR = 0xf_ffff;

export { S_IFBLK, S_IFCHR, S_IFDIR, S_IFIFO, S_IFLNK, S_IFREG } from '../file-types.js';

export interface NewcEntry {
  /** Name as stored: tree form (`usr/bin/x`), `.` for the root. */
  name: string;
  ino: number;
  /** File type bits (S_IF*) | permission bits. */
  mode: number;
  uid: number;
  gid: number;
  nlink: number;
  /** Seconds since the epoch, already clamped. */
  mtime: number;
  /** Length of the data that follows: file contents or symlink text. */
  filesize: number;
  rdevmajor?: number;
  rdevminor?: number;
}

/** Zero bytes for padding; never written to. */
export const PAD = Buffer.alloc(4);

/** Bytes of padding after `length` bytes to reach a multiple of four. */
export function padTo4(length: number): number {
  return (4 - (length % 4)) % 4;
}

function hex8(value: number, field: string, name: string): string {
  if (!Number.isInteger(value) || value < 0 || value > NEWC_MAX_FIELD) {
    throw new JeosError('E_OUTPUT_CPIO_FIELD', `/${name}: ${field} ${value} does not fit a cpio newc header`, {
      hint: 'newc fields are 32-bit: files up to 4 GiB, times up to 2106, ids up to 4294967295',
    });
  }
  return value.toString(16).toUpperCase().padStart(8, '0');
}

/** Header, name, NUL and padding of one entry, as one buffer. */
export function encodeNewcHeader(entry: NewcEntry): Buffer {
  const name = Buffer.from(entry.name, 'utf8');
  const namesize = name.length + 1;
  if (namesize > KERNEL_PATH_MAX) {
    throw new JeosError('E_OUTPUT_CPIO_NAME', `/${entry.name.slice(0, 80)}…: a path of ${name.length} bytes is longer than the kernel unpacks (${KERNEL_PATH_MAX - 1})`, {
      hint: 'the kernel skips initramfs entries with longer names; shorten the path or leave it out of the image',
    });
  }
  const fields = [
    entry.ino,
    entry.mode,
    entry.uid,
    entry.gid,
    entry.nlink,
    entry.mtime,
    entry.filesize,
    0, // devmajor: the (imaginary) device the entry lives on; only hardlink matching reads it
    0, // devminor
    entry.rdevmajor ?? 0,
    entry.rdevminor ?? 0,
    namesize,
    0, // check: only the 070702 variant has a checksum
  ];
  const names = ['ino', 'mode', 'uid', 'gid', 'nlink', 'mtime', 'size', 'devmajor', 'devminor', 'rdevmajor', 'rdevminor', 'namesize', 'check'];
  const header = NEWC_MAGIC + fields.map((v, i) => hex8(v, names[i]!, entry.name)).join('');
  const total = NEWC_HEADER_SIZE + namesize;
  const out = Buffer.alloc(total + padTo4(total));
  out.write(header, 0, 'latin1');
  name.copy(out, NEWC_HEADER_SIZE);
  return out;
}

/** The entry that ends every archive. */
export function trailer(): Buffer {
  return encodeNewcHeader({ name: TRAILER_NAME, ino: 0, mode: 0, uid: 0, gid: 0, nlink: 1, mtime: 0, filesize: 0 });
}
