/** The image an OCI layout holds, read as a push needs it: the manifest's bytes and the blobs it names. */
import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { JeosError } from '../../errors.js';
import { IMAGE_TAG } from '../../util/image-ref.js';
import { tagOfRefName } from './reference.js';

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
}

export interface LayoutBlob extends Descriptor {
  path: string;
}

export interface LayoutImage {
  manifest: Descriptor & { data: Buffer };
  /** The config first, then the layers. */
  blobs: LayoutBlob[];
  /** The tags index.json names (`NAME:TAG` → `TAG`), in its order. */
  tags: string[];
  annotations: Record<string, string>;
}

const DIGEST = /^sha256:[0-9a-f]{64}$/;

function broken(ociDir: string, why: string): JeosError {
  return new JeosError('E_PUSH_LAYOUT', `${ociDir} is not an OCI image jeos can push: ${why}`, {
    hint: 'build it again (jeos build, with oci among the outputs)',
  });
}

export function blobPath(ociDir: string, digest: string): string {
  return join(ociDir, 'blobs', 'sha256', digest.slice('sha256:'.length));
}

/** Read index.json and the manifest it names (checked against its digest), and find every blob. */
export async function readLayoutImage(ociDir: string): Promise<LayoutImage> {
  let index: { manifests?: Array<Descriptor & { annotations?: Record<string, string> }> };
  try {
    index = JSON.parse(await readFile(join(ociDir, 'index.json'), 'utf8')) as typeof index;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new JeosError('E_PUSH_NO_IMAGE', `no OCI image in ${ociDir}`, { hint: 'build it first: jeos build DIR (with oci among the outputs)' });
    }
    throw broken(ociDir, `index.json: ${(e as Error).message}`);
  }
  const descriptors = index.manifests ?? [];
  const first = descriptors[0];
  if (!first || !DIGEST.test(first.digest)) throw broken(ociDir, 'index.json names no manifest');
  if (descriptors.some((d) => d.digest !== first.digest)) throw broken(ociDir, 'index.json names more than one manifest');
  if (first.mediaType !== 'application/vnd.oci.image.manifest.v1+json') throw broken(ociDir, `the manifest is ${first.mediaType}, not an OCI image manifest`);

  const read = async (d: Descriptor): Promise<Buffer> => {
    const data = await readFile(blobPath(ociDir, d.digest)).catch(() => {
      throw broken(ociDir, `blob ${d.digest} is missing`);
    });
    if (`sha256:${createHash('sha256').update(data).digest('hex')}` !== d.digest || data.length !== d.size) {
      throw broken(ociDir, `blob ${d.digest} does not match its digest`);
    }
    return data;
  };
  const data = await read(first);
  const manifest = JSON.parse(data.toString('utf8')) as { config?: Descriptor; layers?: Descriptor[]; annotations?: Record<string, string> };
  if (!manifest.config || !Array.isArray(manifest.layers)) throw broken(ociDir, 'the manifest has no config or layers');
  await read(manifest.config); // small: checked here, so a damaged config fails before the registry is asked
  const blobs: LayoutBlob[] = [];
  for (const d of [manifest.config, ...manifest.layers]) {
    if (!DIGEST.test(d.digest)) throw broken(ociDir, `${d.digest} is not a sha256 digest`);
    const path = blobPath(ociDir, d.digest);
    const st = await stat(path).catch(() => undefined);
    if (!st?.isFile() || st.size !== d.size) throw broken(ociDir, `blob ${d.digest} is missing or has the wrong size`);
    blobs.push({ mediaType: d.mediaType, digest: d.digest, size: d.size, path });
  }
  const tags = [...new Set(descriptors.map((d) => tagOfRefName(d.annotations?.['org.opencontainers.image.ref.name'] ?? 'latest')))];
  for (const tag of tags) if (!IMAGE_TAG.test(tag)) throw broken(ociDir, `its reference name ends in ${JSON.stringify(tag)}, which is not a tag`);
  return {
    manifest: { mediaType: first.mediaType, digest: first.digest, size: first.size, data },
    blobs,
    tags,
    annotations: manifest.annotations ?? {},
  };
}
