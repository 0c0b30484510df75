// jeos disk add and jeos disk status on small stand-in disks (test/support/disk): the ESP edited
// in place stays clean for fsck.fat -n and readable by mtools, a version is added with +3 and
// boots next, every refusal leaves the disk byte for byte as it was, pruning keeps the newest
// good version, and a kill -9 at each point of an add leaves the old version bootable.
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, open, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { FatVolume } from '../../outputs/disk/index.js';
import { EPOCH, fsckEsp, makeBuild, makeDisk, peKernel, versionFiles } from '../../../test/support/disk/esp-disk.js';
import { addVersion, diskStatus, openJeosDisk } from './index.js';

const missing = ['fsck.vfat', 'mtype', 'dd'].filter((t) => spawnSync('sh', ['-c', `command -v ${t}`]).status !== 0);
const skip = missing.length > 0 && `missing ${missing.join(', ')} (apt-get install dosfstools mtools)`;
const sha = async (p: string) => createHash('sha256').update(await readFile(p)).digest('hex');
const mtools = { ...process.env, MTOOLS_SKIP_CHECK: '1' };
const mtype = (disk: string, path: string) => execFileSync('mtype', ['-i', `${disk}@@${1 << 20}`, `::${path}`], { env: mtools, maxBuffer: 64 << 20 });

describe('jeos disk add and status', { skip }, () => {
  let work: string;
  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'jeos-disk-add-'));
  });
  after(() => rm(work, { recursive: true, force: true }));

  test('the ESP editor: files and directories made and removed in place stay clean for fsck.fat and readable by mtools', async () => {
    const disk = join(work, 'edit.img');
    const esp = await makeDisk(disk, [{ version: '1.0' }]);
    const fh = await open(disk, 'r+');
    const v = await FatVolume.open(fh, esp.espOffset, esp.espBytes, { time: EPOCH });
    const big = peKernel(1_234_567, 0, 'big');
    await v.mkdir('', 'extra');
    await v.createFile('extra', 'a long file name.bin', big);
    // Many names, so the directory grows past its first cluster.
    for (let i = 0; i < 40; i++) await v.createFile('extra', `name number ${i} with a long tail.conf`, Buffer.from(`file ${i}\n`));
    await v.remove('jeos/1.0/initrd');
    await v.createFile('jeos/1.0', 'initrd', Buffer.from('smaller\n'));
    await v.finish();
    assert.deepEqual(await v.readFile('extra/A LONG FILE NAME.BIN'), big, 'names compare without case');
    await fh.close();
    const r = fsckEsp(disk, esp, work);
    assert.equal(r.status, 0, r.output);
    assert.deepEqual(mtype(disk, 'extra/a long file name.bin'), big);
    assert.equal(mtype(disk, 'extra/name number 39 with a long tail.conf').toString(), 'file 39\n');
    assert.equal(mtype(disk, 'jeos/1.0/initrd').toString(), 'smaller\n');
    const fh2 = await open(disk, 'r+');
    const again = await FatVolume.open(fh2, esp.espOffset, esp.espBytes);
    await again.remove('extra');
    await again.finish();
    await fh2.close();
    assert.equal(fsckEsp(disk, esp, work).status, 0);
  });

  test('a newer version is added with +3 and boots next; status shows each version, its state, tries and lock', async () => {
    const disk = join(work, 'add.img');
    const esp = await makeDisk(disk, [{ version: '1.0', entry: 'jeos-1.0.conf' }], { lockDigest: '1'.repeat(64) });
    const out = await makeBuild(join(work, 'v2'), { version: '2.0' }, '2'.repeat(64));
    const r = await addVersion({ disk, outDir: out });
    assert.deepEqual([r.version, r.entry, r.next, r.removed], ['2.0', 'loader/entries/jeos-2.0+3.conf', '2.0', []]);
    assert.equal(fsckEsp(disk, esp, work).status, 0);
    const s = await diskStatus(disk);
    assert.deepEqual(
      s.versions.map((v) => [v.version, v.entry, v.state, v.triesLeft, v.next, v.lockDigest?.[0]]),
      [
        ['2.0', 'jeos-2.0+3.conf', 'untried', 3, true, '2'],
        ['1.0', 'jeos-1.0.conf', 'good', null, false, '1'],
      ],
    );
    const src = versionFiles({ version: '2.0' });
    assert.deepEqual(mtype(disk, 'jeos/2.0/linux'), src[1]!.data);
    assert.deepEqual(mtype(disk, 'jeos/2.0/initrd'), src[2]!.data);
    assert.match(mtype(disk, 'loader/entries/jeos-2.0+3.conf').toString(), /^linux \/jeos\/2\.0\/linux$/m);
  });

  test('a version that used its tries sorts last: the good one boots next; a trying one shows its tries', async () => {
    const disk = join(work, 'order.img');
    await makeDisk(disk, [
      { version: '1.0', entry: 'jeos-1.0.conf' },
      { version: '2.0', entry: 'jeos-2.0+1-2.conf' },
      { version: '3.0', entry: 'jeos-3.0+0-3.conf' },
    ]);
    const s = await diskStatus(disk);
    assert.deepEqual(s.versions.map((v) => [v.version, v.state, v.triesLeft, v.triesUsed]), [
      ['2.0', 'trying', 1, 2],
      ['1.0', 'good', null, 0],
      ['3.0', 'bad', 0, 3],
    ]);
    assert.equal(s.next, '2.0');
  });

  test('refusals leave the disk byte for byte as it was: not newer, another architecture, a damaged entry, a full ESP, not a jeos disk', async () => {
    const cases: Array<[string, Parameters<typeof makeDisk>[1], Parameters<typeof makeBuild>[1], string, { espMiB?: number }?]> = [
      ['not newer', [{ version: '2.0' }], { version: '2.0~rc1' }, 'E_DISK_VERSION_NOT_NEWER'],
      ['the same', [{ version: '2.0' }], { version: '2.0' }, 'E_DISK_VERSION_NOT_NEWER'],
      ['aa64 kernel', [{ version: '1.0' }], { version: '2.0', linux: peKernel(4096, 0xaa64) }, 'E_DISK_ARCH'],
      ['damaged entry', [{ version: '1.0', text: 'title x\n\x01\x02garbage' }], { version: '2.0' }, 'E_DISK_ENTRY_CORRUPT'],
      ['full ESP', [{ version: '1.0', initrd: Buffer.alloc(20 << 20, 1) }], { version: '2.0', initrd: Buffer.alloc(20 << 20, 2) }, 'E_DISK_ESP_FULL', { espMiB: 34 }],
    ];
    for (const [name, onDisk, adding, code, opts] of cases) {
      const disk = join(work, `refuse-${name.replace(/ /g, '-')}.img`);
      await makeDisk(disk, onDisk, opts);
      const before = await sha(disk);
      const out = await makeBuild(join(work, `refuse-${name.replace(/ /g, '-')}`), adding);
      await assert.rejects(addVersion({ disk, outDir: out }), (e: Error & { code?: string; hint?: string }) => e.code === code && !!e.hint, name);
      assert.equal(await sha(disk), before, `${name}: the disk is unchanged`);
    }
    const notOurs = join(work, 'zeros.img');
    await writeFile(notOurs, Buffer.alloc(1 << 20));
    const out = await makeBuild(join(work, 'v9'), { version: '9.0' });
    await assert.rejects(addVersion({ disk: notOurs, outDir: out }), (e: Error & { code?: string }) => e.code === 'E_DISK_NOT_JEOS');
    await writeFile(notOurs, Buffer.concat([Buffer.from([0x51, 0x46, 0x49, 0xfb]), Buffer.alloc(4096)]));
    await assert.rejects(diskStatus(notOurs), (e: Error & { code?: string; message: string }) => e.code === 'E_DISK_NOT_JEOS' && /qcow2/.test(e.message));
  });

  test('at most --keep versions: the bad ones go first, then the oldest, never the newest good one', async () => {
    const disk = join(work, 'keep.img');
    const esp = await makeDisk(disk, [
      { version: '1.0', entry: 'jeos-1.0.conf' },
      { version: '2.0', entry: 'jeos-2.0.conf' },
      { version: '3.0', entry: 'jeos-3.0+0-3.conf' },
    ]);
    const r4 = await addVersion({ disk, outDir: await makeBuild(join(work, 'k4'), { version: '4.0' }) });
    assert.deepEqual(r4.removed, ['3.0'], 'the bad version goes first');
    const r5 = await addVersion({ disk, outDir: await makeBuild(join(work, 'k5'), { version: '5.0' }), keep: 2 });
    assert.deepEqual(r5.removed, ['1.0', '4.0'], 'the oldest, and the untried 4.0, but never 2.0, the newest good one');
    assert.deepEqual((await diskStatus(disk)).versions.map((v) => v.version), ['5.0', '2.0']);
    assert.equal(fsckEsp(disk, esp, work).status, 0);
    const s = await diskStatus(disk);
    assert.deepEqual(s.leftovers, []);
  });
});

describe('jeos disk add killed (SIGKILL) at each point', { skip }, () => {
  const POINTS = ['start', 'removed-entry:1.0', 'pruned', 'linux-data', 'linux', 'initrd-data', 'initrd', 'before-entry', 'entry-data', 'entry'];
  let work: string;
  let script: string;
  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'jeos-disk-crash-'));
    script = join(work, 'add.mts');
    await writeFile(
      script,
      `import { addVersion } from ${JSON.stringify(new URL('./index.ts', import.meta.url).href)};
await addVersion({ disk: process.argv[2]!, outDir: process.argv[3]!, keep: 2 });
process.stdout.write('added\\n');
`,
    );
  });
  after(() => rm(work, { recursive: true, force: true }));

  for (const point of POINTS) {
    test(`killed at ${point}: the good version is whole, the new one absent or whole, fsck.fat sees at worst lost clusters; the next add finishes`, async () => {
      const disk = join(work, `${point.replace(/[:.]/g, '-')}.img`);
      // 1.0 and 2.0 on the disk, keep 2: adding 3.0 first removes 1.0 (not the good 2.0).
      const esp = await makeDisk(disk, [{ version: '1.0', entry: 'jeos-1.0.conf' }, { version: '2.0', entry: 'jeos-2.0.conf' }]);
      const out = await makeBuild(join(work, `b-${point.replace(/[:.]/g, '-')}`), { version: '3.0' });
      const repoRoot = fileURLToPath(new URL('../../..', import.meta.url));
      const child = spawn(process.execPath, ['--import', 'tsx', script, disk, out], { cwd: repoRoot, env: { ...process.env, JEOS_TEST_CRASH_AT: `disk-add:${point}` }, stdio: ['ignore', 'pipe', 'pipe'] });
      let output = '';
      child.stdout.on('data', (d: Buffer) => (output += d.toString()));
      child.stderr.on('data', (d: Buffer) => (output += d.toString()));
      const [, signal] = (await new Promise((resolve) => child.on('exit', (...a) => resolve(a)))) as [number | null, string | null];
      assert.equal(signal, 'SIGKILL', `the child stopped at ${point}: ${output}`);

      const f = fsckEsp(disk, esp, work);
      const problems = f.output.split('\n').filter((l) => /^\S/.test(l) && !/^fsck\.fat|^Leaving|^\S+: \d+ files|^Reclaimed|^Free cluster summary|^\s*$|^\/.*esp\.img/.test(l));
      assert.ok(f.status === 0 || problems.every((l) => /unused clusters|lost/i.test(l)), `fsck.fat -n: ${f.output}`);
      const s = await diskStatus(disk);
      const good = s.versions.find((v) => v.version === '2.0');
      assert.equal(good?.state, 'good', 'the good version keeps its entry');
      const d = await openJeosDisk(disk, { write: false });
      try {
        const want = versionFiles({ version: '2.0' });
        assert.deepEqual(await d.volume.readFile('jeos/2.0/linux'), want[1]!.data);
        assert.deepEqual(await d.volume.readFile('jeos/2.0/initrd'), want[2]!.data);
        const added = s.versions.find((v) => v.version === '3.0');
        if (added) {
          const src = versionFiles({ version: '3.0' });
          assert.deepEqual(await d.volume.readFile('jeos/3.0/linux'), src[1]!.data, 'an entry only with its whole kernel');
          assert.deepEqual(await d.volume.readFile('jeos/3.0/initrd'), src[2]!.data, 'an entry only with its whole initrd');
          assert.equal(s.next, '3.0');
        } else assert.equal(s.next, '2.0');
      } finally {
        await d.close();
      }
      // The next add (after a kill past the entry, the same version is already there: a newer one).
      const again = await addVersion({ disk, outDir: await makeBuild(join(work, `c-${point.replace(/[:.]/g, '-')}`), { version: '4.0' }), keep: 3 });
      assert.equal(again.next, '4.0');
      const clean = fsckEsp(disk, esp, work);
      assert.equal(clean.status, 0, clean.output);
    });
  }
});
