/**
 * The dpkg database, as dpkg leaves it after installing the packages: the
 * status file (one paragraph per package, `Status: install ok installed`,
 * fields in dpkg's own order, Conffiles with the md5 of each conffile as it was
 * shipped), and per package in /var/lib/dpkg/info the file list, md5sums
 * (computed when the package has none), conffiles, maintainer scripts and other
 * control members (`name:arch` for Multi-Arch: same). With it `dpkg -l`,
 * `dpkg --verify` and image scanners see what is installed.
 */
import { createHash } from 'node:crypto';
import type { ImageTree } from '../../tree/index.js';
import type { UnpackedPackage } from '../../unpack/types.js';
import { actionsOf } from '../actions.js';
import { packageId } from '../scripts.js';
import type { EffectReport } from '../types.js';
import { Changes, madeMeta, type EffectContext } from './context.js';

/** dpkg's field order (lib/dpkg/parse.c); other fields follow in the order the package gave them. */
const FIELD_ORDER = [
  'Package', 'Essential', 'Protected', 'Status', 'Priority', 'Section', 'Installed-Size', 'Origin', 'Maintainer', 'Bugs',
  'Architecture', 'Multi-Arch', 'Source', 'Version', 'Config-Version', 'Replaces', 'Provides', 'Depends', 'Pre-Depends',
  'Recommends', 'Suggests', 'Breaks', 'Conflicts', 'Enhances', 'Conffiles', 'Description', 'Triggers-Pending', 'Triggers-Awaited',
];
const ORDER = new Map(FIELD_ORDER.map((f, i) => [f.toLowerCase(), i]));
/** Fields of an archive's Packages index that never reach the status file. */
const DROPPED = new Set(['status', 'filename', 'size', 'md5sum', 'sha1', 'sha256', 'sha512', 'description-md5', 'config-version', 'triggers-pending', 'triggers-awaited']);
const SCRIPTS = new Set(['preinst', 'postinst', 'prerm', 'postrm', 'config']);
const DB = 'var/lib/dpkg';

/** What dpkg-database needs to know about the packages as they were unpacked, before other effects ran. */
export interface ShippedState {
  /** Package id → conffile path → md5 of its shipped content. */
  conffileMd5: Map<string, Map<string, string>>;
  /** Package id → md5sums text, for packages that ship none. */
  computedMd5sums: Map<string, string>;
}

function md5(data: Buffer): string {
  return createHash('md5').update(data).digest('hex');
}

function readRegular(tree: ImageTree, path: string): Buffer | undefined {
  try {
    const node = tree.get(tree.resolve(path));
    if (node?.kind !== 'file' && node?.kind !== 'hardlink') return undefined;
    return tree.readFile(tree.resolve(path));
  } catch {
    return undefined;
  }
}

/** Taken at the start of the stage, so that later effects' changes do not leak into "as shipped" hashes. */
export function captureShippedState(tree: ImageTree, packages: UnpackedPackage[]): ShippedState {
  const conffileMd5 = new Map<string, Map<string, string>>();
  const computedMd5sums = new Map<string, string>();
  for (const pkg of packages) {
    const id = packageId(pkg);
    const sums = new Map<string, string>();
    for (const c of pkg.conffiles) {
      const data = readRegular(tree, c);
      if (data) sums.set(c, md5(data));
    }
    conffileMd5.set(id, sums);
    if (!pkg.controlFiles.has('md5sums')) {
      const conffiles = new Set(pkg.conffiles);
      const lines: string[] = [];
      for (const p of pkg.paths) {
        if (conffiles.has(p) || p === '/.') continue;
        const node = tree.get(tree.resolve(p));
        if (node?.kind !== 'file' && node?.kind !== 'hardlink') continue;
        const data = readRegular(tree, p);
        if (data) lines.push(`${md5(data)}  ${p.replace(/^\/+/, '')}\n`);
      }
      computedMd5sums.set(id, lines.join(''));
    }
  }
  return { conffileMd5, computedMd5sums };
}

/** Control values hold continuation lines without their leading space (see unpack's parseControl). */
function fieldValue(value: string): string {
  return value
    .split('\n')
    .map((l, i) => (i === 0 ? l : ` ${l}`))
    .join('\n');
}

export function statusParagraph(pkg: UnpackedPackage, conffiles: Map<string, string>): string {
  const fields: Array<[string, string]> = [];
  for (const [name, value] of pkg.control) {
    const key = name.toLowerCase();
    if (DROPPED.has(key)) continue;
    if ((key === 'essential' || key === 'protected') && value.trim() !== 'yes') continue;
    if (key === 'multi-arch' && value.trim() === 'no') continue;
    fields.push([ORDER.has(key) ? FIELD_ORDER[ORDER.get(key)!]! : name, value]);
  }
  fields.push(['Status', 'install ok installed']);
  const lines = pkg.conffiles.filter((c) => conffiles.has(c)).map((c) => ` ${c} ${conffiles.get(c)}`);
  if (lines.length) fields.push(['Conffiles', `\n${lines.join('\n')}`]);
  const rank = (name: string): number => ORDER.get(name.toLowerCase()) ?? FIELD_ORDER.length;
  const ordered = fields.map((f, i) => ({ f, i })).sort((a, b) => rank(a.f[0]) - rank(b.f[0]) || a.i - b.i);
  return ordered.map(({ f: [k, v] }) => (v.startsWith('\n') ? `${k}:${v}` : `${k}: ${fieldValue(v)}`)).join('\n') + '\n';
}

export function configureDpkgDatabase(ctx: EffectContext, shipped: ShippedState): EffectReport {
  const { tree, options } = ctx;
  const changes = new Changes();
  const dir = madeMeta(options, 0o755);
  for (const d of [DB, `${DB}/info`, `${DB}/updates`, `${DB}/triggers`, `${DB}/parts`, `${DB}/alternatives`]) {
    if (!tree.isDir(d)) {
      tree.mkdirp(d, dir);
      changes.add(d);
    }
  }
  const file = (path: string, data: string | Buffer, mode = 0o644): void => {
    tree.writeFile(path, data, madeMeta(options, mode));
    changes.add(path);
  };

  const paragraphs: string[] = [];
  for (const pkg of ctx.packages) {
    const id = packageId(pkg);
    paragraphs.push(statusParagraph(pkg, shipped.conffileMd5.get(id) ?? new Map()));
    const paths = pkg.paths[0] === '/.' ? pkg.paths : ['/.', ...pkg.paths];
    file(`${DB}/info/${id}.list`, paths.map((p) => `${p}\n`).join(''));
    file(`${DB}/info/${id}.md5sums`, pkg.controlFiles.get('md5sums') ?? shipped.computedMd5sums.get(id) ?? '');
    for (const [member, data] of [...pkg.controlFiles].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
      if (member === 'control' || member === 'md5sums') continue;
      file(`${DB}/info/${id}.${member}`, data, SCRIPTS.has(member) ? 0o755 : 0o644);
    }
  }
  file(`${DB}/status`, paragraphs.join('\n'));
  file(`${DB}/available`, '');
  file(`${DB}/info/format`, '1\n');
  // Diversions made by the scripts (dpkg-divert --add), in the order they ran: path, diverted-to, package (":" for local).
  const diversions = actionsOf(ctx.actions, 'divert').filter((r) => r.failed === undefined);
  file(`${DB}/diversions`, diversions.map(({ action: d }) => `${d.path}\n${d.to}\n${d.package ?? ':'}\n`).join(''));
  if (!tree.get(`${DB}/statoverride`)) file(`${DB}/statoverride`, '');

  const foreign = [...new Set(ctx.packages.map((p) => p.architecture).filter((a) => a !== 'all' && a !== options.architecture))].sort();
  if (foreign.length) file(`${DB}/arch`, [options.architecture, ...foreign].map((a) => `${a}\n`).join(''));

  const computed = [...shipped.computedMd5sums.keys()];
  return changes.report(
    'dpkg-database',
    `${ctx.packages.length} packages installed in /var/lib/dpkg/status` + (computed.length ? `; md5sums computed for ${computed.join(', ')}` : ''),
  );
}
