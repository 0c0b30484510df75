/**
 * A recursive-descent parser for the POSIX sh grammar maintainer scripts use:
 * lists, and-or chains, pipelines, if/while/until/for/case, brace groups,
 * subshells, function definitions, assignments and redirections.
 */
import type { Node, Redirect, SimpleCommand, Word } from './ast.js';
import { ShellSyntaxError, tokenize, type Token } from './lex.js';

export { ShellSyntaxError } from './lex.js';

const RESERVED = new Set(['if', 'then', 'else', 'elif', 'fi', 'do', 'done', 'case', 'esac', 'while', 'until', 'for', '{', '}', '!', 'in', 'function']);

/** The text of a word when it is a single unquoted literal (how reserved words and names look). */
export function plainWord(word: Word): string | undefined {
  if (word.parts.length !== 1) return undefined;
  const p = word.parts[0]!;
  return p.kind === 'lit' && !p.quoted ? p.text : undefined;
}

export function parseScript(src: string): Node {
  return new Parser(src).program();
}

class Parser {
  private readonly tokens: Token[];
  private i = 0;

  constructor(private readonly src: string) {
    this.tokens = tokenize(src);
  }

  program(): Node {
    const list = this.list(new Set());
    const t = this.peek();
    if (t.t !== 'eof') throw this.unexpected(t);
    return list;
  }

  private peek(): Token {
    return this.tokens[this.i]!;
  }

  private next(): Token {
    return this.tokens[this.i++]!;
  }

  private unexpected(t: Token): ShellSyntaxError {
    const what = t.t === 'word' ? JSON.stringify(t.word.raw) : t.t === 'op' ? JSON.stringify(t.op) : t.t === 'redir' ? 'redirection' : t.t === 'nl' ? 'newline' : 'end of script';
    return new ShellSyntaxError(`unexpected ${what}`, t.line);
  }

  private isReserved(t: Token, ...words: string[]): boolean {
    if (t.t !== 'word') return false;
    const w = plainWord(t.word);
    return w !== undefined && words.includes(w);
  }

  private isOp(t: Token, op: string): boolean {
    return t.t === 'op' && t.op === op;
  }

  private expectReserved(word: string): void {
    const t = this.next();
    if (!this.isReserved(t, word)) throw new ShellSyntaxError(`expected "${word}" but found ${t.t === 'word' ? JSON.stringify(t.word.raw) : t.t}`, t.line);
  }

  private skipNewlines(): void {
    while (this.peek().t === 'nl') this.i++;
  }

  /** Commands up to one of the terminating reserved words, `)`, `;;`, or the end. */
  private list(terminators: Set<string>): Node {
    const items: Node[] = [];
    for (;;) {
      const t = this.peek();
      if (t.t === 'nl' || this.isOp(t, ';') || this.isOp(t, '&')) {
        this.i++;
        continue;
      }
      if (t.t === 'eof' || this.isOp(t, ')') || this.isOp(t, ';;') || this.isOp(t, ';&')) break;
      if (t.t === 'word' && terminators.size && this.isReserved(t, ...terminators)) break;
      items.push(this.andOr());
    }
    return { type: 'list', items };
  }

  private andOr(): Node {
    const first = this.pipeline();
    const rest: Array<{ op: '&&' | '||'; node: Node }> = [];
    for (;;) {
      const t = this.peek();
      if (t.t === 'op' && (t.op === '&&' || t.op === '||')) {
        this.i++;
        this.skipNewlines();
        rest.push({ op: t.op, node: this.pipeline() });
      } else break;
    }
    return rest.length ? { type: 'andor', first, rest } : first;
  }

  private pipeline(): Node {
    let negate = false;
    if (this.isReserved(this.peek(), '!')) {
      this.i++;
      negate = true;
    }
    const commands = [this.command()];
    while (this.isOp(this.peek(), '|')) {
      this.i++;
      this.skipNewlines();
      commands.push(this.command());
    }
    return commands.length === 1 && !negate ? commands[0]! : { type: 'pipeline', negate, commands };
  }

  private command(): Node {
    const t = this.peek();
    let node: Node | undefined;
    if (this.isReserved(t, 'if')) node = this.ifClause();
    else if (this.isReserved(t, 'while', 'until')) node = this.loop();
    else if (this.isReserved(t, 'for')) node = this.forClause();
    else if (this.isReserved(t, 'case')) node = this.caseClause();
    else if (this.isReserved(t, '{')) {
      this.i++;
      const body = this.list(new Set(['}']));
      this.expectReserved('}');
      node = { type: 'group', subshell: false, body };
    } else if (this.isOp(t, '(')) {
      this.i++;
      const body = this.list(new Set());
      const close = this.next();
      if (!this.isOp(close, ')')) throw this.unexpected(close);
      node = { type: 'group', subshell: true, body };
    } else if (this.isReserved(t, 'function')) {
      this.i++;
      const name = this.next();
      if (name.t !== 'word') throw this.unexpected(name);
      if (this.isOp(this.peek(), '(')) {
        this.i++;
        if (!this.isOp(this.next(), ')')) throw this.unexpected(this.tokens[this.i - 1]!);
      }
      this.skipNewlines();
      return { type: 'function', name: name.word.raw, body: this.command(), line: t.line };
    } else if (t.t === 'word' && this.isOp(this.tokens[this.i + 1]!, '(') && this.isOp(this.tokens[this.i + 2]!, ')')) {
      this.i += 3;
      this.skipNewlines();
      return { type: 'function', name: t.word.raw, body: this.command(), line: t.line };
    }
    if (!node) return this.simple();
    const redirects: Redirect[] = [];
    while (this.peek().t === 'redir') redirects.push((this.next() as Extract<Token, { t: 'redir' }>).redirect);
    return redirects.length ? { type: 'redirected', node, redirects } : node;
  }

  private simple(): SimpleCommand {
    const first = this.peek();
    const assigns: SimpleCommand['assigns'] = [];
    const words: Word[] = [];
    const redirects: Redirect[] = [];
    let end = first.start;
    for (;;) {
      const t = this.peek();
      if (t.t === 'redir') {
        redirects.push(t.redirect);
      } else if (t.t === 'word') {
        const assign = words.length === 0 ? asAssignment(t.word) : undefined;
        if (assign) assigns.push(assign);
        else words.push(t.word);
      } else break;
      end = t.end;
      this.i++;
    }
    if (words.length === 0 && assigns.length === 0 && redirects.length === 0) throw this.unexpected(first);
    const raw = this.src.slice(first.start, end).replace(/\\\n[ \t]*/g, ' ').replace(/[ \t]+/g, ' ').trim();
    return { type: 'simple', line: first.line, assigns, words, redirects, raw };
  }

  private ifClause(): Node {
    this.expectReserved('if');
    const clauses: Array<{ cond: Node; body: Node }> = [];
    let elseBody: Node | undefined;
    for (;;) {
      const cond = this.list(new Set(['then']));
      this.expectReserved('then');
      const body = this.list(new Set(['elif', 'else', 'fi']));
      clauses.push({ cond, body });
      const t = this.next();
      if (this.isReserved(t, 'elif')) continue;
      if (this.isReserved(t, 'else')) {
        elseBody = this.list(new Set(['fi']));
        this.expectReserved('fi');
      } else if (!this.isReserved(t, 'fi')) throw this.unexpected(t);
      break;
    }
    return elseBody ? { type: 'if', clauses, elseBody } : { type: 'if', clauses };
  }

  private loop(): Node {
    const until = this.isReserved(this.next(), 'until');
    const cond = this.list(new Set(['do']));
    this.expectReserved('do');
    const body = this.list(new Set(['done']));
    this.expectReserved('done');
    return { type: 'loop', until, cond, body };
  }

  private forClause(): Node {
    this.expectReserved('for');
    const name = this.next();
    if (name.t !== 'word') throw this.unexpected(name);
    this.skipNewlines();
    let words: Word[] | undefined;
    if (this.isReserved(this.peek(), 'in')) {
      this.i++;
      words = [];
      while (this.peek().t === 'word') words.push((this.next() as Extract<Token, { t: 'word' }>).word);
    }
    while (this.peek().t === 'nl' || this.isOp(this.peek(), ';')) this.i++;
    this.expectReserved('do');
    const body = this.list(new Set(['done']));
    this.expectReserved('done');
    return words ? { type: 'for', name: name.word.raw, words, body } : { type: 'for', name: name.word.raw, body };
  }

  private caseClause(): Node {
    this.expectReserved('case');
    const subject = this.next();
    if (subject.t !== 'word') throw this.unexpected(subject);
    this.skipNewlines();
    this.expectReserved('in');
    const items: Array<{ patterns: Word[]; body: Node }> = [];
    for (;;) {
      this.skipNewlines();
      if (this.isReserved(this.peek(), 'esac')) {
        this.i++;
        break;
      }
      if (this.isOp(this.peek(), '(')) this.i++;
      const patterns: Word[] = [];
      for (;;) {
        const p = this.next();
        if (p.t !== 'word') throw this.unexpected(p);
        patterns.push(p.word);
        const sep = this.next();
        if (this.isOp(sep, ')')) break;
        if (!this.isOp(sep, '|')) throw this.unexpected(sep);
      }
      const body = this.list(new Set(['esac']));
      items.push({ patterns, body });
      const t = this.peek();
      if (this.isOp(t, ';;') || this.isOp(t, ';&')) this.i++;
      else if (!this.isReserved(t, 'esac')) throw this.unexpected(t);
    }
    return { type: 'case', word: subject.word, items };
  }
}

function asAssignment(word: Word): { name: string; value: Word } | undefined {
  const first = word.parts[0];
  if (first?.kind !== 'lit' || first.quoted) return undefined;
  const m = /^([A-Za-z_][A-Za-z0-9_]*)=/.exec(first.text);
  if (!m) return undefined;
  const rest = first.text.slice(m[0].length);
  const parts = [...(rest ? [{ ...first, text: rest }] : []), ...word.parts.slice(1)];
  return { name: m[1]!, value: { parts, raw: word.raw.slice(m[0].length) } };
}

export { RESERVED };
