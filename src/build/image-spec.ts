import type { Config } from '../config/schema.js';
import type { Lock } from '../lock/types.js';
import { argv } from '../util/argv.js';
import type { ImageSpec } from '../outputs/types.js';
import { containerArgsOf } from './container-args.js';
import { START_SCRIPT } from './first-start.js';

/** `80` → `80/tcp`; `53/udp` stays. */
export function portSpec(port: number | string): string {
  return typeof port === 'number' || !port.includes('/') ? `${port}/tcp` : port;
}

/** The version of the workload's package (the first of workload.packages) in the lock. */
export function workloadVersion(config: Config, lock: Pick<Lock, 'packages'>): string | undefined {
  const first = config.workload.packages[0];
  const name = first?.split(/[=/]/)[0];
  return lock.packages.find((p) => p.name === name)?.version;
}

/**
 * A command health check as a container engine runs it: Docker's `Healthcheck`, which an
 * engine runs inside the container. An http or tcp check has no program inside a JeOS image
 * to run it (no curl, no nc): jeos probes those from the host, and the config carries none.
 */
function engineHealthcheck(config: Config): ImageSpec['healthcheck'] {
  const check = config.workload.healthcheck;
  if (!check?.command) return undefined;
  return { test: ['CMD', ...argv(check.command)], startPeriod: check.timeout };
}

/**
 * The OCI side of jeos.yaml: what a container runtime needs besides the files. The
 * command's program is the entrypoint and its arguments the `Cmd`, so `podman run IMAGE
 * ARGS…` replaces the arguments and keeps the program.
 */
export function imageSpecOf(config: Config, lock: Pick<Lock, 'architecture' | 'packages'>): ImageSpec {
  const w = config.workload;
  // With workload.pre the entrypoint is the start script, given the program as its first argument.
  // What the daemon needs without the privileges a VM gives it (chronyd -x): workload.containerArgs or the table's.
  const command = w.command ? [...(w.pre.length ? [START_SCRIPT] : []), ...argv(w.command), ...containerArgsOf(argv(w.command), w.containerArgs)] : [];
  const program = w.pre.length ? 2 : 1;
  const version = workloadVersion(config, lock);
  const healthcheck = engineHealthcheck(config);
  return {
    name: config.image.name ?? config.name,
    tags: config.image.tags,
    architecture: lock.architecture,
    ...(command.length ? { entrypoint: command.slice(0, program) } : {}),
    ...(command.length > program ? { cmd: command.slice(program) } : {}),
    user: w.user,
    env: { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', ...w.env },
    workdir: w.workdir,
    exposedPorts: w.ports.map(portSpec),
    labels: {
      'org.opencontainers.image.title': config.name,
      ...(config.description ? { 'org.opencontainers.image.description': config.description } : {}),
      ...(version ? { 'org.opencontainers.image.version': version } : {}),
      ...config.image.labels,
    },
    ...(healthcheck ? { healthcheck } : {}),
  };
}
