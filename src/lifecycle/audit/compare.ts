/**
 * The comparison itself: the manifest's paths against the target's, sorted into drift
 * (added, removed, changed; units; setuid), state (changes under the declared state
 * directories) and runtime (what a kernel or container runtime makes when the target
 * starts). docs/audit.md lists both sets.
 */
import type { ManifestEntry } from '../../record/index.js';
import type {
  AddedPath,
  AuditPolicy,
  ChangedPath,
  ChangeKind,
  EntryView,
  ObservedEntry,
  RemovedPath,
  SetuidDrift,
  StateChange,
  UnitDrift,
} from './types.js';

/**
 * Made by the kernel or the container runtime when a target starts (podman bind-mounts
 * /etc/hosts, /etc/resolv.conf and /etc/hostname and writes /run/.containerenv;
 * systemd writes /etc/machine-id): not drift on a target that ran.
 */
export const RUNTIME_PATHS = ['/proc', '/sys', '/dev', '/run', '/etc/hostname', '/etc/resolv.conf', '/etc/hosts', '/etc/machine-id', '/etc/mtab'];
/** mkfs makes it in every ext4 file system; jeos's writer too. */
export const EXT4_PATHS = ['/lost+found'];

/** The state directories of every workload; jeos.yaml's name and workload packages add /var/lib/<name>. */
export const DEFAULT_STATE_DIRS = ['/var/log', '/var/cache', '/var/tmp', '/run', '/tmp'];

export function under(path: string, prefixes: string[]): boolean {
  return prefixes.some((p) => path === p || path.startsWith(p === '/' ? '/' : `${p}/`));
}

const octal = (mode: number) => mode.toString(8).padStart(4, '0');

function viewOf(e: ObservedEntry): EntryView {
  return {
    type: e.type,
    mode: octal(e.mode),
    uid: e.uid,
    gid: e.gid,
    ...(e.size !== undefined ? { size: e.size } : {}),
    ...(e.sha256 ? { sha256: e.sha256 } : {}),
    ...(e.target !== undefined ? { target: e.target } : {}),
    ...(e.device ? { device: e.device } : {}),
  };
}

/** The manifest's entries as the target would show them: a hard link is a file with its inode's mode and owner. */
export function baselineOf(manifest: ManifestEntry[]): Map<string, { entry: ManifestEntry; view: ObservedEntry }> {
  const byPath = new Map(manifest.map((e) => [e.path, e]));
  const out = new Map<string, { entry: ManifestEntry; view: ObservedEntry }>();
  for (const e of manifest) {
    const inode = e.type === 'hardlink' && e.target ? (byPath.get(e.target) ?? e) : e;
    const view: ObservedEntry = {
      type: e.type === 'hardlink' ? 'file' : e.type,
      mode: parseInt(inode.mode, 8),
      uid: inode.uid,
      gid: inode.gid,
      ...(e.size !== undefined ? { size: e.size } : {}),
      ...(e.sha256 ? { sha256: e.sha256 } : {}),
      ...(e.type === 'symlink' ? { target: e.target } : {}),
      ...(e.device ? { device: e.device } : {}),
    };
    out.set(e.path, { entry: e, view });
  }
  return out;
}

function changesOf(b: ObservedEntry, t: ObservedEntry): ChangeKind[] {
  if (b.type !== t.type) return ['type'];
  const out: ChangeKind[] = [];
  if (b.type === 'file' && (b.size !== t.size || (t.sha256 !== undefined && b.sha256 !== t.sha256))) out.push('content');
  if (b.type === 'symlink' && b.target !== t.target) out.push('target');
  if ((b.type === 'char' || b.type === 'block') && b.device && t.device && b.device !== t.device) out.push('device');
  // Linux ignores a symlink's mode: tar and lstat may show 0777 or the umask's.
  if (b.type !== 'symlink' && b.mode !== t.mode) out.push('mode');
  if (b.uid !== t.uid || b.gid !== t.gid) out.push('owner');
  return out;
}

const WANTS = /\/([^/]+)\.(wants|requires|upholds)\/([^/]+)$/;

function setuidBits(mode: number): Array<'setuid' | 'setgid'> {
  return [...(mode & 0o4000 ? ['setuid' as const] : []), ...(mode & 0o2000 ? ['setgid' as const] : [])];
}

export interface Comparison {
  added: AddedPath[];
  removed: RemovedPath[];
  changed: ChangedPath[];
  units: UnitDrift[];
  setuid: SetuidDrift[];
  state: StateChange[];
  runtime: string[];
}

export function compare(
  manifest: ManifestEntry[],
  observed: Map<string, ObservedEntry>,
  policy: AuditPolicy,
  options: { ran: boolean; ext4: boolean },
): Comparison {
  const baseline = baselineOf(manifest);
  const ignored = [...(options.ran ? RUNTIME_PATHS : []), ...(options.ext4 ? EXT4_PATHS : [])];
  const out: Comparison = { added: [], removed: [], changed: [], units: [], setuid: [], state: [], runtime: [] };
  /** Where a difference at `path` goes: runtime, state, or drift. */
  const sort = (path: string): 'runtime' | 'state' | 'drift' =>
    under(path, ignored) ? 'runtime' : under(path, policy.stateDirs) ? 'state' : 'drift';

  for (const [path, t] of observed) {
    // A new setuid or setgid file is drift wherever it is, state directories included.
    const b = baseline.get(path);
    const bits = t.type === 'file' ? setuidBits(t.mode & ~(b?.view.type === 'file' ? b.view.mode : 0)) : [];
    if (bits.length) out.setuid.push({ path, mode: octal(t.mode), bits });
    if (path === '/') continue; // the root is wherever the target was unpacked: its mode is the unpacker's
    if (!b) {
      const where = sort(path);
      if (where === 'runtime') out.runtime.push(path);
      else if (where === 'state') out.state.push({ path, change: 'added' });
      else out.added.push({ path, ...viewOf(t) });
      if (where !== 'runtime' && t.type === 'symlink') unitOf(path, t, out.units);
      continue;
    }
    const changes = changesOf(b.view, t);
    if (!changes.length) continue;
    const where = sort(path);
    if (where === 'runtime') out.runtime.push(path);
    else if (where === 'state') out.state.push({ path, change: 'changed' });
    else {
      out.changed.push({ path, changes, baseline: viewOf(b.view), target: viewOf(t), ...(b.entry.package ? { package: b.entry.package } : {}) });
      if (t.type === 'symlink') unitOf(path, t, out.units);
    }
  }
  for (const [path, b] of baseline) {
    if (path === '/' || observed.has(path)) continue;
    const where = sort(path);
    if (where === 'runtime') out.runtime.push(path);
    else if (where === 'state') out.state.push({ path, change: 'removed' });
    else out.removed.push({ path, type: b.entry.type, ...(b.entry.package ? { package: b.entry.package } : {}) });
  }
  const byPath = <T extends { path: string }>(a: T, b: T) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0);
  for (const list of [out.added, out.removed, out.changed, out.units, out.setuid, out.state]) (list as Array<{ path: string }>).sort(byPath);
  out.runtime.sort();
  return out;
}

/** A symlink in a `.wants`/`.requires`/`.upholds` directory enables a unit. */
function unitOf(path: string, t: ObservedEntry, units: UnitDrift[]): void {
  const m = WANTS.exec(path);
  if (m) units.push({ path, unit: m[3]!, wantedBy: m[1]!, ...(t.target !== undefined ? { target: t.target } : {}) });
}
