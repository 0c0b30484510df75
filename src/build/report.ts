/** The HTML report's inputs from a build: the record just made, the SPDX document beside it, the lock's reasons and the declared ports. */
import type { BuildRecord, ManifestEntry } from '../record/index.js';
import { REPORT_FILE, reportHtml } from '../report/html/index.js';
import { SPDX_FILE } from '../report/sbom/index.js';
import { exposureOf } from './exposure.js';
import type { BuildContext, VariantState } from './variant.js';

export function buildReportFile(
  ctx: BuildContext,
  variants: { image: VariantState; vm?: VariantState },
  record: BuildRecord,
  manifests: { image: ManifestEntry[]; vm?: ManifestEntry[] },
  described: ReadonlyArray<{ path: string; data: string }>,
): { path: string; data: string } {
  const lock = ctx.lock;
  const workloadUnit = record.vm?.system.workloadUnit;
  return {
    path: REPORT_FILE,
    data: reportHtml({
      record,
      manifest: manifests,
      trim: {
        ...(variants.image.trim ? { image: variants.image.trim.explanation } : {}),
        ...(variants.vm?.trim ? { vm: variants.vm.trim.explanation } : {}),
      },
      spdx: described.find((f) => f.path === SPDX_FILE)?.data ?? '',
      lock: [...lock.packages, ...(lock.vmPackages ?? []), ...(lock.kernel ? [lock.kernel] : [])],
      ports: ctx.config.workload?.ports ?? [],
      ...(workloadUnit && variants.vm ? { exposure: exposureOf(variants.vm.tree, workloadUnit) } : {}),
    }),
  };
}
