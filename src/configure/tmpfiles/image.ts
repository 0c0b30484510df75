/**
 * tmpfiles.d entries for a container image, which has no init to run systemd-tmpfiles:
 * every entry jeos can do is applied to the image's tree at build time, /run included
 * (a container's /run is the image's own directory, not a tmpfs made at start), so the
 * directories a daemon expects (/run/named, /var/lib/nsd, …) are there with their owners
 * and modes. What a container cannot have is left out, each with its reason in the
 * report: ACLs and file attributes, credentials, /dev, /proc and /sys (the runtime's),
 * the journal (no journald runs), age-only lines, the host name and machine ID (known
 * only once the container runs), device nodes and copies jeos does not make yet.
 */
import { readAccounts, type ImageTree } from '../../tree/index.js';
import { planBuild } from './build.js';
import { at, byComponents, entryTarget, firstPerPath, MODIFIERS, NO_RAMFS_SUPPORT, under, type Entry } from './entry.js';
import { readTmpfiles, type TmpfilesLine } from './parse.js';

export interface ImageTmpfilesRecord {
  /** Entries applied to the tree, each `file: line`. */
  applied: string[];
  /** The paths they name, absolute and sorted (a pattern as written). */
  paths: string[];
  /** Entries left out, with the reason. */
  skipped: Array<{ line: string; reason: string }>;
}

type Verdict = { skip: string } | { path: string; glob: boolean; argument?: string };

function classify(line: TmpfilesLine, tree: ImageTree): Verdict {
  const unknownModifier = [...line.modifiers].find((m) => !MODIFIERS.has(m));
  if (unknownModifier) return { skip: `the modifier ${unknownModifier} is not understood` };
  if (line.modifiers.includes('^')) return { skip: 'its content comes from a credential, and a container is given none' };
  if (line.type === 'x' || line.type === 'X') return { skip: 'it only keeps a path from being cleaned by age, and nothing cleans in a container' };
  if (NO_RAMFS_SUPPORT.has(line.type)) return { skip: 'ACLs and file attributes are not set in a container image' };
  if (/^\/(run|var)\/log\/journal(\/|$)/.test(line.path)) return { skip: 'no journald runs in a container' };
  if (/%[Hlmbv]/.test(line.path) || (line.argument !== undefined && /%[Hlmbv]/.test(line.argument))) {
    return { skip: 'a specifier (host name, machine or boot ID) is known only once the container runs' };
  }
  const target = entryTarget(line, tree, { hostname: '' }, 'the container runs');
  if ('problem' in target) return { skip: target.problem };
  if (under(target.path, 'dev') || under(target.path, 'proc') || under(target.path, 'sys')) return { skip: 'the container runtime provides /dev, /proc and /sys' };
  return target;
}

/** Apply the image's tmpfiles.d entries to its tree, as systemd-tmpfiles --create --remove --boot would at the container's first start. */
export function applyImageTmpfiles(tree: ImageTree, sourceDateEpoch: number): ImageTmpfilesRecord {
  const record: ImageTmpfilesRecord = { applied: [], paths: [], skipped: [] };
  const accounts = readAccounts(tree);
  const entries: Entry[] = [];
  for (const line of readTmpfiles(tree)) {
    const verdict = classify(line, tree);
    if ('skip' in verdict) record.skipped.push({ line: at(line), reason: verdict.skip });
    else entries.push({ line, where: at(line), area: 'build', ...verdict });
  }
  const { first, duplicates } = firstPerPath(entries);
  for (const d of duplicates) record.skipped.push({ line: d.where, reason: 'an earlier line for the same path wins' });
  const ops: Array<() => void> = [];
  for (const entry of first.sort((a, b) => byComponents(a.path, b.path))) {
    const result = planBuild(entry, tree, accounts, sourceDateEpoch, ops);
    if (result === undefined) record.applied.push(entry.where), record.paths.push(`/${entry.path}`);
    else record.skipped.push({ line: entry.where, reason: 'none' in result ? result.none : `not done: ${result.blocker}` });
  }
  for (const op of ops) op();
  record.paths.sort();
  return record;
}
