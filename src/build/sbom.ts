/** The SBOM's inputs from a build: the lock, each variant's manifest and trim figures, and its tree to read files from. */
import type { ManifestEntry } from '../record/index.js';
import { sbomFiles, type SbomTree } from '../report/sbom/index.js';
import { VERSION } from '../version.js';
import type { BuildContext, VariantState } from './variant.js';

export function buildSbomFiles(
  ctx: BuildContext,
  variants: { image: VariantState; vm?: VariantState },
  manifests: { image: ManifestEntry[]; vm?: ManifestEntry[] },
  lockDigest: string,
): Array<{ path: string; data: string }> {
  const tree = (state: VariantState, entries: ManifestEntry[]): SbomTree => ({
    name: state.name,
    entries,
    read: (path) => state.tree.readFile(path),
    trim: state.trim?.record,
    ...(state.vm ? { kernel: { package: state.vm.kernel.package, droppedFiles: state.vm.modules.droppedFiles } } : {}),
  });
  const suite = ctx.lock.suites[0];
  return sbomFiles({
    name: ctx.config.name,
    tool: VERSION,
    epoch: ctx.epoch,
    architecture: ctx.lock.architecture,
    lockDigest,
    codename: suite?.codename ?? suite?.suite ?? 'unknown',
    packages: [...ctx.lock.packages, ...(ctx.lock.vmPackages ?? []), ...(ctx.lock.kernel ? [ctx.lock.kernel] : [])],
    trees: [tree(variants.image, manifests.image), ...(variants.vm && manifests.vm ? [tree(variants.vm, manifests.vm)] : [])],
  });
}
