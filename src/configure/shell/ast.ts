/**
 * The subset of POSIX sh that Debian maintainer scripts are written in, as a tree.
 * Words keep their parts (literal text, parameter expansions, command
 * substitutions) so that the interpreter can expand what is knowable and mark
 * the rest as unknown instead of guessing.
 */

export type Part =
  /** Literal text; `quoted` text is inert (no globbing, no field splitting). */
  | { kind: 'lit'; text: string; quoted: boolean }
  /** `$name`, `${name}`, `${name:-word}`…; `op` is the operator (`:-`, `-`, `:+`, `+`, `:=`, `=`, `#`, `##`, `%`, `%%`, `#len`, or `other`). */
  | { kind: 'param'; name: string; op?: string; arg?: Word; quoted: boolean }
  /** `$(…)`, `` `…` `` or `$((…))`: not run; the host may know its value (`$(command -v x)`), else it is unknown. */
  | { kind: 'subst'; text: string; quoted: boolean };

export interface Word {
  parts: Part[];
  /** Source text of the word. */
  raw: string;
}

export interface Redirect {
  /** `>`, `>>`, `<`, `<<`, `<<-`, `>&`, `<&`, `<>`, `>|`, `&>`. */
  op: string;
  fd?: number;
  target?: Word;
  /** Here-document body (filled in when the lexer reaches the end of the line). */
  heredoc?: { body: string; quoted: boolean };
}

export interface SimpleCommand {
  type: 'simple';
  line: number;
  assigns: Array<{ name: string; value: Word }>;
  words: Word[];
  redirects: Redirect[];
  /** Source text, continuation lines joined. */
  raw: string;
}

export type Node =
  | SimpleCommand
  | { type: 'pipeline'; negate: boolean; commands: Node[] }
  | { type: 'andor'; first: Node; rest: Array<{ op: '&&' | '||'; node: Node }> }
  | { type: 'list'; items: Node[] }
  | { type: 'if'; clauses: Array<{ cond: Node; body: Node }>; elseBody?: Node }
  | { type: 'loop'; until: boolean; cond: Node; body: Node }
  | { type: 'for'; name: string; words?: Word[]; body: Node }
  | { type: 'case'; word: Word; items: Array<{ patterns: Word[]; body: Node }> }
  | { type: 'group'; subshell: boolean; body: Node }
  | { type: 'function'; name: string; body: Node; line: number }
  | { type: 'redirected'; node: Node; redirects: Redirect[] };
