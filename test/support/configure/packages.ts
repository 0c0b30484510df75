/**
 * Test support: installs a package recipe straight into an image tree and returns
 * the UnpackedPackage the unpack stage would have produced, for unit tests that do
 * not need real .deb files.
 */
import { createHash } from 'node:crypto';
import type { ImageTree } from '../../../src/tree/index.js';
import type { UnpackedPackage } from '../../../src/unpack/types.js';

export interface FakePackage {
  name: string;
  version?: string;
  architecture?: string;
  multiArch?: UnpackedPackage['multiArch'];
  /** Extra control fields, after Package/Version/Architecture/Maintainer/Description. */
  control?: Array<[string, string]>;
  /** Control members: postinst, preinst, triggers, … (md5sums is computed unless given). */
  scripts?: Record<string, string>;
  /** Path → content (0644), or a spec. Parent directories are listed and made. */
  files?: Record<string, string | Buffer | { content: string | Buffer; mode?: number; uid?: number; gid?: number } | { symlink: string }>;
  conffiles?: string[];
  /** Leave md5sums out of the control members. */
  noMd5sums?: boolean;
}

export function installFake(tree: ImageTree, spec: FakePackage): UnpackedPackage {
  const arch = spec.architecture ?? 'amd64';
  const multiArch = spec.multiArch ?? 'no';
  const id = multiArch === 'same' ? `${spec.name}:${arch}` : spec.name;
  const paths: string[] = ['/.'];
  const listed = new Set<string>(['/.']);
  const md5sums: string[] = [];
  const conffiles = spec.conffiles ?? [];
  for (const [path, value] of Object.entries(spec.files ?? {})) {
    const parts = path.replace(/^\/+/, '').split('/');
    for (let i = 1; i < parts.length; i++) {
      const dir = `/${parts.slice(0, i).join('/')}`;
      if (!listed.has(dir)) {
        listed.add(dir);
        paths.push(dir);
        const real = tree.resolve(dir, { followLast: true });
        if (!tree.get(real)) tree.mkdirp(real, { mode: 0o755, uid: 0, gid: 0, mtime: 1_700_000_000, pkg: id });
      }
    }
    const abs = `/${parts.join('/')}`;
    paths.push(abs);
    listed.add(abs);
    if (typeof value === 'object' && 'symlink' in value) {
      tree.symlink(abs, value.symlink, { mode: 0o777, uid: 0, gid: 0, mtime: 1_700_000_000, pkg: id });
      continue;
    }
    const v = typeof value === 'string' || Buffer.isBuffer(value) ? { content: value } : value;
    const data = Buffer.from(v.content);
    tree.writeFile(abs, data, { mode: v.mode ?? 0o644, uid: v.uid ?? 0, gid: v.gid ?? 0, mtime: 1_700_000_000, pkg: id });
    if (!conffiles.includes(abs)) md5sums.push(`${createHash('md5').update(data).digest('hex')}  ${abs.slice(1)}\n`);
  }
  const controlFiles = new Map<string, Buffer>(Object.entries(spec.scripts ?? {}).map(([k, v]) => [k, Buffer.from(v)]));
  if (!spec.noMd5sums && md5sums.length) controlFiles.set('md5sums', Buffer.from(md5sums.join('')));
  if (conffiles.length) controlFiles.set('conffiles', Buffer.from(conffiles.map((c) => `${c}\n`).join('')));
  const control: Array<[string, string]> = [
    ['Package', spec.name],
    ['Version', spec.version ?? '1.0-1'],
    ['Architecture', arch],
    ['Maintainer', 'JEOS Fixtures <fixtures@jeos.invalid>'],
    ...(multiArch !== 'no' ? ([['Multi-Arch', multiArch]] as Array<[string, string]>) : []),
    ...(spec.control ?? []),
    ['Description', `${spec.name} test fixture\nA package made by the configure tests.\n.\nSecond paragraph.`],
  ];
  return { name: spec.name, version: spec.version ?? '1.0-1', architecture: arch, multiArch, control, controlFiles, paths, conffiles };
}

/** A tree with trixie's merged-/usr links. */
export function mergedUsrTree(tree: ImageTree, architecture = 'amd64'): ImageTree {
  for (const d of ['usr/bin', 'usr/sbin', 'usr/lib']) tree.mkdirp(d);
  tree.symlink('bin', 'usr/bin');
  tree.symlink('sbin', 'usr/sbin');
  tree.symlink('lib', 'usr/lib');
  if (architecture === 'amd64') {
    tree.mkdirp('usr/lib64');
    tree.symlink('lib64', 'usr/lib64');
  }
  return tree;
}
