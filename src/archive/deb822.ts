/**
 * deb822 control-file parsing (Debian Policy §5.1): stanzas separated by blank
 * lines, "Field: value", continuation lines start with a space or tab.
 */
export type Stanza = Record<string, string>;

/** Parse every stanza, keeping multi-line values (continuation lines joined with "\n"). */
export function parseDeb822(text: string): Stanza[] {
  const stanzas: Stanza[] = [];
  let current: Stanza | undefined;
  let lastKey: string | undefined;
  for (const rawLine of text.split('\n')) {
    const line = rawLine.endsWith('\r') ? rawLine.slice(0, -1) : rawLine;
    if (line.trim() === '') {
      current = undefined;
      lastKey = undefined;
      continue;
    }
    if (line.startsWith('#')) continue;
    if (line[0] === ' ' || line[0] === '\t') {
      if (current && lastKey !== undefined) current[lastKey] += '\n' + line.slice(1);
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    if (!current) {
      current = {};
      stanzas.push(current);
    }
    lastKey = line.slice(0, colon).trim();
    current[lastKey] = line.slice(colon + 1).trim();
  }
  return stanzas;
}

/** Case-insensitive field lookup (deb822 field names are case-insensitive). */
export function field(stanza: Stanza, name: string): string | undefined {
  if (name in stanza) return stanza[name];
  const lower = name.toLowerCase();
  for (const k of Object.keys(stanza)) if (k.toLowerCase() === lower) return stanza[k];
  return undefined;
}
