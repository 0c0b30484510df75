/**
 * The JSON documents of an OCI image: config, manifest, index and oci-layout. Each is
 * serialised once, with keys in a fixed order, so its digest depends only on the inputs.
 */
import { createHash } from 'node:crypto';
import { JeosError } from '../../errors.js';
import type { ImageSpec } from '../types.js';
import { ociPlatform } from './platform.js';

export const MEDIA_TYPES = {
  layout: 'application/vnd.oci.layout.header.v1+json',
  index: 'application/vnd.oci.image.index.v1+json',
  manifest: 'application/vnd.oci.image.manifest.v1+json',
  config: 'application/vnd.oci.image.config.v1+json',
  layerGzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
} as const;

export const REF_NAME_ANNOTATION = 'org.opencontainers.image.ref.name';

export interface Blob {
  mediaType: string;
  digest: string;
  size: number;
}

/** A JSON document and its descriptor. */
export interface JsonBlob extends Blob {
  data: Buffer;
}

export interface LayerDescriptor extends Blob {
  /** `sha256:` of the uncompressed tar. */
  diffId: string;
}

export function sha256Digest(data: Buffer): string {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

function jsonBlob(mediaType: string, value: unknown): JsonBlob {
  const data = Buffer.from(JSON.stringify(value), 'utf8');
  return { mediaType, digest: sha256Digest(data), size: data.length, data };
}

function invalid(what: string, value: string, hint: string): JeosError {
  return new JeosError('E_OUTPUT_IMAGE_SPEC', `${what} ${JSON.stringify(value)} is not valid in an OCI image`, { hint });
}

const TAG = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$/;
const PORT = /^(\d{1,5})(?:\/(tcp|udp|sctp))?$/;

export function imageTag(image: ImageSpec): string {
  const tag = image.tag ?? 'latest';
  if (!TAG.test(tag)) throw invalid('tag', tag, 'a tag is up to 128 letters, digits, "_", "." and "-", not starting with "." or "-"');
  return tag;
}

function exposedPorts(ports: string[]): Record<string, Record<string, never>> {
  const out = new Map<string, Record<string, never>>();
  for (const port of ports) {
    const m = PORT.exec(port);
    const n = m ? Number(m[1]) : 0;
    if (!m || n < 1 || n > 65535) throw invalid('exposed port', port, 'write a port as 80, 80/tcp, 53/udp or 9000/sctp');
    out.set(`${n}/${m[2] ?? 'tcp'}`, {});
  }
  return Object.fromEntries([...out].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** RFC 3339 in UTC without fractions, as Go writes it. */
export function rfc3339(seconds: number): string {
  return new Date(seconds * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export function imageConfig(image: ImageSpec, diffIds: string[], sourceDateEpoch: number): JsonBlob {
  const env = Object.entries(image.env ?? {}).map(([k, v]) => {
    if (k === '' || k.includes('=')) throw invalid('environment variable name', k, 'a name must be non-empty and must not contain "="');
    return `${k}=${v}`;
  });
  const config: Record<string, unknown> = {};
  if (image.user) config.User = image.user;
  if (image.exposedPorts?.length) config.ExposedPorts = exposedPorts(image.exposedPorts);
  if (env.length) config.Env = env;
  if (image.entrypoint?.length) config.Entrypoint = image.entrypoint;
  if (image.cmd?.length) config.Cmd = image.cmd;
  if (image.workdir) {
    if (!image.workdir.startsWith('/')) throw invalid('working directory', image.workdir, 'the working directory must be an absolute path');
    config.WorkingDir = image.workdir;
  }
  const labels = Object.entries(image.labels ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  if (labels.length) config.Labels = Object.fromEntries(labels);
  const platform = ociPlatform(image.architecture);
  const created = rfc3339(sourceDateEpoch);
  return jsonBlob(MEDIA_TYPES.config, {
    created,
    architecture: platform.architecture,
    ...(platform.variant ? { variant: platform.variant } : {}),
    os: platform.os,
    config,
    rootfs: { type: 'layers', diff_ids: diffIds },
    history: [{ created, created_by: 'jeos', comment: `${image.name}: Debian packages, built by jeos` }],
  });
}

export function imageManifest(config: Blob, layers: Blob[]): JsonBlob {
  const descriptor = (b: Blob) => ({ mediaType: b.mediaType, digest: b.digest, size: b.size });
  return jsonBlob(MEDIA_TYPES.manifest, {
    schemaVersion: 2,
    mediaType: MEDIA_TYPES.manifest,
    config: descriptor(config),
    layers: layers.map(descriptor),
  });
}

export function imageIndex(manifest: Blob, image: ImageSpec): JsonBlob {
  const platform = ociPlatform(image.architecture);
  return jsonBlob(MEDIA_TYPES.index, {
    schemaVersion: 2,
    mediaType: MEDIA_TYPES.index,
    manifests: [
      {
        mediaType: manifest.mediaType,
        digest: manifest.digest,
        size: manifest.size,
        platform,
        annotations: { [REF_NAME_ANNOTATION]: imageTag(image) },
      },
    ],
  });
}

export function ociLayoutFile(): Buffer {
  return Buffer.from(JSON.stringify({ imageLayoutVersion: '1.0.0' }), 'utf8');
}
