/**
 * A unit's command as systemd would run it: `%` specifiers filled in, then
 * environment variables from the unit's own Environment= and EnvironmentFile=
 * (systemd.service(5), "Command lines"): `$NAME` as a word of its own becomes the
 * value split at whitespace — zero or more words, so an unset or empty one
 * disappears —, `${NAME}` anywhere in a word becomes the exact value in that one
 * word. `$NAME` inside a longer word stays as it is, as systemd leaves it.
 */

export interface Expanded {
  argv: string[];
  /** Variables the command names that nothing sets (they expand to nothing). */
  unset: string[];
  /**
   * Words that are an empty argument (`""`, or `${NAME}` expanding to nothing): systemd passes "",
   * jeos.yaml cannot hold one, so they are left out, with the option they are the argument of (`-P ""`).
   */
  emptyWords: string[];
}

/** Settings from EnvironmentFile= override Environment= (systemd.exec(5)); later files override earlier ones. */
export function environmentOf(assignments: string[], files: string[][]): Map<string, string> {
  const env = new Map<string, string>();
  for (const a of [...assignments, ...files.flat()]) {
    const eq = a.indexOf('=');
    if (eq > 0) env.set(a.slice(0, eq), a.slice(eq + 1));
  }
  return env;
}

export { parseEnvironmentFile } from '../util/env-file.js';

/** `%` specifiers of systemd.unit(5) a service's command uses: instance, unit and prefix names, and the system directories. */
export function specifiers(word: string, unit: { name: string; instance?: string }): string {
  const base = unit.name.replace(/\.[a-z]+$/, '');
  const prefix = base.includes('@') ? base.slice(0, base.indexOf('@')) : base;
  const values: Record<string, string> = {
    i: unit.instance ?? '', I: unit.instance ?? '', n: unit.name, N: base, p: prefix, P: prefix,
    t: '/run', S: '/var/lib', C: '/var/cache', L: '/var/log', E: '/etc', T: '/tmp', V: '/var/tmp', h: '/root', '%': '%',
  };
  return word.replace(/%(.)/g, (all, c: string) => values[c] ?? all);
}

export function expandCommand(words: string[], env: Map<string, string>): Expanded {
  const out: Expanded = { argv: [], unset: [], emptyWords: [] };
  const lookup = (name: string): string => {
    const v = env.get(name);
    if (v === undefined && !out.unset.includes(name)) out.unset.push(name);
    return v ?? '';
  };
  words.forEach((word, i) => {
    const alone = /^\$([A-Za-z_][A-Za-z0-9_]*)$/.exec(word);
    if (alone && i > 0) {
      out.argv.push(...lookup(alone[1]!).split(/\s+/).filter(Boolean));
      return;
    }
    const expanded = word.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (_, name: string) => lookup(name)).replace(/\$\$/g, '$');
    if (expanded !== '') return void out.argv.push(expanded);
    // An empty argument ("" or an empty ${VAR}): with the option before it, which would take the next word instead.
    const option = out.argv.length > 1 && /^-[^=]*$/.test(out.argv.at(-1)!) ? out.argv.pop()! : undefined;
    out.emptyWords.push(option ? `${option} ${word || '""'}` : word || '""');
  });
  return out;
}
