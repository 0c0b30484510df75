/**
 * Linux capabilities by name (capabilities(7)), and the file-capability xattr
 * (`security.capability`, struct vfs_cap_data revision 2) that grants them to a
 * program at exec: permitted and effective, so a program that does not raise its
 * own capabilities (a Go server) has them when it binds port 80.
 */

const NAMES = [
  'CHOWN', 'DAC_OVERRIDE', 'DAC_READ_SEARCH', 'FOWNER', 'FSETID', 'KILL', 'SETGID', 'SETUID', 'SETPCAP', 'LINUX_IMMUTABLE',
  'NET_BIND_SERVICE', 'NET_BROADCAST', 'NET_ADMIN', 'NET_RAW', 'IPC_LOCK', 'IPC_OWNER', 'SYS_MODULE', 'SYS_RAWIO', 'SYS_CHROOT',
  'SYS_PTRACE', 'SYS_PACCT', 'SYS_ADMIN', 'SYS_BOOT', 'SYS_NICE', 'SYS_RESOURCE', 'SYS_TIME', 'SYS_TTY_CONFIG', 'MKNOD', 'LEASE',
  'AUDIT_WRITE', 'AUDIT_CONTROL', 'SETFCAP', 'MAC_OVERRIDE', 'MAC_ADMIN', 'SYSLOG', 'WAKE_ALARM', 'BLOCK_SUSPEND', 'AUDIT_READ',
  'PERFMON', 'BPF', 'CHECKPOINT_RESTORE',
];

/** The capabilities both podman and Docker give a container unless told otherwise. */
export const DEFAULT_CONTAINER_CAPABILITIES: readonly string[] = [
  'CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_FOWNER', 'CAP_FSETID', 'CAP_KILL', 'CAP_NET_BIND_SERVICE', 'CAP_SETFCAP', 'CAP_SETGID',
  'CAP_SETPCAP', 'CAP_SETUID', 'CAP_SYS_CHROOT',
];

export function capabilityNumber(name: string): number | undefined {
  const i = NAMES.indexOf(name.replace(/^CAP_/, ''));
  return i < 0 ? undefined : i;
}

const VFS_CAP_REVISION_2 = 0x02000000;
const VFS_CAP_FLAGS_EFFECTIVE = 0x000001;

/** The security.capability value granting these capabilities, permitted and effective. */
export function fileCapability(names: readonly string[]): Buffer {
  const bits = [0, 0];
  for (const n of names) {
    const i = capabilityNumber(n);
    if (i === undefined) throw new Error(`unknown capability ${n}`);
    bits[i >> 5]! |= 1 << (i & 31);
  }
  const out = Buffer.alloc(20);
  out.writeUInt32LE((VFS_CAP_REVISION_2 | VFS_CAP_FLAGS_EFFECTIVE) >>> 0, 0);
  out.writeUInt32LE(bits[0]! >>> 0, 4); // permitted, low word
  out.writeUInt32LE(0, 8); // inheritable
  out.writeUInt32LE(bits[1]! >>> 0, 12);
  out.writeUInt32LE(0, 16);
  return out;
}
