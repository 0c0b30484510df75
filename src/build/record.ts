/** The image record of a build: build.json, manifest.json and trim.json, made from the variants' states. */
import { performance } from 'node:perf_hooks';
import { outsideVmRoot, type OutputFormat, type OutputResult } from '../outputs/index.js';
import {
  MANIFEST_FILE,
  MANIFEST_VERSION,
  manifestOf,
  manifestText,
  RECORD_FILE,
  RECORD_VERSION,
  treeStats,
  TRIM_FILE,
  type BuildRecord,
  type OutputRecord,
  type SetuidFile,
  type VariantName,
  type VariantRecord,
  type VmRecord,
} from '../record/index.js';
import type { ImageTree } from '../tree/index.js';
import { sha256 } from '../util/hash.js';
import { VERSION } from '../version.js';
import { imageVersion } from './disk.js';
import { buildReportFile } from './report.js';
import { buildSbomFiles } from './sbom.js';
import type { BuildContext, VariantState } from './variant.js';

/** Which variant's tree each output format holds. */
export const VARIANT_OF: Readonly<Record<OutputFormat, VariantName>> = { tar: 'image', oci: 'image', 'oci-archive': 'image', vm: 'vm', disk: 'vm' };

/** The kernel's modules are copied into a VM's tree without a dpkg entry; the manifest still names their package. */
const kernelFiles = (modulesDir: string, pkg: string) => (path: string) => (path === modulesDir || path.startsWith(`${modulesDir}/`) ? pkg : undefined);

function variantRecord(ctx: BuildContext, state: VariantState): VariantRecord {
  const inImage = new Set(ctx.lock.packages.map((p) => `${p.name}:${p.architecture}`));
  return {
    addedPackages: state.packages
      .filter((p) => !inImage.has(`${p.name}:${p.architecture}`))
      .map((p) => p.name)
      .sort(),
    tree: treeStats(state.tree),
    configure: state.configured?.effects ?? [],
    notReproduced: (state.configured?.scripts ?? [])
      .filter((s) => s.notReproduced.length)
      .map((s) => ({ pkg: s.pkg, script: s.script, commands: s.notReproduced })),
    setuid: setuidFiles(state.tree),
    ...(state.trim ? { trim: state.trim.record } : {}),
    timings: state.timings,
  };
}

/** Files (and hard links) whose mode has the setuid or setgid bit; setgid directories only pass their group on. */
export function setuidFiles(tree: ImageTree): SetuidFile[] {
  const out: SetuidFile[] = [];
  for (const [path, node] of tree.entries()) {
    if ((node.kind !== 'file' && node.kind !== 'hardlink') || !(node.mode & 0o6000)) continue;
    out.push({ path: `/${path}`, mode: node.mode.toString(8).padStart(4, '0'), ...(node.pkg ? { package: node.pkg } : {}) });
  }
  return out;
}

function vmRecord(ctx: BuildContext, state: VariantState): VmRecord {
  const vm = state.vm!;
  return {
    ...variantRecord(ctx, state),
    kernel: vm.kernel,
    modules: vm.modules,
    cmdline: vm.cmdline,
    system: vm.system!,
    ...(state.excluded ? { excluded: state.excluded } : {}),
  };
}

export interface RecordFile {
  path: string;
  data: string;
}

/**
 * The files that describe the build, written with its outputs and committed with them:
 * manifest.json, trim.json and the SBOMs first, then build.json, which lists every other file's digest.
 */
export function recordFiles(
  ctx: BuildContext,
  variants: { image: VariantState; vm?: VariantState },
  results: OutputResult[],
  facts: { lockDigest: string; timings: BuildRecord['timings'] },
): RecordFile[] {
  const versions = new Map<string, string>();
  for (const p of [...ctx.lock.packages, ...(ctx.lock.vmPackages ?? []), ...(ctx.lock.kernel ? [ctx.lock.kernel] : [])]) {
    versions.set(p.name, p.version);
    versions.set(`${p.name}:${p.architecture}`, p.version);
  }
  const manifest = (state: VariantState) =>
    manifestOf(state.tree, {
      versions,
      workloadFiles: new Set(state.workloadFiles),
      trim: state.trim?.explanation,
      ...(state.vm ? { outside: outsideVmRoot, packageOf: kernelFiles(state.vm.modulesDir, state.vm.kernel.package) } : {}),
    });
  // How long the record's documents take is part of build.json's timings (bench/record.ts reads them).
  let t = performance.now();
  const lap = (name: string) => {
    const now = performance.now();
    facts.timings[name] = Math.round(now - t);
    t = now;
  };
  const manifests = { image: manifest(variants.image), ...(variants.vm ? { vm: manifest(variants.vm) } : {}) };
  const described: RecordFile[] = [{ path: MANIFEST_FILE, data: manifestText(manifests, MANIFEST_VERSION) }];
  if (variants.image.trim || variants.vm?.trim) {
    const explanations = { image: variants.image.trim?.explanation, vm: variants.vm?.trim?.explanation };
    described.push({ path: TRIM_FILE, data: JSON.stringify(explanations, null, 1) + '\n' });
  }
  lap('manifest');
  described.push(...buildSbomFiles(ctx, variants, manifests, facts.lockDigest));
  lap('sbom');
  const record: BuildRecord = {
    recordVersion: RECORD_VERSION,
    jeos: VERSION,
    name: ctx.config.name,
    version: imageVersion(ctx.config, ctx.epoch),
    configDigest: ctx.lock.configDigest,
    lockDigest: facts.lockDigest,
    sourceDateEpoch: ctx.epoch,
    architecture: ctx.lock.architecture,
    packages: ctx.lock.packages.map((p) => ({ name: p.name, version: p.version, architecture: p.architecture, sha256: p.sha256 })),
    image: variantRecord(ctx, variants.image),
    ...(variants.vm ? { vm: vmRecord(ctx, variants.vm) } : {}),
    outputs: results.map(
      (r): OutputRecord => ({ format: r.format, variant: VARIANT_OF[r.format], path: r.path, files: r.files, ...(r.image ? { image: r.image } : {}), ...(r.vm ? { vm: r.vm } : {}), ...(r.disk ? { disk: r.disk } : {}) }),
    ),
    records: described.map((f) => ({ path: f.path, size: Buffer.byteLength(f.data), sha256: sha256(f.data) })),
    timings: facts.timings,
  };
  t = performance.now();
  // The report shows the record (not its list of records, which names the report itself).
  const report = buildReportFile(ctx, variants, record, manifests, described);
  lap('report');
  record.records.push({ path: report.path, size: Buffer.byteLength(report.data), sha256: sha256(report.data) });
  return [...described, report, { path: RECORD_FILE, data: JSON.stringify(record, null, 2) + '\n' }];
}

/** build.json as written by recordFiles (the record a build returns). */
export function recordIn(files: RecordFile[]): BuildRecord {
  return JSON.parse(files.find((f) => f.path === RECORD_FILE)!.data) as BuildRecord;
}
