/**
 * POSIX pax tar headers, written by hand: tar-stream cannot write binary
 * `SCHILY.xattr.*` values (file capabilities such as `security.capability`).
 *
 * A field that fits the ustar header goes there; a path or link over the ustar
 * limits (or not ASCII), a size, id or time out of octal range, and every xattr go
 * into a pax extended header ('x') in front of the entry, as GNU tar, Go's
 * archive/tar and Python's tarfile read them.
 */
import { JeosError } from '../../errors.js';

export const BLOCK = 512;

export type TarType = 'file' | 'hardlink' | 'symlink' | 'char' | 'block' | 'dir' | 'fifo';

const TYPEFLAG: Record<TarType, string> = {
  file: '0',
  hardlink: '1',
  symlink: '2',
  char: '3',
  block: '4',
  dir: '5',
  fifo: '6',
};

export interface TarEntry {
  /** Tree form (`usr/bin/x`), no leading `./`, no trailing slash; directories get one added. */
  path: string;
  type: TarType;
  /** Permission bits, setuid/setgid/sticky included. */
  mode: number;
  uid: number;
  gid: number;
  /** Seconds since the epoch, already clamped by the caller. */
  mtime: number;
  /** Length of the data that follows (regular files only). */
  size: number;
  /** Symlink text or the path of the hardlink's first name. */
  linkname?: string;
  devmajor?: number;
  devminor?: number;
  xattrs?: ReadonlyMap<string, Buffer>;
}

const NAME_SIZE = 100;
const PREFIX_SIZE = 155;
const MAX_OCTAL_7 = 0o7777777;
const MAX_OCTAL_11 = 0o77777777777;
const PAX_HEADER_NAME = '././@PaxHeader';

/** A header with only the ustar magic and version filled in; the checksum field holds spaces while summing. */
const TEMPLATE = (() => {
  const t = Buffer.alloc(BLOCK);
  t.write('ustar\x0000', 257, 8, 'latin1');
  t.fill(0x20, 148, 156);
  return t;
})();

/** Zero bytes for padding and the end-of-archive marker; never written to. */
export const ZEROS = Buffer.alloc(BLOCK * 2);

// eslint-disable-next-line no-control-regex
const ASCII = /^[\x01-\x7f]*$/;

function isAscii(s: string): boolean {
  return ASCII.test(s);
}

/** Zero-padded octal in `width - 1` digits and a NUL (the NUL comes from the template). */
function writeOctal(buf: Buffer, offset: number, width: number, value: number): void {
  let v = value;
  for (let i = offset + width - 2; i >= offset; i--) {
    buf[i] = 0x30 + (v % 8);
    v = Math.floor(v / 8);
  }
}

/** Write a string into a fixed-size field; plain ASCII is copied byte by byte, faster than a native call for short names. */
function writeField(buf: Buffer, offset: number, size: number, value: string): void {
  const n = value.length;
  if (n <= size && ASCII.test(value)) {
    for (let i = 0; i < n; i++) buf[offset + i] = value.charCodeAt(i);
  } else {
    buf.write(value, offset, size, 'utf8');
  }
}

/** `prefix` and `name` for a path over 100 bytes that ustar can still hold (Go's rule: the last `/` that fits). */
function splitUstarPath(name: string): [string, string] | undefined {
  if (name.length <= NAME_SIZE || !isAscii(name)) return undefined;
  let length = name.length;
  if (length > PREFIX_SIZE + 1) length = PREFIX_SIZE + 1;
  else if (name[length - 1] === '/') length--;
  const i = name.lastIndexOf('/', length - 1);
  const nameLen = name.length - i - 1;
  if (i <= 0 || nameLen > NAME_SIZE || nameLen === 0 || i > PREFIX_SIZE) return undefined;
  return [name.slice(0, i), name.slice(i + 1)];
}

/** One pax record: `<length> <key>=<value>\n`, where the length counts itself. */
export function paxRecord(key: string, value: Buffer): Buffer {
  const keyBytes = Buffer.from(key, 'utf8');
  const base = keyBytes.length + value.length + 3; // ' ', '=', '\n'
  const digits = String(base).length;
  let length = base + digits;
  if (String(length).length > digits) length = base + String(length).length;
  const head = Buffer.from(`${length} ${key}=`, 'utf8');
  return Buffer.concat([head, value, Buffer.from('\n')], length);
}

/** The 512-byte ustar header block, checksum included. */
function ustarBlock(fields: {
  name: string;
  prefix: string;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  mtime: number;
  typeflag: string;
  linkname: string;
  devmajor?: number;
  devminor?: number;
}): Buffer {
  const h = Buffer.allocUnsafe(BLOCK);
  TEMPLATE.copy(h, 0);
  writeField(h, 0, NAME_SIZE, fields.name);
  writeOctal(h, 100, 8, fields.mode);
  writeOctal(h, 108, 8, fields.uid);
  writeOctal(h, 116, 8, fields.gid);
  writeOctal(h, 124, 12, fields.size);
  writeOctal(h, 136, 12, fields.mtime);
  h[156] = fields.typeflag.charCodeAt(0);
  if (fields.linkname) writeField(h, 157, NAME_SIZE, fields.linkname);
  // uname and gname stay empty: owners are numeric and come from the image's own /etc/passwd.
  if (fields.devmajor !== undefined) writeOctal(h, 329, 8, fields.devmajor);
  if (fields.devminor !== undefined) writeOctal(h, 337, 8, fields.devminor);
  if (fields.prefix) writeField(h, 345, PREFIX_SIZE, fields.prefix);
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += h[i]!;
  writeOctal(h, 148, 7, sum); // six digits, NUL, and the space already there
  h[154] = 0;
  return h;
}

function checkXattrName(path: string, name: string): void {
  if (name === '' || name.includes('=') || name.includes('\n') || name.includes('\0')) {
    throw new JeosError('E_OUTPUT_XATTR_NAME', `extended attribute ${JSON.stringify(name)} on /${path} cannot be stored in a tar header`, {
      hint: 'an xattr name must be non-empty and must not contain "=", a newline or a NUL byte',
    });
  }
}

function checkDevice(path: string, what: string, n: number | undefined): number {
  const v = n ?? 0;
  if (!Number.isInteger(v) || v < 0 || v > MAX_OCTAL_7) {
    throw new JeosError('E_OUTPUT_DEVICE_NUMBER', `device node /${path} has ${what} number ${v}, which tar cannot store`, {
      hint: `device numbers must be whole numbers from 0 to ${MAX_OCTAL_7}`,
    });
  }
  return v;
}

function fitsOctal(n: number, max: number): boolean {
  return Number.isInteger(n) && n >= 0 && n <= max;
}

/**
 * The header block(s) for one entry: a pax extended header (when needed) and the
 * ustar header. The caller writes `entry.size` bytes of data and pads to 512.
 */
export function encodeHeader(entry: TarEntry): Buffer {
  const records: Buffer[] = [];
  const name = entry.type === 'dir' ? `${entry.path}/` : entry.path;
  let ustarName = name;
  let prefix = '';
  if (name.length > NAME_SIZE || !isAscii(name)) {
    const split = splitUstarPath(name);
    if (split) [prefix, ustarName] = split;
    else records.push(paxRecord('path', Buffer.from(name, 'utf8')));
  }
  const linkname = entry.linkname ?? '';
  if (Buffer.byteLength(linkname) > NAME_SIZE || !isAscii(linkname)) records.push(paxRecord('linkpath', Buffer.from(linkname, 'utf8')));
  let { size, uid, gid, mtime } = entry;
  if (!fitsOctal(size, MAX_OCTAL_11)) {
    records.push(paxRecord('size', Buffer.from(String(size))));
    size = 0;
  }
  if (!fitsOctal(uid, MAX_OCTAL_7)) {
    records.push(paxRecord('uid', Buffer.from(String(uid))));
    uid = 0;
  }
  if (!fitsOctal(gid, MAX_OCTAL_7)) {
    records.push(paxRecord('gid', Buffer.from(String(gid))));
    gid = 0;
  }
  if (!fitsOctal(mtime, MAX_OCTAL_11)) {
    records.push(paxRecord('mtime', Buffer.from(String(mtime))));
    mtime = 0;
  }
  if (entry.xattrs && entry.xattrs.size > 0) {
    const names = [...entry.xattrs.keys()].sort(byteOrder);
    for (const xname of names) {
      checkXattrName(entry.path, xname);
      records.push(paxRecord(`SCHILY.xattr.${xname}`, entry.xattrs.get(xname)!));
    }
  }
  const isDevice = entry.type === 'char' || entry.type === 'block';
  const header = ustarBlock({
    name: ustarName,
    prefix,
    mode: entry.mode & 0o7777,
    uid,
    gid,
    size,
    mtime,
    typeflag: TYPEFLAG[entry.type],
    linkname,
    ...(isDevice
      ? { devmajor: checkDevice(entry.path, 'major', entry.devmajor), devminor: checkDevice(entry.path, 'minor', entry.devminor) }
      : {}),
  });
  if (records.length === 0) return header;
  const body = Buffer.concat(records);
  const paxHeader = ustarBlock({
    name: PAX_HEADER_NAME,
    prefix: '',
    mode: 0o644,
    uid: 0,
    gid: 0,
    size: body.length,
    mtime,
    typeflag: 'x',
    linkname: '',
  });
  const padded = padLength(body.length);
  return Buffer.concat([paxHeader, body, ZEROS.subarray(0, padded - body.length), header], BLOCK + padded + BLOCK);
}

/** `n` rounded up to a whole number of blocks. */
export function padLength(n: number): number {
  return Math.ceil(n / BLOCK) * BLOCK;
}

/** Compare as UTF-8 bytes would, so order does not depend on JavaScript's UTF-16 strings. */
export function byteOrder(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}
