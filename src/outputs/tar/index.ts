export { encodeHeader, paxRecord, type TarEntry, type TarType } from './header.js';
export { tarChunks, treeTarItems, type TarItem } from './stream.js';
export { tarWriter, ROOTFS_TAR } from './writer.js';
