/**
 * Finding the kernel a Debian `linux-image-*` package put into the image tree:
 * `boot/vmlinuz-<version>` and `usr/lib/modules/<version>/` (bookworm's packages
 * use `lib/modules/`, which is the same directory in a merged-/usr tree).
 */
import { JeosError } from '../errors.js';
import type { ImageTree } from './tree.js';

export interface KernelInfo {
  /** Kernel release (`6.12.107+deb13-cloud-amd64`), as `uname -r` will say. */
  version: string;
  /** Tree path of the kernel image: `boot/vmlinuz-<version>`. */
  vmlinuzPath: string;
  /** Tree path of the modules directory (`usr/lib/modules/<version>`), if the package has one. */
  modulesDir?: string;
}

const VMLINUZ = 'vmlinuz-';

/** Tree path of `/usr/lib/modules/<version>` (or `/lib/modules/<version>`), following symlinks, if it is a directory. */
export function modulesDirOf(tree: ImageTree, version: string): string | undefined {
  for (const candidate of [`usr/lib/modules/${version}`, `lib/modules/${version}`]) {
    const real = tree.resolve(candidate, { followLast: true });
    if (tree.get(real)?.kind === 'dir') return real;
  }
  return undefined;
}

/**
 * The kernel in the tree. With several kernels, `version` picks one; without it,
 * that is an error naming them.
 */
export function findKernel(tree: ImageTree, options: { version?: string } = {}): KernelInfo {
  const images = tree.isDir('boot')
    ? tree
        .list('boot')
        .filter((name) => name.startsWith(VMLINUZ) && name.length > VMLINUZ.length && tree.stat(`boot/${name}`)?.kind === 'file')
        .map((name) => name.slice(VMLINUZ.length))
    : [];
  if (images.length === 0) {
    throw new JeosError('E_VM_NO_KERNEL', 'the image has no kernel (no /boot/vmlinuz-*)', {
      hint: 'a VM image needs a kernel package: add linux-image-cloud-amd64 (or linux-image-amd64) to the packages',
    });
  }
  let version: string;
  if (options.version !== undefined) {
    if (!images.includes(options.version)) {
      throw new JeosError('E_VM_NO_KERNEL', `the image has no kernel ${options.version} (it has ${images.join(', ')})`, {
        hint: 'name a kernel version the image has',
      });
    }
    version = options.version;
  } else if (images.length > 1) {
    throw new JeosError('E_VM_KERNEL_AMBIGUOUS', `the image has ${images.length} kernels: ${images.join(', ')}`, {
      hint: 'keep one kernel package in the image, or name the kernel version to boot',
    });
  } else {
    version = images[0]!;
  }
  const modulesDir = modulesDirOf(tree, version);
  return { version, vmlinuzPath: tree.resolve(`boot/${VMLINUZ}${version}`, { followLast: true }), ...(modulesDir ? { modulesDir } : {}) };
}
