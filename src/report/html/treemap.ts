/**
 * The size treemaps: package → directory → file for what a tree keeps, package by package
 * for what the trim dropped. d3-hierarchy lays them out; they are written here as static SVG
 * (a rectangle per file, its `<title>` the tooltip), so the report needs no script to show them.
 */
import { hierarchy, treemap, treemapSquarify, type HierarchyRectangularNode } from 'd3-hierarchy';
import type { ManifestEntry } from '../../record/index.js';
import type { TrimExplanation, TrimRecord } from '../../trim/index.js';
import { bytes, coord, count, esc, hueOf } from './markup.js';

/** The drawing's size in SVG units; the page scales it to its width. */
const WIDTH = 1000;
/** Height of a package's header strip, where its name goes. */
const HEADER = 14;

interface Node {
  name: string;
  kind: 'root' | 'package' | 'dir' | 'file' | 'dropped';
  /** Files: the absolute path. */
  path?: string;
  size?: number;
  /** Dropped: how many files. */
  files?: number;
  children?: Node[];
}

/** Where a manifest file is drawn: under its package, or under who else put it there. */
export function groupOf(e: Pick<ManifestEntry, 'package' | 'source'>): string {
  if (e.package) return e.package;
  return e.source === 'workload' ? '(workload files)' : '(made by jeos)';
}

/** A package's colours from its hue; what no package brought (jeos's files, the workload's) is grey-blue. */
const colour = (group: string, s: number, l: number) => (group.startsWith('(') ? `hsl(215 12% ${l}%)` : `hsl(${hueOf(group.split(':')[0]!)} ${s}% ${l}%)`);

const byName = (a: Node, b: Node) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

/** A package's files as a directory tree; a directory holding only one directory is merged with it (usr/lib/x86_64-linux-gnu). */
function directoryTree(pkg: string, files: ManifestEntry[]): Node {
  const root: Node = { name: pkg, kind: 'package', children: [] };
  for (const f of files) {
    const parts = f.path.split('/').filter(Boolean);
    let at = root;
    for (const dir of parts.slice(0, -1)) {
      let next = at.children!.find((c) => c.kind === 'dir' && c.name === dir);
      if (!next) at.children!.push((next = { name: dir, kind: 'dir', children: [] }));
      at = next;
    }
    at.children!.push({ name: parts[parts.length - 1] ?? f.path, kind: 'file', path: f.path, size: f.size ?? 0 });
  }
  const merge = (n: Node): Node => {
    if (!n.children) return n;
    n.children = n.children.map(merge);
    const only = n.children[0];
    if (n.kind === 'dir' && n.children.length === 1 && only!.kind === 'dir') return { ...only!, name: `${n.name}/${only!.name}` };
    return n;
  };
  return merge(root);
}

function layout(root: Node, height: number): HierarchyRectangularNode<Node> {
  const h = hierarchy(root)
    .sum((d) => (d.kind === 'file' || d.kind === 'dropped' ? d.size ?? 0 : 0))
    // Largest first, ties by name: the same input always gives the same picture.
    .sort((a, b) => (b.value ?? 0) - (a.value ?? 0) || byName(a.data, b.data));
  return treemap<Node>()
    .tile(treemapSquarify)
    .size([WIDTH, height])
    .paddingOuter(1)
    .paddingTop((n) => (n.depth === 1 ? HEADER : 1))
    .paddingInner(1)(h);
}

const fits = (n: HierarchyRectangularNode<Node>, text: string, minHeight: number) =>
  n.x1 - n.x0 >= Math.min(text.length, 4) * 6.5 + 4 && n.y1 - n.y0 >= minHeight;

/** Text cut to what fits a rectangle's width at 11 units a line. */
function label(n: HierarchyRectangularNode<Node>, text: string): string {
  const room = Math.floor((n.x1 - n.x0 - 4) / 6.2);
  return text.length <= room ? text : `${text.slice(0, Math.max(room - 1, 1))}…`;
}

const rect = (n: HierarchyRectangularNode<Node>, attrs: string, title: string) =>
  `<rect x="${coord(n.x0)}" y="${coord(n.y0)}" width="${coord(n.x1 - n.x0)}" height="${coord(n.y1 - n.y0)}" ${attrs}><title>${esc(title)}</title></rect>`;

function svg(root: HierarchyRectangularNode<Node>, height: number, caption: string, draw: (n: HierarchyRectangularNode<Node>, out: string[]) => void): string {
  const out: string[] = [];
  for (const n of root.descendants()) draw(n, out);
  return `<figure><svg class="treemap" viewBox="0 0 ${WIDTH} ${height}" role="img" aria-label="${esc(caption)}">\n${out.join('\n')}\n</svg><figcaption>${esc(caption)}</figcaption></figure>`;
}

/** A package's box: its header strip carries the name (without a Multi-Arch `:arch`), its title the figures. */
function packageHeader(n: HierarchyRectangularNode<Node>, out: string[], title: string, fill: string, name = n.data.name): void {
  out.push(rect(n, `class="p" fill="${fill}"`, title));
  if (fits(n, name, HEADER)) out.push(`<text x="${coord(n.x0 + 3)}" y="${coord(n.y0 + 11)}">${esc(label(n, name))}</text>`);
}

/**
 * What a tree keeps: one rectangle per regular file of the manifest (a hard link adds no
 * bytes and is not drawn), in its package's colour, sized by its bytes.
 */
export function keptTreemap(entries: readonly ManifestEntry[], caption: string, height = 560): string {
  const groups = new Map<string, ManifestEntry[]>();
  for (const e of entries) {
    if (e.type !== 'file') continue;
    const g = groupOf(e);
    (groups.get(g) ?? groups.set(g, []).get(g)!).push(e);
  }
  const root: Node = { name: '', kind: 'root', children: [...groups].map(([pkg, fs]) => directoryTree(pkg, fs)).sort(byName) };
  const pkgBytes = new Map<string, number>();
  const laid = layout(root, height);
  for (const p of laid.children ?? []) pkgBytes.set(p.data.name, p.value ?? 0);
  return svg(laid, height, caption, (n, out) => {
    if (n.depth === 0) return;
    const pkg = n.ancestors().find((a) => a.depth === 1)!.data.name;
    if (n.data.kind === 'package') {
      const fileCount = groups.get(pkg)!.length;
      packageHeader(n, out, `${pkg}: ${bytes(pkgBytes.get(pkg) ?? 0)} in ${count(fileCount)} file${fileCount === 1 ? '' : 's'}`, colour(pkg, 45, 45));
    } else if (n.data.kind === 'dir') {
      const dir = n.ancestors().reverse().slice(2).map((a) => a.data.name).join('/');
      out.push(rect(n, `class="d" fill="${colour(pkg, 40, 78)}"`, `/${dir}/ (${pkg}): ${bytes(n.value ?? 0)}`));
    } else if (n.data.kind === 'file') {
      // Lightness by depth tells neighbouring files of different directories apart.
      const light = 60 + ((n.depth * 7) % 21);
      out.push(rect(n, `class="f" fill="${colour(pkg, 55, light)}"`, `${n.data.path} (${pkg}): ${bytes(n.data.size ?? 0)}`));
      if (fits(n, n.data.name, 13) && n.x1 - n.x0 > 50) out.push(`<text class="fl" x="${coord(n.x0 + 2)}" y="${coord(n.y0 + 10)}">${esc(label(n, n.data.name))}</text>`);
    }
  });
}

/**
 * What the trim dropped: package → directory → file, each file's box sized by its bytes, when
 * trim.json has the sizes (`droppedSizes`); from an older trim.json, one box per package.
 */
export function droppedTreemap(packages: TrimRecord['packages'], caption: string, explanation?: TrimExplanation, height = 300): string {
  const sizes = explanation?.droppedSizes;
  const pathsOf = (name: string) => explanation?.dropped[name] ?? explanation?.dropped[name.split(':')[0]!] ?? [];
  const root: Node = {
    name: '',
    kind: 'root',
    children: packages
      .filter((p) => p.droppedBytes > 0)
      .map((p): Node => {
        const files = sizes ? pathsOf(p.name).filter((f) => (sizes[f] ?? 0) > 0) : [];
        if (!files.length) return { name: p.name, kind: 'package', files: p.droppedFiles, size: p.droppedBytes, children: [{ name: p.name, kind: 'dropped', size: p.droppedBytes, files: p.droppedFiles }] };
        const tree = directoryTree(p.name, files.map((f) => ({ path: f, size: sizes![f] }) as ManifestEntry));
        return { ...tree, files: p.droppedFiles, size: p.droppedBytes };
      })
      .sort(byName),
  };
  return svg(layout(root, height), height, caption, (n, out) => {
    const pkg = n.ancestors().reverse()[1]?.data.name ?? '';
    if (n.data.kind === 'package') {
      const lost = `${count(n.data.files ?? 0)} file${n.data.files === 1 ? '' : 's'}, ${bytes(n.data.size ?? 0)}`;
      packageHeader(n, out, `${n.data.name} lost ${lost}`, colour(n.data.name, 45, 45), n.data.name.split(':')[0]!);
    } else if (n.data.kind === 'dropped') {
      out.push(rect(n, 'class="x"', `${n.data.name}: dropped ${count(n.data.files ?? 0)} file${n.data.files === 1 ? '' : 's'}, ${bytes(n.data.size ?? 0)}`));
    } else if (n.data.kind === 'dir') {
      const dir = n.ancestors().reverse().slice(2).map((a) => a.data.name).join('/');
      out.push(rect(n, 'class="xd"', `dropped /${dir}/ (${pkg}): ${bytes(n.value ?? 0)}`));
    } else if (n.data.kind === 'file') {
      out.push(rect(n, 'class="x"', `dropped ${n.data.path} (${pkg}): ${bytes(n.data.size ?? 0)}`));
    }
  });
}
