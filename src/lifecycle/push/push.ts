/**
 * jeos push: blobs first (each skipped when the registry has it), then the manifest under
 * each tag — so a push that fails before its last step leaves no tag behind — and then the
 * SBOM, attached to the image as an OCI 1.1 artefact. The digest reported is the one the
 * registry serves for the tag, checked against the layout's.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { JeosError } from '../../errors.js';
import { findCredentials } from './auth.js';
import { RegistryClient } from './client.js';
import { readLayoutImage, type Descriptor, type LayoutBlob } from './layout.js';
import { parseRegistryRef } from './reference.js';
import type { PushOptions, PushResult } from './types.js';

const MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const INDEX = 'application/vnd.oci.image.index.v1+json';
/** The SPDX JSON media type (IANA), as the artefact's type and its one layer's. */
export const SPDX_JSON = 'application/spdx+json';
/** OCI 1.1's empty descriptor: the config of an artefact that needs none. */
const EMPTY = { mediaType: 'application/vnd.oci.empty.v1+json', data: Buffer.from('{}') };

const sha256 = (data: Buffer) => `sha256:${createHash('sha256').update(data).digest('hex')}`;
const descriptor = (d: Descriptor): Descriptor => ({ mediaType: d.mediaType, digest: d.digest, size: d.size });

export async function pushImage(options: PushOptions): Promise<PushResult> {
  const ref = parseRegistryRef(options.ref);
  const image = await readLayoutImage(options.ociDir);
  const tags = ref.tag ? [ref.tag] : image.tags;
  const credentials = await findCredentials(options.authFiles ?? [], ref);
  const client = new RegistryClient({
    ref,
    tlsVerify: options.tlsVerify ?? true,
    ...(credentials ? { credentials } : {}),
    timeoutMs: options.timeoutMs ?? 60_000,
    fetch: options.fetch ?? fetch,
    ...(options.onEvent ? { onEvent: options.onEvent } : {}),
  });
  const warnings: string[] = [];
  const warn = (message: string) => {
    warnings.push(message);
    options.onEvent?.({ kind: 'warning', message });
  };

  const blobs = { pushed: 0, skipped: 0, bytesPushed: 0 };
  for (const blob of image.blobs) {
    if (await pushBlob(client, blob, options)) {
      blobs.pushed++;
      blobs.bytesPushed += blob.size;
    } else blobs.skipped++;
  }

  // The manifest under each tag: the last step of the image, after every blob it names is there.
  let digest = '';
  for (const tag of tags) {
    digest = await putManifest(client, tag, image.manifest.data, MANIFEST, `the manifest for tag ${tag}`);
    const served = await servedDigest(client, tag);
    if (served !== image.manifest.digest) {
      throw new JeosError('E_PUSH_DIGEST_MISMATCH', `${ref.registry} serves ${served} for ${ref.repository}:${tag}, not the pushed manifest ${image.manifest.digest}`, {
        hint: 'the registry rewrote the manifest or another push raced this one; pull it by digest to see what it holds',
      });
    }
    digest = served;
    options.onEvent?.({ kind: 'tagged', tag, digest });
  }

  const result: PushResult = {
    repository: `${ref.registry}/${ref.repository}`,
    tags,
    digest,
    pullRef: `${ref.registry}/${ref.repository}@${digest}`,
    blobs,
    warnings,
  };
  if (options.sbomPath) {
    const sbom = await readFile(options.sbomPath).catch(() => undefined);
    if (sbom) {
      try {
        result.sbom = await pushSbom(client, sbom, { ...descriptor(image.manifest) }, image.annotations, options);
      } catch (e) {
        if (!(e instanceof JeosError)) throw e;
        const message = `the image is pushed, but not its SBOM: ${e.message}`;
        warn(message);
        result.sbom = { skipped: message };
      }
    }
  }
  return result;
}

/** Push one blob unless the registry has it; true when it was uploaded. */
async function pushBlob(client: RegistryClient, blob: LayoutBlob | (Descriptor & { data: Buffer }), options: PushOptions): Promise<boolean> {
  const what = `blob ${blob.digest}`;
  const head = await client.send({ method: 'HEAD', url: client.repoPath(`blobs/${blob.digest}`), what });
  if (head.ok) {
    options.onEvent?.({ kind: 'blob', digest: blob.digest, size: blob.size, state: 'exists' });
    return false;
  }
  if (head.status !== 404) throw await client.statusError(head, what);
  options.onEvent?.({ kind: 'blob', digest: blob.digest, size: blob.size, state: 'uploading' });
  const start = await client.send({ method: 'POST', url: client.repoPath('blobs/uploads/'), headers: { 'Content-Length': '0' }, what: `an upload of ${what}` });
  if (start.status !== 202) throw await client.statusError(start, `an upload of ${what}`);
  await start.body?.cancel();
  const location = start.headers.get('location');
  if (!location) throw new JeosError('E_PUSH_REGISTRY', `the registry started an upload of ${what} without saying where to send it`, { hint: 'check that the reference names an OCI registry' });
  const url = new URL(location, client.base);
  url.searchParams.set('digest', blob.digest);
  if ('path' in blob && (await stat(blob.path)).size !== blob.size) {
    throw new JeosError('E_PUSH_LAYOUT', `${blob.path} changed while it was pushed`, { hint: 'a build replaced the image meanwhile: push again' });
  }
  const body = 'data' in blob ? () => blob.data : () => Readable.toWeb(createReadStream((blob as LayoutBlob).path)) as ReadableStream<Uint8Array>;
  const put = await client.send({
    method: 'PUT',
    url: url.href,
    headers: { 'Content-Type': 'application/octet-stream', 'Content-Length': String(blob.size) },
    body,
    upload: true,
    what,
  });
  if (put.status !== 201) throw await client.statusError(put, what);
  await put.body?.cancel();
  options.onEvent?.({ kind: 'blob', digest: blob.digest, size: blob.size, state: 'pushed' });
  return true;
}

async function putManifest(client: RegistryClient, reference: string, data: Buffer, mediaType: string, what: string): Promise<string> {
  const res = await client.send({ method: 'PUT', url: client.repoPath(`manifests/${reference}`), headers: { 'Content-Type': mediaType }, body: () => data, what });
  if (res.status !== 201) throw await client.statusError(res, what);
  await res.body?.cancel();
  return res.headers.get('docker-content-digest') ?? sha256(data);
}

/** What the registry serves for a tag: its Docker-Content-Digest, or the digest of the bytes. */
async function servedDigest(client: RegistryClient, tag: string): Promise<string> {
  const what = `the manifest for tag ${tag}`;
  const accept = { Accept: `${MANIFEST}, ${INDEX}` };
  const head = await client.send({ method: 'HEAD', url: client.repoPath(`manifests/${tag}`), headers: accept, what });
  if (!head.ok) throw await client.statusError(head, what);
  const digest = head.headers.get('docker-content-digest');
  if (digest) return digest;
  const get = await client.send({ method: 'GET', url: client.repoPath(`manifests/${tag}`), headers: accept, what });
  if (!get.ok) throw await client.statusError(get, what);
  return sha256(Buffer.from(await get.arrayBuffer()));
}

/**
 * The SBOM as an OCI 1.1 artefact whose `subject` is the image: pushed by digest (never under
 * a tag of the image). A registry without the referrers API is told through the referrers tag
 * schema (`sha256-<image digest hex>`, an index of the image's artefacts), as the distribution
 * spec asks a client to do when the manifest PUT answers without `OCI-Subject`.
 */
async function pushSbom(
  client: RegistryClient,
  sbom: Buffer,
  subject: Descriptor,
  imageAnnotations: Record<string, string>,
  options: PushOptions,
): Promise<{ digest: string; referrers: 'api' | 'tag' }> {
  const empty = { mediaType: EMPTY.mediaType, digest: sha256(EMPTY.data), size: EMPTY.data.length, data: EMPTY.data };
  const layer = { mediaType: SPDX_JSON, digest: sha256(sbom), size: sbom.length, data: sbom };
  await pushBlob(client, empty, options);
  await pushBlob(client, layer, options);
  const created = imageAnnotations['org.opencontainers.image.created'];
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MANIFEST,
      artifactType: SPDX_JSON,
      config: descriptor(empty),
      layers: [{ ...descriptor(layer), annotations: { 'org.opencontainers.image.title': 'sbom.spdx.json' } }],
      subject,
      ...(created ? { annotations: { 'org.opencontainers.image.created': created } } : {}),
    }),
  );
  const digest = sha256(manifest);
  const res = await client.send({ method: 'PUT', url: client.repoPath(`manifests/${digest}`), headers: { 'Content-Type': MANIFEST }, body: () => manifest, what: 'the SBOM artefact' });
  if (res.status !== 201) throw await client.statusError(res, 'the SBOM artefact (an OCI 1.1 manifest with a subject)');
  await res.body?.cancel();
  let referrers: 'api' | 'tag' = 'api';
  if (!res.headers.get('oci-subject')) {
    await addToReferrersTag(client, subject, { mediaType: MANIFEST, digest, size: manifest.length, artifactType: SPDX_JSON });
    referrers = 'tag';
  }
  options.onEvent?.({ kind: 'sbom', digest, referrers });
  return { digest, referrers };
}

async function addToReferrersTag(client: RegistryClient, subject: Descriptor, artefact: Descriptor & { artifactType: string }): Promise<void> {
  const tag = subject.digest.replace(':', '-');
  const what = `the referrers index ${tag}`;
  const got = await client.send({ method: 'GET', url: client.repoPath(`manifests/${tag}`), headers: { Accept: INDEX }, what });
  let manifests: Array<Descriptor & { artifactType?: string }> = [];
  if (got.ok) manifests = ((await got.json()) as { manifests?: typeof manifests }).manifests ?? [];
  else if (got.status === 404) await got.body?.cancel();
  else throw await client.statusError(got, what);
  if (manifests.some((m) => m.digest === artefact.digest)) return;
  const index = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: INDEX, manifests: [...manifests, artefact] }));
  await putManifest(client, tag, index, INDEX, what);
}
