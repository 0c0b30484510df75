/**
 * The SBOM of a build: out/sbom.spdx.json (SPDX 2.3) and out/sbom.cdx.json (CycloneDX 1.6),
 * made from the image record and the trees when the build writes its record. docs/sbom.md.
 */
import { cyclonedxText } from './cyclonedx.js';
import { sbomModel } from './model.js';
import { spdxText } from './spdx.js';
import { CYCLONEDX_FILE, SPDX_FILE, type SbomInputs } from './types.js';

export * from './types.js';
export { sbomModel, debPurl, distroQualifier } from './model.js';
export { readCopyright, licenceExpression, spdxLicenceId } from './copyright.js';
export { spdxDocument, spdxText } from './spdx.js';
export { cyclonedxText } from './cyclonedx.js';

/** Both documents, as the files of out/ they are written to. */
export function sbomFiles(inputs: SbomInputs): Array<{ path: string; data: string }> {
  const model = sbomModel(inputs);
  return [
    { path: SPDX_FILE, data: spdxText(model) },
    { path: CYCLONEDX_FILE, data: cyclonedxText(model) },
  ];
}
