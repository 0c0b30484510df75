/**
 * The part of a systemd service unit that says what it runs: ExecStart=, User=
 * and Type= of its [Service] section, read the way systemd reads them (the last
 * assignment wins, an empty one resets ExecStart=, `\` continues a line).
 */

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
  let section = '';
  let exec: string | undefined;
  for (const raw of text.replace(/\\\r?\n/g, ' ').split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#') || line.startsWith(';')) continue;
    const s = /^\[(.+)\]$/.exec(line);
    if (s) {
      section = s[1]!;
      continue;
    }
    if (section !== 'Service') continue;
    const m = /^([A-Za-z]+)\s*=\s*(.*)$/.exec(line);
    if (!m) continue;
    const [, key, value] = m as unknown as [string, string, string];
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

/**
 * Split a command line into words: whitespace separates, '…' and "…" quote,
 * a backslash escapes the next character (as systemd and a POSIX shell do for
 * plain words). No variables, globs or operators: there is no shell in an image.
 */
export function splitCommandLine(line: string): string[] {
  const words: string[] = [];
  let word = '';
  let inWord = false;
  let quote: '"' | "'" | undefined;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (quote) {
      if (c === quote) quote = undefined;
      else if (c === '\\' && quote === '"' && i + 1 < line.length) word += line[++i];
      else word += c;
      continue;
    }
    if (c === '"' || c === "'") {
      quote = c;
      inWord = true;
    } else if (c === '\\' && i + 1 < line.length) {
      word += line[++i];
      inWord = true;
    } else if (/\s/.test(c)) {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
    } else {
      word += c;
      inWord = true;
    }
  }
  if (quote) throw new SyntaxError(`unterminated ${quote} quote`);
  if (inWord) words.push(word);
  return words;
}

/** An argv as one line a shell would split back into the same words. */
export function formatCommandLine(words: string[]): string {
  return words.map((w) => (/^[A-Za-z0-9_@%+=:,./-]+$/.test(w) ? w : `'${w.replace(/'/g, `'\\''`)}'`)).join(' ');
}
