/**
 * Debian's statically allocated accounts (base-passwd's passwd.master and
 * group.master; ids 0–99 and 65534 are the same on every Debian system).
 */

export interface StaticUser {
  name: string;
  uid: number;
  gid: number;
  gecos: string;
  home: string;
  shell: string;
}

export interface StaticGroup {
  name: string;
  gid: number;
}

export const STATIC_USERS: readonly StaticUser[] = [
  { name: 'root', uid: 0, gid: 0, gecos: 'root', home: '/root', shell: '/bin/bash' },
  { name: 'daemon', uid: 1, gid: 1, gecos: 'daemon', home: '/usr/sbin', shell: '/usr/sbin/nologin' },
  { name: 'bin', uid: 2, gid: 2, gecos: 'bin', home: '/bin', shell: '/usr/sbin/nologin' },
  { name: 'sys', uid: 3, gid: 3, gecos: 'sys', home: '/dev', shell: '/usr/sbin/nologin' },
  { name: 'sync', uid: 4, gid: 65534, gecos: 'sync', home: '/bin', shell: '/bin/sync' },
  { name: 'games', uid: 5, gid: 60, gecos: 'games', home: '/usr/games', shell: '/usr/sbin/nologin' },
  { name: 'man', uid: 6, gid: 12, gecos: 'man', home: '/var/cache/man', shell: '/usr/sbin/nologin' },
  { name: 'lp', uid: 7, gid: 7, gecos: 'lp', home: '/var/spool/lpd', shell: '/usr/sbin/nologin' },
  { name: 'mail', uid: 8, gid: 8, gecos: 'mail', home: '/var/mail', shell: '/usr/sbin/nologin' },
  { name: 'news', uid: 9, gid: 9, gecos: 'news', home: '/var/spool/news', shell: '/usr/sbin/nologin' },
  { name: 'uucp', uid: 10, gid: 10, gecos: 'uucp', home: '/var/spool/uucp', shell: '/usr/sbin/nologin' },
  { name: 'proxy', uid: 13, gid: 13, gecos: 'proxy', home: '/bin', shell: '/usr/sbin/nologin' },
  { name: 'www-data', uid: 33, gid: 33, gecos: 'www-data', home: '/var/www', shell: '/usr/sbin/nologin' },
  { name: 'backup', uid: 34, gid: 34, gecos: 'backup', home: '/var/backups', shell: '/usr/sbin/nologin' },
  { name: 'list', uid: 38, gid: 38, gecos: 'Mailing List Manager', home: '/var/list', shell: '/usr/sbin/nologin' },
  { name: 'irc', uid: 39, gid: 39, gecos: 'ircd', home: '/run/ircd', shell: '/usr/sbin/nologin' },
  { name: '_apt', uid: 42, gid: 65534, gecos: '', home: '/nonexistent', shell: '/usr/sbin/nologin' },
  { name: 'nobody', uid: 65534, gid: 65534, gecos: 'nobody', home: '/nonexistent', shell: '/usr/sbin/nologin' },
];

export const STATIC_GROUPS: readonly StaticGroup[] = [
  ['root', 0], ['daemon', 1], ['bin', 2], ['sys', 3], ['adm', 4], ['tty', 5], ['disk', 6], ['lp', 7], ['mail', 8], ['news', 9],
  ['uucp', 10], ['man', 12], ['proxy', 13], ['kmem', 15], ['dialout', 20], ['fax', 21], ['voice', 22], ['cdrom', 24], ['floppy', 25],
  ['tape', 26], ['sudo', 27], ['audio', 29], ['dip', 30], ['www-data', 33], ['backup', 34], ['operator', 37], ['list', 38], ['irc', 39],
  ['src', 40], ['shadow', 42], ['utmp', 43], ['video', 44], ['sasl', 45], ['plugdev', 46], ['staff', 50], ['games', 60], ['users', 100],
  ['nogroup', 65534],
].map(([name, gid]) => ({ name: name as string, gid: gid as number }));

export const STATIC_USER = new Map(STATIC_USERS.map((u) => [u.name, u]));
export const STATIC_GROUP = new Map(STATIC_GROUPS.map((g) => [g.name, g]));
