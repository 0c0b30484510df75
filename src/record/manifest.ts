import { readAccounts, type ImageTree, type TreeNode } from '../tree/index.js';
import type { TrimExplanation } from '../trim/index.js';
import { sha256 } from '../util/hash.js';
import type { ManifestEntry } from './types.js';

export interface ManifestInputs {
  /** Package name (or `name:arch`) → exact version, from the lock. */
  versions: ReadonlyMap<string, string>;
  /** Absolute paths the workload's files were written to (workload.files). */
  workloadFiles: ReadonlySet<string>;
  /** The trim's explanation of this tree; undefined when trim was off. */
  trim: TrimExplanation | undefined;
  /**
   * The package of paths jeos copied from a package that is not in the image's dpkg
   * database (a VM's kernel modules), by relative tree path.
   */
  packageOf?: (path: string) => string | undefined;
  /** Tree paths (relative) the outputs deliver beside the image rather than in it (a VM's /boot). */
  outside?: (path: string) => boolean;
}

/**
 * Every path of a tree with its metadata and provenance: the baseline that drift
 * audit, the SBOM and the report read. Sorted by path, so the same tree always gives
 * the same bytes.
 */
export function manifestOf(tree: ImageTree, inputs: ManifestInputs): ManifestEntry[] {
  const accounts = readAccounts(tree);
  const userOf = new Map([...accounts.users].map(([name, ids]) => [ids.uid, name]));
  const groupOf = new Map([...accounts.groups].map(([name, gid]) => [gid, name]));
  const digests = new Map<string, { size: number; sha256: string }>();
  const contentOf = (path: string, node: TreeNode) => {
    if (node.kind !== 'file') return undefined;
    let d = digests.get(path);
    if (!d) digests.set(path, (d = { size: node.data.length, sha256: sha256(node.data) }));
    return d;
  };

  const out: ManifestEntry[] = [];
  for (const [rel, node] of tree.entries()) {
    if (rel !== '' && inputs.outside?.(rel)) continue;
    const path = `/${rel}`;
    const linked = node.kind === 'hardlink' ? tree.get(node.target) : undefined;
    const content = node.kind === 'hardlink' ? (linked ? contentOf(node.target, linked) : undefined) : contentOf(rel, node);
    const owner = userOf.get(node.uid);
    const group = groupOf.get(node.gid);
    const pkg = node.pkg ?? inputs.packageOf?.(rel);
    const pkgName = pkg?.split(':')[0];
    const version = pkg ? (inputs.versions.get(pkg) ?? (pkgName ? inputs.versions.get(pkgName) : undefined)) : undefined;
    const reason = inputs.trim?.kept[path];
    out.push({
      path: rel === '' ? '/' : path,
      type: node.kind,
      mode: (node.mode & 0o7777).toString(8).padStart(4, '0'),
      uid: node.uid,
      gid: node.gid,
      ...(owner !== undefined ? { owner } : {}),
      ...(group !== undefined ? { group } : {}),
      ...(content ? { size: content.size, sha256: content.sha256 } : {}),
      ...(node.kind === 'symlink' ? { target: node.target } : node.kind === 'hardlink' ? { target: `/${node.target}` } : {}),
      ...(node.kind === 'char' || node.kind === 'block' ? { device: `${node.major}:${node.minor}` } : {}),
      source: pkg ? 'package' : inputs.workloadFiles.has(path) ? 'workload' : 'jeos',
      ...(pkgName ? { package: pkgName } : {}),
      ...(version ? { version } : {}),
      why: !inputs.trim ? 'untrimmed' : reason ? reason.why : node.kind === 'dir' ? 'parent' : 'unrecorded',
      ...(reason?.from ? { via: reason.from } : reason?.detail ? { via: reason.detail } : {}),
    });
  }
  return out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/** manifest.json's text: one entry a line, so that a diff of two manifests reads path by path. */
export function manifestText(trees: Record<string, ManifestEntry[] | undefined>, version: number): string {
  const parts: string[] = [];
  for (const [name, entries] of Object.entries(trees)) {
    if (!entries) continue;
    parts.push(`    ${JSON.stringify(name)}: [\n${entries.map((e) => `      ${JSON.stringify(e)}`).join(',\n')}\n    ]`);
  }
  return `{\n  "manifestVersion": ${version},\n  "trees": {\n${parts.join(',\n')}\n  }\n}\n`;
}
