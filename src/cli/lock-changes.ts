import type { LockChanges } from '../lock/index.js';

/** What a new lock changed against the one it replaced, as jeos lock and jeos build print it (on stderr for the build). */
export function lockChangeLines(c: LockChanges): string[] {
  const n = c.added.length + c.removed.length + c.upgraded.length + c.downgraded.length;
  if (!n) return ['jeos.lock: no package changed'];
  return [
    `jeos.lock: ${c.upgraded.length} upgraded, ${c.added.length} added, ${c.removed.length} removed${c.downgraded.length ? `, ${c.downgraded.length} downgraded` : ''} (jeos diff shows changelogs and CVEs)`,
    ...c.upgraded.map((u) => `  ${u.name} ${u.from} → ${u.to} (${u.suite})`),
    ...c.downgraded.map((u) => `  ${u.name} ${u.from} → ${u.to} (${u.suite}, older)`),
    ...c.added.map((a) => `  + ${a.name} ${a.version}`),
    ...c.removed.map((r) => `  - ${r.name} ${r.version}`),
  ];
}
