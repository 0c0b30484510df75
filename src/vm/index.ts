/**
 * VM building blocks: finding the kernel in the image tree and cutting its modules
 * down to what the image needs, with the depmod files written for what is kept.
 */
export { findKernel, modulesDirOf, type KernelInfo } from './kernel.js';
export {
  DEFAULT_MODULES,
  selectKernelModules,
  trimKernelModules,
  similarNames,
  type KeptModule,
  type ModuleSelection,
  type SelectOptions,
  type TrimResult,
} from './modules.js';
export { depmod, DEPMOD_FILES, moduleNameOf, normalizeAlias, type DepmodFile, type DepmodInput, type ModuleRecord } from './depmod.js';
export { KmodIndex } from './kmod-index.js';
export { readModuleElf, type ModuleElf } from './module-elf.js';
