import type { Resolution } from '../resolve/types.js';
import { formatKiB, printJson, table } from './format.js';

export interface ClosureRow {
  name: string;
  version: string;
  architecture: string;
  suite: string;
  installedSize: number;
  sha256: string;
  filename: string;
  size: number;
}

export function rowsOf(resolution: Resolution): ClosureRow[] {
  return resolution.packages.map(({ record: r }) => ({
    name: r.name,
    version: r.version,
    architecture: r.architecture,
    suite: r.suite,
    installedSize: r.installedSize,
    sha256: r.sha256,
    filename: r.filename,
    size: r.size,
  }));
}

/** The closure, largest first, with the total: as `jeos lock` and `jeos resolve` print it. */
export function printClosure(rows: ClosureRow[], total: number, json: boolean, extra: Record<string, unknown> = {}): void {
  if (json) {
    printJson({ packages: rows, totalInstalledSize: total, ...extra });
    return;
  }
  const sorted = [...rows].sort((a, b) => b.installedSize - a.installedSize || (a.name < b.name ? -1 : 1));
  console.log(
    table([
      ['package', 'version', 'suite', 'installed'],
      ...sorted.map((r) => [r.name, r.version, r.suite, formatKiB(r.installedSize).padStart(9)]),
    ]),
  );
  console.log(`${rows.length} packages, ${formatKiB(total)} installed (${total} KiB)`);
}

/** For --json: `skippedRecommends` when some Recommends were skipped (absent otherwise, so other output is unchanged). */
export function skippedRecommendsJson(resolution: Resolution): Record<string, unknown> {
  return resolution.skippedRecommends.length ? { skippedRecommends: resolution.skippedRecommends } : {};
}

/** The Recommends left out (nothing satisfies them, or they cannot be installed with what is required), with the reason. */
export function printSkippedRecommends(resolution: Resolution): void {
  const skipped = resolution.skippedRecommends;
  if (!skipped.length) return;
  console.log(`skipped ${skipped.length} Recommends (nothing satisfies them, or they cannot be installed with what is required):`);
  for (const s of skipped) console.log(`  ${s.owner} recommends ${s.relation}: ${s.reason}`);
}
