/**
 * What systemd sets up around a unit's command, as jeos.yaml keys, so that the
 * container (which has no systemd) and the VM (whose unit jeos writes) start the
 * command in the same surroundings:
 *
 * - Environment= → workload.env; EnvironmentFile= → workload.environmentFiles (read
 *   when the image is built for a container, by systemd in a VM, so an edit of the
 *   application's /etc/default file takes effect).
 * - RuntimeDirectory=, StateDirectory=, CacheDirectory=, LogsDirectory=,
 *   ConfigurationDirectory= → workload.directories, owned by the unit's user
 *   (ConfigurationDirectory= by root, as systemd does), with the unit's modes.
 * - AmbientCapabilities= → workload.capabilities (a port below 1024 for a user that is not root).
 * - WorkingDirectory= → workload.workdir.
 */
import type { DirectoryKind, ServiceSection } from './unit.js';
import { DIRECTORY_BASES } from './unit.js';
import type { Choice, WorkloadDirectory } from './types.js';

export interface UnitSettings {
  env: Record<string, string>;
  environmentFiles: string[];
  directories: WorkloadDirectory[];
  capabilities: string[];
  workdir?: string;
  choices: Choice[];
  notes: string[];
}

export interface UnitFacts {
  name: string;
  service: ServiceSection;
  /** Environment= assignments with the unit's specifiers filled in. */
  environment: string[];
  /** EnvironmentFile= paths the packages ship. */
  environmentFiles: string[];
}

const KIND_KEY = (k: DirectoryKind) => `${k}Directory=`;

/** `shipped`: whether the packages ship a path (a ConfigurationDirectory= they ship is left as they ship it, as systemd leaves it). */
export function unitSettings(unit: UnitFacts, user: string | undefined, shipped: (path: string) => boolean = () => false): UnitSettings {
  const s = unit.service;
  const out: UnitSettings = { env: {}, environmentFiles: [], directories: [], capabilities: [], choices: [], notes: [] };
  const left: string[] = [];
  for (const a of unit.environment) {
    const eq = a.indexOf('=');
    const [name, value] = [a.slice(0, eq), a.slice(eq + 1)];
    // %H (the host name), %m (the machine id) and the like are known only on the running machine.
    if (/%[A-Za-z]/.test(value)) left.push(a);
    else out.env[name] = value;
  }
  if (Object.keys(out.env).length) out.choices.push({ key: 'env', value: Object.keys(out.env).join(', '), why: `Environment= of ${unit.name}` });
  if (left.length) out.notes.push(`Environment=${left.join(' ')} of ${unit.name} is left out of workload.env: its specifier is known only on the running machine`);
  out.environmentFiles = [...unit.environmentFiles];
  for (const f of out.environmentFiles) out.choices.push({ key: 'env', value: f, why: `EnvironmentFile= of ${unit.name}: its variables are the command's environment (read at build time for a container, at start by systemd in a VM)` });

  const owner = user && user !== 'root' ? user : undefined;
  for (const d of s.directories) {
    if (!d.name) continue;
    const path = `${DIRECTORY_BASES[d.kind]}/${d.name}`;
    if (out.directories.some((x) => x.path === path)) continue;
    // systemd makes ConfigurationDirectory= root's and leaves an existing one alone; the others are the unit's User= and Group='s.
    if (d.kind === 'Configuration' && shipped(path)) continue;
    const dirOwner = d.kind === 'Configuration' ? (owner ? 'root' : undefined) : owner && s.group && s.group !== owner ? `${owner}:${s.group}` : undefined;
    out.directories.push({ path, ...(d.mode && d.mode !== '0755' ? { mode: d.mode } : {}), ...(dirOwner ? { owner: dirOwner } : {}) });
    out.choices.push({ key: 'directories', value: path, why: `${KIND_KEY(d.kind)}${d.name} of ${unit.name}: systemd makes it before the command starts${d.kind === 'Runtime' ? ' (a VM\'s /run is made anew at every boot)' : ''}` });
  }
  if (s.capabilities.length && owner) {
    out.capabilities = [...s.capabilities];
    out.choices.push({ key: 'capabilities', value: s.capabilities.join(', '), why: `AmbientCapabilities= of ${unit.name}: the command runs as ${owner} and needs them (a port below 1024, raw sockets)` });
  }
  if (s.workingDirectory) {
    if (s.workingDirectory.startsWith('~')) out.notes.push(`WorkingDirectory=${s.workingDirectory} of ${unit.name} (the user's home) is not copied: set workload.workdir`);
    else {
      out.workdir = s.workingDirectory;
      out.choices.push({ key: 'workdir', value: s.workingDirectory, why: `WorkingDirectory= of ${unit.name}` });
    }
  }
  return out;
}
