// Live tier, power cuts: the nginx example's disk (1.0, entry jeos-1.0+3.conf) booted under OVMF
// (TCG) with the disk opened cache=none, so what the guest wrote is on the file and what it had
// not yet written is lost, as with a power cut; QEMU is killed (SIGKILL) at one point of the
// boot: as the firmware starts the boot loader (systemd-boot renames the entry to count the try),
// as the kernel starts, in userspace (the ESP and /var mounted, nginx logging), and right after
// the boot completed (systemd-bless-boot has just renamed the entry). Each point starts from a
// fresh copy of the disk. After each kill the ESP passes fsck.fat -n (the dirty bit a mounted FAT
// carries aside), and jeos test --disk boots a good version on the same disk: 1.0, blessed.
// One boot at a time; about two minutes for the file here.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFile, cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe } from 'node:test';
import { runJeosLive, skippedEarlier, test } from '../live.js';
import { root } from '../cli/harness.js';
import { bootWatched, espSectors, fsckEsp as fsckDiskEsp, type Boot } from '../support/disk/uefi-watch.js';

const work = await mkdtemp(join(tmpdir(), 'jeos-power-cut-'));
const cacheDir = process.env.JEOS_CACHE_DIR ?? join(work, 'cache');
const needs = ['qemu-system-x86_64', 'fsck.fat'];
const missing = needs.filter((t) => spawnSync('sh', ['-c', `command -v ${t}`]).status !== 0);
const ovmf = spawnSync('test', ['-f', '/usr/share/OVMF/OVMF_CODE_4M.fd']).status === 0;
const skip = (missing.length > 0 || !ovmf) && `missing ${[...missing, ...(ovmf ? [] : ['OVMF'])].join(', ')} (apt-get install qemu-system-x86 dosfstools ovmf)`;
const jeos = (...args: string[]) => runJeosLive(cacheDir, ...args);
const project = join(work, 'nginx');
const disk = join(work, 'cut.img');

interface CutPoint {
  name: string;
  /** Kill once this is true of the boot so far; `delayMs` later. */
  when: (boot: Boot) => boolean;
  delayMs: number;
}

const points: CutPoint[] = [
  { name: 'the firmware starts the boot loader', when: (b) => b.timings.firmware !== null, delayMs: 0 },
  { name: 'the kernel starts', when: (b) => b.timings.kernel !== null, delayMs: 0 },
  { name: 'userspace (mounts, nginx logging)', when: (b) => b.timings.userspace !== null, delayMs: 2500 },
  { name: 'right after the boot completed (entry blessed)', when: (b) => b.timings.complete !== null, delayMs: 0 },
];

/** Boot the disk writable with cache=none and SIGKILL QEMU at the point; resolves with what the console said. */
async function bootAndCut(point: CutPoint): Promise<{ boot: Boot; console: string }> {
  const vm = await bootWatched({ disk });
  try {
    await vm.waitFor(`"${point.name}"`, (w) => point.when(w.log.current), 120_000);
    if (point.delayMs) await new Promise((ok) => setTimeout(ok, point.delayMs));
  } finally {
    await vm.kill();
  }
  return { boot: vm.log.current, console: vm.lines.join('\n') };
}

const fsckEsp = async () => fsckDiskEsp(disk, await espSectors(project), work);

const status = async () => JSON.parse((await jeos('disk', 'status', disk, '--json')).stdout);

describe('power cuts: QEMU killed while the guest writes, then a good version boots', { skip }, () => {
  before(async () => {
    await cp(join(root, 'examples/nginx'), project, { recursive: true });
    await rm(join(project, 'jeos.lock'), { force: true });
    await rm(join(project, 'out'), { recursive: true, force: true });
    const yaml = (await readFile(join(project, 'jeos.yaml'), 'utf8')).replace(/^outputs:.*$/m, 'outputs: [vm, disk]\nversion: "1.0"');
    await writeFile(join(project, 'jeos.yaml'), yaml);
  });
  after(() => rm(work, { recursive: true, force: true }));

  test('builds 1.0', async () => {
    const built = await jeos('build', project, '--quiet');
    assert.equal(built.code, 0, built.stderr + built.stdout);
  });

  for (const point of points) {
    test(`killed as ${point.name}: the ESP is clean and 1.0 boots and is blessed`, async (t) => {
      if (skippedEarlier(t)) return;
      await copyFile(join(project, 'out/disk.img'), disk);
      const cut = await bootAndCut(point);
      t.diagnostic(`killed; the boot's stages so far (ms): ${JSON.stringify(cut.boot.timings)}`);
      const fsck = await fsckEsp();
      assert.ok(fsck.ok, `fsck.fat -n after the cut:\n${fsck.out}`);
      const s = await status();
      assert.equal(s.versions.length, 1);
      t.diagnostic(`after the cut: ${s.versions[0].entry} (${s.versions[0].state})`);
      const r = await jeos('test', project, '--disk', '--image', disk, '--writable', '--json', '--timeout', '300');
      assert.equal(r.code, 0, `${r.stderr}\n${r.stdout}`);
      const result = JSON.parse(r.stdout);
      assert.equal(result.version, '1.0');
      const again = await status();
      assert.deepEqual([again.versions[0].entry, again.versions[0].state], ['jeos-1.0.conf', 'good']);
      const fsck2 = await fsckEsp();
      assert.ok(fsck2.ok, `fsck.fat -n after the next boot:\n${fsck2.out}`);
    });
  }
});
