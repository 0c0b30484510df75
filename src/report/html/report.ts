/**
 * out/report.html: the build for a person to read, one self-contained file. Inline CSS and
 * SVG, no script, nothing fetched (a Content-Security-Policy says so to the browser too),
 * and nothing in it but what the record says, so two builds of the same inputs give the same bytes.
 */
import { bytes, count, esc, table } from './markup.js';
import { chainsSection } from './chains.js';
import { sbomSummary } from './sbom-summary.js';
import { packagesSection, postureSection, sbomSection, totalsSection, TREE_TITLE, variantsOf } from './sections.js';
import { STYLE } from './style.js';
import { droppedTreemap, keptTreemap } from './treemap.js';
import type { ReportInputs } from './types.js';

/** The browser may load nothing: no script, no image, no font, no frame, no link out. Inline styles only. */
const POLICY = "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'";

function sizeSection(inputs: ReportInputs): string {
  const out: string[] = [
    '<p class="legend">One rectangle per regular file, sized by its bytes, grouped by package (one colour each) and directory; hover for its path.' +
      '<span style="background:#8c8c8c"></span>dropped by the trim, one rectangle per file sized by its bytes, grouped the same way (trim.json\'s <code>droppedSizes</code>).</p>',
  ];
  for (const [name, v] of variantsOf(inputs.record)) {
    const entries = inputs.manifest[name] ?? [];
    const files = entries.filter((e) => e.type === 'file');
    const total = bytes(files.reduce((n, e) => n + (e.size ?? 0), 0));
    out.push(`<h3 id="size-${name}">The ${TREE_TITLE[name]}: ${count(files.length)} files, ${total}</h3>`);
    out.push(keptTreemap(entries, `What the ${TREE_TITLE[name]} holds: ${count(files.length)} regular files, ${total}.`));
    const lost = v.trim?.packages.filter((p) => p.droppedBytes > 0) ?? [];
    if (v.trim && lost.length) {
      out.push(droppedTreemap(lost, `What the trim dropped from the ${TREE_TITLE[name]}: ${count(v.trim.dropped.files)} files, ${bytes(v.trim.dropped.bytes)}, from ${count(lost.length)} packages.`, inputs.trim[name]));
    }
  }
  return out.join('\n');
}

/** The largest files the trim dropped, per tree, with their sizes (trim.json's droppedSizes). */
function droppedFilesSection(inputs: ReportInputs, top = 25): string {
  const out: string[] = [];
  for (const [name] of variantsOf(inputs.record)) {
    const e = inputs.trim[name];
    if (!e?.droppedSizes) continue;
    const packageOf = new Map(Object.entries(e.dropped).flatMap(([pkg, paths]) => paths.map((p) => [p, pkg] as const)));
    const files = Object.entries(e.droppedSizes).sort(([a, x], [b, y]) => y - x || (a < b ? -1 : 1));
    if (!files.length) continue;
    const rows = files.slice(0, top).map(([path, size]) => [`<code>${esc(path)}</code>`, esc(packageOf.get(path) ?? '—'), `${count(size)} (${bytes(size)})`]);
    out.push(`<h3>The largest files dropped from the ${TREE_TITLE[name]}</h3>`);
    out.push(table(['path', 'package', 'bytes'], rows, `dropped-${name}`));
    if (files.length > top) out.push(`<p class="n">${count(files.length - top)} more in <code>trim.json</code> (<code>droppedSizes</code>).</p>`);
  }
  return out.join('\n');
}

function outputsSection(inputs: ReportInputs): string {
  const rows = inputs.record.outputs.map((o) => [
    esc(o.format),
    `<code>out/${esc(o.path)}</code>`,
    esc(TREE_TITLE[o.variant]),
    count(o.files.length),
    bytes(o.files.reduce((n, f) => n + f.size, 0)),
  ]);
  return table(['format', 'path', 'tree', 'files', 'size'], rows);
}

function whySection(inputs: ReportInputs): string {
  const out: string[] = [];
  for (const [name] of variantsOf(inputs.record)) {
    const explanation = inputs.trim[name];
    out.push(`<h3>The ${TREE_TITLE[name]}</h3>`);
    out.push(
      explanation
        ? `<p class="n">As <code>jeos why /PATH${name === 'vm' ? ' --vm' : ''}</code> prints it: each kept path, what kept it, and what kept that, back to the workload.</p>\n${chainsSection(name, explanation)}`
        : '<p>Not trimmed: every file of every package is there.</p>',
    );
  }
  return out.join('\n');
}

export function reportHtml(inputs: ReportInputs): string {
  const { record } = inputs;
  const sbom = sbomSummary(inputs.spdx);
  const built = new Date(record.sourceDateEpoch * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
  const image = record.image;
  const figures = [
    [count(record.packages.length), 'packages in the image'],
    [count(image.tree.files), 'files in the image'],
    [bytes(image.tree.bytes), 'in the image'],
    ...(image.trim ? [[bytes(image.trim.dropped.bytes), `dropped by the trim (${count(image.trim.dropped.files)} files)`]] : []),
    [count(image.setuid.length), 'setuid/setgid files in the image'],
  ];
  const title = `${record.name} ${record.version}`;
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${POLICY}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="jeos ${esc(record.jeos)}">
<title>${esc(title)}: jeos build report</title>
<style>${STYLE}</style>
</head>
<body>
<header>
<h1>${esc(record.name)} <small>${esc(record.version)}</small></h1>
<p class="meta">${esc(record.architecture)} · built by jeos ${esc(record.jeos)} · SOURCE_DATE_EPOCH ${esc(record.sourceDateEpoch)} (${esc(built)}) · jeos.lock <code>${esc(record.lockDigest.slice(0, 12))}</code></p>
<nav><a href="#size">Size</a><a href="#trim">Trim</a><a href="#packages">Packages</a><a href="#posture">Security</a><a href="#sbom">SBOM</a><a href="#why">Why each file</a><a href="#outputs">Outputs</a></nav>
<ul class="figures">${figures.map(([n, what]) => `<li><b>${esc(n!)}</b>${esc(what!)}</li>`).join('')}</ul>
</header>
<main>
<section id="size"><h2>What takes the space</h2>
${sizeSection(inputs)}
</section>
<section id="trim"><h2>The trim</h2>
${totalsSection(record)}
${droppedFilesSection(inputs)}
</section>
<section id="packages"><h2>Packages</h2>
${packagesSection(inputs.lock, sbom)}
</section>
<section id="posture"><h2>Security posture</h2>
${postureSection(record, inputs.ports, inputs.exposure)}
</section>
<section id="sbom"><h2>SBOM</h2>
${sbomSection(sbom, variantsOf(record).map(([n]) => n))}
</section>
<section id="why"><h2>Why each file is there</h2>
${whySection(inputs)}
</section>
<section id="outputs"><h2>Outputs</h2>
${outputsSection(inputs)}
</section>
</main>
<footer>Made by jeos ${esc(record.jeos)} from <code>build.json</code>, <code>manifest.json</code>, <code>trim.json</code>, <code>sbom.spdx.json</code> and <code>jeos.lock</code>. Every figure here is in those files.</footer>
</body>
</html>
`;
}
