import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ImageTree } from '../../tree/index.js';
import { buildElf } from '../../../test/support/elf/synthetic.js';
import { EM_386 } from '../../elf/index.js';
import { materialize } from '../../../test/support/configure/materialize.js';
import { buildLdCache, configureLdSo, libcmp } from './ld-so.js';
import type { EffectContext } from './context.js';

const TRIPLET = 'usr/lib/x86_64-linux-gnu';
const GENERATOR = 'ldconfig (Debian GLIBC 2.41-12) stable release version 2.41';

function mergedUsr(): ImageTree {
  const tree = new ImageTree();
  for (const d of ['usr/bin', 'usr/sbin', 'usr/lib', 'usr/lib64', 'etc']) tree.mkdirp(d);
  tree.symlink('bin', 'usr/bin');
  tree.symlink('sbin', 'usr/sbin');
  tree.symlink('lib', 'usr/lib');
  tree.symlink('lib64', 'usr/lib64');
  return tree;
}

const lib = (soname?: string, extra: Parameters<typeof buildElf>[0] = {}): Buffer => buildElf({ ...(soname ? { soname } : {}), needed: ['libc.so.6'], ...extra });

/**
 * A tree with the cases ldconfig distinguishes. `forGlibc236` leaves out the two cases
 * where this machine's bookworm ldconfig (2.36) differs from trixie's (2.41), which the
 * effect follows: 2.36 does not skip *.dpkg-new files, and gives a 32-bit library that
 * does not link libc.so.6 the old FLAG_ELF instead of FLAG_ELF_LIBC6.
 */
function sampleTree(forGlibc236 = false): ImageTree {
  const tree = mergedUsr();
  const meta = { mode: 0o644, uid: 0, gid: 0, mtime: 1_700_000_000 };
  const put = (path: string, data: Buffer | string): void => void tree.writeFile(path, data, meta);
  put(`${TRIPLET}/libc.so.6`, lib('libc.so.6'));
  put(`${TRIPLET}/ld-linux-x86-64.so.2`, lib('ld-linux-x86-64.so.2'));
  put(`${TRIPLET}/libfoo.so.1.2.3`, lib('libfoo.so.1'));
  tree.symlink(`${TRIPLET}/libfoo.so.1`, 'libfoo.so.1.2.3');
  tree.symlink(`${TRIPLET}/libfoo.so`, 'libfoo.so.1');
  put(`${TRIPLET}/libbar.so.2.0.0`, lib('libbar.so.2')); // no soname link: ldconfig makes it
  put(`${TRIPLET}/libnosoname.so.3`, lib());
  put(`${TRIPLET}/libx.so.9`, lib('libx.so.9'));
  put(`${TRIPLET}/libx.so.10`, lib('libx.so.10'));
  put(`${TRIPLET}/libi386.so.1`, buildElf({ class: 32, machine: EM_386, soname: 'libi386.so.1', ...(forGlibc236 ? { needed: ['libc.so.6'] } : {}) }));
  put(`${TRIPLET}/libc.so`, '/* GNU ld script */\nGROUP ( /lib/x86_64-linux-gnu/libc.so.6 )\n');
  if (!forGlibc236) put(`${TRIPLET}/libnew.so.1.dpkg-new`, lib('libnew.so.1'));
  put(`${TRIPLET}/libstatic.so.1`, buildElf({ soname: 'libstatic.so.1', type: 2 }));
  put(`${TRIPLET}/notalib.so.1`, lib('notalib.so.1'));
  tree.symlink(`${TRIPLET}/libdangling.so.1`, 'libgone.so.1');
  put(`${TRIPLET}/glibc-hwcaps/x86-64-v3/libfoo.so.1.2.3`, lib('libfoo.so.1', { isaNeeded: 0b100 }));
  tree.mkdirp(`${TRIPLET}/glibc-hwcaps/x86-64-v4`);
  put('usr/lib/libtop.so.1', lib('libtop.so.1'));
  put('opt/app/lib/libdup.so.1', lib('libdup.so.1'));
  put(`${TRIPLET}/libdup.so.1`, lib('libdup.so.1'));
  put('opt/app/lib/libapp.so.0', lib('libapp.so.0'));
  put('usr/local/lib/liblocal.so.5', lib('liblocal.so.5'));
  put('etc/ld.so.conf', 'include /etc/ld.so.conf.d/*.conf\n');
  put('etc/ld.so.conf.d/libc.conf', '# libc default configuration\n/usr/local/lib\n');
  put('etc/ld.so.conf.d/x86_64-linux-gnu.conf', '# Multiarch support\n/usr/local/lib/x86_64-linux-gnu\n/lib/x86_64-linux-gnu\n/usr/lib/x86_64-linux-gnu\n');
  put('etc/ld.so.conf.d/zz-app.conf', '/opt/app/lib/   \nhwcap 0 nosegneg\n');
  return tree;
}

test('libcmp orders like _dl_cache_libcmp: numbers numerically, digits after other characters', () => {
  const c = (a: string, b: string): number => Math.sign(libcmp(Buffer.from(a), Buffer.from(b), true));
  assert.equal(c('libx.so.10', 'libx.so.9'), 1);
  assert.equal(c('libx.so.9', 'libx.so.10'), -1);
  assert.equal(c('libz.so.1', 'libz.so'), 1);
  assert.equal(c('libfoo1.so', 'libfoo.so'), 1);
  assert.equal(c('libx.so.01', 'libx.so.1'), 0);
  assert.equal(c('liba.so', 'libb.so'), -1);
  // A byte above 127 is a negative char on x86, and unsigned on arm64.
  assert.equal(Math.sign(libcmp(Buffer.from([0x61, 0xe9]), Buffer.from([0x61, 0x62]), true)), -1);
  assert.equal(Math.sign(libcmp(Buffer.from([0x61, 0xe9]), Buffer.from([0x61, 0x62]), false)), 1);
});

test('cache entries: soname links, dev links, hwcaps first, ld.so.conf order, skipped files', () => {
  const tree = sampleTree();
  const { entries, links, cache } = buildLdCache(tree, 'amd64', GENERATOR);
  assert.deepEqual(
    entries.map((e) => `${e.soname} ${e.path} ${e.flags.toString(16)}${e.hwcaps ? ` ${e.hwcaps}` : ''}`),
    [
      'libx.so.10 /lib/x86_64-linux-gnu/libx.so.10 303',
      'libx.so.9 /lib/x86_64-linux-gnu/libx.so.9 303',
      'libtop.so.1 /lib/libtop.so.1 303',
      'libnosoname.so.3 /lib/x86_64-linux-gnu/libnosoname.so.3 303',
      'liblocal.so.5 /usr/local/lib/liblocal.so.5 303',
      'libi386.so.1 /lib/x86_64-linux-gnu/libi386.so.1 3',
      'libfoo.so.1 /lib/x86_64-linux-gnu/glibc-hwcaps/x86-64-v3/libfoo.so.1.2.3 303 x86-64-v3',
      'libfoo.so.1 /lib/x86_64-linux-gnu/libfoo.so.1 303',
      'libfoo.so /lib/x86_64-linux-gnu/libfoo.so 303',
      'libdup.so.1 /lib/x86_64-linux-gnu/libdup.so.1 303',
      'libdup.so.1 /opt/app/lib/libdup.so.1 303',
      'libc.so.6 /lib/x86_64-linux-gnu/libc.so.6 303',
      'libbar.so.2 /lib/x86_64-linux-gnu/libbar.so.2 303',
      'libapp.so.0 /opt/app/lib/libapp.so.0 303',
      'ld-linux-x86-64.so.2 /lib/x86_64-linux-gnu/ld-linux-x86-64.so.2 303',
    ],
  );
  assert.deepEqual(links, [`${TRIPLET}/libbar.so.2`]);
  assert.equal(tree.get(`${TRIPLET}/libbar.so.2`)?.kind, 'symlink');
  assert.equal(cache.subarray(0, 20).toString('latin1'), 'glibc-ld.so.cache1.1');
  assert.equal(cache.readUInt32LE(20), entries.length);
  assert.ok(cache.subarray(cache.length - GENERATOR.length).equals(Buffer.from(GENERATOR)));
});

test('an architecture without ldconfig rules is reported, not guessed', () => {
  const tree = sampleTree();
  const ctx = {
    tree,
    packages: [],
    actions: [{ action: { kind: 'ldconfig' }, pkg: 'libc-bin', script: 'postinst', command: 'line 3: ldconfig' }],
    options: { architecture: 's390x', sourceDateEpoch: 0, os: { imageId: 'x', imageVersion: '1' } },
  } as EffectContext;
  const report = configureLdSo(ctx);
  assert.match(report.summary, /not built/);
  assert.equal(tree.get('etc/ld.so.cache'), undefined);
  assert.match(ctx.actions[0]!.failed!, /s390x/);
});

const hasLdconfig = spawnSync('ldconfig', ['--version']).status === 0;
const isRoot = process.getuid?.() === 0;

/** The generator string inside a cache file (from its extension directory). */
function generatorOf(cache: Buffer): string {
  const ext = cache.readUInt32LE(32);
  const count = cache.readUInt32LE(ext + 4);
  for (let i = 0; i < count; i++) {
    const s = ext + 8 + i * 16;
    if (cache.readUInt32LE(s) === 0) return cache.subarray(cache.readUInt32LE(s + 8), cache.readUInt32LE(s + 8) + cache.readUInt32LE(s + 12)).toString();
  }
  throw new Error('no generator');
}

test('byte-identical to the real ldconfig -r for the same tree', { skip: !hasLdconfig || !isRoot ? 'needs ldconfig and root (ldconfig -r chroots)' : false }, async () => {
  const dir = await mkdtemp(join(tmpdir(), 'jeos-ldso-'));
  try {
    const tree = sampleTree(true);
    await materialize(tree, dir);
    execFileSync('ldconfig', ['-r', dir, '-C', '/etc/ld.so.cache.real']);
    const real = await readFile(join(dir, 'etc/ld.so.cache.real'));
    const ours = buildLdCache(tree, 'amd64', generatorOf(real));
    assert.equal(ours.cache.toString('hex'), real.toString('hex'));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('the real ldconfig -p reads the cache and lists every library', { skip: !hasLdconfig ? 'needs ldconfig' : false }, async () => {
  const dir = await mkdtemp(join(tmpdir(), 'jeos-ldso-'));
  try {
    const { cache, entries } = buildLdCache(sampleTree(), 'amd64', GENERATOR);
    await writeFile(join(dir, 'ld.so.cache'), cache);
    const out = execFileSync('ldconfig', ['-p', '-C', join(dir, 'ld.so.cache')], { env: { ...process.env, LC_ALL: 'C' } }).toString();
    assert.match(out, new RegExp(`^${entries.length} libs found in cache`));
    for (const e of entries) assert.ok(out.includes(`\t${e.soname} (`) && out.includes(`=> ${e.path}\n`), `${e.soname} => ${e.path} in:\n${out}`);
    assert.match(out, /libfoo\.so\.1 \(libc6,x86-64, hwcap: "x86-64-v3"\) => \/lib\/x86_64-linux-gnu\/glibc-hwcaps\/x86-64-v3\/libfoo\.so\.1\.2\.3/);
    assert.match(out, /libi386\.so\.1 \(libc6\) =>/);
    assert.match(out, new RegExp(`Cache generated by: ${GENERATOR.replace(/[().]/g, '\\$&')}`));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
