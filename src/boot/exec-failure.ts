/**
 * When the workload cannot even start: "exec /usr/bin/foo: no such file or
 * directory" (the container runtime), "Failed to execute …: No such file or
 * directory" or status 203/EXEC (systemd in a VM). The program is there; what the
 * kernel could not find is its interpreter — the `#!` line of a script or the
 * PT_INTERP of an ELF file. The trim read both when it built the image and recorded
 * what it could not find (build.json `trim.missing`); this names it, with the package
 * that ships it.
 */

/** Something a kept file needs that the image does not have, as build.json records it. */
export interface MissingEntry {
  what: string;
  neededBy: string;
  why: string;
}

export interface MissingInterpreter {
  program: string;
  interpreter: string;
  /** The Debian package that ships it, when jeos knows. */
  package?: string;
  message: string;
}

/** What the runtimes print when execve() fails with ENOENT. */
const EXEC_ENOENT = [/exec(ute)? [^\n]*: no such file or directory/i, /status=203\/EXEC/, /executable file [^\n]* not found/i, /exited with status 127\b/];

export function isExecNotFound(text: string): boolean {
  return EXEC_ENOENT.some((re) => re.test(text));
}

/** Interpreters and the package that ships each, by base name (merged /usr: /bin/sh is /usr/bin/sh). */
export const INTERPRETER_PACKAGES: Record<string, string> = {
  sh: 'dash',
  dash: 'dash',
  bash: 'bash',
  env: 'coreutils',
  busybox: 'busybox',
  perl: 'perl-base',
  python3: 'python3-minimal',
  'ld-linux-x86-64.so.2': 'libc6',
  'ld-linux-aarch64.so.1': 'libc6',
  'ld-linux-armhf.so.3': 'libc6',
  'ld-linux-riscv64-lp64d.so.1': 'libc6',
  'ld-linux.so.2': 'libc6',
};

function packageOf(interpreter: string): string | undefined {
  const base = interpreter.slice(interpreter.lastIndexOf('/') + 1);
  return INTERPRETER_PACKAGES[base] ?? INTERPRETER_PACKAGES[base.replace(/[\d.]+$/, '')];
}

/**
 * The missing interpreters that explain a failed start: those of the workload's program
 * (or of the file its path leads to), else every missing interpreter the trim recorded.
 */
export function missingInterpreters(missing: MissingEntry[], command: string[]): MissingInterpreter[] {
  const interpreters = missing.filter((m) => m.why === 'interpreter');
  const program = command[0];
  const own = program ? interpreters.filter((m) => m.neededBy === program || m.neededBy === program.replace(/^\/(s?bin)\//, '/usr/$1/')) : [];
  return (own.length ? own : interpreters).map((m) => {
    const pkg = packageOf(m.what);
    const fix = pkg ? `add ${pkg} to workload.packages` : `add the package that ships it to workload.packages (jeos search ${m.what})`;
    return { program: m.neededBy, interpreter: m.what, ...(pkg ? { package: pkg } : {}), message: `${m.neededBy} needs ${m.what}, which is not in the image; ${fix}` };
  });
}
