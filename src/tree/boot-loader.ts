/**
 * systemd-boot in the image tree. Debian's systemd-boot-efi package ships it as
 * `/usr/lib/systemd/boot/efi/systemd-boot<arch>.efi`; the VM variant copies it to
 * `/boot/efi/`, beside the kernel in `/boot`, where the disk writer takes it from:
 * like the kernel, it is a boot artefact that stays out of the initramfs.
 */
import { JeosError } from '../errors.js';
import type { ImageTree } from './tree.js';

/** UEFI's names for a Debian architecture, as systemd-boot's file names and the removable-media path (BOOTX64.EFI) use them. */
export const EFI_ARCH: Readonly<Record<string, string>> = { amd64: 'x64', arm64: 'aa64', i386: 'ia32', riscv64: 'riscv64', loong64: 'loongarch64' };

export function efiArchOf(architecture: string): string {
  const arch = EFI_ARCH[architecture];
  if (!arch) {
    throw new JeosError('E_DISK_ARCH', `no UEFI boot loader for architecture ${architecture}`, { hint: `disk images can be made for ${Object.keys(EFI_ARCH).join(', ')}` });
  }
  return arch;
}

/** Where the package puts the boot loader. */
export const packagedBootLoaderPath = (efiArch: string) => `usr/lib/systemd/boot/efi/systemd-boot${efiArch}.efi`;
/** Where the VM variant leaves it for the disk writer (outside the initramfs, like the kernel). */
export const bootLoaderTreePath = (efiArch: string) => `boot/efi/systemd-boot${efiArch}.efi`;

/**
 * Copy the packaged systemd-boot to /boot/efi (owned by no package: the trim keeps what jeos
 * made, and /boot is not part of the VM's root). Returns the tree path written.
 */
export function placeBootLoader(tree: ImageTree, architecture: string): { path: string; size: number } {
  const efiArch = efiArchOf(architecture);
  const from = packagedBootLoaderPath(efiArch);
  const real = tree.has(from) ? tree.resolve(from, { followLast: true }) : undefined;
  const data = real ? tree.readFile(real) : undefined;
  if (!data) {
    throw new JeosError('E_DISK_NO_BOOT_LOADER', `the VM tree has no /${from}`, {
      hint: 'disk images boot systemd-boot from the locked systemd-boot-efi package: run jeos lock (disk among the outputs adds it), then build again',
    });
  }
  const to = bootLoaderTreePath(efiArch);
  tree.mkdirp('boot/efi');
  tree.writeFile(to, data, { mode: 0o644, uid: 0, gid: 0, mtime: 0 });
  return { path: to, size: data.length };
}
