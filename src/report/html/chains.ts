/**
 * Why each kept path is there, as `jeos why /PATH` prints it: the chain of reasons back to an
 * entry point (the command, a unit, a rule…), from trim.json. One collapsed `<details>` per
 * package, so a reader opens the package they ask about instead of scrolling past every file.
 */
import type { TrimExplanation } from '../../trim/index.js';
import { describeReason, explainPath } from '../../trim/index.js';
import { anchor, count, esc } from './markup.js';

const NO_PACKAGE = '(not from a package)';

export function chainsSection(tree: string, explanation: TrimExplanation): string {
  const byPackage = new Map<string, string[]>();
  for (const path of Object.keys(explanation.kept).sort()) {
    const pkg = explanation.kept[path]!.pkg ?? NO_PACKAGE;
    (byPackage.get(pkg) ?? byPackage.set(pkg, []).get(pkg)!).push(path);
  }
  const names = [...byPackage.keys()].sort((a, b) => (a === NO_PACKAGE ? 1 : b === NO_PACKAGE ? -1 : a < b ? -1 : a > b ? 1 : 0));
  const blocks = names.map((pkg) => {
    const paths = byPackage.get(pkg)!;
    const items = paths.map((path) => {
      const { chain } = explainPath(explanation, path);
      const [first, ...rest] = chain;
      const steps = rest.map((s) => `<br>← <code>${esc(s.path)}</code>${s.pkg && s.pkg !== pkg ? ` (${esc(s.pkg)})` : ''}: ${esc(describeReason(s))}`);
      return `<li><code>${esc(path)}</code>: ${first ? esc(describeReason(first)) : ''}${steps.join('')}</li>`;
    });
    const lost = explanation.dropped[pkg]?.length ?? 0;
    const summary = `${esc(pkg)} <span class="n">${count(paths.length)} path${paths.length === 1 ? '' : 's'} kept${lost ? `, ${count(lost)} dropped` : ''}</span>`;
    return `<details id="${anchor(`why-${tree}`, pkg)}"><summary>${summary}</summary><ul class="chain">\n${items.join('\n')}\n</ul></details>`;
  });
  const gone = Object.keys(explanation.dropped)
    .filter((pkg) => !byPackage.has(pkg))
    .sort();
  if (gone.length) blocks.push(`<p>Nothing kept of ${gone.map((p) => `<code>${esc(p)}</code>`).join(', ')}: the trim dropped every file.</p>`);
  return blocks.join('\n');
}
