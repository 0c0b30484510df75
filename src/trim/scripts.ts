/**
 * Scripts, read just far enough to keep what they run: the `#!` interpreter
 * (and the program `env` starts), the commands a shell script runs in command
 * position, and absolute paths of programs any script names. It is a scan,
 * not a shell parser: a command it misses is what the behaviour check catches,
 * and one it keeps too many costs a little space.
 */
import { posix } from 'node:path';

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
