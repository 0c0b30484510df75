/**
 * The image's tmpfiles.d entries, done without systemd-tmpfiles at boot:
 * systemd-tmpfiles-setup.service (a program linking systemd's shared library, run
 * before sysinit.target) holds a VM's boot back (docs/vm.md has the figure).
 * Most of its work does not need the booted machine:
 *
 * - An entry outside /run is applied to the tree at build time, as
 *   `systemd-tmpfiles --create --remove --boot` would apply it to the initramfs's root
 *   (a ramfs, made anew from the same archive at every boot).
 * - /run is a new tmpfs at every boot: its directories, links and small files go into
 *   a small tar archive in the image, which one BusyBox `tar` unpacks in the VM's early
 *   script (jeos-network.service's, or BusyBox init's /etc/jeos/boot).
 * - Some entries have nothing to act on in a jeos VM: ACLs and file attributes (a
 *   ramfs keeps neither; systemd-tmpfiles fails those lines too), credentials (none
 *   are given), /dev (left to devtmpfs, as the service's --exclude-prefix=/dev does),
 *   the journal's group and ACLs when nobody but root could read it.
 *
 * An entry that fits none of these (a pattern in /run, a device node, content with
 * escapes, a specifier only the booted machine knows) keeps systemd-tmpfiles-setup,
 * and build.json names it, as it names what keeps systemd-sysctl.
 */
import { readAccounts, type Accounts, type ImageTree } from '../../tree/index.js';
import { planBoot, RunEntries, RUN_ARCHIVE } from './tmpfiles-boot.js';
import { planBuild } from '../../configure/tmpfiles/build.js';
import { at, byComponents, entryTarget, firstPerPath, JOURNAL_GROUPS, MODIFIERS, NO_RAMFS_SUPPORT, under, type Entry, type Verdict } from '../../configure/tmpfiles/entry.js';
import { readTmpfiles, type TmpfilesLine } from '../../configure/tmpfiles/parse.js';

export interface TmpfilesContext {
  hostname: string;
  /** systemd's journald, which keeps the journal in /run/log/journal (on a disk image, flushed to /var/log/journal at boot), or no journal at all (BusyBox init). */
  journal: 'journald' | 'none';
  sourceDateEpoch: number;
}

/** What build.json records, each entry as `file: line`. */
export interface TmpfilesRecord {
  on: string;
  /** Why systemd-tmpfiles-setup.service still runs, when it does: the first entry jeos cannot do. */
  reason?: string;
  /** Applied to the tree at build time. */
  build: string[];
  /** Made in /run at boot, from the archive BusyBox unpacks. */
  boot: string[];
  /** Entries that have nothing to act on in a jeos VM. */
  nothingToDo: Array<{ line: string; reason: string }>;
}

/** The record when jeos does none of the entries: `on` says what does them (or that nothing does), `reason` why. */
export function tmpfilesNotDone(on: string, reason?: string): TmpfilesRecord {
  return { on, ...(reason === undefined ? {} : { reason }), build: [], boot: [], nothingToDo: [] };
}

export interface TmpfilesPlan {
  record: TmpfilesRecord;
  /** Shell lines (with `$bb` set to BusyBox) that make the /run entries from the archive `apply` writes. */
  bootLines: string[];
}


/** Users besides root who could read the journal through its group (systemd-journal) or ACLs (adm). */
export function journalReaders(accounts: Accounts): string[] {
  const readers = new Set<string>();
  for (const group of JOURNAL_GROUPS) {
    for (const member of accounts.members.get(group) ?? []) readers.add(member);
    const gid = accounts.groups.get(group);
    for (const [name, { gid: primary }] of accounts.users) if (gid !== undefined && primary === gid) readers.add(name);
  }
  readers.delete('root');
  return [...readers].sort();
}

function classify(line: TmpfilesLine, tree: ImageTree, ctx: TmpfilesContext, readers: readonly string[]): Verdict {
  const unknownModifier = [...line.modifiers].find((m) => !MODIFIERS.has(m));
  if (unknownModifier) return { blocker: `the modifier ${unknownModifier}` };
  if (line.modifiers.includes('^')) return { none: 'its content comes from a credential, and a jeos VM is given none' };
  if (line.type === 'x' || line.type === 'X') return { none: 'it only keeps a path from being cleaned by age, and nothing cleans at boot' };
  const raw = line.path;
  if (/^\/(run|var)\/log\/journal(\/|$)/.test(raw)) {
    if (ctx.journal === 'none') return { none: 'the VM runs no journald' };
    if (raw.startsWith('/var/')) return { none: 'journald keeps the journal in /run/log/journal (Storage=auto, no /var/log/journal in the image); a disk image\'s jeos-disk-journal.service makes /var/log/journal on the /var partition' };
    if (readers.length) return { blocker: `the journal's group and ACLs let ${readers.join(', ')} read it, and BusyBox cannot set ACLs` };
    return { none: `it lets members of ${JOURNAL_GROUPS.join(' and ')} read the journal, and the image has none besides root` };
  }
  const target = entryTarget(line, tree, ctx, 'the machine has booted');
  if ('problem' in target) return { blocker: target.problem };
  const { path } = target;
  if (under(path, 'dev')) return { none: 'systemd-tmpfiles-setup.service leaves /dev to devtmpfs (--exclude-prefix=/dev)' };
  if (under(path, 'proc') || under(path, 'sys')) return { blocker: 'it writes to the kernel\'s files at boot' };
  if (NO_RAMFS_SUPPORT.has(line.type) && !under(path, 'run')) {
    return { none: 'the root is a ramfs, which keeps no ACLs or file attributes (systemd-tmpfiles fails this line too)' };
  }
  return { area: under(path, 'run') ? 'boot' : 'build', ...target };
}


/**
 * The plan for the image's tmpfiles.d entries. `needsService` is set when any entry
 * cannot be done without systemd-tmpfiles; then nothing is applied and the plan only
 * names the entry. Otherwise `apply` changes the tree (and writes /run's archive into
 * it) and `bootLines` make /run.
 */
export function planTmpfiles(tree: ImageTree, ctx: TmpfilesContext): TmpfilesPlan & { needsService?: string; apply: () => void } {
  const accounts = readAccounts(tree);
  const readers = journalReaders(accounts);
  const record = tmpfilesNotDone('');
  const entries: Entry[] = [];
  let needsService: string | undefined;
  for (const line of readTmpfiles(tree)) {
    const verdict = classify(line, tree, ctx, readers);
    if ('none' in verdict) record.nothingToDo.push({ line: at(line), reason: verdict.none });
    else if ('blocker' in verdict) needsService ??= `${at(line)} (${verdict.blocker})`;
    else entries.push({ line, where: at(line), ...verdict });
  }
  const { first, duplicates } = firstPerPath(entries);
  for (const d of duplicates) record.nothingToDo.push({ line: d.where, reason: 'an earlier line for the same path wins' });
  const ordered = first.sort((a, b) => byComponents(a.path, b.path));
  const boot = new RunEntries();
  const made = new Set<string>();
  const ops: Array<() => void> = [];
  for (const entry of ordered) {
    const result = entry.area === 'boot' ? planBoot(entry, tree, accounts, boot, made) : planBuild(entry, tree, accounts, ctx.sourceDateEpoch, ops);
    if (result === undefined) (entry.area === 'boot' ? record.boot : record.build).push(entry.where);
    else if ('none' in result) record.nothingToDo.push({ line: entry.where, reason: result.none });
    else needsService ??= `${entry.where} (${result.blocker})`;
  }
  if (needsService) return { record: tmpfilesNotDone('', needsService), bootLines: [], needsService, apply: () => {} };
  const writeArchive = () => {
    if (boot.size === 0) return;
    const meta = (mode: number) => ({ mode, uid: 0, gid: 0, mtime: ctx.sourceDateEpoch });
    tree.mkdirp(RUN_ARCHIVE.slice(0, RUN_ARCHIVE.lastIndexOf('/')), meta(0o755));
    tree.writeFile(RUN_ARCHIVE, boot.archive(ctx.sourceDateEpoch), meta(0o644));
  };
  return { record, bootLines: boot.lines(), apply: () => [...ops, writeArchive].forEach((op) => op()) };
}

