export { vmWriter, VM_DIR, VMLINUZ, INITRD, CMDLINE } from './writer.js';
