export { diskWriter } from './writer.js';
export { buildFat32, fat32Geometry, dosDateTime, isShortName, shortNameOf, shortNameChecksum, FAT_SECTOR, type FatFile, type Fat32Options, type Fat32Result } from './fat32.js';
export { gptPieces, encodeGuid, decodeGuid, guidFrom, PARTITION_TYPES, SECTOR, type GptPartition } from './gpt.js';
export { crc32 } from './crc32.js';
export * from './layout.js';
export { FatVolume, type FatEntry } from './fat32-volume.js';
export * from './entries.js';
