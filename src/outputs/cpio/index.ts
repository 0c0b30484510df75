export { writeInitramfs, type InitramfsOptions, type InitramfsResult } from './initramfs.js';
export { DEFAULT_LEVELS, INITRAMFS_COMPRESSIONS, MAX_ZSTD_LEVEL, type InitramfsCompression } from './compress.js';
export { planCpio, cpioChunks, type CpioItem, type CpioOptions, type CpioPlan } from './stream.js';
export { encodeNewcHeader, NEWC_MAGIC, TRAILER_NAME, KERNEL_PATH_MAX, type NewcEntry } from './newc.js';
