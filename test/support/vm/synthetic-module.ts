/**
 * Test support: tiny kernel modules — relocatable x86-64 ELF objects with the
 * sections depmod reads (`.modinfo`, `.symtab`/`.strtab` with `__crc_*` exports
 * and undefined imports, `__ksymtab_strings`) and nothing else. kmod's depmod,
 * modinfo and modprobe accept them, so tests can check jeos against the real tools.
 */

export interface SyntheticModule {
  /** `.modinfo` entries in order, e.g. `['depends', 'failover']`, `['alias', 'virtio:d00000001v*']`. */
  info?: Array<[string, string]>;
  /** Symbols the module exports. */
  exports?: string[];
  /** Symbols it needs from other modules (undefined in its symbol table). */
  imports?: string[];
}

const SHT_PROGBITS = 1;
const SHT_SYMTAB = 2;
const SHT_STRTAB = 3;
const SHN_ABS = 0xfff1;
const STB_GLOBAL = 1;

function strtab(names: string[]): { data: Buffer; offsets: Map<string, number> } {
  const offsets = new Map<string, number>();
  const parts: Buffer[] = [Buffer.alloc(1)];
  let size = 1;
  for (const name of names) {
    if (offsets.has(name)) continue;
    offsets.set(name, size);
    const b = Buffer.from(`${name}\0`, 'latin1');
    parts.push(b);
    size += b.length;
  }
  return { data: Buffer.concat(parts), offsets };
}

export function buildModule(spec: SyntheticModule = {}): Buffer {
  const modinfo = Buffer.from((spec.info ?? []).map(([k, v]) => `${k}=${v}\0`).join(''), 'latin1');
  const exportsNames = spec.exports ?? [];
  const ksymtabStrings = Buffer.from(exportsNames.map((n) => `${n}\0`).join(''), 'latin1');
  const symbols = [...exportsNames.map((n) => ({ name: `__crc_${n}`, shndx: SHN_ABS, value: 0x1234 })), ...(spec.imports ?? []).map((n) => ({ name: n, shndx: 0, value: 0 }))];
  const str = strtab(symbols.map((s) => s.name));
  const symtab = Buffer.alloc(24 * (symbols.length + 1));
  symbols.forEach((s, i) => {
    const at = 24 * (i + 1);
    symtab.writeUInt32LE(str.offsets.get(s.name)!, at);
    symtab[at + 4] = (STB_GLOBAL << 4) | 0; // STT_NOTYPE
    symtab.writeUInt16LE(s.shndx, at + 6);
    symtab.writeBigUInt64LE(BigInt(s.value), at + 8);
  });
  const sectionNames = ['.modinfo', '__ksymtab_strings', '.symtab', '.strtab', '.shstrtab'];
  const shstr = strtab(sectionNames);
  const bodies: Array<{ name: string; type: number; data: Buffer; link?: number; info?: number; entsize?: number; align: number }> = [
    { name: '.modinfo', type: SHT_PROGBITS, data: modinfo, align: 1 },
    { name: '__ksymtab_strings', type: SHT_PROGBITS, data: ksymtabStrings, align: 1 },
    { name: '.symtab', type: SHT_SYMTAB, data: symtab, link: 4, info: 1, entsize: 24, align: 8 },
    { name: '.strtab', type: SHT_STRTAB, data: str.data, align: 1 },
    { name: '.shstrtab', type: SHT_STRTAB, data: shstr.data, align: 1 },
  ];
  const chunks: Buffer[] = [Buffer.alloc(64)];
  let off = 64;
  const offsets: number[] = [];
  for (const b of bodies) {
    const pad = (b.align - (off % b.align)) % b.align;
    if (pad) chunks.push(Buffer.alloc(pad));
    off += pad;
    offsets.push(off);
    chunks.push(b.data);
    off += b.data.length;
  }
  const shPad = (8 - (off % 8)) % 8;
  if (shPad) chunks.push(Buffer.alloc(shPad));
  off += shPad;
  const shoff = off;
  const sh = Buffer.alloc(64 * (bodies.length + 1));
  bodies.forEach((b, i) => {
    const at = 64 * (i + 1);
    sh.writeUInt32LE(shstr.offsets.get(b.name)!, at);
    sh.writeUInt32LE(b.type, at + 4);
    sh.writeBigUInt64LE(b.name === '.modinfo' || b.name === '__ksymtab_strings' ? 2n : 0n, at + 8); // SHF_ALLOC
    sh.writeBigUInt64LE(BigInt(offsets[i]!), at + 0x18);
    sh.writeBigUInt64LE(BigInt(b.data.length), at + 0x20);
    sh.writeUInt32LE(b.link ?? 0, at + 0x28);
    sh.writeUInt32LE(b.info ?? 0, at + 0x2c);
    sh.writeBigUInt64LE(BigInt(b.align), at + 0x30);
    sh.writeBigUInt64LE(BigInt(b.entsize ?? 0), at + 0x38);
  });
  chunks.push(sh);
  const elf = Buffer.concat(chunks);
  elf.set([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0], 0);
  elf.writeUInt16LE(1, 16); // ET_REL
  elf.writeUInt16LE(62, 18); // EM_X86_64
  elf.writeUInt32LE(1, 20);
  elf.writeBigUInt64LE(BigInt(shoff), 0x28);
  elf.writeUInt16LE(64, 0x34); // e_ehsize
  elf.writeUInt16LE(64, 0x3a); // e_shentsize
  elf.writeUInt16LE(bodies.length + 1, 0x3c);
  elf.writeUInt16LE(bodies.length, 0x3e); // .shstrtab is the last section
  return elf;
}
