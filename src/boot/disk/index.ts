/**
 * Booting disk images (out/disk.img from `jeos build --format disk`) under UEFI: OVMF
 * from the host, the disk's own systemd-boot and boot entries. `testDisk` is behind
 * `jeos test --disk`; `jeos run --disk` uses the VM runner with `uefi`.
 */
export { DiskBootLog, type DiskBoot, type DiskBootTimings } from './boot-markers.js';
export { requireOvmf, varsFor, OVMF_CODE, OVMF_DIR, OVMF_VARS, type Firmware } from './firmware.js';
export { readDiskImage, type DiskImage } from './image.js';
export { testDisk, type DiskTestOptions, type DiskTestResult } from './disk-test.js';
