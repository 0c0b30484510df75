/**
 * Commands of Debian's Essential packages that unit steps and shell lines run. No
 * package declares a dependency on an Essential package, so an image made of the
 * workload's dependencies has no mkdir or chown unless asked: a unit's
 * `ExecStartPre=-/bin/mkdir -p /run/x`, or `sh -c 'mkdir -p /run/x; chown …; exec d'`,
 * would stop at "mkdir: not found". init adds the package of each such command that
 * the steps (workload.pre) or a shell command line run. docs/init.md lists this table.
 */

/** Package → the commands it ships that services' steps commonly run (merged /usr: /bin/x is /usr/bin/x). */
export const ESSENTIAL_COMMANDS: Readonly<Record<string, readonly string[]>> = {
  coreutils: [
    'mkdir', 'chown', 'chmod', 'chgrp', 'cp', 'mv', 'rm', 'rmdir', 'ln', 'touch', 'cat', 'install', 'id', 'ls',
    'head', 'tail', 'cut', 'tr', 'sort', 'uniq', 'wc', 'basename', 'dirname', 'readlink', 'realpath', 'mktemp',
    'date', 'sleep', 'env', 'stat', 'tee', 'dd', 'seq', 'sync', 'whoami', 'nproc', 'true', 'false', 'echo', 'printf', 'test',
  ],
  sed: ['sed'],
  grep: ['grep', 'egrep', 'fgrep'],
  findutils: ['find', 'xargs'],
  'util-linux': ['getopt', 'runuser', 'setpriv', 'flock', 'mountpoint'],
  bsdutils: ['logger'],
  debianutils: ['run-parts', 'savelog'],
  gzip: ['gzip', 'gunzip', 'zcat'],
  tar: ['tar'],
};

/** dash's builtins: a shell line runs these without a program (`[ -d x ] && …`, `echo`). */
const SHELL_BUILTINS = new Set(['echo', 'printf', 'test', '[', 'true', 'false', 'cd', 'exec', 'export', 'set', 'unset', 'read', 'kill', 'umask', 'exit', 'return', 'shift', 'trap', 'wait', 'eval', '.', ':', 'command', 'type', 'local']);

const packageOf = (name: string): string | undefined => Object.keys(ESSENTIAL_COMMANDS).find((p) => ESSENTIAL_COMMANDS[p]!.includes(name));

/** The commands a shell script line runs: the first word of each simple command (after `VAR=x` assignments and `exec`). */
export function scriptCommands(script: string): string[] {
  const out: string[] = [];
  // Control operators and reserved words start a new command; quoted text is blanked so that `;` in a string does not split.
  const plain = script.replace(/'[^']*'|"(?:[^"\\]|\\.)*"/g, 'Q');
  for (const part of plain.split(/;|&&|\|\||\||&|\n|\(|\)|`|\$\(/)) {
    const words = part.trim().split(/\s+/).filter(Boolean);
    while (words.length && /^(then|else|elif|do|done|fi|esac|if|while|until|!|\{|\}|exec|[A-Za-z_][A-Za-z0-9_]*=\S*)$/.test(words[0]!)) words.shift();
    const first = words[0];
    if (first && !out.includes(first)) out.push(first);
  }
  return out;
}

export interface EssentialNeed {
  package: string;
  command: string;
  why: string;
}

/**
 * The Essential packages a step needs: its program, when it is one of the table's
 * (`/bin/mkdir`), and the commands a shell's `-c` script runs (builtins aside).
 * `where` says what the step is, for the reason.
 */
export function essentialNeeds(argv: readonly string[], where: string): EssentialNeed[] {
  const program = (argv[0] ?? '').replace(/^[-@+!:]+/, '');
  const base = program.slice(program.lastIndexOf('/') + 1);
  const needs: EssentialNeed[] = [];
  const add = (command: string, why: string) => {
    const pkg = packageOf(command);
    if (pkg && !needs.some((n) => n.package === pkg)) needs.push({ package: pkg, command, why });
  };
  if (/^(ba|da)?sh$/.test(base) && argv.includes('-c')) {
    const script = argv[argv.indexOf('-c') + 1] ?? '';
    for (const c of scriptCommands(script)) {
      const name = c.slice(c.lastIndexOf('/') + 1);
      if (!SHELL_BUILTINS.has(name) || c.includes('/')) add(name, `${where} is a shell line that runs ${c}`);
    }
  } else add(base, `${where} runs ${program}`);
  return needs;
}
