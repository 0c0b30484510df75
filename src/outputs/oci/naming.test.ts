/**
 * Names, tags, annotations and the health check of the OCI layout and archive, read back
 * by skopeo, umoci and podman.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { CONTRACT_IMAGE, contractTree, EPOCH, run } from '../contract.case.test.js';
import { writeOutputs } from '../index.js';
import type { ImageSpec, OutputResult } from '../types.js';
import { extractArchive, readLayout } from './oci-test-support.test.js';

const NAMED: ImageSpec = {
  ...CONTRACT_IMAGE,
  name: 'registry.example.com:5000/team/contract',
  tags: ['1.2.3', 'stable'],
  labels: {
    'org.opencontainers.image.title': 'contract',
    'org.opencontainers.image.version': '1.2.3-1',
    'org.opencontainers.image.source': 'https://git.example.com/team/contract',
    'org.opencontainers.image.revision': '0123abcd',
    'org.opencontainers.image.licenses': 'MIT',
    'com.example.team': 'platform',
  },
  healthcheck: { test: ['CMD', '/usr/bin/ping', '-c1', '127.0.0.1'], startPeriod: 30 },
};
const REFS = ['registry.example.com:5000/team/contract:1.2.3', 'registry.example.com:5000/team/contract:stable'];

describe('image name, tags, annotations and health check', () => {
  let work: string;
  let outDir: string;
  let results: OutputResult[];

  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'jeos-oci-naming-'));
    outDir = join(work, 'out');
    results = await writeOutputs(contractTree(), NAMED, ['oci', 'oci-archive'], { outDir, sourceDateEpoch: EPOCH });
  });
  after(() => rm(work, { recursive: true, force: true }));

  test('index.json names the one manifest once per tag, NAME:TAG, for OCI tools and containerd alike', async () => {
    const { index } = await readLayout(join(outDir, 'oci'));
    assert.deepEqual(
      index.manifests.map((d) => d.annotations),
      REFS.map((ref) => ({ 'io.containerd.image.name': ref, 'org.opencontainers.image.ref.name': ref })),
    );
    assert.deepEqual(results[0]!.image!.refs, REFS);
    assert.equal(results[0]!.image!.ref, REFS[0]);
    const archived = await readLayout(await extractArchive(join(outDir, 'image.oci.tar'), join(work, 'archive')));
    assert.deepEqual(archived.index, index, 'the archive carries the same names');
  });

  test('the manifest carries the OCI annotations: created from SOURCE_DATE_EPOCH, and the labels that are OCI annotations', async () => {
    const { manifest, config } = await readLayout(join(outDir, 'oci'));
    assert.deepEqual(manifest.annotations, {
      'org.opencontainers.image.created': '2023-11-14T22:13:20Z',
      'org.opencontainers.image.licenses': 'MIT',
      'org.opencontainers.image.revision': '0123abcd',
      'org.opencontainers.image.source': 'https://git.example.com/team/contract',
      'org.opencontainers.image.title': 'contract',
      'org.opencontainers.image.version': '1.2.3-1',
    });
    assert.equal(config.created, manifest.annotations!['org.opencontainers.image.created']);
    assert.equal((config.config.Labels as Record<string, string>)['com.example.team'], 'platform', 'every label is in the config');
  });

  test("the config has Entrypoint, Cmd, User and Docker's Healthcheck (durations in nanoseconds)", async () => {
    const { config } = await readLayout(join(outDir, 'oci'));
    assert.deepEqual(config.config.Entrypoint, ['/usr/bin/ping']);
    assert.deepEqual(config.config.Cmd, ['127.0.0.1']);
    assert.equal(config.config.User, '33:33');
    assert.deepEqual(config.config.Healthcheck, { Test: ['CMD', '/usr/bin/ping', '-c1', '127.0.0.1'], StartPeriod: 30_000_000_000 });
  });

  test('skopeo and umoci find each tag by its name; skopeo shows the labels', async () => {
    for (const ref of REFS) {
      const { stdout } = await run('skopeo', ['inspect', `oci:${join(outDir, 'oci')}:${ref}`]);
      const info = JSON.parse(stdout) as { Digest: string; Labels: Record<string, string> };
      assert.equal(info.Digest, results[0]!.image!.manifestDigest, ref);
      assert.equal(info.Labels['org.opencontainers.image.revision'], '0123abcd');
    }
    const { stdout } = await run('umoci', ['ls', '--layout', join(outDir, 'oci')]);
    assert.deepEqual(stdout.trim().split('\n').sort(), [...REFS].sort());
  });

  test('podman loads a one-tag archive under NAME:TAG', async () => {
    const single = join(work, 'single');
    await writeOutputs(contractTree(), { ...NAMED, tags: ['1.2.3'] }, ['oci-archive'], { outDir: single, sourceDateEpoch: EPOCH });
    const store = join(tmpdir(), `jeos-podman-naming-${process.pid}`);
    const podman = (...args: string[]) =>
      run('podman', ['--root', join(store, 'root'), '--runroot', join(store, 'run'), '--storage-driver', 'vfs', ...args], { timeout: 120_000 });
    try {
      const loaded = await podman('load', '-q', '-i', join(single, 'image.oci.tar'));
      assert.match(loaded.stdout, new RegExp(`Loaded image: ${REFS[0]!.replace(/[.]/g, '[.]')}\\n`));
      const { stdout } = await podman('images', '--format', '{{.Repository}}:{{.Tag}}');
      assert.deepEqual(stdout.trim().split('\n'), [REFS[0]]);
    } finally {
      await podman('rmi', '-a', '-f').catch(() => undefined);
      await rm(store, { recursive: true, force: true }).catch(() => undefined);
    }
  });

  test('the layout and archive are the same bytes when built twice', async () => {
    const again = join(work, 'again');
    await writeOutputs(contractTree(), NAMED, ['oci', 'oci-archive'], { outDir: again, sourceDateEpoch: EPOCH });
    assert.ok((await readFile(join(again, 'image.oci.tar'))).equals(await readFile(join(outDir, 'image.oci.tar'))));
  });
});
