export * from './types.js';
export { ImageTree, defaultMeta, normalizePath } from './tree.js';
export { readAccounts, resolveOwner, type Accounts } from './accounts.js';
export { findKernel, modulesDirOf, type KernelInfo } from './kernel.js';
export { EFI_ARCH, efiArchOf, bootLoaderTreePath, packagedBootLoaderPath, placeBootLoader } from './boot-loader.js';
