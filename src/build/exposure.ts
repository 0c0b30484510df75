/**
 * The systemd exposure score of the VM's workload unit, for the report's security posture:
 * `systemd-analyze security --offline=true --root=DIR UNIT` over a directory holding the
 * unit as the VM's tree has it (its file and drop-ins, and the service.d drop-ins every
 * service gets). The score is the host's systemd's judgement of the unit's settings (0 is
 * fully confined, 10 not at all); the tool's version is shown with it. A container has no
 * systemd: its confinement is the runtime's, and the report says so.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { Exposure } from '../report/html/index.js';
import type { ImageTree } from '../tree/index.js';

const UNIT_DIRS = ['etc/systemd/system', 'usr/lib/systemd/system', 'lib/systemd/system'];

/** The unit's files in the tree: the unit, its drop-in directories, the drop-ins of every unit of its type. */
function unitFiles(tree: ImageTree, unit: string): string[] {
  const type = unit.slice(unit.lastIndexOf('.') + 1);
  const out: string[] = [];
  for (const dir of UNIT_DIRS) {
    if (tree.get(`${dir}/${unit}`)) out.push(`${dir}/${unit}`);
    for (const d of [`${dir}/${unit}.d`, `${dir}/${type}.d`]) {
      if (!tree.isDir(d)) continue;
      for (const name of tree.list(d)) if (name.endsWith('.conf')) out.push(`${d}/${name}`);
    }
  }
  return out;
}

/** Lines like `✗ PrivateNetwork=   Service has access to the host's network   0.5`, from the JSON form. */
function worstSettings(json: string): Array<{ setting: string; description: string; exposure: number }> {
  try {
    const items = JSON.parse(json) as Array<{ set: boolean; name: string; description: string; exposure: string | null }>;
    return items
      .filter((i) => i.exposure !== null && Number(i.exposure) > 0)
      .map((i) => ({ setting: i.name, description: i.description, exposure: Number(i.exposure) }))
      .sort((a, b) => b.exposure - a.exposure || (a.setting < b.setting ? -1 : 1))
      .slice(0, 8);
  } catch {
    return [];
  }
}

export function exposureOf(tree: ImageTree, unit: string): Exposure {
  const files = unitFiles(tree, unit);
  if (!files.length) return { unit, notMeasured: `the VM's tree has no ${unit}` };
  const root = mkdtempSync(join(tmpdir(), 'jeos-exposure-'));
  try {
    for (const f of files) {
      const data = tree.readFile(f);
      if (!data) continue;
      mkdirSync(join(root, dirname(f)), { recursive: true });
      writeFileSync(join(root, f), data);
    }
    const env = { ...process.env, SYSTEMD_COLORS: '0', SYSTEMD_PAGER: '', LC_ALL: 'C.UTF-8' };
    const run = (...extra: string[]) => spawnSync('systemd-analyze', ['security', '--offline=true', `--root=${root}`, '--no-pager', ...extra, unit], { encoding: 'utf8', env, timeout: 30_000 });
    const text = run();
    if (text.error && (text.error as NodeJS.ErrnoException).code === 'ENOENT') return { unit, notMeasured: 'systemd-analyze is not installed on the build host (apt-get install systemd)' };
    const m = /Overall exposure level for \S+: (\d+(?:\.\d+)?) (\S+)/.exec(text.stdout);
    if (!m) return { unit, notMeasured: `systemd-analyze security gave no score: ${(text.stderr || text.stdout).trim().split('\n').pop() ?? `status ${text.status}`}` };
    const version = /^systemd (\d+)/.exec(spawnSync('systemd-analyze', ['--version'], { encoding: 'utf8', env }).stdout)?.[1] ?? '?';
    return { unit, score: Number(m[1]), rating: m[2]!, tool: `systemd-analyze ${version}`, worst: worstSettings(run('--json=short').stdout) };
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}
