/**
 * Where an image names static (base-passwd) accounts outside maintainer scripts:
 * its systemd units and its packages' configuration files.
 */
import { STATIC_GROUP, STATIC_USER } from './base-passwd.js';
import type { EffectContext } from './context.js';

const UNIT_DIRS = ['etc/systemd/system', 'usr/lib/systemd/system', 'lib/systemd/system'];

export interface Refs {
  users: Set<string>;
  groups: Set<string>;
}

/** Static names systemd units refer to. */
export function unitReferences(ctx: EffectContext): Refs {
  const refs: Refs = { users: new Set(), groups: new Set() };
  const seen = new Set<string>();
  for (const dir of UNIT_DIRS) {
    if (!ctx.tree.isDir(dir)) continue;
    const real = ctx.tree.resolve(dir, { followLast: true });
    if (seen.has(real)) continue;
    seen.add(real);
    for (const name of ctx.tree.list(real)) {
      const text = ctx.tree.readFile(`${real}/${name}`)?.toString('utf8');
      if (!text) continue;
      for (const m of text.matchAll(/^\s*(User|Group|SupplementaryGroups|SocketUser|SocketGroup)\s*=\s*(.+)$/gm)) {
        const set = m[1]!.endsWith('User') ? refs.users : refs.groups;
        for (const n of m[2]!.trim().split(/\s+/)) if (STATIC_USER.has(n) || STATIC_GROUP.has(n)) set.add(n);
      }
    }
  }
  return refs;
}

/** Static names that packages' configuration files name as the user or group to run as. */
export function conffileReferences(ctx: EffectContext): Refs {
  const refs: Refs = { users: new Set(), groups: new Set() };
  const patterns = [
    /^\s*(user|group|User|Group|owner)\s*[=:]?\s*["']?([A-Za-z_][A-Za-z0-9_.-]*)/gm,
    /(?:^|\s)(?:export\s+)?[A-Z_]*(USER|GROUP)=["']?([a-z_][a-z0-9_-]*)/gm,
    // A compound key ending in user(s)/group(s) and the names it takes, one or a list:
    // squid's `cache_effective_user proxy`, `run_as_group x`, `runas-user: x`, exim's
    // `MAIN_TRUSTED_USERS = uucp` (then `trusted_users = uucp:mail`).
    /^\s*[A-Za-z][A-Za-z0-9]*[_-][A-Za-z0-9_-]*?(user|group)s?\s*[=:]?\s+["']?([a-z_][a-z0-9_-]*(?:\s*[:,]\s*[a-z_][a-z0-9_-]*)*)/gim,
  ];
  for (const pkg of ctx.packages) {
    for (const conffile of pkg.conffiles) {
      const text = ctx.tree.readFile(conffile.replace(/^\/+/, ''))?.toString('utf8');
      if (!text || text.includes('\u0000')) continue;
      for (const re of patterns) {
        for (const m of text.matchAll(re)) {
          const set = /group/i.test(m[1]!) ? refs.groups : refs.users;
          for (const n of m[2]!.replace(/[;,]$/, '').split(/\s*[:,]\s*/)) if (STATIC_USER.has(n) || STATIC_GROUP.has(n)) set.add(n);
        }
      }
    }
  }
  return refs;
}

/**
 * The accounts a workload command says it runs as: `-u NAME`, `--user NAME`, `--user=NAME`
 * (named, nsd, dnsmasq, memcached, …), `-g`/`--group` for groups, and `NAME:GROUP` forms.
 * A numeric id or a value that is no user name is not an account.
 */
export function commandAccounts(command: readonly string[]): Refs {
  const refs: Refs = { users: new Set(), groups: new Set() };
  const name = /^[a-z_][a-z0-9_-]*\$?$/i;
  const add = (value: string | undefined, set: Set<string>): void => {
    if (value === undefined) return;
    const [u, g] = value.split(':');
    if (u && name.test(u)) set.add(u);
    if (g && name.test(g)) refs.groups.add(g);
  };
  for (let i = 1; i < command.length; i++) {
    const a = command[i]!;
    const eq = /^--(user|group|runas|uid|gid)=(.*)$/.exec(a);
    if (eq) add(eq[2], /group|gid/.test(eq[1]!) ? refs.groups : refs.users);
    else if (a === '-u' || a === '--user' || a === '--runas' || a === '--uid') add(command[++i], refs.users);
    else if (a === '-g' || a === '--group' || a === '--gid') add(command[++i], refs.groups);
  }
  return refs;
}
