/**
 * The PVH kernel: synthetic bzImages (the x86 boot header's payload fields, a
 * payload compressed by the real zstd, xz and gzip, the kernel build's trailing
 * size) around small ELF files with and without Xen's PHYS32_ENTRY note. The
 * slow runner tests boot Debian's real kernel this way.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, readFile, readdir, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { bootKernel, bzImagePayload, hasPvhEntry, PVH_CACHE_KEEP } from './pvh.js';

/** A 64-bit little-endian ELF file whose one program header is a PT_NOTE holding `notes`. */
function elfWithNotes(notes: { name: string; type: number; desc: Buffer }[], padding = 4096): Buffer {
  const body = Buffer.concat(
    notes.map(({ name, type, desc }) => {
      const nameBytes = Buffer.from(`${name}\0`, 'latin1');
      const head = Buffer.alloc(12);
      head.writeUInt32LE(nameBytes.length, 0);
      head.writeUInt32LE(desc.length, 4);
      head.writeUInt32LE(type, 8);
      const pad = (b: Buffer) => Buffer.concat([b, Buffer.alloc((4 - (b.length % 4)) % 4)]);
      return Buffer.concat([head, pad(nameBytes), pad(desc)]);
    }),
  );
  const ehdr = Buffer.alloc(64);
  Buffer.from([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1]).copy(ehdr);
  ehdr.writeUInt16LE(2, 16); // ET_EXEC
  ehdr.writeUInt16LE(62, 18); // x86-64
  ehdr.writeBigUInt64LE(64n, 32); // e_phoff
  ehdr.writeUInt16LE(64, 52);
  ehdr.writeUInt16LE(56, 54);
  ehdr.writeUInt16LE(1, 56);
  const phdr = Buffer.alloc(56);
  phdr.writeUInt32LE(4, 0); // PT_NOTE
  phdr.writeBigUInt64LE(120n, 8);
  phdr.writeBigUInt64LE(BigInt(body.length), 32);
  return Buffer.concat([ehdr, phdr, body, Buffer.alloc(padding, 0x90)]);
}

const PVH_ELF = elfWithNotes([
  { name: 'Xen', type: 6, desc: Buffer.from('linux\0') },
  { name: 'Xen', type: 18, desc: Buffer.from([0x20, 0x0b, 0, 1, 0, 0, 0, 0]) },
]);
const PLAIN_ELF = elfWithNotes([{ name: 'GNU', type: 3, desc: Buffer.alloc(20, 7) }]);

function compress(data: Buffer, format: 'zstd' | 'xz' | 'lz4' | 'gzip'): Buffer {
  if (format === 'gzip') return gzipSync(data);
  // -l: LZ4's legacy frame, as the kernel build writes it.
  return execFileSync(format, format === 'lz4' ? ['-l', '-c', '-q'] : ['-c', '-q'], { input: data, maxBuffer: 1 << 26 });
}

/** A bzImage: setup sectors with the boot header, then the protected-mode part whose payload is `payload` plus its uncompressed size. */
function bzImage(payload: Buffer, uncompressedSize: number, options: { version?: number; setupSects?: number } = {}): Buffer {
  const setupSects = options.setupSects ?? 3;
  // 0 setup sectors means 4, as in the oldest boot protocol.
  const setup = Buffer.alloc(((setupSects || 4) + 1) * 512);
  setup[0x1f1] = setupSects;
  setup.write('HdrS', 0x202, 'latin1');
  setup.writeUInt16LE(options.version ?? 0x020f, 0x206);
  const decompressorStub = Buffer.alloc(0x300, 0xcc);
  const size = Buffer.alloc(4);
  size.writeUInt32LE(uncompressedSize);
  setup.writeUInt32LE(decompressorStub.length, 0x248);
  setup.writeUInt32LE(payload.length + 4, 0x24c);
  return Buffer.concat([setup, decompressorStub, payload, size, Buffer.alloc(100, 0xcc)]);
}

describe('booting the kernel through its PVH entry', () => {
  let work: string;
  before(async () => (work = await mkdtemp(join(tmpdir(), 'jeos-pvh-'))));
  after(() => rm(work, { recursive: true, force: true }));

  test(`the cache keeps the ${PVH_CACHE_KEEP} most recently booted kernels`, async () => {
    const cacheDir = join(work, 'cache-prune');
    const dir = join(cacheDir, 'vm', 'pvh');
    await mkdir(dir, { recursive: true });
    // Older kernels, booted a day apart; an unrelated file is left alone.
    const old = Array.from({ length: PVH_CACHE_KEEP }, (_, i) => join(dir, `${String(i).repeat(64)}.elf`));
    for (const [i, path] of old.entries()) {
      await writeFile(path, 'old');
      const t = new Date(Date.now() - (old.length - i) * 86_400_000);
      await utimes(path, t, t);
    }
    await writeFile(join(dir, 'notes.txt'), 'mine');
    // The oldest was booted again just now (a cache hit renews the file's mtime).
    const t0 = new Date();
    await utimes(old[0]!, t0, t0);
    const vmlinuz = join(work, 'vmlinuz-prune');
    await writeFile(vmlinuz, bzImage(compress(PVH_ELF, 'gzip'), PVH_ELF.length));
    const k = await bootKernel(vmlinuz, { cacheDir });
    const left = (await readdir(dir)).sort();
    assert.equal(left.length, PVH_CACHE_KEEP + 1);
    assert.ok(left.includes(k.path.split('/').pop()!), 'the kernel just made');
    assert.ok(left.includes(old[0]!.split('/').pop()!), 'booted most recently');
    assert.ok(!left.includes(old[1]!.split('/').pop()!), 'the least recently booted is gone');
    assert.ok(left.includes('notes.txt'));
  });

  test('the Xen PHYS32_ENTRY note marks a PVH kernel; other notes do not', () => {
    assert.equal(hasPvhEntry(PVH_ELF), true);
    assert.equal(hasPvhEntry(PLAIN_ELF), false);
    assert.equal(hasPvhEntry(Buffer.from('not an ELF file at all')), false);
  });

  for (const format of ['zstd', 'xz', 'lz4', 'gzip'] as const) {
    test(`a ${format} payload is decompressed once into the cache, keyed by the vmlinuz's digest`, async () => {
      const vmlinuz = join(work, `vmlinuz-${format}`);
      await writeFile(vmlinuz, bzImage(compress(PVH_ELF, format), PVH_ELF.length));
      const cacheDir = join(work, `cache-${format}`);
      const first = await bootKernel(vmlinuz, { cacheDir });
      assert.equal(first.entry, 'pvh', first.reason);
      assert.match(first.path, new RegExp(`^${cacheDir}/vm/pvh/[0-9a-f]{64}\\.elf$`));
      assert.deepEqual(await readFile(first.path), PVH_ELF);
      // The second boot takes the cached file: even a cache entry changed by hand is used as it is.
      await writeFile(first.path, Buffer.concat([PVH_ELF, Buffer.from('x')]));
      const past = new Date(Date.now() - 86_400_000);
      await utimes(first.path, past, past);
      const second = await bootKernel(vmlinuz, { cacheDir });
      assert.equal(second.path, first.path);
      assert.ok((await stat(second.path)).mtimeMs > past.getTime() + 60_000, 'a cache hit renews the mtime the pruning goes by');
      assert.equal((await readFile(second.path)).length, PVH_ELF.length + 1);
      assert.deepEqual(await readdir(join(cacheDir, 'vm', 'pvh')), [first.path.split('/').pop()]);
    });
  }

  test('an uncompressed payload is used as it is', async () => {
    const vmlinuz = join(work, 'vmlinuz-plain-payload');
    await writeFile(vmlinuz, bzImage(PVH_ELF, PVH_ELF.length, { setupSects: 0 }));
    const k = await bootKernel(vmlinuz, { cacheDir: join(work, 'cache-none') });
    assert.equal(k.entry, 'pvh', k.reason);
    assert.deepEqual(await readFile(k.path), Buffer.concat([PVH_ELF, Buffer.from([PVH_ELF.length & 0xff, (PVH_ELF.length >> 8) & 0xff, 0, 0])]));
  });

  test('anything else boots the vmlinuz as it is, and says why', async () => {
    const cacheDir = join(work, 'cache-fallback');
    const cases: [string, Buffer, RegExp][] = [
      ['no-note', bzImage(compress(PLAIN_ELF, 'zstd'), PLAIN_ELF.length), /no PVH entry note/],
      ['not-bzimage', Buffer.alloc(4096, 1), /not a bzImage/],
      ['old-protocol', bzImage(compress(PVH_ELF, 'zstd'), PVH_ELF.length, { version: 0x0206 }), /boot protocol 2\.6 .*2\.08/],
      ['bzip2', bzImage(Buffer.from('BZh91AY&SY'), 100), /format jeos does not read \(magic 425a6839\)/],
      ['wrong-size', bzImage(compress(PVH_ELF, 'zstd'), PVH_ELF.length - 1), /zstd payload did not decompress/],
      ['corrupt', bzImage(Buffer.concat([compress(PVH_ELF, 'xz').subarray(0, 40), Buffer.alloc(40, 0x55)]), PVH_ELF.length), /xz payload did not decompress/],
    ];
    for (const [name, bytes, why] of cases) {
      const vmlinuz = join(work, `vmlinuz-${name}`);
      await writeFile(vmlinuz, bytes);
      const k = await bootKernel(vmlinuz, { cacheDir });
      assert.equal(k.entry, 'bzimage', name);
      assert.equal(k.path, vmlinuz, name);
      assert.match(k.reason ?? '', why, name);
    }
    assert.deepEqual(await readdir(cacheDir).catch(() => []), [], 'nothing is cached for a kernel booted as it is');
  });

  test('--no-pvh, or no cache directory, boots the vmlinuz without reading it', async () => {
    const missing = join(work, 'no-such-vmlinuz');
    assert.deepEqual(await bootKernel(missing, { cacheDir: join(work, 'c'), pvh: false }), { path: missing, entry: 'bzimage', reason: 'asked for (--no-pvh)' });
    assert.equal((await bootKernel(missing, {})).entry, 'bzimage');
  });

  test('the payload fields are checked against the file', () => {
    const good = bzImage(compress(PVH_ELF, 'gzip'), PVH_ELF.length);
    const r = bzImagePayload(good);
    assert.ok('data' in r && r.format === 'gzip');
    const bad = Buffer.from(good);
    bad.writeUInt32LE(good.length, 0x24c);
    assert.deepEqual(bzImagePayload(bad), { reason: 'the payload fields point past the end of the file' });
  });
});
