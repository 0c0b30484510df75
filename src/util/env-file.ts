/**
 * EnvironmentFile= files as systemd reads them, shared by init (a unit's command
 * expanded with them) and the build (a container's environment from the files
 * workload.environmentFiles names, docs/config.md).
 */

/**
 * An EnvironmentFile= as systemd reads it: `NAME=value` lines, `#` and `;` comments,
 * values in double quotes (backslash escapes) or single quotes, unquoted ones trimmed,
 * `\` at the end of a line continuing it. Debian's /etc/default files are written this way
 * (a leading `export ` is taken off, as they are shell files too).
 */
export function parseEnvironmentFile(text: string): string[] {
  const out: string[] = [];
  for (const raw of text.replace(/\\\r?\n/g, '').split('\n')) {
    const line = raw.trim().replace(/^export\s+/, '');
    if (!line || line.startsWith('#') || line.startsWith(';')) continue;
    const m = /^([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$/.exec(line);
    if (!m) continue;
    out.push(`${m[1]}=${unquote(m[2]!)}`);
  }
  return out;
}

function unquote(value: string): string {
  let out = '';
  let quote: string | undefined;
  let quoted = false;
  for (let i = 0; i < value.length; i++) {
    const c = value[i]!;
    if (quote) {
      if (c === quote) quote = undefined;
      else if (c === '\\' && quote === '"' && i + 1 < value.length) out += value[++i];
      else out += c;
    } else if (c === '"' || c === "'") (quote = c), (quoted = true);
    else if (c === '\\' && i + 1 < value.length) out += value[++i];
    else if (/\s/.test(c) && value.slice(i).trimStart().startsWith('#')) break; // a shell comment after the value
    else out += c;
  }
  return quoted ? out : out.trim();
}

/** NAME=value lines to a record; later ones override earlier ones. */
export function environmentRecord(lines: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const l of lines) {
    const eq = l.indexOf('=');
    if (eq > 0) out[l.slice(0, eq)] = l.slice(eq + 1);
  }
  return out;
}
