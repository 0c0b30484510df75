/**
 * systemd unit enablement: `deb-systemd-helper enable` and `systemctl enable`
 * from maintainer scripts become the symlinks systemctl makes from the unit's
 * [Install] section — /etc/systemd/system/T.wants/U and T.requires/U for
 * WantedBy=/RequiredBy=/UpheldBy=, /etc/systemd/system/A for Alias=, and the
 * same for units named in Also=. Templates are enabled with DefaultInstance=.
 * `--user`/`--global` enablement links user units under /etc/systemd/user.
 * A unit whose file is not in the image is not enabled, and the command is
 * reported as not reproduced.
 */
import type { ImageTree } from '../../tree/index.js';
import type { ActionRecord } from '../actions.js';
import { actionsOf } from '../actions.js';
import type { EffectReport } from '../types.js';
import { unitEntries } from '../../util/unit-file.js';
import { Changes, madeMeta, type EffectContext } from './context.js';

export const SYSTEM = { dir: 'etc/systemd/system', paths: ['etc/systemd/system', 'usr/lib/systemd/system', 'lib/systemd/system'] };
const USER = { dir: 'etc/systemd/user', paths: ['etc/systemd/user', 'usr/lib/systemd/user', 'lib/systemd/user'] };

export interface Install {
  wantedBy: string[];
  requiredBy: string[];
  upheldBy: string[];
  alias: string[];
  also: string[];
  defaultInstance?: string;
}

export function parseInstall(text: string): Install {
  const inst: Install = { wantedBy: [], requiredBy: [], upheldBy: [], alias: [], also: [] };
  for (const [key, value] of unitEntries(text, 'Install')) {
    const values = value.split(/\s+/).filter(Boolean);
    if (key === 'WantedBy') inst.wantedBy.push(...values);
    else if (key === 'RequiredBy') inst.requiredBy.push(...values);
    else if (key === 'UpheldBy') inst.upheldBy.push(...values);
    else if (key === 'Alias') inst.alias.push(...values);
    else if (key === 'Also') inst.also.push(...values);
    else if (key === 'DefaultInstance') inst.defaultInstance = values[0];
  }
  return inst;
}

/** Where a unit's file is, as an absolute path in the image (the first unit directory that has it). */
export function findUnit(tree: ImageTree, name: string, paths: string[]): string | undefined {
  for (const dir of paths) {
    const path = `${dir}/${name}`;
    const node = tree.get(tree.resolve(path));
    if (node && (node.kind === 'file' || node.kind === 'hardlink' || (node.kind === 'symlink' && tree.stat(path)))) {
      return `/${tree.resolve(path)}`;
    }
  }
  return undefined;
}

export function configureSystemdUnits(ctx: EffectContext): EffectReport {
  const { tree, options } = ctx;
  const changes = new Changes();
  const enabled: string[] = [];
  const meta = madeMeta(options, 0o777);
  const link = (path: string, target: string): void => {
    tree.mkdirp(path.slice(0, path.lastIndexOf('/')), madeMeta(options, 0o755));
    const existing = tree.get(path);
    if (existing && existing.kind !== 'symlink') return;
    tree.symlink(path, target, meta);
    changes.add(path);
  };

  const enable = (unit: string, r: ActionRecord, seen: Set<string>, scope: typeof SYSTEM): string | undefined => {
    if (seen.has(unit)) return undefined;
    seen.add(unit);
    const at = unit.indexOf('@');
    const template = at >= 0 ? `${unit.slice(0, at)}@${unit.slice(unit.lastIndexOf('.'))}` : undefined;
    const instance = at >= 0 ? unit.slice(at + 1, unit.lastIndexOf('.')) : undefined;
    const file = findUnit(tree, unit, scope.paths) ?? (template ? findUnit(tree, template, scope.paths) : undefined);
    if (!file) return `unit ${unit} is not in the image`;
    const text = tree.readFile(file.slice(1))?.toString('utf8') ?? '';
    const inst = parseInstall(text);
    let name = unit;
    if (template && instance === '') {
      if (!inst.defaultInstance) return undefined; // a template without DefaultInstance= has nothing to enable
      name = `${unit.slice(0, at)}@${inst.defaultInstance}${unit.slice(unit.lastIndexOf('.'))}`;
    }
    const linkName = (target: string, kind: 'wants' | 'requires' | 'upholds'): string => `${scope.dir}/${target}.${kind}/${name}`;
    for (const t of inst.wantedBy) link(linkName(t, 'wants'), file);
    for (const t of inst.requiredBy) link(linkName(t, 'requires'), file);
    for (const t of inst.upheldBy) link(linkName(t, 'upholds'), file);
    for (const a of inst.alias) link(`${scope.dir}/${a}`, file);
    enabled.push(scope === USER ? `${name} (user)` : name);
    for (const also of inst.also) enable(also, r, seen, scope);
    return undefined;
  };

  for (const r of actionsOf(ctx.actions, 'enable-units')) {
    const scope = r.action.user ? USER : SYSTEM;
    const problems = r.action.units.map((u) => enable(u, r, new Set(), scope)).filter((p): p is string => p !== undefined);
    if (problems.length) r.failed = problems.join('; ');
  }
  const unique = [...new Set(enabled)].sort();
  return changes.report('systemd-units', unique.length ? `enabled: ${unique.join(', ')}` : 'no units enabled');
}
