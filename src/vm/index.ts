/**
 * VM images: the locked kernel with its modules cut down to what the image needs,
 * and the system setup (systemd as /init, the workload's service, DHCP) that makes
 * the image tree a bootable VM. The vm output writer (src/outputs/vm) writes it.
 */
export { findKernel, modulesDirOf, type KernelInfo } from '../tree/index.js';
export { excludeDocumentation, VM_EXCLUDED_DIRS, type ExcludeResult } from './excludes.js';
export { addKernel, prepareKernel, VM_MODULES, type KernelOptions, type VmKernel } from './kernel-image.js';
export { setupVmSystem, SYSTEMD, type VmSystemReport, type VmSystemSpec } from './system.js';
export { vmCmdline, DISK_ROOT_DEVICE } from './cmdline.js';
export { planSysctl, SYSCTL_DIRS, type SysctlPlan, type SysctlSetting } from './sysctl.js';
export { setupBusyboxInit, type BusyboxInitSpec, type BusyboxSystemReport } from './busybox-init.js';
export { BUSYBOX, NETWORK_UNIT, modulesLoadD } from './busybox-network.js';
export { REPORT_BEGIN, REPORT_END, REPORT_TTY, REPORT_UNIT, unitWord, workloadUnit, type WorkloadUnitSpec } from './units.js';
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
