/**
 * From a program and its arguments to the workload's command, ports and health
 * check: the table of known programs first, then the arguments themselves.
 */
import { knownProgram, portFromArgs } from './known.js';
import { formatCommandLine } from './unit.js';
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
}

export type WorkloadPart = Pick<InitPlan, 'command' | 'user' | 'ports' | 'healthcheck' | 'inline' | 'choices' | 'notes'> & { packages: string[] };

export function workloadOf(program: Program): WorkloadPart {
  const known = knownProgram(program.path, program.args);
  const choices: Choice[] = [];
  const notes: string[] = [];
  let args = program.args;
  if (known?.args && !program.userArgs) args = known.args;
  const command = [program.path, ...args];
  const why = known?.args && !program.userArgs ? `${program.from}, with the arguments from jeos's table of known programs: ${known.note}` : program.from;
  choices.push({ key: 'command', value: formatCommandLine(command), why });
  if (program.forking && !(known?.args && !program.userArgs)) {
    notes.push(`${program.from} is a Type=forking service: the command may leave the foreground, which ends a container; add the program's foreground option to workload.command`);
  }

  const user = known?.user ?? (program.user && program.user !== 'root' ? program.user : undefined);
  if (user) choices.push({ key: 'user', value: user, why: known?.user ? `known program: ${known.note}` : `User= of the unit` });

  const fromArgs = portFromArgs(args, known);
  const ports = fromArgs ? [fromArgs] : (known?.ports ?? []);
  if (ports.length) {
    choices.push({ key: 'ports', value: ports.join(', '), why: fromArgs ? 'set by the command\'s own arguments' : `known program: ${known!.note}` });
  }
  let healthcheck: WorkloadPart['healthcheck'];
  if (ports.length) {
    const status = known?.status ?? 200;
    healthcheck = known?.http ? { http: `http://localhost:${ports[0]}${known.http}`, ...(status !== 200 ? { status } : {}) } : { tcp: ports[0] };
    const value = healthcheck.http ? `GET ${healthcheck.http} answers ${status}` : `TCP port ${ports[0]} accepts connections`;
    choices.push({ key: 'healthcheck', value, why: known?.http ? 'known program: it serves HTTP' : 'the workload listens on that port' });
  } else {
    notes.push(`no health check: jeos does not know a port ${program.path.split('/').pop()} listens on; add workload.ports and workload.healthcheck (docs/config.md) if it serves something`);
  }
  for (const f of known?.files ?? []) choices.push({ key: 'files', value: f.path, why: `known program: content for its health check to fetch` });
  if (known?.packages?.length) choices.push({ key: 'package', value: known.packages.join(', '), why: `known program: ${known.note}` });
  return { command, user, ports, healthcheck, inline: known?.files ?? [], choices, notes, packages: known?.packages ?? [] };
}
