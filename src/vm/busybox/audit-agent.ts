/**
 * The guest's side of `jeos audit --against vm:NAME`: a BusyBox script /init starts in the
 * background (vm.network: busybox), which answers on the virtio-serial port named
 * org.jeos.audit with what the host cannot see from outside a VM: the processes (each
 * one's /proc status, command line and cgroup), the listening sockets (/proc/net) and the
 * whole tree as a tar. `jeos run` adds that port; a VM without it (jeos test, another
 * hypervisor) has no virtio console device, and the script ends at once.
 *
 * It answers only the one fixed request, reads nothing else and runs nothing it is sent,
 * and the port is the host's: only the user who started QEMU reaches its socket.
 * The host's reader (src/boot/vm/audit-port.ts) speaks the same protocol.
 */
import { BUSYBOX } from './busybox-network.js';

export const AUDIT_AGENT = 'etc/jeos/audit-agent';
/** The virtio-serial port's name (QEMU's virtserialport name=). */
export const AUDIT_PORT_NAME = 'org.jeos.audit';

/** The /init line that starts the agent in the background, detached from the console. */
export function auditAgentLine(): string {
  return `$bb sh /${AUDIT_AGENT} </dev/null >/dev/null 2>&1 &`;
}

/**
 * Request: `JEOS_AUDIT <nonce>` on a line. Answer: `JEOS_AUDIT_BEGIN <nonce> <agent pid>`,
 * then per process `JEOS_PROC <pid>` with its status, `JEOS_CMDLINE` and the command line
 * (NULs and newlines as spaces) on one line, `JEOS_CGROUP` and its cgroup file; per table
 * `JEOS_NET <tcp|tcp6|udp|udp6>` and the table; then `JEOS_TAR` and a tar of / without
 * /proc, /sys and /dev, which ends with tar's end-of-archive blocks.
 * While no host is connected, a read of the port returns at once, so the loop waits a second.
 */
export function auditAgentScript(): string {
  return `#!/${BUSYBOX} sh
# Made by jeos: answers jeos audit --against vm:NAME on the virtio-serial port ${AUDIT_PORT_NAME}
# (jeos run adds it) with the processes, the sockets and a tar of the tree. It runs nothing it is sent.
bb=/${BUSYBOX}
$bb grep -qsx 0x0003 /sys/bus/virtio/devices/*/device || exit 0
port=
i=0
while [ -z "$port" ] && [ $i -lt 50 ]; do
  for n in /sys/class/virtio-ports/*/name; do
    [ "$($bb cat "$n" 2>/dev/null)" = ${AUDIT_PORT_NAME} ] && { d=\${n%/name}; port=/dev/\${d##*/}; }
  done
  [ -n "$port" ] || { $bb sleep 0.1; i=$((i + 1)); }
done
[ -n "$port" ] || exit 0
answer() {
  echo "JEOS_AUDIT_BEGIN $1 $$"
  for d in /proc/[0-9]*; do
    echo "JEOS_PROC \${d#/proc/}"
    $bb cat "$d/status" 2>/dev/null
    echo JEOS_CMDLINE
    $bb tr '\\0\\n' '  ' < "$d/cmdline" 2>/dev/null
    echo
    echo JEOS_CGROUP
    $bb cat "$d/cgroup" 2>/dev/null
  done
  for t in tcp tcp6 udp udp6; do
    echo "JEOS_NET $t"
    $bb cat "/proc/net/$t" 2>/dev/null
  done
  echo JEOS_TAR
  cd /
  set --
  for f in /* /.[!.]*; do
    case "$f" in /proc|/sys|/dev|'/.[!.]*') ;; *) set -- "$@" "\${f#/}" ;; esac
  done
  $bb tar -c -f - "$@" 2>/dev/null
}
exec 3<>"$port"
while :; do
  if read -r request nonce <&3; then
    [ "$request" = JEOS_AUDIT ] && answer "$nonce" >&3
  else
    $bb sleep 1
  fi
done
`;
}
