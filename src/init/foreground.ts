/**
 * How well-known daemons stay in the foreground, as data. A Type=forking unit
 * starts its daemon in the background, which in a container ends the workload at
 * once (its first process exits) and under jeos's own service in a VM loses it. When
 * the unit's program is here, init rewrites its arguments: `add` goes right after
 * the program (before a trailing config file), `replace` swaps a word, `drop` takes
 * out words that ask for the background. A forking unit whose program is not here
 * keeps its command, with a note. docs/init.md lists the table.
 */

export interface ForegroundRule {
  /** Base name of the executable. */
  program: string;
  add?: string[];
  replace?: Record<string, string>;
  drop?: string[];
  /** Where the flag is documented, briefly. */
  note: string;
}

export const FOREGROUND: readonly ForegroundRule[] = [
  { program: 'named', add: ['-f'], note: 'named -f: run in the foreground' },
  { program: 'nsd', add: ['-d'], note: 'nsd -d: do not fork, stay in the foreground' },
  { program: 'unbound', add: ['-d'], note: 'unbound -d: do not fork into the background' },
  { program: 'dnsmasq', add: ['-k'], note: 'dnsmasq -k (--keep-in-foreground)' },
  { program: 'chronyd', add: ['-n'], note: 'chronyd -n: do not detach from the terminal' },
  { program: 'sshd', add: ['-D'], note: 'sshd -D: do not detach and become a daemon' },
  { program: 'dovecot', add: ['-F'], note: 'dovecot -F: run in the foreground' },
  { program: 'exim4', replace: { '-bd': '-bdf' }, note: 'exim -bdf: the daemon stays in the foreground' },
  { program: 'tinyproxy', add: ['-d'], note: 'tinyproxy -d: do not daemonize' },
  { program: 'privoxy', add: ['--no-daemon'], note: 'privoxy --no-daemon: stay in the foreground' },
  { program: 'slapd', add: ['-d', '0'], note: 'slapd -d LEVEL: with any level, even 0, slapd does not fork' },
  { program: 'squid', add: ['-N'], note: 'squid -N: no daemon mode' },
  { program: 'lighttpd', add: ['-D'], note: 'lighttpd -D: do not go to the background' },
  { program: 'apache2', add: ['-D', 'FOREGROUND'], note: 'apache2 -D FOREGROUND' },
  { program: 'proftpd', add: ['-n'], note: 'proftpd -n: no-daemon mode' },
  { program: 'cupsd', add: ['-f'], note: 'cupsd -f: run in the foreground' },
  { program: 'rsyslogd', add: ['-n'], note: 'rsyslogd -n: do not auto-background' },
  { program: 'cron', add: ['-f'], note: 'cron -f: stay in the foreground' },
  { program: 'smbd', add: ['--foreground', '--no-process-group'], note: 'smbd --foreground --no-process-group' },
  { program: 'varnishd', add: ['-F'], note: 'varnishd -F: run in the foreground' },
  { program: 'turnserver', drop: ['-o', '--daemon'], note: 'turnserver runs in the foreground unless -o/--daemon' },
  { program: 'memcached', drop: ['-d'], note: 'memcached runs in the foreground unless -d' },
  { program: 'redis-server', add: ['--daemonize', 'no'], note: 'redis-server --daemonize no' },
  { program: 'valkey-server', add: ['--daemonize', 'no'], note: 'valkey-server --daemonize no' },
  { program: 'php-fpm', add: ['--nodaemonize'], note: 'php-fpm --nodaemonize (-F)' },
  { program: 'postfix', add: ['start-fg'], note: 'postfix start-fg: the master daemon in the foreground' },
];

export function foregroundRule(path: string): ForegroundRule | undefined {
  const base = path.slice(path.lastIndexOf('/') + 1);
  // php-fpm8.4 → php-fpm: versioned names.
  return FOREGROUND.find((r) => r.program === base || r.program === base.replace(/[\d.]+$/, ''));
}

/** The arguments with the rule applied; unchanged when they already keep the daemon in the foreground. */
export function foregroundArgs(rule: ForegroundRule, args: string[]): string[] {
  let out = args.filter((a) => !rule.drop?.includes(a)).map((a) => rule.replace?.[a] ?? a);
  const add = rule.add ?? [];
  const has = add.length > 0 && out.some((_, i) => add.every((w, j) => out[i + j] === w));
  if (add.length && !has) out = [...add, ...out];
  return out;
}
