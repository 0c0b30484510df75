import type { BuildEvent } from '../build/types.js';
import { formatBytes } from './format.js';
import { lockChangeLines } from './lock-changes.js';
import { waitingLine } from './progress.js';

/**
 * Renders build progress on stderr: a rewritten download/write line on a TTY, one
 * line per finished step otherwise; nothing when quiet.
 */
export function buildProgress(quiet: boolean): ((e: BuildEvent) => void) | undefined {
  if (quiet) return undefined;
  const tty = process.stderr.isTTY === true;
  let lastDraw = 0;
  let total = 0;
  const received = new Map<string, number>();
  const clear = () => tty && process.stderr.write('\r\x1b[K');
  const draw = (text: string) => {
    const now = Date.now();
    if (!tty || now - lastDraw < 100) return;
    lastDraw = now;
    process.stderr.write(`\r\x1b[K${text}`);
  };
  return (e) => {
    switch (e.kind) {
      case 'step':
        if (e.state === 'done') {
          clear();
          // The VM's steps are named with their variant: `vm kernel`, `vm trim`.
          const name = e.variant && e.variant !== 'image' ? `${e.variant} ${e.step}` : e.step;
          process.stderr.write(`${name.padEnd(13)} ${String(e.ms).padStart(6)} ms  ${e.detail}\n`);
        }
        return;
      case 'lock':
        if (e.state === 'written') process.stderr.write(`note: ${e.reason}; locked again\n`);
        if (e.changes) process.stderr.write(lockChangeLines(e.changes).map((l) => `${l}\n`).join(''));
        return;
      case 'fetch': {
        const f = e.event;
        if (f.kind === 'start') {
          total = f.bytes;
          if (f.packages) process.stderr.write(`downloading ${f.packages} packages (${formatBytes(f.bytes)}), ${f.cached} cached\n`);
        } else if (f.kind === 'progress') {
          received.set(f.pkg.name, f.received);
          let sum = 0;
          for (const v of received.values()) sum += v;
          const width = 24;
          const filled = total ? Math.min(width, Math.round((sum / total) * width)) : 0;
          draw(`[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${formatBytes(sum)} / ${formatBytes(total)}  ${f.pkg.name}`);
        } else if (f.kind === 'waiting') {
          clear();
          if (!f.gaveUp) process.stderr.write(`${f.pkg.name}: ${waitingLine(f)}${tty ? '' : '\n'}`);
        } else if (f.kind === 'retry') {
          clear();
          process.stderr.write(`retrying ${f.pkg.name} (attempt ${f.attempt}): ${f.error.message}\n`);
        } else if (f.kind === 'damaged') {
          clear();
          process.stderr.write(`cached ${f.pkg.name} no longer matches the lock; fetching it again\n`);
        } else if (f.kind === 'done' && !tty) {
          process.stderr.write(`fetched ${f.pkg.name} ${f.pkg.version} (${formatBytes(f.pkg.size)})\n`);
        }
        return;
      }
      case 'output': {
        const o = e.event;
        if (o.kind === 'output-progress') draw(`writing ${o.format} ${formatBytes(o.done)} / ${formatBytes(o.total)}`);
        return;
      }
    }
  };
}
