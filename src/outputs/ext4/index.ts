export { writeExt4Image, DEFAULT_FREE_BYTES, type Ext4Options, type Ext4Result } from './write.js';
