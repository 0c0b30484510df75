/**
 * A symbolic interpreter for maintainer scripts. It walks the script as sh would
 * for one invocation (`postinst configure` on a first install, say), expanding
 * what is knowable — literals, assigned variables, positional parameters — and
 * marking everything else unknown. Conditions are three-valued: a condition the
 * host can decide (a file test against the image tree, `[ "$1" = configure ]`)
 * picks its branch; an undecidable one runs every branch in "maybe" mode, after
 * which variables that the branches set differently become unknown.
 *
 * This file holds the compound commands (lists, and-or lists, pipelines, if,
 * loops, case, groups, function definitions); the simple commands — what the
 * host is handed, builtins, function calls — and the shell state are in
 * simple-command.ts.
 */
import type { Node } from './ast.js';
import type { Tri } from './expand.js';
import { ExitSignal, LoopSignal, ReturnSignal, SimpleCommandRunner, type InterpretOptions, type Vars } from './simple-command.js';

export { globToRegExp, type Tri } from './expand.js';
export type { ExecutedCommand, InterpretOptions, ShellHost, Stdout } from './simple-command.js';

const MAX_LOOP_VALUES = 64;

export function interpret(script: Node, options: InterpretOptions): void {
  const it = new Interpreter(options);
  try {
    it.exec(script);
  } catch (e) {
    if (!(e instanceof ExitSignal)) throw e;
  }
}

class Interpreter extends SimpleCommandRunner {
  override exec(node: Node): Tri {
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
}
