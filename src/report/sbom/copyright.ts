/**
 * Licences from Debian's machine-readable copyright files (DEP-5, copyright-format 1.0):
 * the `License:` short names of every `Files` paragraph, turned into one SPDX licence
 * expression per package. A name with an SPDX identifier is written as that identifier;
 * any other is a `LicenseRef-…` that carries the text the file gives for it. A copyright
 * file that is not machine-readable, or absent, gives NOASSERTION: jeos does not guess.
 */
import { fixupSpdxId } from '@cyclonedx/cyclonedx-library/SPDX';

/** A deb822 paragraph: field names lower-cased, values with continuation lines joined by newlines. */
type Paragraph = Map<string, string>;

export function paragraphs(text: string): Paragraph[] {
  const out: Paragraph[] = [];
  let current: Paragraph | undefined;
  let field: string | undefined;
  for (const line of text.replace(/\r\n/g, '\n').split('\n')) {
    if (line.trim() === '') {
      current = undefined;
      field = undefined;
      continue;
    }
    if (line.startsWith('#')) continue;
    if (/^[ \t]/.test(line)) {
      if (current && field !== undefined) {
        const rest = line.slice(1);
        current.set(field, `${current.get(field)}\n${rest.trim() === '.' ? '' : rest}`);
      }
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    if (!current) out.push((current = new Map()));
    field = line.slice(0, colon).trim().toLowerCase();
    current.set(field, line.slice(colon + 1).trim());
  }
  return out;
}

/** DEP-5 short names whose SPDX identifier is not the same name in another case. */
const ALIASES: Readonly<Record<string, string>> = {
  expat: 'MIT',
  artistic: 'Artistic-1.0',
  'artistic-1': 'Artistic-1.0',
  'artistic-2': 'Artistic-2.0',
  'apache-2': 'Apache-2.0',
  'apache-1.1': 'Apache-1.1',
  'bsd-2': 'BSD-2-Clause',
  'bsd-3': 'BSD-3-Clause',
  'bsd-4': 'BSD-4-Clause',
  cc0: 'CC0-1.0',
  'psf-2': 'PSF-2.0',
  python: 'Python-2.0',
  'python-2': 'Python-2.0',
  'mpl-2': 'MPL-2.0',
  'zope-2.1': 'ZPL-2.1',
  'zope-2.0': 'ZPL-2.0',
  perl: 'Artistic-1.0-Perl',
};

/** The GNU licences: DEP-5 writes `GPL-2+`, SPDX `GPL-2.0-or-later`. */
const GNU = /^(A?GPL|LGPL|GFDL)-(\d)(?:\.(\d))?(\+)?$/i;

/** An SPDX licence identifier for a DEP-5 short name, or undefined. */
export function spdxLicenceId(name: string): string | undefined {
  const gnu = GNU.exec(name);
  if (gnu) {
    const id = `${gnu[1]!.toUpperCase()}-${gnu[2]}.${gnu[3] ?? '0'}-${gnu[4] ? 'or-later' : 'only'}`;
    return fixupSpdxId(id);
  }
  const alias = ALIASES[name.toLowerCase()];
  if (alias) return alias;
  const id = fixupSpdxId(name);
  // The identifier list also holds the exceptions (GCC-exception-3.1, …): those are not licences.
  if (id && !/exception|note$/i.test(id)) return id;
  const plus = /^(.+)\+$/.exec(name);
  if (plus) {
    const base = spdxLicenceId(plus[1]!);
    return base && !base.endsWith('-only') && !base.endsWith('-or-later') ? `${base}+` : undefined;
  }
  return undefined;
}

/** An SPDX exception identifier for the words between `with` and `exception`. */
function spdxExceptionId(words: string): string | undefined {
  const name = words.trim().replace(/\s+/g, '-');
  const versioned = /^(.+?)-?(\d+(?:\.\d+)*)$/.exec(name);
  const candidates = [`${name}-exception`, name, ...(versioned ? [`${versioned[1]}-exception-${versioned[2]}`] : [])];
  for (const c of candidates) {
    const id = fixupSpdxId(c);
    if (id && /exception|note$/i.test(id)) return id;
  }
  return undefined;
}

/** A licence that has no SPDX identifier: its name, and the text the copyright file gives for it (if any). */
export interface UnknownLicence {
  name: string;
  text: string | undefined;
}

/**
 * One `License:` first line as an SPDX expression. Short names are joined by `and`/`or`; a
 * comma starts a new group with lower precedence (`A or B, and C` is `(A OR B) AND C`).
 * `unknown(name)` names the LicenseRef for a short name without an SPDX identifier.
 */
export function licenceExpression(field: string, unknown: (name: string) => string): string {
  const groups = field.split(/\s*,\s*(?:(?:and|or)\s+)?/i).filter((g) => g.trim() !== '');
  const commaOps = [...field.matchAll(/,\s*(?:(and|or)\s+)?/gi)].map((m) => (m[1]?.toLowerCase() === 'or' ? 'OR' : 'AND'));
  const parts = groups.map((group) => {
    const tokens = group.trim().split(/\s+(and|or)\s+/i);
    let out = '';
    for (let i = 0; i < tokens.length; i += 2) {
      if (i > 0) out += ` ${tokens[i - 1]!.toUpperCase()} `;
      out += term(tokens[i]!.trim(), unknown);
    }
    return tokens.length > 1 && groups.length > 1 ? `(${out})` : out;
  });
  return parts.reduce((acc, p, i) => (i === 0 ? p : `${acc} ${commaOps[i - 1] ?? 'AND'} ${p}`), '');
}

function term(name: string, unknown: (name: string) => string): string {
  const withException = /^(.+?)\s+with\s+(.+?)\s+exception$/i.exec(name);
  if (withException) {
    const base = spdxLicenceId(withException[1]!);
    const exception = spdxExceptionId(withException[2]!);
    if (base && exception) return `${base} WITH ${exception}`;
    return unknown(name);
  }
  return spdxLicenceId(name) ?? unknown(name);
}

/** The result of reading one copyright file. */
export interface CopyrightLicences {
  /** Each distinct `License:` expression of the file, in first-seen order; empty if not machine-readable. */
  expressions: string[];
  /** Short names without an SPDX identifier, with their text. */
  unknown: UnknownLicence[];
  machineReadable: boolean;
}

/** The licences a DEP-5 copyright file declares. */
export function readCopyright(text: string): CopyrightLicences {
  const paras = paragraphs(text);
  const header = paras[0];
  if (!header?.get('format')?.includes('copyright-format')) return { expressions: [], unknown: [], machineReadable: false };
  // Stand-alone License paragraphs (no Files field) give the text of a short name used elsewhere.
  const texts = new Map<string, string>();
  for (const p of paras.slice(1)) {
    const licence = p.get('license');
    if (licence === undefined || p.has('files')) continue;
    const [name, ...body] = licence.split('\n');
    if (body.join('\n').trim()) texts.set(name!.trim().toLowerCase(), body.join('\n').trim());
  }
  const expressions: string[] = [];
  const unknown = new Map<string, UnknownLicence>();
  for (const p of paras) {
    const licence = p.get('license');
    if (licence === undefined || !(p.has('files') || p === header)) continue;
    const [first, ...body] = licence.split('\n');
    if (!first!.trim()) continue;
    const inline = body.join('\n').trim();
    const expression = licenceExpression(first!.trim(), (name) => {
      const key = name.toLowerCase();
      if (!unknown.has(key)) unknown.set(key, { name, text: texts.get(key) ?? (inline && first!.trim().toLowerCase() === key ? inline : undefined) });
      return `\0${name}\0`;
    });
    if (!expressions.includes(expression)) expressions.push(expression);
  }
  return { expressions, unknown: [...unknown.values()], machineReadable: true };
}
