import { connect, type Socket } from 'node:net';
import { probeNtp } from './health-ntp.js';

/** A health check as jeos.yaml declares it (one of http, tcp, dns, smtp, imap, ftp, nats, redis, ldap, ntp, command). */
export interface HealthcheckSpec {
  http?: string;
  status: number;
  tcp?: number;
  dns?: DnsCheck;
  smtp?: number;
  imap?: number;
  ftp?: number;
  nats?: number;
  redis?: number;
  ldap?: number;
  ntp?: number;
  command?: string[] | string;
  timeout: number;
}

/** A DNS query the server must answer: over TCP on `port` (every DNS server answers TCP, RFC 7766). */
export interface DnsCheck {
  port: number;
  name: string;
  type: string;
}

/** The kinds of health check, as test results name them. */
export type HealthcheckKind = 'http' | 'tcp' | 'dns' | 'smtp' | 'imap' | 'ftp' | 'nats' | 'redis' | 'ldap' | 'ntp' | 'command';

export interface ProbeResult {
  ok: boolean;
  /** What was seen: "HTTP 200", "connection refused", the command's exit status. */
  detail: string;
}

/** Maps a port inside the image to a reachable host and port. */
export type PortMapper = (port: number, protocol: 'tcp' | 'udp') => { host: string; port: number } | undefined;

/** The port an http(s) URL names, defaulting as browsers do. */
export function urlPort(url: URL): number {
  if (url.port) return Number(url.port);
  return url.protocol === 'https:' ? 443 : 80;
}

export async function probeHttp(spec: { http: string; status: number }, mapPort: PortMapper): Promise<ProbeResult> {
  const inside = new URL(spec.http);
  const mapped = mapPort(urlPort(inside), 'tcp');
  if (!mapped) return { ok: false, detail: `port ${urlPort(inside)} is not published` };
  const outside = new URL(inside.href);
  outside.hostname = mapped.host;
  outside.port = String(mapped.port);
  try {
    const response = await fetch(outside, { signal: AbortSignal.timeout(5000), redirect: 'manual' });
    await response.body?.cancel();
    return {
      ok: response.status === spec.status,
      detail: `HTTP ${response.status} from ${inside.href}${response.status === spec.status ? '' : ` (expected ${spec.status})`}`,
    };
  } catch (e) {
    const cause = (e as Error & { cause?: Error }).cause;
    return { ok: false, detail: `${inside.href}: ${cause?.message ?? (e as Error).message}` };
  }
}

export function probeTcp(port: number, mapPort: PortMapper): Promise<ProbeResult> {
  const mapped = mapPort(port, 'tcp');
  if (!mapped) return Promise.resolve({ ok: false, detail: `port ${port} is not published` });
  return new Promise((resolve) => {
    const socket = connect({ host: mapped.host, port: mapped.port });
    const done = (result: ProbeResult) => {
      socket.destroy();
      resolve(result);
    };
    socket.setTimeout(5000, () => done({ ok: false, detail: `tcp ${port}: timed out` }));
    socket.once('connect', () => done({ ok: true, detail: `tcp ${port} accepts connections` }));
    socket.once('error', (e) => done({ ok: false, detail: `tcp ${port}: ${e.message}` }));
  });
}

/** The kind of a declared health check; undefined when none is declared. */
export function healthcheckKind(spec: HealthcheckSpec | undefined): HealthcheckKind | undefined {
  if (!spec) return undefined;
  if (spec.http) return 'http';
  if (spec.tcp) return 'tcp';
  if (spec.dns) return 'dns';
  for (const kind of Object.keys(GREETINGS) as Array<keyof typeof GREETINGS>) if (spec[kind]) return kind;
  if (spec.redis) return 'redis';
  if (spec.ldap) return 'ldap';
  if (spec.ntp) return 'ntp';
  return spec.command !== undefined ? 'command' : undefined;
}

/** The port a network health check probes (none for a command check): TCP, or UDP for ntp. */
export function healthcheckPort(spec: HealthcheckSpec | undefined): number | undefined {
  if (spec?.http) return urlPort(new URL(spec.http));
  if (spec?.dns) return spec.dns.port;
  return spec?.tcp ?? spec?.smtp ?? spec?.imap ?? spec?.ftp ?? spec?.nats ?? spec?.redis ?? spec?.ldap ?? spec?.ntp;
}

/** The ports a health check needs published, besides the workload's own. */
export function healthcheckPorts(spec: HealthcheckSpec | undefined): number[] {
  const port = healthcheckPort(spec);
  return port ? [port] : [];
}

/** The ports a health check needs published, with their protocol: an ntp check's is UDP, every other TCP. */
export function healthcheckForwards(spec: HealthcheckSpec | undefined): Array<{ port: number; protocol: 'tcp' | 'udp' }> {
  const protocol = spec?.ntp ? 'udp' : 'tcp';
  return healthcheckPorts(spec).map((port) => ({ port, protocol }));
}

/**
 * Probe a network health check from the host (every kind but command): the port is
 * mapped to where the host reaches it. Undefined for a command check.
 */
export function probeNetwork(spec: HealthcheckSpec, mapPort: PortMapper): Promise<ProbeResult> | undefined {
  if (spec.http) return probeHttp({ http: spec.http, status: spec.status }, mapPort);
  if (spec.tcp) return probeTcp(spec.tcp, mapPort);
  if (spec.dns) return probeDns(spec.dns, mapPort);
  for (const kind of Object.keys(GREETINGS) as Array<keyof typeof GREETINGS>) {
    const port = spec[kind];
    if (port) return probeGreeting(kind, port, mapPort);
  }
  if (spec.redis) return probeRedis(spec.redis, mapPort);
  if (spec.ldap) return probeLdap(spec.ldap, mapPort);
  if (spec.ntp) return probeNtp(spec.ntp, mapPort(spec.ntp, 'udp'));
  return undefined;
}

/**
 * Servers that speak first: the greeting a working one sends on connect (RFC 5321's
 * 220 for SMTP, RFC 9051's untagged OK or PREAUTH for IMAP, RFC 959's 220 for FTP,
 * and NATS's INFO {…} line, the server's JSON description, for a NATS client).
 * A 421 or a closed connection means the server is up but not serving.
 */
export const GREETINGS = {
  smtp: { pattern: /^220[ -]/, expect: '220' },
  imap: { pattern: /^\* (OK|PREAUTH)\b/i, expect: '* OK' },
  ftp: { pattern: /^220[ -]/, expect: '220' },
  nats: { pattern: /^INFO \{/, expect: 'INFO {' },
} as const;

const PROBE_TIMEOUT_MS = 5000;

/** Connect to the mapped port and hand the socket to `talk`, which resolves the result; timeouts and errors are failures. */
function withSocket(label: string, port: number, mapPort: PortMapper, talk: (socket: Socket, done: (r: ProbeResult) => void) => void): Promise<ProbeResult> {
  const mapped = mapPort(port, 'tcp');
  if (!mapped) return Promise.resolve({ ok: false, detail: `port ${port} is not published` });
  return new Promise((resolve) => {
    const socket = connect({ host: mapped.host, port: mapped.port });
    let settled = false;
    const done = (result: ProbeResult) => {
      if (settled) return;
      settled = true;
      socket.destroy();
      resolve(result);
    };
    socket.setTimeout(PROBE_TIMEOUT_MS, () => done({ ok: false, detail: `${label} ${port}: no answer in ${PROBE_TIMEOUT_MS / 1000} s` }));
    socket.once('error', (e) => done({ ok: false, detail: `${label} ${port}: ${e.message}` }));
    socket.once('close', () => done({ ok: false, detail: `${label} ${port}: the server closed the connection without answering` }));
    socket.once('connect', () => talk(socket, done));
  });
}

/** Read the server's first line and match it against the protocol's greeting. */
export function probeGreeting(kind: keyof typeof GREETINGS, port: number, mapPort: PortMapper): Promise<ProbeResult> {
  const { pattern, expect } = GREETINGS[kind];
  return withSocket(kind, port, mapPort, (socket, done) => {
    let text = '';
    socket.on('data', (chunk: Buffer) => {
      text += chunk.toString('latin1');
      const end = text.indexOf('\n');
      if (end < 0 && text.length < 1024) return;
      const line = text.slice(0, end < 0 ? undefined : end).replace(/\r$/, '');
      const shown = JSON.stringify(line.length > 80 ? `${line.slice(0, 80)}…` : line);
      done(pattern.test(line) ? { ok: true, detail: `${kind} ${port} greets: ${shown}` } : { ok: false, detail: `${kind} ${port} greets ${shown}, not ${expect}` });
    });
  });
}

/** DNS record types a check may ask for. */
export const DNS_TYPES: Record<string, number> = { A: 1, NS: 2, CNAME: 5, SOA: 6, PTR: 12, MX: 15, TXT: 16, AAAA: 28, SRV: 33 };
const RCODES = ['NOERROR', 'FORMERR', 'SERVFAIL', 'NXDOMAIN', 'NOTIMP', 'REFUSED'];

/** A DNS query message (RFC 1035 4.1), recursion not desired: the server answers from what it holds. */
export function dnsQuery(id: number, name: string, type: string): Buffer {
  const labels = name.replace(/\.$/, '').split('.').filter(Boolean);
  const parts: Buffer[] = [Buffer.from([id >> 8, id & 0xff, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0])];
  for (const label of labels) {
    const bytes = Buffer.from(label, 'ascii');
    if (bytes.length > 63) throw new RangeError(`DNS label too long: ${label}`);
    parts.push(Buffer.from([bytes.length]), bytes);
  }
  const code = DNS_TYPES[type.toUpperCase()];
  if (code === undefined) throw new RangeError(`unknown DNS type ${type}`);
  parts.push(Buffer.from([0, code >> 8, code & 0xff, 0, 1]));
  return Buffer.concat(parts);
}

/**
 * Send one DNS query over TCP and wait for its answer: a response with the query's ID
 * means the server speaks DNS on that port, whatever its response code (an
 * authoritative server with no zone for the name answers REFUSED, and is working).
 */
export function probeDns(check: DnsCheck, mapPort: PortMapper): Promise<ProbeResult> {
  const id = (Date.now() ^ (Math.random() * 0xffff)) & 0xffff;
  const query = dnsQuery(id, check.name, check.type);
  const label = `dns ${check.type} ${check.name} on port`;
  return withSocket(label, check.port, mapPort, (socket, done) => {
    socket.write(Buffer.concat([Buffer.from([query.length >> 8, query.length & 0xff]), query]));
    let got = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      got = Buffer.concat([got, chunk]);
      if (got.length < 2 + 12) return;
      const reply = got.subarray(2);
      if (reply.readUInt16BE(0) !== id || !(reply[2]! & 0x80)) return done({ ok: false, detail: `${label} ${check.port}: the answer is not a DNS response to the query` });
      const rcode = reply[3]! & 0x0f;
      const answers = reply.readUInt16BE(6);
      done({ ok: true, detail: `${label} ${check.port}: ${RCODES[rcode] ?? `rcode ${rcode}`}, ${answers} answer${answers === 1 ? '' : 's'}` });
    });
  });
}


/**
 * Send a RESP PING (the protocol of Redis and Valkey) and read the first reply line:
 * +PONG is healthy, and so is -NOAUTH (the server works and asks for a password). Any
 * other error (-DENIED from a server in protected mode, -LOADING) fails with its text.
 */
export function probeRedis(port: number, mapPort: PortMapper): Promise<ProbeResult> {
  return withSocket('redis', port, mapPort, (socket, done) => {
    socket.write('*1\r\n$4\r\nPING\r\n');
    let text = '';
    socket.on('data', (chunk: Buffer) => {
      text += chunk.toString('latin1');
      const end = text.indexOf('\r\n');
      if (end < 0 && text.length < 1024) return;
      const line = text.slice(0, end < 0 ? 200 : end);
      const shown = JSON.stringify(line.length > 120 ? `${line.slice(0, 120)}…` : line);
      if (line === '+PONG' || line.startsWith('-NOAUTH')) return done({ ok: true, detail: `redis ${port} answers PING: ${shown}` });
      done({ ok: false, detail: `redis ${port} answers PING with ${shown}, not +PONG` });
    });
  });
}

/** An anonymous simple bind (RFC 4511 4.2), message ID 1: the smallest request every LDAP server answers. */
export const LDAP_ANONYMOUS_BIND = Buffer.from([0x30, 0x0c, 0x02, 0x01, 0x01, 0x60, 0x07, 0x02, 0x01, 0x03, 0x04, 0x00, 0x80, 0x00]);

/** The result code of an LDAP BindResponse (BER: SEQUENCE { INTEGER id, [APPLICATION 1] { ENUMERATED code, … } }), or undefined when the bytes are not one. */
export function ldapBindResult(reply: Buffer): number | undefined {
  let at = 0;
  const header = (tag: number): number | undefined => {
    if (reply[at] !== tag) return undefined;
    let len = reply[at + 1]!;
    at += 2;
    if (len & 0x80) {
      const n = len & 0x7f;
      if (n < 1 || n > 3 || at + n > reply.length) return undefined;
      len = 0;
      for (let i = 0; i < n; i++) len = (len << 8) | reply[at + i]!;
      at += n;
    }
    return len;
  };
  if (header(0x30) === undefined) return undefined;
  const idLen = header(0x02);
  if (idLen === undefined) return undefined;
  at += idLen;
  if (header(0x61) === undefined || header(0x0a) !== 1) return undefined;
  return reply[at];
}

const LDAP_RESULTS: Record<number, string> = { 0: 'success', 48: 'inappropriateAuthentication', 49: 'invalidCredentials', 50: 'insufficientAccessRights', 51: 'busy', 52: 'unavailable', 53: 'unwillingToPerform' };

/**
 * Send an anonymous LDAP bind and read the BindResponse: any result code means the server
 * speaks LDAP on that port (one that refuses anonymous binds answers unwillingToPerform and
 * is working); no response, or bytes that are not one, fail.
 */
export function probeLdap(port: number, mapPort: PortMapper): Promise<ProbeResult> {
  return withSocket('ldap', port, mapPort, (socket, done) => {
    socket.write(LDAP_ANONYMOUS_BIND);
    let got = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      got = Buffer.concat([got, chunk]);
      if (got.length < 14 && got.length < 2 + (got[1] ?? 0)) return;
      const code = ldapBindResult(got);
      if (code === undefined) return done({ ok: false, detail: `ldap ${port}: the answer to an anonymous bind is not an LDAP BindResponse` });
      done({ ok: true, detail: `ldap ${port} answers an anonymous bind: ${LDAP_RESULTS[code] ?? `result ${code}`}` });
    });
  });
}
