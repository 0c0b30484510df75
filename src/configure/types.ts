/**
 * The configure stage's contract: what it takes and what it reports.
 */

export interface ConfigureOptions {
  /** dpkg architecture of the image (amd64, arm64, …). */
  architecture: string;
  /** SOURCE_DATE_EPOCH: the only clock the stage reads (shadow's last-change day). */
  sourceDateEpoch: number;
  /** The workload's user name: made a system user (with a group of its name) unless it exists. */
  workloadUser?: string;
  /** Account names jeos.yaml refers to (owners of workload files): a static Debian account so named is written. */
  referencedUsers?: string[];
  referencedGroups?: string[];
  /**
   * The workload, for what configure checks against it: the accounts its command runs as
   * (`-u NAME`, `--user=NAME`), and the paths it uses, where a maintainer-script step that
   * was not reproduced is an error (E_CONFIGURE_NOT_REPRODUCED) rather than a line in build.json.
   */
  workload?: WorkloadUse;
  os: {
    /** Debian release codename (trixie). */
    codename?: string;
    /** Debian VERSION_ID (13). */
    versionId?: string;
    /** os-release IMAGE_ID: [a-z0-9._-]+ */
    imageId: string;
    /** os-release IMAGE_VERSION: [A-Za-z0-9._~+-]+ */
    imageVersion: string;
  };
}

export interface WorkloadUse {
  /** The command, as argv. */
  command: string[];
  /** workload.pre: the steps run before it at each start. */
  pre: string[][];
  /** workload.packages. */
  packages: string[];
  /** Destinations of workload.files: what the user provides. */
  files: string[];
}

export interface EffectReport {
  /** The effect's name: users, filesystem, alternatives, ld-so, ca-certificates, os-release, machine-id, systemd-units, dpkg-database; first-start (secrets made at start, not in the tree). */
  effect: string;
  /** Image paths the effect wrote, made or changed (absolute, sorted). */
  changed: string[];
  summary: string;
}

export interface ScriptReport {
  pkg: string;
  /** preinst, postinst, triggers, or `postinst triggered` (the run dpkg makes when a trigger fires). */
  script: string;
  /** Commands whose effect is in the image, each `line N: command`. */
  reproduced: string[];
  /** Commands that change nothing in an image built from scratch (queries, service starts, `set -e`…). */
  notApplicable: string[];
  /** Commands whose effect is NOT in the image, with the reason. */
  notReproduced: string[];
}

/** A per-instance secret a maintainer script makes, left to the first start (first-start.ts). */
export interface FirstStartStep {
  /** The files it makes: the step runs while one is missing. */
  paths: string[];
  /** The shell commands: the generator, then the chmod/chown steps that follow on its files. */
  commands: string[];
  /** Where each command came from: `PKG SCRIPT: line N: command`. */
  from: string[];
  /** Debian packages whose programs the commands run (besides a /bin/sh). */
  packages: string[];
  /** The programs, as absolute image paths where the image has them (for the trim), else bare names. */
  programs: string[];
  /** The step as a workload.pre entry: /bin/sh -c '…'. */
  argv: string[];
  /** What the image lacks to run it (/bin/sh, a program): then it is not run, and its lines are not reproduced. */
  lacks?: string[];
  /** workload.pre already has a step that makes it (names one of its files or runs its program): not added. */
  answered?: true;
}

export interface ConfigureReport {
  effects: EffectReport[];
  scripts: ScriptReport[];
  /** Per-instance secrets the scripts make, to be made at first start. */
  firstStart: FirstStartStep[];
}
