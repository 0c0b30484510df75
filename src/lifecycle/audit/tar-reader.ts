/**
 * A streaming tar reader for audit targets: rootfs.tar, OCI layers, `podman export`.
 * It takes the archive in chunks as they arrive (a file, a decompressor's output, a
 * pipe) and hands over one entry at a time with its whole content, so memory stays at
 * the largest file. ustar, GNU long names (`L`/`K`) and PAX headers (path, linkpath,
 * size, uid, gid) are read; the audit needs no times and no xattrs.
 */
import { JeosError } from '../../errors.js';
import { tarNumber, tarString } from '../../util/tar/fields.js';

const BLOCK = 512;

export interface TarMember {
  /** The name as stored, without a leading `./` or `/` and without a trailing `/`; `` for the root. */
  path: string;
  type: 'file' | 'hardlink' | 'symlink' | 'char' | 'block' | 'dir' | 'fifo';
  mode: number;
  uid: number;
  gid: number;
  /** Symlink text, or the hard link's target name (normalised like `path`). */
  linkname: string;
  devmajor: number;
  devminor: number;
  data: Buffer;
}

const TYPES: Record<string, TarMember['type']> = {
  '0': 'file', '\0': 'file', '7': 'file', '1': 'hardlink', '2': 'symlink', '3': 'char', '4': 'block', '5': 'dir', '6': 'fifo',
};

export function normalName(name: string): string {
  return name.replace(/^(\.\/|\/)+/, '').replace(/^\.$/, '').replace(/\/+$/, '');
}

const str = tarString;

export class TarReader {
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  /** The header of the member whose data is being collected, and how many bytes (with padding) it needs. */
  private current: { header: Buffer; size: number } | undefined;
  private longName: string | undefined;
  private longLink: string | undefined;
  private pax: Map<string, string> | undefined;
  private globalPax = new Map<string, string>();
  /** The end-of-archive marker was read: what follows is not the archive's. */
  ended = false;

  constructor(
    private readonly label: string,
    private readonly onMember: (m: TarMember) => void,
  ) {}

  private bad(why: string): JeosError {
    return new JeosError('E_AUDIT_BAD_TAR', `${this.label} is not a valid tar archive: ${why}`, {
      hint: 'pass a tar of an image root (out/rootfs.tar, podman export), an OCI layout, a directory or an initramfs',
    });
  }

  private take(n: number): Buffer {
    const all = this.pending.length === 1 ? this.pending[0]! : Buffer.concat(this.pending, this.pendingBytes);
    this.pending = n < all.length ? [all.subarray(n)] : [];
    this.pendingBytes = all.length - n;
    return all.subarray(0, n);
  }

  feed(chunk: Buffer): void {
    if (this.ended) return; // data after the end-of-archive marker (padding to a record size)
    this.pending.push(chunk);
    this.pendingBytes += chunk.length;
    for (;;) {
      if (!this.current) {
        if (this.pendingBytes < BLOCK) return;
        const header = this.take(BLOCK);
        if (header.every((b) => b === 0)) {
          this.ended = true;
          this.pending = [];
          return;
        }
        this.current = { header, size: this.sizeOf(header) };
      }
      const padded = Math.ceil(this.current.size / BLOCK) * BLOCK;
      if (this.pendingBytes < padded) return;
      const body = this.take(padded).subarray(0, this.current.size);
      const header = this.current.header;
      this.current = undefined;
      this.member(header, body);
    }
  }

  /** Call after the last chunk: an archive cut short is an error. */
  end(): void {
    // A missing end-of-archive marker is accepted, as GNU tar does; a member cut short is not.
    if (this.current || (this.pendingBytes > 0 && !this.ended)) throw this.bad('it ends in the middle of an entry');
  }

  private num(buf: Buffer, start: number, length: number, what: string): number {
    const value = tarNumber(buf, start, length);
    if (value === undefined) throw this.bad(`bad ${what} field ${JSON.stringify(buf.toString('latin1', start, start + length))}`);
    return value;
  }

  private sizeOf(h: Buffer): number {
    let sum = 0;
    for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : h[i]!;
    if (sum !== this.num(h, 148, 8, 'checksum')) throw this.bad('a header has a bad checksum');
    const flag = String.fromCharCode(h[156]!);
    const paxSize = 'xgLK'.includes(flag) ? undefined : this.pax?.get('size');
    const size = paxSize !== undefined ? Number(paxSize) : this.num(h, 124, 12, 'size');
    if (!Number.isSafeInteger(size) || size < 0) throw this.bad('a header has a bad size');
    return size;
  }

  private parsePax(body: Buffer): Map<string, string> {
    const out = new Map<string, string>();
    let pos = 0;
    while (pos < body.length && body[pos] !== 0) {
      const space = body.indexOf(0x20, pos);
      const length = space < 0 ? NaN : Number(body.toString('latin1', pos, space));
      if (!Number.isInteger(length) || length <= 0 || pos + length > body.length) throw this.bad('a malformed PAX header');
      const record = body.toString('utf8', space + 1, pos + length - 1);
      const eq = record.indexOf('=');
      if (eq > 0) out.set(record.slice(0, eq), record.slice(eq + 1));
      pos += length;
    }
    return out;
  }

  private member(h: Buffer, body: Buffer): void {
    const flag = String.fromCharCode(h[156]!);
    if (flag === 'L') return void (this.longName = str(body, 0, body.length));
    if (flag === 'K') return void (this.longLink = str(body, 0, body.length));
    if (flag === 'x') return void (this.pax = this.parsePax(body));
    if (flag === 'g') return void (this.globalPax = new Map([...this.globalPax, ...this.parsePax(body)]));
    const type = TYPES[flag];
    const pax = (key: string) => this.pax?.get(key) ?? this.globalPax.get(key);
    let name = str(h, 0, 100);
    if (h.toString('latin1', 257, 263) === 'ustar\0' && h[345] !== 0) name = `${str(h, 345, 155)}/${name}`; // POSIX prefix
    const path = normalName(pax('path') ?? this.longName ?? name);
    const linkname = pax('linkpath') ?? this.longLink ?? str(h, 157, 100);
    this.longName = this.longLink = this.pax = undefined;
    if (!type) throw this.bad(`entry ${JSON.stringify(path)} has unsupported type ${JSON.stringify(flag)}`);
    const uid = pax('uid');
    const gid = pax('gid');
    const device = type === 'char' || type === 'block';
    this.onMember({
      path,
      type,
      mode: this.num(h, 100, 8, 'mode') & 0o7777,
      uid: uid !== undefined ? Number(uid) : this.num(h, 108, 8, 'uid'),
      gid: gid !== undefined ? Number(gid) : this.num(h, 116, 8, 'gid'),
      linkname: type === 'hardlink' ? normalName(linkname) : linkname,
      devmajor: device ? this.num(h, 329, 8, 'devmajor') : 0,
      devminor: device ? this.num(h, 337, 8, 'devminor') : 0,
      data: type === 'file' ? body : Buffer.alloc(0),
    });
  }
}
