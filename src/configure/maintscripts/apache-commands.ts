/**
 * Apache's a2enmod, a2ensite, a2enconf and their a2dis* counterparts (apache2's
 * a2enmod script), read into the symbolic links they make or remove in
 * /etc/apache2/{mods,sites,conf}-enabled:
 *
 * | command | available | enabled link | target |
 * | --- | --- | --- | --- |
 * | a2enmod NAME | mods-available/NAME.load (and NAME.conf) | mods-enabled/NAME.load, NAME.conf | ../mods-available/NAME.load, … |
 * | a2ensite NAME | sites-available/NAME.conf | sites-enabled/NAME.conf | ../sites-available/NAME.conf |
 * | a2enconf NAME | conf-available/NAME.conf | conf-enabled/NAME.conf | ../conf-available/NAME.conf |
 *
 * As a2enmod does, a module's `# Depends: a b` lines (in its .load file) enable those
 * modules first; `# Conflicts:` refuses the module when one it names is enabled. A name
 * that is already enabled is left as it is; one that is not available makes the command
 * not reproduced. -m (maintainer mode), -q and -f change nothing here.
 */
import type { Action } from '../actions.js';
import { parseArgs, UnsupportedCommand } from './args.js';
import type { Args, ClassifyContext } from './classification.js';
import { ScriptWorld } from './world.js';

type Kind = 'mod' | 'site' | 'conf';

const ROOT = '/etc/apache2';
const DIRS: Record<Kind, string> = { mod: 'mods', site: 'sites', conf: 'conf' };

export const APACHE_COMMANDS: Record<string, { kind: Kind; enable: boolean }> = {
  a2enmod: { kind: 'mod', enable: true },
  a2dismod: { kind: 'mod', enable: false },
  a2ensite: { kind: 'site', enable: true },
  a2dissite: { kind: 'site', enable: false },
  a2enconf: { kind: 'conf', enable: true },
  a2disconf: { kind: 'conf', enable: false },
};

/** The files of one module, site or conf in *-available (the .load and .conf of a module). */
function available(kind: Kind, name: string, ctx: ClassifyContext): string[] {
  const dir = `${ROOT}/${DIRS[kind]}-available`;
  const files = kind === 'mod' ? [`${name}.load`, `${name}.conf`] : [`${name}.conf`];
  return files.filter((f) => ctx.world.kind(`${dir}/${f}`) === 'file');
}

/** `# Depends:` or `# Conflicts:` names of a module's .load file. */
function moduleHeader(name: string, header: 'Depends' | 'Conflicts', ctx: ClassifyContext): string[] {
  const p = ScriptWorld.treePath(`${ROOT}/mods-available/${name}.load`);
  const text = p === undefined ? undefined : ctx.world.tree.readFile(p)?.toString('utf8');
  if (!text) return [];
  const out: string[] = [];
  for (const m of text.matchAll(new RegExp(`^#\\s*${header}:\\s*(.*)$`, 'gm'))) out.push(...m[1]!.split(/[\s,]+/).filter(Boolean));
  return out;
}

/** The links one a2en… or a2dis… command makes or removes. */
export function apacheCommand(command: string, args: Args, ctx: ClassifyContext): Action[] {
  const spec = APACHE_COMMANDS[command]!;
  const { operands } = parseArgs(args, { flags: { '-m': 'ignore', '-q': 'ignore', '--quiet': 'ignore', '-f': 'ignore', '--force': 'ignore', '-p': 'ignore', '--purge': 'ignore' } });
  if (!operands.length) throw new UnsupportedCommand(`${command} without a name asks interactively`);
  const enabledDir = `${ROOT}/${DIRS[spec.kind]}-enabled`;
  const actions: Action[] = [];
  const visit = (raw: string, chain: string[]): void => {
    const name = raw.replace(spec.kind === 'mod' ? /\.(load|conf)$/ : /\.conf$/, '');
    if (chain.includes(name)) return;
    const files = available(spec.kind, name, ctx);
    if (!files.length) throw new UnsupportedCommand(`${DIRS[spec.kind]}-available has no ${name}`);
    if (!spec.enable) {
      const present = files.map((f) => `${enabledDir}/${f}`).filter((l) => ctx.world.kind(l, true) !== undefined);
      if (present.length) actions.push({ kind: 'remove', paths: present, recursive: false, dirsOnly: false });
      return;
    }
    if (spec.kind === 'mod') {
      for (const dep of moduleHeader(name, 'Depends', ctx)) visit(dep, [...chain, name]);
      const conflict = moduleHeader(name, 'Conflicts', ctx).find((c) => ctx.world.kind(`${enabledDir}/${c}.load`, true) !== undefined);
      if (conflict) throw new UnsupportedCommand(`module ${name} conflicts with ${conflict}, which is enabled`);
    }
    if (ctx.world.kind(enabledDir) !== 'dir') actions.push({ kind: 'mkdir', paths: [enabledDir], parents: true });
    ctx.world.set(enabledDir, 'dir');
    for (const f of files) {
      const link = `${enabledDir}/${f}`;
      if (ctx.world.kind(link, true) !== undefined) continue;
      ctx.world.set(link, 'symlink');
      actions.push({ kind: 'symlink', target: `../${DIRS[spec.kind]}-available/${f}`, link, noDereference: true, force: false });
    }
  };
  for (const name of operands) visit(name, []);
  return actions;
}
