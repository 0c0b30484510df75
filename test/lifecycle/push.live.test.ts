// Live tier: a real build of examples/nginx (the real archive) pushed with jeos push to Debian's
// docker-registry on loopback, pulled back by digest with skopeo, and its SBOM found attached:
// the referrers tag lists an artefact whose subject is the image, which skopeo reads by digest,
// and whose layer is out/sbom.spdx.json byte for byte. (src/lifecycle/push/push.test.ts covers
// the refusals and breaks with a fixture image.)
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cp, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe } from 'node:test';
import { root, runProgram } from '../cli/harness.js';
import { runJeosLive, skippedEarlier, test } from '../live.js';
import { startRegistry, type Registry } from '../support/registry/registry.js';

const work = await mkdtemp(join(tmpdir(), 'jeos-push-live-'));
const cacheDir = process.env.JEOS_CACHE_DIR ?? join(work, 'cache');
const missing = ['docker-registry', 'skopeo'].filter((t) => spawnSync('sh', ['-c', `command -v ${t}`]).status !== 0);
const skip = missing.length > 0 && `missing ${missing.join(', ')} (apt-get install docker-registry skopeo)`;
const sha256 = (b: Buffer | string) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

async function skopeo(...args: string[]): Promise<string> {
  const r = await runProgram(['skopeo', ...args], { env: { ...process.env, HOME: work } });
  assert.equal(r.code, 0, `skopeo ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

describe('jeos push of a real build: pulled back by digest, its SBOM attached', { skip, timeout: 600_000 }, () => {
  let project: string;
  let registry: Registry;
  let record: any;
  let pushed: { digest: string; tags: string[]; pullRef: string; sbom: { digest: string } };

  before(async () => {
    project = join(work, 'nginx');
    await cp(join(root, 'examples/nginx'), project, { recursive: true });
    await rm(join(project, 'out'), { recursive: true, force: true });
    const yaml = await readFile(join(project, 'jeos.yaml'), 'utf8');
    await writeFile(join(project, 'jeos.yaml'), yaml.replace(/^outputs:.*$/m, 'outputs: [oci]'));
    registry = await startRegistry(join(work, 'registry'));
  });
  after(async () => {
    registry?.stop();
    await rm(work, { recursive: true, force: true });
  });

  test('jeos build, then jeos push --json: the digest printed is the build\'s manifest, every tag serves it', async () => {
    const built = await runJeosLive(cacheDir, 'build', project, '--quiet');
    assert.equal(built.code, 0, built.stderr);
    record = JSON.parse(await readFile(join(project, 'out/build.json'), 'utf8'));
    const oci = record.outputs.find((o: { format: string }) => o.format === 'oci');
    const r = await runJeosLive(cacheDir, 'push', project, `${registry.host}/jeos/nginx`, '--tls-verify=false', '--json');
    assert.equal(r.code, 0, r.stderr + r.stdout);
    pushed = JSON.parse(r.stdout);
    assert.equal(pushed.digest, oci.image.manifestDigest);
    assert.equal(pushed.pullRef, `${registry.host}/jeos/nginx@${pushed.digest}`);
    assert.ok(pushed.tags.length >= 1);
    for (const tag of pushed.tags) {
      const info = JSON.parse(await skopeo('inspect', '--tls-verify=false', `docker://${registry.host}/jeos/nginx:${tag}`));
      assert.equal(info.Digest, pushed.digest, `${tag} serves the pushed manifest`);
    }
  });

  test('skopeo pulls it by digest: the manifest hashes to the digest, the blobs are the build\'s byte for byte', async (t) => {
    if (skippedEarlier(t)) return;
    const raw = await skopeo('inspect', '--raw', '--tls-verify=false', `docker://${pushed.pullRef}`);
    assert.equal(sha256(raw), pushed.digest);
    const pulled = join(work, 'pulled');
    await skopeo('copy', '--quiet', '--src-tls-verify=false', `docker://${pushed.pullRef}`, `oci:${pulled}:pulled`);
    const blobs = async (dir: string) => (await readdir(join(dir, 'blobs/sha256'))).sort();
    const ours = await blobs(join(project, 'out/oci'));
    const theirs = await blobs(pulled);
    for (const b of theirs) assert.ok(ours.includes(b), `pulled blob ${b} is one the build wrote`);
    assert.ok(theirs.includes(pushed.digest.slice(7)), 'the manifest came back');
    const layers = JSON.parse(raw).layers as Array<{ digest: string }>;
    for (const l of layers) assert.ok(theirs.includes(l.digest.slice(7)), `layer ${l.digest} came back`);
  });

  test('the SBOM is attached: the referrers tag lists an SPDX artefact whose subject is the image; skopeo reads it by digest; its layer is out/sbom.spdx.json', async (t) => {
    if (skippedEarlier(t)) return;
    const referrers = JSON.parse(await skopeo('inspect', '--raw', '--tls-verify=false', `docker://${registry.host}/jeos/nginx:${pushed.digest.replace(':', '-')}`));
    const spdx = referrers.manifests.filter((m: { artifactType?: string }) => m.artifactType === 'application/spdx+json');
    assert.equal(spdx.length, 1, JSON.stringify(referrers));
    assert.equal(spdx[0].digest, pushed.sbom.digest);
    const artefactRaw = await skopeo('inspect', '--raw', '--tls-verify=false', `docker://${registry.host}/jeos/nginx@${pushed.sbom.digest}`);
    assert.equal(sha256(artefactRaw), pushed.sbom.digest);
    const artefact = JSON.parse(artefactRaw);
    assert.equal(artefact.subject.digest, pushed.digest);
    assert.equal(artefact.layers[0].mediaType, 'application/spdx+json');
    const sbom = await readFile(join(project, 'out/sbom.spdx.json'));
    assert.equal(artefact.layers[0].digest, sha256(sbom));
    const blob = Buffer.from(await (await fetch(`http://${registry.host}/v2/jeos/nginx/blobs/${artefact.layers[0].digest}`)).arrayBuffer());
    assert.ok(blob.equals(sbom), 'the registry serves the build\'s SBOM byte for byte');
    assert.equal(JSON.parse(blob.toString()).spdxVersion, 'SPDX-2.3');
  });
});
