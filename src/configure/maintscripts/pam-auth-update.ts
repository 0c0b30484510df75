/**
 * `pam-auth-update --package [--force]` (libpam-runtime) on a first installation:
 * /etc/pam.d/common-{auth,account,password,session,session-noninteractive} made from
 * the templates in /usr/share/pam and the profiles in /usr/share/pam-configs, as the
 * Perl program does when no common-* file exists yet:
 *
 * - the profiles enabled are those with `Default: yes`, ordered by Priority (highest
 *   first), then by file name in reverse; a profile that conflicts with one before it
 *   is left out;
 * - each template's "Primary" and "Additional" blocks are filled with the profiles'
 *   lines of that type (the first module's `-Initial` lines where it has them), `end`
 *   in a jump becoming the number of lines left in the block; a Primary block with no
 *   module gets `[default=1] pam_permit.so`;
 * - `Session-Interactive-Only: yes` keeps a profile out of common-session-noninteractive.
 *
 * The program's bookkeeping (/var/lib/pam) is not written: it only lets a later run
 * tell local edits from its own.
 */
import type { Action } from '../actions.js';
import { parseArgs, UnsupportedCommand } from './args.js';
import type { Args, ClassifyContext } from './classification.js';

const TYPES = ['auth', 'account', 'password', 'session', 'session-noninteractive'] as const;
const PROFILES = 'usr/share/pam-configs';
const TEMPLATES = 'usr/share/pam';

type Profile = Map<string, string> & { conflicts?: Set<string> };

function parseProfile(text: string): Profile {
  const p: Profile = new Map();
  let field = '';
  for (const raw of text.split('\n')) {
    // Perl's /^(\S+):\s+(.*)\s*$/ on a line with its newline: `Auth:` alone starts an empty field.
    const head = /^(\S+):(?:\s+(.*?))?\s*$/.exec(raw);
    if (head) {
      field = head[1]!.replace(/-Final$/, '');
      if (field === 'Conflicts') p.conflicts = new Set((head[2] ?? '').split(', '));
      else p.set(field, head[2] ?? '');
      continue;
    }
    const line = raw.trim();
    if (line && field) p.set(field, `${p.get(field) ?? ''}\n${line}`.replace(/^[\n\s]+/, ''));
  }
  if (!p.has('Session-Interactive-Only')) {
    for (const suffix of ['-Type', '', '-Initial']) {
      const v = p.get(`Session${suffix}`);
      if (v !== undefined) p.set(`Session-noninteractive${suffix}`, v);
    }
  }
  return p;
}

/** pam-auth-update's merge_one_line without local changes: `end` becomes the count, options joined by spaces. */
function mergeLine(line: string, count: number): string {
  const m = /^((\[[^\]]+\]|\w+)\s+\S+)\s*(.*)/.exec(line);
  if (!m) return `${line}\n`;
  const opts = m[3]!.split(/\s+/).filter(Boolean);
  return `${m[1]!.replace(/end/g, String(count))} ${opts.join(' ')}\n`;
}

function fill(template: string, type: (typeof TYPES)[number], profiles: Map<string, Profile>, enabled: string[]): string | undefined {
  const uc = type[0]!.toUpperCase() + type.slice(1);
  const base = type.replace(/-noninteractive$/, '');
  const lines = (mod: string, i: number): string => {
    const p = profiles.get(mod)!;
    return (i === 0 && p.get(`${uc}-Initial`)) || p.get(uc) || '';
  };
  let out = '';
  let state = 0;
  for (const line of template.split(/(?<=\n)/)) {
    if (state === 1) {
      if (/^# here's the fallback if no module succeeds/.test(line)) (out += line), state++;
      continue;
    }
    if (state === 3) {
      if (/^# end of pam-auth-update config/.test(line)) (out += line), state++;
      continue;
    }
    out += line;
    const block = state === 0 && /^# here are the per-package modules \(the "Primary" block\)/.test(line) ? 'Primary' : state === 2 && /^# and here are more per-package modules \(the "Additional" block\)/.test(line) ? 'Additional' : undefined;
    if (!block) continue;
    const mods = enabled.filter((m) => profiles.get(m)!.get(`${uc}-Type`) === block);
    let count = mods.reduce((n, m, i) => n + lines(m, i).split(/\n+/).filter(Boolean).length, 0);
    if (block === 'Additional') count--;
    if (block === 'Primary' && count === 0) out += `${base}\t[default=1]\t\t\tpam_permit.so\n`;
    mods.forEach((m, i) => {
      for (const l of lines(m, i).split('\n')) {
        out += `${base}\t${mergeLine(l, count)}`;
        count--;
      }
    });
    state++;
  }
  return state < 4 ? undefined : out;
}

export function pamAuthUpdate(args: Args, ctx: ClassifyContext): Action[] {
  const { opts } = parseArgs(args, { flags: { '--package': 'package', '--force': 'ignore' }, values: { '--root': 'root' } });
  const root = opts.get('root');
  if (root !== undefined && root !== '' && root !== '/') throw new UnsupportedCommand(`--root ${String(root)} is not the image`);
  if (!opts.has('package')) throw new UnsupportedCommand('pam-auth-update without --package asks interactively');
  const tree = ctx.world.tree;
  const profiles = new Map<string, Profile>();
  for (const name of tree.isDir(PROFILES) ? tree.list(PROFILES) : []) {
    if (name.endsWith('~') || /^#.+#$/.test(name)) continue;
    const p = parseProfile(tree.readFile(`${PROFILES}/${name}`)?.toString('utf8') ?? '');
    if (![...p.values()].some((v) => v.includes('pam_tally'))) profiles.set(name, p);
  }
  const priority = (n: string): number => Number(profiles.get(n)!.get('Priority') ?? 0);
  const sorted = [...profiles.keys()].sort((a, b) => priority(b) - priority(a) || (b < a ? -1 : b > a ? 1 : 0));
  const enabled: string[] = [];
  for (const name of sorted.filter((n) => /^yes$/i.test(profiles.get(n)!.get('Default') ?? ''))) {
    if (enabled.some((e) => profiles.get(e)!.conflicts?.has(name) || profiles.get(name)!.conflicts?.has(e))) continue;
    enabled.push(name);
  }
  const actions: Action[] = [];
  for (const type of TYPES) {
    const template = tree.readFile(`${TEMPLATES}/common-${type}`)?.toString('utf8');
    if (template === undefined) throw new UnsupportedCommand(`/${TEMPLATES}/common-${type} is not in the image`);
    const content = fill(template, type, profiles, enabled);
    if (content === undefined) throw new UnsupportedCommand(`/${TEMPLATES}/common-${type} has no pam-auth-update blocks`);
    const path = `/etc/pam.d/common-${type}`;
    ctx.world.set(path, 'file');
    actions.push({ kind: 'write-file', path, content, append: false });
  }
  return actions;
}
