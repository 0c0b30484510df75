/**
 * The depmod files jeos writes, checked against kmod itself: the host's depmod run
 * on the same modules must produce the same text files and the same index contents
 * (kmod 34 and later lay the trie out as jeos does, byte for byte; older kmod writes
 * the same trie in another node order), and the host's modprobe must resolve
 * names, aliases and built-ins from jeos's indexes alone.
 *
 * With a real Debian kernel package ($JEOS_TEST_KERNEL_DEB, or a
 * linux-image-*-cloud-amd64 .deb in apt's cache) the same checks run on its modules.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import type { ImageTree } from '../../tree/index.js';
import { DEFAULT_MODULES, DEPMOD_FILES, findKernel, KmodIndex, trimKernelModules } from '../index.js';
import { dumpIndex, exportModules, findKernelDeb, FIXTURE_MODULES, hostKmodVersion, syntheticKernelTree, TEST_VERSION, treeFromDir } from '../../../test/support/vm/test-kernel.js';

const DIR = `usr/lib/modules/${TEST_VERSION}`;
const kmod = hostKmodVersion();
const noKmod = kmod === undefined && 'kmod (depmod, modprobe) is not installed: apt-get install kmod';
const TOOL_PATH = `${process.env.PATH}:/usr/sbin:/sbin`;

const work = mkdtempSync(join(tmpdir(), 'jeos-depmod-'));
after(() => rmSync(work, { recursive: true, force: true }));
let scratch = 0;

describe('kmod index', () => {
  test('the trie and its bytes, as depmod lays them out (pre-order, kmod 34)', () => {
    const index = new KmodIndex();
    index.insert('ab', 'x', 0);
    index.insert('ac', 'y', 1);
    const expected = [
      'b007f457 00020001 2000000c', // magic, version 2.1, root at 12 with children
      '61 61 20000012', // root: children 'a'..'a'; 'a' at 18 with children
      '62 63 4000001c 40000026', // 'a': children 'b'..'c'; both at 28 and 38 with values
      '00000001 00000000 7800', // "ab": one value, priority 0, "x"
      '00000001 00000001 7900', // "ac": one value, priority 1, "y"
    ];
    assert.equal(index.toBuffer().toString('hex'), expected.join('').replaceAll(' ', ''));
  });

  test('values are kept by priority; equal priorities latest first (as depmod inserts them)', () => {
    const index = new KmodIndex();
    for (const [key, value, priority] of [['virtio:d1', 'a', 5], ['virtio:d1', 'b', 1], ['virtio:d1', 'c', 5], ['virtio', 'd', 0], ['v', 'e', 2]] as const) {
      index.insert(key, value, priority);
    }
    assert.deepEqual(dumpIndex(index.toBuffer()), [
      ['v', 2, 'e'],
      ['virtio', 0, 'd'],
      ['virtio:d1', 1, 'b'],
      ['virtio:d1', 5, 'c'],
      ['virtio:d1', 5, 'a'],
    ]);
  });

  test('keys must be 7-bit ASCII', () => {
    assert.throws(() => new KmodIndex().insert('café', 'x', 0), { code: 'E_VM_MODULE_INDEX' });
  });
});

/** Run the host's depmod on a copy of the modules jeos kept, and compare every file. */
function compareWithDepmod(tree: ImageTree, modulesDir: string, version: string): void {
  const ours = exportModules(tree, modulesDir, join(work, `ours-${scratch}`));
  const root = join(work, `depmod-${scratch++}`);
  const theirs = exportModules(tree, modulesDir, root);
  for (const name of DEPMOD_FILES) rmSync(join(theirs, name));
  execFileSync('depmod', ['-b', root, version], { env: { ...process.env, PATH: TOOL_PATH } });
  for (const name of DEPMOD_FILES) {
    let depmods: Buffer;
    try {
      depmods = readFileSync(join(theirs, name));
    } catch {
      assert.ok(name === 'modules.weakdep' && kmod! < 33, `depmod wrote no ${name}`);
      continue;
    }
    const jeos = readFileSync(join(ours, name));
    if (name === 'modules.symbols') {
      // depmod lists symbols in its hash table's order.
      const lines = (b: Buffer) => b.toString().split('\n').sort();
      assert.deepEqual(lines(jeos), lines(depmods), name);
    } else if (name.endsWith('.bin') && kmod! < 34) {
      assert.deepEqual(dumpIndex(jeos), dumpIndex(depmods), `${name}: same keys, priorities and values`);
    } else {
      assert.ok(jeos.equals(depmods), `${name} differs from depmod's:\n${jeos.toString('latin1').slice(0, 2000)}\n---\n${depmods.toString('latin1').slice(0, 2000)}`);
    }
  }
}

/** modprobe --show-depends, reading only the files jeos wrote. */
function showDepends(tree: ImageTree, modulesDir: string, version: string, name: string): string[] {
  const root = join(work, `modprobe-${scratch++}`);
  exportModules(tree, modulesDir, root);
  const empty = join(work, `no-config-${scratch++}`);
  execFileSync('mkdir', ['-p', empty]);
  const r = spawnSync('modprobe', ['-C', empty, '-d', root, '-S', version, '--show-depends', name], { encoding: 'utf8', env: { ...process.env, PATH: TOOL_PATH } });
  if (r.status !== 0) return [`error: ${r.stderr.trim()}`];
  return r.stdout
    .trim()
    .split('\n')
    .map((l) => l.replace(`${root}/lib/modules/${version}/`, '').replace(`${root}/usr/lib/modules/${version}/`, '').trim());
}

describe('depmod files against kmod (synthetic kernel)', { skip: noKmod }, () => {
  test('every module kept: the same files as depmod', async () => {
    const tree = syntheticKernelTree();
    const all = FIXTURE_MODULES.map((m) => m.path.slice(m.path.lastIndexOf('/') + 1).replace(/\.ko.*$/, ''));
    const r = await trimKernelModules(tree, TEST_VERSION, all);
    assert.equal(r.drop.length, 0);
    compareWithDepmod(tree, DIR, TEST_VERSION);
    assert.equal(
      tree.readFile(`${DIR}/modules.devname`)!.toString(),
      '# Device nodes to trigger on-demand module loading.\nfuse fuse c10:229\n',
    );
  });

  test('after trimming to the default set: the same files as depmod on what is left', async () => {
    const tree = syntheticKernelTree();
    await trimKernelModules(tree, TEST_VERSION, [...DEFAULT_MODULES, 'erofs', 'squashfs', 'overlay']);
    compareWithDepmod(tree, DIR, TEST_VERSION);
  });

  test("modprobe finds modules by name and alias, and built-ins, in jeos's indexes; dropped ones are gone", async () => {
    const tree = syntheticKernelTree();
    await trimKernelModules(tree, TEST_VERSION, [...DEFAULT_MODULES, 'erofs']);
    const show = (name: string) => showDepends(tree, DIR, TEST_VERSION, name);
    assert.deepEqual(show('virtio_net'), ['insmod kernel/net/core/failover.ko.zst', 'insmod kernel/drivers/net/net_failover.ko.xz', 'insmod kernel/drivers/net/virtio_net.ko.xz']);
    assert.deepEqual(show('virtio:d00000001v00001AF4'), show('virtio_net'), 'by modalias, as udev asks');
    assert.deepEqual(show('virtio_pci'), ['builtin virtio_pci']);
    // By alias; libcrc32c's soft dependency resolves through the built-in alias index,
    // erofs's through modules.alias.bin to lz4 (and its dependency), loaded before erofs.
    assert.deepEqual(show('fs-erofs'), [
      'builtin crc32c_generic',
      'insmod kernel/lib/libcrc32c.ko.xz',
      'insmod kernel/lib/lz4/lz4_compress.ko.xz',
      'insmod kernel/crypto/lz4.ko.xz',
      'insmod kernel/fs/erofs/erofs.ko.xz',
    ]);
    assert.match(show('e1000')[0]!, /^error: .*e1000 not found/);
  });
});

const kernelDeb = findKernelDeb();

describe('a real Debian kernel package', { skip: !kernelDeb && 'no kernel package: set JEOS_TEST_KERNEL_DEB to a linux-image-*-cloud-amd64 .deb' }, () => {
  let tree: ImageTree;
  const load = () => {
    if (tree) return tree;
    const dir = join(work, 'deb');
    execFileSync('dpkg-deb', ['-x', kernelDeb!, dir]);
    return (tree = treeFromDir(dir));
  };

  test('the package ships no depmod files; trimming to the default set keeps a consistent, small module tree', async () => {
    const t = load();
    const kernel = findKernel(t);
    assert.equal(t.get(`${kernel.modulesDir}/modules.dep`), undefined, 'depmod runs in postinst, jeos writes modules.dep');
    const r = await trimKernelModules(t, kernel.version, [...DEFAULT_MODULES, 'erofs', 'squashfs', 'overlay']);
    const kept = new Set(r.keep.map((k) => k.name));
    for (const name of ['virtio_net', 'net_failover', 'failover', 'virtio_blk', 'erofs', 'squashfs', 'overlay']) assert.ok(kept.has(name) || r.builtin.includes(name), `${name} kept or built in`);
    assert.ok(r.drop.length > 500, `most modules dropped (${r.drop.length})`);
    const deps = t.readFile(`${kernel.modulesDir}/modules.dep`)!.toString().trim().split('\n');
    assert.equal(deps.length, r.keep.length);
    for (const line of deps) for (const path of line.replace(':', '').split(' ')) assert.ok(t.get(`${kernel.modulesDir}/${path}`), `${path} in modules.dep is in the tree`);
    if (kmod !== undefined) {
      compareWithDepmod(t, kernel.modulesDir!, kernel.version);
      assert.deepEqual(showDepends(t, kernel.modulesDir!, kernel.version, 'virtio_net').slice(-1), [`insmod ${r.keep.find((k) => k.name === 'virtio_net')!.path.slice(kernel.modulesDir!.length + 1)}`]);
    }
  });
});
