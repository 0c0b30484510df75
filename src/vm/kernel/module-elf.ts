/**
 * What depmod reads from a kernel module (a relocatable ELF object): the `.modinfo`
 * strings (`depends=`, `alias=`, `softdep=`, `weakdep=`, `firmware=`, …) and the
 * symbols the module exports — the `__crc_*` entries of `.symtab` when the kernel
 * was built with modversions, else the names in `__ksymtab_strings`, as kmod does.
 */
import { JeosError } from '../../errors.js';

export interface ModuleElf {
  /** `.modinfo` key/value pairs in section order. */
  info: Array<[string, string]>;
  /** Exported symbol names in symbol-table order. */
  exports: string[];
  /**
   * Symbols the module needs from elsewhere, in the order depmod reads them: the
   * undefined symbols of `.symtab`, then `__versions` entries not among them.
   */
  imports: string[];
}

const CRC_PREFIX = '__crc_';
const SHN_UNDEF = 0;

function bad(name: string, why: string): JeosError {
  return new JeosError('E_VM_MODULE_BAD', `kernel module ${name} is not a readable ELF object: ${why}`, {
    hint: 'the kernel package is damaged; fetch it again',
  });
}

interface Section {
  name: string;
  offset: number;
  size: number;
}

/** NUL-separated strings, skipping runs of NULs (section padding). */
function strings(data: Buffer): string[] {
  return data
    .toString('latin1')
    .split('\0')
    .filter((s) => s !== '');
}

export function readModuleElf(data: Buffer, name: string): ModuleElf {
  if (data.length < 64 || data.readUInt32BE(0) !== 0x7f454c46) throw bad(name, 'no ELF header');
  const is64 = data[4] === 2;
  const little = data[5] === 1;
  if ((data[4] !== 1 && !is64) || (data[5] !== 1 && data[5] !== 2)) throw bad(name, `unknown ELF class ${data[4]} or encoding ${data[5]}`);
  const check = (off: number, len: number) => {
    if (off < 0 || len < 0 || off + len > data.length) throw bad(name, `data at offset ${off} runs past the end of the file`);
  };
  const u16 = (off: number) => (check(off, 2), little ? data.readUInt16LE(off) : data.readUInt16BE(off));
  const u32 = (off: number) => (check(off, 4), little ? data.readUInt32LE(off) : data.readUInt32BE(off));
  const word = (off: number) => {
    if (!is64) return u32(off);
    check(off, 8);
    const v = little ? data.readBigUInt64LE(off) : data.readBigUInt64BE(off);
    // NOBITS sections (.bss) have sizes beyond the file; a section is checked when it is read.
    return v > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(v);
  };

  const shoff = word(is64 ? 0x28 : 0x20);
  const shentsize = u16(is64 ? 0x3a : 0x2e);
  const shnum = u16(is64 ? 0x3c : 0x30);
  const shstrndx = u16(is64 ? 0x3e : 0x32);
  if (shnum === 0 || shstrndx >= shnum) throw bad(name, 'no section headers');
  const header = (i: number) => {
    const at = shoff + i * shentsize;
    check(at, shentsize);
    return { nameOff: u32(at), offset: word(at + (is64 ? 0x18 : 0x10)), size: word(at + (is64 ? 0x20 : 0x14)) };
  };
  const shstr = header(shstrndx);
  check(shstr.offset, shstr.size);
  const sectionName = (off: number) => {
    const start = shstr.offset + off;
    const end = data.indexOf(0, start);
    return data.toString('latin1', start, end < 0 || end > shstr.offset + shstr.size ? shstr.offset + shstr.size : end);
  };
  const sections = new Map<string, Section>();
  for (let i = 0; i < shnum; i++) {
    const h = header(i);
    const s = { name: sectionName(h.nameOff), offset: h.offset, size: h.size };
    if (!sections.has(s.name)) sections.set(s.name, s);
  }
  const body = (s: Section) => (check(s.offset, s.size), data.subarray(s.offset, s.offset + s.size));

  const modinfo = sections.get('.modinfo');
  if (!modinfo) throw bad(name, 'no .modinfo section');
  const info: Array<[string, string]> = [];
  for (const s of strings(body(modinfo))) {
    const eq = s.indexOf('=');
    if (eq > 0) info.push([s.slice(0, eq), s.slice(eq + 1)]);
  }

  let exports: string[] = [];
  const imports: string[] = [];
  const symtab = sections.get('.symtab');
  const strtab = sections.get('.strtab');
  if (symtab && strtab) {
    const symSize = is64 ? 24 : 16;
    const shndxAt = is64 ? 6 : 14;
    const table = body(strtab);
    check(symtab.offset, symtab.size);
    for (let at = symtab.offset + symSize; at + symSize <= symtab.offset + symtab.size; at += symSize) {
      const off = u32(at);
      if (off >= table.length) throw bad(name, `symbol name offset ${off} is outside .strtab`);
      const end = table.indexOf(0, off);
      const sym = table.toString('latin1', off, end < 0 ? table.length : end);
      if (sym.startsWith(CRC_PREFIX)) exports.push(sym.slice(CRC_PREFIX.length));
      if (u16(at + shndxAt) === SHN_UNDEF && sym !== '') imports.push(sym);
    }
  }
  const versions = sections.get('__versions');
  if (versions) {
    // Each entry: a CRC (8 bytes on 64-bit, 4 on 32-bit), then a NUL-padded name; 64 bytes in all.
    const crcSize = is64 ? 8 : 4;
    const table = body(versions);
    const seen = new Set(imports);
    for (let at = 0; at + 64 <= table.length; at += 64) {
      const end = table.indexOf(0, at + crcSize);
      if (end < 0 || end >= at + 64) continue;
      const sym = table.toString('latin1', at + crcSize, end);
      if (sym !== '' && !seen.has(sym)) imports.push(sym);
    }
  }
  if (exports.length === 0) {
    const ksymtab = sections.get('__ksymtab_strings');
    if (ksymtab) exports = strings(body(ksymtab));
  }
  return { info, exports, imports };
}
