/**
 * A tar reader for the archives inside .debs: ustar, the GNU format dpkg-deb writes
 * (`L`/`K` long names), and PAX extended headers (path, linkpath, size, mtime,
 * uid, gid, SCHILY.xattr.*). File contents are views into the archive buffer.
 */
import { JeosError } from '../errors.js';
import { tarNumber, tarString } from '../util/tar/fields.js';
import type { MemberRef } from './decompress.js';

const BLOCK = 512;

export type TarEntryType = 'file' | 'dir' | 'symlink' | 'hardlink' | 'char' | 'block' | 'fifo';

export interface TarEntry {
  /** The name as stored (`./usr/bin/x`, `./etc/` for a directory). */
  path: string;
  type: TarEntryType;
  /** Permission bits (mode & 0o7777). */
  mode: number;
  uid: number;
  gid: number;
  /** Whole seconds since the epoch. */
  mtime: number;
  /** Symlink text or hardlink target name, as stored. */
  linkname: string;
  devmajor: number;
  devminor: number;
  /** Regular file contents: a view into the archive, not a copy. Empty for everything else. */
  data: Buffer;
  xattrs?: Map<string, Buffer>;
}

const TYPES: Record<string, TarEntryType> = {
  '0': 'file',
  '\0': 'file',
  '7': 'file', // contiguous file: a regular file everywhere that matters
  '1': 'hardlink',
  '2': 'symlink',
  '3': 'char',
  '4': 'block',
  '5': 'dir',
  '6': 'fifo',
};

function corrupt(ref: MemberRef, why: string): JeosError {
  return new JeosError('E_DEB_CORRUPT', `${ref.label}: ${ref.member} is not a valid tar archive: ${why}`, {
    hint: 'the package file is damaged; remove it from the cache so it is downloaded again',
  });
}

function truncated(ref: MemberRef, why: string): JeosError {
  return new JeosError('E_DEB_TRUNCATED', `${ref.label}: ${ref.member} is truncated: ${why}`, {
    hint: 'the package file is damaged or incomplete; remove it from the cache so it is downloaded again',
  });
}

const str = tarString;

/** A numeric field: octal text, or GNU base-256 when the high bit of the first byte is set. */
function num(buf: Buffer, start: number, length: number, ref: MemberRef, what: string): number {
  const value = tarNumber(buf, start, length);
  if (value === undefined) throw corrupt(ref, `bad ${what} field ${JSON.stringify(buf.toString('latin1', start, start + length).replace(/[\0 ]+$/, ''))}`);
  return value;
}

function checksumOk(buf: Buffer, at: number, stored: number): boolean {
  let unsigned = 0;
  let signed = 0;
  for (let i = at; i < at + BLOCK; i++) {
    const b = i >= at + 148 && i < at + 156 ? 0x20 : buf[i]!;
    unsigned += b;
    signed += b > 127 ? b - 256 : b;
  }
  return stored === unsigned || stored === signed;
}

function isZeroBlock(buf: Buffer, at: number): boolean {
  for (let i = at; i < at + BLOCK; i++) if (buf[i] !== 0) return false;
  return true;
}

/** PAX records: `<length> <key>=<value>\n`. Values stay binary (xattrs are not text). */
function parsePax(body: Buffer, ref: MemberRef): Map<string, Buffer> {
  const records = new Map<string, Buffer>();
  let pos = 0;
  while (pos < body.length) {
    if (body[pos] === 0) break; // padding some writers leave
    const space = body.indexOf(0x20, pos);
    const length = space < 0 ? NaN : Number(body.toString('latin1', pos, space));
    if (!Number.isInteger(length) || length <= 0 || pos + length > body.length || body[pos + length - 1] !== 0x0a) {
      throw corrupt(ref, 'malformed PAX extended header record');
    }
    const equals = body.indexOf(0x3d, space);
    if (equals < 0 || equals >= pos + length) throw corrupt(ref, 'malformed PAX extended header record');
    records.set(body.toString('utf8', space + 1, equals), body.subarray(equals + 1, pos + length - 1));
    pos += length;
  }
  return records;
}

/** Read every entry of a tar archive. A member cut short, or a missing end-of-archive marker, is an error. */
export function readTar(buf: Buffer, ref: MemberRef): TarEntry[] {
  const entries: TarEntry[] = [];
  let pos = 0;
  let longName: string | undefined;
  let longLink: string | undefined;
  let pax: Map<string, Buffer> | undefined;
  let globalPax = new Map<string, Buffer>();
  for (;;) {
    if (pos + BLOCK > buf.length) {
      throw truncated(ref, pos === buf.length ? 'the end-of-archive marker is missing' : `a header at byte ${pos} is cut short`);
    }
    if (isZeroBlock(buf, pos)) {
      if (longName !== undefined || longLink !== undefined || pax) throw truncated(ref, 'an extended header is not followed by its entry');
      return entries;
    }
    const h = pos;
    const storedSum = num(buf, h + 148, 8, ref, 'checksum');
    if (!checksumOk(buf, h, storedSum)) throw corrupt(ref, `the header at byte ${h} has a bad checksum`);
    const flag = String.fromCharCode(buf[h + 156]!);
    const local = pax;
    const paxSize = flag === 'x' || flag === 'g' || flag === 'L' || flag === 'K' ? undefined : local?.get('size');
    const size = paxSize ? Number(paxSize.toString('latin1')) : num(buf, h + 124, 12, ref, 'size');
    if (!Number.isSafeInteger(size) || size < 0) throw corrupt(ref, `the header at byte ${h} has a bad size`);
    const start = h + BLOCK;
    const headerName = nameOf(buf, h);
    if (start + size > buf.length) {
      throw truncated(ref, `entry ${JSON.stringify(longName ?? headerName)} should have ${size} bytes but only ${buf.length - start} are there`);
    }
    const body = buf.subarray(start, start + size);
    pos = start + Math.ceil(size / BLOCK) * BLOCK;

    if (flag === 'L') {
      longName = str(body, 0, body.length);
      continue;
    }
    if (flag === 'K') {
      longLink = str(body, 0, body.length);
      continue;
    }
    if (flag === 'x') {
      pax = parsePax(body, ref);
      continue;
    }
    if (flag === 'g') {
      globalPax = new Map([...globalPax, ...parsePax(body, ref)]);
      continue;
    }
    const type = TYPES[flag];
    if (!type) throw corrupt(ref, `entry ${JSON.stringify(longName ?? headerName)} has unsupported type ${JSON.stringify(flag)}`);

    const record = (key: string): string | undefined => (local?.get(key) ?? globalPax.get(key))?.toString('utf8');
    const paxMtime = record('mtime');
    const paxUid = record('uid');
    const paxGid = record('gid');
    const entry: TarEntry = {
      path: record('path') ?? longName ?? headerName,
      type,
      mode: num(buf, h + 100, 8, ref, 'mode') & 0o7777,
      uid: paxUid !== undefined ? Number(paxUid) : num(buf, h + 108, 8, ref, 'uid'),
      gid: paxGid !== undefined ? Number(paxGid) : num(buf, h + 116, 8, ref, 'gid'),
      mtime: paxMtime !== undefined ? Math.floor(Number(paxMtime)) : num(buf, h + 136, 12, ref, 'mtime'),
      linkname: record('linkpath') ?? longLink ?? str(buf, h + 157, 100),
      devmajor: type === 'char' || type === 'block' ? num(buf, h + 329, 8, ref, 'devmajor') : 0,
      devminor: type === 'char' || type === 'block' ? num(buf, h + 337, 8, ref, 'devminor') : 0,
      data: type === 'file' ? body : body.subarray(0, 0),
    };
    const xattrs = xattrsOf(local);
    if (xattrs) entry.xattrs = xattrs;
    entries.push(entry);
    longName = longLink = pax = undefined;
  }
}

/** ustar splits long names into prefix + name; the GNU format uses those bytes for other things. */
function nameOf(buf: Buffer, at: number): string {
  const name = str(buf, at, 100);
  const posix = buf.toString('latin1', at + 257, at + 263) === 'ustar\0';
  if (!posix || buf[at + 345] === 0) return name;
  return `${str(buf, at + 345, 155)}/${name}`;
}

function xattrsOf(pax: Map<string, Buffer> | undefined): Map<string, Buffer> | undefined {
  if (!pax) return undefined;
  let out: Map<string, Buffer> | undefined;
  for (const [key, value] of pax) {
    if (key.startsWith('SCHILY.xattr.')) {
      (out ??= new Map()).set(key.slice('SCHILY.xattr.'.length), value);
    } else if (key.startsWith('LIBARCHIVE.xattr.')) {
      // libarchive: URL-encoded name, base64 value.
      const name = decodeURIComponent(key.slice('LIBARCHIVE.xattr.'.length));
      (out ??= new Map()).set(name, Buffer.from(value.toString('latin1'), 'base64'));
    }
  }
  return out;
}
