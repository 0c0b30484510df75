/**
 * Units a jeos VM does not start, and why. The whole OS is an initramfs made at
 * build time: nothing persists, accounts, the linker cache and the journal catalog
 * are already built, and there is no fstab, udev or modprobe. Each of these units
 * costs boot time (a second or more in all under QEMU's TCG) and some fail outright
 * without their programs (ldconfig.service). A unit is masked only when the image
 * has it; `when` can make a mask depend on the image (see mask-units.ts).
 */
export interface MaskRule {
  unit: string;
  reason: string;
  /** Mask only when this returns true for the image (default: always). */
  when?: 'no-modprobe' | 'initramfs-root' | 'no-debug';
}

/** systemd's TPM measurement units: each has ConditionSecurity=measured-uki. */
const MEASURED_UKI_ONLY = [
  'systemd-pcrmachine.service',
  'systemd-pcrphase.service',
  'systemd-pcrphase-sysinit.service',
  'systemd-tpm2-setup.service',
  'systemd-tpm2-setup-early.service',
  'systemd-pcrextend.socket',
  'systemd-pcrlock.socket',
];
const MEASURED_UKI_REASON = 'only a measured boot of a unified kernel image with a TPM runs it; a jeos VM boots its kernel and initramfs directly';

export const VM_MASKS: readonly MaskRule[] = [
  { unit: 'ldconfig.service', reason: '/etc/ld.so.cache is written at build time' },
  { unit: 'systemd-journal-catalog-update.service', reason: 'the image is never updated in place' },
  { unit: 'systemd-update-done.service', reason: 'the image is never updated in place' },
  { unit: 'systemd-sysusers.service', reason: 'accounts are made at build time' },
  { unit: 'systemd-random-seed.service', reason: 'nothing persists to keep a seed in; the VM gets entropy from virtio-rng' },
  { unit: 'systemd-journal-flush.service', reason: 'the journal is kept in memory' },
  { unit: 'systemd-networkd-persistent-storage.service', reason: 'nothing persists' },
  { unit: 'systemd-remount-fs.service', reason: 'there is no /etc/fstab: the root is the initramfs' },
  { unit: 'systemd-network-generator.service', reason: 'the network is set up from jeos.yaml, not the kernel command line' },
  { unit: 'systemd-tmpfiles-setup-dev-early.service', reason: 'devtmpfs makes the device nodes; there is no kmod static-nodes list' },
  { unit: 'systemd-tmpfiles-setup-dev.service', reason: 'devtmpfs makes the device nodes; there is no kmod static-nodes list' },
  { unit: 'modprobe@.service', reason: 'the image has no modprobe; modules are loaded by systemd-modules-load', when: 'no-modprobe' },
  { unit: 'dev-hugepages.mount', reason: 'huge pages are not used' },
  { unit: 'sys-kernel-debug.mount', reason: 'kernel debugging file system' },
  { unit: 'sys-kernel-tracing.mount', reason: 'kernel tracing file system' },
  { unit: 'sys-kernel-config.mount', reason: 'configfs is not used' },
  { unit: 'sys-fs-fuse-connections.mount', reason: 'FUSE is not used' },
  { unit: 'proc-sys-fs-binfmt_misc.automount', reason: 'no foreign binary formats' },
  { unit: 'dev-mqueue.mount', reason: 'POSIX message queues work without it (mq_open is a system call); the mount only lists them' },
  { unit: 'run-lock.mount', reason: '/run/lock stays a directory on /run (tmpfiles makes it); its own tmpfs only caps its size' },
  { unit: 'tmp.mount', reason: '/tmp is in memory already: the root is the initramfs', when: 'initramfs-root' },
  { unit: 'systemd-user-sessions.service', reason: 'nothing forbids logins at boot: /run/nologin is not made (its tmpfiles line is masked too)' },
  { unit: 'systemd-ask-password-console.path', reason: 'nothing asks for passwords at boot (no encrypted disks)' },
  { unit: 'systemd-ask-password-wall.path', reason: 'nothing asks for passwords at boot (no encrypted disks)' },
  { unit: 'systemd-initctl.socket', reason: 'no SysV init tools talk to /dev/initctl' },
  // Units whose conditions never hold in a jeos VM: systemd would still load each, pull it
  // into the boot transaction and check it, which costs the boot time (docs/vm.md).
  ...MEASURED_UKI_ONLY.map((unit) => ({ unit, reason: MEASURED_UKI_REASON })),
  { unit: 'systemd-hibernate-clear.service', reason: 'a VM without EFI variables has no hibernation record to clear' },
  { unit: 'systemd-machine-id-commit.service', reason: 'the machine ID is made anew at every boot: nothing persists to commit it to' },
  { unit: 'systemd-binfmt.service', reason: 'no foreign binary formats (the binfmt_misc mount is masked too)' },
  { unit: 'kmod-static-nodes.service', reason: 'the image has no kmod; devtmpfs makes the device nodes', when: 'no-modprobe' },
  { unit: 'systemd-pstore.service', reason: 'QEMU gives the VM no persistent store (no EFI variables, no ACPI ERST) for kernel crash records' },
  { unit: 'systemd-firstboot.service', reason: 'the image is configured at build time (systemd.firstboot=off is on the command line too)' },
  { unit: 'systemd-creds.socket', reason: 'no credentials are given to a jeos VM (see the ImportCredential= drop-ins)' },
  { unit: 'systemd-sysext.socket', reason: 'system extensions are not used: the image is built whole' },
  { unit: 'systemd-hostnamed.socket', reason: 'the host name comes from jeos.yaml; nothing changes it while the VM runs' },
];

/**
 * tmpfiles.d files a jeos VM does not run, masked by a link to /dev/null of the same
 * name in /etc/tmpfiles.d. systemd-nologin.conf makes /run/nologin, which only
 * systemd-user-sessions.service (masked above) removes: left alone, it would refuse
 * PAM logins of every user but root.
 */
export const VM_TMPFILES_MASKS: readonly MaskRule[] = [
  { unit: 'systemd-nologin.conf', reason: 'systemd-user-sessions.service, which removes /run/nologin again, is masked' },
];

/**
 * systemd generators that have nothing to find in a jeos VM; each is a program run
 * at every boot before any unit starts. systemd-debug-generator (systemd.mask=,
 * systemd.wants=, systemd.debug_shell on the kernel command line) and
 * systemd-run-generator (systemd.run=) find something only when someone debugs the
 * boot: they are masked unless `vm.debug: true`. Each generator is a process at
 * every boot, before any unit starts (what they cost: docs/vm.md).
 */
export const VM_GENERATOR_MASKS: readonly MaskRule[] = [
  { unit: 'systemd-fstab-generator', reason: 'there is no /etc/fstab and no root= to mount' },
  { unit: 'systemd-gpt-auto-generator', reason: 'there is no disk' },
  { unit: 'systemd-hibernate-resume-generator', reason: 'a VM without a disk does not hibernate' },
  { unit: 'systemd-rc-local-generator', reason: 'there is no /etc/rc.local' },
  { unit: 'systemd-ssh-generator', reason: 'ssh access is not part of the image' },
  { unit: 'systemd-system-update-generator', reason: 'the image is never updated in place' },
  { unit: 'systemd-sysv-generator', reason: 'SysV init scripts are not enabled (their rc.d links are not made)' },
  { unit: 'systemd-tpm2-generator', reason: 'there is no TPM' },
  { unit: 'systemd-debug-generator', reason: 'systemd.mask=, systemd.wants= and systemd.debug_shell on the kernel command line are for debugging (vm.debug: true keeps them)', when: 'no-debug' },
  { unit: 'systemd-run-generator', reason: 'systemd.run= on the kernel command line is for debugging (vm.debug: true keeps it)', when: 'no-debug' },
];

/**
 * sysctl.d files a jeos VM does not apply, masked in /etc/sysctl.d. Debian's systemd
 * sets kernel.core_pattern to `core`: a crashing program would write its memory to a
 * file in its working directory, in a root that is RAM (or a disk image), again on
 * every restart. systemd's own setting stays: no core files.
 */
export const VM_SYSCTL_MASKS: readonly MaskRule[] = [
  { unit: '10-coredump-debian.conf', reason: 'no core files in the VM: with its root in memory, a crash loop would fill it (systemd\'s kernel.core_pattern stays)' },
];
