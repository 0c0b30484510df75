/**
 * update-alternatives --install, as dpkg's update-alternatives leaves things on a
 * first installation in auto mode (or manual, after --set): for each link group the highest-priority
 * choice whose path is in the image (ties: the first path in byte order, as
 * update-alternatives keeps its choices sorted) becomes /etc/alternatives/NAME →
 * PATH with LINK → /etc/alternatives/NAME, and likewise each slave whose file is
 * in the image. The group is recorded in /var/lib/dpkg/alternatives/NAME in
 * update-alternatives' administrative format.
 */
import { actionsOf, type ActionRecord } from '../actions.js';
import type { EffectReport } from '../types.js';
import { byteCompare, Changes, madeMeta, type EffectContext } from './context.js';

interface Choice {
  path: string;
  priority: number;
  slaves: Map<string, string>;
}

interface Group {
  name: string;
  link: string;
  slaveLinks: Map<string, string>;
  choices: Map<string, Choice>;
  records: ActionRecord[];
}

export function configureAlternatives(ctx: EffectContext): EffectReport {
  const { tree, options } = ctx;
  const changes = new Changes();
  const groups = new Map<string, Group>();
  const exists = (path: string): boolean => {
    try {
      return tree.stat(path) !== undefined;
    } catch {
      return false;
    }
  };

  for (const r of actionsOf(ctx.actions, 'alternative')) {
    const a = r.action;
    if (!exists(a.path)) {
      r.failed = `alternative path ${a.path} is not in the image`;
      continue;
    }
    const g: Group = groups.get(a.name) ?? { name: a.name, link: a.link, slaveLinks: new Map(), choices: new Map(), records: [] };
    g.link = a.link;
    for (const s of a.slaves) g.slaveLinks.set(s.name, s.link);
    g.choices.set(a.path, { path: a.path, priority: a.priority, slaves: new Map(a.slaves.map((s) => [s.name, s.path])) });
    g.records.push(r);
    groups.set(a.name, g);
  }

  const manual = new Map<string, ActionRecord>();
  for (const r of actionsOf(ctx.actions, 'alternative-set')) manual.set(r.action.name, r);

  const meta = madeMeta(options, 0o777);
  const summary: string[] = [];
  for (const g of [...groups.values()].sort((a, b) => byteCompare(a.name, b.name))) {
    const choices = [...g.choices.values()].sort((a, b) => byteCompare(a.path, b.path));
    let best = choices[0]!;
    for (const c of choices) if (c.priority > best.priority) best = c;
    const set = manual.get(g.name);
    let status = 'auto';
    if (set?.action.kind === 'alternative-set') {
      const chosen = g.choices.get(set.action.path);
      if (chosen) {
        best = chosen;
        status = 'manual';
      } else set.failed = `${set.action.path} is not a choice of ${g.name} in the image`;
      manual.delete(g.name);
    }
    const slaveNames = [...g.slaveLinks.keys()].filter((s) => choices.some((c) => c.slaves.has(s))).sort(byteCompare);

    const install = (name: string, link: string, path: string): string | undefined => {
      const alt = `etc/alternatives/${name}`;
      tree.mkdirp('etc/alternatives', madeMeta(options, 0o755));
      tree.symlink(alt, path, meta);
      changes.add(alt);
      const real = tree.resolve(link);
      const existing = tree.get(real);
      if (existing && existing.kind !== 'symlink') return `not replacing ${link} (a ${existing.kind}) with a link`;
      if (!tree.isDir(real.slice(0, Math.max(real.lastIndexOf('/'), 0)))) return `the directory of ${link} is not in the image`;
      tree.symlink(real, `/etc/alternatives/${name}`, meta);
      changes.add(real);
      return undefined;
    };
    const problems: string[] = [];
    const masterProblem = install(g.name, g.link, best.path);
    if (masterProblem) problems.push(masterProblem);
    for (const s of slaveNames) {
      const path = best.slaves.get(s);
      if (path === undefined || !exists(path)) continue; // update-alternatives skips a slave whose file is missing
      const p = install(s, g.slaveLinks.get(s)!, path);
      if (p) problems.push(p);
    }
    if (problems.length) for (const r of g.records) if (r.action.kind === 'alternative' && r.action.path === best.path) r.failed = problems.join('; ');

    const lines = [status, g.link];
    for (const s of slaveNames) lines.push(s, g.slaveLinks.get(s)!);
    lines.push('');
    for (const c of choices) {
      lines.push(c.path, String(c.priority));
      for (const s of slaveNames) lines.push(c.slaves.get(s) ?? '');
    }
    lines.push('');
    const admin = `var/lib/dpkg/alternatives/${g.name}`;
    tree.mkdirp('var/lib/dpkg/alternatives', madeMeta(options, 0o755));
    tree.writeFile(admin, lines.join('\n') + '\n', madeMeta(options, 0o644));
    changes.add(admin);
    summary.push(`${g.name} → ${best.path}`);
  }
  for (const r of manual.values()) r.failed = `no link group ${r.action.kind === 'alternative-set' ? r.action.name : ''} is registered`;
  return changes.report('alternatives', summary.length ? summary.join(', ') : 'no alternatives');
}
