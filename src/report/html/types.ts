/**
 * What the HTML report is made from: the image record (build.json, manifest.json, trim.json),
 * the SPDX document the build wrote beside it, and the two things of the project the record
 * does not repeat — why jeos.lock holds each package, and the ports jeos.yaml declares.
 */
import type { BuildRecord, ImageManifest, TrimExplanations } from '../../record/index.js';

export const REPORT_FILE = 'report.html';

/** A package of jeos.lock (`packages`, `vmPackages` or `kernel`): the fields the report shows. */
export interface ReportLockedPackage {
  name: string;
  version: string;
  architecture: string;
  /** `(request)`, `vm`, `vm.kernel…`, or `PKG: relation` for each package whose relation it satisfies. */
  neededBy: readonly string[];
}

export interface ReportInputs {
  /** build.json; its `records` is not shown (the report is one of them). */
  record: BuildRecord;
  /** manifest.json's trees. */
  manifest: ImageManifest['trees'];
  /** trim.json (empty when trim was off). */
  trim: TrimExplanations;
  /** The text of out/sbom.spdx.json: the packages' licences and the SBOM's figures are read from it. */
  spdx: string;
  lock: readonly ReportLockedPackage[];
  /** jeos.yaml's workload.ports, as written (80, "53/udp"). */
  ports: ReadonlyArray<number | string>;
  /** The systemd exposure score of the VM's workload unit, when a VM was built with one. */
  exposure?: Exposure;
}

/** `systemd-analyze security` of a unit: its score and the settings that weigh most, or why there is none. */
export type Exposure =
  | { unit: string; score: number; rating: string; tool: string; worst: Array<{ setting: string; description: string; exposure: number }> }
  | { unit: string; notMeasured: string };
