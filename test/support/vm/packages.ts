// Recipes for the packages a VM build locks besides the workload's, shared by the tests that
// build VMs on the signed loopback repository: the synthetic kernel package and small
// stand-ins for what the VM adds (libkmod2, BusyBox, the kernel's meta package).
import type { DebRecipe } from '../../fixtures/debs.js';
import { buildModule } from './synthetic-module.js';
import { syntheticKernelTree, TEST_VERSION } from './test-kernel.js';

/** The kernel package vm.kernel's default (linux-image-cloud-amd64) leads to. */
export const KERNEL = `linux-image-${TEST_VERSION}`;

/** The modules a disk's VM mounts the ESP and /var with and arms its watchdog with (DISK_MODULES). */
export const DISK_MODULES = ['vfat', 'nls_cp437', 'nls_ascii', 'ext4', 'efivarfs', 'i6300esb'];

/**
 * The synthetic kernel package, plus the balloon driver every jeos VM keeps, and `fsModules`
 * under kernel/fs (as `NAME.ko`, or `NAME/NAME.ko` with `nested`).
 */
export function kernelRecipe(options: { fsModules?: readonly string[]; nested?: boolean } = {}): DebRecipe {
  const files: NonNullable<DebRecipe['files']> = {};
  for (const [path, node] of syntheticKernelTree().entries()) if (node.kind === 'file') files[`/${path}`] = Buffer.from(node.data);
  files[`/usr/lib/modules/${TEST_VERSION}/kernel/drivers/virtio/virtio_balloon.ko`] = Buffer.from(
    buildModule({ info: [['alias', 'virtio:d00000005v*'], ['name', 'virtio_balloon'], ['vermagic', `${TEST_VERSION} SMP mod_unload modversions`]] }),
  );
  for (const name of options.fsModules ?? []) {
    const at = options.nested ? `${name}/${name}.ko` : `${name}.ko`;
    files[`/usr/lib/modules/${TEST_VERSION}/kernel/fs/${at}`] = Buffer.from(buildModule({ info: [['name', name], ['vermagic', `${TEST_VERSION} SMP mod_unload modversions`]] }));
  }
  return { name: KERNEL, version: '6.12.0-9', files };
}

/** libkmod2, BusyBox (static) and the kernel's meta package, as the VM's lock asks for them. */
export function vmStandIns(): DebRecipe[] {
  return [
    { name: 'libkmod2', version: '34-1', files: { '/usr/lib/x86_64-linux-gnu/libkmod.so.2': 'kmod\n' } },
    { name: 'busybox-static', version: '1:1.37.0-6', files: { '/usr/bin/busybox': { content: '\x7fELF stand-in\n', mode: 0o755 } } },
    { name: 'linux-image-cloud-amd64', version: '6.12.0-9', depends: `${KERNEL} (= 6.12.0-9)` },
  ];
}

/**
 * What a disk image's VM adds: systemd (the init a disk boots), systemd-boot's EFI loader (`loader`: its
 * bytes, for a test that checks the ESP carries them), systemd-bless-boot, which boot assessment runs, and
 * fsck.fat, which repairs the ESP before it is mounted.
 */
export function diskStandIns(loader: string | Buffer = 'MZ stand-in\n'): DebRecipe[] {
  return [
    {
      name: 'systemd',
      version: '257-1',
      files: {
        '/usr/lib/systemd/systemd': { content: '\x7fELF stand-in\n', mode: 0o755 },
        '/usr/lib/systemd/system/multi-user.target': '[Unit]\nDescription=Multi-User System\n',
      },
    },
    { name: 'systemd-boot-efi', version: '257-1', files: { '/usr/lib/systemd/boot/efi/systemd-bootx64.efi': Buffer.from(loader) } },
    // fsck.fat repairs the ESP before it is mounted.
    { name: 'dosfstools', version: '4.2-1.2', files: { '/usr/sbin/fsck.fat': { content: '\x7fELF stand-in\n', mode: 0o755 } } },
    {
      name: 'systemd-boot',
      version: '257-1',
      files: {
        '/usr/lib/systemd/systemd-bless-boot': { content: '\x7fELF stand-in\n', mode: 0o755 },
        '/usr/lib/systemd/system/systemd-bless-boot.service': '[Unit]\nDescription=Mark the Current Boot Loader Entry as Good\n[Service]\nType=oneshot\nExecStart=/usr/lib/systemd/systemd-bless-boot good\n',
      },
    },
  ];
}
