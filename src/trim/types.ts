/** Why a path stays in a trimmed image: the step that kept it, and the path that led there. */
export interface KeepReason {
  why:
    | 'command' // the workload's command (argv[0], or a path among its arguments)
    | 'healthcheck' // the health check's command
    | 'unit' // an Exec line of an enabled systemd unit, or /init
    | 'made-by-jeos' // written by jeos itself (workload files, dpkg database, caches, boot setup)
    | 'area' // configuration and state: /etc, /var, …
    | 'layout' // a top-level merged-/usr link such as /bin → usr/bin
    | 'package' // a file of a package the workload asked for
    | 'keep' // matched a trim.keep glob
    | 'locale' // a locale asked for in trim.locales
    | 'copyright' // a package's licence
    | 'rule' // a rule of the dlopen/data table (detail: its name)
    | 'named' // an absolute path a kept configuration file or program `from` names (detail: the path as named)
    | 'needed' // DT_NEEDED of `from` (detail: the soname)
    | 'dlopen' // a .note.dlopen entry of `from` (detail: feature)
    | 'interpreter' // PT_INTERP or #! of `from`
    | 'script' // a command run by the script `from` (detail: the word)
    | 'link' // a symlink among the directories on the way to a kept path (`from`)
    | 'target' // what the symlink `from` points to
    | 'hardlink'; // the file a kept hard link `from` names
  from?: string;
  detail?: string;
  /** The package the kept path belongs to (trim.json only). */
  pkg?: string;
}

/** Something a kept file needs that the image does not have. */
export interface MissingFile {
  /** A path, or a soname for DT_NEEDED. */
  what: string;
  neededBy: string;
  why: 'needed' | 'interpreter' | 'command';
}

export interface TrimSettings {
  enabled: boolean;
  keep: string[];
  locales: string[];
}

/** An entry point the trim starts from. */
export interface TrimRoot {
  why: 'command' | 'healthcheck' | 'unit';
  argv: string[];
}

export interface TrimOptions {
  architecture: string;
  settings: TrimSettings;
  roots: TrimRoot[];
  /** Packages the workload asked for (names, without versions). */
  requested: string[];
  /** PATH used to find commands named without a slash. */
  path?: string;
  /** Also start from the executables of the enabled systemd units (VM images). */
  units?: boolean;
}

/** build.json's `trim` for one tree, and what `jeos why PATH` reads. */
export interface TrimRecord {
  before: { files: number; bytes: number };
  kept: { files: number; bytes: number };
  dropped: { files: number; bytes: number };
  /** Per package with at least one file dropped. */
  packages: Array<{ name: string; keptFiles: number; droppedFiles: number; droppedBytes: number }>;
  rules: Array<{ name: string; reason: string; by: string; files: number }>;
  missing: MissingFile[];
  /** trim.keep globs that matched nothing. */
  unmatchedKeep: string[];
}

/** out/trim.json: why every kept path is there, and what each package lost. */
export interface TrimExplanation {
  kept: Record<string, KeepReason>;
  dropped: Record<string, string[]>;
  /** The bytes of each regular file the trim dropped, by absolute path (the report's treemap and list). */
  droppedSizes?: Record<string, number>;
}
