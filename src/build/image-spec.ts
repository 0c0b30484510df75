import type { Config } from '../config/schema.js';
import { argv } from '../util/argv.js';
import type { ImageSpec } from '../outputs/types.js';

/** `80` → `80/tcp`; `53/udp` stays. */
export function portSpec(port: number | string): string {
  return typeof port === 'number' || !port.includes('/') ? `${port}/tcp` : port;
}

/** The OCI side of jeos.yaml: what a container runtime needs besides the files. */
export function imageSpecOf(config: Config, architecture: string, labels: Record<string, string>): ImageSpec {
  const w = config.workload;
  return {
    name: config.name,
    tag: 'latest',
    architecture,
    ...(w.command ? { entrypoint: argv(w.command) } : {}),
    user: w.user,
    env: { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', ...w.env },
    workdir: w.workdir,
    exposedPorts: w.ports.map(portSpec),
    labels: {
      'org.opencontainers.image.title': config.name,
      ...(config.description ? { 'org.opencontainers.image.description': config.description } : {}),
      ...labels,
    },
  };
}
