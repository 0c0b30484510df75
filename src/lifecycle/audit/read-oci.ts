/**
 * An OCI image layout as a target: index.json → the image manifest (through nested
 * indexes, for the build's architecture) → its layers, applied in order with the OCI
 * whiteout rules (`.wh.NAME` hides NAME of the layers below, `.wh..wh..opq` everything
 * a directory held below).
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { JeosError } from '../../errors.js';
import { Collector } from './collect.js';
import { compressionOf, plainStream, readHead, type Compression } from './stream.js';
import { TarReader } from './tar-reader.js';

interface Descriptor {
  mediaType?: string;
  digest: string;
  platform?: { architecture?: string; os?: string };
}

function notLayout(dir: string, why: string): JeosError {
  return new JeosError('E_AUDIT_BAD_TARGET', `${dir} is not a usable OCI image layout: ${why}`, {
    hint: 'pass out/oci of a jeos build (a directory with oci-layout, index.json and blobs/)',
  });
}

function blobPath(dir: string, digest: string): string {
  const m = /^([a-z0-9]+):([a-f0-9]+)$/.exec(digest);
  if (!m) throw notLayout(dir, `bad digest ${JSON.stringify(digest)}`);
  return join(dir, 'blobs', m[1]!, m[2]!);
}

async function readJson<T>(dir: string, path: string): Promise<T> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as T;
  } catch (e) {
    throw notLayout(dir, `cannot read ${path.slice(dir.length + 1)}: ${(e as Error).message}`);
  }
}

/** The image manifest's digest and layers, for `architecture` when the index names several. */
export async function ociManifest(dir: string, architecture: string): Promise<{ digest: string; layers: Descriptor[] }> {
  let descriptors = (await readJson<{ manifests?: Descriptor[] }>(dir, join(dir, 'index.json'))).manifests ?? [];
  for (let depth = 0; depth < 4; depth++) {
    const fitting = descriptors.filter((d) => !d.platform?.architecture || d.platform.architecture === architecture);
    if (fitting.length === 0) throw notLayout(dir, `no image for ${architecture}`);
    const chosen = fitting[0]!;
    const doc = await readJson<{ mediaType?: string; manifests?: Descriptor[]; layers?: Descriptor[] }>(dir, blobPath(dir, chosen.digest));
    if (doc.layers) return { digest: chosen.digest, layers: doc.layers };
    if (!doc.manifests) throw notLayout(dir, `${chosen.digest} is neither an image manifest nor an index`);
    descriptors = doc.manifests;
  }
  throw notLayout(dir, 'indexes nested too deep');
}

function layerCompression(d: Descriptor, head: Buffer): Compression | undefined {
  if (d.mediaType?.endsWith('+gzip') || d.mediaType?.endsWith('.gzip')) return 'gzip';
  if (d.mediaType?.endsWith('+zstd') || d.mediaType?.endsWith('.zstd')) return 'zstd';
  return compressionOf(head);
}

export async function readOci(dir: string, architecture: string): Promise<{ collector: Collector; manifestDigest: string }> {
  const { digest, layers } = await ociManifest(dir, architecture);
  const out = new Collector();
  for (const layer of layers) {
    out.nextLayer();
    const path = blobPath(dir, layer.digest);
    const stream = plainStream(path, layerCompression(layer, await readHead(path, 8).catch(() => Buffer.alloc(8))));
    const reader = new TarReader(`${dir}: layer ${layer.digest}`, (m) => out.tarMember(m, true));
    try {
      for await (const chunk of stream.chunks) reader.feed(chunk);
    } catch (e) {
      if (e instanceof JeosError) throw e;
      throw notLayout(dir, `layer ${layer.digest}: ${(e as Error).message}`);
    }
    reader.end();
    if (`sha256:${stream.sha256()}` !== layer.digest) throw notLayout(dir, `layer ${layer.digest} does not match its digest`);
  }
  return { collector: out, manifestDigest: digest };
}
