/**
 * How long jeos waits for a mirror, and the watchdog that enforces it on one request.
 * Used for the archive's metadata (http.ts) and for .debs (src/fetch).
 *
 * - connect: from sending the request to the response's headers (connecting, TLS and the
 *   server's first answer). A server that accepts and never answers fails here.
 * - stall: once the body flows, fewer than STALL_BYTES arriving within this long is a
 *   stall. A server that trickles a byte every few seconds fails here, where a plain idle
 *   timer (reset by every byte) would wait for ever.
 * - deadline: a whole metadata file, its retries included, must arrive within this long
 *   (.debs have none: a big package on a slow link may rightly take long, and the stall
 *   rule already refuses a transfer that does not move).
 *
 * While nothing arrives the watchdog reports `waiting` every few seconds, so the CLI can
 * say what it waits for instead of sitting silent.
 */
import { JeosError } from '../errors.js';

export interface MirrorTimeouts {
  connectMs: number;
  stallMs: number;
  deadlineMs: number;
}

/** apt waits 30 s (Acquire::http::Timeout) for a connection and for data; so does jeos. */
export const DEFAULT_TIMEOUTS: Readonly<MirrorTimeouts> = { connectMs: 30_000, stallMs: 30_000, deadlineMs: 600_000 };

/** Less than this in one stall period is no progress (a trickle, not a transfer). */
export const STALL_BYTES = 1024;

/** How often, at most, `waiting` is reported while nothing arrives. */
const WAITING_EVERY_MS = 5000;

export const TIMEOUT = 'E_MIRROR_TIMEOUT';

export const TIMEOUT_HINT =
  "the mirror accepts connections but does not answer, or sends too little: check the mirror (--mirror, JEOS_MIRROR, debian.mirror in jeos.yaml), try another one, or use --offline with a filled cache; JEOS_CONNECT_TIMEOUT and JEOS_STALL_TIMEOUT (seconds) wait longer";

/** What the watchdog reports while a request is quiet. */
export interface Waiting {
  url: string;
  /** connect: no answer yet; stall: the body stopped moving. */
  phase: 'connect' | 'stall';
  /** How long it has waited so far, and when it gives up. */
  waitedMs: number;
  limitMs: number;
  /** The last report of a request that was given up (only after earlier reports), so a status line can be cleared. */
  gaveUp?: boolean;
}

/** A point in time (performance.now()) by which a file must have arrived, and the span it allowed. */
export interface Deadline {
  at: number;
  ms: number;
}

export function deadlineIn(ms: number): Deadline {
  return { at: performance.now() + ms, ms };
}

export const seconds = (ms: number) => `${Number((ms / 1000).toFixed(ms < 10_000 ? 1 : 0))} s`;

/**
 * Watches one request: pass `signal` to it, call responded() when the headers arrive and
 * received(n) for each chunk. When a limit passes, the signal aborts and `timedOut` holds
 * the E_MIRROR_TIMEOUT to throw (with `transient` set when the request had made real
 * progress before it stalled: worth another attempt, the connection was working).
 */
export class Watchdog {
  private readonly controller = new AbortController();
  private readonly timer: NodeJS.Timeout;
  private phase: Waiting['phase'] = 'connect';
  private mark = performance.now();
  private sinceMark = 0;
  private total = 0;
  private lastReport = 0;
  private reported = false;
  timedOut: JeosError | undefined;

  constructor(
    private readonly url: string,
    private readonly timeouts: MirrorTimeouts,
    private readonly options: { onWaiting?: (w: Waiting) => void; deadline?: Deadline } = {},
  ) {
    const shortest = Math.min(timeouts.connectMs, timeouts.stallMs);
    const tick = Math.max(10, Math.min(1000, Math.floor(shortest / 10)));
    this.timer = setInterval(() => this.check(), tick);
    this.timer.unref();
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /** The response's headers arrived: from now on the body must keep moving. */
  responded(): void {
    this.phase = 'stall';
    this.mark = performance.now();
    this.sinceMark = 0;
    this.lastReport = 0;
  }

  received(bytes: number): void {
    this.total += bytes;
    this.sinceMark += bytes;
    if (this.sinceMark >= STALL_BYTES) {
      this.mark = performance.now();
      this.sinceMark = 0;
      this.lastReport = 0;
    }
  }

  dispose(): void {
    clearInterval(this.timer);
  }

  private check(): void {
    const now = performance.now();
    const deadline = this.options.deadline;
    if (deadline && now >= deadline.at) {
      return this.abort(`${this.url} did not arrive within ${seconds(deadline.ms)}, the deadline for a metadata file (${this.total} bytes received)`, false);
    }
    const waited = now - this.mark;
    const limit = this.phase === 'connect' ? this.timeouts.connectMs : this.timeouts.stallMs;
    if (waited >= limit) {
      return this.abort(
        this.phase === 'connect'
          ? `${this.url} did not answer within ${seconds(limit)}`
          : `${this.url} stalled: less than ${STALL_BYTES} bytes in ${seconds(limit)} (${this.total} bytes received)`,
        this.total >= STALL_BYTES,
      );
    }
    const every = Math.min(WAITING_EVERY_MS, Math.max(10, Math.floor(limit / 5)));
    if (waited >= every && waited - this.lastReport >= every) {
      this.lastReport = waited;
      this.reported = true;
      this.options.onWaiting?.({ url: this.url, phase: this.phase, waitedMs: Math.round(waited), limitMs: limit });
    }
  }

  private abort(message: string, transient: boolean): void {
    this.dispose();
    const err = new JeosError(TIMEOUT, message, { hint: TIMEOUT_HINT });
    if (transient) (err as JeosError & { transient?: boolean }).transient = true;
    this.timedOut = err;
    if (this.reported) {
      const limit = this.phase === 'connect' ? this.timeouts.connectMs : this.timeouts.stallMs;
      this.options.onWaiting?.({ url: this.url, phase: this.phase, waitedMs: Math.round(performance.now() - this.mark), limitMs: limit, gaveUp: true });
    }
    this.controller.abort(err);
  }
}
