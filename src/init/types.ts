import type { ArchiveIndex } from '../archive/client.js';
import type { Fetcher } from '../archive/http.js';
import type { MirrorTimeouts } from '../archive/watchdog.js';
import type { Config } from '../config/schema.js';

/** What `--from` named, as jeos init understood it. */
export type InitSource =
  | { kind: 'package'; from: string; package: string }
  | { kind: 'path'; from: string; path: string }
  | { kind: 'command'; from: string; argv: string[] };

/** One decision jeos init made, and why: printed for the user and kept in --json. */
export interface Choice {
  /** What was decided: `packages`, `command`, `ports`, … */
  key: string;
  value: string;
  why: string;
}

/** A file of this machine that goes into the image as a workload file (it belongs to no Debian package). */
export interface HostFile {
  /** Where it is on this machine (under --root). */
  hostPath: string;
  /** Where it goes in the image. */
  path: string;
  /** Octal permission bits, as jeos.yaml writes them ("0755"). */
  mode: string;
}

export interface WorkloadDirectory {
  path: string;
  /** Octal, as jeos.yaml writes it; systemd's default is 0755. */
  mode?: string;
  /** user or user:group; left out when it is the workload's user. */
  owner?: string;
}

/** What jeos init writes into jeos.yaml, before it becomes YAML. */
export interface InitPlan {
  source: InitSource;
  name: string;
  description: string;
  packages: string[];
  command?: string[];
  user?: string;
  env: Record<string, string>;
  /** TCP ports as numbers, others as `53/udp`. */
  ports: Array<number | string>;
  healthcheck?: Partial<Pick<NonNullable<Config['workload']['healthcheck']>, 'http' | 'tcp' | 'status' | 'dns' | 'smtp' | 'imap' | 'ftp' | 'nats' | 'redis' | 'ldap' | 'ntp'>>;
  /** workload.environmentFiles: the unit's EnvironmentFile= paths. */
  environmentFiles?: string[];
  /** workload.directories: what the unit's RuntimeDirectory= and kin make. */
  directories?: WorkloadDirectory[];
  /** workload.capabilities: the unit's AmbientCapabilities=. */
  capabilities?: string[];
  /** workload.workdir: the unit's WorkingDirectory=. */
  workdir?: string;
  /** workload.pre: steps before the command (the unit's ExecStartPre=, after-install generators). */
  pre: string[][];
  /** Workload files with inline content (from the table of known programs). */
  inline: Array<{ path: string; content: string }>;
  /** Workload files copied from this machine into DIR/files/. */
  hostFiles: HostFile[];
  choices: Choice[];
  /** Things the user should know: a command that may not stay in the foreground, no health check, … */
  notes: string[];
}

/** What the planning steps need: the loaded archive and where this machine's files are. */
export interface InitContext {
  index: ArchiveIndex;
  /** The file system the path or command lives in (default /): its files, PATH and dpkg database. */
  root: string;
  /** Directories searched for a command's first word (inside root). */
  path: string[];
  cacheDir: string;
  offline?: boolean;
  /** How long a mirror may stay silent or trickle (the settings' timeouts). */
  timeouts?: MirrorTimeouts;
  fetcher?: Fetcher;
  /** Progress lines for slow steps (a .deb or the Contents index being read); the CLI prints them. */
  onProgress?: (message: string) => void;
}
