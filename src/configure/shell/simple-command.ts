/**
 * Simple commands for the maintainer-script interpreter (interpret.ts), and the
 * shell state they read and change. Every simple command that would run is
 * handed to the host, which classifies it and answers its exit status when it
 * can; builtins then change what the shell knows (variables, positional
 * parameters) or leave the script, a function or a loop. Function calls are
 * inlined with their arguments, so a helper such as
 * `install_directory var/mail 2775 mail` is seen as the mkdir/chown/chmod it performs.
 */
import type { Node, Redirect, SimpleCommand } from './ast.js';
import { Expander, type Tri } from './expand.js';
import { heredocParts } from './lex.js';

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

/** How `exit`, `return`, `break` and `continue` leave what they are in; the interpreter catches them. */
export class ExitSignal {}
export class ReturnSignal {
  constructor(readonly status: Tri) {}
}
export class LoopSignal {
  constructor(readonly kind: 'break' | 'continue') {}
}

export type Vars = Map<string, string | undefined>;

const MAX_CALL_DEPTH = 12;

/** The shell state and the simple commands; the interpreter adds the compound commands (exec). */
export abstract class SimpleCommandRunner {
  protected vars: Vars;
  protected positional: Array<string | undefined> | undefined;
  protected readonly functions = new Map<string, Node>();
  protected certain = true;
  protected stdout: Stdout = { to: 'terminal' };
  private depth = 0;
  private inFunction: string | undefined;
  protected loopDepth = 0;

  protected readonly x: Expander;

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

  abstract exec(node: Node): Tri;

  protected simple(node: SimpleCommand): Tri {
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

  protected redirectedStdout(redirects: Redirect[], current: Stdout): Stdout {
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
