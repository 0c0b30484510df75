/**
 * `sed -i` on a file of the image, reproduced at build time by the host's GNU sed: the file's
 * content from the tree goes to sed's standard input and its output back into the tree, so
 * sed never sees a path, and `--sandbox` refuses the commands that read or write other files
 * or run programs (e, r, R, w, W). A file an earlier script command changed (its content is not
 * in the tree yet), an option this does not know, or a host without GNU sed leave the step
 * not reproduced, as before.
 */
import { spawnSync } from 'node:child_process';
import type { Action } from '../actions.js';
import { UnsupportedCommand } from './args.js';
import type { Args } from './classification.js';
import { ScriptWorld } from './world.js';

interface SedCall {
  scripts: string[];
  flags: string[];
  suffix: string;
  files: string[];
}

/** The command line, or an UnsupportedCommand saying what is not understood. */
export function parseSed(args: Args): SedCall {
  const words = args.map((a) => {
    if (a === undefined) throw new UnsupportedCommand('an argument is not known when the image is built');
    return a;
  });
  const scripts: string[] = [];
  const flags: string[] = [];
  const operands: string[] = [];
  let suffix: string | undefined;
  for (let i = 0; i < words.length; i++) {
    const w = words[i]!;
    if (w === '-e' || w === '--expression') scripts.push(words[++i] ?? '');
    else if (w.startsWith('--expression=')) scripts.push(w.slice('--expression='.length));
    else if (w === '--in-place' || w.startsWith('--in-place=')) suffix = w.slice('--in-place='.length);
    else if (w === '-E' || w === '-r' || w === '--regexp-extended') flags.push('-E');
    else if (w === '-n' || w === '--quiet' || w === '--silent') flags.push('-n');
    else if (w === '-z' || w === '--null-data') flags.push('-z');
    else if (w === '-s' || w === '--separate' || w === '--follow-symlinks') continue;
    else if (/^-[Ernsz]*i/.test(w)) {
      // Clustered: -i, -i.bak, -Ei, -ni.bak (what follows i is the suffix).
      const m = /^-([Ernsz]*)i(.*)$/.exec(w)!;
      for (const f of m[1]!) if (f !== 's') flags.push(f === 'r' ? '-E' : `-${f}`);
      suffix = m[2]!;
    } else if (w.startsWith('-') && w !== '-') throw new UnsupportedCommand(`sed option ${w} is not reproduced`);
    else operands.push(w);
  }
  if (suffix === undefined) throw new UnsupportedCommand('sed without -i does not edit a file');
  if (suffix.includes('*') || suffix.includes('/')) throw new UnsupportedCommand(`backup name ${suffix} is not reproduced`);
  if (!scripts.length) {
    const script = operands.shift();
    if (script === undefined) throw new UnsupportedCommand('no sed script');
    scripts.push(script);
  }
  if (!operands.length) throw new UnsupportedCommand('sed -i names no file');
  return { scripts, flags, suffix, files: operands };
}

/** The actions of `sed -i …`: each file rewritten in the tree (and its backup when -i has a suffix). */
export function sedInPlace(args: Args, world: ScriptWorld): Action[] {
  const call = parseSed(args);
  const actions: Action[] = [];
  for (const file of call.files) {
    if (ScriptWorld.treePath(file) === undefined) throw new UnsupportedCommand(`${file} is relative to a working directory the build does not have`);
    const node = world.node(file);
    if (node?.kind !== 'file') {
      throw new UnsupportedCommand(world.kind(file) === undefined ? `${file} does not exist in the image` : `${file} was changed by an earlier step, whose content the build does not have yet`);
    }
    const r = spawnSync('sed', ['--sandbox', ...call.flags, ...call.scripts.flatMap((s) => ['-e', s])], {
      input: node.data,
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', LC_ALL: 'C' },
      timeout: 10_000,
      maxBuffer: 64 * 1024 * 1024,
    });
    if (r.error || r.status !== 0) throw new UnsupportedCommand(`the host's sed could not run the script (${r.error?.message ?? r.stderr.toString().trim()})`);
    if (call.suffix) actions.push({ kind: 'write-file', path: `${file}${call.suffix}`, content: node.data.toString('latin1'), append: false });
    actions.push({ kind: 'write-file', path: file, content: r.stdout.toString('latin1'), append: false });
    world.set(file, 'file');
    if (call.suffix) world.set(`${file}${call.suffix}`, 'file');
  }
  return actions;
}
