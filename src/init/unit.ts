/**
 * The part of a systemd service unit that says what it runs: ExecStart=, User=
 * and Type= of its [Service] section, read the way systemd reads them (the last
 * assignment wins, an empty one resets ExecStart=, `\` continues a line).
 */
import { splitCommandLine, unitEntries } from '../util/unit-file.js';

export { splitCommandLine };

export interface ServiceSection {
  /** The command of the first ExecStart= after the last reset (an empty ExecStart=), split as systemd splits it. */
  execStart?: string[];
  user?: string;
  type?: string;
  /** Words of ExecStart= that were `$VAR` / `${VAR}` expansions (usually options from /etc/default), left out of execStart. */
  dropped: string[];
}

export function parseService(text: string): ServiceSection {
  const out: ServiceSection = { dropped: [] };
  let exec: string | undefined;
  for (const [key, value] of unitEntries(text, 'Service')) {
    // An empty ExecStart= resets the list; of several (Type=oneshot), the first is the one that runs first.
    if (key === 'ExecStart') exec = value === '' ? undefined : (exec ?? value);
    else if (key === 'User') out.user = value || undefined;
    else if (key === 'Type') out.type = value || undefined;
  }
  if (exec !== undefined) {
    const words = splitCommandLine(exec);
    // Prefixes on the executable: @ (argv[0] follows), - (failure ignored), : + ! !! (privileges, expansion).
    let first = words[0] ?? '';
    const argv0 = first.startsWith('@') || /^[-:+!]*@/.test(first);
    first = first.replace(/^[-@:+!]+/, '');
    const rest = argv0 ? words.slice(2) : words.slice(1);
    const kept = [first, ...rest].filter((w) => {
      if (/^\$\{?[A-Za-z_][A-Za-z0-9_]*\}?$/.test(w)) {
        out.dropped.push(w);
        return false;
      }
      return true;
    });
    if (kept[0]) out.execStart = kept;
  }
  return out;
}

/** An argv as one line a shell would split back into the same words. */
export function formatCommandLine(words: string[]): string {
  return words.map((w) => (/^[A-Za-z0-9_@%+=:,./-]+$/.test(w) ? w : `'${w.replace(/'/g, `'\\''`)}'`)).join(' ');
}
