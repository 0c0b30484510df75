/**
 * What a trim needs beyond the dynamic segment: the symbols a file takes from its
 * libraries (to tell, say, that a program resolves user names through NSS or
 * converts character sets with iconv), and the libraries it loads with dlopen()
 * as declared in FDO `.note.dlopen` notes (systemd and others list them there,
 * see the ELF dlopen metadata spec on the UAPI group's site).
 */
import { isElf, Reader } from './elf.js';

const PT_NOTE = 4;
const SHT_DYNSYM = 11;
const SHN_UNDEF = 0;
const NT_FDO_DLOPEN_METADATA = 0x407c0c0a;

/** One entry of a `.note.dlopen` note: the sonames of one optional feature. */
export interface DlopenFeature {
  feature?: string;
  description?: string;
  /** `required`, `recommended` (the default) or `suggested`. */
  priority: string;
  /** Alternatives: the first that loads is used. */
  soname: string[];
}

function readerOf(data: Buffer, name: string): Reader | undefined {
  if (!isElf(data) || data.length < 52) return undefined;
  const cls = data[4];
  const enc = data[5];
  if ((cls !== 1 && cls !== 2) || (enc !== 1 && enc !== 2)) return undefined;
  return new Reader(data, cls === 2, enc === 1, name);
}

/**
 * The undefined symbols of the dynamic symbol table (.dynsym): what the file needs
 * from its libraries. Read through the section headers, which stripped Debian
 * binaries keep; a file without them yields an empty set.
 */
export function readImports(data: Buffer, name = 'ELF file'): Set<string> {
  const imports = new Set<string>();
  const r = readerOf(data, name);
  if (!r) return imports;
  const is64 = r.is64;
  const shoff = r.word(is64 ? 40 : 32);
  const shentsize = r.u16(is64 ? 58 : 46);
  const shnum = r.u16(is64 ? 60 : 48);
  if (shoff === 0 || shnum === 0) return imports;
  const section = (i: number) => {
    const p = shoff + i * shentsize;
    return is64
      ? { type: r.u32(p + 4), offset: r.word(p + 24), size: r.word(p + 32), link: r.u32(p + 40), entsize: r.word(p + 56) }
      : { type: r.u32(p + 4), offset: r.u32(p + 16), size: r.u32(p + 20), link: r.u32(p + 24), entsize: r.u32(p + 36) };
  };
  for (let i = 0; i < shnum; i++) {
    const sym = section(i);
    if (sym.type !== SHT_DYNSYM || sym.link >= shnum) continue;
    const strtab = section(sym.link);
    const entsize = sym.entsize || (is64 ? 24 : 16);
    for (let off = sym.offset + entsize; off + entsize <= sym.offset + sym.size; off += entsize) {
      const nameOff = r.u32(off);
      const shndx = r.u16(off + (is64 ? 6 : 14));
      if (shndx !== SHN_UNDEF || nameOff === 0 || nameOff >= strtab.size) continue;
      const symbol = r.cstring(strtab.offset + nameOff);
      // Versioned names are stored plain; the version lives in .gnu.version.
      imports.add(symbol);
    }
  }
  return imports;
}

/** The features a file declares it may dlopen(), from its FDO `.note.dlopen` notes. */
export function readDlopenNotes(data: Buffer, name = 'ELF file'): DlopenFeature[] {
  const r = readerOf(data, name);
  if (!r) return [];
  const is64 = r.is64;
  const phoff = r.word(is64 ? 32 : 28);
  const phentsize = r.u16(is64 ? 54 : 42);
  const phnum = r.u16(is64 ? 56 : 44);
  const features: DlopenFeature[] = [];
  for (let i = 0; i < phnum; i++) {
    const p = phoff + i * phentsize;
    if (r.u32(p) !== PT_NOTE) continue;
    const offset = r.word(p + (is64 ? 8 : 4));
    const size = r.word(p + (is64 ? 32 : 16));
    const align = Math.max(4, r.word(p + (is64 ? 48 : 28)));
    const pad = (n: number) => Math.ceil(n / align) * align;
    for (let note = offset; note + 12 <= offset + size; ) {
      const namesz = r.u32(note);
      const descsz = r.u32(note + 4);
      const type = r.u32(note + 8);
      const desc = note + 12 + pad(namesz);
      if (type === NT_FDO_DLOPEN_METADATA && namesz === 4 && r.cstring(note + 12) === 'FDO') {
        features.push(...parseFeatures(data.subarray(desc, desc + descsz).toString('utf8').replace(/\0+$/, '')));
      }
      note = desc + pad(descsz);
    }
  }
  return features;
}

function parseFeatures(json: string): DlopenFeature[] {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch {
    return [];
  }
  if (!Array.isArray(value)) return [];
  return value.flatMap((v): DlopenFeature[] => {
    if (typeof v !== 'object' || v === null || !Array.isArray((v as { soname?: unknown }).soname)) return [];
    const o = v as Record<string, unknown>;
    return [
      {
        ...(typeof o.feature === 'string' ? { feature: o.feature } : {}),
        ...(typeof o.description === 'string' ? { description: o.description } : {}),
        priority: typeof o.priority === 'string' ? o.priority : 'recommended',
        soname: (o.soname as unknown[]).filter((s): s is string => typeof s === 'string'),
      },
    ];
  });
}
