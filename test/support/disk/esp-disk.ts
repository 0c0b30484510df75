/**
 * Small jeos disks for hermetic tests of jeos disk add/status: a GPT with a jeos ESP (FAT32,
 * written by src/outputs/disk's writer) holding stand-in versions, and a build output
 * directory (out/disk.img and a build.json) to add from. The kernels are PE headers with the
 * machine asked for and filler, so the architecture check has something real to read.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, open, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { aboutText, buildFat32, entryText, ESP_PART_NAME, gptPieces, guidFrom, PARTITION_TYPES, VAR_PART_NAME, versionPaths, type FatFile } from '../../../src/outputs/disk/index.js';
import { RECORD_VERSION } from '../../../src/record/types.js';

export const EPOCH = 1767225600;
export const MiB = 1 << 20;

/** A PE file of `size` bytes for the machine given (0x8664 x64, 0xaa64 aa64). */
export function peKernel(size: number, machine = 0x8664, seed = 'k'): Buffer {
  const b = Buffer.alloc(size);
  let h = createHash('sha256').update(seed).digest();
  for (let at = 0x100; at < size; at += 32) {
    h.copy(b, at);
    h = createHash('sha256').update(h).digest();
  }
  b.write('MZ', 0, 'latin1');
  b.writeUInt32LE(0x80, 0x3c);
  b.write('PE\0\0', 0x80, 'latin1');
  b.writeUInt16LE(machine, 0x84);
  return b;
}

export interface StandInVersion {
  version: string;
  /** The entry's file name when not `jeos-<v>+3.conf` (a blessed `jeos-<v>.conf`, a bad `jeos-<v>+0-3.conf`). */
  entry?: string;
  linux?: Buffer;
  initrd?: Buffer;
  /** Replaces the entry's text (a damaged entry). */
  text?: string;
}

export function versionFiles(v: StandInVersion, lockDigest = 'a'.repeat(64)): FatFile[] {
  const p = versionPaths(v.version);
  return [
    { path: v.entry ? `loader/entries/${v.entry}` : p.entry, data: Buffer.from(v.text ?? entryText({ name: 'web', version: v.version, efiArch: 'x64', cmdline: `console=ttyS0 jeos.version=${v.version}` })) },
    { path: p.linux, data: v.linux ?? peKernel(300_000, 0x8664, `linux ${v.version}`) },
    { path: p.initrd, data: v.initrd ?? peKernel(700_000, 0, `initrd ${v.version}`) },
    { path: p.about, data: Buffer.from(aboutText({ name: 'web', version: v.version, lockDigest, sourceDateEpoch: EPOCH, kernelVersion: '6.12.0-test' })) },
  ];
}

/** A disk of `espMiB` of ESP and 8 MiB after it, with these versions on its ESP. */
export async function makeDisk(path: string, versions: StandInVersion[], options: { espMiB?: number; lockDigest?: string } = {}): Promise<{ espOffset: number; espBytes: number }> {
  const espMiB = options.espMiB ?? 40;
  const espFirst = 2048;
  const espLast = espFirst + espMiB * 2048 - 1;
  const varLast = espLast + 8 * 2048;
  const sectors = varLast + 1 + 2048;
  const files: FatFile[] = [
    { path: 'EFI/BOOT/BOOTX64.EFI', data: peKernel(4096, 0x8664, 'loader') },
    { path: 'loader/loader.conf', data: Buffer.from('timeout 0\n') },
    { path: 'loader/entries.srel', data: Buffer.from('type1\n') },
    ...versions.flatMap((v) => versionFiles(v, options.lockDigest)),
  ];
  const fat = buildFat32(files, { sectors: espLast - espFirst + 1, hiddenSectors: espFirst, volumeId: 0x1234abcd, label: 'ESP', time: EPOCH });
  const id = (s: string) => guidFrom(createHash('sha256').update(s).digest());
  const pieces = [
    ...gptPieces(sectors, id('disk'), [
      { type: PARTITION_TYPES.esp, guid: id('esp'), first: espFirst, last: espLast, name: ESP_PART_NAME },
      { type: PARTITION_TYPES.var, guid: id('var'), first: espLast + 1, last: varLast, name: VAR_PART_NAME },
    ]),
    ...fat.pieces.map((p) => ({ offset: espFirst * 512 + p.offset, data: p.data })),
  ];
  const fh = await open(path, 'w');
  try {
    for (const p of pieces) await fh.write(p.data, 0, p.data.length, p.offset);
    await fh.truncate(sectors * 512);
  } finally {
    await fh.close();
  }
  return { espOffset: espFirst * 512, espBytes: (espLast - espFirst + 1) * 512 };
}

/** DIR/out as jeos build --format disk leaves it, enough for jeos disk add: disk.img and build.json. */
export async function makeBuild(dir: string, v: StandInVersion, lockDigest = 'b'.repeat(64)): Promise<string> {
  const out = join(dir, 'out');
  await mkdir(out, { recursive: true });
  await makeDisk(join(out, 'disk.img'), [v], { lockDigest });
  const record = { recordVersion: RECORD_VERSION, name: 'web', version: v.version, lockDigest, sourceDateEpoch: EPOCH, architecture: 'amd64', outputs: [] };
  await writeFile(join(out, 'build.json'), JSON.stringify(record));
  return out;
}

/** fsck.fat -n on the ESP, cut out of the disk: its exit status and what it said. */
export function fsckEsp(disk: string, esp: { espOffset: number; espBytes: number }, scratch: string): { status: number; output: string } {
  const part = join(scratch, 'esp.img');
  execFileSync('dd', [`if=${disk}`, `of=${part}`, 'bs=1M', `skip=${esp.espOffset / MiB}`, `count=${esp.espBytes / MiB}`, 'conv=sparse', 'status=none']);
  try {
    const output = execFileSync('fsck.vfat', ['-n', part], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    return { status: 0, output };
  } catch (e) {
    const err = e as { status: number; stdout: string; stderr: string };
    return { status: err.status, output: `${err.stdout}${err.stderr}` };
  }
}
