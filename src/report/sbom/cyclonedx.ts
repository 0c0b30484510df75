/**
 * CycloneDX 1.6 (JSON) from the SBOM model, through the CycloneDX project's own library
 * (model and normaliser), so the document follows the specification as that library does.
 *
 * metadata.component is the container image; the VM, when built, is a top-level component
 * of type operating-system. Debian packages are library components (the kernel an
 * operating-system one) with their purl as bom-ref; files are file components whose
 * `jeos:tree` and `jeos:package` properties say which tree holds them and which package
 * shipped them. The dependency graph: each tree on its packages, each package on the
 * packages the lock says it needs.
 */
// The library's parts by subpath: its index also loads the validators, which look for their
// schema files beside the library and so cannot be bundled into the CLI.
import * as Enums from '@cyclonedx/cyclonedx-library/Enums';
import * as Models from '@cyclonedx/cyclonedx-library/Models';
import * as Serialize from '@cyclonedx/cyclonedx-library/Serialize';
import * as Spec from '@cyclonedx/cyclonedx-library/Spec';
import type { VariantName } from '../../record/index.js';
import { treeSummary } from './spdx.js';
import { contentUuid, jsonLines } from './text.js';
import type { SbomModel } from './types.js';

const prop = (name: string, value: string) => new Models.Property(name, value);

function bomOf(model: SbomModel): Models.Bom {
  const bom = new Models.Bom();
  const trees = new Map<VariantName, Models.Component>();
  for (const tree of model.trees) {
    const vm = tree === 'vm';
    trees.set(
      tree,
      new Models.Component(vm ? Enums.ComponentType.OperatingSystem : Enums.ComponentType.Container, vm ? `${model.name}-vm` : model.name, {
        bomRef: `jeos:${tree}`,
        version: model.lockDigest.slice(0, 12),
        description: vm ? 'The VM image: the tree of out/vm (the initramfs or disk), booted by the kernel component.' : 'The container image: the tree of rootfs.tar and the OCI image.',
      }),
    );
  }
  bom.metadata.timestamp = new Date(Date.parse(model.created));
  bom.metadata.tools.components.add(new Models.Component(Enums.ComponentType.Application, 'jeos', { version: model.tool }));
  bom.metadata.component = trees.get('image') ?? trees.values().next().value;
  for (const c of trees.values()) if (c !== bom.metadata.component) bom.components.add(c);

  const debian = new Models.OrganizationalEntity({ name: 'Debian' });
  const components = new Map<string, Models.Component>();
  for (const p of model.packages) {
    const c = new Models.Component(p.kernel ? Enums.ComponentType.OperatingSystem : Enums.ComponentType.Library, p.name, {
      bomRef: p.purl,
      version: p.version,
      purl: p.purl,
      supplier: debian,
      properties: new Models.PropertyRepository([
        ...(p.source ? [prop('jeos:source', p.source.purl)] : []),
        prop('jeos:licence', p.licence.note),
        prop('jeos:trees', treeSummary(p)),
        ...(p.debFile ? [prop('jeos:deb', p.debFile)] : []),
      ]),
    });
    if (p.debSha256) c.hashes.set(Enums.HashAlgorithm['SHA-256'], p.debSha256);
    if (p.licence.expression !== 'NOASSERTION') {
      const licence = new Models.LicenseExpression(p.licence.expression);
      licence.acknowledgement = Enums.LicenseAcknowledgement.Declared;
      c.licenses.add(licence);
    }
    components.set(p.key, c);
    bom.components.add(c);
    for (const t of p.trees) trees.get(t.tree)!.dependencies.add(c.bomRef);
  }
  for (const p of model.packages) for (const d of p.dependsOn) components.get(p.key)!.dependencies.add(components.get(d)!.bomRef);

  for (const f of model.files) {
    const c = new Models.Component(Enums.ComponentType.File, f.path, {
      bomRef: `file:${f.tree}:${f.path}`,
      properties: new Models.PropertyRepository([
        prop('jeos:tree', f.tree),
        prop('jeos:origin', f.source),
        ...(f.package ? [prop('jeos:package', components.get(f.package)!.bomRef.value!)] : []),
      ]),
    });
    c.hashes.set(Enums.HashAlgorithm['SHA-1'], f.sha1);
    c.hashes.set(Enums.HashAlgorithm['SHA-256'], f.sha256);
    bom.components.add(c);
  }
  return bom;
}

/** The document's text: one component a line; its serial number a UUID derived from the rest of it. */
export function cyclonedxText(model: SbomModel): string {
  const bom = bomOf(model);
  const normalizer = new Serialize.JSON.Normalize.Factory(Spec.Spec1dot6).makeForBom();
  const text = () => jsonLines(normalizer.normalize(bom, { sortLists: true }) as object);
  bom.serialNumber = `urn:uuid:${contentUuid('cyclonedx', text())}`;
  return text();
}
