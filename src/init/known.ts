/**
 * What jeos init knows about common programs, as data: how to keep one in the
 * foreground, the ports it listens on, how to tell it works. A program not in
 * the table gets its command from its package (systemd unit, single program)
 * and a port only from its own arguments (`--port 8080`).
 *
 * To add a program: one entry, tested by `jeos init --from PROGRAM` then
 * `jeos build` and `jeos test --container` (see docs/init.md).
 */

export interface KnownProgram {
  /** Base name of the executable (`nginx`, `python3`); `python3.13` matches `python3`. */
  program: string;
  /** Only when the arguments start with these words (`-m http.server`). */
  argsStart?: string[];
  /** Arguments used when the source gives none (a package or a path): they keep it in the foreground, headless. */
  args?: string[];
  /** Packages the program needs besides the one that ships it. */
  packages?: string[];
  /** Default listening ports. */
  ports?: number[];
  /** How its command line sets the port: an option (`--port N`, `--port=N`) or `positional` (the first bare number). */
  portArg?: string;
  /** UDP ports it also listens on (published, not probed). */
  udp?: number[];
  /** Health check: an HTTP path on the first port; else the protocol named by `check`; else TCP on the first port. */
  http?: string;
  /** A protocol health check on the first port: a DNS query, the greeting of an SMTP, IMAP or FTP server, a RESP PING (redis); ntp: an NTP request to the first UDP port. */
  check?: 'dns' | 'smtp' | 'imap' | 'ftp' | 'nats' | 'redis' | 'ldap' | 'ntp';
  /** The HTTP status a working program answers with (default 200). */
  status?: number;
  /** The user it runs as (one the package creates, or jeos adds). */
  user?: string;
  /** Files it needs to answer its health check. */
  files?: Array<{ path: string; content: string }>;
  /** Why these values, printed by jeos init. */
  note: string;
}

export const KNOWN_PROGRAMS: readonly KnownProgram[] = [
  {
    program: 'nginx',
    args: ['-g', 'daemon off;'],
    ports: [80],
    http: '/',
    files: [{ path: '/var/www/html/index.html', content: 'It works: nginx in a jeos image.\n' }],
    note: "nginx forks unless told 'daemon off;'; Debian's default site serves /var/www/html on port 80",
  },
  {
    program: 'redis-server',
    args: ['--protected-mode', 'no'],
    ports: [6379],
    portArg: '--port',
    check: 'redis',
    note: 'redis-server without a config file stays in the foreground on port 6379; protected mode would refuse clients from outside the container',
  },
  {
    program: 'memcached',
    ports: [11211],
    portArg: '-p',
    user: 'memcache',
    note: 'memcached stays in the foreground on port 11211 and refuses to run as root',
  },
  {
    program: 'docker-registry',
    ports: [5000],
    http: '/v2/',
    status: 401,
    note: "the registry listens on port 5000; Debian's config asks for basic authentication, so GET /v2/ answers 401",
  },
  {
    program: 'python3',
    argsStart: ['-m', 'http.server'],
    packages: ['python3'],
    ports: [8000],
    portArg: 'positional',
    http: '/',
    note: 'python3 -m http.server serves the working directory on port 8000 (or the port given); http.server is in the standard library (package python3)',
  },
  {
    program: 'python3',
    packages: ['python3'],
    note: 'python3-minimal has only what Python needs to start; the standard library comes with package python3',
  },
  // Well-known servers: the port Debian's default configuration listens on and the protocol that
  // tells a working server. A port the program's own configuration names wins (config-ports.ts).
  ...dns(['named', 'nsd', 'unbound', 'dnsmasq']),
  {
    program: 'knotd',
    ports: [53],
    udp: [53],
    check: 'dns',
    note: "knotd answers DNS on port 53 once its configuration names a listen address (server: listen: [0.0.0.0@53, ::@53]); Debian's knot.conf has it commented out, so knotd listens on none until one is added",
  },
  {
    program: 'pdns_server',
    ports: [53],
    udp: [53],
    check: 'dns',
    packages: ['pdns-backend-bind'],
    note: "pdns_server answers DNS on port 53; Debian's pdns.conf launches no backend (launch= is empty) and includes /etc/powerdns/pdns.d, where pdns-backend-bind, which pdns-server Recommends (Debian installs it with it), adds launch+=bind; without a backend pdns_server stops with 'no backends configured'",
  },
  { program: 'master', ports: [25], check: 'smtp', note: 'postfix\'s master daemon serves SMTP on port 25' },
  {
    program: 'postfix',
    args: ['start-fg'],
    ports: [25],
    check: 'smtp',
    packages: ['dash', 'coreutils', 'sed', 'grep', 'findutils', 'perl-base'],
    note: "postfix start-fg runs its master daemon in the foreground, which serves SMTP on port 25; its start is a shell script (postfix-script, post-install create-missing) that runs coreutils, sed, grep and find, and Debian's configure-instance.sh copies /etc files into the chroot with a Perl script",
  },
  { program: 'exim4', ports: [25], check: 'smtp', note: 'exim serves SMTP on port 25' },
  { program: 'dovecot', ports: [143], check: 'imap', note: 'dovecot serves IMAP on port 143' },
  { program: 'vsftpd', ports: [21], check: 'ftp', note: 'vsftpd serves FTP on port 21' },
  { program: 'proftpd', ports: [21], check: 'ftp', note: 'proftpd serves FTP on port 21' },
  { program: 'sshd', ports: [22], note: 'sshd listens on port 22' },
  { program: 'slapd', ports: [389], check: 'ldap', note: 'slapd serves LDAP on port 389 and answers an anonymous bind' },
  { program: 'apache2', ports: [80], http: '/', note: 'Debian\'s default site serves /var/www/html on port 80' },
  { program: 'lighttpd', ports: [80], http: '/', note: 'Debian\'s lighttpd serves /var/www/html on port 80' },
  { program: 'caddy', ports: [80], http: '/', note: 'Debian\'s Caddyfile serves a welcome page on port 80' },
  {
    program: 'etcd',
    ports: [2379],
    http: '/health',
    note: "etcd answers GET /health on its client port 2379, on localhost only until ETCD_LISTEN_CLIENT_URLS (and ETCD_ADVERTISE_CLIENT_URLS) in /etc/default/etcd, its unit's EnvironmentFile=, name every address (http://0.0.0.0:2379)",
  },
  {
    program: 'icecast2',
    args: ['-c', '/etc/icecast2/icecast.xml'],
    user: 'icecast2',
    ports: [8000],
    http: '/',
    note: "icecast serves its status page on port 8000; it has no unit, and Debian's init script runs it with -c /etc/icecast2/icecast.xml as icecast2 (without -c it only prints its usage; it will not run as root)",
  },
  { program: 'squid', ports: [3128], note: 'squid proxies on port 3128' },
  { program: 'tinyproxy', ports: [8888], note: 'tinyproxy proxies on port 8888' },
  { program: 'privoxy', ports: [8118], note: 'privoxy proxies on port 8118' },
  { program: 'pgbouncer', ports: [6432], note: 'pgbouncer listens on port 6432' },
  { program: 'valkey-server', ports: [6379], check: 'redis', note: 'valkey listens on port 6379 and answers a RESP PING' },
  { program: 'turnserver', ports: [3478], udp: [3478], note: 'coturn listens on port 3478, TCP and UDP' },
  { program: 'prosody', ports: [5222], note: 'prosody serves XMPP clients on port 5222' },
  { program: 'nats-server', ports: [4222], check: 'nats', note: "nats-server serves NATS clients on port 4222 and greets each with its INFO line" },
  { program: 'rabbitmq-server', ports: [5672], note: 'RabbitMQ serves AMQP on port 5672' },
  { program: 'radicale', ports: [5232], http: '/.web/', note: 'radicale serves CalDAV and CardDAV on port 5232, and its web interface at /.web/' },
  { program: 'mosquitto', ports: [1883], note: 'mosquitto serves MQTT on port 1883' },
  { program: 'postgres', ports: [5432], note: 'PostgreSQL listens on port 5432' },
  { program: 'mariadbd', ports: [3306], note: 'MariaDB listens on port 3306' },
  { program: 'kea-dhcp4', udp: [67], note: 'kea serves DHCPv4 on port 67/udp' },
  {
    program: 'chronyd',
    udp: [123],
    check: 'ntp',
    note: "chrony serves NTP on port 123/udp once its configuration allows clients (an allow directive; Debian's chrony.conf has none, so it serves no clients until one is added, e.g. in /etc/chrony/conf.d/)",
  },
];

/** DNS servers: port 53 over TCP and UDP, checked with a DNS query. */
function dns(programs: string[]): KnownProgram[] {
  return programs.map((program) => ({ program, ports: [53], udp: [53], check: 'dns' as const, note: `${program} answers DNS on port 53` }));
}

/** The table's entry for a program run with these arguments, if any. */
export function knownProgram(path: string, args: string[]): KnownProgram | undefined {
  const base = path.slice(path.lastIndexOf('/') + 1);
  // python3.13 → python3, perl5.40 → perl5: versioned names of an interpreter.
  const names = [base, base.replace(/\.\d+$/, '')];
  return KNOWN_PROGRAMS.find(
    (k) => names.includes(k.program) && (!k.argsStart || k.argsStart.every((w, i) => args[i] === w)),
  );
}

/** Options that set a listening port in many programs, for programs jeos does not know. */
const GENERIC_PORT_OPTIONS = ['--port', '--listen-port', '--http-port'];

/** The port a command line asks for: `OPT N`, `OPT=N`, or with `positional` the first bare number after argsStart. */
export function portFromArgs(args: string[], known: KnownProgram | undefined): number | undefined {
  const options = known?.portArg ? (known.portArg !== 'positional' ? [known.portArg] : []) : GENERIC_PORT_OPTIONS;
  const asPort = (s: string | undefined) => (s && /^\d{1,5}$/.test(s) && Number(s) >= 1 && Number(s) <= 65535 ? Number(s) : undefined);
  if (known?.portArg === 'positional') {
    return args.slice(known.argsStart?.length ?? 0).map(asPort).find((p) => p !== undefined);
  }
  for (let i = 0; i < args.length; i++) {
    for (const opt of options) {
      if (args[i] === opt) {
        const p = asPort(args[i + 1]);
        if (p) return p;
      }
      if (args[i]!.startsWith(`${opt}=`)) {
        const p = asPort(args[i]!.slice(opt.length + 1));
        if (p) return p;
      }
    }
  }
  return undefined;
}
