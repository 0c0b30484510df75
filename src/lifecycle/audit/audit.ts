/**
 * `jeos audit`: the image record of a build (out/build.json, out/manifest.json) against
 * a target that should hold the same tree. Reads the record and the target only.
 */
import { performance } from 'node:perf_hooks';
import { stat } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { JeosError } from '../../errors.js';
import { readManifest, readRecord, MANIFEST_FILE, type BuildRecord, type ImageManifest, type ManifestEntry, type VariantName } from '../../record/index.js';
import { sha256File } from '../../util/hash.js';
import { DPKG_STATUS, sha256 } from './collect.js';
import { compare } from './compare.js';
import { diffStatus, diffStatusWithPackages } from './dpkg.js';
import { readTarget, type ReadTarget } from './read-target.js';
import { vmExtraProcesses } from './vm-processes.js';
import type { AuditPolicy, AuditReport, PackageDrift, Process, Socket } from './types.js';

export interface AuditOptions {
  /** The build's output directory (holding build.json and manifest.json). */
  outDir: string;
  /** A path, or `container:NAME`. */
  target: string;
  /** Which tree of the manifest: the container image's, or the VM's. */
  tree: VariantName;
  policy: AuditPolicy;
  clock?: () => number;
}

async function readBaseline(outDir: string): Promise<{ record: BuildRecord; manifest: ImageManifest }> {
  const again = (e: unknown): never => {
    if (e instanceof JeosError && e.code === 'E_RECORD_MISSING') {
      throw new JeosError('E_AUDIT_NO_RECORD', `${outDir} holds no image record (${e.message})`, {
        hint: 'audit compares a target with the build that made it: run jeos build first, or pass --out with the output directory of that build',
      });
    }
    throw e;
  };
  const record = await readRecord(outDir).catch(again);
  const manifest = await readManifest(outDir).catch(again);
  // The manifest must be the one this build.json recorded: a manifest.json copied from another build is refused.
  const listed = record.records?.find((f) => f.path === MANIFEST_FILE);
  if (!listed || listed.sha256 !== (await sha256File(join(outDir, MANIFEST_FILE)))) {
    throw new JeosError('E_AUDIT_RECORD_MISMATCH', `${join(outDir, MANIFEST_FILE)} is not the manifest ${join(outDir, 'build.json')} recorded`, {
      hint: 'out/ mixes files of different builds: build again (jeos build) to write a consistent record',
    });
  }
  return { record, manifest };
}

/**
 * A target that carries its own record (a file or layout inside another build's out/)
 * must be of this build: a target written by another build is refused rather than
 * reported as drift of this one.
 */
async function checkSameBuild(record: BuildRecord, outDir: string, target: string, observed: ReadTarget): Promise<void> {
  if (observed.lockDigest && observed.lockDigest !== record.lockDigest) {
    throw new JeosError('E_AUDIT_OTHER_BUILD', `${target} was built from another jeos.lock (${observed.lockDigest.slice(0, 12)}) than the record in ${outDir} (${record.name}, lock ${record.lockDigest.slice(0, 12)})`, {
      hint: observed.kind === 'disk'
        ? 'the version the disk boots next is another build: audit it against that build (--out), or add this build to the disk (jeos disk add)'
        : 'audit it against the build it runs (--out with that build\'s output directory)',
    });
  }
  if (observed.lockDigest) return;
  const ours = new Set(record.outputs.flatMap((o) => [...o.files.map((f) => f.sha256), ...(o.image ? [o.image.manifestDigest] : [])]));
  if (observed.fileSha256 && ours.has(observed.fileSha256)) return;
  if (observed.imageDigest && ours.has(observed.imageDigest)) return;
  const siblings = observed.kind === 'container' ? [] : [dirname(resolve(target)), dirname(dirname(resolve(target)))];
  for (const dir of siblings) {
    if (resolve(dir) === resolve(outDir)) return;
    let theirs: BuildRecord;
    try {
      theirs = await readRecord(dir);
    } catch {
      continue;
    }
    const digests = new Set(theirs.outputs.flatMap((o) => [...o.files.map((f) => f.sha256), ...(o.image ? [o.image.manifestDigest] : [])]));
    const written = (observed.fileSha256 && digests.has(observed.fileSha256)) || (observed.imageDigest && digests.has(observed.imageDigest));
    if (written && theirs.lockDigest !== record.lockDigest) {
      throw new JeosError('E_AUDIT_OTHER_BUILD', `${target} was written by another build (${theirs.name}, lock ${theirs.lockDigest.slice(0, 12)}) than the record in ${outDir} (${record.name}, lock ${record.lockDigest.slice(0, 12)})`, {
        hint: `audit it against its own build (--out ${dir}), or pass the output of the build in ${outDir}`,
      });
    }
  }
  if (observed.kind === 'container' && record.outputs.some((o) => o.image) && observed.imageDigest && !ours.has(observed.imageDigest)) {
    throw new JeosError('E_AUDIT_OTHER_BUILD', `the container runs image ${observed.imageDigest}, which the build in ${outDir} did not write`, {
      hint: 'run this build\'s image (jeos test --container, or podman run it from out/oci), or audit against the build that made the running image (--out)',
    });
  }
}

function checkVariant(tree: VariantName, observed: ReadTarget, target: string): void {
  if (tree === 'image' && (observed.kind === 'initramfs' || observed.kind === 'ext4' || observed.kind === 'disk' || observed.kind === 'vm')) {
    throw new JeosError('E_AUDIT_VARIANT', `${target} holds a VM's tree; the image's tree would differ everywhere`, { hint: 'add --vm to audit it against the VM tree of the manifest' });
  }
  if (tree === 'vm' && (observed.kind === 'oci' || observed.kind === 'container')) {
    throw new JeosError('E_AUDIT_VARIANT', `${target} holds the container image's tree, not the VM's`, { hint: 'leave out --vm' });
  }
}

/** The baseline's dpkg status, from an output of the build, when its digest is the manifest's. */
async function baselineStatus(outDir: string, record: BuildRecord, tree: VariantName, expected: string): Promise<string | undefined> {
  const output = record.outputs.find((o) => o.variant === tree && (o.format === 'tar' || o.format === 'vm' || o.format === 'oci'));
  if (!output) return undefined;
  const path = output.format === 'tar' ? join(outDir, output.files[0]!.path)
    : output.format === 'oci' ? join(outDir, output.path)
      : join(outDir, output.files.find((f) => /initrd\.img$|root\.img$/.test(f.path))?.path ?? output.path);
  try {
    const read = await readTarget(path, { sizeOf: () => undefined, architecture: record.architecture });
    return read.dpkgStatus && sha256(read.dpkgStatus) === expected ? read.dpkgStatus.toString('utf8') : undefined;
  } catch {
    return undefined; // an output gone or damaged: fall back to build.json's package list
  }
}

async function packageDrift(outDir: string, record: BuildRecord, tree: VariantName, manifest: ManifestEntry[], observed: ReadTarget): Promise<PackageDrift[]> {
  const entry = manifest.find((e) => e.path === DPKG_STATUS);
  if (!entry?.sha256 || !observed.dpkgStatus) return []; // no database, or it is gone (a removed path already)
  if (sha256(observed.dpkgStatus) === entry.sha256) return [];
  const target = observed.dpkgStatus.toString('utf8');
  const baseline = await baselineStatus(outDir, record, tree, entry.sha256);
  if (baseline !== undefined) return diffStatus(baseline, target);
  const versions = new Map<string, string>(record.packages.map((p) => [p.name, p.version]));
  if (tree === 'vm') for (const e of manifest) if (e.package && e.version && !versions.has(e.package)) versions.set(e.package, e.version);
  return diffStatusWithPackages([...versions].map(([name, version]) => ({ name, version })), target);
}

function extraProcesses(processes: Process[], policy: AuditPolicy): Process[] {
  // comm is cut to 15 bytes by the kernel.
  const allowed = new Set(policy.processes.map((p) => p.slice(0, 15)));
  const parent = new Map(processes.map((p) => [p.pid, p.ppid]));
  const underInit = (pid: number): boolean => {
    for (let p = pid, hops = 0; p > 0 && hops < 64; p = parent.get(p) ?? 0, hops++) if (p === 1) return true;
    return false;
  };
  return processes.filter((p) => p.pid !== 1 && !(allowed.has(p.name) && underInit(p.pid)));
}

function extraSockets(sockets: Socket[], policy: AuditPolicy): Socket[] {
  const seen = new Set<string>();
  return sockets.filter((s) => {
    const key = `${s.protocol}/${s.address}/${s.port}`;
    if (seen.has(key) || policy.ports.some((p) => p.port === s.port && p.protocol === s.protocol)) return false;
    seen.add(key);
    return true;
  });
}

export async function audit(options: AuditOptions): Promise<AuditReport> {
  const clock = options.clock ?? (() => performance.now());
  const began = clock();
  const { record, manifest } = await readBaseline(options.outDir);
  const entries = manifest.trees[options.tree];
  if (!entries) {
    throw new JeosError('E_AUDIT_NO_VM_TREE', `the build in ${options.outDir} made no VM`, { hint: 'leave out --vm, or add vm to outputs: in jeos.yaml and build again' });
  }
  const sizes = new Map(entries.map((e) => [e.path, e.size]));
  const observed = await readTarget(options.target, { sizeOf: (p) => sizes.get(p), architecture: record.architecture });
  const read = clock();
  checkVariant(options.tree, observed, options.target);
  if (!observed.entries.has('/usr') && !observed.entries.has('/etc')) {
    throw new JeosError('E_AUDIT_NOT_IMAGE', `${options.target} is not an image: it has neither /usr nor /etc`, {
      hint: 'pass the root of an image: an unpacked root directory, a rootfs tar, an OCI layout, an initramfs or container:NAME',
    });
  }
  await checkSameBuild(record, options.outDir, options.target, observed);
  const ran = observed.kind === 'container' || observed.kind === 'ext4' || observed.kind === 'vm';
  const diff = compare(entries, observed.entries, options.policy, { ran, ext4: observed.kind === 'ext4' });
  const packages = await packageDrift(options.outDir, record, options.tree, entries, observed);
  const processes = !observed.running ? undefined
    : observed.kind === 'vm' ? vmExtraProcesses(observed.running.processes, entries, observed.agentPid ?? 0, options.policy.unit ? { unit: options.policy.unit, names: options.policy.processes } : undefined)
      : extraProcesses(observed.running.processes, options.policy);
  const sockets = observed.running ? extraSockets(observed.running.sockets, options.policy) : undefined;
  const done = clock();
  const counts = {
    added: diff.added.length,
    removed: diff.removed.length,
    changed: diff.changed.length,
    packages: packages.length,
    units: diff.units.length,
    setuid: diff.setuid.length,
    processes: processes?.length ?? 0,
    sockets: sockets?.length ?? 0,
    state: diff.state.length,
    runtime: diff.runtime.length,
  };
  const drift = counts.added + counts.removed + counts.changed + counts.packages + counts.units + counts.setuid + counts.processes + counts.sockets;
  return {
    clean: drift === 0,
    tree: options.tree,
    target: { path: options.target, kind: observed.kind, ...(observed.via ? { via: observed.via } : {}), running: !!observed.running },
    build: { name: record.name, lockDigest: record.lockDigest },
    counts,
    added: diff.added,
    removed: diff.removed,
    changed: diff.changed,
    packages,
    units: diff.units,
    setuid: diff.setuid,
    ...(processes ? { processes } : {}),
    ...(sockets ? { sockets } : {}),
    state: diff.state,
    runtime: diff.runtime,
    timings: { read: Math.round(read - began), compare: Math.round(done - read), total: Math.round(done - began) },
  };
}

/** The out/ directory exists and is a directory (a clearer error than the record's own for a typo). */
export async function checkOutDir(outDir: string): Promise<void> {
  const st = await stat(outDir).catch(() => undefined);
  if (!st?.isDirectory()) {
    throw new JeosError('E_AUDIT_NO_RECORD', `${outDir} does not exist or is not a directory`, {
      hint: 'run jeos build first, or pass --out with the output directory of the build that made the target',
    });
  }
}
