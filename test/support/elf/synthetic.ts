/**
 * Test support: builds tiny but well-formed ELF files (one PT_LOAD covering the
 * whole file, a PT_DYNAMIC with DT_STRTAB/DT_SONAME/DT_NEEDED/DT_RUNPATH, an
 * optional PT_INTERP) that real tools — readelf, ldconfig, ld.so's cache
 * lookup — accept, so tests can make libraries with any soname in any layout.
 */
import { EM_X86_64, ET_DYN } from '../../../src/elf/elf.js';

export interface SyntheticElf {
  class?: 32 | 64;
  endian?: 'little' | 'big';
  type?: number;
  machine?: number;
  flags?: number;
  soname?: string;
  needed?: string[];
  runpath?: string;
  rpath?: string;
  interpreter?: string;
  /** x86 GNU_PROPERTY_X86_ISA_1_NEEDED bit mask (e.g. 0b100 for x86-64-v3). */
  isaNeeded?: number;
}

export function buildElf(spec: SyntheticElf = {}): Buffer {
  const is64 = (spec.class ?? 64) === 64;
  const little = (spec.endian ?? 'little') === 'little';
  const ehsize = is64 ? 64 : 52;
  const phentsize = is64 ? 56 : 32;
  const dynEnt = is64 ? 16 : 8;

  // String table: index 0 is the empty string.
  const strings: string[] = [''];
  const strIndex = (s: string): number => {
    let off = 0;
    for (const x of strings) {
      if (x === s) return off;
      off += Buffer.byteLength(x, 'latin1') + 1;
    }
    strings.push(s);
    return off;
  };
  const dyn: Array<[number, number]> = [];
  for (const n of spec.needed ?? []) dyn.push([1, strIndex(n)]);
  if (spec.soname !== undefined) dyn.push([14, strIndex(spec.soname)]);
  if (spec.rpath !== undefined) dyn.push([15, strIndex(spec.rpath)]);
  if (spec.runpath !== undefined) dyn.push([29, strIndex(spec.runpath)]);
  const strtab = Buffer.from(strings.join('\0') + '\0', 'latin1');

  const interp = spec.interpreter === undefined ? undefined : Buffer.from(spec.interpreter + '\0', 'latin1');
  const note = spec.isaNeeded === undefined ? undefined : gnuPropertyNote(spec.isaNeeded, is64, little);
  const phnum = 2 + (interp ? 1 : 0) + (note ? 1 : 0);

  const align = (n: number, a: number): number => Math.ceil(n / a) * a;
  let off = ehsize + phnum * phentsize;
  const interpOff = off;
  off += interp?.length ?? 0;
  off = align(off, 8);
  const noteOff = off;
  off += note?.length ?? 0;
  off = align(off, 8);
  const strOff = off;
  off += strtab.length;
  off = align(off, 8);
  const dynOff = off;
  dyn.push([5, strOff], [10, strtab.length], [0, 0]); // DT_STRTAB (vaddr == offset), DT_STRSZ, DT_NULL
  off += dyn.length * dynEnt;
  const size = off;

  const b = Buffer.alloc(size);
  const u16 = (o: number, v: number): void => void (little ? b.writeUInt16LE(v, o) : b.writeUInt16BE(v, o));
  const u32 = (o: number, v: number): void => void (little ? b.writeUInt32LE(v, o) : b.writeUInt32BE(v, o));
  const word = (o: number, v: number): void => {
    if (is64) little ? b.writeBigUInt64LE(BigInt(v), o) : b.writeBigUInt64BE(BigInt(v), o);
    else u32(o, v);
  };

  b.set([0x7f, 0x45, 0x4c, 0x46, is64 ? 2 : 1, little ? 1 : 2, 1], 0);
  u16(16, spec.type ?? ET_DYN);
  u16(18, spec.machine ?? EM_X86_64);
  u32(20, 1);
  word(is64 ? 32 : 28, ehsize); // e_phoff
  u32(is64 ? 48 : 36, spec.flags ?? 0);
  u16(is64 ? 52 : 40, ehsize);
  u16(is64 ? 54 : 42, phentsize);
  u16(is64 ? 56 : 44, phnum);

  let ph = ehsize;
  const phdr = (type: number, offset: number, filesz: number, flags: number, palign: number): void => {
    if (is64) {
      u32(ph, type);
      u32(ph + 4, flags);
      word(ph + 8, offset);
      word(ph + 16, offset);
      word(ph + 24, offset);
      word(ph + 32, filesz);
      word(ph + 40, filesz);
      word(ph + 48, palign);
    } else {
      u32(ph, type);
      word(ph + 4, offset);
      word(ph + 8, offset);
      word(ph + 12, offset);
      word(ph + 16, filesz);
      word(ph + 20, filesz);
      u32(ph + 24, flags);
      word(ph + 28, palign);
    }
    ph += phentsize;
  };
  phdr(1, 0, size, 5, 0x1000); // PT_LOAD, R+X
  phdr(2, dynOff, dyn.length * dynEnt, 6, is64 ? 8 : 4); // PT_DYNAMIC
  if (interp) phdr(3, interpOff, interp.length, 4, 1);
  if (note) phdr(0x6474e553, noteOff, note.length, 4, is64 ? 8 : 4);

  interp?.copy(b, interpOff);
  note?.copy(b, noteOff);
  strtab.copy(b, strOff);
  dyn.forEach(([tag, val], i) => {
    word(dynOff + i * dynEnt, tag);
    word(dynOff + i * dynEnt + (is64 ? 8 : 4), val);
  });
  return b;
}

function gnuPropertyNote(isaNeeded: number, is64: boolean, little: boolean): Buffer {
  const a = is64 ? 8 : 4;
  const descsz = Math.ceil((8 + 4) / a) * a;
  const b = Buffer.alloc(16 + descsz);
  const u32 = (o: number, v: number): void => void (little ? b.writeUInt32LE(v, o) : b.writeUInt32BE(v, o));
  u32(0, 4);
  u32(4, descsz);
  u32(8, 5); // NT_GNU_PROPERTY_TYPE_0
  b.write('GNU\0', 12, 'latin1');
  u32(16, 0xc0008002); // GNU_PROPERTY_X86_ISA_1_NEEDED
  u32(20, 4);
  u32(24, isaNeeded);
  return b;
}
