import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { JeosError } from '../errors.js';
import { ImageTree } from '../tree/index.js';
import { sha256 } from '../util/hash.js';
import { compress, handDeb, tarArchive, tarHeader, type HandEntry } from '../../test/support/unpack/test-helpers.js';
import { readDebMembers } from './ar.js';
import { decompress } from './decompress.js';
import { decompressAll } from './decompress-all.js';
import { CONTROL_MAX_BYTES, dataLimit } from './limits.js';
import { unpackPackages, type DebInput, type UnpackOptions } from './unpack.js';

const MiB = 2 ** 20;
const work = await mkdtemp(join(tmpdir(), 'jeos-limits-'));
after(() => rm(work, { recursive: true, force: true }));

async function rejects(p: Promise<unknown>, code: string, ...mentions: string[]): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof JeosError, `expected a JeosError, got ${String(e)}`);
    assert.equal(e.code, code, e.message);
    for (const m of mentions) assert.ok(e.message.includes(m), `message ${JSON.stringify(e.message)} should mention ${m}`);
    assert.ok(e.hint);
    return true;
  });
}

/** A package whose one file holds `bytes` zeros, declaring `installedSize` KiB (or nothing). */
function zeros(name: string, bytes: number, installedSize: number | undefined, compression: 'xz' | 'zstd' | 'gzip' | 'none' = 'zstd'): DebInput {
  const field = installedSize === undefined ? '' : `Installed-Size: ${installedSize}\n`;
  const control = `Package: ${name}\nVersion: 1.0\nArchitecture: amd64\n${field}Description: zeros\n`;
  const entries: HandEntry[] = [{ name: './', type: '5', mode: 0o755 }, { name: './zeros', data: Buffer.alloc(bytes) }];
  return { label: `${name}_1.0_amd64`, bytes: handDeb({ control, entries, compression }) };
}

const unpack = (debs: DebInput[], options: Partial<UnpackOptions> = {}) => unpackPackages(new ImageTree(), debs, { architecture: 'amd64', ...options });

test('the data limit is twice Installed-Size plus 16 MiB, capped by the ceiling; no Installed-Size gets the ceiling', () => {
  assert.equal(dataLimit('4').bytes, 8 * 1024 + 16 * MiB);
  assert.match(dataLimit('4').basis, /Installed-Size: 4 KiB \(2 × that \+ 16 MiB\)/);
  assert.equal(dataLimit(undefined).bytes, 512 * MiB);
  assert.match(dataLimit(undefined).basis, /unpack\.maxPackageMiB: 512; it declares no Installed-Size/);
  assert.equal(dataLimit('not a number').bytes, 512 * MiB);
  assert.equal(dataLimit(String(10 * 1024 * 1024)).bytes, 512 * MiB, '10 GiB declared: the ceiling');
  assert.match(dataLimit(String(10 * 1024 * 1024)).basis, /Installed-Size: 10485760 KiB/);
  assert.equal(dataLimit('4', 8).bytes, 8 * MiB, 'a lower ceiling wins');
});

for (const compression of ['gzip', 'xz', 'zstd', 'none'] as const) {
  test(`a ${compression} member past its limit is refused with E_DEB_TOO_LARGE; one at its limit is not`, async () => {
    const data = compress(Buffer.alloc(3 * MiB), compression);
    const ref = { label: 'bomb_1.0_amd64', member: 'data.tar' };
    const limit = (bytes: number) => ({ bytes, basis: 'the limit for this test' });
    await rejects(decompress(data, compression, ref, limit(MiB)), 'E_DEB_TOO_LARGE', 'bomb_1.0_amd64', 'data.tar', '1.0 MiB', 'the limit for this test');
    assert.equal((await decompress(data, compression, ref, limit(3 * MiB))).length, 3 * MiB);
    // Through the batching decompressor too (xz members with an index go into one process).
    await rejects(decompressAll([{ data, compression, ref, limit: limit(MiB) }], 2), 'E_DEB_TOO_LARGE', 'bomb_1.0_amd64');
  });
}

test('an xz member whose index says it is too large is refused before xz runs', async () => {
  const data = compress(Buffer.alloc(3 * MiB), 'xz');
  const ref = { label: 'bomb_1.0_amd64', member: 'data.tar.xz' };
  const path = process.env.PATH;
  process.env.PATH = '/nonexistent';
  try {
    await rejects(decompress(data, 'xz', ref, { bytes: MiB, basis: 'x' }), 'E_DEB_TOO_LARGE', 'says in its xz index that it expands to 3.0 MiB');
  } finally {
    process.env.PATH = path;
  }
});

test('a member past the 64 MiB kept while streaming is decompressed again into one buffer of its size', async () => {
  const payload = Buffer.alloc(80 * MiB, 0x61);
  payload.write('start', 0);
  payload.write('end', payload.length - 3);
  for (const compression of ['zstd', 'gzip'] as const) {
    const out = await decompress(compress(payload, compression), compression, { label: 'big', member: 'data.tar' }, { bytes: 100 * MiB, basis: 'x' });
    assert.ok(out.equals(payload), compression);
  }
});

test('a package whose data expands past twice its Installed-Size plus 16 MiB is refused, naming package, member and sizes', async () => {
  await rejects(
    unpack([zeros('bomb', 20 * MiB, 4)]),
    'E_DEB_TOO_LARGE',
    'bomb_1.0_amd64',
    'data.tar.zst',
    'expands past 16.0 MiB',
    'Installed-Size: 4 KiB',
  );
  // The same bytes with an honest Installed-Size unpack.
  await unpack([zeros('honest', 20 * MiB, 20 * 1024)]);
  // Without Installed-Size the ceiling applies (lowered here to keep the test small).
  await rejects(unpack([zeros('nosize', 3 * MiB, undefined)], { maxPackageMiB: 2 }), 'E_DEB_TOO_LARGE', 'nosize_1.0_amd64', 'unpack.maxPackageMiB: 2');
  await unpack([zeros('nosize', 3 * MiB, undefined)], { maxPackageMiB: 4 });
});

test('a control archive past 64 MiB is refused', async () => {
  const bytes = handDeb({ name: 'fat', controlFiles: { md5sums: 'x'.repeat(CONTROL_MAX_BYTES + 1) }, entries: [] });
  await rejects(unpack([{ label: 'fat_1.0_amd64', bytes }]), 'E_DEB_TOO_LARGE', 'fat_1.0_amd64', 'control.tar.gz', 'the ceiling for a control archive');
});

test('the member cache never stores a member that was refused, and ignores an entry past the limit', async () => {
  const cacheDir = join(work, 'cache');
  await rejects(unpack([zeros('bomb', 20 * MiB, 4)], { cacheDir }), 'E_DEB_TOO_LARGE', 'bomb_1.0_amd64');
  const stored = await readdir(join(cacheDir, 'members/v1')).catch(() => []);
  assert.deepEqual(stored, [], 'no member stored by a refused unpack');

  // A cache entry for a small, honest member, replaced by a valid entry (right digests) holding far more.
  const honest = zeros('honest', 1024, 4);
  const members = readDebMembers(honest.bytes, honest.label);
  const planted = tarArchive([{ name: './', type: '5', mode: 0o755 }, { name: './planted', data: Buffer.alloc(17 * MiB) }]);
  const dir = join(cacheDir, 'members/v1');
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, sha256(members.data.data)), Buffer.concat([Buffer.from(sha256(planted), 'latin1'), planted]));
  const tree = new ImageTree();
  await unpackPackages(tree, [honest], { architecture: 'amd64', cacheDir });
  assert.equal(tree.get('planted'), undefined, 'the oversized entry was not used');
  assert.equal(tree.get('zeros')?.kind, 'file');
});

test('a bomb of concatenated xz streams (a few KiB for 256 MiB of zeros) is refused by its index', async () => {
  const header = tarHeader({ name: './zeros' }, 64 * MiB * 4);
  const block = compress(Buffer.alloc(64 * MiB), 'xz');
  const member = Buffer.concat([compress(header, 'xz'), block, block, block, block, compress(Buffer.alloc(1024), 'xz')]);
  const control = 'Package: bomb\nVersion: 1.0\nArchitecture: amd64\nInstalled-Size: 4\nDescription: x\n';
  await rejects(unpack([{ label: 'bomb_1.0_amd64', bytes: handDeb({ control, dataMember: member }) }]), 'E_DEB_TOO_LARGE', 'says in its xz index that it expands to 256.0 MiB');
});
