import { createServer } from 'node:net';
import { createSocket } from 'node:dgram';
import type { Forward, GuestPort } from './types.js';

/** Whether 127.0.0.1:port can be bound now for the protocol. */
export function portIsFree(port: number, protocol: 'tcp' | 'udp' = 'tcp'): Promise<boolean> {
  return new Promise((resolve) => {
    if (protocol === 'udp') {
      const s = createSocket('udp4');
      s.once('error', () => resolve(false));
      s.bind(port, '127.0.0.1', () => s.close(() => resolve(true)));
      return;
    }
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen({ port, host: '127.0.0.1', exclusive: true }, () => server.close(() => resolve(true)));
  });
}

/** A port on 127.0.0.1 the kernel hands out as free (for a moment: QEMU binds it soon after). */
export function freePort(protocol: 'tcp' | 'udp' = 'tcp'): Promise<number> {
  return new Promise((resolve, reject) => {
    if (protocol === 'udp') {
      const s = createSocket('udp4');
      s.once('error', reject);
      s.bind(0, '127.0.0.1', () => {
        const { port } = s.address();
        s.close(() => resolve(port));
      });
      return;
    }
    const server = createServer();
    server.once('error', reject);
    server.listen({ port: 0, host: '127.0.0.1', exclusive: true }, () => {
      const address = server.address();
      server.close(() => (address && typeof address === 'object' ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

/** Declared ports, each once (`80` and `80/tcp` are the same port). */
export function uniquePorts(ports: GuestPort[]): GuestPort[] {
  const seen = new Map<string, GuestPort>();
  for (const p of ports) seen.set(`${p.port}/${p.protocol}`, p);
  return [...seen.values()];
}

/**
 * The host port for a guest port. `same` (jeos run): the guest's own number when it
 * is unprivileged (≥ 1024) and free, so the URL is the one the user expects; otherwise,
 * and always for `free` (jeos test), a port the kernel picks.
 */
export async function choosePort(
  guest: GuestPort,
  policy: 'same' | 'free',
  taken: Set<number>,
  isFree: (port: number, protocol: 'tcp' | 'udp') => Promise<boolean> = portIsFree,
  pick: (protocol: 'tcp' | 'udp') => Promise<number> = freePort,
): Promise<number> {
  if (policy === 'same' && guest.port >= 1024 && !taken.has(guest.port) && (await isFree(guest.port, guest.protocol))) return guest.port;
  for (;;) {
    const port = await pick(guest.protocol);
    if (!taken.has(port)) return port;
  }
}

export async function chooseForwards(
  ports: GuestPort[],
  policy: 'same' | 'free',
  isFree?: (port: number, protocol: 'tcp' | 'udp') => Promise<boolean>,
  pick?: (protocol: 'tcp' | 'udp') => Promise<number>,
): Promise<Forward[]> {
  const taken = new Set<number>();
  const forwards: Forward[] = [];
  for (const p of uniquePorts(ports)) {
    const hostPort = await choosePort(p, policy, taken, isFree, pick);
    taken.add(hostPort);
    forwards.push({ protocol: p.protocol, guestPort: p.port, hostPort });
  }
  return forwards;
}
