/**
 * A small ELF reader: just what image building needs from a binary or shared
 * library, read from its program headers and dynamic segment the way the
 * dynamic linker and ldconfig see it (section headers are not consulted, so a
 * stripped file reads the same).
 */
import { JeosError } from '../errors.js';

export const ET_EXEC = 2;
export const ET_DYN = 3;

export const EM_386 = 3;
export const EM_ARM = 40;
export const EM_X86_64 = 62;
export const EM_AARCH64 = 183;
export const EM_RISCV = 243;

const PT_LOAD = 1;
const PT_DYNAMIC = 2;
const PT_INTERP = 3;
const PT_GNU_PROPERTY = 0x6474e553;

const DT_NULL = 0;
const DT_NEEDED = 1;
const DT_STRTAB = 5;
const DT_SONAME = 14;
const DT_RPATH = 15;
const DT_RUNPATH = 29;

const NT_GNU_PROPERTY_TYPE_0 = 5;
const GNU_PROPERTY_X86_ISA_1_NEEDED = 0xc0008002;

export interface ElfInfo {
  class: 32 | 64;
  endian: 'little' | 'big';
  /** e_type: ET_EXEC (2), ET_DYN (3), … */
  type: number;
  /** e_machine: EM_X86_64 (62), EM_AARCH64 (183), … */
  machine: number;
  /** e_flags (the ARM float ABI lives here). */
  flags: number;
  /** PT_INTERP: the program interpreter (dynamic linker) path, if any. */
  interpreter?: string;
  /** Whether the file has a PT_DYNAMIC segment at all (static binaries do not). */
  dynamic: boolean;
  /** Whether the dynamic segment names a string table (DT_STRTAB); ldconfig skips libraries without one. */
  dynamicStrings: boolean;
  soname?: string;
  needed: string[];
  rpath?: string;
  runpath?: string;
  /**
   * x86 only: the highest ISA level in GNU_PROPERTY_X86_ISA_1_NEEDED (bit index,
   * as ldconfig computes it), 0 when absent.
   */
  isaLevel: number;
}

/** Whether a buffer starts with the ELF magic. */
export function isElf(data: Uint8Array): boolean {
  return data.length >= 4 && data[0] === 0x7f && data[1] === 0x45 && data[2] === 0x4c && data[3] === 0x46;
}

/** Bounds-checked reads of an ELF file's fields in its own class and byte order. */
export class Reader {
  constructor(
    readonly buf: Buffer,
    readonly is64: boolean,
    readonly little: boolean,
    readonly name: string,
  ) {}

  private check(off: number, len: number): void {
    if (off < 0 || len < 0 || off + len > this.buf.length || !Number.isSafeInteger(off + len)) {
      throw new JeosError('E_ELF_TRUNCATED', `${this.name}: ELF data at offset ${off} runs past the end of the file`, {
        hint: 'the file is truncated or not a valid ELF object',
      });
    }
  }

  u16(off: number): number {
    this.check(off, 2);
    return this.little ? this.buf.readUInt16LE(off) : this.buf.readUInt16BE(off);
  }

  u32(off: number): number {
    this.check(off, 4);
    return this.little ? this.buf.readUInt32LE(off) : this.buf.readUInt32BE(off);
  }

  /** An address/offset/size-sized field; 64-bit values above 2^53 are refused. */
  word(off: number): number {
    if (!this.is64) return this.u32(off);
    this.check(off, 8);
    const v = this.little ? this.buf.readBigUInt64LE(off) : this.buf.readBigUInt64BE(off);
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) return Number.MAX_SAFE_INTEGER;
    return Number(v);
  }

  /** A signed dynamic tag (d_tag is Sxword). */
  tag(off: number): number {
    if (!this.is64) {
      this.check(off, 4);
      return this.little ? this.buf.readInt32LE(off) : this.buf.readInt32BE(off);
    }
    this.check(off, 8);
    const v = this.little ? this.buf.readBigInt64LE(off) : this.buf.readBigInt64BE(off);
    return v > BigInt(Number.MAX_SAFE_INTEGER) || v < BigInt(Number.MIN_SAFE_INTEGER) ? -1 : Number(v);
  }

  cstring(off: number): string {
    this.check(off, 1);
    const end = this.buf.indexOf(0, off);
    if (end < 0) this.check(off, this.buf.length - off + 1);
    return this.buf.toString('latin1', off, end);
  }
}

interface Segment {
  type: number;
  offset: number;
  vaddr: number;
  filesz: number;
  align: number;
}

/**
 * Read an ELF file's identity and dynamic section. Returns undefined when the data
 * is not ELF at all; throws E_ELF_* for an ELF file whose structures are broken.
 * Strings (sonames, paths) are decoded as latin1 so that every byte survives.
 */
export function readElf(data: Buffer, name = 'ELF file'): ElfInfo | undefined {
  if (!isElf(data)) return undefined;
  if (data.length < 16) throw new JeosError('E_ELF_TRUNCATED', `${name}: ELF header is truncated`, { hint: 'the file is damaged or not a program: check where it came from' });
  const cls = data[4];
  const enc = data[5];
  if ((cls !== 1 && cls !== 2) || (enc !== 1 && enc !== 2)) {
    throw new JeosError('E_ELF_BAD_HEADER', `${name}: unknown ELF class ${cls} or data encoding ${enc}`, { hint: 'the file is damaged or not a program: check where it came from' });
  }
  const is64 = cls === 2;
  const r = new Reader(data, is64, enc === 1, name);
  const type = r.u16(16);
  const machine = r.u16(18);
  const phoff = r.word(is64 ? 32 : 28);
  const flags = r.u32(is64 ? 48 : 36);
  const phentsize = r.u16(is64 ? 54 : 42);
  const phnum = r.u16(is64 ? 56 : 44);

  const segments: Segment[] = [];
  for (let i = 0; i < phnum; i++) {
    const p = phoff + i * phentsize;
    segments.push(
      is64
        ? { type: r.u32(p), offset: r.word(p + 8), vaddr: r.word(p + 16), filesz: r.word(p + 32), align: r.word(p + 48) }
        : { type: r.u32(p), offset: r.word(p + 4), vaddr: r.word(p + 8), filesz: r.word(p + 16), align: r.word(p + 28) },
    );
  }

  const info: ElfInfo = {
    class: is64 ? 64 : 32,
    endian: enc === 1 ? 'little' : 'big',
    type,
    machine,
    flags,
    dynamic: false,
    dynamicStrings: false,
    needed: [],
    isaLevel: 0,
  };

  for (const seg of segments) {
    if (seg.type === PT_INTERP) info.interpreter = r.cstring(seg.offset);
    if (seg.type === PT_GNU_PROPERTY && seg.align === (is64 ? 8 : 4) && (machine === EM_X86_64 || machine === EM_386)) {
      info.isaLevel = readIsaLevel(r, seg);
    }
  }

  const dyn = segments.find((s) => s.type === PT_DYNAMIC);
  if (!dyn || dyn.filesz === 0) return info;
  info.dynamic = true;

  const entSize = is64 ? 16 : 8;
  const entries: Array<[number, number]> = [];
  for (let off = dyn.offset; ; off += entSize) {
    const tag = r.tag(off);
    if (tag === DT_NULL) break;
    entries.push([tag, r.word(off + (is64 ? 8 : 4))]);
  }
  const strtab = entries.find(([t]) => t === DT_STRTAB)?.[1];
  if (strtab === undefined) return info;
  info.dynamicStrings = true;
  // The string table is given as a virtual address; find the file offset through the
  // PT_LOAD segment that contains it, as ldconfig does (no segment: use it as an offset).
  const load = segments.find((s) => s.type === PT_LOAD && strtab >= s.vaddr && strtab - s.vaddr < s.filesz);
  const strOff = load ? strtab - (load.vaddr - load.offset) : strtab;
  const str = (v: number): string => r.cstring(strOff + v);

  for (const [tag, val] of entries) {
    if (tag === DT_NEEDED) info.needed.push(str(val));
    else if (tag === DT_SONAME && info.soname === undefined) info.soname = str(val);
    else if (tag === DT_RPATH && info.rpath === undefined) info.rpath = str(val);
    else if (tag === DT_RUNPATH && info.runpath === undefined) info.runpath = str(val);
  }
  return info;
}

/** The x86 ISA level from the first NT_GNU_PROPERTY_TYPE_0 note, as glibc's ldconfig reads it. */
function readIsaLevel(r: Reader, seg: Segment): number {
  const align = seg.align;
  const end = seg.offset + seg.filesz;
  let note = seg.offset;
  while (note + 12 <= end) {
    const namesz = r.u32(note);
    const descsz = r.u32(note + 4);
    const ntype = r.u32(note + 8);
    if (namesz === 4 && ntype === NT_GNU_PROPERTY_TYPE_0 && r.cstring(note + 12) === 'GNU') {
      if (descsz < 8 || descsz % align !== 0) return 0;
      let p = note + 16;
      const pend = p + descsz;
      let last = 0;
      while (pend - p >= 8) {
        const type = r.u32(p);
        const datasz = r.u32(p + 4);
        if (type < last) return 0;
        p += 8;
        if (p + datasz > pend) return 0;
        last = type;
        if (type > GNU_PROPERTY_X86_ISA_1_NEEDED) return 0;
        if (type === GNU_PROPERTY_X86_ISA_1_NEEDED) {
          if (datasz !== 4) return 0;
          const bits = r.u32(p);
          return bits === 0 ? 0 : 31 - Math.clz32(bits);
        }
        p += Math.ceil(datasz / align) * align;
      }
      return 0;
    }
    note += 12 + Math.ceil(namesz / align) * align + Math.ceil(descsz / align) * align;
  }
  return 0;
}
