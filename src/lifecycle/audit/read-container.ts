/**
 * A running podman container as a target (`container:NAME`): its file system streamed
 * by `podman export` (no mount, no copy on disk), its processes (`podman top … hpid`,
 * then the host's /proc for each one's name, command line, owner and pid inside the
 * container) and its listening sockets (the container's /proc/PID/net tables, read from
 * the host: nothing needs to run inside the image, which may have no shell).
 */
import { spawn } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { mkdtemp, open, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { JeosError } from '../../errors.js';
import { requireTool, run } from '../../boot/tools.js';
import { Collector } from './collect.js';
import { TarReader } from './tar-reader.js';
import type { Process, RunningState, Socket } from './types.js';

export const CONTAINER_PREFIX = 'container:';

export interface ContainerInfo {
  /** The image's manifest digest as podman recorded it. */
  imageDigest: string;
  pid: number;
}

export async function inspectContainer(name: string): Promise<ContainerInfo> {
  await requireTool('podman', 'read a running container', 'podman');
  const r = await run('podman', ['inspect', '--type', 'container', '--format', '{{.State.Running}} {{.State.Pid}} {{.ImageDigest}}', name], { timeoutMs: 60_000 });
  if (r.code !== 0) {
    throw new JeosError('E_AUDIT_NO_CONTAINER', `there is no container ${JSON.stringify(name)}: ${r.stderr.trim().split('\n').pop()}`, {
      hint: 'name a container podman runs (podman ps lists them), as container:NAME',
    });
  }
  const [running, pid, digest] = r.stdout.trim().split(' ');
  if (running !== 'true') {
    throw new JeosError('E_AUDIT_NOT_RUNNING', `container ${name} is not running`, {
      hint: `start it (podman start ${name}), or audit its image with --against out/oci`,
    });
  }
  return { imageDigest: digest ?? '', pid: Number(pid) };
}

export async function exportContainer(name: string): Promise<Collector> {
  const out = new Collector();
  const reader = new TarReader(`podman export ${name}`, (m) => out.tarMember(m, false));
  // podman export opens its output by name: node's stdout pipe is a socket, which /dev/stdout cannot open. A FIFO streams it.
  const dir = await mkdtemp(join(tmpdir(), 'jeos-audit-'));
  const fifo = join(dir, 'export.tar');
  try {
    const made = await run('mkfifo', ['-m', '0600', fifo]);
    if (made.code !== 0) throw new JeosError('E_AUDIT_CONTAINER', `cannot make a FIFO in ${dir}: ${made.stderr.trim()}`, { hint: 'check the temporary directory (TMPDIR)' });
    const child = spawn('podman', ['export', '-o', fifo, name], { stdio: ['ignore', 'ignore', 'pipe'] });
    const err: Buffer[] = [];
    child.stderr.on('data', (d: Buffer) => err.push(d));
    const closed = new Promise<number | null>((resolve) => child.on('close', resolve));
    const input = createReadStream(fifo, { highWaterMark: 1 << 20 });
    let opened = false;
    input.once('open', () => (opened = true));
    // If podman fails before it opens the FIFO, opening it for reading would wait for ever: open its other end, then.
    void closed.then(() => (opened ? undefined : open(fifo, 'w').then((fh) => fh.close(), () => undefined)));
    try {
      for await (const chunk of input) reader.feed(chunk as Buffer);
    } finally {
      if (child.exitCode === null) child.kill();
    }
    const code = await closed;
    if (code !== 0) {
      throw new JeosError('E_AUDIT_CONTAINER', `podman export ${name} failed: ${Buffer.concat(err).toString().trim().split('\n').pop()}`, {
        hint: 'check that podman works on this host (podman info)',
      });
    }
    reader.end();
    return out;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Host pids of the container's processes. */
async function hostPids(name: string): Promise<number[]> {
  const r = await run('podman', ['top', name, 'hpid'], { timeoutMs: 60_000 });
  if (r.code !== 0) {
    throw new JeosError('E_AUDIT_CONTAINER', `podman top ${name} failed: ${r.stderr.trim().split('\n').pop()}`, { hint: 'check that podman works on this host (podman info)' });
  }
  return r.stdout.split('\n').slice(1).map((l) => Number(l.trim())).filter((n) => Number.isInteger(n) && n > 0);
}

async function processOf(hpid: number): Promise<(Process & { hostPpid: number; hpid: number }) | undefined> {
  try {
    const status = await readFile(`/proc/${hpid}/status`, 'utf8');
    const field = (key: string) => new RegExp(`^${key}:\\s*(.*)$`, 'm').exec(status)?.[1] ?? '';
    const nspids = field('NSpid').split(/\s+/).filter(Boolean);
    const args = (await readFile(`/proc/${hpid}/cmdline`)).toString('utf8').replace(/\0+$/, '').split('\0').join(' ');
    const pid = Number(nspids[nspids.length - 1] ?? hpid);
    return { pid, ppid: 0, name: field('Name'), args, uid: Number(field('Uid').split(/\s+/)[0]), hostPpid: Number(field('PPid')), hpid };
  } catch {
    return undefined; // it ended meanwhile
  }
}

/** Listening TCP sockets and bound UDP sockets of a network namespace, from /proc/PID/net. */
export function parseNetTable(text: string, protocol: 'tcp' | 'udp', v6: boolean): Socket[] {
  const out: Socket[] = [];
  for (const line of text.split('\n').slice(1)) {
    const cols = line.trim().split(/\s+/);
    if (cols.length < 4) continue;
    const [addrHex, portHex] = cols[1]!.split(':');
    const state = cols[3];
    // TCP: 0A is LISTEN. UDP: 07 (closed) is a socket bound to a port with no peer.
    if ((protocol === 'tcp' && state !== '0A') || (protocol === 'udp' && state !== '07')) continue;
    out.push({ protocol, address: decodeAddress(addrHex!, v6), port: parseInt(portHex!, 16) });
  }
  return out;
}

function decodeAddress(hex: string, v6: boolean): string {
  // The kernel prints each 32-bit word in host (little-endian) order.
  const words = hex.match(/.{8}/g) ?? [];
  const bytes = words.flatMap((w) => [w.slice(6, 8), w.slice(4, 6), w.slice(2, 4), w.slice(0, 2)].map((b) => parseInt(b, 16)));
  if (!v6) return bytes.join('.');
  if (bytes.every((b) => b === 0)) return '::';
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(((bytes[i]! << 8) | bytes[i + 1]!).toString(16));
  return groups.join(':'); // uncompressed: unambiguous, if long
}

export async function runningState(name: string, pid: number): Promise<RunningState> {
  const found = (await Promise.all((await hostPids(name)).map(processOf))).filter((p) => p !== undefined);
  // The parent's pid inside the container; 0 when the parent is outside it (podman exec, conmon).
  const byHost = new Map(found.map((p) => [p.hpid, p.pid]));
  const processes: Process[] = found.map(({ hostPpid, hpid: _, ...p }) => ({ ...p, ppid: byHost.get(hostPpid) ?? 0 }));
  const sockets: Socket[] = [];
  for (const [file, protocol, v6] of [['tcp', 'tcp', false], ['tcp6', 'tcp', true], ['udp', 'udp', false], ['udp6', 'udp', true]] as const) {
    const text = await readFile(`/proc/${pid}/net/${file}`, 'utf8').catch(() => '');
    sockets.push(...parseNetTable(text, protocol, v6));
  }
  processes.sort((a, b) => a.pid - b.pid);
  return { processes, sockets };
}
