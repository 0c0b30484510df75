/**
 * Test support for src/vm: a small synthetic kernel package in an image tree (fake
 * vmlinuz, modules built by synthetic-module.ts, compressed with the real xz and
 * zstd, modules.order/builtin/builtin.modinfo as Debian ships them), a reader for
 * kmod's binary indexes, and helpers to hand a modules directory to the real kmod.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { ImageTree, type NodeMeta } from '../../../src/tree/index.js';
import { buildModule, type SyntheticModule } from './synthetic-module.js';

export const TEST_VERSION = '6.12.0-9-cloud-amd64';
const MTIME = 1_700_000_000;

interface FixtureModule extends SyntheticModule {
  /** Path under the modules directory, with its compression suffix. */
  path: string;
  /** Listed in modules.order (default true). */
  ordered?: boolean;
}

/**
 * The synthetic kernel's modules. Dependencies: virtio_net → net_failover → failover;
 * erofs → libcrc32c, with a soft dependency on the alias `crypto-lz4` (module lz4 →
 * lz4_compress) and a weak dependency on a module that does not exist; virtio_blk
 * and libcrc32c have soft dependencies on aliases of built-in code; virtio_scsi →
 * scsi_mod; fuse has a device node; zzz_extra is not in modules.order.
 */
export const FIXTURE_MODULES: readonly FixtureModule[] = [
  { path: 'kernel/lib/lz4/lz4_compress.ko.xz', exports: ['LZ4_compress_default'] },
  { path: 'kernel/crypto/lz4.ko.xz', info: [['alias', 'crypto-lz4'], ['alias', 'lz4'], ['depends', 'lz4_compress']], imports: ['LZ4_compress_default', 'printk'] },
  { path: 'kernel/lib/libcrc32c.ko.xz', info: [['softdep', 'pre: crc32c'], ['depends', '']], exports: ['crc32c'] },
  { path: 'kernel/net/core/failover.ko.zst', exports: ['failover_register', 'failover_unregister'] },
  { path: 'kernel/drivers/net/net_failover.ko.xz', info: [['depends', 'failover']], exports: ['net_failover_create'], imports: ['failover_register'] },
  {
    path: 'kernel/drivers/net/virtio_net.ko.xz',
    info: [['alias', 'virtio:d00000001v*'], ['depends', 'net_failover']],
    imports: ['net_failover_create', 'printk'],
  },
  { path: 'kernel/drivers/block/virtio_blk.ko', info: [['alias', 'virtio:d00000002v*'], ['softdep', 'pre: crypto-crc32c']] },
  { path: 'kernel/drivers/char/hw_random/virtio-rng.ko.xz', info: [['alias', 'virtio:d00000004v*']] },
  { path: 'kernel/drivers/scsi/scsi_mod.ko.xz', exports: ['scsi_add_host'] },
  { path: 'kernel/drivers/scsi/virtio_scsi.ko.xz', info: [['alias', 'virtio:d00000008v*'], ['depends', 'scsi_mod']], imports: ['scsi_add_host'] },
  { path: 'kernel/drivers/net/ethernet/intel/e1000/e1000.ko.xz', info: [['alias', 'pci:v00008086d0000100Esv*sd*bc*sc*i*'], ['firmware', 'e1000/none.bin']] },
  {
    path: 'kernel/fs/erofs/erofs.ko.xz',
    info: [['alias', 'fs-erofs'], ['depends', 'libcrc32c'], ['softdep', 'pre: crypto-lz4'], ['weakdep', 'xxhash_gone']],
    imports: ['crc32c'],
  },
  { path: 'kernel/fs/squashfs/squashfs.ko.xz', info: [['alias', 'fs-squashfs']] },
  { path: 'kernel/fs/overlayfs/overlay.ko.xz', info: [['alias', 'fs-overlay']] },
  { path: 'kernel/fs/fuse/fuse.ko.xz', info: [['alias', 'fs-fuse'], ['alias', 'devname:fuse'], ['alias', 'char-major-10-229']] },
  { path: 'updates/zzz_extra.ko', ordered: false, info: [['alias', 'zzz-[0-9]-x']] },
];

export const BUILTIN = 'kernel/drivers/virtio/virtio_pci.ko\nkernel/drivers/char/virtio_console.ko\nkernel/crypto/crc32c_generic.ko\n';
export const BUILTIN_MODINFO =
  'virtio_pci.alias=pci:v00001AF4d*sv*sd*bc*sc*i*\0virtio_pci.license=GPL\0crc32c_generic.alias=crypto-crc32c\0crc32c_generic.alias=crc32c\0virtio_console.license=GPL\0';

function compress(program: 'xz' | 'zstd', data: Buffer): Buffer {
  const args = program === 'xz' ? ['-c', '--check=crc32', '-q'] : ['-c', '-q'];
  return execFileSync(program, args, { input: data, maxBuffer: 64 << 20 });
}

/** The module's name as the fixture writes it into .modinfo (`name=`). */
function nameOf(path: string): string {
  const base = path.slice(path.lastIndexOf('/') + 1);
  return base.slice(0, base.indexOf('.')).replaceAll('-', '_');
}

/** An image tree holding the synthetic kernel package (merged /usr, as unpack makes it). */
export function syntheticKernelTree(options: { layout?: 'usr' | 'lib' } = {}): ImageTree {
  const meta = (mode: number): NodeMeta => ({ mode, uid: 0, gid: 0, mtime: MTIME, pkg: `linux-image-${TEST_VERSION}` });
  const t = new ImageTree();
  t.symlink('lib', 'usr/lib', { mode: 0o777, uid: 0, gid: 0, mtime: 0 });
  t.writeFile(`boot/vmlinuz-${TEST_VERSION}`, Buffer.from('not really a kernel'), meta(0o644));
  t.writeFile(`boot/config-${TEST_VERSION}`, 'CONFIG_VIRTIO_PCI=y\n', meta(0o644));
  const dir = `${options.layout === 'lib' ? 'lib' : 'usr/lib'}/modules/${TEST_VERSION}`;
  for (const m of FIXTURE_MODULES) {
    const elf = buildModule({ ...m, info: [...(m.info ?? []), ['name', nameOf(m.path)], ['vermagic', `${TEST_VERSION} SMP mod_unload modversions`]] });
    const data = m.path.endsWith('.xz') ? compress('xz', elf) : m.path.endsWith('.zst') ? compress('zstd', elf) : elf;
    t.writeFile(`${dir}/${m.path}`, data, meta(0o644));
  }
  const order = FIXTURE_MODULES.filter((m) => m.ordered !== false).map((m) => `${m.path.replace(/\.ko(\.\w+)?$/, '.ko')}\n`);
  t.writeFile(`${dir}/modules.order`, order.join(''), meta(0o644));
  t.writeFile(`${dir}/modules.builtin`, BUILTIN, meta(0o644));
  t.writeFile(`${dir}/modules.builtin.modinfo`, Buffer.from(BUILTIN_MODINFO, 'latin1'), meta(0o644));
  return t;
}

/** Every (key, priority, value) in a kmod index, in key order; reads both depmod layouts (kmod < 34 and ≥ 34). */
export function dumpIndex(buf: Buffer): Array<[string, number, string]> {
  if (buf.readUInt32BE(0) !== 0xb007f457 || buf.readUInt32BE(4) !== 0x00020001) throw new Error('not a kmod index');
  const out: Array<[string, number, string]> = [];
  const cstring = (at: number) => {
    const end = buf.indexOf(0, at);
    return [buf.toString('latin1', at, end), end + 1] as const;
  };
  const walk = (ref: number, key: string) => {
    let at = ref & 0x0fffffff;
    let full = key;
    if (ref & 0x80000000) [full, at] = ((r) => [key + r[0], r[1]] as const)(cstring(at));
    const children: Array<[string, number]> = [];
    if (ref & 0x20000000) {
      const first = buf[at]!;
      const last = buf[at + 1]!;
      at += 2;
      for (let ch = first; ch <= last; ch++, at += 4) {
        const child = buf.readUInt32BE(at);
        if (child) children.push([String.fromCharCode(ch), child]);
      }
    }
    if (ref & 0x40000000) {
      const count = buf.readUInt32BE(at);
      at += 4;
      for (let i = 0; i < count; i++) {
        const priority = buf.readUInt32BE(at);
        const [value, next] = cstring(at + 4);
        out.push([full, priority, value]);
        at = next;
      }
    }
    for (const [ch, child] of children) walk(child, full + ch);
  };
  walk(buf.readUInt32BE(8), '');
  return out;
}

/**
 * Copy a tree's modules directory to `root` on disk, at both usr/lib/modules and
 * lib/modules (kmod before 31 only looks in the latter), for depmod -b and modprobe -d.
 */
export function exportModules(tree: ImageTree, modulesDir: string, root: string): string {
  for (const [path, node] of tree.entries()) {
    if (path !== modulesDir && !path.startsWith(`${modulesDir}/`)) continue;
    const full = join(root, 'usr/lib/modules', path.slice(path.indexOf('/modules/') + '/modules/'.length));
    if (node.kind === 'dir') mkdirSync(full, { recursive: true });
    else if (node.kind === 'file') {
      mkdirSync(dirname(full), { recursive: true });
      writeFileSync(full, node.data);
    }
  }
  if (!existsSync(join(root, 'lib'))) symlinkSync('usr/lib', join(root, 'lib'));
  return join(root, 'usr/lib/modules', modulesDir.slice(modulesDir.indexOf('/modules/') + '/modules/'.length));
}

/** kmod's version (30, 34, …) when depmod is installed. */
export function hostKmodVersion(): number | undefined {
  const r = spawnSync('depmod', ['-V'], { encoding: 'utf8', env: { ...process.env, PATH: `${process.env.PATH}:/usr/sbin:/sbin` } });
  const m = r.status === 0 ? /kmod version (\d+)/.exec(r.stdout) : null;
  return m ? Number(m[1]) : undefined;
}

/** A Debian linux-image package to test with: $JEOS_TEST_KERNEL_DEB, else one in apt's cache. */
export function findKernelDeb(): string | undefined {
  if (process.env.JEOS_TEST_KERNEL_DEB) return process.env.JEOS_TEST_KERNEL_DEB;
  const cache = '/var/cache/apt/archives';
  if (!existsSync(cache)) return undefined;
  const debs = readdirSync(cache).filter((n) => /^linux-image-\d.*-cloud-amd64_.*\.deb$/.test(n)).sort();
  return debs.length ? join(cache, debs[debs.length - 1]!) : undefined;
}

/** A directory on disk (an extracted package) as an image tree, with the merged-/usr links. */
export function treeFromDir(root: string): ImageTree {
  const t = new ImageTree();
  t.symlink('lib', 'usr/lib');
  const walk = (dir: string) => {
    for (const name of readdirSync(dir).sort()) {
      const full = join(dir, name);
      const rel = full.slice(root.length + 1);
      const st = lstatSync(full);
      const meta = { mode: st.mode & 0o7777, uid: 0, gid: 0, mtime: Math.floor(st.mtimeMs / 1000) };
      if (st.isSymbolicLink()) {
        if (rel !== 'lib') t.symlink(rel, readlinkSync(full), meta);
      } else if (st.isDirectory()) {
        if (rel !== 'lib') t.mkdirp(rel, meta);
        walk(full);
      } else if (st.isFile()) t.writeFile(rel, readFileSync(full), meta);
    }
  };
  walk(root);
  return t;
}
