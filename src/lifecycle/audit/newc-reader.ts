/**
 * A streaming reader of "newc" cpio archives (`070701`), the initramfs format: the
 * writer's side is src/outputs/cpio/newc.ts. Hard links share an inode number; the
 * data travels with one of the names (the last, as GNU cpio and jeos write it), and
 * every name gets it. Archives may follow one another (the kernel reads on after a
 * trailer), separated by zero padding.
 */
import { JeosError } from '../../errors.js';
import { sha256, type Collector } from './collect.js';
import type { EntryType, ObservedEntry } from './types.js';

const MAGIC = '070701';
const HEADER = 110;
const TRAILER = 'TRAILER!!!';

const TYPE_BITS: Record<number, EntryType> = {
  0o100000: 'file', 0o040000: 'dir', 0o120000: 'symlink', 0o020000: 'char', 0o060000: 'block', 0o010000: 'fifo',
};

const pad4 = (n: number) => (4 - (n % 4)) % 4;

export class NewcReader {
  private chunks: Buffer[] = [];
  private chunkBytes = 0;
  /** Bytes the parser needs before it can go on. */
  private need = 0;
  /** Where the first pending byte is in the archive, for messages. */
  private offset = 0;
  private readonly links = new Map<number, { names: string[]; data?: ObservedEntry }>();
  private inTrailer = false;
  entries = 0;

  constructor(
    private readonly label: string,
    private readonly into: Collector,
  ) {}

  private bad(why: string): JeosError {
    return new JeosError('E_AUDIT_BAD_TARGET', `${this.label} is not a valid initramfs (newc cpio): ${why}`, {
      hint: 'pass out/vm/initrd.img of a jeos build (LZ4, zstd, gzip or uncompressed newc)',
    });
  }

  feed(chunk: Buffer): void {
    // Chunks wait in a list until the entry at hand is whole, so a large file is joined once.
    this.chunks.push(chunk);
    this.chunkBytes += chunk.length;
    if (this.chunkBytes < this.need) return;
    const buf = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks, this.chunkBytes);
    let pos = 0;
    this.need = 0;
    for (;;) {
      if (this.inTrailer) {
        while (pos < buf.length && buf[pos] === 0) pos++;
        if (pos >= buf.length) break;
        this.inTrailer = false;
      }
      if (buf.length - pos < HEADER) {
        this.need = HEADER;
        break;
      }
      if (buf.toString('latin1', pos, pos + 6) !== MAGIC) throw this.bad(`no newc header at byte ${this.offset + pos}`);
      const field = (i: number) => {
        const text = buf.toString('latin1', pos + 6 + i * 8, pos + 14 + i * 8);
        if (!/^[0-9a-fA-F]{8}$/.test(text)) throw this.bad(`a bad header field ${JSON.stringify(text)}`);
        return parseInt(text, 16);
      };
      const namesize = field(11);
      const filesize = field(6);
      const nameEnd = pos + HEADER + namesize;
      const dataStart = nameEnd + pad4(HEADER + namesize);
      const next = dataStart + filesize + pad4(filesize);
      if (buf.length < next) {
        this.need = next - pos;
        break;
      }
      const name = buf.toString('utf8', pos + HEADER, nameEnd - 1);
      const data = buf.subarray(dataStart, dataStart + filesize);
      const entry = { ino: field(0), mode: field(1), uid: field(2), gid: field(3), nlink: field(4), rdevmajor: field(9), rdevminor: field(10) };
      pos = next;
      if (name === TRAILER) this.inTrailer = true;
      else this.entry(name, entry, data);
    }
    this.offset += pos;
    this.chunks = pos >= buf.length ? [] : [buf.subarray(pos)];
    this.chunkBytes = buf.length - pos;
  }

  end(): void {
    if (this.chunkBytes && !this.inTrailer) throw this.bad('it ends in the middle of an entry');
    if (this.entries === 0) throw this.bad('it holds no entries');
  }

  private entry(name: string, h: { ino: number; mode: number; uid: number; gid: number; nlink: number; rdevmajor: number; rdevminor: number }, data: Buffer): void {
    this.entries++;
    const type = TYPE_BITS[h.mode & 0o170000];
    if (!type) throw this.bad(`${name} has an unknown file type ${(h.mode & 0o170000).toString(8)}`);
    const path = name === '.' ? '/' : `/${name.replace(/^(\.\/|\/)+/, '')}`;
    const base = { mode: h.mode & 0o7777, uid: h.uid, gid: h.gid };
    if (type === 'symlink') return this.into.put(path, { type, ...base, target: data.toString('utf8') });
    if (type === 'char' || type === 'block') return this.into.put(path, { type, ...base, device: `${h.rdevmajor}:${h.rdevminor}` });
    if (type !== 'file') return this.into.put(path, { type, ...base });
    const file: ObservedEntry = { type, ...base, size: data.length, sha256: sha256(data) };
    if (h.nlink < 2) return this.into.put(path, file, data);
    const group = this.links.get(h.ino) ?? { names: [] };
    this.links.set(h.ino, group);
    group.names.push(path);
    if (data.length > 0 || !group.data) group.data = file;
    for (const n of data.length > 0 ? group.names : [path]) this.into.put(n, { ...group.data }, data.length > 0 ? data : undefined);
  }
}
