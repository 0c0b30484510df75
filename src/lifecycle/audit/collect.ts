/**
 * The paths of a target as they are read, archive member by archive member: tar
 * members (with OCI whiteouts when layers are applied), newc entries, files of a
 * directory. Every path is stored absolute, as in the image.
 */
import { createHash } from 'node:crypto';
import type { TarMember } from './tar-reader.js';
import type { ObservedEntry } from './types.js';

export const DPKG_STATUS = '/var/lib/dpkg/status';

const WHITEOUT = '.wh.';
const OPAQUE = '.wh..wh..opq';

export function sha256(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

export class Collector {
  readonly entries = new Map<string, ObservedEntry>();
  dpkgStatus: Buffer | undefined;
  /** The layer each path was last written by (OCI: a whiteout hides only lower layers). */
  private readonly layerOf = new Map<string, number>();
  private layer = 0;

  /** Start the next OCI layer. */
  nextLayer(): void {
    this.layer++;
  }

  /** Store one path (absolute). A non-directory over a directory of a lower layer hides what was under it. */
  put(path: string, entry: ObservedEntry, content?: Buffer): void {
    const old = this.entries.get(path);
    if (old?.type === 'dir' && entry.type !== 'dir') this.removeUnder(path, this.layer);
    this.entries.set(path, entry);
    this.layerOf.set(path, this.layer);
    if (path === DPKG_STATUS && content) this.dpkgStatus = content;
  }

  /** Remove `path`'s children written by layers below `layer`. */
  private removeUnder(path: string, layer: number): void {
    const prefix = path === '/' ? '/' : `${path}/`;
    for (const p of [...this.entries.keys()]) {
      if (p.startsWith(prefix) && (this.layerOf.get(p) ?? 0) < layer) this.remove(p);
    }
  }

  private remove(path: string): void {
    this.entries.delete(path);
    this.layerOf.delete(path);
    if (path === DPKG_STATUS) this.dpkgStatus = undefined;
  }

  /** One tar member. With `whiteouts`, `.wh.` names delete lower layers' paths (the OCI layer rules). */
  tarMember(m: TarMember, whiteouts: boolean): void {
    const path = `/${m.path}`;
    if (whiteouts) {
      const slash = path.lastIndexOf('/');
      const dir = path.slice(0, slash) || '/';
      const base = path.slice(slash + 1);
      if (base === OPAQUE) return this.removeUnder(dir, this.layer);
      if (base.startsWith(WHITEOUT)) {
        const hidden = `${dir === '/' ? '' : dir}/${base.slice(WHITEOUT.length)}`;
        this.removeUnder(hidden, this.layer);
        if ((this.layerOf.get(hidden) ?? this.layer) < this.layer) this.remove(hidden);
        return;
      }
    }
    if (m.path === '') {
      this.put('/', { type: 'dir', mode: m.mode, uid: m.uid, gid: m.gid });
      return;
    }
    const base = { mode: m.mode, uid: m.uid, gid: m.gid };
    switch (m.type) {
      case 'file':
        return this.put(path, { type: 'file', ...base, size: m.data.length, sha256: sha256(m.data) }, m.data);
      case 'hardlink': {
        const linked = this.entries.get(`/${m.linkname}`);
        // A link to a name the archive has not shown (a broken archive): keep the name, content unknown.
        return this.put(path, linked?.type === 'file' ? { ...linked } : { type: 'file', ...base, size: 0 });
      }
      case 'symlink':
        return this.put(path, { type: 'symlink', ...base, target: m.linkname });
      case 'char':
      case 'block':
        return this.put(path, { type: m.type, ...base, device: `${m.devmajor}:${m.devminor}` });
      default:
        return this.put(path, { type: m.type, ...base });
    }
  }
}
