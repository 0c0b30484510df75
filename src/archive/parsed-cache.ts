import type { PackageRecord } from './packages.js';

/**
 * The pre-parsed form of one Packages index, made for loading fast: a JSON
 * header line, then one line per field holding every package's value joined
 * by NUL (columns). Joining and splitting strings is native work, far cheaper
 * than JSON for 69k records. Kept values never hold a newline or NUL.
 * The file is UTF-8 but is read as latin1 (the cheapest decoding); only the
 * synopsis can hold non-ASCII, and it is re-decoded when it does.
 * Bump FORMAT_VERSION whenever PackageRecord or this layout changes.
 */
export const FORMAT_VERSION = 2;

const STRINGS = [
  'name', 'version', 'architecture', 'filename', 'sha256', 'depends', 'preDepends', 'provides', 'conflicts',
  'breaks', 'replaces', 'recommends', 'suggests', 'multiArch', 'priority', 'section', 'source', 'description',
] as const satisfies ReadonlyArray<keyof PackageRecord>;
const NUMBERS = ['installedSize', 'size'] as const satisfies ReadonlyArray<keyof PackageRecord>;

const SEP = '\u0000';
const NON_ASCII = /[\u0080-\u00ff]/;

export function toColumnar(records: PackageRecord[]): string {
  const lines = [JSON.stringify({ format: FORMAT_VERSION, count: records.length })];
  for (const c of STRINGS) lines.push(records.map((r) => r[c] ?? '').join(SEP));
  for (const c of NUMBERS) lines.push(records.map((r) => r[c]).join(SEP));
  lines.push(records.map((r) => (r.essential ? '1' : '')).join(SEP));
  return lines.join('\n') + '\n';
}

/** Rebuild records; undefined when the text is not a complete cache of the current format. */
export function fromColumnar(text: string, suite: string, component: string): PackageRecord[] | undefined {
  const lines = text.split('\n');
  if (lines.length !== 2 + STRINGS.length + NUMBERS.length + 1 || lines[lines.length - 1] !== '') return undefined;
  let header: { format?: number; count?: number };
  try {
    header = JSON.parse(lines[0]!) as typeof header;
  } catch {
    return undefined;
  }
  const count = header.count ?? -1;
  if (header.format !== FORMAT_VERSION || count < 0) return undefined;
  const cols = lines.slice(1, -1).map((l) => (count === 0 ? [] : l.split(SEP)));
  if (cols.some((c) => c.length !== count)) return undefined;
  const [name, version, architecture, filename, sha256, depends, preDepends, provides, conflicts, breaks, replaces,
    recommends, suggests, multiArch, priority, section, source, description, installedSize, size, essential] = cols as string[][];
  const opt = (v: string) => (v === '' ? undefined : v);
  const utf8 = (v: string) => (v === '' ? undefined : NON_ASCII.test(v) ? Buffer.from(v, 'latin1').toString('utf8') : v);
  const out: PackageRecord[] = new Array(count);
  for (let i = 0; i < count; i++) {
    // One object literal, always the same shape: fast to build and to read later.
    out[i] = {
      name: name![i]!,
      version: version![i]!,
      architecture: architecture![i]!,
      suite,
      component,
      installedSize: Number(installedSize![i]),
      size: Number(size![i]),
      filename: filename![i]!,
      sha256: sha256![i]!,
      depends: opt(depends![i]!),
      preDepends: opt(preDepends![i]!),
      provides: opt(provides![i]!),
      conflicts: opt(conflicts![i]!),
      breaks: opt(breaks![i]!),
      replaces: opt(replaces![i]!),
      recommends: opt(recommends![i]!),
      suggests: opt(suggests![i]!),
      multiArch: opt(multiArch![i]!),
      essential: essential![i] === '1',
      priority: opt(priority![i]!),
      section: opt(section![i]!),
      source: opt(source![i]!),
      description: utf8(description![i]!),
    };
  }
  return out;
}
