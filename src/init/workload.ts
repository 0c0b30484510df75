/**
 * From a program and its arguments to the workload's command, ports and health
 * check: the table of known programs, the foreground table for a forking unit, and
 * the ports the command's arguments, the program's configuration, its unit's socket
 * or the table name, in that order.
 */
import type { ConfigPort } from './config-ports.js';
import { foregroundArgs, foregroundRule } from './foreground.js';
import { knownProgram, portFromArgs } from './known.js';
import { essentialNeeds } from './essential.js';
import { formatCommandLine } from './unit.js';
import type { UnitSettings } from './unit-settings.js';
import type { Choice, InitPlan } from './types.js';

export interface Program {
  path: string;
  args: string[];
  /** Where the command came from, for the printed reason ("nginx.service ExecStart", "the command line"). */
  from: string;
  /** True when the arguments were given by the user: they are kept as they are. */
  userArgs: boolean;
  /** User= of the unit, if any. */
  user?: string;
  /** The unit is Type=forking: its command daemonizes unless told otherwise. */
  forking?: boolean;
  /** PIDFile= of the unit (a forking daemon's tell-tale). */
  pidFile?: string;
  /** The port the program's own configuration names (config-ports.ts). */
  configPort?: ConfigPort;
  /** TCP ports of the unit's .socket (ListenStream=), and the socket's name. */
  socket?: { name: string; ports: number[] };
  /** The daemon a shell command ends by exec'ing: what the known-program table, ports and configuration are read for. */
  daemon?: { path: string; args: string[] };
  /** Packages the command needs that its package does not depend on (a shell), with the reason. */
  needs?: Choice[];
  /** Steps before the command (workload.pre): the unit's ExecStartPre= and the after-install generators, each with why. */
  pre?: Array<{ argv: string[]; why: string; packages: string[]; files?: Array<{ path: string; content: string }> }>;
  /** Notes found on the way (variables left unset, …). */
  notes?: string[];
  /** What the unit sets up around the command (environment, directories, capabilities, working directory). */
  settings?: UnitSettings;
}

export type WorkloadPart = Pick<InitPlan, 'command' | 'user' | 'ports' | 'healthcheck' | 'inline' | 'choices' | 'notes' | 'pre' | 'env' | 'workdir'> &
  Required<Pick<InitPlan, 'environmentFiles' | 'directories' | 'capabilities'>> & { packages: string[] };

export function workloadOf(program: Program): WorkloadPart {
  const known = program.daemon ? knownProgram(program.daemon.path, program.daemon.args) : knownProgram(program.path, program.args);
  const choices: Choice[] = [...(program.needs ?? [])];
  const notes: string[] = [...(program.notes ?? [])];
  const base = program.path.split('/').pop()!;
  let args = program.args;
  let why = program.from;
  if (known?.args && !program.userArgs && !program.daemon) {
    args = known.args;
    why = `${program.from}, with the arguments from jeos's table of known programs: ${known.note}`;
  } else if (program.forking && !program.userArgs) {
    const rule = foregroundRule(program.path);
    if (rule) {
      args = foregroundArgs(rule, args);
      why = `${program.from}, a Type=forking service, kept in the foreground by jeos's foreground table: ${rule.note}`;
    } else {
      notes.push(
        `${program.from} is a Type=forking service${program.pidFile ? ` (PIDFile=${program.pidFile})` : ''} and jeos's foreground table does not know ${base}: the command will likely leave the foreground, which ends a container; add ${base}'s foreground option (see its manual) to workload.command`,
      );
    }
  }
  const command = [program.path, ...args];
  choices.push({ key: 'command', value: formatCommandLine(command), why });

  const user = known?.user ?? (program.user && program.user !== 'root' ? program.user : undefined);
  if (user) choices.push({ key: 'user', value: user, why: known?.user ? `known program: ${known.note}` : `User= of the unit` });

  const fromArgs = portFromArgs(program.daemon?.args ?? args, known);
  const socket = program.socket?.ports.length ? program.socket : undefined;
  let tcp: number | undefined;
  let portWhy = '';
  if (fromArgs) [tcp, portWhy] = [fromArgs, "set by the command's own arguments"];
  else if (program.configPort) [tcp, portWhy] = [program.configPort.port, `the program's configuration, ${program.configPort.from}`];
  else if (socket) [tcp, portWhy] = [socket.ports[0], `ListenStream= of ${socket.name}`];
  else if (known?.ports?.length) [tcp, portWhy] = [known.ports[0], `known program: ${known.note}`];
  const udp = known?.udp ?? [];
  const ports: Array<number | string> = [...(tcp ? [tcp] : []), ...udp.map((p) => `${p}/udp`)];
  if (ports.length) choices.push({ key: 'ports', value: ports.join(', '), why: tcp ? portWhy : `known program: ${known!.note}` });
  if (program.configPort?.loopbackOnly) {
    notes.push(`${program.configPort.from} listens on the loopback address only: nothing outside the container or VM (the health check included) reaches it until the configuration listens on all addresses`);
  }

  let healthcheck: WorkloadPart['healthcheck'];
  if (tcp) {
    const status = known?.status ?? 200;
    let value: string;
    if (known?.http) {
      healthcheck = { http: `http://localhost:${tcp}${known.http}`, ...(status !== 200 ? { status } : {}) };
      value = `GET ${healthcheck.http} answers ${status}`;
    } else if (known?.check === 'dns') {
      healthcheck = { dns: { port: tcp, name: 'localhost', type: 'A' } };
      value = `a DNS query (localhost A, over TCP) to port ${tcp} is answered`;
    } else if (known?.check) {
      healthcheck = { [known.check]: tcp };
      value = known.check === 'redis' ? `the server on port ${tcp} answers a RESP PING with +PONG` : `the server on port ${tcp} greets as ${known.check.toUpperCase()} servers do`;
    } else {
      healthcheck = { tcp };
      value = `TCP port ${tcp} accepts connections`;
    }
    const kind = known?.http ? 'it serves HTTP' : known?.check ? `it speaks ${known.check.toUpperCase()}` : 'the workload listens on that port';
    choices.push({ key: 'healthcheck', value, why: known?.http || known?.check ? `known program: ${kind}` : kind });
  } else if (udp.length && known?.check === 'ntp') {
    // NTP is UDP only: the ntp check sends a client request to the first UDP port.
    healthcheck = { ntp: udp[0]! };
    choices.push({ key: 'healthcheck', value: `an NTP client request to port ${udp[0]}/udp is answered`, why: `known program: ${known.note}` });
    notes.push(`the ntp check needs ${base} to serve clients: ${known.note}`);
  } else if (udp.length) {
    notes.push(`no health check: ${base} listens on UDP only (${udp.map((p) => `${p}/udp`).join(', ')}), and jeos has no UDP health check for it; add workload.healthcheck if it also serves TCP`);
  } else {
    notes.push(`no health check: jeos does not know a port ${base} listens on; add workload.ports and workload.healthcheck (docs/config.md) if it serves something`);
  }
  for (const f of known?.files ?? []) choices.push({ key: 'files', value: f.path, why: `known program: content for its health check to fetch` });
  if (known?.packages?.length) choices.push({ key: 'package', value: known.packages.join(', '), why: `known program: ${known.note}` });
  const packages = [...(known?.packages ?? [])];
  for (const n of program.needs ?? []) if (!packages.includes(n.value)) packages.push(n.value);
  const inline = [...(known?.files ?? [])];
  const pre: string[][] = [];
  for (const step of program.pre ?? []) {
    pre.push(step.argv);
    choices.push({ key: 'pre', value: formatCommandLine(step.argv), why: step.why });
    for (const p of step.packages) {
      if (packages.includes(p)) continue;
      packages.push(p);
      choices.push({ key: 'package', value: p, why: `the workload.pre step ${formatCommandLine(step.argv)} runs it` });
    }
    for (const f of step.files ?? []) {
      if (inline.some((i) => i.path === f.path)) continue;
      inline.push(f);
      choices.push({ key: 'files', value: f.path, why: `the workload.pre step ${formatCommandLine(step.argv)} reads it; Debian's postinst writes it from debconf's answers` });
    }
  }
  // The container's /etc/jeos/start runs the steps with /bin/sh, which no package depends on (dash is Essential).
  if (pre.length && !packages.includes('dash')) {
    packages.push('dash');
    choices.push({ key: 'package', value: 'dash', why: 'workload.pre runs before the command from /etc/jeos/start, a /bin/sh script in a container, and dash is Essential in Debian (no package depends on it)' });
  }
  // Commands of Essential packages the steps and a shell command line run (mkdir, chown): no package depends on those either.
  const steps: Array<[string[], string]> = [...pre.map((p): [string[], string] => [p, `the workload.pre step ${formatCommandLine(p)}`]), [command, 'the command']];
  for (const [argv, where] of steps) {
    for (const need of essentialNeeds(argv, where)) {
      if (packages.includes(need.package)) continue;
      packages.push(need.package);
      choices.push({ key: 'package', value: need.package, why: `${need.why}, from ${need.package}, which is Essential in Debian (no package depends on it)` });
    }
  }
  const s = program.settings;
  if (s) {
    choices.push(...s.choices);
    notes.push(...s.notes);
  }
  return {
    command, user, ports, healthcheck, inline, choices, notes, packages, pre,
    env: { ...(s?.env ?? {}) },
    environmentFiles: s?.environmentFiles ?? [],
    directories: s?.directories ?? [],
    capabilities: s?.capabilities ?? [],
    ...(s?.workdir ? { workdir: s.workdir } : {}),
  };
}
