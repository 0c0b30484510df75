/**
 * A GUID Partition Table (UEFI specification, chapter 5): the protective MBR in LBA 0, the
 * primary header in LBA 1 with its 128 entries from LBA 2, and the backup entries and header
 * at the end of the disk. Partition types come from the Discoverable Partitions Specification,
 * so systemd's tools (and a person with `sgdisk -p`) know each partition by its type alone.
 */
import { crc32 } from './crc32.js';

export const SECTOR = 512;
/** Entries in each partition array (the specification's minimum of 16 KiB). */
export const GPT_ENTRIES = 128;
export const GPT_ENTRY_SIZE = 128;
/** Sectors the entry array takes: 32. */
export const GPT_ARRAY_SECTORS = (GPT_ENTRIES * GPT_ENTRY_SIZE) / SECTOR;

/** Partition type GUIDs (Discoverable Partitions Specification). */
export const PARTITION_TYPES = {
  esp: 'c12a7328-f81f-11d2-ba4b-00a0c93ec93b',
  var: '4d21b016-b534-45c2-a9fb-5c16e091fd2d',
} as const;

export interface GptPartition {
  type: string;
  guid: string;
  /** First and last sector, inclusive. */
  first: number;
  last: number;
  /** At most 36 UTF-16 code units. */
  name: string;
  attributes?: bigint;
}

/** A GUID in its on-disk form: the first three fields little-endian, the rest as written. */
export function encodeGuid(guid: string): Buffer {
  const hex = guid.replace(/-/g, '');
  if (!/^[0-9a-fA-F]{32}$/.test(hex)) throw new Error(`not a GUID: ${guid}`);
  const b = Buffer.from(hex, 'hex');
  return Buffer.concat([Buffer.from(b.subarray(0, 4)).reverse(), Buffer.from(b.subarray(4, 6)).reverse(), Buffer.from(b.subarray(6, 8)).reverse(), b.subarray(8)]);
}

export function decodeGuid(b: Buffer): string {
  const h = Buffer.concat([Buffer.from(b.subarray(0, 4)).reverse(), Buffer.from(b.subarray(4, 6)).reverse(), Buffer.from(b.subarray(6, 8)).reverse(), b.subarray(8, 16)]).toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** A GUID from 16 bytes of a digest, marked as a random (version 4) GUID the way generated ones are. */
export function guidFrom(bytes: Buffer): string {
  const b = Buffer.from(bytes.subarray(0, 16));
  b[6] = (b[6]! & 0x0f) | 0x40;
  b[8] = (b[8]! & 0x3f) | 0x80;
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** LBA 0: an MBR whose one partition (type 0xEE) covers the disk, so MBR-only tools leave it alone. */
function protectiveMbr(sectors: number): Buffer {
  const b = Buffer.alloc(SECTOR);
  const e = 446;
  b[e + 1] = 0x00;
  b[e + 2] = 0x02; // CHS of LBA 1
  b[e + 3] = 0x00;
  b[e + 4] = 0xee;
  b[e + 5] = 0xff;
  b[e + 6] = 0xff;
  b[e + 7] = 0xff;
  b.writeUInt32LE(1, e + 8);
  b.writeUInt32LE(Math.min(sectors - 1, 0xffffffff), e + 12);
  b[510] = 0x55;
  b[511] = 0xaa;
  return b;
}

function entryArray(partitions: readonly GptPartition[]): Buffer {
  const b = Buffer.alloc(GPT_ENTRIES * GPT_ENTRY_SIZE);
  partitions.forEach((p, i) => {
    const o = i * GPT_ENTRY_SIZE;
    encodeGuid(p.type).copy(b, o);
    encodeGuid(p.guid).copy(b, o + 16);
    b.writeBigUInt64LE(BigInt(p.first), o + 32);
    b.writeBigUInt64LE(BigInt(p.last), o + 40);
    b.writeBigUInt64LE(p.attributes ?? 0n, o + 48);
    if (p.name.length > 36) throw new Error(`GPT partition name longer than 36 characters: ${p.name}`);
    b.write(p.name, o + 56, 72, 'utf16le');
  });
  return b;
}

function header(f: { current: number; backup: number; firstUsable: number; lastUsable: number; diskGuid: string; entriesLba: number; entriesCrc: number }): Buffer {
  const b = Buffer.alloc(SECTOR);
  b.write('EFI PART', 0, 'latin1');
  b.writeUInt32LE(0x00010000, 8);
  b.writeUInt32LE(92, 12);
  b.writeBigUInt64LE(BigInt(f.current), 24);
  b.writeBigUInt64LE(BigInt(f.backup), 32);
  b.writeBigUInt64LE(BigInt(f.firstUsable), 40);
  b.writeBigUInt64LE(BigInt(f.lastUsable), 48);
  encodeGuid(f.diskGuid).copy(b, 56);
  b.writeBigUInt64LE(BigInt(f.entriesLba), 72);
  b.writeUInt32LE(GPT_ENTRIES, 80);
  b.writeUInt32LE(GPT_ENTRY_SIZE, 84);
  b.writeUInt32LE(f.entriesCrc, 88);
  b.writeUInt32LE(crc32(b.subarray(0, 92)), 16);
  return b;
}

/** The sectors the table takes, as [byte offset, bytes] pieces: MBR, primary header and array, backup array and header. */
export function gptPieces(sectors: number, diskGuid: string, partitions: readonly GptPartition[]): Array<{ offset: number; data: Buffer }> {
  const firstUsable = 2 + GPT_ARRAY_SECTORS;
  const lastUsable = sectors - 2 - GPT_ARRAY_SECTORS;
  for (const p of partitions) {
    if (p.first < firstUsable || p.last > lastUsable || p.last < p.first) throw new Error(`GPT partition ${p.name} (${p.first}–${p.last}) is outside ${firstUsable}–${lastUsable}`);
  }
  const array = entryArray(partitions);
  const entriesCrc = crc32(array);
  const last = sectors - 1;
  const common = { firstUsable, lastUsable, diskGuid, entriesCrc };
  return [
    { offset: 0, data: protectiveMbr(sectors) },
    { offset: SECTOR, data: header({ ...common, current: 1, backup: last, entriesLba: 2 }) },
    { offset: 2 * SECTOR, data: array },
    { offset: (last - GPT_ARRAY_SECTORS) * SECTOR, data: array },
    { offset: last * SECTOR, data: header({ ...common, current: last, backup: 1, entriesLba: last - GPT_ARRAY_SECTORS }) },
  ];
}
