/**
 * For tests only: tar and ar archives written byte by byte, so tests can make the
 * malformed and unusual packages dpkg-deb refuses to build (path traversal, device
 * nodes, PAX xattrs, truncation). Not exported from the stage's index.
 */
import { spawnSync } from 'node:child_process';
import { gzipSync } from 'node:zlib';

export interface HandEntry {
  name: string;
  /** Default '0' (regular file). */
  type?: '0' | '1' | '2' | '3' | '4' | '5' | '6' | 'L' | 'K' | 'x' | 'g' | 'S';
  mode?: number;
  uid?: number;
  gid?: number;
  mtime?: number;
  linkname?: string;
  data?: Buffer | string;
  devmajor?: number;
  devminor?: number;
  /** PAX records written in an `x` header before this entry. */
  pax?: Record<string, Buffer | string>;
  /** Write the uid as GNU base-256 instead of octal. */
  base256Uid?: boolean;
  /** Split the name into ustar prefix + name (POSIX ustar magic). */
  ustarPrefix?: string;
}

const BLOCK = 512;

function octal(header: Buffer, offset: number, length: number, value: number): void {
  header.write(value.toString(8).padStart(length - 1, '0') + '\0', offset, length, 'latin1');
}

/** One 512-byte header, checksummed. */
export function tarHeader(entry: HandEntry, size: number): Buffer {
  const h = Buffer.alloc(BLOCK);
  h.write(entry.name, 0, 100, 'utf8');
  octal(h, 100, 8, entry.mode ?? 0o644);
  if (entry.base256Uid) {
    h[108] = 0x80;
    h.writeUIntBE(entry.uid ?? 0, 108 + 8 - 6, 6);
  } else octal(h, 108, 8, entry.uid ?? 0);
  octal(h, 116, 8, entry.gid ?? 0);
  octal(h, 124, 12, size);
  octal(h, 136, 12, entry.mtime ?? 1_700_000_000);
  h[156] = (entry.type ?? '0').charCodeAt(0);
  h.write(entry.linkname ?? '', 157, 100, 'utf8');
  if (entry.ustarPrefix !== undefined) {
    h.write('ustar\0', 257, 'latin1');
    h.write('00', 263, 'latin1');
    h.write(entry.ustarPrefix, 345, 155, 'utf8');
  } else {
    h.write('ustar  \0', 257, 'latin1'); // GNU magic, as dpkg-deb's tar writes
  }
  h.write('root', 265, 'latin1');
  h.write('root', 297, 'latin1');
  octal(h, 329, 8, entry.devmajor ?? 0);
  octal(h, 337, 8, entry.devminor ?? 0);
  h.fill(0x20, 148, 156);
  let sum = 0;
  for (const b of h) sum += b;
  h.write(sum.toString(8).padStart(6, '0') + '\0 ', 148, 8, 'latin1');
  return h;
}

function padded(data: Buffer): Buffer {
  const pad = (BLOCK - (data.length % BLOCK)) % BLOCK;
  return Buffer.concat([data, Buffer.alloc(pad)]);
}

function paxBody(records: Record<string, Buffer | string>): Buffer {
  const parts: Buffer[] = [];
  for (const [key, value] of Object.entries(records)) {
    const v = typeof value === 'string' ? Buffer.from(value) : value;
    const rest = Buffer.byteLength(` ${key}=`) + v.length + 1;
    let length = rest + String(rest).length;
    if (String(length).length !== String(rest).length) length = rest + String(length).length;
    parts.push(Buffer.from(`${length} ${key}=`), v, Buffer.from('\n'));
  }
  return Buffer.concat(parts);
}

/** The blocks for one entry: PAX header first when asked, then header and padded data. */
export function tarEntry(entry: HandEntry): Buffer {
  const data = entry.data === undefined ? Buffer.alloc(0) : Buffer.from(entry.data);
  const parts: Buffer[] = [];
  if (entry.pax) {
    const body = paxBody(entry.pax);
    parts.push(tarHeader({ name: 'PaxHeaders/x', type: 'x' }, body.length), padded(body));
  }
  parts.push(tarHeader(entry, data.length), padded(data));
  return Buffer.concat(parts);
}

/** A tar archive of these entries, ended by two zero blocks unless `end` is false. */
export function tarArchive(entries: HandEntry[], options: { end?: boolean } = {}): Buffer {
  return Buffer.concat([...entries.map(tarEntry), options.end === false ? Buffer.alloc(0) : Buffer.alloc(2 * BLOCK)]);
}

/** An ar archive as dpkg-deb writes it (GNU names ending in `/`, even padding). */
export function arArchive(members: Array<{ name: string; data: Buffer | string }>): Buffer {
  const parts: Buffer[] = [Buffer.from('!<arch>\n')];
  for (const member of members) {
    const data = Buffer.from(member.data);
    const header =
      `${member.name}/`.padEnd(16) + '0'.padEnd(12) + '0'.padEnd(6) + '0'.padEnd(6) + '100644'.padEnd(8) + String(data.length).padEnd(10) + '`\n';
    parts.push(Buffer.from(header, 'latin1'), data);
    if (data.length % 2) parts.push(Buffer.from('\n'));
  }
  return Buffer.concat(parts);
}

export function compress(data: Buffer, compression: 'xz' | 'gzip' | 'zstd' | 'none'): Buffer {
  if (compression === 'none') return data;
  if (compression === 'gzip') return gzipSync(data);
  const r = spawnSync(compression, ['-c', '-q'], { input: data, maxBuffer: 1 << 30 });
  if (r.status !== 0) throw new Error(`${compression} failed: ${r.stderr}`);
  return r.stdout;
}

const EXT = { xz: '.xz', gzip: '.gz', zstd: '.zst', none: '' } as const;

export interface HandDeb {
  /** Control paragraph text; default a minimal one for package `name`. */
  control?: string;
  name?: string;
  /** The data.tar entries (a leading `./` entry is not added automatically). */
  entries?: HandEntry[];
  /** Raw data.tar bytes, instead of `entries`. */
  dataTar?: Buffer;
  /** Raw bytes of the data member as stored (already compressed, or garbage). */
  dataMember?: Buffer;
  compression?: 'xz' | 'gzip' | 'zstd' | 'none';
  /** Extra control.tar members (conffiles, postinst…). */
  controlFiles?: Record<string, string>;
}

/** A .deb built by hand: debian-binary, control.tar.gz, data.tar[.ext]. */
export function handDeb(spec: HandDeb): Buffer {
  const name = spec.name ?? 'hand';
  const control = spec.control ?? `Package: ${name}\nVersion: 1.0\nArchitecture: amd64\nDescription: hand-made\n`;
  const controlTar = tarArchive([
    { name: './', type: '5', mode: 0o755 },
    { name: './control', data: control },
    ...Object.entries(spec.controlFiles ?? {}).map(([n, data]) => ({ name: `./${n}`, data })),
  ]);
  const compression = spec.compression ?? 'xz';
  const dataTar = spec.dataTar ?? tarArchive(spec.entries ?? []);
  return arArchive([
    { name: 'debian-binary', data: '2.0\n' },
    { name: 'control.tar.gz', data: gzipSync(controlTar) },
    { name: `data.tar${EXT[compression]}`, data: spec.dataMember ?? compress(dataTar, compression) },
  ]);
}
