/**
 * `jeos disk status`: the versions on a stopped jeos disk, read from its ESP: each one's
 * boot entry (tries left and used, from its file name), what it is (good, bad, untried,
 * trying), the lock it was built from (jeos/<version>/jeos.json), and which one
 * systemd-boot boots next.
 */
import { compareVersions } from '../../archive/version.js';
import { JeosError } from '../../errors.js';
import { bootOrder, ENTRIES_DIR, entryState, parseEntryName, parseEntryText, versionPaths, type EntryName, type EntryState, type EntryText, type FatVolume, type VersionAbout } from '../../outputs/disk/index.js';
import { openJeosDisk } from './disk-file.js';

export interface DiskVersion {
  version: string;
  /** The entry's file name under loader/entries. */
  entry: string;
  state: EntryState;
  /** Tries left; null once marked good. */
  triesLeft: number | null;
  /** Tries used (the `-N` of the name); 0 when it has none. */
  triesUsed: number;
  /** Whether systemd-boot boots this one next (the first of its order). */
  next: boolean;
  /** The jeos.lock it was built from (SHA-256), when the disk says. */
  lockDigest: string | null;
  kernelVersion: string | null;
  /** Its kernel's and initrd's bytes on the ESP. */
  bytes: number;
  /** The entry's text, parsed. */
  boot: EntryText;
}

export interface DiskStatus {
  disk: string;
  /** The versions in systemd-boot's order: the first boots next. */
  versions: DiskVersion[];
  /** The version that boots next, or null when the disk has none. */
  next: string | null;
  esp: { bytes: number; freeBytes: number };
  /** jeos/<version> directories no entry names (what an interrupted jeos disk add leaves; the next add removes them). */
  leftovers: string[];
}

export interface ReadVersion extends EntryName {
  boot: EntryText;
  about: VersionAbout | null;
  bytes: number;
}

/** Every jeos entry on the ESP, parsed; E_DISK_ENTRY_CORRUPT for one that cannot be read. */
export async function readVersions(volume: FatVolume): Promise<{ versions: ReadVersion[]; leftovers: string[] }> {
  const versions: ReadVersion[] = [];
  for (const e of await volume.list(ENTRIES_DIR)) {
    if (e.isDir) continue;
    const name = parseEntryName(e.name);
    if (!name) continue;
    if (versions.some((v) => v.version === name.version)) {
      throw new JeosError('E_DISK_ENTRY_CORRUPT', `version ${name.version} has two boot entries (${versions.find((v) => v.version === name.version)!.file}, ${e.name})`, {
        hint: 'systemd-bless-boot cannot rename an entry when another of the same version exists (systemd#33504): remove one',
      });
    }
    const text = (await volume.readFile(`${ENTRIES_DIR}/${e.name}`))!.toString('utf8');
    const boot = parseEntryText(text, e.name);
    const paths = versionPaths(name.version);
    const aboutData = await volume.readFile(paths.about);
    let about: VersionAbout | null = null;
    try {
      about = aboutData ? (JSON.parse(aboutData.toString('utf8')) as VersionAbout) : null;
    } catch {
      about = null;
    }
    let bytes = 0;
    for (const f of [boot.linux, ...boot.initrd]) bytes += (await volume.lookup(f.replace(/^\/+/, '')))?.size ?? 0;
    versions.push({ ...name, boot, about, bytes });
  }
  const named = new Set(versions.map((v) => v.version.toUpperCase()));
  const leftovers = (await volume.list('jeos')).filter((e) => e.isDir && !named.has(e.name.toUpperCase())).map((e) => `jeos/${e.name}`);
  return { versions: bootOrder(versions, compareVersions), leftovers };
}

export async function diskStatus(path: string): Promise<DiskStatus> {
  const disk = await openJeosDisk(path, { write: false });
  try {
    const { versions, leftovers } = await readVersions(disk.volume);
    return {
      disk: path,
      versions: versions.map((v, i) => ({
        version: v.version,
        entry: v.file,
        state: entryState(v),
        triesLeft: v.left,
        triesUsed: v.done ?? 0,
        next: i === 0,
        lockDigest: v.about?.lockDigest ?? null,
        kernelVersion: v.about?.kernelVersion ?? null,
        bytes: v.bytes,
        boot: v.boot,
      })),
      next: versions[0]?.version ?? null,
      esp: { bytes: disk.volume.bytes, freeBytes: disk.volume.freeClusters() * disk.volume.clusterSize },
      leftovers,
    };
  } finally {
    await disk.close();
  }
}
