/**
 * File capabilities as setcap(8) writes them: the text form of cap_from_text(3)
 * (`cap_net_raw+ep`, `cap_a,cap_b=ep`, `all=p`) to the `security.capability`
 * extended attribute, struct vfs_cap_data revision 2: little-endian magic with
 * the effective flag, then permitted and inheritable masks, low 32 bits first.
 */

/** linux/capability.h, in number order. */
const CAPS = [
  'chown', 'dac_override', 'dac_read_search', 'fowner', 'fsetid', 'kill', 'setgid', 'setuid', 'setpcap', 'linux_immutable',
  'net_bind_service', 'net_broadcast', 'net_admin', 'net_raw', 'ipc_lock', 'ipc_owner', 'sys_module', 'sys_rawio', 'sys_chroot',
  'sys_ptrace', 'sys_pacct', 'sys_admin', 'sys_boot', 'sys_nice', 'sys_resource', 'sys_time', 'sys_tty_config', 'mknod', 'lease',
  'audit_write', 'audit_control', 'setfcap', 'mac_override', 'mac_admin', 'syslog', 'wake_alarm', 'block_suspend', 'audit_read',
  'perfmon', 'bpf', 'checkpoint_restore',
];

const VFS_CAP_REVISION_2 = 0x02000000;
const VFS_CAP_FLAGS_EFFECTIVE = 0x000001;

/** A capability's number, from its name (`CAP_NET_BIND_SERVICE`, `net_bind_service`); undefined when unknown. */
export function capabilityNumber(name: string): number | undefined {
  const i = CAPS.indexOf(name.toLowerCase().replace(/^cap_/, ''));
  return i < 0 ? undefined : i;
}

/**
 * The security.capability value granting these capabilities (by name) permitted and effective, so a
 * program that does not raise its own capabilities (a Go server) has them at exec: setcap's `…=ep`.
 */
export function fileCapability(names: readonly string[]): Buffer {
  for (const n of names) if (capabilityNumber(n) === undefined) throw new Error(`unknown capability ${n}`);
  return capabilityXattr(`${names.map((n) => n.toLowerCase()).join(',')}=ep`)!;
}

/** The xattr value for a capability text, or undefined when the text is not understood. */
export function capabilityXattr(text: string): Buffer | undefined {
  const sets = { e: 0n, p: 0n, i: 0n };
  const all = (1n << BigInt(CAPS.length)) - 1n;
  for (const clause of text.trim().split(/\s+/)) {
    const m = /^([a-z_0-9,]*)((?:[=+-][eip]*)+)$/i.exec(clause);
    if (!m) return undefined;
    let mask = 0n;
    const names = m[1]!.toLowerCase();
    if (names === '' || names === 'all') mask = all;
    else {
      for (const name of names.split(',')) {
        const n = CAPS.indexOf(name.replace(/^cap_/, ''));
        if (n < 0) return undefined;
        mask |= 1n << BigInt(n);
      }
    }
    for (const op of m[2]!.match(/[=+-][eip]*/gi) ?? []) {
      const flags = op.slice(1).toLowerCase();
      if (op[0] === '=') for (const f of ['e', 'p', 'i'] as const) sets[f] &= ~mask;
      for (const f of flags as Iterable<'e' | 'p' | 'i'>) {
        if (op[0] === '-') sets[f] &= ~mask;
        else sets[f] |= mask;
      }
    }
  }
  if (sets.p === 0n && sets.i === 0n) return Buffer.alloc(0); // nothing left: setcap removes the attribute
  // A file's effective set is one bit: setcap refuses an effective set that is neither empty nor all of P|I.
  if (sets.e !== 0n && sets.e !== (sets.p | sets.i)) return undefined;
  const b = Buffer.alloc(20);
  b.writeUInt32LE(VFS_CAP_REVISION_2 | (sets.e !== 0n ? VFS_CAP_FLAGS_EFFECTIVE : 0), 0);
  b.writeUInt32LE(Number(sets.p & 0xffffffffn), 4);
  b.writeUInt32LE(Number(sets.i & 0xffffffffn), 8);
  b.writeUInt32LE(Number(sets.p >> 32n), 12);
  b.writeUInt32LE(Number(sets.i >> 32n), 16);
  return b;
}
