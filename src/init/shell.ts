/**
 * What a command needs from the shell that Debian packages take for granted.
 * dash (/bin/sh) and bash are Essential: no package declares a dependency on
 * them, so an image made of a package's dependencies has no shell. init adds the
 * package (to workload.packages) when the command is a shell (`sh -c …`), a script
 * whose `#!` names one (or /usr/bin/env, from coreutils), or an ELF program that
 * runs one: it imports system() or popen(), or an exec function and holds the
 * string "/bin/sh". The trim then keeps /bin/sh for it (its shell rule, docs/trim.md).
 */
import { isElf, readImports } from '../elf/index.js';

/** Essential interpreters and the package that ships each (merged /usr: /bin/sh is /usr/bin/sh). */
export const ESSENTIAL_INTERPRETERS: Record<string, string> = {
  sh: 'dash',
  dash: 'dash',
  bash: 'bash',
  env: 'coreutils',
};

const SHELL_CALLS = ['system', 'popen'];
const EXEC_CALLS = ['execl', 'execle', 'execlp', 'execv', 'execve', 'execvp', 'execvpe', 'posix_spawn', 'posix_spawnp'];

export interface ShellNeed {
  /** The interpreter's path as the command or file names it. */
  interpreter: string;
  package: string;
  why: string;
}

/** The essential interpreter a program file needs, if any: from its `#!` line, or the calls an ELF file imports. */
export function interpreterNeed(path: string, data: Buffer): ShellNeed | undefined {
  if (data.subarray(0, 2).toString('latin1') === '#!') {
    const line = data.subarray(2, Math.min(data.length, 256)).toString('latin1').split('\n')[0]!.trim();
    const interpreter = line.split(/\s+/)[0] ?? '';
    const pkg = ESSENTIAL_INTERPRETERS[interpreter.slice(interpreter.lastIndexOf('/') + 1)];
    return pkg ? { interpreter, package: pkg, why: `${path} is a script for ${interpreter} (#!${line})` } : undefined;
  }
  if (!isElf(data)) return undefined;
  const imports = readImports(data, path);
  const call = SHELL_CALLS.find((s) => imports.has(s));
  if (call) return { interpreter: '/bin/sh', package: 'dash', why: `${path} imports ${call}(), which runs its command with /bin/sh` };
  const exec = EXEC_CALLS.find((s) => imports.has(s));
  if (exec && data.includes('/bin/sh\0')) return { interpreter: '/bin/sh', package: 'dash', why: `${path} imports ${exec}() and names /bin/sh` };
  return undefined;
}

/** A command that is a shell running a script line (`/bin/sh -c '…'`): the shell's package. */
export function shellCommand(argv: string[]): ShellNeed | undefined {
  const path = argv[0] ?? '';
  const pkg = ESSENTIAL_INTERPRETERS[path.slice(path.lastIndexOf('/') + 1)];
  if (!pkg || pkg === 'coreutils') return undefined;
  return { interpreter: path, package: pkg, why: `the command is ${path}${argv.includes('-c') ? ' -c …' : ''}` };
}

/**
 * The program a shell command line ends by exec'ing, with its arguments: a unit's
 * `sh -c "mkdir -p /run/x; exec /usr/sbin/daemon -f"` runs the daemon, and the shell's
 * steps before it. The last `exec` of the script with an absolute path; its words split as
 * the shell would for plain and quoted words (no expansion).
 */
export function execTarget(argv: string[]): { path: string; args: string[] } | undefined {
  if (!shellCommand(argv)) return undefined;
  const script = argv[argv.indexOf('-c') + 1];
  if (!argv.includes('-c') || script === undefined) return undefined;
  const execs = [...script.matchAll(/(?:^|[;&|\n(]|\bthen|\belse|\bdo)\s*exec\s+([^;&|\n)]+)/g)];
  const line = execs.at(-1)?.[1];
  if (!line) return undefined;
  const words = [...line.matchAll(/"([^"]*)"|'([^']*)'|(\S+)/g)].map((m) => m[1] ?? m[2] ?? m[3]!);
  // exec's own options (exec -a NAME) come before the program.
  while (words[0]?.startsWith('-')) words.splice(0, words[0] === '-a' ? 2 : 1);
  const [path, ...args] = words;
  return path?.startsWith('/') ? { path, args } : undefined;
}
