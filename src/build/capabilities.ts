/**
 * The capabilities a container runtime grants by default: a file capability asking for
 * more would make the kernel refuse to run the program (src/build/unit-setup.ts). Names,
 * numbers and the security.capability value itself: src/util/capabilities.ts.
 */
/** The capabilities both podman and Docker give a container unless told otherwise. */
export const DEFAULT_CONTAINER_CAPABILITIES: readonly string[] = [
  'CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_FOWNER', 'CAP_FSETID', 'CAP_KILL', 'CAP_NET_BIND_SERVICE', 'CAP_SETFCAP', 'CAP_SETGID',
  'CAP_SETPCAP', 'CAP_SETUID', 'CAP_SYS_CHROOT',
];
