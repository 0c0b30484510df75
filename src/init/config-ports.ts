/**
 * Where a server's own configuration names the port it listens on, as data: the
 * file Debian ships and the directive's form. init reads these files from the
 * package (its conffiles) and prefers what they say to the default of the table of
 * known programs, and a file that sets no directive means the program's built-in default
 * (`unset`). A directive or default that binds only the loopback address is reported:
 * a health check from outside the container or VM cannot reach it. docs/init.md
 * lists the table.
 */
import type { ImageTree } from '../tree/index.js';

export interface ConfigPortRule {
  /** Base names of the executables. */
  programs: string[];
  /** Files to read, in order; the first directive found wins. */
  files: string[];
  /** Matches one directive: group `port`, optionally group `addr` (the address it binds). */
  directive: RegExp;
  /** A separate directive that binds the loopback address only (`bind 127.0.0.1`). */
  loopback?: RegExp;
  /** What the program listens on when its configuration file (present) sets no directive: its built-in default, `ADDR:PORT`. */
  unset?: { directive: string; addr: string; port: number };
}

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|localhost|\[?::1\]?)$/i;

export const CONFIG_PORTS: readonly ConfigPortRule[] = [
  { programs: ['nginx'], files: ['/etc/nginx/sites-available/default', '/etc/nginx/nginx.conf'], directive: /^\s*listen\s+(?:(?<addr>\S+):)?(?<port>\d+)\b[^;\n]*;/m },
  { programs: ['apache2'], files: ['/etc/apache2/ports.conf'], directive: /^\s*Listen\s+(?:(?<addr>\S+):)?(?<port>\d+)\s*$/im },
  { programs: ['lighttpd'], files: ['/etc/lighttpd/lighttpd.conf'], directive: /^\s*server\.port\s*=\s*(?<port>\d+)/m },
  { programs: ['redis-server'], files: ['/etc/redis/redis.conf'], directive: /^port\s+(?<port>\d+)/m, loopback: /^bind\s+127\.0\.0\.1\b/m },
  { programs: ['valkey-server'], files: ['/etc/valkey/valkey.conf'], directive: /^port\s+(?<port>\d+)/m, loopback: /^bind\s+127\.0\.0\.1\b/m },
  { programs: ['named'], files: ['/etc/bind/named.conf.options', '/etc/bind/named.conf'], directive: /^\s*listen-on(?:-v6)?\s+port\s+(?<port>\d+)/m },
  { programs: ['nsd'], files: ['/etc/nsd/nsd.conf'], directive: /^\s*port:\s*(?<port>\d+)/m },
  { programs: ['unbound'], files: ['/etc/unbound/unbound.conf'], directive: /^\s*port:\s*(?<port>\d+)/m },
  { programs: ['knotd'], files: ['/etc/knot/knot.conf'], directive: /^\s*listen:\s*(?<addr>[^@\s]+)@(?<port>\d+)/m },
  { programs: ['pdns_server'], files: ['/etc/powerdns/pdns.conf'], directive: /^\s*local-port\s*=\s*(?<port>\d+)/m },
  { programs: ['sshd'], files: ['/etc/ssh/sshd_config'], directive: /^\s*Port\s+(?<port>\d+)/im },
  { programs: ['vsftpd'], files: ['/etc/vsftpd.conf'], directive: /^\s*listen_port=(?<port>\d+)/m },
  { programs: ['squid'], files: ['/etc/squid/squid.conf'], directive: /^\s*http_port\s+(?:(?<addr>\S+):)?(?<port>\d+)/m },
  { programs: ['tinyproxy'], files: ['/etc/tinyproxy/tinyproxy.conf'], directive: /^\s*Port\s+(?<port>\d+)/m, loopback: /^\s*Listen\s+127\.0\.0\.1\b/m },
  { programs: ['privoxy'], files: ['/etc/privoxy/config'], directive: /^\s*listen-address\s+(?<addr>\S*):(?<port>\d+)/m },
  { programs: ['pgbouncer'], files: ['/etc/pgbouncer/pgbouncer.ini'], directive: /^\s*listen_port\s*=\s*(?<port>\d+)/m, loopback: /^\s*listen_addr\s*=\s*(127\.0\.0\.1|localhost)\s*$/m },
  { programs: ['nats-server'], files: ['/etc/nats-server.conf'], directive: /^\s*port:\s*(?<port>\d+)/m, loopback: /^\s*(host|net):\s*["']?(127\.0\.0\.1|localhost)["']?\s*$/m },
  { programs: ['icecast2'], files: ['/etc/icecast2/icecast.xml'], directive: /<port>(?<port>\d+)<\/port>/ },
  { programs: ['turnserver'], files: ['/etc/turnserver.conf'], directive: /^\s*listening-port=(?<port>\d+)/m },
  { programs: ['mosquitto'], files: ['/etc/mosquitto/mosquitto.conf'], directive: /^\s*listener\s+(?<port>\d+)/m },
  // Debian's config leaves hosts = commented out: radicale listens on its default, localhost:5232.
  { programs: ['radicale'], files: ['/etc/radicale/config'], directive: /^\s*hosts\s*=\s*(?<addr>[^,\s]+):(?<port>\d+)/m, unset: { directive: 'hosts', addr: 'localhost', port: 5232 } },
];

export interface ConfigPort {
  port: number;
  /** The file and the directive, for the printed reason. */
  from: string;
  /** The directive binds the loopback address only. */
  loopbackOnly: boolean;
}

/** The port the program's own configuration names, if the table knows where to look and the file says. */
export function portFromConfig(tree: ImageTree, program: string): ConfigPort | undefined {
  const base = program.slice(program.lastIndexOf('/') + 1);
  const rule = CONFIG_PORTS.find((r) => r.programs.includes(base));
  if (!rule) return undefined;
  for (const file of rule.files) {
    const text = tree.readFile(file.slice(1))?.toString('utf8');
    const m = text ? rule.directive.exec(text) : null;
    if (!text || !m) continue;
    const port = Number(m.groups!.port);
    if (!(port >= 1 && port <= 65535)) continue;
    const addr = m.groups?.addr?.replace(/^\[|\]$/g, '');
    const loopbackOnly = (addr !== undefined && LOOPBACK.test(addr)) || (rule.loopback?.test(text) ?? false);
    return { port, from: `${file}: ${m[0].trim()}`, loopbackOnly };
  }
  const file = rule.files.find((f) => tree.readFile(f.slice(1)) !== undefined);
  if (rule.unset && file) {
    const { directive, addr, port } = rule.unset;
    return { port, from: `${file} sets no ${directive}, so ${base}'s default ${addr}:${port}`, loopbackOnly: LOOPBACK.test(addr) };
  }
  return undefined;
}
