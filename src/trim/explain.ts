/**
 * `jeos why /PATH`: the chain from the workload to a kept path, read from
 * out/trim.json, or the package a dropped path came from.
 */
import type { KeepReason, TrimExplanation } from './types.js';

export interface PathExplanation {
  path: string;
  state: 'kept' | 'dropped' | 'absent';
  /** Kept: the path, then what led to it, back to an entry point. */
  chain: Array<{ path: string } & KeepReason>;
  /** Dropped: the package whose file it was. */
  droppedFrom?: string;
}

/** Spellings of a path inside the image: as given, then through the merged-/usr links. */
function spellings(path: string): string[] {
  const p = `/${path.replace(/^\/+/, '').replace(/\/+$/, '')}`;
  const merged = p.replace(/^\/(bin|sbin|lib|lib32|lib64|libx32)\//, '/usr/$1/');
  return merged === p ? [p] : [p, merged];
}

export function explainPath(explanation: TrimExplanation, path: string): PathExplanation {
  for (const p of spellings(path)) {
    if (!explanation.kept[p]) continue;
    const chain: PathExplanation['chain'] = [];
    const seen = new Set<string>();
    for (let at: string | undefined = p; at && explanation.kept[at] && !seen.has(at); at = explanation.kept[at]!.from) {
      seen.add(at);
      chain.push({ path: at, ...explanation.kept[at]! });
    }
    return { path: p, state: 'kept', chain };
  }
  for (const p of spellings(path)) {
    for (const [pkg, paths] of Object.entries(explanation.dropped)) {
      if (paths.includes(p)) return { path: p, state: 'dropped', chain: [], droppedFrom: pkg };
    }
  }
  return { path: spellings(path)[0]!, state: 'absent', chain: [] };
}

/** One step of a chain in words. */
export function describeReason(r: KeepReason): string {
  switch (r.why) {
    case 'command': return "the workload's command";
    case 'healthcheck': return "the health check's command";
    case 'unit': return r.from ? `run by the systemd unit ${r.from}` : 'the init the kernel starts (/init)';
    case 'made-by-jeos': return 'written by jeos (workload files, dpkg database, caches, boot setup)';
    case 'area': return 'configuration and state: /etc, /var and the like are kept whole';
    case 'layout': return 'a merged-/usr link at the top of the tree';
    case 'package': return `a file of ${r.detail}, a package the workload asks for`;
    case 'keep': return `matches trim.keep ${r.detail}`;
    case 'locale': return 'a locale trim.locales asks for';
    case 'copyright': return "its package's licence";
    case 'rule': return `rule "${r.detail}" (src/trim/rules.ts), set off by ${r.from}`;
    case 'named': return `named by ${r.from}${r.detail ? ` (${r.detail})` : ''}`;
    case 'needed': return `DT_NEEDED ${r.detail} of ${r.from}`;
    case 'dlopen': return `loaded with dlopen() by ${r.from} (${r.detail})`;
    case 'interpreter': return `the interpreter of ${r.from}`;
    case 'script': return `run by the script ${r.from} (${r.detail})`;
    case 'link': return `a symlink on the way to ${r.from}`;
    case 'target': return `what the symlink ${r.from} points to`;
    case 'hardlink': return `the file the hard link ${r.from} names`;
  }
}
