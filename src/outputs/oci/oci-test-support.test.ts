/**
 * Shared by the OCI test files (no tests of its own): reading a layout back the way an
 * OCI tool would, without trusting what the writer said about it.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { run } from '../contract.case.test.js';
import type { OutputResult } from '../types.js';

export interface ReadLayout {
  index: { manifests: Array<{ digest: string; size: number; mediaType: string; platform: Record<string, string>; annotations: Record<string, string> }> };
  manifest: {
    config: { digest: string; size: number };
    layers: Array<{ digest: string; size: number; mediaType: string }>;
    mediaType: string;
    annotations?: Record<string, string>;
  };
  config: {
    architecture: string;
    variant?: string;
    os: string;
    created: string;
    config: Record<string, unknown>;
    rootfs: { type: string; diff_ids: string[] };
    history: Array<Record<string, string>>;
  };
  layer: Buffer;
}

export function digestOf(data: Buffer): string {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

/** Read a layout from index.json down, checking every blob against its digest and size. */
export async function readLayout(dir: string): Promise<ReadLayout> {
  const blob = async (d: { digest: string; size: number }) => {
    const data = await readFile(join(dir, 'blobs', 'sha256', d.digest.slice('sha256:'.length)));
    assert.equal(digestOf(data), d.digest, `blob ${d.digest} matches its digest`);
    assert.equal(data.length, d.size, `blob ${d.digest} matches its size`);
    return data;
  };
  assert.deepEqual(JSON.parse(await readFile(join(dir, 'oci-layout'), 'utf8')), { imageLayoutVersion: '1.0.0' });
  const index = JSON.parse(await readFile(join(dir, 'index.json'), 'utf8')) as ReadLayout['index'];
  assert.ok(index.manifests.length >= 1);
  for (const d of index.manifests) assert.equal(d.digest, index.manifests[0]!.digest, 'one manifest, named once per tag');
  const manifest = JSON.parse((await blob(index.manifests[0]!)).toString()) as ReadLayout['manifest'];
  const config = JSON.parse((await blob(manifest.config)).toString()) as ReadLayout['config'];
  assert.equal(manifest.layers.length, 1);
  const layer = gunzipSync(await blob(manifest.layers[0]!));
  assert.equal(digestOf(layer), config.rootfs.diff_ids[0], 'diff_id is the digest of the uncompressed layer');
  return { index, manifest, config, layer };
}

/** The layer of a layout as a tar file in scratch, for the contract checks. */
export async function layerTarOf(layoutDir: string, result: OutputResult, scratch: string): Promise<string> {
  const layout = await readLayout(layoutDir);
  assert.equal(result.image?.manifestDigest, layout.index.manifests[0]!.digest);
  assert.equal(result.image?.diffId, layout.config.rootfs.diff_ids[0]);
  await mkdir(scratch, { recursive: true });
  const path = join(scratch, 'layer.tar');
  await writeFile(path, layout.layer);
  return path;
}

/** Unpack an OCI archive into scratch/layout with GNU tar. */
export async function extractArchive(archive: string, scratch: string): Promise<string> {
  const dir = join(scratch, 'layout');
  await mkdir(dir, { recursive: true });
  await run('tar', ['-xf', archive, '-C', dir]);
  return dir;
}
