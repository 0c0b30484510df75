export { vmWriter, outsideVmRoot, VM_DIR, VMLINUZ, INITRD, CMDLINE, ROOT_IMG } from './writer.js';
