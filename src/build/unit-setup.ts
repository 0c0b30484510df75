/**
 * What systemd sets up around a service before its command runs, for a container,
 * which has no systemd (jeos init copies these from the package's unit, docs/init.md):
 *
 * - workload.directories (RuntimeDirectory= and kin) made in the image, owned by the
 *   workload's user; in a VM, the ones under /run are the unit's RuntimeDirectory=
 *   (src/vm/system/units.ts), the others are made here in the image as well.
 * - workload.workdir made, owned by the user, when no package ships it (a container
 *   runtime would make it, owned by root).
 * - The directories a booted Debian system has whatever its packages (base-files and
 *   systemd's tmpfiles.d/var.conf make them): /var/log, /var/tmp, /run/lock and the
 *   /var/run and /var/lock links. A daemon opens its log in /var/log without asking.
 * - workload.capabilities as file capabilities (the security.capability xattr) on the
 *   command's program, which any OCI runtime honours at exec when its bounding set
 *   has them; only the runtimes' default set, so that exec does not fail where one is
 *   missing (a file whose effective bit asks for more than the bounding set allows is
 *   refused by the kernel).
 * - workload.environmentFiles read from the image, for the container's environment.
 *
 * The step runs after the trim, so nothing here is trimmed away.
 */
import { JeosError } from '../errors.js';
import { readAccounts, resolveOwner, type ImageTree } from '../tree/index.js';
import { argv } from '../util/argv.js';
import { environmentRecord, parseEnvironmentFile } from '../util/env-file.js';
import { capabilityNumber, fileCapability } from '../util/capabilities.js';
import { DEFAULT_CONTAINER_CAPABILITIES } from './capabilities.js';
import type { BuildContext, Step } from './variant.js';

/** The skeleton of a booted system, for a container: path, mode, or a link's target. */
const SKELETON: ReadonlyArray<{ path: string; mode?: number; link?: string }> = [
  { path: 'run', mode: 0o755 },
  { path: 'run/lock', mode: 0o1777 },
  { path: 'var/log', mode: 0o755 },
  { path: 'var/tmp', mode: 0o1777 },
  { path: 'var/run', link: '/run' },
  { path: 'var/lock', link: '/run/lock' },
];

export function unitSetupStep(variant: 'image' | 'vm'): Step {
  return {
    name: 'unit-setup',
    async run(ctx, state) {
      const tree = state.tree;
      const w = ctx.config.workload;
      const meta = { mtime: ctx.epoch };
      const made: string[] = [];
      const accounts = readAccounts(tree);
      const ownerOf = (spec: string, what: string) => resolveOwner(accounts, spec, what);
      if (variant === 'image') {
        for (const s of SKELETON) {
          if (tree.has(s.path) || (s.link && tree.has(s.link.slice(1)) && tree.get(s.path))) continue;
          if (s.link) tree.symlink(s.path, s.link, { mode: 0o777, uid: 0, gid: 0, ...meta });
          else tree.mkdirp(s.path, { mode: s.mode!, uid: 0, gid: 0, ...meta });
          made.push(`/${s.path}`);
        }
      }
      for (const d of w.directories) {
        if (variant === 'vm' && isRuntime(d.path)) continue;
        const { uid, gid } = ownerOf(d.owner ?? w.user, `workload.directories ${d.path}`);
        const existed = tree.has(d.path.slice(1));
        const real = tree.mkdirp(d.path.slice(1), { mode: 0o755, uid: 0, gid: 0, ...meta });
        // As systemd does with an existing one: the owner is set, the mode only when given.
        const node = tree.get(real)!;
        Object.assign(node, { uid, gid, ...(d.mode || !existed ? { mode: parseInt(d.mode ?? '0755', 8) } : {}) });
        made.push(d.path);
      }
      if (w.workdir !== '/' && !tree.has(w.workdir.slice(1))) {
        const { uid, gid } = ownerOf(w.user, 'workload.workdir');
        tree.mkdirp(w.workdir.slice(1), { mode: 0o755, uid, gid, ...meta });
        made.push(w.workdir);
      }
      const caps = variant === 'image' ? setCapabilities(ctx, tree) : undefined;
      if (variant === 'image') state.environment = readEnvironmentFiles(tree, w.environmentFiles);
      const summary = [
        made.length ? `made ${made.join(', ')}` : '',
        caps?.set.length ? `${caps.program}: file capabilities ${caps.set.join(', ')}` : '',
        caps?.left.length ? `left out of the file capabilities (container runtimes do not grant them by default; add them with --cap-add): ${caps.left.join(', ')}` : '',
      ].filter(Boolean);
      if (summary.length) state.configured?.effects.push({ effect: 'unit-setup', changed: [...made, ...(caps?.set.length ? [caps.program] : [])], summary: summary.join('; ') });
      return summary.join('; ') || 'nothing to set up';
    },
  };
}

const isRuntime = (path: string) => path === '/run' || path.startsWith('/run/');

/** The security.capability xattr on the command's program (the file its path leads to), when it runs as a user that is not root. */
function setCapabilities(ctx: BuildContext, tree: ImageTree): { program: string; set: string[]; left: string[] } | undefined {
  const w = ctx.config.workload;
  if (!w.capabilities.length || !w.command) return undefined;
  for (const c of w.capabilities) {
    if (capabilityNumber(c) === undefined) {
      throw new JeosError('E_WORKLOAD_CAPABILITY', `workload.capabilities: ${c} is not a Linux capability jeos knows`, { hint: 'use the names of capabilities(7), such as CAP_NET_BIND_SERVICE' });
    }
  }
  const user = w.user.split(':')[0];
  if (user === 'root' || user === '0') return undefined;
  const program = argv(w.command)[0]!;
  const path = program.startsWith('/') ? program : ['/usr/sbin/', '/usr/bin/', '/sbin/', '/bin/'].map((d) => d + program).find((p) => tree.has(p.slice(1)));
  if (!path) return undefined;
  let real: string;
  try {
    real = tree.resolve(path.slice(1), { followLast: true });
  } catch {
    return undefined;
  }
  const node = tree.get(real);
  const file = node?.kind === 'hardlink' ? tree.get(node.target) : node;
  if (file?.kind !== 'file') return undefined;
  const set = w.capabilities.filter((c) => DEFAULT_CONTAINER_CAPABILITIES.includes(c));
  const left = w.capabilities.filter((c) => !set.includes(c));
  if (set.length) {
    file.xattrs = new Map(file.xattrs ?? []);
    file.xattrs.set('security.capability', fileCapability(set));
  }
  return { program: `/${real}`, set, left };
}

/** The variables of workload.environmentFiles, later files over earlier ones; a missing file is an error unless written -/path. */
export function readEnvironmentFiles(tree: ImageTree, files: readonly string[]): Record<string, string> {
  const lines: string[] = [];
  for (const f of files) {
    const optional = f.startsWith('-');
    const path = optional ? f.slice(1) : f;
    const text = tree.readFile(path.slice(1));
    if (text === undefined) {
      if (optional) continue;
      throw new JeosError('E_WORKLOAD_ENV_FILE', `workload.environmentFiles: ${path} is not a file in the image`, {
        hint: `write it -${path} if it may be missing (systemd's EnvironmentFile=-${path}), or add it with workload.files`,
      });
    }
    lines.push(...parseEnvironmentFile(text.toString('utf8')));
  }
  return environmentRecord(lines);
}

/** The image's environment with the environment files' variables over workload.env's, as systemd applies EnvironmentFile= after Environment=. */
export function withFileEnvironment<T extends { env?: Record<string, string> }>(spec: T, fromFiles: Record<string, string> | undefined): T {
  return fromFiles && Object.keys(fromFiles).length ? { ...spec, env: { ...(spec.env ?? {}), ...fromFiles } } : spec;
}
