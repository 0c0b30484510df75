/**
 * The boot entries of a jeos disk as systemd-boot sees them: their file names carry the
 * version and the boot counter (`jeos-<version>+<left>[-<done>].conf`, or `jeos-<version>.conf`
 * once systemd-bless-boot marked it good), their text the kernel, initrd and options. What
 * boots next follows systemd-boot's own order: entries with no tries left last, then (one
 * sort key for all) newest version first; the first of that list is the default.
 */
import { JeosError } from '../../errors.js';
import { BOOT_TRIES } from './layout.js';

export const ENTRIES_DIR = 'loader/entries';
/** What `jeos disk status` says of a version. */
export type EntryState = 'good' | 'bad' | 'untried' | 'trying';

export interface EntryName {
  file: string;
  version: string;
  /** Tries left; null once blessed (no counter). */
  left: number | null;
  /** Tries used; null when the name has no `-N` part. */
  done: number | null;
}

const NAME = /^jeos-([0-9][A-Za-z0-9.~]*)(?:\+(\d+)(?:-(\d+))?)?\.conf$/;

/** A jeos entry's file name, or undefined for any other file. */
export function parseEntryName(file: string): EntryName | undefined {
  const m = NAME.exec(file);
  if (!m) return undefined;
  return { file, version: m[1]!, left: m[2] === undefined ? null : Number(m[2]), done: m[3] === undefined ? null : Number(m[3]) };
}

export function entryState(e: Pick<EntryName, 'left' | 'done'>): EntryState {
  if (e.left === null) return 'good';
  if (e.left === 0) return 'bad';
  return e.done ? 'trying' : 'untried';
}

/** The name a new version's entry is written under: BOOT_TRIES tries, none used. */
export function newEntryName(version: string): string {
  return `jeos-${version}+${BOOT_TRIES}.conf`;
}

export interface EntryText {
  title?: string;
  version: string;
  architecture?: string;
  linux: string;
  initrd: string[];
  options: string;
}

/** Read a Type #1 entry; E_DISK_ENTRY_CORRUPT when it lacks what systemd-boot needs to boot it. */
export function parseEntryText(text: string, file: string): EntryText {
  const fields = new Map<string, string[]>();
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const m = /^(\S+)\s+(.*)$/.exec(line);
    if (!m) continue;
    fields.set(m[1]!, [...(fields.get(m[1]!) ?? []), m[2]!.trim()]);
  }
  const one = (k: string) => fields.get(k)?.[0];
  const linux = one('linux');
  const version = one('version');
  if (!linux || !version || /[\0\x01-\x08]/.test(text)) {
    throw new JeosError('E_DISK_ENTRY_CORRUPT', `the boot entry ${file} is damaged: ${!linux ? 'no linux line' : !version ? 'no version line' : 'binary bytes in it'}`, {
      hint: 'jeos changed nothing; remove the entry or rebuild the disk',
    });
  }
  return { title: one('title'), version, architecture: one('architecture'), linux, initrd: fields.get('initrd') ?? [], options: (fields.get('options') ?? []).join(' ') };
}

/**
 * Entries in systemd-boot's order (see above): exhausted ones last, then newest version first,
 * then by file name. `compare` orders versions (Debian's order, which systemd-boot's version
 * comparison agrees with for the characters a jeos version may hold).
 */
export function bootOrder<T extends EntryName>(entries: readonly T[], compare: (a: string, b: string) => number): T[] {
  return [...entries].sort((a, b) => {
    const ax = a.left === 0 ? 1 : 0;
    const bx = b.left === 0 ? 1 : 0;
    if (ax !== bx) return ax - bx;
    const v = compare(b.version, a.version);
    if (v !== 0) return v;
    return a.file < b.file ? -1 : a.file > b.file ? 1 : 0;
  });
}

/** The PE machine of an EFI binary (the kernel's EFI stub): x64, aa64, ia32, …; undefined when not a PE file. */
export function peArchitecture(data: Buffer): string | undefined {
  if (data.length < 0x40 || data.toString('latin1', 0, 2) !== 'MZ') return undefined;
  const pe = data.readUInt32LE(0x3c);
  if (pe + 6 > data.length || data.toString('latin1', pe, pe + 4) !== 'PE\0\0') return undefined;
  const machine = data.readUInt16LE(pe + 4);
  return ({ 0x8664: 'x64', 0xaa64: 'aa64', 0x14c: 'ia32', 0x1c2: 'arm', 0x5064: 'riscv64', 0x6264: 'loongarch64' } as Record<number, string>)[machine] ?? `machine 0x${machine.toString(16)}`;
}
