/**
 * The parts of systemd unit files that say what a service runs and where it
 * listens: ExecStart=, User=, Type=, PIDFile=, Environment= and
 * EnvironmentFile= of [Service], DefaultInstance= of [Install], ListenStream= of
 * a .socket, read the way systemd reads them (the last assignment wins, an empty
 * one resets a list, `\` continues a line). Expanding the command is expand.ts's job.
 */
import { splitCommandLine, unitEntries } from '../util/unit-file.js';

export { splitCommandLine };

export interface ServiceSection {
  /** The words of the first ExecStart= after the last reset, split as systemd splits them, prefixes and `@`'s argv[0] taken off; variables not yet expanded. */
  execStart?: string[];
  /** User= when it applies to ExecStart= (not with a + or ! prefix, which runs it with full privileges). */
  user?: string;
  type?: string;
  pidFile?: string;
  /** Environment= assignments (`NAME=value`), in order. */
  environment: string[];
  /** EnvironmentFile= paths, in order; `optional` for a `-` prefix. */
  environmentFiles: Array<{ path: string; optional: boolean }>;
  /** ExecStartPre= lines after the last reset, each split as systemd splits it; a `-` prefix kept (workload.pre takes it), the others taken off. */
  execStartPre: string[][];
  /** [Install] DefaultInstance= of a template unit. */
  defaultInstance?: string;
  group?: string;
  /** WorkingDirectory= (a `-` prefix, missing allowed, taken off; `~` is the user's home). */
  workingDirectory?: string;
  /** RuntimeDirectory=, StateDirectory=, CacheDirectory=, LogsDirectory=, ConfigurationDirectory=: the names (relative) and the mode of each kind. */
  directories: Array<{ kind: DirectoryKind; name: string; mode?: string }>;
  /** AmbientCapabilities= (CAP_… names) after the last reset. */
  capabilities: string[];
}

export type DirectoryKind = 'Runtime' | 'State' | 'Cache' | 'Logs' | 'Configuration';

/** Where systemd makes each kind of directory (systemd.exec(5), "Paths"), for a system service. */
export const DIRECTORY_BASES: Record<DirectoryKind, string> = {
  Runtime: '/run',
  State: '/var/lib',
  Cache: '/var/cache',
  Logs: '/var/log',
  Configuration: '/etc',
};

export function parseService(text: string): ServiceSection {
  const out: ServiceSection = { environment: [], environmentFiles: [], execStartPre: [], directories: [], capabilities: [] };
  const modes = new Map<DirectoryKind, string>();
  let exec: string | undefined;
  for (const [key, value] of unitEntries(text, 'Service')) {
    // An empty ExecStart= resets the list; of several (Type=oneshot), the first is the one that runs first.
    if (key === 'ExecStart') exec = value === '' ? undefined : (exec ?? value);
    else if (key === 'ExecStartPre') {
      if (value === '') out.execStartPre = [];
      else {
        const pre = stripPrefixes(splitCommandLine(value));
        if (pre) out.execStartPre.push(pre);
      }
    } else if (key === 'User') out.user = value || undefined;
    else if (key === 'Type') out.type = value || undefined;
    else if (key === 'PIDFile') out.pidFile = value || undefined;
    else if (key === 'Environment') {
      if (value === '') out.environment = [];
      else out.environment.push(...splitCommandLine(value).filter((w) => w.includes('=')));
    } else if (key === 'EnvironmentFile') {
      if (value === '') out.environmentFiles = [];
      else out.environmentFiles.push({ path: value.replace(/^-/, ''), optional: value.startsWith('-') });
    } else if (key === 'Group') out.group = value || undefined;
    else if (key === 'WorkingDirectory') out.workingDirectory = value.replace(/^-/, '') || undefined;
    else if (key === 'AmbientCapabilities') {
      // An empty assignment resets; a ~ list removes (rare in units: not followed).
      if (value === '') out.capabilities = [];
      else if (!value.startsWith('~')) for (const c of value.split(/\s+/)) if (/^CAP_[A-Z_]+$/.test(c) && !out.capabilities.includes(c)) out.capabilities.push(c);
    } else {
      const dir = /^(Runtime|State|Cache|Logs|Configuration)Directory(Mode)?$/.exec(key);
      if (!dir) continue;
      const kind = dir[1] as DirectoryKind;
      if (dir[2]) modes.set(kind, value);
      else if (value === '') out.directories = out.directories.filter((d) => d.kind !== kind);
      // NAME:LINK (a symlink to it) keeps NAME; names are relative to the kind's base.
      else for (const w of value.split(/\s+/)) out.directories.push({ kind, name: w.split(':')[0]!.replace(/^\/+|\/+$/g, '') });
    }
  }
  for (const d of out.directories) {
    const mode = modes.get(d.kind);
    if (mode) d.mode = mode.padStart(4, '0');
  }
  for (const [key, value] of unitEntries(text, 'Install')) if (key === 'DefaultInstance') out.defaultInstance = value || undefined;
  if (exec !== undefined) {
    const words = splitCommandLine(exec);
    // Prefixes on the executable: @ (argv[0] follows), - (failure ignored), : + ! !! (privileges, expansion).
    let first = words[0] ?? '';
    // + and ! run the command with full privileges whatever User= says (chrony's ExecStart=!/usr/sbin/chronyd
    // with User=_chrony: chronyd starts as root and drops to _chrony itself), so User= is not the command's.
    if (/^[-@:]*[+!]/.test(first)) delete out.user;
    const argv0 = first.startsWith('@') || /^[-:+!]*@/.test(first);
    first = first.replace(/^[-@:+!]+/, '');
    const rest = argv0 ? words.slice(2) : words.slice(1);
    if (first) out.execStart = [first, ...rest];
  }
  return out;
}

/**
 * An Exec line's words with systemd's prefixes read: `@` (the next word is argv[0], dropped), `:`, `+`, `!`,
 * `!!` (expansion and privileges; the step runs as the workload runs) taken off, `-` (failure ignored) kept
 * on the program as workload.pre writes it.
 */
function stripPrefixes(words: string[]): string[] | undefined {
  const first = words[0] ?? '';
  const prefix = /^[-@:+!]*/.exec(first)![0];
  const program = first.slice(prefix.length);
  if (!program) return undefined;
  const rest = prefix.includes('@') ? words.slice(2) : words.slice(1);
  return [`${prefix.includes('-') ? '-' : ''}${program}`, ...rest];
}

/** ListenStream= of a .socket unit: the TCP ports it names (`80`, `0.0.0.0:80`, `[::]:22`); paths and other families are left out. */
export function parseSocketPorts(text: string): number[] {
  const ports: number[] = [];
  for (const [key, value] of unitEntries(text, 'Socket')) {
    if (key !== 'ListenStream') continue;
    const m = /^(?:.*:)?(\d{1,5})$/.exec(value.trim());
    const port = m ? Number(m[1]) : 0;
    if (port >= 1 && port <= 65535 && !ports.includes(port)) ports.push(port);
  }
  return ports;
}

/** An argv as one line a shell would split back into the same words. */
export function formatCommandLine(words: string[]): string {
  return words.map((w) => (/^[A-Za-z0-9_@%+=:,./-]+$/.test(w) ? w : `'${w.replace(/'/g, `'\\''`)}'`)).join(' ');
}
