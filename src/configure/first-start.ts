/**
 * The per-instance steps the maintainer scripts would have run (maintscripts/secrets.ts), as
 * first-start steps: each secret with the chmod/chown steps that follow on its paths, run by
 * /bin/sh before the workload while one of its files is missing, with a umask that keeps the
 * secret private from the moment it is written. The build runs them after workload.pre's own
 * steps, in the container's start script and as the VM unit's ExecStartPre= (docs/build.md).
 */
import type { ImageTree } from '../tree/index.js';
import { shellQuote } from '../util/shell-quote.js';
import type { ScriptScan } from './scripts.js';
import type { FirstStartStep } from './types.js';

export function firstStartSteps(scan: ScriptScan, pre: readonly string[][] = []): FirstStartStep[] {
  const steps: FirstStartStep[] = [];
  for (const c of scan.firstStart) {
    const text = c.text ?? [...c.words.map(shellQuote), ...(c.stdout ? ['>', shellQuote(c.stdout)] : [])].join(' ');
    const group = c.makes ? undefined : [...steps].reverse().find((s) => c.paths.some((p) => s.paths.includes(p)));
    if (group) {
      group.commands.push(text);
      group.from.push(`${c.pkg} ${c.script}: ${c.command}`);
      for (const p of c.packages) if (!group.packages.includes(p)) group.packages.push(p);
      for (const p of c.programs) if (!group.programs.includes(p)) group.programs.push(p);
      continue;
    }
    if (!c.makes) continue;
    steps.push({
      paths: [...c.paths],
      commands: [text],
      from: [`${c.pkg} ${c.script}: ${c.command}`],
      packages: [...c.packages],
      programs: [...c.programs],
      argv: [],
      ...(answeredBy(c.paths, c.words[0]!, pre) ? { answered: true } : {}),
    });
  }
  for (const s of steps) {
    const missing = s.paths.map((p) => `[ ! -e ${shellQuote(p)} ]`).join(' || ');
    s.argv = ['/bin/sh', '-c', `if ${missing}; then umask 077 && ${s.commands.join(' && ')}; fi`];
  }
  return steps;
}

/** workload.pre already makes it: a step names one of its files, or runs its program. */
function answeredBy(paths: readonly string[], program: string, pre: readonly string[][]): boolean {
  const name = program.slice(program.lastIndexOf('/') + 1);
  return pre.some((argv) => argv.some((a) => paths.some((p) => a.includes(p)) || a === program || a.endsWith(`/${name}`) || new RegExp(`(^|[\\s/;&|])${name.replace(/[.]/g, '\\.')}(\\s|$)`).test(a)));
}

/**
 * Steps the image cannot run (no /bin/sh, or a program it lacks) are not made at start: their
 * script lines become not reproduced, with what is missing, so that the workload check makes one
 * that touches what the workload uses an error (and a secret nothing uses stays a line in build.json).
 */
export function markUnrunnable(scan: ScriptScan, steps: FirstStartStep[], tree: ImageTree): void {
  for (const s of steps) {
    if (s.answered) continue;
    const lacks = [...(tree.stat('bin/sh') ? [] : ['/bin/sh']), ...s.programs.filter((p) => !p.startsWith('/'))];
    if (!lacks.length) continue;
    s.lacks = lacks;
    for (const log of scan.logs) {
      for (const e of log.entries) {
        if (!s.from.includes(`${log.pkg} ${log.script}: ${e.text}`)) continue;
        e.status = 'notReproduced';
        e.note = `a per-instance secret, made at first start, but the image lacks ${lacks.join(', ')} to make it (packages: ${s.packages.join(', ')}, and dash for /bin/sh)`;
      }
    }
  }
}
