/**
 * workload.pre: the per-instance steps a unit runs before its daemon (ExecStartPre=: a
 * DNSSEC trust anchor, host keys, a database's first initialisation, a secret file),
 * run at every start of the image, VM and container alike, before the command.
 *
 * - VM: the workload's unit carries them as ExecStartPre= (src/vm/system/units.ts).
 * - Container: there is no init, so the entrypoint is a small script, /etc/jeos/start,
 *   that runs each step (as the image's user, as systemd runs ExecStartPre= as User=)
 *   and then execs the command it is given (`/etc/jeos/start PROGRAM ARGS…`, so the
 *   image's Cmd still holds the arguments and `podman run IMAGE ARGS` replaces them).
 *
 * Why a shell script rather than a program of jeos's own in the image: jeos puts only
 * Debian's binaries into an image, and the steps themselves are Debian programs that a
 * shell starts as systemd would; dash (about 100 KiB, and what Debian's /bin/sh is)
 * is the cost. The build refuses pre-steps when the image has no /bin/sh.
 */
import { JeosError } from '../errors.js';
import { argv } from '../util/argv.js';
import { shellQuote } from '../util/shell-quote.js';
import type { FirstStartStep } from '../configure/types.js';
import type { BuildContext, Step } from './variant.js';

/** Where the container's start script is, as an image path. */
export const START_SCRIPT = '/etc/jeos/start';

export interface PreStep {
  argv: string[];
  /** systemd's `-` prefix: a failure does not stop the start. */
  mayFail: boolean;
}

/** workload.pre read as systemd reads ExecStartPre= prefixes: `-` lets the step fail; `+`, `!` and `!!` (privileges) are refused in a container unless it runs as root. */
export function preSteps(pre: ReadonlyArray<string | string[]>): PreStep[] {
  return pre.map((p) => {
    const words = argv(p);
    const m = /^([-+!@:]*)(.*)$/.exec(words[0]!)!;
    if (m[1]!.includes('@') || m[1]!.includes(':')) {
      throw new JeosError('E_WORKLOAD_PRE', `workload.pre: ${words.join(' ')}: the prefixes @ and : are not supported`, {
        hint: 'write the step as the program and its arguments, as they should run',
      });
    }
    if (!m[2]!.startsWith('/')) {
      throw new JeosError('E_WORKLOAD_PRE', `workload.pre: ${words.join(' ')}: the program must be an absolute path`, { hint: 'give the program\'s full path in the image, as a unit\'s ExecStartPre= does' });
    }
    return { argv: [m[2]!, ...words.slice(1)], mayFail: m[1]!.includes('-') };
  });
}

/** The script: each step in order, stopping at the first failure (`set -e`) unless it may fail, then the command. */
export function startScript(steps: readonly PreStep[]): string {
  return [
    '#!/bin/sh',
    "# Made by jeos from workload.pre in jeos.yaml: the steps before the workload's command, at every start.",
    'set -e',
    ...steps.map((s) => `${s.argv.map(shellQuote).join(' ')}${s.mayFail ? ' || true' : ''}`),
    'exec "$@"',
    '',
  ].join('\n');
}

/**
 * The per-instance secrets the packages' maintainer scripts make (the configure stage's
 * firstStart) join workload.pre, after its own steps, so that the container's start script,
 * the VM's ExecStartPre= and the image's entrypoint run them as they run the user's. The
 * image and the VM add the same steps; each is added once.
 */
export function addFirstStartSteps(ctx: BuildContext, steps: readonly FirstStartStep[]): number {
  const w = ctx.config.workload;
  let added = 0;
  for (const s of steps) {
    // One the image cannot run is a not-reproduced line of the configure report (an error when the workload uses its file).
    if (s.answered || s.lacks) continue;
    const key = JSON.stringify(s.argv);
    if (w.pre.some((p) => JSON.stringify(p) === key)) continue;
    w.pre.push([...s.argv]);
    added++;
  }
  return added;
}

/** The container image's step: /etc/jeos/start when workload.pre has steps. */
export const startScriptStep: Step = {
  name: 'start-script',
  when: (ctx) => ctx.config.workload.pre.length > 0,
  async run(ctx, state) {
    const w = ctx.config.workload;
    if (!w.command) {
      throw new JeosError('E_WORKLOAD_PRE', 'workload.pre has steps but there is no workload.command to run after them', { hint: 'give workload.command, or remove workload.pre' });
    }
    const shell = state.tree.stat('bin/sh');
    if (!shell) {
      throw new JeosError('E_WORKLOAD_PRE_NO_SHELL', `workload.pre needs /bin/sh to run its ${w.pre.length} step${w.pre.length === 1 ? '' : 's'} in the container, and the image has none`, {
        hint: 'add dash to workload.packages (jeos init adds it when it writes workload.pre)',
      });
    }
    const steps = preSteps(w.pre);
    const meta = { uid: 0, gid: 0, mtime: ctx.epoch };
    state.tree.mkdirp('etc/jeos', { ...meta, mode: 0o755 });
    state.tree.writeFile(START_SCRIPT.slice(1), startScript(steps), { ...meta, mode: 0o755 });
    state.configured?.effects.push({ effect: 'start-script', changed: [START_SCRIPT], summary: `the container's entrypoint runs ${steps.length} workload.pre step${steps.length === 1 ? '' : 's'}, then the command` });
    return `${START_SCRIPT}: ${steps.length} steps`;
  },
};
