/**
 * Users and groups: the image's own /etc/passwd, /etc/group, /etc/shadow and
 * /etc/gshadow, and the home directories adduser/useradd would have made.
 *
 * Sources, first request for a name wins (as adduser leaves an existing account
 * alone): the maintainer scripts' adduser/addgroup/useradd/groupadd/usermod -aG
 * in script order, then the sysusers.d fragments in the image, then the
 * workload's user.
 *
 * Debian's static accounts (base-passwd, ids below 100 and 65534) keep their
 * fixed ids and are written only when something in the image refers to them:
 * root/root and nobody/nogroup always; otherwise a static user (group) is
 * included when it is named as a user (group) by a script command (account
 * tools, chown, chgrp, dpkg-statoverride), a sysusers.d line, a systemd unit
 * (User=/SocketUser=; Group=/SupplementaryGroups=/SocketGroup=), a `user`
 * (`group`) directive, a *_USER= (*_GROUP=) setting or a compound key ending in
 * user(s) (group(s)) with one name or a list in a package's conffiles (nginx's
 * `user www-data;`, exim's `MAIN_TRUSTED_USERS = uucp`), or is the workload user; when a file in the tree is
 * owned by its id; and a static group also when it is the primary group of an
 * included static user.
 *
 * Other ids are allocated deterministically: names sorted bytewise, each given
 * the lowest free id from 100 (system; 1000 for ordinary users) upward, a user
 * that gets a group of its own name taking the lowest id free as both uid and
 * gid (an explicit uid is given to its own group too when free). Explicit ids
 * (adduser --uid, sysusers `u name 123`) are placed first. Every static id
 * counts as taken whether or not it is written, so adding a package that names
 * a static account never moves anyone else's id.
 *
 * Passwords are locked: static accounts `*` with pwconv's default aging
 * (`name:*:DAY:0:99999:7:::`), others `!*` without aging, the day being
 * SOURCE_DATE_EPOCH's. /etc/shadow and /etc/gshadow are 0640 root:shadow when
 * the shadow group is written, 0600 root:root otherwise. root's shell is
 * /bin/bash, or /bin/sh when the image has no bash but has sh.
 */
import { JeosError } from '../../errors.js';
import type { ActionRecord } from '../actions.js';
import { actionsOf } from '../actions.js';
import { STATIC_GROUP, STATIC_GROUPS, STATIC_USER, STATIC_USERS } from './base-passwd.js';
import { byteCompare, Changes, ensureParents, madeMeta, type Accounts, type EffectContext } from './context.js';
import { commandAccounts, conffileReferences, unitReferences } from './account-references.js';
import { readSysusers } from './sysusers.js';
import type { EffectReport } from '../types.js';

interface UserReq {
  name: string;
  uid?: number;
  /** Primary group: same-named group, a group name, a gid, or nogroup. */
  group: { kind: 'same' } | { kind: 'name'; name: string } | { kind: 'gid'; gid: number };
  gecos: string;
  home: string;
  shell: string;
  createHome: boolean;
  system: boolean;
  record?: ActionRecord;
}

interface GroupReq {
  name: string;
  gid?: number;
  system: boolean;
  record?: ActionRecord;
}

interface Account {
  name: string;
  uid: number;
  gid: number;
  gecos: string;
  home: string;
  shell: string;
  static: boolean;
}

const FIRST_SYSTEM_ID = 100;
const LAST_SYSTEM_ID = 999;
const FIRST_USER_ID = 1000;
const LAST_USER_ID = 59999;

export function configureUsers(ctx: EffectContext): EffectReport {
  const { tree, options } = ctx;
  const changes = new Changes();
  const users = new Map<string, UserReq>();
  const groups = new Map<string, GroupReq>();
  const members = new Map<string, Set<string>>();
  // Names things refer to, as users and as groups: what decides which static accounts are written.
  const refUsers = new Set<string>(['root', 'nobody']);
  const refGroups = new Set<string>(['root', 'nogroup']);
  const addMember = (user: string, group: string): void => {
    members.set(group, (members.get(group) ?? new Set()).add(user));
    refUsers.add(user);
    refGroups.add(group);
  };

  // 1. Script commands, in script order.
  for (const r of actionsOf(ctx.actions, 'add-user', 'add-group', 'add-member')) {
    const a = r.action;
    if (a.kind === 'add-member') {
      addMember(a.user, a.group);
      continue;
    }
    (a.kind === 'add-group' ? refGroups : refUsers).add(a.name);
    if (a.kind === 'add-group') {
      if (!groups.has(a.name)) groups.set(a.name, { name: a.name, system: a.system, record: r, ...(a.gid !== undefined ? { gid: a.gid } : {}) });
      continue;
    }
    if (users.has(a.name)) continue;
    const group: UserReq['group'] =
      a.group.kind === 'default' ? { kind: 'name', name: 'nogroup' } : a.group.kind === 'same' ? { kind: 'same' } : a.group.kind === 'name' ? { kind: 'name', name: a.group.name } : { kind: 'gid', gid: a.group.gid };
    if (group.kind === 'name') refGroups.add(group.name);
    if (group.kind === 'same') refGroups.add(a.name);
    if (group.kind === 'same' && !groups.has(a.name)) groups.set(a.name, { name: a.name, system: a.system });
    users.set(a.name, {
      name: a.name,
      ...(a.uid !== undefined ? { uid: a.uid } : {}),
      group,
      gecos: a.gecos ?? '',
      home: a.home ?? '/nonexistent',
      shell: a.shell ?? '/usr/sbin/nologin',
      createHome: a.createHome,
      system: a.system,
      record: r,
    });
    for (const g of a.extraGroups) addMember(a.name, g);
  }

  // 2. sysusers.d.
  const sysusers = readSysusers(tree);
  for (const line of sysusers.lines) {
    if (line.type !== 'g') refUsers.add(line.name);
    if (line.type !== 'm') refGroups.add(line.name);
    if (line.type === 'm') {
      addMember(line.name, line.group);
    } else if (line.type === 'g') {
      if (!groups.has(line.name)) groups.set(line.name, { name: line.name, system: true, ...(line.gid !== undefined ? { gid: line.gid } : {}) });
    } else if (!users.has(line.name)) {
      const group: UserReq['group'] = line.gid !== undefined ? { kind: 'gid', gid: line.gid } : line.groupName ? { kind: 'name', name: line.groupName } : { kind: 'same' };
      if (line.groupName) refGroups.add(line.groupName);
      if (group.kind === 'same' && !groups.has(line.name)) groups.set(line.name, { name: line.name, system: true, ...(line.uid !== undefined ? { gid: line.uid } : {}) });
      users.set(line.name, {
        name: line.name,
        ...(line.uid !== undefined ? { uid: line.uid } : {}),
        group,
        gecos: line.gecos ?? '',
        home: line.home ?? '/',
        shell: line.shell ?? '/usr/sbin/nologin',
        createHome: false,
        system: true,
      });
    }
  }

  // 3. The workload's user, and the accounts its command runs as (named -u bind): each made
  // a system user with a group of its name when nothing else makes it.
  let workloadNote = '';
  const fromCommand = commandAccounts(options.workload?.command ?? []);
  for (const g of fromCommand.groups) refGroups.add(g);
  const candidates: Array<[string | undefined, 'user' | 'command']> = [[options.workloadUser?.trim(), 'user'], ...[...fromCommand.users].map((u): [string, 'command'] => [u, 'command'])];
  for (const [workload, from] of candidates) {
    if (!workload) continue;
    if (/^[0-9]+$/.test(workload)) {
      if (from === 'user') workloadNote += `; workload user ${workload} is numeric, no account made`;
      continue;
    }
    // Debian's adduser allows upper case (Debian-exim); a name the command gives is used only when valid.
    if (!/^[A-Za-z_][A-Za-z0-9_-]*\$?$/.test(workload) || workload.length > 32) {
      if (from === 'command') continue;
      throw new JeosError('E_CONFIGURE_USER_NAME', `workload user name ${JSON.stringify(workload)} is not a valid user name`, {
        hint: 'use lower-case letters, digits, "_" and "-", starting with a letter or "_" (at most 32 characters)',
      });
    }
    refUsers.add(workload);
    refGroups.add(workload);
    if (!users.has(workload) && !STATIC_USER.has(workload)) {
      if (!groups.has(workload)) groups.set(workload, { name: workload, system: true });
      users.set(workload, { name: workload, group: { kind: 'same' }, gecos: '', home: '/nonexistent', shell: '/usr/sbin/nologin', createHome: false, system: true });
      workloadNote += `; ${from === 'user' ? 'workload user' : 'user the command runs as,'} ${workload} added`;
    }
  }

  // Names jeos.yaml uses (owners of workload files): they decide which static accounts are written.
  for (const n of options.referencedUsers ?? []) refUsers.add(n);
  for (const n of options.referencedGroups ?? []) refGroups.add(n);

  // References to static names from elsewhere in the image.
  for (const r of actionsOf(ctx.actions, 'chown', 'statoverride')) {
    const a = r.action;
    if (a.user !== undefined) refUsers.add(a.user);
    if (a.group !== undefined) refGroups.add(a.group);
  }
  for (const refs of [unitReferences(ctx), conffileReferences(ctx)]) {
    for (const n of refs.users) refUsers.add(n);
    for (const n of refs.groups) refGroups.add(n);
  }
  const ownerIds = { uids: new Set<number>(), gids: new Set<number>() };
  for (const [, node] of tree.entries()) {
    ownerIds.uids.add(node.uid);
    ownerIds.gids.add(node.gid);
  }

  // Static accounts: fixed ids, included when referenced.
  const passwd: Account[] = [];
  const groupIds = new Map<string, number>();
  const takenUids = new Set<number>(STATIC_USERS.map((u) => u.uid));
  const takenGids = new Set<number>(STATIC_GROUPS.map((g) => g.gid));
  const staticGroupsIncluded = new Set<string>();
  for (const u of STATIC_USERS) {
    if (!refUsers.has(u.name) && !ownerIds.uids.has(u.uid)) continue;
    let shell = u.shell;
    if (u.name === 'root' && !tree.stat(u.shell.slice(1)) && tree.stat('bin/sh')) shell = '/bin/sh';
    passwd.push({ ...u, shell, static: true });
    const primary = STATIC_GROUPS.find((g) => g.gid === u.gid);
    if (primary) staticGroupsIncluded.add(primary.name);
  }
  for (const g of STATIC_GROUPS) {
    if (refGroups.has(g.name) || ownerIds.gids.has(g.gid) || staticGroupsIncluded.has(g.name)) {
      staticGroupsIncluded.add(g.name);
      groupIds.set(g.name, g.gid);
    }
  }
  const fail = (req: { record?: ActionRecord }, why: string): void => {
    if (req.record) req.record.failed = why;
  };

  // Explicit ids first, then the rest in name order.
  const dynUsers = [...users.values()].filter((u) => !STATIC_USER.has(u.name)).sort((a, b) => byteCompare(a.name, b.name));
  const dynGroups = [...groups.values()].filter((g) => !STATIC_GROUP.has(g.name)).sort((a, b) => byteCompare(a.name, b.name));
  const uidOf = new Map<string, number>();
  for (const u of dynUsers) {
    if (u.uid === undefined) continue;
    if (takenUids.has(u.uid)) fail(u, `uid ${u.uid} is already taken`);
    else {
      takenUids.add(u.uid);
      uidOf.set(u.name, u.uid);
      // Its own group gets the same id when that is free, as adduser and systemd-sysusers do.
      const own = groups.get(u.name);
      if (u.group.kind === 'same' && own && own.gid === undefined && !takenGids.has(u.uid) && !STATIC_GROUP.has(u.name)) own.gid = u.uid;
    }
  }
  for (const g of dynGroups) {
    if (g.gid === undefined) continue;
    if (takenGids.has(g.gid)) fail(g, `gid ${g.gid} is already taken`);
    else {
      takenGids.add(g.gid);
      groupIds.set(g.name, g.gid);
    }
  }
  const lowestFree = (first: number, last: number, ...spaces: Array<Set<number>>): number => {
    for (let id = first; id <= last; id++) if (spaces.every((s) => !s.has(id))) return id;
    throw new JeosError('E_CONFIGURE_IDS_EXHAUSTED', `no free id left between ${first} and ${last}`, { hint: 'the image asks for more accounts than the id range holds' });
  };
  const names = [...new Set([...dynUsers.map((u) => u.name), ...dynGroups.map((g) => g.name)])].sort(byteCompare);
  for (const name of names) {
    const u = users.get(name);
    const g = groups.get(name);
    const userNeeds = u && !STATIC_USER.has(name) && !uidOf.has(name);
    const groupNeeds = g && !STATIC_GROUP.has(name) && !groupIds.has(name);
    const [first, last] = u && !u.system ? [FIRST_USER_ID, LAST_USER_ID] : [FIRST_SYSTEM_ID, LAST_SYSTEM_ID];
    if (userNeeds && groupNeeds && u.group.kind === 'same') {
      const id = lowestFree(first, last, takenUids, takenGids);
      takenUids.add(id);
      takenGids.add(id);
      uidOf.set(name, id);
      groupIds.set(name, id);
    } else {
      if (userNeeds) {
        const id = lowestFree(first, last, takenUids);
        takenUids.add(id);
        uidOf.set(name, id);
      }
      if (groupNeeds) {
        const id = lowestFree(g.system ? FIRST_SYSTEM_ID : FIRST_USER_ID, g.system ? LAST_SYSTEM_ID : LAST_USER_ID, takenGids);
        takenGids.add(id);
        groupIds.set(name, id);
      }
    }
  }

  // Dynamic users, with their primary groups resolved.
  for (const u of dynUsers) {
    const uid = uidOf.get(u.name);
    if (uid === undefined) continue;
    let gid: number | undefined;
    if (u.group.kind === 'same') gid = groupIds.get(u.name);
    else if (u.group.kind === 'gid') gid = u.group.gid;
    else {
      const g = u.group.name;
      if (STATIC_GROUP.has(g)) {
        staticGroupsIncluded.add(g);
        groupIds.set(g, STATIC_GROUP.get(g)!.gid);
      }
      gid = groupIds.get(g);
      if (gid === undefined) {
        fail(u, `group ${g} does not exist`);
        continue;
      }
    }
    if (gid === undefined) {
      fail(u, `no group for ${u.name}`);
      continue;
    }
    passwd.push({ name: u.name, uid, gid, gecos: u.gecos, home: u.home, shell: u.shell, static: false });
  }
  // A membership needs both sides.
  const userNames = new Set(passwd.map((p) => p.name));
  for (const r of actionsOf(ctx.actions, 'add-member')) {
    if (!userNames.has(r.action.user)) r.failed = `user ${r.action.user} does not exist`;
    else if (!groupIds.has(r.action.group)) r.failed = `group ${r.action.group} does not exist`;
  }

  passwd.sort((a, b) => a.uid - b.uid || byteCompare(a.name, b.name));
  const groupList = [...groupIds.entries()].map(([name, gid]) => ({ name, gid, static: STATIC_GROUP.has(name) })).sort((a, b) => a.gid - b.gid || byteCompare(a.name, b.name));
  const memberList = (g: string): string => [...(members.get(g) ?? [])].filter((u) => userNames.has(u)).sort(byteCompare).join(',');
  const days = Math.floor(options.sourceDateEpoch / 86400);

  const passwdText = passwd.map((p) => `${p.name}:x:${p.uid}:${p.gid}:${p.gecos}:${p.home}:${p.shell}\n`).join('');
  const groupText = groupList.map((g) => `${g.name}:x:${g.gid}:${memberList(g.name)}\n`).join('');
  const shadowText = passwd.map((p) => (p.static ? `${p.name}:*:${days}:0:99999:7:::\n` : `${p.name}:!*:${days}::::::\n`)).join('');
  const gshadowText = groupList.map((g) => `${g.name}:${g.static ? '*' : '!*'}::${memberList(g.name)}\n`).join('');
  const shadowGid = groupIds.get('shadow');
  const secret = shadowGid === undefined ? madeMeta(options, 0o600) : madeMeta(options, 0o640, 0, shadowGid);
  for (const [path, text, meta] of [
    ['etc/passwd', passwdText, madeMeta(options, 0o644)],
    ['etc/group', groupText, madeMeta(options, 0o644)],
    ['etc/shadow', shadowText, secret],
    ['etc/gshadow', gshadowText, secret],
  ] as const) {
    ensureParents(tree, path, options, changes);
    tree.writeFile(path, text, meta);
    changes.add(path);
  }

  // Home directories adduser/useradd would have made (an existing one is left alone).
  const homes: string[] = [];
  for (const u of dynUsers) {
    const account = passwd.find((p) => p.name === u.name);
    if (!account || !u.createHome || !u.home.startsWith('/') || u.home === '/nonexistent') continue;
    if (tree.stat(u.home.slice(1))) continue;
    ensureParents(tree, u.home, options, changes);
    tree.mkdirp(u.home, madeMeta(options, u.system ? 0o755 : 0o700, account.uid, account.gid));
    changes.add(u.home);
    homes.push(u.home);
  }

  const accounts: Accounts = {
    uid: (name) => passwd.find((p) => p.name === name)?.uid ?? (/^[0-9]+$/.test(name) ? Number(name) : undefined),
    gid: (name) => groupIds.get(name) ?? (/^[0-9]+$/.test(name) ? Number(name) : undefined),
    primaryGid: (name) => passwd.find((p) => p.name === name)?.gid,
  };
  ctx.accounts = accounts;

  const dynamic = passwd.filter((p) => !p.static).map((p) => `${p.name}=${p.uid}`);
  const summary =
    `${passwd.length} users, ${groupList.length} groups` +
    (dynamic.length ? ` (allocated: ${dynamic.join(', ')})` : '') +
    (homes.length ? `; homes made: ${homes.join(', ')}` : '') +
    (sysusers.ignored.length ? `; sysusers lines not applied: ${sysusers.ignored.join('; ')}` : '') +
    workloadNote;
  return changes.report('users', summary);
}
