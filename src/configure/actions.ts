/**
 * What a recognized maintainer-script command asks for, in a form the effect
 * modules can carry out. The script scan produces these in script order; each
 * effect takes the kinds it owns and marks any it could not carry out.
 */

export type GroupChoice =
  /** A group named like the user (adduser --group, useradd's default). */
  | { kind: 'same' }
  | { kind: 'name'; name: string }
  | { kind: 'gid'; gid: number }
  /** The tool's default: nogroup for adduser --system. */
  | { kind: 'default' };

export type Action =
  | {
      kind: 'add-user';
      name: string;
      tool: 'adduser' | 'useradd';
      system: boolean;
      uid?: number;
      group: GroupChoice;
      home?: string;
      shell?: string;
      createHome: boolean;
      gecos?: string;
      extraGroups: string[];
    }
  | { kind: 'add-group'; name: string; system: boolean; gid?: number }
  | { kind: 'add-member'; user: string; group: string }
  /** Account files written by other means (update-passwd, shadowconfig, systemd-sysusers, cat > /etc/passwd): the users effect writes them. */
  | { kind: 'accounts' }
  | { kind: 'mkdir'; paths: string[]; parents: boolean; mode?: number }
  | { kind: 'write-file'; path: string; content: string; append: boolean }
  | { kind: 'touch'; paths: string[] }
  /** cp: with `recursive` (-r, -R, -a) a directory is copied with what it holds. */
  | { kind: 'copy'; from: string; to: string; preserve: boolean; onlyIfMissing: boolean; recursive?: boolean; /** -T: DEST is the copy itself, never a directory to copy into. */ noTargetDirectory?: boolean }
  | { kind: 'symlink'; target: string; link: string; noDereference: boolean; force: boolean }
  | { kind: 'move'; from: string; to: string }
  /** setcap: the security.capability xattr (an empty value removes it). */
  | { kind: 'setcap'; path: string; value: Buffer }
  /** dpkg-divert --add: recorded in /var/lib/dpkg/diversions; with `rename` the file is moved. */
  | { kind: 'divert'; path: string; to: string; package?: string; rename: boolean }
  | { kind: 'remove'; paths: string[]; recursive: boolean; dirsOnly: boolean }
  | { kind: 'chown'; user?: string; group?: string; /** `chown user: path`: the user's login group. */ loginGroup?: boolean; paths: string[]; recursive: boolean }
  | { kind: 'chmod'; mode: string; paths: string[]; recursive: boolean }
  | { kind: 'statoverride'; user: string; group: string; mode: number; path: string; update: boolean }
  | { kind: 'alternative'; link: string; name: string; path: string; priority: number; slaves: Array<{ link: string; name: string; path: string }> }
  | { kind: 'ldconfig' }
  | { kind: 'ca-certificates' }
  /** Enable units: system units, or with `user` the units every user's systemd instance starts (systemctl --global). */
  | { kind: 'enable-units'; units: string[]; user?: boolean }
  /** update-alternatives --set: a manual choice. */
  | { kind: 'alternative-set'; name: string; path: string }
  | { kind: 'machine-id' };

export type ActionKind = Action['kind'];

/** One action with where it came from; an effect sets `failed` when it could not carry it out. */
export interface ActionRecord<A extends Action = Action> {
  action: A;
  pkg: string;
  script: string;
  /** `line N: command`, for messages. */
  command: string;
  failed?: string;
}

export function actionsOf<K extends ActionKind>(records: ActionRecord[], ...kinds: K[]): Array<ActionRecord<Extract<Action, { kind: K }>>> {
  return records.filter((r): r is ActionRecord<Extract<Action, { kind: K }>> => (kinds as string[]).includes(r.action.kind));
}
