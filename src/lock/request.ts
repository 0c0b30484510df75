import type { ArchiveIndex } from '../archive/client.js';
import { candidateOf } from '../archive/candidates.js';
import { parseRelations } from '../archive/relations.js';
import type { PackageRecord } from '../archive/packages.js';
import { vmPackages, type Config } from '../config/schema.js';
import { JeosError } from '../errors.js';
import { resolve } from '../resolve/index.js';
import { REQUEST } from '../resolve/problem.js';
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

/**
 * What boot assessment on a disk runs: systemd-bless-boot (systemd-boot), fsck.fat (dosfstools), which
 * repairs the ESP before it is mounted, and BusyBox for the mounts and the health check.
 */
export const DISK_ASSESSMENT_PACKAGES = ['systemd-boot', 'dosfstools'] as const;

/** What a disk that follows a channel (update:) runs: systemd-sysupdate and systemd-pull (systemd-container), and the gpg program sysupdate verifies SHA256SUMS.gpg with. */
export const UPDATE_PACKAGES = ['systemd-container', 'gpg'] as const;

/**
 * The packages the VM's tree adds to the image's: vmPackages(), and for a disk image
 * systemd-boot-efi, systemd-boot and BusyBox (as vm.network: busybox asks for it), and
 * with update: what follows the channel.
 */
export function vmTreePackages(config: Pick<Config, 'outputs' | 'vm'> & Partial<Pick<Config, 'update'>>, image: ReadonlySet<string>): string[] {
  const vm = vmPackages(config.vm, image);
  if (!config.outputs.includes('disk')) return vm;
  const busybox = vmPackages({ ...config.vm, network: 'busybox' }, image).filter((p) => !vm.includes(p) && p !== 'libkmod2');
  const disk = [DISK_BOOT_PACKAGE, ...DISK_ASSESSMENT_PACKAGES, ...(config.update ? UPDATE_PACKAGES : [])].filter((p) => !image.has(p));
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
  /** Set when the image's own smallest set could not take the VM's packages and both were resolved together: what changed, in words. */
  joint?: string;
}

/**
 * The image's packages, then the VM's on top of them pinned. When the image's smallest set
 * cannot take what the VM adds (the image chose systemd-standalone-sysusers or opensysusers for
 * an alternative, and the VM's systemd conflicts with both), the workload's request and the VM's
 * packages are resolved together, and the image is the part of that set its own request reaches:
 * the container image then has the VM's choice for that alternative (systemd), so the VM's tree
 * is still the image's plus what the VM adds.
 */
export function resolveLock(index: ArchiveIndex, config: Config): LockResolution {
  const resolution = resolve(index, lockRequest(config));
  if (!wantsVmTree(config)) return { resolution };
  const kernel = lockKernel(index, config.vm.kernel);
  try {
    return { resolution, vm: { resolution: resolve(index, vmLockRequest(config, resolution)), kernel } };
  } catch (e) {
    if (!(e instanceof JeosError) || e.code !== 'E_UNSATISFIABLE') throw e;
  }
  const request = lockRequest(config);
  const vmAdds = vmTreePackages(config, new Set()).filter((p) => !request.packages.includes(p));
  const joint = resolve(index, { ...request, packages: [...request.packages, ...vmAdds] });
  const image = requestPart(joint, new Set(vmAdds));
  const before = new Set(resolution.packages.map((p) => p.record.name));
  const after = new Set(image.packages.map((p) => p.record.name));
  const dropped = [...before].filter((n) => !after.has(n));
  // What the image now chooses for an alternative, named; what those bring, counted.
  const chosen = [...new Set(image.edges.filter((e) => before.has(e.from) && !before.has(e.to)).map((e) => e.to))].sort();
  const brought = after.size - before.size + dropped.length - chosen.length;
  const added = chosen.length ? [`${chosen.join(', ')}${brought > 0 ? ` (and ${brought} packages ${chosen.length > 1 ? 'they need' : 'it needs'})` : ''}`] : [];
  return {
    resolution: image,
    vm: { resolution: resolve(index, vmLockRequest(config, image)), kernel },
    joint: `the image and the VM were resolved together: the VM's packages conflict with ${dropped.join(', ') || 'the image\'s set'}, so the image has ${added.join(', ') || 'the VM\'s choices'} instead`,
  };
}

/** The part of a resolution reached from its request lines other than `except`'s: a set that is complete by itself (every need it has is met inside it). */
export function requestPart(joint: Resolution, except: ReadonlySet<string>): Resolution {
  const reached = new Set<string>();
  const queue = joint.edges.filter((e) => e.from === REQUEST && !except.has(e.relation)).map((e) => e.to);
  while (queue.length) {
    const name = queue.pop()!;
    if (reached.has(name)) continue;
    reached.add(name);
    for (const e of joint.edges) if (e.from === name && !reached.has(e.to)) queue.push(e.to);
  }
  const roots = new Set(joint.edges.filter((e) => e.from === REQUEST && !except.has(e.relation)).map((e) => e.to));
  const packages = joint.packages
    .filter((p) => reached.has(p.record.name))
    .map((p) => ({ ...p, requestedBy: p.requestedBy.filter((n) => reached.has(n) || (n === REQUEST && roots.has(p.record.name))) }));
  return {
    packages,
    totalInstalledSize: packages.reduce((t, p) => t + (p.record.installedSize || 0), 0),
    roots: [...roots].sort(),
    edges: joint.edges.filter((e) => (e.from === REQUEST ? !except.has(e.relation) : reached.has(e.from))),
    stats: joint.stats,
    skippedRecommends: joint.skippedRecommends.filter((s) => reached.has(s.owner)),
  };
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
