/**
 * Reading systemd unit files the way systemd does, as far as jeos needs it:
 * `\` at the end of a line continues it, `#` and `;` start comments, and keys
 * belong to the `[Section]` above them. Shared by configure (enable links from
 * [Install]), init (what a package's service runs) and trim (what units run).
 */

/** The `Key=value` assignments of one section, in file order. */
export function unitEntries(text: string, section: string): Array<[key: string, value: string]> {
  const entries: Array<[string, string]> = [];
  let current = '';
  for (const raw of text.replace(/\\\r?\n/g, ' ').split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#') || line.startsWith(';')) continue;
    const s = /^\[(.+)\]$/.exec(line);
    if (s) {
      current = s[1]!;
      continue;
    }
    if (current !== section) continue;
    const m = /^([A-Za-z]+)\s*=\s*(.*)$/.exec(line);
    if (m) entries.push([m[1]!, m[2]!]);
  }
  return entries;
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
