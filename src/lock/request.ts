import type { ArchiveIndex } from '../archive/client.js';
import { candidateOf } from '../archive/candidates.js';
import { parseRelations } from '../archive/relations.js';
import type { PackageRecord } from '../archive/packages.js';
import { vmPackages, type Config } from '../config/schema.js';
import { JeosError } from '../errors.js';
import { resolve } from '../resolve/index.js';
import type { Resolution, ResolveRequest } from '../resolve/types.js';
import type { LockedPackage } from './types.js';

/** What the lock resolves for a config: the workload's packages, as jeos.yaml names them. */
export function lockRequest(config: Config): Required<Pick<ResolveRequest, 'packages' | 'recommends' | 'profile'>> {
  const w = config.workload;
  return { packages: [...w.packages], recommends: w.recommends, profile: w.profile };
}

/** The boot loader a disk image boots (its EFI binary goes onto the ESP). */
export const DISK_BOOT_PACKAGE = 'systemd-boot-efi';

/** Whether the config builds the VM's tree: for the vm output, and for the disk image, which holds it. */
export function wantsVmTree(config: Pick<Config, 'outputs'>): boolean {
  return config.outputs.includes('vm') || config.outputs.includes('disk');
}

/** What boot assessment on a disk runs: systemd-bless-boot (systemd-boot), and BusyBox for the mounts and the health check. */
export const DISK_ASSESSMENT_PACKAGES = ['systemd-boot'] as const;

/**
 * The packages the VM's tree adds to the image's: vmPackages(), and for a disk image
 * systemd-boot-efi, systemd-boot and BusyBox (as vm.network: busybox asks for it).
 */
export function vmTreePackages(config: Pick<Config, 'outputs' | 'vm'>, image: ReadonlySet<string>): string[] {
  const vm = vmPackages(config.vm, image);
  if (!config.outputs.includes('disk')) return vm;
  const busybox = vmPackages({ ...config.vm, network: 'busybox' }, image).filter((p) => !vm.includes(p) && p !== 'libkmod2');
  const disk = [DISK_BOOT_PACKAGE, ...DISK_ASSESSMENT_PACKAGES].filter((p) => !image.has(p));
  return [...new Set([...vm, ...busybox, ...disk])];
}

/**
 * What a VM image needs on top of the image's packages (its init, and for systemd
 * libkmod to load modules): every package of the image, pinned to its locked
 * version, plus vmPackages() of vm.init and vm.network that the image lacks. The solver then adds the smallest set that completes it, without
 * changing anything the container image has.
 */
export function vmLockRequest(config: Config, base: Resolution): Required<Pick<ResolveRequest, 'packages' | 'recommends' | 'profile'>> {
  const w = config.workload;
  const pinned = base.packages.map(({ record }) => `${record.name}=${record.version}`);
  const names = new Set(base.packages.map(({ record }) => record.name));
  return { packages: [...pinned, ...vmTreePackages(config, names)], recommends: w.recommends, profile: w.profile };
}

/** The packages a lock holds for a config: the image's, and for VM images what the VM adds and its kernel. */
export interface LockResolution {
  resolution: Resolution;
  vm?: { resolution: Resolution; kernel: LockedPackage };
}

export function resolveLock(index: ArchiveIndex, config: Config): LockResolution {
  const resolution = resolve(index, lockRequest(config));
  if (!wantsVmTree(config)) return { resolution };
  const vm = resolve(index, vmLockRequest(config, resolution));
  return { resolution, vm: { resolution: vm, kernel: lockKernel(index, config.vm.kernel) } };
}

const MAX_HOPS = 4;

/**
 * The kernel a VM image boots: the configured package, followed through meta packages
 * (linux-image-cloud-amd64 → linux-image-6.12.…-cloud-amd64) to the one that ships the
 * kernel. Its own dependencies (kmod, initramfs-tools) are for installing a kernel on a
 * running system and are not part of the image, so only this one package is locked.
 */
export function lockKernel(index: ArchiveIndex, name: string): LockedPackage {
  let record: PackageRecord | undefined = candidateOf(index, name);
  if (!record) {
    throw new JeosError('E_KERNEL_NOT_FOUND', `no kernel package ${name} for ${index.architecture} in ${index.suites.map((s) => s.suite).join(', ')}`, {
      hint: 'set vm.kernel in jeos.yaml to a Debian kernel package (jeos search linux-image)',
    });
  }
  const chain = [record.name];
  for (let hop = 0; hop < MAX_HOPS; hop++) {
    const next = parseRelations(record.depends)
      .map((alternatives) => alternatives[0]!)
      .find((atom) => atom.name.startsWith('linux-image-'));
    if (!next) break;
    const found = candidateOf(index, next.name);
    if (!found) {
      throw new JeosError('E_KERNEL_NOT_FOUND', `${record.name} needs ${next.name}, which is not in the archive`, {
        hint: 'the archive may be mid-update; run jeos update and try again, or choose another vm.kernel',
      });
    }
    record = found;
    chain.push(record.name);
  }
  return {
    name: record.name,
    version: record.version,
    architecture: record.architecture,
    suite: record.suite,
    filename: record.filename,
    size: record.size,
    sha256: record.sha256,
    installedSize: record.installedSize,
    neededBy: chain.length > 1 ? [`vm.kernel: ${chain.slice(0, -1).join(' → ')}`] : ['vm.kernel'],
  };
}
