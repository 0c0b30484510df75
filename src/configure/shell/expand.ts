/**
 * Word expansion for the maintainer-script interpreter: parameters (with the
 * `:-`, `:+`, `#`, `%`… forms), command substitutions the host can answer,
 * field splitting, pathname expansion and case patterns. Whatever cannot be
 * known at build time expands to undefined rather than to a guess.
 */
import type { Part, Word } from './ast.js';

export type Tri = boolean | undefined;

/** What expansion reads from and writes to: the interpreter's variables and the host. */
export interface Scope {
  /** A variable's value: `set: false` means unset (empty), value undefined with set undefined means unknown. */
  lookup(name: string): { value: string | undefined; set: boolean | undefined };
  /** `${x:=word}` assigns. */
  assign(name: string, value: string | undefined): void;
  /** The output of a command substitution, trailing newlines removed, when known. */
  substitute(text: string): string | undefined;
  /** Paths a pattern matches (sorted), or undefined when unknowable. */
  glob(pattern: string): string[] | undefined;
  /** $1… as a list, or undefined when unknown. */
  positional(): Array<string | undefined> | undefined;
}

export class Expander {
  constructor(private readonly scope: Scope) {}

  matchPattern(subject: string | undefined, pattern: Word): Tri {
    if (subject === undefined) return undefined;
    const re = this.patternOf(pattern.parts);
    return re === undefined ? undefined : new RegExp(`^${re}$`, 's').test(subject);
  }

  /** A shell pattern (quoted parts literal) as a regular expression fragment, or undefined. */
  private patternOf(parts: Part[]): string | undefined {
    let re = '';
    for (const part of parts) {
      if (part.kind === 'param' || part.kind === 'subst') {
        const v = part.kind === 'subst' ? this.substitute(part.text) : this.paramValue(part);
        if (v === undefined) return undefined;
        re += escapeRegExp(v);
        continue;
      }
      if (part.quoted) {
        re += escapeRegExp(part.text);
        continue;
      }
      const g = globToRegExp(part.text);
      if (g === undefined) return undefined;
      re += g;
    }
    return re;
  }


  paramValue(part: Extract<Part, { kind: 'param' }>): string | undefined {
    const raw = this.scope.lookup(part.name);
    switch (part.op) {
      case undefined:
        return raw.value;
      case '#len':
        return raw.value === undefined ? undefined : String(raw.value.length);
      case ':-':
      case ':=':
      case '-':
      case '=': {
        if (raw.value === undefined && raw.set !== false) return undefined;
        const useArg = part.op.startsWith(':') ? !raw.set || raw.value === '' : !raw.set;
        if (!useArg) return raw.value;
        const v = part.arg ? this.expandParts(part.arg.parts) : '';
        if (part.op.endsWith('=')) this.scope.assign(part.name, v);
        return v;
      }
      case ':+':
      case '+': {
        if (raw.value === undefined && raw.set !== false) return undefined;
        const useArg = part.op === ':+' ? raw.set && raw.value !== '' : raw.set;
        return useArg ? (part.arg ? this.expandParts(part.arg.parts) : '') : '';
      }
      case ':?':
      case '?':
        return raw.value;
      case '#':
      case '##':
      case '%':
      case '%%': {
        if (raw.value === undefined) return undefined;
        const re = part.arg ? this.patternOf(part.arg.parts) : '';
        if (re === undefined) return undefined;
        const m = new RegExp(`^${re}$`, 's');
        const v = raw.value;
        const n = v.length;
        const cuts = part.op.startsWith('#')
          ? (part.op === '#' ? [...Array(n + 1).keys()] : [...Array(n + 1).keys()].reverse()).map((i) => [v.slice(0, i), v.slice(i)] as const)
          : (part.op === '%' ? [...Array(n + 1).keys()].reverse() : [...Array(n + 1).keys()]).map((i) => [v.slice(i), v.slice(0, i)] as const);
        for (const [removed, kept] of cuts) if (m.test(removed)) return kept;
        return v;
      }
      default:
        return undefined;
    }
  }

  /** Concatenate parts without field splitting; undefined if any part is unknown. */
  expandParts(parts: Part[]): string | undefined {
    let out = '';
    for (const p of parts) {
      if (p.kind === 'lit') out += p.text;
      else if (p.kind === 'subst') {
        const v = this.substitute(p.text);
        if (v === undefined) return undefined;
        out += v;
      } else {
        const v = this.paramValue(p);
        if (v === undefined) return undefined;
        out += v;
      }
    }
    return out;
  }

  /** A word with an unquoted *, ? or [: the paths it matches, itself when none do (as sh), or unknown. */
  private expandGlob(word: Word): Array<string | undefined> {
    let pattern = '';
    let literal = '';
    for (const p of word.parts) {
      const v = p.kind === 'lit' ? p.text : p.kind === 'subst' ? this.substitute(p.text) : this.paramValue(p);
      if (v === undefined) return [undefined];
      literal += v;
      pattern += p.kind === 'lit' && !p.quoted ? v : escapeGlob(v);
    }
    const matches = this.scope.glob(pattern);
    if (matches === undefined) return [undefined];
    return matches.length ? matches : [literal];
  }

  private substitute(text: string): string | undefined {
    return this.scope.substitute(text);
  }

  expandString(word: Word): string | undefined {
    return this.expandParts(word.parts);
  }

  /** Expand one word to its fields: field splitting of unquoted expansions, pathname expansion through the scope. */
  expandWord(word: Word): Array<string | undefined> {
    const parts = word.parts.filter((p) => !(p.kind === 'lit' && p.quoted && p.text === ''));
    const only = parts.length === 1 ? parts[0] : undefined;
    if (only?.kind === 'param' && only.name === '@' && only.op === undefined) {
      const positional = this.scope.positional();
      if (!positional) return [undefined];
      if (only.quoted) return [...positional];
      return positional.flatMap((p) => (p === undefined ? [undefined] : p.split(/[ \t\n]+/).filter(Boolean)));
    }
    const isGlob = word.parts.some((p) => p.kind === 'lit' && !p.quoted && /[*?[]/.test(p.text)) && !(word.parts.length === 1 && /^\[\[?$/.test((word.parts[0] as { text: string }).text));
    if (isGlob) return this.expandGlob(word);
    const fields: string[] = [];
    let cur = '';
    let has = false;
    for (const p of word.parts) {
      if (p.kind === 'lit') {
        cur += p.text;
        has ||= p.quoted || p.text !== '';
        continue;
      }
      const v = p.kind === 'subst' ? this.substitute(p.text) : this.paramValue(p);
      if (v === undefined) return [undefined];
      if (p.quoted) {
        cur += v;
        has = true;
        continue;
      }
      const pieces = v.split(/[ \t\n]+/);
      pieces.forEach((piece, i) => {
        if (i > 0 && has) {
          fields.push(cur);
          cur = '';
          has = false;
        }
        cur += piece;
        has ||= piece !== '';
      });
    }
    if (has) fields.push(cur);
    return fields;
  }
}


/** Quote glob characters so that only the unquoted ones act as a pattern. */
function escapeGlob(s: string): string {
  return s.replace(/[*?[\]\\]/g, '\\$&');
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

/** A shell glob to a regular expression fragment; undefined for unsupported syntax. */
export function globToRegExp(glob: string): string | undefined {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === '\\' && i + 1 < glob.length) re += escapeRegExp(glob[++i]!);
    else if (c === '*') re += '.*';
    else if (c === '?') re += '.';
    else if (c === '[') {
      const end = glob.indexOf(']', i + 2);
      if (end < 0) return undefined;
      let cls = glob.slice(i + 1, end);
      if (cls.startsWith('!')) cls = '^' + cls.slice(1);
      re += `[${cls.replace(/\\/g, '\\\\')}]`;
      i = end;
    } else re += escapeRegExp(c);
  }
  return re;
}
