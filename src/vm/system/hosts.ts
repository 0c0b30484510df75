/**
 * /etc/hosts for a VM: its own host name must resolve without DNS. A program that looks up the
 * machine's name (a proxy's Via header, a mail server's HELO, Java's InetAddress.getLocalHost())
 * otherwise waits for the resolver to time out: tinyproxy took 46 s instead of 6 to answer.
 * netbase ships an /etc/hosts with localhost only; Debian's installer adds the host name as
 * 127.0.1.1, and so does this.
 */

const DEFAULT_HOSTS = (hostname: string) => `127.0.0.1\tlocalhost\n127.0.1.1\t${hostname}\n::1\tlocalhost ip6-localhost ip6-loopback\n`;

/** The text /etc/hosts should have, or undefined when the existing one already names the host. */
export function hostsFor(existing: string | undefined, hostname: string): string | undefined {
  if (existing === undefined) return DEFAULT_HOSTS(hostname);
  const named = existing.split('\n').some((line) => line.replace(/#.*/, '').trim().split(/\s+/).slice(1).includes(hostname));
  if (named) return undefined;
  const lines = existing.endsWith('\n') || existing === '' ? existing : `${existing}\n`;
  // After the IPv4 localhost line, as the installer writes it; at the end when there is none.
  const at = lines.search(/^127\.0\.0\.1\s.*\n/m);
  if (at < 0) return `${lines}127.0.1.1\t${hostname}\n`;
  const end = lines.indexOf('\n', at) + 1;
  return `${lines.slice(0, end)}127.0.1.1\t${hostname}\n${lines.slice(end)}`;
}
