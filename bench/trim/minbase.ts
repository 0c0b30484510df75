/**
 * The conventional image bench/trim.ts compares with: `mmdebstrap --variant=minbase --include=PKGS`
 * for trixie with trixie-updates and trixie-security, from the mirrors in this machine's apt
 * configuration (or JEOS_MIRROR / JEOS_SECURITY_MIRROR), measured as an unpacked tree.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { trixieSources } from '../trixie-sources.js';
import { treeSize, type TreeSize } from './size.js';

export interface Minbase {
  packages: string[];
  size: TreeSize;
  ms: number;
  /** How many packages dpkg lists as installed in the tree. */
  installed: number;
}

export async function minbaseWith(packages: string[], work: string, name: string): Promise<Minbase> {
  const sources = await trixieSources();
  const root = join(work, `minbase-${name}`);
  const t = performance.now();
  const r = spawnSync('mmdebstrap', ['--quiet', '--variant=minbase', `--include=${packages.join(',')}`, 'trixie', root, ...sources], {
    encoding: 'utf8',
    maxBuffer: 64 << 20,
  });
  const ms = Math.round(performance.now() - t);
  if (r.status !== 0) throw new Error(`mmdebstrap failed (${r.status ?? r.signal}):\n${(r.stderr + r.stdout).slice(-3000)}`);
  try {
    const status = readFileSync(join(root, 'var/lib/dpkg/status'), 'utf8');
    const installed = status.split('\n').filter((l) => l === 'Status: install ok installed').length;
    return { packages, size: treeSize(root), ms, installed };
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}
