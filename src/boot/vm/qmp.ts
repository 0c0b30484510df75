/**
 * A small QMP (QEMU Machine Protocol) client: JSON objects, one per line, over the
 * socket QEMU connected to. Commands are answered in order; events arrive between.
 */
import type { Socket } from 'node:net';
import { JeosError } from '../../errors.js';

export interface QmpEvent {
  event: string;
  data?: Record<string, unknown>;
  timestamp?: { seconds: number; microseconds: number };
}

interface Pending {
  resolve: (value: unknown) => void;
  reject: (error: Error) => void;
  command: string;
}

export class QmpClient {
  private buffer = '';
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private greeted: Promise<void>;
  private closed: Error | undefined;
  private readonly listeners: Array<(e: QmpEvent) => void> = [];

  constructor(private readonly socket: Socket) {
    let greet!: () => void;
    let fail!: (e: Error) => void;
    this.greeted = new Promise<void>((resolve, reject) => ((greet = resolve), (fail = reject)));
    this.greeted.catch(() => {});
    socket.setEncoding('utf8');
    socket.on('data', (d: string) => {
      this.buffer += d;
      let nl: number;
      while ((nl = this.buffer.indexOf('\n')) >= 0) {
        const line = this.buffer.slice(0, nl).trim();
        this.buffer = this.buffer.slice(nl + 1);
        if (!line) continue;
        let msg: Record<string, unknown>;
        try {
          msg = JSON.parse(line) as Record<string, unknown>;
        } catch {
          continue;
        }
        if ('QMP' in msg) greet();
        else if ('event' in msg) for (const l of this.listeners) l(msg as unknown as QmpEvent);
        else this.settle(msg);
      }
    });
    const gone = (why: string) => {
      this.closed ??= new Error(why);
      fail(this.closed);
      for (const p of this.pending.values()) p.reject(new JeosError('E_VM_QMP', `QEMU closed its control socket during ${p.command}`, { hint: 'QEMU stopped: the console output above says why' }));
      this.pending.clear();
    };
    socket.on('close', () => gone('QEMU closed its control socket'));
    socket.on('error', (e) => gone(e.message));
  }

  /** Wait for QEMU's greeting and leave capabilities negotiation mode. */
  async handshake(): Promise<void> {
    await this.greeted;
    await this.execute('qmp_capabilities');
  }

  onEvent(listener: (e: QmpEvent) => void): void {
    this.listeners.push(listener);
  }

  /** Run a command; resolves with its `return` value, rejects with a JeosError on an `error` answer. */
  execute<T = unknown>(command: string, args?: Record<string, unknown>, timeoutMs = 10_000): Promise<T> {
    if (this.closed) return Promise.reject(new JeosError('E_VM_QMP', `QEMU's control socket is closed (${command})`, { hint: 'QEMU stopped: the console output above says why' }));
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new JeosError('E_VM_QMP', `QEMU did not answer ${command} within ${timeoutMs} ms`, { hint: 'the host is overloaded or QEMU hangs: try again with fewer VMs running' }));
      }, timeoutMs);
      this.pending.set(id, {
        command,
        resolve: (v) => (clearTimeout(timer), resolve(v as T)),
        reject: (e) => (clearTimeout(timer), reject(e)),
      });
      this.socket.write(`${JSON.stringify({ execute: command, ...(args ? { arguments: args } : {}), id })}\n`);
    });
  }

  private settle(msg: Record<string, unknown>): void {
    const p = this.pending.get(msg.id as number);
    if (!p) return;
    this.pending.delete(msg.id as number);
    if ('error' in msg) {
      const e = msg.error as { class?: string; desc?: string };
      p.reject(new JeosError('E_VM_QMP', `QEMU refused ${p.command}: ${e.desc ?? e.class ?? 'error'}`, { hint: 'this QEMU may be too old for it: jeos is tested with QEMU 7.2 and later' }));
    } else p.resolve(msg.return);
  }

  close(): void {
    this.socket.destroy();
  }
}
