/**
 * Scripts, read just far enough to keep what they run: the `#!` interpreter
 * (and the program `env` starts), the commands a shell script runs in command
 * position, and absolute paths of programs any script names. It is a scan,
 * not a shell parser: a command it misses is what the behaviour check catches,
 * and one it keeps too many costs a little space.
 */
import { posix } from 'node:path';
import type { ImageTree } from '../tree/index.js';

export interface Shebang {
  interpreter: string;
  /** The program `#!/usr/bin/env NAME` runs, looked up on PATH. */
  command?: string;
  shell: boolean;
}

const SHELLS = new Set(['sh', 'dash', 'bash', 'ash', 'ksh', 'mksh', 'zsh', 'busybox']);

/** Words that stand in command position but are not commands, or take a command after them. */
const PREFIXES = new Set(['if', 'then', 'else', 'elif', 'while', 'until', 'do', '!', 'exec', 'command', 'nohup', 'time', 'env', 'nice', 'xargs', 'setsid', 'chroot']);
const BUILTINS = new Set([
  'fi', 'done', 'esac', 'case', 'for', 'in', 'function', 'return', 'exit', 'break', 'continue', 'echo', 'printf', 'read',
  'test', '[', '[[', ']]', 'cd', 'set', 'unset', 'export', 'local', 'shift', 'trap', 'wait', 'eval', 'true', 'false',
  ':', '.', 'source', 'umask', 'ulimit', 'readonly', 'getopts', 'type', 'hash', 'alias', 'let', 'declare', 'typeset',
]);

export function shebangOf(data: Buffer): Shebang | undefined {
  if (data[0] !== 0x23 || data[1] !== 0x21) return undefined;
  const end = data.indexOf(0x0a);
  const line = data.subarray(2, end < 0 ? Math.min(data.length, 256) : end).toString('latin1').trim();
  const words = line.split(/\s+/).filter(Boolean);
  const interpreter = words[0];
  if (!interpreter?.startsWith('/')) return undefined;
  let command: string | undefined;
  if (posix.basename(interpreter) === 'env') {
    command = words.slice(1).find((w) => !w.startsWith('-') && !/^[A-Za-z_][A-Za-z0-9_]*=/.test(w));
  }
  const program = posix.basename(command ?? interpreter);
  return { interpreter, ...(command ? { command } : {}), shell: SHELLS.has(program) };
}

/** Commands a script may run: words in command position (shell scripts) and absolute program paths (any script). */
export function scriptCommands(text: string, shebang: Shebang): string[] {
  const found = new Set<string>();
  for (const m of text.matchAll(/(?<![\w.$/-])(\/(?:usr\/)?(?:local\/)?(?:s?bin|lib|libexec)\/[A-Za-z0-9_.+/-]+)/g)) found.add(m[1]!);
  if (shebang.shell) for (const word of shellCommandWords(text)) found.add(word);
  return [...found];
}

/** Words in command position in shell text. */
export function shellCommandWords(text: string): string[] {
  const words = new Set<string>();
  for (const raw of text.split('\n')) {
    const line = raw.replace(/(^|\s)#.*$/, '');
    for (const segment of line.split(/;|&&|\|\||\||\$\(|`|\(|\)|\{|\}|&/)) {
      const tokens = segment.trim().split(/\s+/).filter(Boolean);
      let i = 0;
      while (i < tokens.length && (PREFIXES.has(tokens[i]!) || /^[A-Za-z_][A-Za-z0-9_]*=/.test(tokens[i]!) || (i > 0 && tokens[i]!.startsWith('-') && PREFIXES.has(tokens[i - 1]!)))) i++;
      const word = tokens[i];
      if (!word || BUILTINS.has(word) || !/^[A-Za-z0-9_./+-]+$/.test(word) || word.startsWith('-')) continue;
      if (word.includes('/') && !word.startsWith('/')) continue;
      words.add(word);
    }
  }
  return [...words];
}

/** The search path a command is found on when the workload's environment sets none (systemd's, and a shell's default). */
export const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** A program a command runs, as the real path in the tree, and the script that runs it (none: the command's own program). */
export interface ProgramRun {
  path: string;
  via?: string;
}

/** Find a command as execvp() does: an absolute path as it is, a bare name on PATH. The tree path, or undefined. */
export function findCommand(tree: ImageTree, word: string, path: string = DEFAULT_PATH): string | undefined {
  const isProgram = (p: string): boolean => {
    try {
      const node = tree.stat(p);
      return node !== undefined && node.kind !== 'dir';
    } catch {
      return false;
    }
  };
  if (word.includes('/')) return word.startsWith('/') && isProgram(word) ? word.replace(/^\/+/, '') : undefined;
  for (const dir of path.split(':')) {
    const candidate = `${dir.replace(/^\/+|\/+$/g, '')}/${word}`.replace(/^\/+/, '');
    if (dir && isProgram(candidate)) return candidate;
  }
  return undefined;
}

/**
 * The programs a command line runs: its own program and, when that is a script (a wrapper
 * such as a start.sh that ends with `exec nginx`), the programs the script runs — read as
 * the trim reads scripts (commands in command position, absolute program paths) — and so
 * on through the scripts among them. Shells and `env` are not counted as programs run (a
 * shell script runs its shell; `sh -c '…'` counts the commands in the string): they say
 * nothing about what the command is. Paths are real tree paths (symlinks followed).
 */
export function programsRunBy(tree: ImageTree, argv: readonly string[], path: string = DEFAULT_PATH): ProgramRun[] {
  const found = new Map<string, ProgramRun>();
  const real = (p: string): string | undefined => {
    try {
      return tree.resolve(p, { followLast: true });
    } catch {
      return undefined;
    }
  };
  const visit = (word: string, via: string | undefined, words: readonly string[] = []): void => {
    const at = findCommand(tree, word, path);
    const program = at === undefined ? undefined : real(at);
    if (program === undefined || found.has(program)) return;
    const name = posix.basename(program);
    if (SHELLS.has(name) || name === 'env') {
      // `sh -c '…'`: the commands in the string.
      const c = words.indexOf('-c');
      if (SHELLS.has(name) && c > 0 && words[c + 1] !== undefined) for (const w of shellCommandWords(words[c + 1]!)) visit(w, via);
      return;
    }
    found.set(program, { path: program, ...(via ? { via: `/${via}` } : {}) });
    const data = tree.readFile(program);
    const shebang = data ? shebangOf(data) : undefined;
    if (!data || !shebang) return;
    const interpreter = real(shebang.interpreter.replace(/^\/+/, ''));
    for (const w of scriptCommands(data.toString('utf8'), shebang)) {
      const target = findCommand(tree, w, path);
      if (target !== undefined && real(target) === interpreter) continue; // the `#!` line itself
      visit(w, program);
    }
  };
  if (argv.length) visit(argv[0]!, undefined, argv);
  return [...found.values()];
}
