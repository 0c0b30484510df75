// The ESP repair a disk's VM runs before it mounts the ESP (espRepairScript, espSalvageCleanup), run
// here by BusyBox's sh with dosfstools' real fsck.fat on FAT32 images made by mkfs.fat and filled by
// mtools, then damaged as a power cut leaves a FAT: clusters marked used that no file owns, a file
// whose chain runs past the last cluster, the dirty bit. The live power-cut test runs the same
// script in the guest (test/disk/update-power-cut.live.test.ts).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ESP_CLEAN_MARK, ESP_FSCK, espRepairScript, espSalvageCleanup } from './disk-boot.js';

const BUSYBOX = '/usr/bin/busybox';
const have = (t: string) => spawnSync('sh', ['-c', `command -v ${t}`]).status === 0;
const missing = [ESP_FSCK, BUSYBOX, 'mkfs.fat', 'mcopy', 'mtype'].filter((t) => !have(t));
const skip = missing.length > 0 && `missing ${missing.join(', ')} (apt-get install dosfstools busybox mtools)`;
const mtools = { ...process.env, MTOOLS_SKIP_CHECK: '1' };

/** Run shell text as the guest's script does: BusyBox's sh, $bb and $esp set. */
function runScript(text: string, esp: string): { status: number | null; out: string } {
  const r = spawnSync(BUSYBOX, ['sh', '-c', `bb=${BUSYBOX}\nesp=${esp}\n${text}`], { encoding: 'utf8' });
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

interface Geometry {
  bytesPerSector: number;
  fatStart: number;
  fatBytes: number;
  fats: number;
  clusters: number;
}

async function geometry(image: string): Promise<Geometry> {
  const b = (await readFile(image)).subarray(0, 512);
  const bytesPerSector = b.readUInt16LE(11);
  const reserved = b.readUInt16LE(14);
  const fats = b[16]!;
  const total = b.readUInt32LE(32);
  const perFat = b.readUInt32LE(36);
  const dataStart = reserved + fats * perFat;
  return { bytesPerSector, fatStart: reserved * bytesPerSector, fatBytes: perFat * bytesPerSector, fats, clusters: Math.floor((total - dataStart) / b[13]!) + 2 };
}

/** Set FAT entry `cluster` to `value` in every copy of the FAT. */
async function setFat(image: string, g: Geometry, cluster: number, value: number): Promise<void> {
  const data = await readFile(image);
  for (let i = 0; i < g.fats; i++) data.writeUInt32LE(value, g.fatStart + i * g.fatBytes + 4 * cluster);
  await writeFile(image, data);
}

describe('the ESP repaired before it is mounted: fsck.fat -a, then -n, as the disk\'s VM runs them', { skip }, () => {
  let dir: string;
  const kernel = Buffer.alloc(200_000, 7);
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'jeos-esp-repair-'));
    await writeFile(join(dir, 'jeos-2.0.linux'), kernel);
    await writeFile(join(dir, 'entry.conf'), 'title jeos 2.0\nlinux /jeos/jeos-2.0.linux\n');
  });
  after(() => rm(dir, { recursive: true, force: true }));

  async function esp(name: string): Promise<string> {
    const image = join(dir, name);
    const mk = spawnSync('mkfs.fat', ['-F', '32', '-n', 'ESP', '-C', image, '65536'], { encoding: 'utf8' });
    assert.equal(mk.status, 0, mk.stderr);
    for (const args of [['mmd', '-i', image, '::jeos', '::loader'], ['mcopy', '-i', image, join(dir, 'jeos-2.0.linux'), '::jeos/'], ['mcopy', '-i', image, join(dir, 'entry.conf'), '::loader/']]) {
      const r = spawnSync(args[0]!, args.slice(1), { env: mtools, encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
    }
    return image;
  }

  test('a clean ESP: nothing said, not a byte changed', async () => {
    const image = await esp('clean.img');
    const before = createHash('sha256').update(await readFile(image)).digest('hex');
    const r = runScript(espRepairScript(), image);
    assert.equal(r.status, 0, r.out);
    assert.equal(r.out, '');
    assert.equal(createHash('sha256').update(await readFile(image)).digest('hex'), before);
  });

  test('what a power cut leaves (lost clusters, a chain past the last cluster, the dirty bit) is repaired, the ESP is clean after, and the installed files are intact', async () => {
    const image = await esp('cut.img');
    const g = await geometry(image);
    // A file being written when the power went: two clusters marked used, in no directory.
    await setFat(image, g, g.clusters - 10, g.clusters - 9);
    await setFat(image, g, g.clusters - 9, 0x0fffffff);
    // A chain that points past the last cluster (the kernel's "FAT entry beyond EOF", which remounts the ESP read-only).
    await setFat(image, g, g.clusters - 20, g.clusters + 1000);
    const data = await readFile(image);
    data[0x41] = 1; // the dirty bit: mounted, never unmounted
    await writeFile(image, data);
    assert.notEqual(spawnSync(ESP_FSCK, ['-n', image]).status, 0, 'the damage is there before the repair');

    const r = runScript(espRepairScript(), image);
    assert.equal(r.status, 0, r.out);
    assert.match(r.out, /^jeos-disk: fsck\.fat -a on the ESP \(.*cut\.img\) exited 1: .*Reclaimed .* unused clusters/m);
    assert.match(r.out, new RegExp(`^jeos-disk: ${ESP_CLEAN_MARK.replace(/[()]/g, '\\$&')}$`, 'm'));
    const check = spawnSync(ESP_FSCK, ['-n', image], { encoding: 'utf8' });
    assert.equal(check.status, 0, check.stdout);
    const read = spawnSync('mtype', ['-i', image, '::jeos/jeos-2.0.linux'], { env: mtools, maxBuffer: 1 << 24 });
    assert.ok(read.stdout.equals(kernel), 'the installed kernel reads back byte for byte');
  });

  test('an ESP fsck.fat cannot repair is named, and the boot goes on', async () => {
    const image = await esp('broken.img');
    const data = await readFile(image);
    data.fill(0, 11, 36); // the BIOS parameter block: no geometry to check against
    await writeFile(image, data);
    const r = runScript(espRepairScript(), image);
    assert.equal(r.status, 0, 'the script never stops the boot');
    assert.match(r.out, /^jeos-disk: fsck\.fat -a on the ESP .* exited [1-9]/m);
    assert.match(r.out, /^jeos-disk: the ESP is still damaged after fsck\.fat -a: \S/m);
  });

  test('the chains fsck.fat -a saved as FSCKnnnn.REC are removed once the ESP is mounted, and nothing else', async () => {
    const mount = join(dir, 'mounted');
    await rm(mount, { recursive: true, force: true });
    spawnSync('mkdir', ['-p', join(mount, 'loader')]);
    for (const f of ['FSCK0000.REC', 'FSCK0001.REC', 'loader/FSCK0002.REC', 'FSCK.REC', 'notes.REC']) await writeFile(join(mount, f), 'x');
    const r = runScript(espSalvageCleanup(mount), '/dev/null');
    assert.equal(r.status, 0, r.out);
    assert.deepEqual(r.out.trim().split('\n'), ['FSCK0000.REC', 'FSCK0001.REC'].map((f) => `jeos-disk: removed ${f}, clusters of a write a power cut stopped that fsck.fat saved`));
    const left = spawnSync('find', [mount, '-type', 'f', '-printf', '%P\n'], { encoding: 'utf8' }).stdout.trim().split('\n').sort();
    assert.deepEqual(left, ['FSCK.REC', 'loader/FSCK0002.REC', 'notes.REC']);
  });
});
