/**
 * adduser, addgroup, useradd, groupadd, usermod -aG and gpasswd -a, read into
 * account actions with the defaults each tool applies on Debian.
 */
import type { Action, GroupChoice } from '../actions.js';
import { parseArgs, UnsupportedCommand, type ArgSpec } from './args.js';

const ADDUSER: ArgSpec = {
  flags: {
    '--system': 'system',
    '--group': 'group',
    '--no-create-home': 'no-create-home',
    '--disabled-password': 'ignore',
    '--disabled-login': 'ignore',
    '--quiet': 'ignore',
    '-q': 'ignore',
    '--force-badname': 'ignore',
    '--allow-badname': 'ignore',
    '--allow-bad-names': 'ignore',
    '--allow-all-names': 'ignore',
    '--debug': 'ignore',
    '--verbose': 'ignore',
    '--add-extra-groups': 'ignore',
    '--add_extra_groups': 'ignore',
  },
  values: {
    '--home': 'home',
    '--shell': 'shell',
    '--ingroup': 'ingroup',
    '--gid': 'gid',
    '--uid': 'uid',
    '--gecos': 'gecos',
    '--comment': 'gecos',
    '--firstuid': 'ignore',
    '--lastuid': 'ignore',
    '--firstgid': 'ignore',
    '--lastgid': 'ignore',
  },
};

const USERADD: ArgSpec = {
  flags: {
    '-r': 'system',
    '--system': 'system',
    '-M': 'no-create-home',
    '--no-create-home': 'no-create-home',
    '-m': 'create-home',
    '--create-home': 'create-home',
    '-U': 'user-group',
    '--user-group': 'user-group',
    '-N': 'no-user-group',
    '--no-user-group': 'no-user-group',
    '-o': 'ignore',
    '--non-unique': 'ignore',
    '-l': 'ignore',
    '--no-log-init': 'ignore',
  },
  values: {
    '-d': 'home',
    '--home-dir': 'home',
    '--home': 'home',
    '-s': 'shell',
    '--shell': 'shell',
    '-g': 'gid',
    '--gid': 'gid',
    '-G': 'groups',
    '--groups': 'groups',
    '-c': 'gecos',
    '--comment': 'gecos',
    '-u': 'uid',
    '--uid': 'uid',
    '-K': 'ignore',
    '--key': 'ignore',
    '-p': 'ignore',
    '--password': 'ignore',
    '-e': 'ignore',
    '--expiredate': 'ignore',
    '-f': 'ignore',
    '--inactive': 'ignore',
    '-R': 'root',
    '--root': 'root',
  },
};

const GROUPADD: ArgSpec = {
  flags: { '-r': 'system', '--system': 'system', '-f': 'ignore', '--force': 'ignore', '-o': 'ignore', '--non-unique': 'ignore' },
  values: { '-g': 'gid', '--gid': 'gid', '-K': 'ignore', '--key': 'ignore', '-p': 'ignore', '--password': 'ignore', '-R': 'root', '--root': 'root' },
};

function id(text: string | true | undefined, what: string): number | undefined {
  if (text === undefined) return undefined;
  if (typeof text !== 'string' || !/^[0-9]+$/.test(text)) throw new UnsupportedCommand(`${what} ${String(text)} is not a number`);
  return Number(text);
}

function str(v: string | true | undefined): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

function checkRoot(v: string | true | undefined): void {
  if (v !== undefined && v !== '' && v !== '/') throw new UnsupportedCommand(`--root ${String(v)} points outside the image being configured`);
}

/** adduser/addgroup (Debian's adduser). */
export function adduser(tool: 'adduser' | 'addgroup', args: Array<string | undefined>): Action[] {
  const { opts, operands } = parseArgs(args, ADDUSER);
  const system = opts.has('system');
  if (operands.length === 2) {
    return [{ kind: 'add-member', user: operands[0]!, group: operands[1]! }];
  }
  if (operands.length !== 1) throw new UnsupportedCommand(`expected one name, got ${operands.length}`);
  const name = operands[0]!;
  if (tool === 'addgroup' || (opts.has('group') && !system)) {
    const gid = id(opts.get('gid'), 'gid');
    return [{ kind: 'add-group', name, system, ...(gid !== undefined ? { gid } : {}) }];
  }
  let group: GroupChoice = { kind: system ? 'default' : 'same' };
  if (opts.has('group')) group = { kind: 'same' };
  else if (str(opts.get('ingroup'))) group = { kind: 'name', name: str(opts.get('ingroup'))! };
  else if (opts.has('gid')) group = { kind: 'gid', gid: id(opts.get('gid'), 'gid')! };
  const uid = id(opts.get('uid'), 'uid');
  const home = str(opts.get('home')) ?? (system ? '/nonexistent' : `/home/${name}`);
  const gecos = str(opts.get('gecos'));
  return [
    {
      kind: 'add-user',
      name,
      tool: 'adduser',
      system,
      ...(uid !== undefined ? { uid } : {}),
      group,
      home,
      shell: str(opts.get('shell')) ?? (system ? '/usr/sbin/nologin' : '/bin/bash'),
      // adduser never creates /nonexistent, and leaves an existing home alone.
      createHome: !opts.has('no-create-home') && home !== '/nonexistent',
      ...(gecos !== undefined ? { gecos } : {}),
      extraGroups: [],
    },
  ];
}

/** useradd (shadow), with Debian's /etc/default/useradd and login.defs defaults. */
export function useradd(args: Array<string | undefined>): Action[] {
  const { opts, all, operands } = parseArgs(args, USERADD);
  checkRoot(opts.get('root'));
  if (operands.length !== 1) throw new UnsupportedCommand(`expected one user name, got ${operands.length}`);
  const name = operands[0]!;
  const g = str(opts.get('gid'));
  const group: GroupChoice =
    g !== undefined ? (/^[0-9]+$/.test(g) ? { kind: 'gid', gid: Number(g) } : { kind: 'name', name: g }) : opts.has('no-user-group') ? { kind: 'name', name: 'users' } : { kind: 'same' };
  const uid = id(opts.get('uid'), 'uid');
  const gecos = str(opts.get('gecos'));
  const extraGroups = all.filter(([k]) => k === 'groups').flatMap(([, v]) => String(v).split(',').filter(Boolean));
  return [
    {
      kind: 'add-user',
      name,
      tool: 'useradd',
      system: opts.has('system'),
      ...(uid !== undefined ? { uid } : {}),
      group,
      home: str(opts.get('home')) ?? `/home/${name}`,
      shell: str(opts.get('shell')) ?? '/bin/sh',
      createHome: opts.has('create-home'),
      ...(gecos !== undefined ? { gecos } : {}),
      extraGroups,
    },
  ];
}

export function groupadd(args: Array<string | undefined>): Action[] {
  const { opts, operands } = parseArgs(args, GROUPADD);
  checkRoot(opts.get('root'));
  if (operands.length !== 1) throw new UnsupportedCommand(`expected one group name, got ${operands.length}`);
  const gid = id(opts.get('gid'), 'gid');
  return [{ kind: 'add-group', name: operands[0]!, system: opts.has('system'), ...(gid !== undefined ? { gid } : {}) }];
}

/** usermod: only `-a -G GROUPS USER` (adding memberships) is an effect we reproduce. */
export function usermod(args: Array<string | undefined>): Action[] {
  const { opts, operands } = parseArgs(args, { flags: { '-a': 'append', '--append': 'append' }, values: { '-G': 'groups', '--groups': 'groups' } });
  const groups = str(opts.get('groups'));
  if (!opts.has('append') || groups === undefined || operands.length !== 1) throw new UnsupportedCommand('only usermod -a -G GROUPS USER is reproduced');
  return groups
    .split(',')
    .filter(Boolean)
    .map((group) => ({ kind: 'add-member', user: operands[0]!, group }));
}

/** gpasswd -a USER GROUP */
export function gpasswd(args: Array<string | undefined>): Action[] {
  const { opts, operands } = parseArgs(args, { values: { '-a': 'add', '--add': 'add' } });
  const user = str(opts.get('add'));
  if (user === undefined || operands.length !== 1) throw new UnsupportedCommand('only gpasswd -a USER GROUP is reproduced');
  return [{ kind: 'add-member', user, group: operands[0]! }];
}
