/**
 * Slower tier (a few seconds): push the OCI layout to a real registry — Debian's
 * docker-registry (distribution 2.8) on loopback — and pull it back by digest.
 * Needs `docker-registry` and `skopeo` on PATH; it runs in `npm test`.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { CONTRACT_IMAGE, contractTree, EPOCH, run, snapshot } from '../contract.case.test.js';
import { writeOutputs } from '../index.js';
import type { OciImageInfo } from '../types.js';
import { readLayout } from './oci-test-support.test.js';
import { startRegistry, type Registry } from '../../../test/support/registry/registry.js';

describe('push to a real registry and pull back by digest', { timeout: 120_000 }, () => {
  let work: string;
  let registry: Registry;
  let image: OciImageInfo;

  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'jeos-registry-'));
    registry = await startRegistry(join(work, 'registry'));
    const [result] = await writeOutputs(contractTree(), CONTRACT_IMAGE, ['oci'], { outDir: join(work, 'out'), sourceDateEpoch: EPOCH });
    image = result!.image!;
  });
  after(async () => {
    registry?.stop();
    await rm(work, { recursive: true, force: true });
  });

  test('skopeo copies the layout to docker-registry unchanged and back by digest', async () => {
    const repo = `docker://${registry.host}/jeos/test`;
    await run('skopeo', ['copy', '--quiet', '--preserve-digests', '--dest-tls-verify=false', `oci:${join(work, 'out', 'oci')}:contract:latest`, `${repo}:latest`]);

    const { stdout } = await run('skopeo', ['inspect', '--tls-verify=false', `${repo}:latest`]);
    const remote = JSON.parse(stdout) as { Digest: string; Layers: string[] };
    assert.equal(remote.Digest, image.manifestDigest, 'the registry serves our manifest, byte for byte');
    assert.deepEqual(remote.Layers, [image.layerDigest]);

    const raw = await run('skopeo', ['inspect', '--raw', '--tls-verify=false', `${repo}@${image.manifestDigest}`]);
    assert.equal(raw.stdout, (await readFile(join(work, 'out', 'oci', 'blobs', 'sha256', image.manifestDigest.slice(7)))).toString());

    const pulled = join(work, 'pulled');
    await run('skopeo', ['copy', '--quiet', '--src-tls-verify=false', `${repo}@${image.manifestDigest}`, `oci:${pulled}:pulled`]);
    const layout = await readLayout(pulled);
    assert.equal(layout.index.manifests[0]!.digest, image.manifestDigest);
    assert.equal(layout.index.manifests[0]!.annotations['org.opencontainers.image.ref.name'], 'pulled');
    const blobs = async (dir: string) => [...(await snapshot(join(dir, 'blobs')))].filter(([, h]) => h !== 'dir');
    assert.deepEqual(await blobs(pulled), await blobs(join(work, 'out', 'oci')), 'every blob comes back identical');
  });
});
