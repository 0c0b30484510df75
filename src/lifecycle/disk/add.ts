/**
 * `jeos disk add DISK DIR`: the version built in DIR (its out/disk.img and out/build.json)
 * becomes a new version on a stopped disk: its kernel, initrd and jeos.json under
 * jeos/<version>/, then its boot entry with BOOT_TRIES tries. Being the newest, it is what
 * systemd-boot boots next. At most `keep` versions stay: the oldest go first (bad ones
 * before the others), never the newest good one, which is what the disk falls back to.
 *
 * Every refusal (not a jeos disk, a version not newer, another architecture, a damaged
 * entry, no room) comes before anything is written, from the disk opened read-only. The edit
 * is made on a copy beside the disk, which is renamed over it (staged-copy.ts): a kill at any
 * moment leaves the disk exactly as it was or with the new version complete. Within the copy
 * the writes keep their order (an old version's entry before its files, the new version's
 * files before its entry), and what an add interrupted before this design left on a disk
 * (files without an entry, lost clusters) is still cleaned up.
 */
import { join } from 'node:path';
import { compareVersions } from '../../archive/version.js';
import { JeosError } from '../../errors.js';
import { aboutText, DISK_IMG, ENTRIES_DIR, entryState, newEntryName, peArchitecture, versionPaths, type FatVolume } from '../../outputs/disk/index.js';
import { readRecord } from '../../record/index.js';
import { crashPoint } from './crash.js';
import { openJeosDisk } from './disk-file.js';
import { stageCopy } from './staged-copy.js';
import { readVersions, type ReadVersion } from './status.js';

export const DEFAULT_KEEP = 3;

export interface AddOptions {
  /** The disk image to add to. */
  disk: string;
  /** The build output holding disk.img and build.json (DIR/out). */
  outDir: string;
  /** Versions kept on the disk, the new one included (at least 2). */
  keep?: number;
}

export interface AddResult {
  disk: string;
  version: string;
  entry: string;
  /** Versions removed to stay within `keep`. */
  removed: string[];
  /** Clusters an earlier, interrupted add had left, freed. */
  reclaimedBytes: number;
  /** jeos/<version> directories without an entry (an interrupted add's), removed. */
  leftoversRemoved: string[];
  /** Copies of the disk a killed add left beside it (staged-copy.ts), removed. */
  staleCopiesRemoved: string[];
  next: string;
}

interface Source {
  version: string;
  entryText: string;
  linux: Buffer;
  initrd: Buffer;
  about: Buffer;
  arch: string;
}

/** What the build in outDir put on its own disk: the version's entry, kernel and initrd. */
async function readSource(outDir: string): Promise<Source> {
  const record = await readRecord(outDir);
  const version = record.version;
  const src = await openJeosDisk(join(outDir, DISK_IMG), { write: false });
  try {
    const { versions } = await readVersions(src.volume);
    const own = versions.find((v) => v.version === version);
    if (!own) {
      throw new JeosError('E_DISK_SOURCE', `${join(outDir, DISK_IMG)} has no boot entry for version ${version} (build.json's)`, {
        hint: 'build it again: jeos build DIR --format disk',
      });
    }
    const read = async (p: string) => {
      const data = await src.volume.readFile(p.replace(/^\/+/, ''));
      if (!data) throw new JeosError('E_DISK_SOURCE', `${join(outDir, DISK_IMG)} lacks ${p}, which its entry names`, { hint: 'build it again: jeos build DIR --format disk' });
      return data;
    };
    const paths = versionPaths(version);
    if (own.boot.linux.replace(/^\/+/, '') !== paths.linux || own.boot.initrd.length !== 1 || own.boot.initrd[0]!.replace(/^\/+/, '') !== paths.initrd) {
      throw new JeosError('E_DISK_SOURCE', `the entry for ${version} in ${join(outDir, DISK_IMG)} does not name /${paths.linux} and /${paths.initrd}`, { hint: 'build it again with this jeos' });
    }
    const linux = await read(paths.linux);
    const arch = peArchitecture(linux);
    if (!arch) throw new JeosError('E_DISK_SOURCE', `/${paths.linux} in ${join(outDir, DISK_IMG)} is not an EFI binary`, { hint: 'the kernel must have an EFI stub to be booted by systemd-boot' });
    const disk = record.outputs.find((o) => o.format === 'disk')?.disk;
    const about =
      (await src.volume.readFile(paths.about)) ??
      Buffer.from(aboutText({ name: record.name, version, lockDigest: record.lockDigest, sourceDateEpoch: record.sourceDateEpoch, kernelVersion: disk?.kernelVersion ?? '' }));
    const entryText = (await read(`${ENTRIES_DIR}/${own.file}`)).toString('utf8');
    return { version, entryText, linux, initrd: await read(paths.initrd), about, arch };
  } finally {
    await src.close();
  }
}

/** The EFI architecture the disk boots: its removable-media boot loader's name (BOOTX64.EFI → x64). */
async function diskArch(volume: FatVolume): Promise<string> {
  const loader = (await volume.list('EFI/BOOT')).find((e) => /^BOOT[A-Z0-9]+\.EFI$/i.test(e.name));
  if (!loader) throw new JeosError('E_DISK_NOT_JEOS', 'the disk has no boot loader at EFI/BOOT/BOOT<arch>.EFI', { hint: 'jeos disk works on disks made by jeos build --format disk' });
  return loader.name.slice(4, -4).toLowerCase();
}

/** Which versions go so that `keep` remain with the new one: bad ones first, then the oldest; never the newest good one. */
export function choosePruned(versions: readonly ReadVersion[], keep: number): ReadVersion[] {
  const excess = versions.length + 1 - keep;
  if (excess <= 0) return [];
  const good = versions.filter((v) => entryState(v) === 'good').sort((a, b) => compareVersions(b.version, a.version))[0];
  const oldestFirst = [...versions].sort((a, b) => compareVersions(a.version, b.version));
  const candidates = [...oldestFirst.filter((v) => entryState(v) === 'bad'), ...oldestFirst.filter((v) => entryState(v) !== 'bad')].filter((v) => v !== good);
  return candidates.slice(0, excess);
}

interface Plan {
  leftovers: string[];
  pruned: ReadVersion[];
}

/** Every refusal, read from the disk without writing: what the add will remove. */
async function plan(volume: FatVolume, source: Source, keep: number): Promise<Plan> {
  const { versions, leftovers } = await readVersions(volume);
  const arch = await diskArch(volume);
  if (source.arch !== arch) {
    throw new JeosError('E_DISK_ARCH', `version ${source.version}'s kernel is for ${source.arch}; the disk boots ${arch}`, {
      hint: 'build the image for the disk\'s architecture (architecture: in jeos.yaml)',
    });
  }
  const newest = [...versions].sort((a, b) => compareVersions(b.version, a.version))[0];
  if (newest && compareVersions(source.version, newest.version) <= 0) {
    throw new JeosError('E_DISK_VERSION_NOT_NEWER', `version ${source.version} is not newer than ${newest.version}, the newest on the disk`, {
      hint: 'set a higher version: in jeos.yaml and build again (versions compare as Debian versions do)',
    });
  }
  const pruned = choosePruned(versions, keep);
  if (versions.length + 1 - pruned.length > keep) {
    throw new JeosError('E_DISK_KEEP', `the disk holds ${versions.length} versions and none can go to keep ${keep}`, { hint: 'raise --keep' });
  }
  const files = [source.linux, source.initrd, source.about, Buffer.from(source.entryText)];
  // Each file's clusters, its directory's, and a cluster for each of two directories that may grow.
  const needed = files.reduce((n, f) => n + volume.clustersFor(f.length), 0) + 1 + 2;
  let freed = 0;
  for (const v of [...pruned.map((p) => versionPaths(p.version).dir), ...leftovers]) freed += await clustersUnder(volume, v);
  if (volume.freeClusters() + freed < needed) {
    throw new JeosError('E_DISK_ESP_FULL', `the EFI system partition has room for ${(volume.freeClusters() + freed) * volume.clusterSize} bytes; version ${source.version} needs ${needed * volume.clusterSize}`, {
      hint: 'keep fewer versions (--keep), or build the disk with a larger disk.size (the ESP holds three versions)',
    });
  }
  return { leftovers, pruned };
}

/** The edit itself, on the staged copy: old entries before their files, the new files before their entry. */
async function apply(volume: FatVolume, source: Source, { leftovers, pruned }: Plan): Promise<{ reclaimed: number; entry: string; next: string }> {
  crashPoint('start');
  const reclaimed = await volume.reclaimLost();
  for (const dir of leftovers) await volume.remove(dir);
  for (const v of pruned) {
    await volume.remove(`${ENTRIES_DIR}/${v.file}`);
    crashPoint(`removed-entry:${v.version}`);
    await volume.remove(versionPaths(v.version).dir);
  }
  crashPoint('pruned');
  const paths = versionPaths(source.version);
  if (!(await volume.lookup('jeos'))) await volume.mkdir('', 'jeos');
  await volume.mkdir('jeos', source.version);
  await volume.createFile(paths.dir, 'linux', source.linux, { beforeLink: () => crashPoint('linux-data') });
  crashPoint('linux');
  await volume.createFile(paths.dir, 'initrd', source.initrd, { beforeLink: () => crashPoint('initrd-data') });
  crashPoint('initrd');
  await volume.createFile(paths.dir, 'jeos.json', source.about);
  await volume.sync();
  crashPoint('before-entry');
  const entry = newEntryName(source.version);
  await volume.createFile(ENTRIES_DIR, entry, Buffer.from(source.entryText), { beforeLink: () => crashPoint('entry-data') });
  crashPoint('entry');
  await volume.finish();
  const after = await readVersions(volume);
  return { reclaimed, entry, next: after.versions[0]!.version };
}

export async function addVersion(options: AddOptions): Promise<AddResult> {
  const keep = options.keep ?? DEFAULT_KEEP;
  if (!Number.isInteger(keep) || keep < 2) {
    throw new JeosError('E_DISK_KEEP', `--keep ${keep}: a disk keeps at least 2 versions`, { hint: 'the new one and the good one it falls back to' });
  }
  const source = await readSource(options.outDir);
  const record = await readRecord(options.outDir);
  // Everything is checked on the disk itself, opened read-only, before anything is copied or written.
  const disk = await openJeosDisk(options.disk, { write: false });
  try {
    await plan(disk.volume, source, keep);
  } finally {
    await disk.close();
  }
  const staged = await stageCopy(options.disk);
  try {
    crashPoint('copied');
    const copy = await openJeosDisk(staged.path, { write: true, time: record.sourceDateEpoch });
    let done: Awaited<ReturnType<typeof apply>>;
    let todo: Plan;
    try {
      todo = await plan(copy.volume, source, keep);
      done = await apply(copy.volume, source, todo);
    } finally {
      await copy.close();
    }
    await staged.commit(() => crashPoint('before-rename'));
    crashPoint('renamed');
    return {
      disk: options.disk,
      version: source.version,
      entry: `${ENTRIES_DIR}/${done.entry}`,
      removed: todo.pruned.map((p) => p.version),
      reclaimedBytes: done.reclaimed * copy.volume.clusterSize,
      leftoversRemoved: todo.leftovers,
      staleCopiesRemoved: staged.staleRemoved,
      next: done.next,
    };
  } catch (e) {
    await staged.discard();
    throw e;
  }
}

async function clustersUnder(volume: FatVolume, dir: string): Promise<number> {
  let n = 0;
  for (const e of await volume.list(dir)) n += e.isDir ? 1 + (await clustersUnder(volume, `${dir}/${e.name}`)) : volume.clustersFor(e.size);
  return n;
}

