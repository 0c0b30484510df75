/**
 * The VM's kernel: the locked kernel package is unpacked into a tree of its own,
 * its modules are cut down to what the image needs (trimKernelModules), and only
 * the kernel image and the kept modules are copied into the VM's tree. The kernel
 * package never enters the image's dpkg database: it is a boot artefact, like the
 * firmware of a machine, and `dpkg --verify` on the image stays truthful.
 */
import type { ImageTree } from '../../tree/index.js';
import { findKernel, ImageTree as Tree } from '../../tree/index.js';
import { unpackPackages } from '../../unpack/index.js';
import { DEFAULT_MODULES, trimKernelModules, type ModuleTrim } from './modules.js';

/** Modules every jeos VM keeps besides DEFAULT_MODULES: guest memory statistics for `jeos test --vm`. */
export const VM_MODULES: readonly string[] = [...DEFAULT_MODULES, 'virtio_balloon'];

export interface VmKernel {
  /** `6.12.57+deb13-cloud-amd64`, as `uname -r` says. */
  version: string;
  /** The tree the kernel package was unpacked into, with its modules trimmed. */
  tree: ImageTree;
  vmlinuzPath: string;
  modulesDir: string;
  trim: ModuleTrim;
}

export interface KernelOptions {
  architecture: string;
  /** The jeos cache (decompressed members are cached there). */
  cacheDir?: string;
  /** Modules to keep besides VM_MODULES (vm.modules in jeos.yaml). */
  modules: readonly string[];
}

/** Unpack the kernel package and keep only the modules the VM needs. */
export async function prepareKernel(deb: { label: string; bytes: Buffer }, options: KernelOptions): Promise<VmKernel> {
  const tree = new Tree();
  await unpackPackages(tree, [deb], { architecture: options.architecture, ...(options.cacheDir ? { cacheDir: options.cacheDir } : {}) });
  const found = findKernel(tree);
  const wanted = [...new Set([...VM_MODULES, ...options.modules])];
  const trim = await trimKernelModules(tree, found.version, wanted);
  return { version: found.version, tree, vmlinuzPath: found.vmlinuzPath, modulesDir: trim.modulesDir, trim };
}

/**
 * Copy the kernel image and the kept modules into `image` (at the same paths, with
 * their metadata; no package owns them there). Returns the number of entries copied.
 */
export function addKernel(image: ImageTree, kernel: VmKernel): number {
  let copied = 0;
  for (const [path, node] of kernel.tree.entries()) {
    const wanted = path === kernel.vmlinuzPath || path === kernel.modulesDir || path.startsWith(`${kernel.modulesDir}/`);
    if (!wanted) continue;
    const { pkg: _pkg, ...rest } = node;
    if (node.kind === 'dir') image.mkdirp(path, { mode: node.mode, uid: node.uid, gid: node.gid, mtime: node.mtime });
    else image.put(path, rest);
    copied++;
  }
  return copied;
}
