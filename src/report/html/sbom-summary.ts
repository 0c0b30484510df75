/**
 * What the report shows of the SBOM, read from the SPDX document the build wrote (so the
 * report says what the SBOM says): each package's declared licence and trim state, the files
 * listed per tree, and the licences counted.
 */
import { JeosError } from '../../errors.js';
import type { VariantName } from '../../record/index.js';
import type { SpdxDocument } from '../sbom/spdx.js';

export interface SbomPackageSummary {
  name: string;
  version: string;
  /** The declared licence (an SPDX expression, or NOASSERTION), and where it was read or why not. */
  licence: string;
  licenceNote: string;
  /** `image: trimmed (4 files kept, 1 dropped); vm: whole` */
  trees: string;
  kernel: boolean;
}

export interface SbomSummary {
  packages: SbomPackageSummary[];
  /** Regular files listed, per tree. */
  files: Partial<Record<VariantName, number>>;
  /** Each distinct declared licence and how many packages declare it, most first. */
  licences: Array<{ licence: string; packages: number }>;
  /** Licences without an SPDX identifier, given as LicenseRef- with their text. */
  licenceRefs: number;
}

const PACKAGE_ID = /^SPDXRef-Package-/;
const FILE_ID = /^SPDXRef-File-([a-z]+)-/;

export function sbomSummary(text: string): SbomSummary {
  let doc: SpdxDocument;
  try {
    doc = JSON.parse(text) as SpdxDocument;
  } catch (e) {
    throw new JeosError('E_REPORT_SBOM', 'the report cannot read the SPDX document of the build', {
      hint: 'this is a bug in jeos: the build writes sbom.spdx.json before the report',
      cause: e,
    });
  }
  if (doc.spdxVersion !== 'SPDX-2.3' || !Array.isArray(doc.packages) || !Array.isArray(doc.files)) {
    throw new JeosError('E_REPORT_SBOM', `the SPDX document of the build is not SPDX 2.3 as jeos writes it (${String(doc.spdxVersion)})`, {
      hint: 'this is a bug in jeos: the report and the SBOM writer disagree',
    });
  }
  const packages = doc.packages
    .filter((p) => PACKAGE_ID.test(p.SPDXID))
    .map((p) => ({
      name: p.name,
      version: p.versionInfo ?? '',
      licence: p.licenseDeclared,
      licenceNote: p.licenseComments ?? '',
      trees: (p.comment ?? '').replace(/^The VM's kernel \(not in dpkg's database\)\. /, ''),
      kernel: p.primaryPackagePurpose === 'OPERATING_SYSTEM',
    }));
  const files: SbomSummary['files'] = {};
  for (const f of doc.files) {
    const tree = FILE_ID.exec(f.SPDXID)?.[1] as VariantName | undefined;
    if (tree) files[tree] = (files[tree] ?? 0) + 1;
  }
  const perLicence = new Map<string, number>();
  for (const p of packages) perLicence.set(p.licence, (perLicence.get(p.licence) ?? 0) + 1);
  const licences = [...perLicence]
    .map(([licence, n]) => ({ licence, packages: n }))
    .sort((a, b) => b.packages - a.packages || (a.licence < b.licence ? -1 : a.licence > b.licence ? 1 : 0));
  return { packages, files, licences, licenceRefs: doc.hasExtractedLicensingInfos?.length ?? 0 };
}
