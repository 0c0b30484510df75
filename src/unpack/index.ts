export type { UnpackedPackage, Diversion, UnpackStats } from './types.js';
export {
  unpackPackages,
  makeMergedUsr,
  mergedUsrLinks,
  type DebInput,
  type UnpackOptions,
  type UnpackEvent,
  type UnpackResult,
} from './unpack.js';
export { readDeb, decodeDeb, parseControl, controlField, parseConffiles, type DebContents } from './deb.js';
export { readAr, readDebMembers, type ArMember, type DebMembers } from './ar.js';
export { decompress, checkDecompressors, compressionOfMember, type Compression, type MemberRef } from './decompress.js';
export { readTar, type TarEntry, type TarEntryType } from './tar.js';
