/**
 * OCI image layout (`out/oci/`) and OCI archive (`out/image.oci.tar`, a tar of the
 * same layout). Both share one compressed layer per run.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { copyFile, link, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ImageTree } from '../../tree/index.js';
import { writeChunksToFile } from '../sink.js';
import { encodeHeader, padLength, ZEROS } from '../../util/tar/header.js';
import type { ImageSpec, OciImageInfo, OutputFile, OutputFormat, OutputResult, OutputWriter, WriterContext } from '../types.js';
import { imageConfig, imageIndex, imageManifest, imageRefs, manifestAnnotations, MEDIA_TYPES, ociLayoutFile } from './documents.js';
import { layerBlob, type LayerBlob } from './layer.js';

export const OCI_DIR = 'oci';
export const OCI_ARCHIVE = 'image.oci.tar';

interface LayoutFile {
  /** Path inside the layout: `oci-layout`, `index.json`, `blobs/sha256/<hex>`. */
  path: string;
  size: number;
  sha256: string;
  mediaType?: string;
  /** Contents in memory, or the file holding them (the layer). */
  data?: Buffer;
  source?: string;
}

interface Layout {
  files: LayoutFile[];
  info: OciImageInfo;
}

function hex(digest: string): string {
  return digest.slice('sha256:'.length);
}

/** Build every document once with a stand-in layer, so a bad spec fails before the layer is compressed. */
function checkImage(image: ImageSpec): void {
  const stand = { mediaType: MEDIA_TYPES.layerGzip, digest: `sha256:${'0'.repeat(64)}`, size: 0 };
  imageIndex(imageManifest(imageConfig(image, [stand.digest], 0), [stand], manifestAnnotations(image, 0)), image);
}

/** Every file of the layout, sorted by path; only the layer stays on disk. */
async function buildLayout(tree: ImageTree, image: ImageSpec, ctx: WriterContext, format: OutputFormat): Promise<Layout> {
  checkImage(image);
  const layer: LayerBlob = await layerBlob(tree, ctx, format);
  const config = imageConfig(image, [layer.diffId], ctx.sourceDateEpoch);
  const manifest = imageManifest(config, [layer], manifestAnnotations(image, ctx.sourceDateEpoch));
  const index = imageIndex(manifest, image);
  const layoutHeader = ociLayoutFile();
  const small = (path: string, data: Buffer, mediaType?: string): LayoutFile => ({
    path,
    data,
    size: data.length,
    sha256: createHash('sha256').update(data).digest('hex'),
    ...(mediaType ? { mediaType } : {}),
  });
  const files: LayoutFile[] = [
    small(`blobs/sha256/${hex(config.digest)}`, config.data, config.mediaType),
    { path: `blobs/sha256/${hex(layer.digest)}`, source: layer.path, size: layer.size, sha256: hex(layer.digest), mediaType: layer.mediaType },
    small(`blobs/sha256/${hex(manifest.digest)}`, manifest.data, manifest.mediaType),
    small('index.json', index.data, index.mediaType),
    small('oci-layout', layoutHeader, MEDIA_TYPES.layout),
  ].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return {
    files,
    info: {
      ref: imageRefs(image)[0]!,
      refs: imageRefs(image),
      manifestDigest: manifest.digest,
      manifestSize: manifest.size,
      configDigest: config.digest,
      layerDigest: layer.digest,
      layerSize: layer.size,
      diffId: layer.diffId,
    },
  };
}

function outputFiles(prefix: string, files: LayoutFile[]): OutputFile[] {
  return files.map((f) => ({ path: `${prefix}/${f.path}`, size: f.size, sha256: f.sha256, ...(f.mediaType ? { mediaType: f.mediaType } : {}) }));
}

/** `out/oci/`: an OCI image layout with one manifest, named once per tag in index.json. */
export const ociWriter: OutputWriter = {
  format: 'oci',
  check: checkImage,
  async write(tree, image, ctx): Promise<OutputResult> {
    const layout = await buildLayout(tree, image, ctx, 'oci');
    const dir = ctx.staging.path(OCI_DIR);
    await mkdir(join(dir, 'blobs', 'sha256'), { recursive: true });
    for (const file of layout.files) {
      const dest = join(dir, file.path);
      if (file.data) await writeFile(dest, file.data, { flag: 'wx', mode: 0o644, flush: ctx.durable ?? false });
      else await link(file.source!, dest).catch(() => copyFile(file.source!, dest));
    }
    return { format: 'oci', path: OCI_DIR, files: outputFiles(OCI_DIR, layout.files), image: layout.info };
  },
};

/** The layout as tar chunks; the layer is streamed from its file, never held in memory whole. */
async function* archiveChunks(files: LayoutFile[], mtime: number): AsyncGenerator<Buffer> {
  const meta = { uid: 0, gid: 0, mtime, size: 0 };
  yield encodeHeader({ ...meta, path: 'blobs', type: 'dir', mode: 0o755 });
  yield encodeHeader({ ...meta, path: 'blobs/sha256', type: 'dir', mode: 0o755 });
  for (const file of files) {
    yield encodeHeader({ ...meta, path: file.path, type: 'file', mode: 0o644, size: file.size });
    let streamed = 0;
    if (file.data) {
      yield file.data;
      streamed = file.data.length;
    } else {
      for await (const chunk of createReadStream(file.source!, { highWaterMark: 1 << 20 })) {
        streamed += (chunk as Buffer).length;
        yield chunk as Buffer;
      }
    }
    if (streamed !== file.size) throw new Error(`${file.path} changed while it was archived (${streamed} bytes, expected ${file.size})`);
    yield ZEROS.subarray(0, padLength(file.size) - file.size);
  }
  yield ZEROS.subarray(0, 1024);
}

/** `out/image.oci.tar`: the same layout as one deterministic tar (for `skopeo copy oci-archive:…`, `podman load`). */
export const ociArchiveWriter: OutputWriter = {
  format: 'oci-archive',
  check: checkImage,
  async write(tree, image, ctx): Promise<OutputResult> {
    const layout = await buildLayout(tree, image, ctx, 'oci-archive');
    const digest = await writeChunksToFile(ctx.staging.path(OCI_ARCHIVE), archiveChunks(layout.files, ctx.sourceDateEpoch), { durable: ctx.durable });
    return {
      format: 'oci-archive',
      path: OCI_ARCHIVE,
      files: [{ path: OCI_ARCHIVE, size: digest.size, sha256: digest.sha256, mediaType: 'application/x-tar' }],
      image: layout.info,
    };
  },
};
