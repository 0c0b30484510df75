/**
 * The serial console as lines with host timestamps, and what they say: when the
 * kernel started, when it ran /init, which systemd units failed, whether it ran out of memory.
 */
import { outOfMemoryLine, saysOutOfMemory } from './memory.js';

/** CSI sequences (colours, cursor moves), OSC sequences and other two-byte escapes. */
const ANSI = /\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[@-Z\\-_]/g;

export function stripAnsi(text: string): string {
  return text.replace(ANSI, '');
}

/** A console line cleaned for reading: no escapes, no carriage returns, no other control characters but tabs. */
export function cleanLine(raw: string): string {
  return stripAnsi(raw).replace(/[\x00-\x08\x0b-\x1f\x7f]/g, '');
}

/**
 * The unit in a systemd status line that reports a failure, e.g.
 * `[FAILED] Failed to start nginx.service - A high performance web server…`
 * (older systemd: `Failed to start A high performance web server…` without the unit name,
 * then the description is returned).
 */
export function failedUnitOf(line: string): string | undefined {
  const m = /\[\s*FAILED\s*\]\s+Failed to start (.+?)\s*\.?$/.exec(line);
  if (!m) return undefined;
  const named = /^(\S+\.(?:service|socket|mount|target|path|timer|swap|device|scope|slice|automount))(?:\s+-\s+|$)/.exec(m[1]!);
  return named ? named[1] : m[1]!.replace(/\.+$/, '');
}

export interface ConsoleLine {
  /** Milliseconds since QEMU was spawned when the line's last byte arrived. */
  ms: number;
  text: string;
}

export interface ConsoleMarkers {
  /** The first byte on the console. */
  kernel: number | null;
  /** The `Linux version` line. */
  linuxVersion: number | null;
  /** `Run /init as init process` (or another init the kernel ran). */
  userspace: number | null;
}

/**
 * Collects console output. Feed it bytes as they arrive with the time; it splits
 * lines on \n (dropping \r), keeps the last `keep` lines and notes the markers.
 */
export class ConsoleLog {
  readonly markers: ConsoleMarkers = { kernel: null, linuxVersion: null, userspace: null };
  /** Units systemd said it failed to start, in order, each once. */
  readonly failedUnits: string[] = [];
  /** The first line that said the guest ran out of memory, else of the kernel's report of it (kept whatever the tail drops). */
  outOfMemory: string | undefined;
  private readonly lines: ConsoleLine[] = [];
  private partial = '';
  private readonly decoder = new TextDecoder('utf-8');

  constructor(
    private readonly keep = 60,
    private readonly onLine?: (line: ConsoleLine) => void,
  ) {}

  feed(chunk: Uint8Array, ms: number): void {
    if (chunk.length === 0) return;
    if (this.markers.kernel === null) this.markers.kernel = ms;
    this.partial += this.decoder.decode(chunk, { stream: true });
    let nl: number;
    while ((nl = this.partial.indexOf('\n')) >= 0) {
      this.take(this.partial.slice(0, nl), ms);
      this.partial = this.partial.slice(nl + 1);
    }
  }

  /** Flush an unterminated last line (when the console closed). */
  end(ms: number): void {
    this.partial += this.decoder.decode();
    if (this.partial) this.take(this.partial, ms);
    this.partial = '';
  }

  private take(raw: string, ms: number): void {
    const text = cleanLine(raw).trimEnd();
    if (this.markers.linuxVersion === null && /\bLinux version \d/.test(text)) this.markers.linuxVersion = ms;
    if (this.markers.userspace === null && /\bRun \S+ as init process\b/.test(text)) this.markers.userspace = ms;
    // The first plain line; a line of the kernel's report only until one comes.
    if (this.outOfMemory === undefined || !saysOutOfMemory(this.outOfMemory)) {
      const found = outOfMemoryLine(text);
      if (found !== undefined && (this.outOfMemory === undefined || saysOutOfMemory(found))) this.outOfMemory = found;
    }
    const unit = failedUnitOf(text);
    if (unit && !this.failedUnits.includes(unit)) this.failedUnits.push(unit);
    const line = { ms, text };
    this.lines.push(line);
    if (this.lines.length > this.keep) this.lines.shift();
    this.onLine?.(line);
  }

  /** The last lines, ANSI escapes removed, including a line still being written. */
  tail(count = this.keep): string {
    const texts = this.lines.slice(-count).map((l) => l.text);
    const pending = cleanLine(this.partial).trimEnd();
    if (pending) texts.push(pending);
    return texts.slice(-count).join('\n');
  }
}
