import type { ClassifyContext } from './classification.js';

/**
 * The output of a command substitution, when the image decides it: `command -v X`,
 * `which X`, `stat -c %a|%u|%g PATH`, `dpkg --print-architecture`, `basename`/`dirname`.
 */
export function substitute(text: string, ctx: ClassifyContext): string | undefined {
  const inner = text.startsWith('$(') ? text.slice(2, -1) : text.startsWith('`') ? text.slice(1, -1) : undefined;
  if (inner === undefined || inner.startsWith('(')) return undefined;
  const cmd = inner.replace(/\s+(?:[0-9]?>\s*\/dev\/null|[0-9]>&[0-9])/g, '').trim();
  if (/[|;&<>$`"'\\*?[]/.test(cmd)) return undefined;
  const w = cmd.split(/\s+/);
  if ((w[0] === 'command' && w[1] === '-v' && w.length === 3) || (w[0] === 'which' && w.length === 2)) {
    const name = w[w.length - 1]!;
    return ctx.world.findCommand(name);
  }
  if (w[0] === 'stat' && (w.length === 4 || (w.length === 5 && w[1] === '-L'))) {
    const [fmtFlag, fmt, path] = w.slice(-3);
    if (fmtFlag !== '-c' || !path) return undefined;
    const node = ctx.world.node(path);
    if (!node) return undefined;
    if (fmt === '%a') return (node.mode & 0o7777).toString(8);
    if (fmt === '%u') return String(node.uid);
    if (fmt === '%g') return String(node.gid);
    return undefined;
  }
  if (w[0] === 'dpkg' && w[1] === '--print-architecture' && w.length === 2) return ctx.architecture;
  // A scratch file: what is done with it is done in /tmp, which the classification leaves out.
  if (w[0] === 'mktemp' && w.slice(1).every((a) => /^-[dqu]+$/.test(a) || /^--(tmpdir|quiet)$/.test(a))) return '/tmp/tmp.mktemp';
  if (w[0] === 'basename' && w.length === 2) return w[1]!.replace(/\/+$/, '').split('/').pop();
  if (w[0] === 'dirname' && w.length === 2) {
    const p = w[1]!.replace(/\/+$/, '');
    const i = p.lastIndexOf('/');
    return i < 0 ? '.' : i === 0 ? '/' : p.slice(0, i);
  }
  return undefined;
}
