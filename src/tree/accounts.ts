import { JeosError } from '../errors.js';
import type { ImageTree } from './tree.js';

/** Names to ids from the image's own /etc/passwd and /etc/group (never the host's). */
export interface Accounts {
  users: Map<string, { uid: number; gid: number }>;
  groups: Map<string, number>;
  /** Each group's members as /etc/group lists them (not the users whose primary group it is). */
  members: Map<string, string[]>;
}

function table(text: string | undefined): string[][] {
  return (text ?? '')
    .split('\n')
    .filter((line) => line && !line.startsWith('#'))
    .map((line) => line.split(':'));
}

export function readAccounts(tree: ImageTree): Accounts {
  const users = new Map<string, { uid: number; gid: number }>();
  for (const [name, , uid, gid] of table(tree.readFile('etc/passwd')?.toString('utf8'))) {
    if (name && uid && gid) users.set(name, { uid: Number(uid), gid: Number(gid) });
  }
  const groups = new Map<string, number>();
  const members = new Map<string, string[]>();
  for (const [name, , gid, list] of table(tree.readFile('etc/group')?.toString('utf8'))) {
    if (!name || !gid) continue;
    groups.set(name, Number(gid));
    members.set(name, (list ?? '').split(',').filter(Boolean));
  }
  return { users, groups, members };
}

/** `user` or `user:group` (names or numbers) to numeric ids, from the image's accounts. */
export function resolveOwner(accounts: Accounts, spec: string, what: string): { uid: number; gid: number } {
  const [user = 'root', group] = spec.split(':');
  let uid: number;
  let gid: number;
  if (/^\d+$/.test(user)) {
    uid = Number(user);
    gid = uid;
  } else {
    const entry = accounts.users.get(user);
    if (!entry) {
      throw new JeosError('E_BUILD_UNKNOWN_USER', `${what}: user "${user}" does not exist in the image`, {
        hint: `use a user the packages create (${[...accounts.users.keys()].sort().join(', ')}) or a numeric id; workload.user adds a system user`,
      });
    }
    ({ uid, gid } = entry);
  }
  if (group !== undefined) {
    if (/^\d+$/.test(group)) gid = Number(group);
    else {
      const found = accounts.groups.get(group);
      if (found === undefined) {
        throw new JeosError('E_BUILD_UNKNOWN_GROUP', `${what}: group "${group}" does not exist in the image`, {
          hint: `use one of: ${[...accounts.groups.keys()].sort().join(', ')}, or a numeric id`,
        });
      }
      gid = found;
    }
  }
  return { uid, gid };
}
