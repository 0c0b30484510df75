/**
 * The format-neutral SBOM: every Debian package of every tree once (with its purl, source
 * package, licence, .deb digest, trim state and dependencies), and every regular file of
 * each tree with its SHA-256 and SHA-1. SPDX and CycloneDX are both written from it.
 */
import { createHash } from 'node:crypto';
import { PackageURL } from 'packageurl-js';
import { JeosError } from '../../errors.js';
import { sha256 } from '../../util/hash.js';
import type { VariantName } from '../../record/index.js';
import { paragraphs, readCopyright } from './copyright.js';
import type { DeclaredLicence, LicenceRef, SbomFile, SbomInputs, SbomLockedPackage, SbomModel, SbomPackage, SbomTree } from './types.js';

const STATUS = '/var/lib/dpkg/status';

/**
 * Debian's release numbers by codename: tools that match vulnerabilities by purl read the
 * `distro` qualifier as `debian-<release>`. A codename missing here (sid) stays a name.
 */
const RELEASES: Readonly<Record<string, string>> = { buster: '10', bullseye: '11', bookworm: '12', trixie: '13', forky: '14', duke: '15' };

export function distroQualifier(codename: string): string {
  const base = codename.split(/[-/]/)[0]!.toLowerCase();
  return `debian-${RELEASES[base] ?? base}`;
}

export function debPurl(name: string, version: string, arch: string, distro: string): string {
  return new PackageURL('deb', 'debian', name, version, { arch, distro }, undefined).toString();
}

/** A package as the tree's dpkg status lists it. */
interface Installed {
  name: string;
  version: string;
  architecture: string;
  source?: { name: string; version: string };
}

function installedPackages(tree: SbomTree): Installed[] {
  const status = tree.read(STATUS);
  if (!status) return [];
  const out: Installed[] = [];
  for (const p of paragraphs(status.toString('utf8'))) {
    const name = p.get('package');
    const version = p.get('version');
    if (!name || !version || !/\binstalled$/.test(p.get('status') ?? '')) continue;
    // Debian Policy 5.6.1: no Source field means the source has the binary's name; no version in it, the binary's version.
    const src = /^(\S+)(?:\s+\((.+)\))?$/.exec(p.get('source')?.trim() ?? '');
    out.push({ name, version, architecture: p.get('architecture') ?? 'all', source: { name: src?.[1] ?? name, version: src?.[2] ?? version } });
  }
  return out;
}

const keyOf = (name: string, architecture: string, version: string) => `${name}:${architecture}@${version}`;
const byString = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** A LicenseRef id: the SPDX idstring alphabet is letters, digits, `.` and `-`. */
const refId = (name: string) => `LicenseRef-${name.replace(/[^A-Za-z0-9.]+/g, '-').replace(/^-|-$/g, '')}`;

export function sbomModel(inputs: SbomInputs): SbomModel {
  const distro = distroQualifier(inputs.codename);
  const locked = new Map<string, SbomLockedPackage>();
  for (const p of inputs.packages) locked.set(`${p.name}:${p.architecture}`, p);
  const lockedByName = new Map(inputs.packages.map((p) => [p.name, p]));

  // Which packages each tree holds: its dpkg status, and the VM's kernel.
  const packages = new Map<string, SbomPackage>();
  const copyrights = new Map<string, { tree: SbomTree; name: string }>();
  const keyByName = new Map<string, string>();
  const keyByNameVersion = new Map<string, string>();
  const add = (tree: SbomTree, pkg: Installed, kernel?: { droppedFiles: number }) => {
    const key = keyOf(pkg.name, pkg.architecture, pkg.version);
    let entry = packages.get(key);
    if (!entry) {
      const deb = locked.get(`${pkg.name}:${pkg.architecture}`);
      const fromLock = deb && deb.version === pkg.version ? deb : undefined;
      entry = {
        key,
        name: pkg.name,
        version: pkg.version,
        architecture: pkg.architecture,
        purl: debPurl(pkg.name, pkg.version, pkg.architecture, distro),
        ...(fromLock ? { debFile: fromLock.filename.split('/').pop()!, debSha256: fromLock.sha256 } : {}),
        ...(pkg.source ? { source: { ...pkg.source, purl: debPurl(pkg.source.name, pkg.source.version, 'source', distro) } } : {}),
        licence: { expression: 'NOASSERTION', note: '' },
        kernel: !!kernel,
        trees: [],
        dependsOn: [],
      };
      packages.set(key, entry);
      keyByName.set(pkg.name, key);
      keyByNameVersion.set(`${pkg.name}@${pkg.version}`, key);
    }
    const losses = kernel
      ? { keptFiles: tree.entries.filter((e) => e.package === pkg.name && e.type === 'file').length, droppedFiles: kernel.droppedFiles }
      : // The trim names a Multi-Arch: same package with its architecture, as dpkg's file lists do.
        tree.trim?.packages.find((l) => l.name === pkg.name || l.name === `${pkg.name}:${pkg.architecture}`);
    entry.trees.push({
      tree: tree.name,
      trimmed: !!losses && losses.droppedFiles > 0,
      ...(losses && losses.droppedFiles > 0 ? { keptFiles: losses.keptFiles, droppedFiles: losses.droppedFiles } : {}),
    });
    const doc = `/usr/share/doc/${pkg.name}/copyright`;
    if (!copyrights.has(key) && tree.read(doc)) copyrights.set(key, { tree, name: pkg.name });
  };
  for (const tree of inputs.trees) {
    for (const pkg of installedPackages(tree)) add(tree, pkg);
    const kernel = tree.kernel ? lockedByName.get(tree.kernel.package) : undefined;
    if (kernel) add(tree, { name: kernel.name, version: kernel.version, architecture: kernel.architecture }, tree.kernel);
  }

  const licenceRefs = licences(packages, copyrights);

  // The lock's relations: `X: relation` in P's neededBy says X depends on P.
  for (const p of inputs.packages) {
    const target = keyByName.get(p.name);
    if (!target) continue;
    for (const reason of p.neededBy) {
      const from = /^([^\s:()]+): /.exec(reason)?.[1];
      const dependent = from ? packages.get(keyByName.get(from) ?? '') : undefined;
      if (dependent && !dependent.dependsOn.includes(target)) dependent.dependsOn.push(target);
    }
  }
  for (const p of packages.values()) p.dependsOn.sort(byString);

  const files: SbomFile[] = [];
  for (const tree of inputs.trees) {
    for (const e of tree.entries) {
      if ((e.type !== 'file' && e.type !== 'hardlink') || e.sha256 === undefined) continue;
      const data = tree.read(e.path);
      if (!data) {
        throw new JeosError('E_SBOM_FILE', `the SBOM cannot read ${e.path} of the ${tree.name} tree, which its manifest lists`, {
          hint: 'this is a bug in jeos: the manifest and the tree disagree',
        });
      }
      const pkgKey = e.package ? (e.version ? keyByNameVersion.get(`${e.package}@${e.version}`) : keyByName.get(e.package)) : undefined;
      files.push({
        tree: tree.name,
        path: e.path,
        size: e.size ?? data.length,
        sha256: e.sha256,
        sha1: createHash('sha1').update(data).digest('hex'),
        ...(pkgKey ? { package: pkgKey } : {}),
        source: e.source,
      });
    }
  }

  return {
    name: inputs.name,
    tool: inputs.tool,
    created: new Date(inputs.epoch * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z'),
    lockDigest: inputs.lockDigest,
    trees: inputs.trees.map((t) => t.name as VariantName),
    packages: [...packages.values()].sort((a, b) => byString(a.key, b.key)),
    files,
    licenceRefs,
  };
}

/**
 * Each package's declared licence, from its copyright file; short names without an SPDX
 * identifier become LicenseRefs, one per distinct text (named by the short name, and by a
 * digest of the text too when two packages give different texts for the same name).
 */
function licences(packages: Map<string, SbomPackage>, copyrights: Map<string, { tree: SbomTree; name: string }>): LicenceRef[] {
  const NO_TEXT = (name: string) => `The licence named "${name}" in a Debian copyright file that gives no text for it.`;
  const read = new Map<string, ReturnType<typeof readCopyright>>();
  const textsById = new Map<string, Set<string>>();
  for (const [key, { tree, name }] of copyrights) {
    const parsed = readCopyright(tree.read(`/usr/share/doc/${name}/copyright`)!.toString('utf8'));
    read.set(key, parsed);
    for (const u of parsed.unknown) {
      const id = refId(u.name);
      textsById.set(id, (textsById.get(id) ?? new Set()).add(u.text ?? NO_TEXT(u.name)));
    }
  }
  const refs = new Map<string, LicenceRef>();
  const idFor = (name: string, text: string) => {
    const base = refId(name);
    const id = textsById.get(base)!.size > 1 ? `${base}-${sha256(text).slice(0, 8)}` : base;
    if (!refs.has(id)) refs.set(id, { id, name, text });
    return id;
  };
  for (const p of packages.values()) {
    const doc = `/usr/share/doc/${p.name}/copyright`;
    const parsed = read.get(p.key);
    let licence: DeclaredLicence;
    if (!parsed && p.trees.every((t) => t.keptFiles === 0)) licence = { expression: 'NOASSERTION', note: `the trim left none of its files, ${doc} included` };
    else if (!parsed) licence = { expression: 'NOASSERTION', note: `no ${doc} in the image` };
    else if (!parsed.machineReadable) licence = { expression: 'NOASSERTION', note: `${doc} is not machine-readable (DEP-5)` };
    else if (!parsed.expressions.length) licence = { expression: 'NOASSERTION', note: `${doc} names no licence` };
    else {
      const texts = new Map(parsed.unknown.map((u) => [u.name, u.text ?? NO_TEXT(u.name)]));
      const resolved = parsed.expressions.map((e) => e.replace(/\0([^\0]+)\0/g, (_, name: string) => idFor(name, texts.get(name)!)));
      const distinct = [...new Set(resolved)];
      const expression = distinct.length === 1 ? distinct[0]! : distinct.map((e) => (/ (AND|OR|WITH) /.test(e) ? `(${e})` : e)).join(' AND ');
      licence = { expression, note: `from ${doc}` };
    }
    p.licence = licence;
  }
  return [...refs.values()].sort((a, b) => byString(a.id, b.id));
}
