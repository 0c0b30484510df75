export { encodeHeader, paxRecord, type TarEntry, type TarType } from '../../util/tar/header.js';
export { tarChunks, type TarItem } from '../../util/tar/chunks.js';
export { treeTarItems } from './stream.js';
export { tarWriter, ROOTFS_TAR } from './writer.js';
