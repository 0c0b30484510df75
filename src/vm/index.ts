/**
 * The system inside a VM image, built into the VM variant's tree by the build's vm steps
 * (src/build/variants/vm.ts). Three places make a VM, one job each:
 *
 *   src/vm           what goes inside the image: the kernel and its modules (kernel/), the
 *                    init and its units (system/: systemd; busybox/: BusyBox init and the
 *                    network /init), tmpfiles.d done at build time (tmpfiles/), the kernel
 *                    command line and what an untrimmed VM leaves out
 *   src/outputs/vm   the artefacts in out/vm: vmlinuz, initrd.img or root.img, cmdline
 *   src/boot/vm      booting them in QEMU: jeos run, jeos test --vm
 */
export { findKernel, modulesDirOf, type KernelInfo } from '../tree/index.js';
export { excludeDocumentation, VM_EXCLUDED_DIRS, type ExcludeResult } from './excludes.js';
export { addKernel, prepareKernel, VM_MODULES, type KernelOptions, type VmKernel } from './kernel/kernel-image.js';
export { setupVmSystem, SYSTEMD, type VmSystemReport, type VmSystemSpec } from './system/system.js';
export { vmCmdline, DISK_ROOT_DEVICE } from './cmdline.js';
export { planSysctl, SYSCTL_DIRS, type SysctlPlan, type SysctlSetting } from './system/sysctl.js';
export { setupBusyboxInit, type BusyboxInitSpec, type BusyboxSystemReport } from './busybox/busybox-init.js';
export { BUSYBOX, NETWORK_UNIT, modulesLoadD } from './busybox/busybox-network.js';
export { REPORT_BEGIN, REPORT_END, REPORT_TTY, REPORT_UNIT, unitWord, workloadUnit, type WorkloadUnitSpec } from './system/units.js';
export {
  DEFAULT_MODULES,
  selectKernelModules,
  trimKernelModules,
  similarNames,
  type KeptModule,
  type ModuleSelection,
  type SelectOptions,
  type ModuleTrim,
} from './kernel/modules.js';
export { depmod, DEPMOD_FILES, moduleNameOf, normalizeAlias, type DepmodFile, type DepmodInput, type ModuleRecord } from './kernel/depmod.js';
export { KmodIndex } from './kernel/kmod-index.js';
export { readModuleElf, type ModuleElf } from './kernel/module-elf.js';
export { DISK_MODULES, BOOT_COMPLETE_MARK, type DiskHealthcheck } from './system/disk-boot.js';
export { updateScript, rebootWindowUnits, UPDATE_SCRIPT, UPDATE_TIMER, UPDATE_UNIT, ROLLED_BACK_FILE, type ImageUpdateSpec } from './system/update.js';
