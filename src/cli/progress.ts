import type { ArchiveEvent } from '../archive/client.js';
import { seconds, type Waiting } from '../archive/watchdog.js';
import { formatBytes } from './format.js';

/** "waiting for URL: no answer for 5 s (giving up at 30 s)": what the CLI shows while a mirror is silent. */
export function waitingLine(w: Waiting): string {
  const what = w.phase === 'connect' ? 'no answer' : 'no data';
  return `waiting for ${w.url}: ${what} for ${seconds(w.waitedMs)} (giving up at ${seconds(w.limitMs)})`;
}

/**
 * Renders archive progress on stderr: one rewritten status line on a TTY,
 * plain lines otherwise, nothing when quiet (--json or --quiet).
 */
export function archiveProgress(quiet: boolean): ((e: ArchiveEvent) => void) | undefined {
  if (quiet) return undefined;
  const tty = process.stderr.isTTY === true;
  let lastDraw = 0;
  const clear = () => tty && process.stderr.write('\r\x1b[K');
  return (e) => {
    switch (e.kind) {
      case 'download': {
        if (!tty) return;
        const now = Date.now();
        if (now - lastDraw < 100) return;
        lastDraw = now;
        const pct = e.total ? ` ${Math.floor((e.received / e.total) * 100)}%` : '';
        process.stderr.write(`\r\x1b[Kdownloading ${e.suite} index ${formatBytes(e.received)}${e.total ? ` / ${formatBytes(e.total)}` : ''}${pct}`);
        return;
      }
      case 'downloaded':
        clear();
        process.stderr.write(`downloaded ${e.suite} index (${formatBytes(e.bytes)}, verified against the signed Release)\n`);
        return;
      case 'index':
        clear();
        if (e.from !== 'parsed-cache') process.stderr.write(`loaded ${e.suite}/${e.component}: ${e.packages} packages\n`);
        return;
      case 'waiting':
        clear();
        // On a TTY the line is rewritten by the next event (and cleared when the request is given up,
        // so the error starts a line); elsewhere each report is a line of its own.
        if (!e.gaveUp) process.stderr.write(`${waitingLine(e)}${tty ? '' : '\n'}`);
        return;
      case 'downgrade':
        clear();
        process.stderr.write(
          `note: ${e.suite} from ${e.mirror} is dated ${e.date.toISOString()}, older than the newest seen (${e.newest.toISOString()} from ${e.newestMirror}); accepted (--allow-downgrade)\n`,
        );
        return;
      case 'release':
        return;
    }
  };
}
