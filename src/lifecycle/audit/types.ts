/**
 * Drift audit: what a target (a directory, a tar, an OCI layout, a VM's initramfs or
 * root.img, a running container) holds, compared with the image record's manifest.
 * The report's format is documented in docs/audit.md.
 */
import type { ManifestEntry, VariantName } from '../../record/index.js';

export type EntryType = 'file' | 'dir' | 'symlink' | 'char' | 'block' | 'fifo';

/** One path as the target holds it. Hard links are files (their content, their inode's mode and owner). */
export interface ObservedEntry {
  type: EntryType;
  /** Permission bits with setuid, setgid and sticky (`mode & 0o7777`). */
  mode: number;
  uid: number;
  gid: number;
  size?: number;
  /** Files: SHA-256 of the content; left out when the size already differs from the baseline's. */
  sha256?: string;
  /** Symlinks: the link text. */
  target?: string;
  /** Devices: `major:minor`. */
  device?: string;
}

export type TargetKind = 'directory' | 'tar' | 'oci' | 'initramfs' | 'ext4' | 'disk' | 'container' | 'vm';

/** Everything read from a target: its paths (absolute, as in the image) and, for a running one, what runs. */
export interface Observed {
  kind: TargetKind;
  /** How the target was read: `gzip`, `zstd`, `lz4` for a compressed file; the tool for an ext4 image; the initrd of a disk's entry. */
  via?: string;
  entries: Map<string, ObservedEntry>;
  /** /var/lib/dpkg/status of the target, when it has one. */
  dpkgStatus?: Buffer;
  /** Present for a running target. */
  running?: RunningState;
  /** SHA-256 of the target file itself (tar, initramfs, root.img), to match it with a build's outputs. */
  fileSha256?: string;
}

export interface Process {
  /** The pid inside the target. */
  pid: number;
  /** The parent's pid inside the target; 0 when the parent is outside it (a process `podman exec` started). */
  ppid: number;
  /** The executable's name (`comm`). */
  name: string;
  /** The command line. */
  args: string;
  uid: number;
  /** A VM's process: its cgroup (`/system.slice/nginx.service`), which tells the unit that runs it. */
  cgroup?: string;
}

export interface Socket {
  protocol: 'tcp' | 'udp';
  address: string;
  port: number;
}

export interface RunningState {
  processes: Process[];
  sockets: Socket[];
}

/** A port the workload declares (workload.ports, the health check's). */
export interface DeclaredPort {
  port: number;
  protocol: 'tcp' | 'udp';
}

/** What the audit needs besides the manifest: from jeos.yaml, resolved by the caller. */
export interface AuditPolicy {
  /** Path prefixes whose changes are state, not drift (`/var/lib/nginx`, `/var/log`, …). */
  stateDirs: string[];
  /** Ports a running target may listen on. */
  ports: DeclaredPort[];
  /**
   * Process names (`comm`) a running target may run besides its PID 1: the workload's and its health
   * check's. Only PID 1's descendants count as the workload's; a process started from outside is drift.
   */
  processes: string[];
  /** The workload's unit in a VM (`<name>.service`), when jeos.yaml gives a command: its processes must have those names too. */
  unit?: string;
}

export type ChangeKind = 'content' | 'mode' | 'owner' | 'type' | 'target' | 'device';

export interface EntryView {
  type: string;
  mode: string;
  uid: number;
  gid: number;
  size?: number;
  sha256?: string;
  target?: string;
  device?: string;
}

export interface AddedPath extends EntryView {
  path: string;
}

export interface RemovedPath {
  path: string;
  type: ManifestEntry['type'];
  package?: string;
}

export interface ChangedPath {
  path: string;
  changes: ChangeKind[];
  baseline: EntryView;
  target: EntryView;
  package?: string;
}

export interface PackageDrift {
  package: string;
  change: 'added' | 'removed' | 'changed';
  baseline?: string;
  target?: string;
  /** The dpkg fields whose values differ (changed stanzas). */
  fields?: string[];
}

export interface UnitDrift {
  /** The symlink's path: `/etc/systemd/system/multi-user.target.wants/x.service`. */
  path: string;
  unit: string;
  /** The target or unit that wants it (the `.wants`/`.requires` directory's name without its suffix). */
  wantedBy: string;
  /** Where the link points. */
  target?: string;
}

export interface SetuidDrift {
  path: string;
  mode: string;
  bits: Array<'setuid' | 'setgid'>;
}

export interface StateChange {
  path: string;
  change: 'added' | 'removed' | 'changed';
}

export interface AuditReport {
  clean: boolean;
  tree: VariantName;
  target: { path: string; kind: TargetKind; via?: string; running: boolean };
  build: { name: string; lockDigest: string };
  /** How many paths of each kind: drift first, then what is not counted as drift. */
  counts: Record<'added' | 'removed' | 'changed' | 'packages' | 'units' | 'setuid' | 'processes' | 'sockets' | 'state' | 'runtime', number>;
  added: AddedPath[];
  removed: RemovedPath[];
  changed: ChangedPath[];
  packages: PackageDrift[];
  units: UnitDrift[];
  setuid: SetuidDrift[];
  /** Running targets: processes beyond the workload's, listening sockets beyond the declared ports. */
  processes?: Process[];
  sockets?: Socket[];
  /** Changes under the declared state directories: reported, not drift. */
  state: StateChange[];
  /** Paths the kernel or the container runtime makes when a target starts: not drift. */
  runtime: string[];
  /** Milliseconds: reading the target, comparing, in all. */
  timings: { read: number; compare: number; total: number };
}
