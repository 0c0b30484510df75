/**
 * A symbolic interpreter for maintainer scripts. It walks the script as sh would
 * for one invocation (`postinst configure` on a first install, say), expanding
 * what is knowable — literals, assigned variables, positional parameters — and
 * marking everything else unknown. Conditions are three-valued: a condition the
 * host can decide (a file test against the image tree, `[ "$1" = configure ]`)
 * picks its branch; an undecidable one runs every branch in "maybe" mode, after
 * which variables that the branches set differently become unknown.
 *
 * Every simple command that would run is handed to the host, which classifies it
 * and answers its exit status when it can. Function calls are inlined with their
 * arguments, so a helper such as `install_directory var/mail 2775 mail` is seen as
 * the mkdir/chown/chmod it performs.
 */
import type { Node, Redirect, SimpleCommand } from './ast.js';
import { Expander, type Tri } from './expand.js';
import { heredocParts } from './lex.js';

export { globToRegExp, type Tri } from './expand.js';

export type Stdout = { to: 'terminal' } | { to: 'pipe' } | { to: 'file'; path: string | undefined; append: boolean };

export interface ExecutedCommand {
  line: number;
  raw: string;
  /** Expanded arguments, field-split; undefined where the value cannot be known. */
  words: Array<string | undefined>;
  assigns: Array<{ name: string; value: string | undefined }>;
  /** Where standard output goes, after the command's own redirections. */
  stdout: Stdout;
  /** Standard input from a here-document (expanded; undefined when not knowable). */
  stdin?: { heredoc: string | undefined };
  /** False when the command runs only on some paths through undecidable conditions. */
  certain: boolean;
  /** The shell function being run, when the command comes from one. */
  inFunction?: string;
}

export interface ShellHost {
  /** Classify one command; return its exit status (true = 0) when it can be known. */
  run(cmd: ExecutedCommand): Tri;
  /** The output of a command substitution (`$(command -v x)`), trailing newlines removed, when it can be known. */
  substitute?(text: string): string | undefined;
  /** What `db_get QUESTION` leaves in $RET: the question's default, non-interactively. */
  debconf?(question: string): string | undefined;
  /** Paths an unquoted glob pattern matches (sorted), or undefined when that cannot be known. */
  glob?(pattern: string): string[] | undefined;
}

export interface InterpretOptions {
  /** $1, $2, … */
  positional: string[];
  /** $0 */
  name: string;
  /** Variables the script starts with (DPKG_ROOT, DPKG_MAINTSCRIPT_PACKAGE, …). Others are unknown. */
  env: Record<string, string>;
  host: ShellHost;
}

class ExitSignal {}
class ReturnSignal {
  constructor(readonly status: Tri) {}
}
class LoopSignal {
  constructor(readonly kind: 'break' | 'continue') {}
}

type Vars = Map<string, string | undefined>;

const MAX_CALL_DEPTH = 12;
const MAX_LOOP_VALUES = 64;

export function interpret(script: Node, options: InterpretOptions): void {
  const it = new Interpreter(options);
  try {
    it.exec(script);
  } catch (e) {
    if (!(e instanceof ExitSignal)) throw e;
  }
}

class Interpreter {
  private vars: Vars;
  private positional: Array<string | undefined> | undefined;
  private readonly functions = new Map<string, Node>();
  private certain = true;
  private stdout: Stdout = { to: 'terminal' };
  private depth = 0;
  private inFunction: string | undefined;
  private loopDepth = 0;

  private readonly x: Expander;

  constructor(private readonly options: InterpretOptions) {
    this.vars = new Map(Object.entries(options.env));
    this.positional = [...options.positional];
    this.x = new Expander({
      lookup: (name) => this.lookup(name),
      assign: (name, value) => void this.vars.set(name, value),
      substitute: (text) => options.host.substitute?.(text)?.replace(/\n+$/, ''),
      glob: (pattern) => options.host.glob?.(pattern),
      positional: () => this.positional,
    });
  }

  exec(node: Node): Tri {
    switch (node.type) {
      case 'simple':
        return this.simple(node);
      case 'list': {
        let status: Tri = true;
        for (const item of node.items) status = this.exec(item);
        return status;
      }
      case 'andor': {
        let status = this.exec(node.first);
        for (const { op, node: next } of node.rest) {
          if (status === undefined) {
            const after = this.maybe([next], true)[0];
            status = op === '||' ? (after === true ? true : undefined) : after === false ? false : undefined;
          } else if ((op === '&&') === status) {
            status = this.exec(next);
          }
        }
        return status;
      }
      case 'pipeline': {
        let status: Tri = true;
        const saved = this.stdout;
        node.commands.forEach((c, i) => {
          this.stdout = i < node.commands.length - 1 ? { to: 'pipe' } : saved;
          status = this.exec(c);
        });
        this.stdout = saved;
        return node.negate ? (status === undefined ? undefined : !status) : status;
      }
      case 'if':
        return this.ifClause(node);
      case 'loop': {
        const cond = this.exec(node.cond);
        if (cond === (node.until ? true : false)) return true;
        this.inLoop(() => this.maybe([node.body], true));
        return true;
      }
      case 'for':
        return this.forClause(node);
      case 'case':
        return this.caseClause(node);
      case 'group': {
        if (!node.subshell) return this.exec(node.body);
        const saved = new Map(this.vars);
        const savedPos = this.positional;
        try {
          return this.exec(node.body);
        } catch (e) {
          if (e instanceof ExitSignal) return undefined;
          throw e;
        } finally {
          this.vars = saved;
          this.positional = savedPos;
        }
      }
      case 'function':
        this.functions.set(node.name, node.body);
        return true;
      case 'redirected': {
        const saved = this.stdout;
        this.stdout = this.redirectedStdout(node.redirects, saved);
        try {
          return this.exec(node.node);
        } finally {
          this.stdout = saved;
        }
      }
    }
  }

  /** Run nodes as alternative paths that may or may not be taken; merge what they assign. */
  private maybe(branches: Node[], mayFallThrough: boolean): Tri[] {
    const before = this.vars;
    const savedCertain = this.certain;
    const outcomes: Vars[] = [];
    const statuses: Tri[] = [];
    this.certain = false;
    try {
      for (const b of branches) {
        this.vars = new Map(before);
        try {
          statuses.push(this.exec(b));
        } catch (e) {
          if (!(e instanceof ExitSignal || e instanceof ReturnSignal || e instanceof LoopSignal)) throw e;
          statuses.push(undefined);
        }
        outcomes.push(this.vars);
      }
    } finally {
      this.certain = savedCertain;
    }
    if (mayFallThrough) outcomes.push(before);
    const merged: Vars = new Map();
    const names = new Set(outcomes.flatMap((o) => [...o.keys()]));
    for (const name of names) {
      const values = outcomes.map((o) => (o.has(name) ? o.get(name) : '\u0000unset'));
      merged.set(name, values.every((v) => v === values[0]) && values[0] !== '\u0000unset' ? values[0] : undefined);
    }
    this.vars = merged;
    return statuses;
  }

  private ifClause(node: Extract<Node, { type: 'if' }>): Tri {
    for (let i = 0; i < node.clauses.length; i++) {
      const { cond, body } = node.clauses[i]!;
      const c = this.exec(cond);
      if (c === true) return this.exec(body);
      if (c === undefined) {
        // This body, or any later clause, or none of them.
        const later: Node[] = [body];
        const rest = node.clauses.slice(i + 1);
        for (const clause of rest) later.push({ type: 'list', items: [clause.cond, clause.body] });
        if (node.elseBody) later.push(node.elseBody);
        this.maybe(later, !node.elseBody);
        return undefined;
      }
    }
    return node.elseBody ? this.exec(node.elseBody) : true;
  }

  private forClause(node: Extract<Node, { type: 'for' }>): Tri {
    const values = node.words ? node.words.flatMap((w) => this.x.expandWord(w)) : this.positional ?? [undefined];
    if (values.some((v) => v === undefined) || values.length > MAX_LOOP_VALUES) {
      this.vars.set(node.name, undefined);
      this.inLoop(() => this.maybe([node.body], true));
      return true;
    }
    this.inLoop(() => {
      for (const v of values) {
        this.vars.set(node.name, v);
        try {
          this.exec(node.body);
        } catch (e) {
          if (!(e instanceof LoopSignal)) throw e;
          if (e.kind === 'break') break;
        }
      }
    });
    return true;
  }

  private inLoop(fn: () => void): void {
    this.loopDepth++;
    try {
      fn();
    } catch (e) {
      if (!(e instanceof LoopSignal)) throw e;
    } finally {
      this.loopDepth--;
    }
  }

  private caseClause(node: Extract<Node, { type: 'case' }>): Tri {
    const subject = this.x.expandString(node.word);
    for (let i = 0; i < node.items.length; i++) {
      const item = node.items[i]!;
      const matches = item.patterns.map((p) => this.x.matchPattern(subject, p));
      if (matches.includes(true)) return this.exec(item.body);
      if (matches.includes(undefined)) {
        this.maybe(
          node.items.slice(i).map((x) => x.body),
          true,
        );
        return undefined;
      }
    }
    return true;
  }

  private simple(node: SimpleCommand): Tri {
    const words = node.words.flatMap((w) => this.x.expandWord(w));
    const assigns = node.assigns.map((a) => ({ name: a.name, value: this.x.expandString(a.value) }));
    const name = words[0];

    if (name !== undefined && this.functions.has(name) && !node.assigns.length) {
      return this.callFunction(name, words.slice(1), node);
    }

    const cmd: ExecutedCommand = {
      line: node.line,
      raw: node.raw,
      words,
      assigns,
      stdout: this.redirectedStdout(node.redirects, this.stdout),
      certain: this.certain,
      ...(this.inFunction ? { inFunction: this.inFunction } : {}),
    };
    const heredoc = node.redirects.find((r) => r.heredoc);
    if (heredoc?.heredoc) cmd.stdin = { heredoc: heredoc.heredoc.quoted ? heredoc.heredoc.body : this.x.expandParts(heredocParts(heredoc.heredoc.body)) };
    const status = this.options.host.run(cmd);

    if (words.length === 0) {
      for (const a of assigns) this.vars.set(a.name, a.value);
      return assigns.some((a) => a.value === undefined) ? undefined : true;
    }
    return this.builtin(words, status);
  }

  /** Shell state changes of builtins; the host has already classified the command. */
  private builtin(words: Array<string | undefined>, status: Tri): Tri {
    const [name, ...args] = words;
    switch (name) {
      case 'exit':
        if (this.certain) throw new ExitSignal();
        return undefined;
      case 'return':
        if (this.certain && this.inFunction) throw new ReturnSignal(args.length === 0 || args[0] === '0' ? true : args[0] === undefined ? undefined : false);
        return undefined;
      case 'break':
      case 'continue':
        if (this.certain && this.loopDepth > 0) throw new LoopSignal(name);
        return undefined;
      case 'set': {
        // `set -- a b` and `set a b` replace the positional parameters; `set -e` and the like change nothing here.
        const dash = args.indexOf('--');
        if (dash >= 0) this.positional = args.slice(dash + 1).some((a) => a === undefined) ? undefined : args.slice(dash + 1);
        else if (args.length && args[0] !== undefined && !/^[-+]/.test(args[0])) this.positional = args.some((a) => a === undefined) ? undefined : [...args];
        return true;
      }
      case 'shift': {
        const n = args[0] === undefined ? 1 : Number(args[0]);
        this.positional = this.positional && Number.isInteger(n) ? this.positional.slice(n) : undefined;
        return true;
      }
      case 'local':
      case 'export':
      case 'readonly':
        for (const a of args) {
          const m = a === undefined ? undefined : /^([A-Za-z_][A-Za-z0-9_]*)(?:=([\s\S]*))?$/.exec(a);
          if (m?.[2] !== undefined) this.vars.set(m[1]!, m[2]);
          else if (m && name === 'local') this.vars.set(m[1]!, '');
        }
        if (args.some((a) => a === undefined)) this.markAllUnknown(args);
        return true;
      case 'unset':
        for (const a of args) if (a !== undefined && !a.startsWith('-')) this.vars.set(a, '');
        return true;
      case 'read':
        for (const a of args) if (a !== undefined && !a.startsWith('-')) this.vars.set(a, undefined);
        return undefined;
      default:
        if (name === 'db_get') this.vars.set('RET', args[0] === undefined ? undefined : this.options.host.debconf?.(args[0]));
        else if (name?.startsWith('db_')) this.vars.set('RET', undefined);
        return status;
    }
  }

  /** `local x=$(…)` and the like: the named variables become unknown. */
  private markAllUnknown(args: Array<string | undefined>): void {
    for (const a of args) {
      const m = a === undefined ? undefined : /^([A-Za-z_][A-Za-z0-9_]*)/.exec(a);
      if (m) this.vars.set(m[1]!, undefined);
    }
  }

  private callFunction(name: string, args: Array<string | undefined>, node: SimpleCommand): Tri {
    if (this.depth >= MAX_CALL_DEPTH) {
      return this.options.host.run({ line: node.line, raw: node.raw, words: [name, ...args], assigns: [], stdout: this.stdout, certain: this.certain });
    }
    const savedPos = this.positional;
    const savedFn = this.inFunction;
    this.positional = args;
    this.inFunction = name;
    this.depth++;
    try {
      return this.exec(this.functions.get(name)!);
    } catch (e) {
      if (e instanceof ReturnSignal) return e.status;
      throw e;
    } finally {
      this.depth--;
      this.positional = savedPos;
      this.inFunction = savedFn;
    }
  }

  private redirectedStdout(redirects: Redirect[], current: Stdout): Stdout {
    let out = current;
    for (const r of redirects) {
      const fd = r.fd ?? (r.op.startsWith('<') ? 0 : 1);
      if (r.op === '<' || r.op === '<<' || r.op === '<<-' || r.op === '<&' || r.op === '<>') continue;
      const target = r.target ? this.x.expandString(r.target) : undefined;
      if (r.op === '>&') {
        if (fd === 1 && target !== '1') out = { to: 'terminal' }; // >&2: to stderr
        continue;
      }
      if (fd !== 1 && r.op !== '&>') continue;
      out = target === '/dev/null' ? { to: 'terminal' } : { to: 'file', path: target, append: r.op === '>>' };
    }
    return out;
  }

  /** A variable's value: `set: false` means unset (empty), value undefined with set undefined means unknown. */
  private lookup(name: string): { value: string | undefined; set: boolean | undefined } {
    if (/^[0-9]+$/.test(name)) {
      const n = Number(name);
      if (n === 0) return { value: this.options.name, set: true };
      if (!this.positional) return { value: undefined, set: undefined };
      return n <= this.positional.length ? { value: this.positional[n - 1], set: true } : { value: '', set: false };
    }
    if (name === '#') return this.positional ? { value: String(this.positional.length), set: true } : { value: undefined, set: undefined };
    if (name === '@' || name === '*') {
      if (!this.positional || this.positional.some((p) => p === undefined)) return { value: undefined, set: undefined };
      return { value: this.positional.join(' '), set: true };
    }
    if (!this.vars.has(name)) return { value: undefined, set: undefined };
    const value = this.vars.get(name);
    return { value, set: value === undefined ? undefined : true };
  }
}
