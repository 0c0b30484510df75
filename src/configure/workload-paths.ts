/**
 * A maintainer-script step that jeos did not reproduce is a line in build.json, unless it
 * touches a path the workload uses: then the image would start without what the step
 * sets up, so the build stops with E_CONFIGURE_NOT_REPRODUCED and names the step.
 *
 * The paths the workload uses: its command's program and the absolute paths among its
 * arguments (`-c /etc/x.conf`, `--config=/etc/x.conf`), the conffiles of workload.packages,
 * and what the package unit that runs the same program names (ReadWritePaths=,
 * ReadOnlyPaths=, WorkingDirectory=, PIDFile=, EnvironmentFile=, and StateDirectory=,
 * RuntimeDirectory=, CacheDirectory=, LogsDirectory=, ConfigurationDirectory= under
 * /var/lib, /run, /var/cache, /var/log and /etc). A step's path matches one of these when
 * it is the same, inside it, or a directory that holds it; top-level directories (/run,
 * /etc, /var/lib …) are too broad to count. What workload.files provides or a
 * workload.pre step names is the user's answer to the step, and does not count.
 */
import { JeosError } from '../errors.js';
import type { ImageTree } from '../tree/index.js';
import type { UnpackedPackage } from '../unpack/types.js';
import type { WorkloadUse } from './types.js';

const UNIT_DIRS = ['etc/systemd/system', 'usr/lib/systemd/system', 'lib/systemd/system'];
const PATH_KEYS = ['ReadWritePaths', 'ReadOnlyPaths', 'WorkingDirectory', 'PIDFile', 'EnvironmentFile'];
const DIRECTORY_KEYS: Record<string, string> = { StateDirectory: '/var/lib', RuntimeDirectory: '/run', CacheDirectory: '/var/cache', LogsDirectory: '/var/log', ConfigurationDirectory: '/etc' };
const TOO_BROAD = /^\/[^/]*$|^\/(var|usr)\/[^/]+$/;

/** Each path the workload uses, with why. */
export function workloadPaths(tree: ImageTree, packages: readonly UnpackedPackage[], use: WorkloadUse): Map<string, string> {
  const paths = new Map<string, string>();
  const add = (p: string, why: string) => {
    const clean = p.replace(/\/+$/, '');
    if (clean.startsWith('/') && !TOO_BROAD.test(clean) && !paths.has(clean)) paths.set(clean, why);
  };
  const [program, ...args] = use.command;
  if (program) add(program, 'the command');
  for (const a of args) add(a.replace(/^--?[\w-]+=/, ''), 'an argument of the command');
  for (const pkg of packages) if (use.packages.includes(pkg.name)) for (const c of pkg.conffiles) add(c, `a configuration file of ${pkg.name}`);
  if (program) {
    for (const dir of UNIT_DIRS) {
      if (!tree.isDir(dir)) continue;
      for (const name of tree.list(dir)) {
        if (!name.endsWith('.service')) continue;
        const text = tree.readFile(`${dir}/${name}`)?.toString('utf8') ?? '';
        const exec = /^\s*ExecStart\s*=\s*[-@+!:]*(\S+)/m.exec(text)?.[1];
        if (exec !== program) continue;
        for (const m of text.matchAll(/^\s*([A-Za-z]+)\s*=\s*(.+)$/gm)) {
          const [key, value] = [m[1]!, m[2]!.trim()];
          if (PATH_KEYS.includes(key)) for (const v of value.split(/\s+/)) add(v.replace(/^[-+:]+/, ''), `${key}= of ${name}`);
          else if (DIRECTORY_KEYS[key]) for (const v of value.split(/\s+/)) add(`${DIRECTORY_KEYS[key]}/${v.split(':')[0]}`, `${key}= of ${name}`);
        }
      }
    }
  }
  return paths;
}

export interface UnreproducedStep {
  pkg: string;
  script: string;
  /** `line N: command (why)`, as build.json shows it. */
  line: string;
  /** The paths the step acts on (for a step partly done, those it failed on). */
  paths: string[];
}

/** Stop when an unreproduced step touches a path the workload uses. */
export function checkWorkloadSteps(steps: readonly UnreproducedStep[], used: Map<string, string>, use: WorkloadUse): void {
  const answered = (p: string) => use.files.some((f) => f === p || f.startsWith(`${p}/`)) || use.pre.some((argv) => argv.some((a) => a === p || a.endsWith(`=${p}`)));
  const hits: string[] = [];
  for (const step of steps) {
    for (const p of step.paths) {
      if (TOO_BROAD.test(p) || answered(p)) continue;
      const match = [...used].find(([u]) => u === p || p.startsWith(`${u}/`) || u.startsWith(`${p}/`));
      if (match) {
        hits.push(`${step.pkg} ${step.script}: ${step.line} — ${p} is ${match[0] === p ? '' : `related to ${match[0]}, `}${match[1]}`);
        break;
      }
    }
  }
  if (!hits.length) return;
  throw new JeosError('E_CONFIGURE_NOT_REPRODUCED', `${hits.length} maintainer-script step${hits.length === 1 ? '' : 's'} that jeos did not reproduce touch${hits.length === 1 ? 'es' : ''} what the workload uses: ${hits[0]}`, {
    hint: 'reproduce the step in jeos.yaml: the file it would make with workload.files, or a per-instance step (a key, a first database) with workload.pre; if it is a common Debian helper, report it so that jeos reproduces it',
    details: hits,
  });
}
