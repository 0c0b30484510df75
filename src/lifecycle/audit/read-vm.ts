/**
 * A VM `jeos run` is running as a target (`vm:NAME`). A VM's files, processes and sockets
 * are inside the guest, out of the host's sight; the guest's /init started an agent
 * (src/vm/busybox/audit-agent.ts) that answers on the virtio-serial port jeos run added,
 * whose host side is a socket QEMU listens on (named in jeos run's registry entry). One
 * request, one answer: each process's /proc status, command line and cgroup; the /proc/net
 * tables; then a tar of / without /proc, /sys and /dev, read as any tar is.
 */
import { randomBytes } from 'node:crypto';
import { connect, type Socket as NetSocket } from 'node:net';
import { findRunningVm, vmRegistryDir } from '../../boot/vm/index.js';
import { JeosError } from '../../errors.js';
import { Collector } from './collect.js';
import { parseNetTable } from './read-container.js';
import { TarReader } from './tar-reader.js';
import type { Process, RunningState, Socket } from './types.js';

export const VM_PREFIX = 'vm:';

export interface VmRead {
  collector: Collector;
  running: RunningState;
  /** The agent's pid in the guest: it and what it runs answer the audit, they are not drift. */
  agentPid: number;
  lockDigest: string | null;
}

const TAR_MARK = 'JEOS_TAR\n';

/** The text part of an answer: processes and sockets. */
export function parseAnswerText(text: string): { processes: Process[]; sockets: Socket[] } {
  const processes: Process[] = [];
  const sockets: Socket[] = [];
  let section: 'status' | 'cmdline' | 'cgroup' | 'net' | undefined;
  let current: (Process & { status: Map<string, string> }) | undefined;
  let net: { protocol: 'tcp' | 'udp'; v6: boolean; lines: string[] } | undefined;
  const flushNet = () => {
    if (net) sockets.push(...parseNetTable(net.lines.join('\n'), net.protocol, net.v6));
    net = undefined;
  };
  const flushProc = () => {
    if (!current) return;
    const s = current.status;
    // A process that ended between the listing and the read has no status.
    if (s.has('Name')) {
      const { status: _, ...p } = current;
      processes.push({ ...p, name: s.get('Name')!, ppid: Number(s.get('PPid') ?? 0), uid: Number((s.get('Uid') ?? '0').split(/\s+/)[0]) });
    }
    current = undefined;
  };
  for (const line of text.split('\n')) {
    const proc = /^JEOS_PROC (\d+)$/.exec(line);
    if (proc) {
      flushProc();
      flushNet();
      current = { pid: Number(proc[1]), ppid: 0, name: '', args: '', uid: 0, status: new Map() };
      section = 'status';
      continue;
    }
    const table = /^JEOS_NET (tcp6?|udp6?)$/.exec(line);
    if (table) {
      flushProc();
      flushNet();
      net = { protocol: table[1]!.startsWith('tcp') ? 'tcp' : 'udp', v6: table[1]!.endsWith('6'), lines: [] };
      section = 'net';
      continue;
    }
    if (line === 'JEOS_CMDLINE' || line === 'JEOS_CGROUP') {
      section = line === 'JEOS_CMDLINE' ? 'cmdline' : 'cgroup';
      continue;
    }
    if (section === 'net') net!.lines.push(line);
    else if (current && section === 'status') {
      const m = /^([^:]+):\s*(.*)$/.exec(line);
      if (m) current.status.set(m[1]!, m[2]!);
    } else if (current && section === 'cmdline') {
      if (line.trim() && !current.args) current.args = line.trim();
    } else if (current && section === 'cgroup') {
      // cgroup v2: `0::/system.slice/nginx.service`.
      const m = /^0::(.*)$/.exec(line);
      if (m) current.cgroup = m[1]!;
    }
  }
  flushProc();
  flushNet();
  processes.sort((a, b) => a.pid - b.pid);
  return { processes, sockets };
}

function noAnswer(name: string, why: string): JeosError {
  return new JeosError('E_AUDIT_VM_NO_ANSWER', `the VM ${name} did not answer on its audit port: ${why}`, {
    hint: 'the guest answers when its /init started jeos\'s audit agent: a VM image built by this jeos with vm.network: busybox (the default); build it again and restart it with jeos run',
  });
}

/** Ask the guest over the audit socket and read its answer. */
export async function readVm(name: string, options: { timeoutMs?: number; registryDir?: string } = {}): Promise<VmRead> {
  const vm = await findRunningVm(name, options.registryDir ?? vmRegistryDir());
  const nonce = randomBytes(8).toString('hex');
  const begin = new RegExp(`JEOS_AUDIT_BEGIN ${nonce} (\\d+)\\n`);
  const collector = new Collector();
  const tar = new TarReader(`the tar of VM ${name}`, (m) => collector.tarMember(m, false));
  const socket: NetSocket = connect(vm.auditSocket);
  const timeoutMs = options.timeoutMs ?? 180_000;
  try {
    return await new Promise<VmRead>((resolve, reject) => {
      let text = '';
      let agentPid: number | undefined;
      let inTar = false;
      let answered = false;
      const firstTimer = setTimeout(() => reject(noAnswer(name, 'nothing came within 15 s')), 15_000);
      const timer = setTimeout(() => reject(noAnswer(name, `the answer was not whole within ${Math.round(timeoutMs / 1000)} s`)), timeoutMs);
      const done = (value: VmRead | Error) => {
        clearTimeout(firstTimer);
        clearTimeout(timer);
        if (value instanceof Error) reject(value);
        else resolve(value);
      };
      socket.on('error', (e: NodeJS.ErrnoException) =>
        done(new JeosError('E_AUDIT_VM', `cannot reach VM ${name}'s audit socket ${vm.auditSocket}: ${e.code ?? e.message}`, { hint: 'is its jeos run still running? (it removes the socket when it stops)' })));
      socket.on('close', () => done(noAnswer(name, 'QEMU closed the socket')));
      socket.on('connect', () => socket.write(`JEOS_AUDIT ${nonce}\n`));
      let pending = Buffer.alloc(0);
      /** Marker, then text up to the tar's mark, then the tar to its end-of-archive blocks. */
      const pump = (chunk: Buffer) => {
        if (inTar) return tar.feed(chunk);
        pending = Buffer.concat([pending, chunk]);
        const latin = pending.toString('latin1');
        if (agentPid === undefined) {
          const m = begin.exec(latin);
          // Keep only a tail that may hold the start of the marker (an earlier answer's leftovers come first).
          if (!m) return void (pending = pending.subarray(Math.max(0, pending.length - 64)));
          clearTimeout(firstTimer);
          agentPid = Number(m[1]);
          pending = pending.subarray(m.index + m[0].length);
          return pump(Buffer.alloc(0));
        }
        const at = latin.indexOf(TAR_MARK);
        if (at < 0) return;
        text = pending.subarray(0, at).toString('utf8');
        inTar = true;
        const rest = pending.subarray(at + TAR_MARK.length);
        pending = Buffer.alloc(0);
        tar.feed(rest);
      };
      socket.on('data', (chunk: Buffer) => {
        try {
          pump(chunk);
          if (inTar && tar.ended && !answered) {
            answered = true;
            tar.end();
            done({ collector, running: parseAnswerText(text), agentPid: agentPid!, lockDigest: vm.lockDigest });
          }
        } catch (e) {
          done(e as Error);
        }
      });
    });
  } finally {
    socket.destroy();
  }
}
