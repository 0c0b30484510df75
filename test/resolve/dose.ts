import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PackageRecord } from '../../src/archive/packages.js';

export interface DoseResult {
  ok: boolean;
  broken: number;
  total: number;
  /** dose-debcheck's own report (YAML), for the assertion message. */
  report: string;
}

const CHECK = 'jeos-set-check';

/** The resolved set as a Packages file, plus one package that Depends on every member at its exact version. */
export function toPackagesFile(records: PackageRecord[]): string {
  const stanzas = records.map((r) => {
    const lines = [`Package: ${r.name}`, `Version: ${r.version}`, `Architecture: ${r.architecture}`];
    if (r.multiArch) lines.push(`Multi-Arch: ${r.multiArch}`);
    if (r.essential) lines.push('Essential: yes');
    const fields: Array<[string, string | undefined]> = [
      ['Provides', r.provides],
      ['Pre-Depends', r.preDepends],
      ['Depends', r.depends],
      ['Conflicts', r.conflicts],
      ['Breaks', r.breaks],
    ];
    for (const [k, v] of fields) if (v) lines.push(`${k}: ${v}`);
    return lines.join('\n');
  });
  const all = records.map((r) => `${r.name} (= ${r.version})`).join(', ');
  stanzas.push([`Package: ${CHECK}`, 'Version: 1', 'Architecture: amd64', ...(all ? [`Depends: ${all}`] : [])].join('\n'));
  return stanzas.join('\n\n') + '\n';
}

/**
 * Ask Debian's dose-debcheck whether every package of the set is installable using only
 * the set, and (through the synthetic package) whether the whole set is co-installable.
 */
export async function doseCheck(records: PackageRecord[]): Promise<DoseResult> {
  const dir = await mkdtemp(join(tmpdir(), 'jeos-dose-'));
  try {
    const file = join(dir, 'Packages');
    await writeFile(file, toPackagesFile(records));
    const report = await run('dose-debcheck', ['--deb-native-arch=amd64', '--failures', '--explain', file]);
    const num = (key: string) => Number(new RegExp(`^${key}: (\\d+)`, 'm').exec(report)?.[1] ?? NaN);
    const broken = num('broken-packages');
    const total = num('total-packages');
    return { ok: broken === 0 && total === records.length + 1, broken, total, report };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function run(cmd: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('error', (e) => reject(new Error(`${cmd} could not start (install dose-distcheck): ${e.message}`)));
    // dose-debcheck exits 1 when it finds broken packages; the report says which.
    child.on('close', (code) => (code === 0 || code === 1 ? resolve(out) : reject(new Error(`${cmd} exited ${code}: ${err}`))));
  });
}
