/**
 * glibc's ld.so.cache file format ("glibc-ld.so.cache1.1", elf/cache.c): the entry
 * order's comparison, the string table with shared suffixes, and the extension
 * directory with the generator string and the glibc-hwcaps subdirectory names.
 * Little-endian only (every architecture the ld-so effect handles).
 */

export interface CacheEntry {
  /** The soname (DT_SONAME or the file name), as raw bytes. */
  lib: Buffer;
  /** The path recorded for it, as raw bytes. */
  path: Buffer;
  flags: number;
  isaLevel: number;
  /** The glibc-hwcaps subdirectory it was found in. */
  hwcaps?: string;
}

/** glibc's _dl_cache_libcmp: digit runs compare as numbers, and sort after other characters. */
export function libcmp(a: Buffer, b: Buffer, signedChar: boolean): number {
  const ch = (buf: Buffer, i: number): number => {
    const c = i < buf.length ? buf[i]! : 0;
    return signedChar && c > 127 ? c - 256 : c;
  };
  const digit = (c: number): boolean => c >= 0x30 && c <= 0x39;
  let i = 0;
  let j = 0;
  while (ch(a, i) !== 0) {
    const c1 = ch(a, i);
    const c2 = ch(b, j);
    if (digit(c1)) {
      if (!digit(c2)) return 1;
      let v1 = 0;
      let v2 = 0;
      while (digit(ch(a, i))) v1 = v1 * 10 + ch(a, i++) - 0x30;
      while (digit(ch(b, j))) v2 = v2 * 10 + ch(b, j++) - 0x30;
      if (v1 !== v2) return v1 < v2 ? -1 : 1;
    } else if (digit(c2)) {
      return -1;
    } else if (c1 !== c2) {
      return c1 - c2;
    } else {
      i++;
      j++;
    }
  }
  return ch(a, i) - ch(b, j);
}

/** glibc's stringtable_finalize: strings ordered by their reversed bytes, suffixes shared. */
function finalizeStrings(strings: Buffer[]): { table: Buffer; offsets: Map<string, number> } {
  const sorted = [...strings].sort((l, r) => {
    const n = Math.min(l.length, r.length);
    for (let i = 1; i <= n; i++) {
      const lc = l[l.length - i]!;
      const rc = r[r.length - i]!;
      if (lc !== rc) return rc - lc;
    }
    return r.length - l.length;
  });
  const offsets = new Map<string, number>();
  const parts: Buffer[] = [];
  let size = 0;
  let prev: { buf: Buffer; offset: number } | undefined;
  for (const s of sorted) {
    let offset: number;
    if (prev && prev.buf.length >= s.length && prev.buf.subarray(prev.buf.length - s.length).equals(s)) {
      offset = prev.offset + prev.buf.length - s.length;
    } else {
      offset = size;
      parts.push(s, Buffer.alloc(1));
      size += s.length + 1;
    }
    offsets.set(s.toString('binary'), offset);
    prev = { buf: s, offset };
  }
  return { table: Buffer.concat(parts), offsets };
}

/** The cache file for entries in their final order; `hwcapsNames` are every glibc-hwcaps subdirectory seen (all are in the string table). */
export function serializeCache(entries: CacheEntry[], hwcapsNames: Set<string>, generator: string): Buffer {
  const all = new Map<string, Buffer>();
  const intern = (b: Buffer): void => void all.set(b.toString('binary'), b);
  for (const n of hwcapsNames) intern(Buffer.from(n));
  for (const e of entries) {
    intern(e.path);
    intern(e.lib);
  }
  const { table, offsets } = finalizeStrings([...all.values()]);
  const off = (b: Buffer): number => offsets.get(b.toString('binary'))!;

  const used = [...new Set(entries.map((e) => e.hwcaps).filter((h): h is string => h !== undefined))].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
  const headerSize = 48 + entries.length * 24;
  const strOffset = headerSize;
  const extOffset = Math.ceil((headerSize + table.length) / 4) * 4;
  const sections = used.length ? 2 : 1;
  const hwcapsOffset = extOffset + 8 + 2 * 16;
  const generatorOffset = used.length ? hwcapsOffset + used.length * 4 : hwcapsOffset - 16;
  const gen = Buffer.from(generator);
  const total = extOffset + 8 + sections * 16 + used.length * 4 + gen.length;

  const b = Buffer.alloc(total);
  b.write('glibc-ld.so.cache1.1', 0, 'latin1');
  b.writeUInt32LE(entries.length, 20);
  b.writeUInt32LE(table.length, 24);
  b.writeUInt8(2, 28); // cache_file_new_flags_endian_little
  b.writeUInt32LE(extOffset, 32);
  entries.forEach((e, i) => {
    const o = 48 + i * 24;
    b.writeInt32LE(e.flags, o);
    b.writeUInt32LE(strOffset + off(e.lib), o + 4);
    b.writeUInt32LE(strOffset + off(e.path), o + 8);
    b.writeUInt32LE(0, o + 12);
    const hwcap = e.hwcaps === undefined ? 0n : (1n << 62n) | (BigInt(e.isaLevel & 0x3ff) << 32n) | BigInt(used.indexOf(e.hwcaps));
    b.writeBigUInt64LE(hwcap, o + 16);
  });
  table.copy(b, headerSize);
  let o = extOffset;
  b.writeUInt32LE(0xeaa42174, o); // cache_extension_magic
  b.writeUInt32LE(sections, o + 4);
  o += 8;
  b.writeUInt32LE(0, o); // cache_extension_tag_generator
  b.writeUInt32LE(0, o + 4);
  b.writeUInt32LE(generatorOffset, o + 8);
  b.writeUInt32LE(gen.length, o + 12);
  o += 16;
  if (used.length) {
    b.writeUInt32LE(1, o); // cache_extension_tag_glibc_hwcaps
    b.writeUInt32LE(0, o + 4);
    b.writeUInt32LE(hwcapsOffset, o + 8);
    b.writeUInt32LE(used.length * 4, o + 12);
    o += 16;
    for (const name of used) {
      b.writeUInt32LE(strOffset + off(Buffer.from(name)), o);
      o += 4;
    }
  }
  gen.copy(b, o);
  return b;
}
