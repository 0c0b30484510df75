/**
 * Test support: a static x86-64 ELF executable around hand-assembled machine code,
 * for stand-in /init programs booted under QEMU. The ELF header, one PT_LOAD (R+X)
 * mapping the whole file at `loadAddress`, then `body` (code first: the entry point
 * is the first byte after the headers).
 */
export const STATIC_LOAD_ADDRESS = 0x400000n;
const HEADERS = 64 + 56;

export function staticExecutable(body: Buffer, loadAddress = STATIC_LOAD_ADDRESS): Buffer {
  const h = Buffer.alloc(HEADERS);
  h.set([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0], 0); // ELF, 64-bit, little-endian, version 1, System V
  h.writeUInt16LE(2, 16); // ET_EXEC
  h.writeUInt16LE(62, 18); // EM_X86_64
  h.writeUInt32LE(1, 20); // EV_CURRENT
  h.writeBigUInt64LE(loadAddress + BigInt(HEADERS), 24); // e_entry: the first instruction
  h.writeBigUInt64LE(64n, 32); // e_phoff
  h.writeUInt16LE(64, 52); // e_ehsize
  h.writeUInt16LE(56, 54); // e_phentsize
  h.writeUInt16LE(1, 56); // e_phnum
  h.writeUInt32LE(1, 64); // PT_LOAD
  h.writeUInt32LE(5, 68); // PF_R | PF_X
  h.writeBigUInt64LE(loadAddress, 80); // p_vaddr
  h.writeBigUInt64LE(loadAddress, 88); // p_paddr
  const size = BigInt(HEADERS + body.length);
  h.writeBigUInt64LE(size, 96); // p_filesz
  h.writeBigUInt64LE(size, 104); // p_memsz
  h.writeBigUInt64LE(0x1000n, 112); // p_align
  return Buffer.concat([h, body]);
}
