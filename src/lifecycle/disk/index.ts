/**
 * Versions on a stopped jeos disk, offline: `jeos disk add` and `jeos disk status` read and
 * edit the disk's ESP in place (src/outputs/disk's FAT32 volume), without root or mounting.
 */
export { addVersion, choosePruned, DEFAULT_KEEP, type AddOptions, type AddResult } from './add.js';
export { diskStatus, readVersions, type DiskStatus, type DiskVersion } from './status.js';
export { openJeosDisk, type JeosDisk } from './disk-file.js';
