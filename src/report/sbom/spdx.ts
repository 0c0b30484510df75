/**
 * SPDX 2.3 (JSON) from the SBOM model. Values are spelled as the official JSON schema spells
 * them (OPERATING_SYSTEM, where the specification's text writes OPERATING-SYSTEM). Written as typed objects: npm has no maintained
 * SPDX 2.3 library (the SPDX project's own tools are Python and Java), and the document
 * is a few plain records; the tests validate it against the official SPDX 2.3 JSON schema.
 */
import { sha256 } from '../../util/hash.js';
import type { VariantName } from '../../record/index.js';
import { contentUuid, jsonLines } from './text.js';
import type { SbomFile, SbomModel, SbomPackage } from './types.js';

export interface SpdxChecksum {
  algorithm: 'SHA1' | 'SHA256';
  checksumValue: string;
}

export interface SpdxPackage {
  SPDXID: string;
  name: string;
  versionInfo?: string;
  packageFileName?: string;
  supplier: string;
  downloadLocation: 'NOASSERTION';
  primaryPackagePurpose: 'CONTAINER' | 'OPERATING_SYSTEM' | 'INSTALL';
  checksums?: SpdxChecksum[];
  sourceInfo?: string;
  licenseConcluded: string;
  licenseDeclared: string;
  licenseComments?: string;
  copyrightText: 'NOASSERTION';
  externalRefs?: Array<{ referenceCategory: 'PACKAGE-MANAGER'; referenceType: 'purl'; referenceLocator: string }>;
  comment?: string;
}

export interface SpdxFile {
  SPDXID: string;
  /** `./usr/bin/x`: relative to the root of the tree. */
  fileName: string;
  checksums: SpdxChecksum[];
  comment?: string;
}

export interface SpdxRelationship {
  spdxElementId: string;
  relationshipType: 'DESCRIBES' | 'CONTAINS' | 'DEPENDS_ON';
  relatedSpdxElement: string;
}

export interface SpdxDocument {
  spdxVersion: 'SPDX-2.3';
  dataLicense: 'CC0-1.0';
  SPDXID: 'SPDXRef-DOCUMENT';
  name: string;
  documentNamespace: string;
  creationInfo: { created: string; creators: string[]; comment: string };
  packages: SpdxPackage[];
  files: SpdxFile[];
  hasExtractedLicensingInfos?: Array<{ licenseId: string; name: string; extractedText: string }>;
  relationships: SpdxRelationship[];
}

/** Idstrings are letters, digits, `.` and `-`; a digest keeps them unique after the rest is replaced. */
const idPart = (s: string) => s.replace(/[^A-Za-z0-9.]+/g, '-');
export const spdxPackageId = (p: SbomPackage) => `SPDXRef-Package-deb-${idPart(p.name)}-${sha256(p.key).slice(0, 12)}`;
export const spdxFileId = (f: Pick<SbomFile, 'tree' | 'path'>) => `SPDXRef-File-${f.tree}-${sha256(`${f.tree}:${f.path}`).slice(0, 16)}`;
export const spdxTreeId = (tree: VariantName) => `SPDXRef-${tree}`;

const TREE: Readonly<Record<VariantName, { purpose: SpdxPackage['primaryPackagePurpose']; suffix: string; comment: string }>> = {
  image: { purpose: 'CONTAINER', suffix: '', comment: 'The container image: the tree of rootfs.tar and the OCI image.' },
  vm: { purpose: 'OPERATING_SYSTEM', suffix: '-vm', comment: 'The VM image: the tree of out/vm (the initramfs or disk), booted by the kernel component.' },
};

export function treeSummary(p: SbomPackage): string {
  return p.trees
    .map((t) => `${t.tree}: ${t.trimmed ? `trimmed (${t.keptFiles} files kept, ${t.droppedFiles} dropped)` : 'whole'}`)
    .join('; ');
}

export function spdxDocument(model: SbomModel): SpdxDocument {
  const relationships: SpdxRelationship[] = [];
  const rel = (a: string, type: SpdxRelationship['relationshipType'], b: string) => relationships.push({ spdxElementId: a, relationshipType: type, relatedSpdxElement: b });
  const ids = new Map(model.packages.map((p) => [p.key, spdxPackageId(p)]));

  const packages: SpdxPackage[] = model.trees.map((tree) => ({
    SPDXID: spdxTreeId(tree),
    name: `${model.name}${TREE[tree].suffix}`,
    versionInfo: model.lockDigest.slice(0, 12),
    // The image is the user's, built by jeos: who supplies it is not for jeos to say.
    supplier: 'NOASSERTION',
    downloadLocation: 'NOASSERTION',
    primaryPackagePurpose: TREE[tree].purpose,
    licenseConcluded: 'NOASSERTION',
    licenseDeclared: 'NOASSERTION',
    copyrightText: 'NOASSERTION',
    comment: TREE[tree].comment,
  }));
  for (const tree of model.trees) rel('SPDXRef-DOCUMENT', 'DESCRIBES', spdxTreeId(tree));

  for (const p of model.packages) {
    const id = ids.get(p.key)!;
    packages.push({
      SPDXID: id,
      name: p.name,
      versionInfo: p.version,
      ...(p.debFile ? { packageFileName: p.debFile } : {}),
      supplier: 'Organization: Debian',
      downloadLocation: 'NOASSERTION',
      primaryPackagePurpose: p.kernel ? 'OPERATING_SYSTEM' : 'INSTALL',
      ...(p.debSha256 ? { checksums: [{ algorithm: 'SHA256', checksumValue: p.debSha256 }] } : {}),
      sourceInfo: p.source
        ? `built from the Debian source package ${p.source.name} ${p.source.version} (${p.source.purl})`
        : 'source package not recorded: the kernel package is not in the dpkg database of the image',
      licenseConcluded: 'NOASSERTION',
      licenseDeclared: p.licence.expression,
      licenseComments: p.licence.note,
      copyrightText: 'NOASSERTION',
      externalRefs: [{ referenceCategory: 'PACKAGE-MANAGER', referenceType: 'purl', referenceLocator: p.purl }],
      comment: `${p.kernel ? 'The VM\'s kernel (not in dpkg\'s database). ' : ''}${treeSummary(p)}`,
    });
    for (const t of p.trees) rel(spdxTreeId(t.tree), 'CONTAINS', id);
    for (const d of p.dependsOn) rel(id, 'DEPENDS_ON', ids.get(d)!);
  }

  const files: SpdxFile[] = model.files.map((f) => {
    const id = spdxFileId(f);
    rel(spdxTreeId(f.tree), 'CONTAINS', id);
    if (f.package) rel(ids.get(f.package)!, 'CONTAINS', id);
    return {
      SPDXID: id,
      fileName: `.${f.path}`,
      checksums: [
        { algorithm: 'SHA1', checksumValue: f.sha1 },
        { algorithm: 'SHA256', checksumValue: f.sha256 },
      ],
      ...(f.source === 'jeos' ? { comment: 'made by jeos' } : f.source === 'workload' ? { comment: "jeos.yaml's workload.files" } : {}),
    };
  });

  return {
    spdxVersion: 'SPDX-2.3',
    dataLicense: 'CC0-1.0',
    SPDXID: 'SPDXRef-DOCUMENT',
    name: model.name,
    documentNamespace: '',
    creationInfo: {
      created: model.created,
      creators: [`Tool: jeos-${model.tool}`],
      comment: 'Made by jeos from the build: every Debian package of each tree, and every regular file left after the trim.',
    },
    packages,
    files,
    ...(model.licenceRefs.length
      ? { hasExtractedLicensingInfos: model.licenceRefs.map((r) => ({ licenseId: r.id, name: r.name, extractedText: r.text })) }
      : {}),
    relationships,
  };
}

/** The document's text: one element a line; its namespace a UUID derived from the rest of it. */
export function spdxText(model: SbomModel): string {
  const doc = spdxDocument(model);
  const namespace = `urn:uuid:${contentUuid('spdx', jsonLines(doc))}`;
  return jsonLines({ ...doc, documentNamespace: namespace });
}
