/**
 * The workload's part of jeos.yaml (workload:): its packages, the command and how it runs (user,
 * environment, directories, capabilities, restart), the files it adds, its ports and its health
 * check. Re-exported by schema.ts with the rest of the configuration.
 */
import { z } from 'zod';

/** A package request: `name`, `name=version` (`*` globs allowed), `name/suite` (as src/resolve/request.ts reads it). */
export const PACKAGE_SPEC = /^[a-z0-9][a-z0-9+.-]*(=[A-Za-z0-9.+~:*-]+|\/[a-z0-9][a-z0-9.-]*)?$/;

const absolutePath = z.string().regex(/^\/(?!.*(^|\/)\.\.(\/|$)).*$/, 'an absolute path inside the image (starting with /, no "..")');

/** A command as an argv array, or a string split on spaces (there is no shell in the image to parse it). */
const commandLine = z.union([z.array(z.string().min(1)).min(1), z.string().min(1)]);

const port = z.union([
  z.number().int().min(1).max(65535),
  z
    .string()
    .regex(/^[0-9]{1,5}(\/(tcp|udp))?$/, 'a port such as 80, "80/tcp" or "53/udp"')
    .refine((p) => Number(p.split('/')[0]) >= 1 && Number(p.split('/')[0]) <= 65535, 'a port number from 1 to 65535'),
]);

export const WorkloadFileSchema = z
  .strictObject({
    path: absolutePath.describe('Where the file goes in the image.'),
    content: z.string().optional().describe('The file\'s text, inline.'),
    source: z.string().min(1).optional().describe('A file to copy, relative to the directory holding jeos.yaml.'),
    mode: z
      .string()
      .regex(/^0?[0-7]{3,4}$/, 'an octal mode such as "0644"')
      .default('0644')
      .describe('Permission bits, octal (quote it: "0644").'),
    owner: z
      .string()
      .regex(/^[a-z_0-9][a-z0-9_.-]*(:[a-z_0-9][a-z0-9_.-]*)?$/, 'user or user:group')
      .default('root:root')
      .describe('user or user:group, names from the image\'s own /etc/passwd and /etc/group, or numeric ids.'),
  })
  .refine((f) => (f.content === undefined) !== (f.source === undefined), {
    message: 'give exactly one of content or source',
  });

export const HealthcheckSchema = z
  .strictObject({
    http: z
      .string()
      .regex(/^https?:\/\/[^/\s]+(\/\S*)?$/, 'a URL such as http://localhost:80/')
      .optional()
      .describe('Fetch this URL (host and port as seen inside the image; jeos maps the port to the host).'),
    status: z.number().int().min(100).max(599).default(200).describe('Expected HTTP status for http checks.'),
    tcp: z.number().int().min(1).max(65535).optional().describe('Succeed when this port accepts a TCP connection.'),
    dns: z
      .strictObject({
        port: z.number().int().min(1).max(65535).default(53).describe('The port the DNS server listens on.'),
        name: z.string().regex(/^([A-Za-z0-9_*-]{1,63}\.)*[A-Za-z0-9_*-]{0,63}\.?$/, 'a domain name such as localhost or example.org').default('localhost').describe('The name to ask for.'),
        type: z.enum(['A', 'AAAA', 'NS', 'SOA', 'MX', 'TXT', 'SRV', 'PTR', 'CNAME']).default('A').describe('The record type to ask for.'),
      })
      .optional()
      .describe('Send a DNS query over TCP to this port: {port, name, type}; any DNS response to it is healthy (REFUSED too: the server speaks DNS).'),
    smtp: z.number().int().min(1).max(65535).optional().describe('Succeed when the server on this port greets with SMTP\'s 220.'),
    imap: z.number().int().min(1).max(65535).optional().describe('Succeed when the server on this port greets with IMAP\'s * OK (or * PREAUTH).'),
    ftp: z.number().int().min(1).max(65535).optional().describe('Succeed when the server on this port greets with FTP\'s 220.'),
    nats: z.number().int().min(1).max(65535).optional().describe('Succeed when the server on this port greets with NATS\'s INFO {…} line.'),
    redis: z.number().int().min(1).max(65535).optional().describe('Send a RESP PING (Redis, Valkey) to this port; +PONG (or -NOAUTH: a password is asked for) is healthy.'),
    ldap: z.number().int().min(1).max(65535).optional().describe('Send an anonymous LDAP bind to this port; any BindResponse is healthy (a refusal too: the server speaks LDAP).'),
    ntp: z.number().int().min(1).max(65535).optional().describe('Send an NTP client request over UDP to this port; any server reply to it is healthy (unsynchronised too: the server speaks NTP).'),
    command: commandLine.optional().describe('Run this command inside the image; exit status 0 is healthy.'),
    timeout: z.number().positive().default(60).describe('Seconds to wait for the workload to become healthy.'),
  })
  .refine((h) => [h.http, h.tcp, h.dns, h.smtp, h.imap, h.ftp, h.nats, h.redis, h.ldap, h.ntp, h.command].filter((x) => x !== undefined).length === 1, {
    message: 'give exactly one of http, tcp, dns, smtp, imap, ftp, nats, redis, ldap, ntp or command',
  });

export const WorkloadSchema = z
  .strictObject({
    packages: z
      .array(z.string().regex(PACKAGE_SPEC, 'a package name, optionally name=version (globs allowed) or name/suite'))
      .min(1)
      .describe('Packages the workload needs (name, name=version with * globs, name/suite).'),
    recommends: z.boolean().default(false).describe('Also install Recommends (off: a JeOS carries only hard dependencies).'),
    profile: z
      .enum(['none', 'minbase'])
      .default('none')
      .describe('none: only what the workload pulls in. minbase: also every Essential and Priority: required package (a shell-capable base).'),
    command: commandLine
      .optional()
      .describe('What the image runs (its entrypoint): an argv list, or a string split on spaces (no shell).'),
    containerArgs: z
      .array(z.string())
      .optional()
      .describe(
        'Arguments added after the command\'s in the container image only (a VM runs the command as written), for a daemon that wants a privilege no container has. Unset: from jeos\'s table of such daemons (chronyd gets -x, leave the clock alone: a container has no CAP_SYS_TIME; docs/init.md); [] adds none.',
      ),
    pre: z
      .array(commandLine)
      .default([])
      .describe(
        'Steps run before the command at every start, in order, as the same user: per-instance setup such as a key, a trust anchor or a first database (a unit\'s ExecStartPre=, which jeos init copies here). A program written -/path may fail without stopping the start. VMs: ExecStartPre= of the workload\'s unit; containers: /etc/jeos/start runs them with /bin/sh, then execs the command (the image needs a shell: add dash).',
      ),
    user: z
      .string()
      .regex(/^[a-z_0-9][a-z0-9_.-]*(:[a-z_0-9][a-z0-9_.-]*)?$/, 'user or user:group')
      .default('root')
      .describe('User (and group) the command runs as; a user the packages do not create is added as a system user.'),
    workdir: absolutePath.default('/').describe('Working directory of the command (made, owned by user, when no package ships it).'),
    environmentFiles: z
      .array(z.string().regex(/^-?\//, 'an absolute path, with - in front when it may be missing'))
      .default([])
      .describe(
        'Files of NAME=value lines (a unit\'s EnvironmentFile=, such as /etc/default/NAME) whose variables are the command\'s environment, over env. A container\'s are read from the image when it is built; a VM\'s systemd reads them at every start. -/path: the file may be missing.',
      ),
    directories: z
      .array(
        z.strictObject({
          path: absolutePath.describe('The directory.'),
          mode: z.string().regex(/^0?[0-7]{3,4}$/, 'an octal mode such as "0750"').optional().describe('Permission bits, octal (quote it); default 0755 for a new directory, an existing one keeps its own.'),
          owner: z
            .string()
            .regex(/^[a-z_0-9][a-z0-9_.-]*(:[a-z_0-9][a-z0-9_.-]*)?$/, 'user or user:group')
            .optional()
            .describe('user or user:group (default: workload.user).'),
        }),
      )
      .default([])
      .describe(
        'Directories the command expects to exist, owned by the workload\'s user (a unit\'s RuntimeDirectory=, StateDirectory=, LogsDirectory=, CacheDirectory=, ConfigurationDirectory=): made in the image; in a VM, the ones under /run are the unit\'s RuntimeDirectory= (its /run is made at every boot).',
      ),
    capabilities: z
      .array(z.string().regex(/^CAP_[A-Z_]+$/, 'a capability name such as CAP_NET_BIND_SERVICE'))
      .default([])
      .describe(
        'Capabilities the command keeps when user is not root (a unit\'s AmbientCapabilities=, e.g. CAP_NET_BIND_SERVICE for a port below 1024). VM: AmbientCapabilities= of its unit. Container: file capabilities on the command\'s program, limited to the ones container runtimes grant by default.',
      ),
    env: z
      .record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'an environment variable name'), z.string())
      .default({})
      .describe('Environment variables for the command.'),
    files: z.array(WorkloadFileSchema).default([]).describe('Files to add to the image: {path, content | source, mode, owner}.'),
    ports: z.array(port).default([]).describe('Ports the workload listens on (80, "80/tcp", "53/udp").'),
    restart: z
      .enum(['on-failure', 'always', 'no'])
      .default('on-failure')
      .describe('VM images: when systemd restarts the workload\'s service (its Restart=).'),
    healthcheck: HealthcheckSchema.optional().describe('How to tell the workload works: {http, status} | {tcp} | {dns: {port, name, type}} | {smtp} | {imap} | {ftp} | {nats} | {redis} | {ldap} | {ntp} | {command}, with timeout.'),
  })
  .describe('What the image runs.');
