import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { JeosError } from '../errors.js';
import { checkDecompressors, compressionOfMember, decompress } from './decompress.js';
import { decompressAll, type DecompressJob } from './decompress-all.js';
import { compress } from '../../test/support/unpack/test-helpers.js';
import { xzUncompressedSize } from './xz-index.js';

async function rejects(p: Promise<unknown>, code: string, ...mentions: string[]): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof JeosError, `expected a JeosError, got ${String(e)}`);
    assert.equal(e.code, code, e.message);
    for (const m of mentions) assert.ok(e.message.includes(m), `message ${JSON.stringify(e.message)} should mention ${m}`);
    assert.ok(e.hint);
    return true;
  });
}

// Compressible but not trivial: text with some random bytes mixed in.
const payload = Buffer.concat(Array.from({ length: 200 }, (_, i) => Buffer.concat([Buffer.from(`line ${i} `.repeat(20)), randomBytes(16)])));

test('member names give the compression', () => {
  assert.deepEqual(
    ['data.tar', 'data.tar.gz', 'data.tar.xz', 'data.tar.zst', 'data.tar.bz2', 'data.tar.lzma'].map(compressionOfMember),
    ['none', 'gzip', 'xz', 'zstd', undefined, undefined],
  );
});

for (const compression of ['none', 'gzip', 'xz', 'zstd'] as const) {
  test(`${compression} round trip`, async () => {
    const out = await decompress(compress(payload, compression), compression, { label: 'p', member: 'data.tar' });
    assert.ok(out.equals(payload));
  });
}

for (const [compression, member] of [
  ['gzip', 'data.tar.gz'],
  ['xz', 'data.tar.xz'],
  ['zstd', 'data.tar.zst'],
] as const) {
  test(`a bad ${compression} stream is E_DEB_BAD_COMPRESSION naming the package and member`, async () => {
    const garbage = Buffer.from('this is not compressed data at all, just text '.repeat(10));
    await rejects(decompress(garbage, compression, { label: 'broken_1.0_amd64', member }), 'E_DEB_BAD_COMPRESSION', 'broken_1.0_amd64', member);
    // A valid stream cut short fails too, rather than yielding a short tar.
    const cut = compress(payload, compression).subarray(0, 100);
    await rejects(decompress(cut, compression, { label: 'cut_1.0_amd64', member }), 'E_DEB_BAD_COMPRESSION', 'cut_1.0_amd64', member);
  });
}

test('the xz index gives the uncompressed size of one or several streams, with stream padding', () => {
  const a = compress(payload, 'xz');
  const b = compress(Buffer.from('small'), 'xz');
  const empty = compress(Buffer.alloc(0), 'xz');
  assert.equal(xzUncompressedSize(a), payload.length);
  assert.equal(xzUncompressedSize(empty), 0);
  assert.equal(xzUncompressedSize(Buffer.concat([a, Buffer.alloc(8), b, empty])), payload.length + 5);
  assert.equal(xzUncompressedSize(Buffer.from('garbage that is not xz at all')), undefined);
  assert.equal(xzUncompressedSize(a.subarray(0, a.length - 1)), undefined);
  assert.equal(xzUncompressedSize(a.subarray(20)), undefined, 'a stream missing its header');
});

test('decompressAll: many xz members through shared processes, others alone, results in job order', async () => {
  const inputs = Array.from({ length: 9 }, (_, i) => Buffer.concat([payload.subarray(i * 100), Buffer.from(`#${i}`)]));
  const kinds = ['xz', 'xz', 'gzip', 'xz', 'none', 'xz', 'zstd', 'xz', 'xz'] as const;
  const jobs: DecompressJob[] = inputs.map((data, i) => ({
    data: compress(data, kinds[i]!),
    compression: kinds[i]!,
    ref: { label: `p${i}`, member: 'data.tar' },
  }));
  for (const processes of [1, 2, 5]) {
    const out = await decompressAll(jobs, processes);
    assert.equal(out.length, inputs.length);
    out.forEach((o, i) => assert.ok(o.equals(inputs[i]!), `job ${i} with ${processes} processes`));
  }
});

test('decompressAll: a broken xz member in a batch is reported by its own name', async () => {
  const good = (i: number): DecompressJob => ({ data: compress(payload, 'xz'), compression: 'xz', ref: { label: `good${i}`, member: 'data.tar.xz' } });
  const broken = compress(payload, 'xz');
  const middle = broken.length >> 1;
  broken[middle] = broken[middle]! ^ 0xff; // the index is intact, a block is not
  const jobs = [good(1), { data: broken, compression: 'xz' as const, ref: { label: 'broken_2_amd64', member: 'data.tar.xz' } }, good(3)];
  await rejects(decompressAll(jobs, 1), 'E_DEB_BAD_COMPRESSION', 'broken_2_amd64', 'data.tar.xz');
});

test('a missing decompressor is found before any work, naming the program and its package', async () => {
  const saved = process.env.PATH;
  process.env.PATH = '/nonexistent';
  try {
    await checkDecompressors(['gzip', 'none']); // done in-process: nothing needed
    await rejects(checkDecompressors(['gzip', 'xz']), 'E_UNPACK_TOOL_MISSING', 'xz');
    await assert.rejects(checkDecompressors(['zstd']), (e: JeosError) => e.code === 'E_UNPACK_TOOL_MISSING' && e.hint!.includes('apt-get install zstd'));
  } finally {
    process.env.PATH = saved;
  }
  await checkDecompressors(['xz', 'zstd']);
});
