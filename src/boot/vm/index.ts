/**
 * Booting VM images (out/vm from `jeos build --format vm`) under QEMU: the runner
 * behind `jeos run`, and `testVm` behind `jeos test --vm`.
 */
export { chooseAccel, kvmDeviceError, probeKvm, type AccelContext, type AccelDecision } from './accel.js';
export { ConsoleLog, cleanLine, failedUnitOf, stripAnsi, type ConsoleLine, type ConsoleMarkers } from './console.js';
export { readVmImage, VM_FILES } from './image.js';
export { chooseForwards, choosePort, freePort, portIsFree } from './ports.js';
export { QmpClient, type QmpEvent } from './qmp.js';
export { cpuModel, defaultMachine, GUEST_DEVICES, hostfwd, joinCmdline, qemuArgs, qemuVersion, requireQemu, QEMU, type QemuArgsSpec } from './qemu.js';
export { parseReportBody, ReportReader, REPORT_BEGIN, REPORT_END, type GuestReport } from './report.js';
export { AUDIT_PORT_NAME, checkVmName, claimVmName, findRunningVm, vmRegistryDir, type RunningVm } from './registry.js';
export { startVm, type StartVmOptions, type VmExit, type VmHandle } from './runner.js';
export { checkVmHealthcheck, testVm, type VmTestOptions, type VmTestResult } from './vm-test.js';
export type * from './types.js';
