import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ArchiveIndex } from '../archive/client.js';
import type { PackageRecord } from '../archive/packages.js';
import type { LoadedConfig } from '../config/load.js';
import { JeosError } from '../errors.js';
import { REQUEST } from '../resolve/problem.js';
import type { DependencyGraph, Resolution, ResolutionEdge } from '../resolve/types.js';
import { writeFileAtomic } from '../util/atomic-write.js';
import { lockRequest, vmTreePackages, wantsVmTree, type LockResolution } from './request.js';
import { LOCK_FILE, LOCK_VERSION, type Lock, type LockedPackage } from './types.js';

/** Build the lock for a resolution. Everything in it is sorted, so the same inputs give the same bytes. */
export function createLock(loaded: LoadedConfig, index: ArchiveIndex, resolved: LockResolution): Lock {
  const { resolution, vm } = resolved;
  const request = lockRequest(loaded.config);
  return {
    lockVersion: LOCK_VERSION,
    configDigest: loaded.digest,
    architecture: index.architecture,
    request,
    suites: index.suites.map((s) => ({
      suite: s.suite,
      codename: s.release.codename ?? null,
      date: s.release.date?.toISOString() ?? null,
      validUntil: s.release.validUntil?.toISOString() ?? null,
    })),
    totalInstalledSize: resolution.totalInstalledSize,
    packages: lockedPackages(resolution),
    ...(vm ? { vmPackages: lockedPackages(vm.resolution, new Set(resolution.packages.map((p) => p.record.name))), kernel: vm.kernel } : {}),
  };
}

/** A resolution's packages as the lock records them, less those in `except`; `neededBy` from its edges. */
function lockedPackages(resolution: Resolution, except = new Set<string>()): LockedPackage[] {
  const neededBy = new Map<string, Set<string>>();
  for (const e of resolution.edges) {
    if (e.from === e.to) continue;
    const set = neededBy.get(e.to) ?? new Set<string>();
    // In the VM's resolution the image's packages are requested only as pins; what the VM adds is the request.
    set.add(e.from === REQUEST ? (except.size ? 'vm' : REQUEST) : `${e.from}: ${e.relation}`);
    neededBy.set(e.to, set);
  }
  return resolution.packages
    .filter(({ record }) => !except.has(record.name))
    .map(({ record }) => lockedPackageOf(record, [...(neededBy.get(record.name) ?? [])].sort()));
}

/** A package of the index as the lock records it. */
export function lockedPackageOf(r: PackageRecord, neededBy: string[] = []): LockedPackage {
  return {
    name: r.name,
    version: r.version,
    architecture: r.architecture,
    suite: r.suite,
    filename: r.filename,
    size: r.size,
    sha256: r.sha256,
    installedSize: r.installedSize,
    neededBy,
  };
}

/** The lock as text: JSON with a fixed key order, one package per block, a newline at the end. */
export function serializeLock(lock: Lock): string {
  return JSON.stringify(lock, null, 2) + '\n';
}

export function parseLock(text: string, path: string): Lock {
  let data: Lock;
  try {
    data = JSON.parse(text) as Lock;
  } catch (e) {
    throw new JeosError('E_LOCK_INVALID', `${path} is not valid JSON (${(e as Error).message})`, {
      hint: 'it may have been damaged or hand-edited; write it anew with jeos lock',
      cause: e,
    });
  }
  if (data?.lockVersion !== LOCK_VERSION || !Array.isArray(data.packages) || typeof data.configDigest !== 'string') {
    throw new JeosError('E_LOCK_INVALID', `${path} is not a version ${LOCK_VERSION} jeos lock`, {
      hint: 'write it anew with jeos lock',
    });
  }
  return data;
}

export async function writeLock(dir: string, lock: Lock): Promise<string> {
  const path = join(dir, LOCK_FILE);
  await writeFileAtomic(path, serializeLock(lock));
  return path;
}

/** The lock in DIR, or undefined when there is none. */
export async function readLock(dir: string): Promise<Lock | undefined> {
  const path = join(dir, LOCK_FILE);
  const text = await readFile(path, 'utf8').catch((e: NodeJS.ErrnoException) => {
    if (e.code === 'ENOENT') return undefined;
    throw e;
  });
  return text === undefined ? undefined : parseLock(text, path);
}

export type LockStatus = { state: 'missing' } | { state: 'stale'; reason: string } | { state: 'fresh'; lock: Lock };

/** Whether DIR's lock was made for the config as it is now. */
export async function lockStatus(loaded: LoadedConfig): Promise<LockStatus> {
  const lock = await readLock(loaded.dir);
  if (!lock) return { state: 'missing' };
  if (lock.configDigest !== loaded.digest) {
    return { state: 'stale', reason: `${LOCK_FILE} was written for a different ${loaded.path.split('/').pop()} (it changed since); run jeos lock to update it` };
  }
  if (wantsVmTree(loaded.config)) {
    if (!lock.kernel || !lock.vmPackages) {
      return { state: 'stale', reason: `${LOCK_FILE} has no VM packages or kernel (an older jeos wrote it); run jeos lock to update it` };
    }
    const locked = new Set(lock.vmPackages.map((p) => p.name));
    const missing = vmTreePackages(loaded.config, new Set(lock.packages.map((p) => p.name))).filter((name) => !locked.has(name));
    if (missing.length) {
      const setting = `vm.init: ${loaded.config.vm.init}${loaded.config.vm.init === 'systemd' ? `, vm.network: ${loaded.config.vm.network}` : ''}${loaded.config.outputs.includes('disk') ? ' and a disk image' : ''}`;
      return { state: 'stale', reason: `${LOCK_FILE} has no ${missing.join(', ')}, which a VM with ${setting} needs (an older jeos wrote it); run jeos lock to update it` };
    }
  }
  return { state: 'fresh', lock };
}

/** The dependency graph of a lock, for whyPaths. */
export function lockAsResolution(lock: Lock): DependencyGraph {
  const edges: ResolutionEdge[] = [];
  const roots: string[] = [];
  for (const p of lock.packages) {
    for (const reason of p.neededBy) {
      if (reason === REQUEST) {
        roots.push(p.name);
        edges.push({ from: REQUEST, to: p.name, field: 'request', relation: p.name });
        continue;
      }
      const colon = reason.indexOf(': ');
      edges.push({ from: reason.slice(0, colon), to: p.name, field: 'depends', relation: reason.slice(colon + 2) });
    }
  }
  return { roots: roots.sort(), edges, packages: lock.packages.map((p) => ({ record: { name: p.name } })) };
}
