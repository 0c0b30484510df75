/**
 * Drift audit (docs/audit.md): a build's image record against a directory, a tar, an
 * OCI layout, a VM's initramfs or root.img, or a running container.
 */
export { audit, checkOutDir, type AuditOptions } from './audit.js';
export { DEFAULT_STATE_DIRS, EXT4_PATHS, RUNTIME_PATHS } from './compare.js';
export { CONTAINER_PREFIX } from './read-container.js';
export type * from './types.js';
