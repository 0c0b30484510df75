/**
 * The image's one layer: the rootfs tar, gzip-compressed. Compression is the slow
 * part of every OCI output, so the compressed blob is cached, keyed by the digest of
 * the uncompressed tar (plus the gzip level and zlib version, which decide the bytes):
 * an unchanged rebuild hashes the tar and copies the blob.
 *
 *   <cache>/<diffId hex>.gzip<level>.zlib<version>        the compressed layer
 *   <cache>/<diffId hex>.gzip<level>.zlib<version>.json   {digest, size}: checked on every hit
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, rm, writeFile, copyFile, constants as fsConstants } from 'node:fs/promises';
import { join } from 'node:path';
import type { ImageTree } from '../../tree/index.js';
import { writeFileAtomic } from '../../util/atomic-write.js';
import { tarChunks } from '../../util/tar/chunks.js';
import { gzipChunksToFile, hashChunks, syncFile, type Digest } from '../sink.js';
import { treeTarItems } from '../tar/stream.js';
import { LAYER_TAR_DIGEST, treeProgress } from '../tar/writer.js';
import type { OutputFormat, WriterContext } from '../types.js';
import { MEDIA_TYPES, type LayerDescriptor } from './documents.js';

/**
 * zlib level 6 (gzip's default): within a few percent of level 9's size at half its
 * time. Changing it changes every layer digest.
 */
export const GZIP_LEVEL = 6;
/** Memo key of the compressed layer, shared by the oci and oci-archive writers of one run. */
const LAYER_BLOB = 'oci-layer-blob';

export interface LayerBlob extends LayerDescriptor {
  /** The compressed blob inside the staging directory, named by its digest. */
  path: string;
}

function cacheKey(diffIdHex: string): string {
  return `${diffIdHex}.gzip${GZIP_LEVEL}.zlib${process.versions.zlib}`;
}

function tmpName(path: string): string {
  return `${path}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
}

/** A cached blob for this layer, copied to `dest` and checked against its recorded digest; undefined on a miss. */
async function fromCache(cacheDir: string, diffIdHex: string, dest: string): Promise<Digest | undefined> {
  const key = join(cacheDir, cacheKey(diffIdHex));
  let recorded: Digest;
  let data: Buffer;
  try {
    recorded = JSON.parse(await readFile(`${key}.json`, 'utf8')) as Digest;
    data = await readFile(key);
  } catch {
    return undefined;
  }
  const sha256 = createHash('sha256').update(data).digest('hex');
  if (sha256 !== recorded.sha256 || data.length !== recorded.size) return undefined; // damaged entry: rebuild and overwrite
  await writeFile(dest, data, { flag: 'wx', mode: 0o644 });
  return recorded;
}

/** Store a compressed blob: blob first, then its record, each by rename, so readers never see half an entry. */
async function toCache(cacheDir: string, diffIdHex: string, blobPath: string, digest: Digest): Promise<void> {
  await mkdir(cacheDir, { recursive: true });
  const key = join(cacheDir, cacheKey(diffIdHex));
  const tmp = tmpName(key);
  try {
    await copyFile(blobPath, tmp, fsConstants.COPYFILE_FICLONE);
    await rename(tmp, key);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
  await writeFileAtomic(`${key}.json`, JSON.stringify({ sha256: digest.sha256, size: digest.size }), { durable: false });
}

async function makeLayer(tree: ImageTree, ctx: WriterContext, format: OutputFormat): Promise<LayerBlob> {
  const dir = ctx.staging.path('.layers');
  await mkdir(dir, { recursive: true });
  const chunks = (progress: boolean) =>
    tarChunks(treeTarItems(tree, ctx.sourceDateEpoch), progress ? { onData: treeProgress(tree, format, ctx) } : {});
  const blobAt = (d: Digest) => join(dir, d.sha256);
  const layer = (tar: Digest, gz: Digest): LayerBlob => ({
    mediaType: MEDIA_TYPES.layerGzip,
    digest: `sha256:${gz.sha256}`,
    size: gz.size,
    diffId: `sha256:${tar.sha256}`,
    path: blobAt(gz),
  });

  let tar = await ctx.staging.recall<Digest>(tree, LAYER_TAR_DIGEST);
  if (ctx.layerCacheDir) {
    tar ??= hashChunks(chunks(false)); // fast next to gzip: no progress for it
    const tmp = tmpName(join(dir, 'cached'));
    const gz = await fromCache(ctx.layerCacheDir, tar.sha256, tmp);
    ctx.onEvent?.({ kind: 'layer-cache', hit: gz !== undefined, diffId: `sha256:${tar.sha256}` });
    if (gz) {
      if (ctx.durable) await syncFile(tmp);
      await rename(tmp, blobAt(gz));
      return layer(tar, gz);
    }
  }

  const tmp = tmpName(join(dir, 'gzip'));
  const { uncompressed, compressed } = await gzipChunksToFile(tmp, chunks(true), { level: GZIP_LEVEL, durable: ctx.durable });
  if (tar && tar.sha256 !== uncompressed.sha256) {
    throw new Error(`the layer tar changed between two passes over the same tree (${tar.sha256} then ${uncompressed.sha256})`);
  }
  await rename(tmp, blobAt(compressed));
  if (ctx.layerCacheDir) {
    try {
      await toCache(ctx.layerCacheDir, uncompressed.sha256, blobAt(compressed), compressed);
    } catch (e) {
      ctx.onEvent?.({ kind: 'layer-cache-write-failed', diffId: `sha256:${uncompressed.sha256}`, message: (e as Error).message });
    }
  }
  return layer(uncompressed, compressed);
}

/** The compressed layer for this tree, made once per staging however many OCI outputs ask for it. */
export function layerBlob(tree: ImageTree, ctx: WriterContext, format: OutputFormat): Promise<LayerBlob> {
  return ctx.staging.memo(tree, LAYER_BLOB, () => makeLayer(tree, ctx, format));
}
