/**
 * Tokens of a POSIX sh script: words (with their expansion parts), operators,
 * newlines and redirections (here-document bodies attached once the line ends).
 */
import type { Part, Redirect, Word } from './ast.js';

export type Token =
  | { t: 'word'; word: Word; line: number; start: number; end: number }
  | { t: 'op'; op: string; line: number; start: number; end: number }
  | { t: 'nl'; line: number; start: number; end: number }
  | { t: 'redir'; redirect: Redirect; line: number; start: number; end: number }
  | { t: 'eof'; line: number; start: number; end: number };

export class ShellSyntaxError extends Error {
  constructor(
    message: string,
    readonly line: number,
  ) {
    super(`line ${line}: ${message}`);
  }
}

const OPERATOR_CHARS = new Set([';', '&', '|', '(', ')', '<', '>']);
const SPECIAL_PARAMS = new Set(['@', '*', '#', '?', '-', '$', '!', '0']);

type Mode = 'word' | 'braced' | 'heredoc';

/** Scans parts of one word from `src` starting at `pos`. */
class WordScanner {
  pos: number;
  line: number;

  constructor(
    readonly src: string,
    pos = 0,
    line = 1,
  ) {
    this.pos = pos;
    this.line = line;
  }

  private peek(offset = 0): string {
    return this.src[this.pos + offset] ?? '';
  }

  private take(n = 1): string {
    const s = this.src.slice(this.pos, this.pos + n);
    for (const c of s) if (c === '\n') this.line++;
    this.pos += n;
    return s;
  }

  /** Parts up to the end of the word (mode `word`), or of the whole string (other modes). */
  scan(mode: Mode): Part[] {
    const parts: Part[] = [];
    const lit = (text: string, quoted: boolean): void => {
      const last = parts[parts.length - 1];
      if (last?.kind === 'lit' && last.quoted === quoted) last.text += text;
      else parts.push({ kind: 'lit', text, quoted });
    };
    while (this.pos < this.src.length) {
      const c = this.peek();
      if (mode === 'word' && (c === ' ' || c === '\t' || c === '\n' || OPERATOR_CHARS.has(c))) break;
      if (c === '\\') {
        const next = this.peek(1);
        if (next === '\n') {
          this.take(2);
          continue;
        }
        if (mode === 'heredoc' && !['$', '`', '\\'].includes(next)) {
          lit(this.take(), true);
          continue;
        }
        this.take();
        if (next !== '') lit(this.take(), true);
        continue;
      }
      if (c === "'" && mode !== 'heredoc') {
        this.take();
        const end = this.src.indexOf("'", this.pos);
        if (end < 0) throw new ShellSyntaxError('unterminated single quote', this.line);
        lit(this.take(end - this.pos), true);
        this.take();
        continue;
      }
      if (c === '"' && mode !== 'heredoc') {
        this.take();
        this.scanDoubleQuoted(parts, lit);
        continue;
      }
      if (c === '$') {
        this.scanDollar(parts, lit, mode === 'heredoc');
        continue;
      }
      if (c === '`') {
        parts.push({ kind: 'subst', text: this.scanBacktick(), quoted: mode === 'heredoc' });
        continue;
      }
      lit(this.take(), mode === 'heredoc');
    }
    return parts;
  }

  private scanDoubleQuoted(parts: Part[], lit: (t: string, q: boolean) => void): void {
    for (;;) {
      if (this.pos >= this.src.length) throw new ShellSyntaxError('unterminated double quote', this.line);
      const c = this.peek();
      if (c === '"') {
        this.take();
        // An empty "" still makes a (quoted, empty) word.
        lit('', true);
        return;
      }
      if (c === '\\') {
        const next = this.peek(1);
        if (next === '\n') {
          this.take(2);
        } else if (['$', '`', '"', '\\'].includes(next)) {
          this.take();
          lit(this.take(), true);
        } else {
          lit(this.take(), true);
        }
        continue;
      }
      if (c === '$') {
        this.scanDollar(parts, lit, true);
        continue;
      }
      if (c === '`') {
        parts.push({ kind: 'subst', text: this.scanBacktick(), quoted: true });
        continue;
      }
      lit(this.take(), true);
    }
  }

  private scanBacktick(): string {
    const start = this.pos;
    this.take();
    while (this.pos < this.src.length && this.peek() !== '`') {
      if (this.peek() === '\\') this.take();
      this.take();
    }
    if (this.pos >= this.src.length) throw new ShellSyntaxError('unterminated backquote', this.line);
    this.take();
    return this.src.slice(start, this.pos);
  }

  /** From an opening `(` or `{` at pos, skip to just after its matching closer. */
  private skipBalanced(open: string, close: string): void {
    let depth = 0;
    while (this.pos < this.src.length) {
      const c = this.peek();
      if (c === '\\') {
        this.take(2);
        continue;
      }
      if (c === "'") {
        const end = this.src.indexOf("'", this.pos + 1);
        if (end < 0) break;
        this.take(end + 1 - this.pos);
        continue;
      }
      if (c === '"') {
        this.take();
        while (this.pos < this.src.length && this.peek() !== '"') {
          if (this.peek() === '\\') this.take();
          this.take();
        }
        this.take();
        continue;
      }
      if (c === open) depth++;
      else if (c === close) {
        depth--;
        if (depth === 0) {
          this.take();
          return;
        }
      }
      this.take();
    }
    throw new ShellSyntaxError(`unterminated ${open}…${close}`, this.line);
  }

  private scanDollar(parts: Part[], lit: (t: string, q: boolean) => void, quoted: boolean): void {
    const start = this.pos;
    const next = this.peek(1);
    if (next === '(') {
      this.take();
      this.skipBalanced('(', ')');
      parts.push({ kind: 'subst', text: this.src.slice(start, this.pos), quoted });
      return;
    }
    if (next === '{') {
      this.take();
      this.skipBalanced('{', '}');
      parts.push(braced(this.src.slice(start + 2, this.pos - 1), quoted));
      return;
    }
    const name = /^(?:[A-Za-z_][A-Za-z0-9_]*|[0-9@*#?\-$!])/.exec(this.src.slice(this.pos + 1))?.[0];
    if (name === undefined) {
      lit(this.take(), quoted);
      return;
    }
    this.take(1 + name.length);
    parts.push({ kind: 'param', name, quoted });
  }
}

/** The inside of `${…}`. */
function braced(inner: string, quoted: boolean): Part {
  if (inner.startsWith('#') && inner.length > 1) return { kind: 'param', name: inner.slice(1), op: '#len', quoted };
  const m = /^(?:[A-Za-z_][A-Za-z0-9_]*|[0-9]+|[@*#?\-$!])/.exec(inner);
  if (!m) return { kind: 'subst', text: `\${${inner}}`, quoted };
  const name = m[0];
  const rest = inner.slice(name.length);
  if (rest === '') return { kind: 'param', name, quoted };
  const op = /^(:-|:=|:\+|:\?|-|=|\+|\?|##|#|%%|%)/.exec(rest)?.[0];
  if (!op) return { kind: 'param', name, op: 'other', quoted };
  const argText = rest.slice(op.length);
  const arg: Word = { parts: new WordScanner(argText).scan('braced'), raw: argText };
  if (quoted) for (const p of arg.parts) p.quoted = true;
  return { kind: 'param', name, op, arg, quoted };
}

/** Parts of a here-document body that is subject to expansion (unquoted delimiter). */
export function heredocParts(body: string): Part[] {
  return new WordScanner(body).scan('heredoc');
}

function wordText(word: Word): string {
  return word.parts.map((p) => (p.kind === 'lit' ? p.text : p.kind === 'subst' ? p.text : `$${p.name}`)).join('');
}

/** Splits a script into tokens. */
export function tokenize(src: string): Token[] {
  const tokens: Token[] = [];
  const s = new WordScanner(src);
  const pending: Array<{ redirect: Redirect; delimiter: string; stripTabs: boolean }> = [];
  const at = (): string => src[s.pos] ?? '';

  while (s.pos < src.length) {
    const c = at();
    if (c === ' ' || c === '\t' || c === '\r') {
      s.pos++;
      continue;
    }
    if (c === '\\' && src[s.pos + 1] === '\n') {
      s.pos += 2;
      s.line++;
      continue;
    }
    if (c === '#') {
      while (s.pos < src.length && at() !== '\n') s.pos++;
      continue;
    }
    const start = s.pos;
    const line = s.line;
    if (c === '\n') {
      s.pos++;
      s.line++;
      tokens.push({ t: 'nl', line, start, end: s.pos });
      for (const h of pending.splice(0)) readHeredoc(h);
      continue;
    }
    const redir = /^([0-9]*)(<<-|<<|>>|>&|<&|<>|>\||&>|>|<)/.exec(src.slice(s.pos, s.pos + 8));
    if (redir && (redir[1] !== '' || !(c === '&' && src[s.pos + 1] === '&'))) {
      s.pos += redir[0].length;
      const op = redir[2]!;
      while (at() === ' ' || at() === '\t') s.pos++;
      const tstart = s.pos;
      const parts = s.scan('word');
      const target: Word = { parts, raw: src.slice(tstart, s.pos) };
      const redirect: Redirect = { op, ...(redir[1] ? { fd: Number(redir[1]) } : {}), target };
      if (op === '<<' || op === '<<-') {
        const quoted = parts.some((p) => p.kind === 'lit' && p.quoted);
        redirect.heredoc = { body: '', quoted };
        pending.push({ redirect, delimiter: wordText(target), stripTabs: op === '<<-' });
      }
      tokens.push({ t: 'redir', redirect, line, start, end: s.pos });
      continue;
    }
    const op = /^(&&|\|\||;;|;&|[;&|()])/.exec(src.slice(s.pos, s.pos + 2))?.[0];
    if (op) {
      s.pos += op.length;
      tokens.push({ t: 'op', op, line, start, end: s.pos });
      continue;
    }
    const parts = s.scan('word');
    if (s.pos === start) throw new ShellSyntaxError(`unexpected character ${JSON.stringify(c)}`, line);
    tokens.push({ t: 'word', word: { parts, raw: src.slice(start, s.pos) }, line, start, end: s.pos });
  }
  if (pending.length) throw new ShellSyntaxError(`here-document delimited by ${pending[0]!.delimiter} is not terminated`, s.line);
  tokens.push({ t: 'eof', line: s.line, start: s.pos, end: s.pos });
  return tokens;

  function readHeredoc(h: { redirect: Redirect; delimiter: string; stripTabs: boolean }): void {
    const lines: string[] = [];
    for (;;) {
      if (s.pos >= src.length) throw new ShellSyntaxError(`here-document delimited by ${h.delimiter} is not terminated`, s.line);
      let end = src.indexOf('\n', s.pos);
      if (end < 0) end = src.length;
      let text = src.slice(s.pos, end);
      s.pos = Math.min(end + 1, src.length);
      s.line++;
      if (h.stripTabs) text = text.replace(/^\t+/, '');
      if (text === h.delimiter) break;
      lines.push(text);
    }
    h.redirect.heredoc!.body = lines.length ? lines.join('\n') + '\n' : '';
  }
}
