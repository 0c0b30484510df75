/**
 * Package drift: the stanzas of /var/lib/dpkg/status in the baseline and the target,
 * matched by package and architecture, and the fields whose values differ.
 */
import type { PackageDrift } from './types.js';

interface Stanza {
  name: string;
  version: string;
  fields: Map<string, string>;
}

export function parseStatus(text: string): Map<string, Stanza> {
  const out = new Map<string, Stanza>();
  for (const block of text.split(/\n\s*\n/)) {
    const fields = new Map<string, string>();
    let key: string | undefined;
    for (const line of block.split('\n')) {
      if (/^[ \t]/.test(line) && key) fields.set(key, `${fields.get(key)}\n${line}`);
      else {
        const colon = line.indexOf(':');
        if (colon <= 0) continue;
        key = line.slice(0, colon);
        fields.set(key, line.slice(colon + 1).trim());
      }
    }
    const name = fields.get('Package');
    if (!name) continue;
    out.set(`${name}:${fields.get('Architecture') ?? ''}`, { name, version: fields.get('Version') ?? '', fields });
  }
  return out;
}

/** The packages whose dpkg records differ, by name. */
export function diffStatus(baseline: string, target: string): PackageDrift[] {
  const before = parseStatus(baseline);
  const after = parseStatus(target);
  const out: PackageDrift[] = [];
  for (const [key, b] of before) {
    const a = after.get(key);
    if (!a) {
      out.push({ package: b.name, change: 'removed', baseline: b.version });
      continue;
    }
    const fields = [...new Set([...b.fields.keys(), ...a.fields.keys()])].filter((f) => b.fields.get(f) !== a.fields.get(f));
    if (fields.length) out.push({ package: b.name, change: 'changed', baseline: b.version, target: a.version, fields });
  }
  for (const [key, a] of after) if (!before.has(key)) out.push({ package: a.name, change: 'added', target: a.version });
  return out.sort((x, y) => (x.package < y.package ? -1 : x.package > y.package ? 1 : 0));
}

/** Without the baseline's status file: compare the target's stanzas with the packages build.json lists. */
export function diffStatusWithPackages(packages: Array<{ name: string; version: string }>, target: string): PackageDrift[] {
  const lines = packages.map((p) => `Package: ${p.name}\nVersion: ${p.version}\n`).join('\n');
  const reduced = [...parseStatus(target).values()].map((s) => `Package: ${s.name}\nVersion: ${s.version}\n`).join('\n');
  return diffStatus(lines, reduced);
}
