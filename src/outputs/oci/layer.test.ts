import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { CONTRACT_IMAGE, contractTree, EPOCH, snapshot } from '../contract.case.test.js';
import { writeOutputs } from '../index.js';
import type { OutputContext, OutputEvent, OutputFormat } from '../types.js';
import { GZIP_LEVEL } from './layer.js';
import { readLayout } from './oci-test-support.test.js';

describe('layer cache', () => {
  let work: string;
  let cacheDir: string;
  let reference: Map<string, string>;

  const build = async (name: string, formats: OutputFormat[], extra: Partial<OutputContext> = {}) => {
    const events: OutputEvent[] = [];
    const outDir = join(work, name);
    const results = await writeOutputs(contractTree(), CONTRACT_IMAGE, formats, {
      outDir,
      sourceDateEpoch: EPOCH,
      layerCacheDir: cacheDir,
      onEvent: (e) => events.push(e),
      ...extra,
    });
    const cache = events.filter((e) => e.kind === 'layer-cache' || e.kind === 'layer-cache-write-failed');
    return { outDir, results, cache, events };
  };

  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'jeos-layer-cache-'));
    cacheDir = join(work, 'cache');
    // The reference: no cache at all.
    await writeOutputs(contractTree(), CONTRACT_IMAGE, ['oci'], { outDir: join(work, 'reference'), sourceDateEpoch: EPOCH });
    reference = await snapshot(join(work, 'reference'));
  });
  after(() => rm(work, { recursive: true, force: true }));

  test('a cold build compresses and stores the layer; a warm one takes it from the cache; both equal a build without cache', async () => {
    const cold = await build('cold', ['oci']);
    const diffId = cold.results[0]!.image!.diffId;
    assert.deepEqual(cold.cache, [{ kind: 'layer-cache', hit: false, diffId }]);
    const key = `${diffId.slice(7)}.gzip${GZIP_LEVEL}.zlib${process.versions.zlib}`;
    assert.deepEqual((await readdir(cacheDir)).sort(), [key, `${key}.json`]);
    assert.deepEqual(await snapshot(cold.outDir), reference);

    const warm = await build('warm', ['tar', 'oci', 'oci-archive']);
    assert.deepEqual(warm.cache, [{ kind: 'layer-cache', hit: true, diffId }], 'one lookup serves both OCI outputs');
    const warmSnap = await snapshot(warm.outDir);
    for (const [path, hash] of reference) assert.equal(warmSnap.get(path), hash, path);
    const layer = await readFile(join(cacheDir, key));
    assert.ok(layer.equals(await readFile(join(warm.outDir, 'oci', 'blobs', 'sha256', warm.results[1]!.image!.layerDigest.slice(7)))));
  });

  test('a damaged cache entry is detected, ignored and replaced', async () => {
    const first = await build('before-damage', ['oci']);
    const diffId = first.results[0]!.image!.diffId;
    const key = join(cacheDir, `${diffId.slice(7)}.gzip${GZIP_LEVEL}.zlib${process.versions.zlib}`);
    const blob = await readFile(key);
    blob[blob.length >> 1] = blob[blob.length >> 1]! ^ 0xff;
    await writeFile(key, blob);
    const damaged = await build('damaged', ['oci']);
    assert.deepEqual(damaged.cache, [{ kind: 'layer-cache', hit: false, diffId }]);
    assert.deepEqual(await snapshot(damaged.outDir), reference);
    await readLayout(join(damaged.outDir, 'oci'));
    const repaired = await build('repaired', ['oci']);
    assert.deepEqual(repaired.cache, [{ kind: 'layer-cache', hit: true, diffId }]);
  });

  test('a cache that cannot be written is reported, and the build goes on', async () => {
    const notADir = join(work, 'not-a-dir');
    await writeFile(notADir, 'a file where the cache directory should be');
    const { outDir, cache } = await build('uncached', ['oci'], { layerCacheDir: join(notADir, 'layers') });
    assert.deepEqual(
      cache.map((e) => e.kind),
      ['layer-cache', 'layer-cache-write-failed'],
    );
    assert.deepEqual(await snapshot(outDir), reference);
  });

  test('progress: start, content bytes up to the total, done, committed', async () => {
    const { events } = await build('progress', ['tar']);
    const kinds = events.map((e) => e.kind);
    assert.deepEqual(kinds[0], 'output-start');
    assert.deepEqual(kinds.slice(-2), ['output-done', 'outputs-committed']);
    const progress = events.filter((e): e is Extract<OutputEvent, { kind: 'output-progress' }> => e.kind === 'output-progress');
    assert.ok(progress.length >= 1);
    const last = progress.at(-1)!;
    assert.equal(last.done, last.total);
    assert.ok(last.total > 1_000_000);
  });
});
