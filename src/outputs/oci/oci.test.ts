import assert from 'node:assert/strict';
import { cp, lstat, mkdtemp, readFile, readlink, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { JeosError } from '../../errors.js';
import { CONTRACT_IMAGE, contractTree, EPOCH, outputContract, run, snapshot } from '../contract.case.test.js';
import { writeOutputs } from '../index.js';
import type { OutputResult } from '../types.js';
import { extractArchive, layerTarOf, readLayout } from './oci-test-support.test.js';
import { ociArchiveWriter, ociWriter } from './writer.js';

outputContract('oci', {
  writer: ociWriter,
  rootfsTar: (outDir, result, scratch) => layerTarOf(join(outDir, 'oci'), result, scratch),
});

outputContract('oci-archive', {
  writer: ociArchiveWriter,
  rootfsTar: async (outDir, result, scratch) => layerTarOf(await extractArchive(join(outDir, 'image.oci.tar'), scratch), result, scratch),
});

async function rejectsWith(promise: Promise<unknown>, code: string, message?: RegExp): Promise<void> {
  await assert.rejects(promise, (e: unknown) => {
    assert.ok(e instanceof JeosError, `expected JeosError ${code}, got ${String((e as Error)?.stack ?? e)}`);
    assert.equal(e.code, code);
    if (message) assert.match(e.message, message);
    assert.ok(e.hint && e.hint.length > 10, `${code} has a hint`);
    return true;
  });
}

describe('OCI image layout and archive', () => {
  let work: string;
  let outDir: string;
  let results: OutputResult[];

  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'jeos-oci-'));
    outDir = join(work, 'out');
    results = await writeOutputs(contractTree(), CONTRACT_IMAGE, ['tar', 'oci', 'oci-archive'], { outDir, sourceDateEpoch: EPOCH });
  });
  after(() => rm(work, { recursive: true, force: true }));

  test('out/ holds rootfs.tar, oci/ and image.oci.tar; the layer is rootfs.tar, the archive is the layout', async () => {
    const snap = await snapshot(outDir);
    assert.deepEqual(
      [...snap.keys()].filter((k) => !k.includes('/')),
      ['image.oci.tar', 'oci', 'rootfs.tar'],
    );
    const layout = await readLayout(join(outDir, 'oci'));
    assert.ok(layout.layer.equals(await readFile(join(outDir, 'rootfs.tar'))));
    const fromArchive = await extractArchive(join(outDir, 'image.oci.tar'), join(work, 'archive'));
    assert.deepEqual(await snapshot(fromArchive), await snapshot(join(outDir, 'oci')));
    assert.deepEqual(results[1]!.image, results[2]!.image);
    const { stdout } = await run('tar', ['--numeric-owner', '-tvf', join(outDir, 'image.oci.tar')], { env: { ...process.env, TZ: 'UTC' } });
    assert.match(stdout, /^drwxr-xr-x 0\/0 +0 2023-11-14 22:13 blobs\/\n/);
    assert.match(stdout, /-rw-r--r-- 0\/0 +30 2023-11-14 22:13 oci-layout\n$/);
  });

  test('config, manifest and index say what the image spec says', async () => {
    const { index, manifest, config } = await readLayout(join(outDir, 'oci'));
    assert.deepEqual(index.manifests[0]!.annotations, { 'io.containerd.image.name': 'contract:latest', 'org.opencontainers.image.ref.name': 'contract:latest' });
    assert.deepEqual(manifest.annotations, { 'org.opencontainers.image.created': '2023-11-14T22:13:20Z', 'org.opencontainers.image.title': 'contract' });
    assert.deepEqual(index.manifests[0]!.platform, { architecture: 'amd64', os: 'linux' });
    assert.equal(index.manifests[0]!.mediaType, 'application/vnd.oci.image.manifest.v1+json');
    assert.equal(manifest.layers[0]!.mediaType, 'application/vnd.oci.image.layer.v1.tar+gzip');
    assert.equal(config.created, '2023-11-14T22:13:20Z');
    assert.equal(config.architecture, 'amd64');
    assert.equal(config.os, 'linux');
    assert.deepEqual(config.config, {
      User: '33:33',
      ExposedPorts: { '53/udp': {}, '80/tcp': {} },
      Env: ['PATH=/usr/sbin:/usr/bin', 'LANG=C.UTF-8'],
      Entrypoint: ['/usr/bin/ping'],
      Cmd: ['127.0.0.1'],
      WorkingDir: '/var/www',
      Labels: { 'org.opencontainers.image.title': 'contract' },
    });
    assert.equal(config.history.length, 1);
    assert.equal(config.history[0]!.created, config.created);
  });

  test('ARM images carry the variant; unknown architectures, bad tags, ports and workdirs fail before anything is written', async () => {
    const dir = join(work, 'arm');
    await writeOutputs(contractTree(), { ...CONTRACT_IMAGE, architecture: 'arm64', tags: ['v1.2'] }, ['oci'], { outDir: dir, sourceDateEpoch: EPOCH });
    const arm = await readLayout(join(dir, 'oci'));
    assert.deepEqual([arm.config.architecture, arm.config.variant], ['arm64', 'v8']);
    assert.deepEqual(arm.index.manifests[0]!.platform, { architecture: 'arm64', os: 'linux', variant: 'v8' });
    assert.equal(arm.index.manifests[0]!.annotations['org.opencontainers.image.ref.name'], 'contract:v1.2');
    const bad = join(work, 'bad');
    await rejectsWith(writeOutputs(contractTree(), { ...CONTRACT_IMAGE, architecture: 'pdp11' }, ['oci'], { outDir: bad, sourceDateEpoch: EPOCH }), 'E_OUTPUT_ARCH', /^output oci: .*pdp11/);
    await rejectsWith(writeOutputs(contractTree(), { ...CONTRACT_IMAGE, tags: ['no:colons'] }, ['oci'], { outDir: bad, sourceDateEpoch: EPOCH }), 'E_OUTPUT_IMAGE_SPEC', /tag/);
    await rejectsWith(writeOutputs(contractTree(), { ...CONTRACT_IMAGE, tags: ['a', 'a'] }, ['oci'], { outDir: bad, sourceDateEpoch: EPOCH }), 'E_OUTPUT_IMAGE_SPEC', /tag list/);
    await rejectsWith(writeOutputs(contractTree(), { ...CONTRACT_IMAGE, name: 'Upper/Case' }, ['oci'], { outDir: bad, sourceDateEpoch: EPOCH }), 'E_OUTPUT_IMAGE_SPEC', /image name/);
    await rejectsWith(writeOutputs(contractTree(), { ...CONTRACT_IMAGE, healthcheck: { test: ['curl', 'x'] } }, ['oci'], { outDir: bad, sourceDateEpoch: EPOCH }), 'E_OUTPUT_IMAGE_SPEC', /health check/);
    await rejectsWith(writeOutputs(contractTree(), { ...CONTRACT_IMAGE, exposedPorts: ['http'] }, ['oci'], { outDir: bad, sourceDateEpoch: EPOCH }), 'E_OUTPUT_IMAGE_SPEC', /port/);
    await rejectsWith(writeOutputs(contractTree(), { ...CONTRACT_IMAGE, workdir: 'srv' }, ['tar', 'oci-archive'], { outDir: bad, sourceDateEpoch: EPOCH }), 'E_OUTPUT_IMAGE_SPEC', /^output oci-archive: working directory/);
    await assert.rejects(lstat(bad), { code: 'ENOENT' }, 'checked before the output directory was even made');
  });

  test('skopeo inspects the layout and the archive', async () => {
    const image = results[1]!.image!;
    for (const ref of [`oci:${join(outDir, 'oci')}:contract:latest`, `oci-archive:${join(outDir, 'image.oci.tar')}:contract:latest`]) {
      const { stdout } = await run('skopeo', ['inspect', ref]);
      const info = JSON.parse(stdout) as { Digest: string; Architecture: string; Os: string; Layers: string[]; Labels: Record<string, string>; Env: string[] };
      assert.equal(info.Digest, image.manifestDigest, ref);
      assert.deepEqual([info.Architecture, info.Os], ['amd64', 'linux']);
      assert.deepEqual(info.Layers, [image.layerDigest]);
      assert.deepEqual(info.Labels, CONTRACT_IMAGE.labels);
      assert.deepEqual(info.Env, ['PATH=/usr/sbin:/usr/bin', 'LANG=C.UTF-8']);
    }
    const { stdout } = await run('skopeo', ['inspect', '--raw', `oci:${join(outDir, 'oci')}:contract:latest`]);
    assert.equal(stdout, (await readFile(join(outDir, 'oci', 'blobs', 'sha256', image.manifestDigest.slice(7)))).toString());
  });

  test('umoci unpacks it (rootless): files, links and the runtime config come out', async () => {
    const bundle = join(work, 'bundle');
    await run('umoci', ['unpack', '--rootless', '--image', `${join(outDir, 'oci')}:contract:latest`, bundle]);
    const rootfs = join(bundle, 'rootfs');
    assert.equal(await readFile(join(rootfs, 'etc/hostname'), 'utf8'), 'contract\n');
    assert.equal(await readFile(join(rootfs, 'var/www/index.html'), 'utf8'), '<h1>hello</h1>\n');
    assert.equal(await readlink(join(rootfs, 'bin')), 'usr/bin');
    assert.equal((await lstat(join(rootfs, 'usr/bin/a-link'))).ino, (await lstat(join(rootfs, 'usr/bin/z-target'))).ino);
    assert.equal((await lstat(join(rootfs, 'usr/bin/sudo'))).mode & 0o7777, 0o4755);
    assert.equal(await readFile(join(rootfs, 'usr/share/doc/café/naïve.txt'), 'utf8'), 'non-ASCII\n');
    const runtime = JSON.parse(await readFile(join(bundle, 'config.json'), 'utf8')) as { process: { args: string[]; cwd: string; env: string[]; user: { uid: number; gid: number } } };
    assert.deepEqual(runtime.process.args, ['/usr/bin/ping', '127.0.0.1']);
    assert.equal(runtime.process.cwd, '/var/www');
    assert.deepEqual([runtime.process.user.uid, runtime.process.user.gid], [33, 33]);
    assert.ok(runtime.process.env.includes('LANG=C.UTF-8'));
  });

  test('podman pulls the layout and loads the archive (in a private store)', async () => {
    // podman names an image pulled from `oci:DIR:tag` after DIR, which must then be lowercase.
    const store = join(tmpdir(), `jeos-podman-${process.pid}`);
    await cp(join(outDir, 'oci'), join(store, 'oci'), { recursive: true });
    const podman = (...args: string[]) =>
      run('podman', ['--root', join(store, 'root'), '--runroot', join(store, 'run'), '--storage-driver', 'vfs', ...args], { timeout: 120_000 });
    const image = results[1]!.image!;
    try {
      await podman('pull', '-q', `oci:${join(store, 'oci')}:contract:latest`);
      const { stdout } = await podman('image', 'inspect', '--format', '{{.Id}} {{.Digest}} {{.Architecture}}', image.configDigest.slice(7));
      assert.equal(stdout.trim(), `${image.configDigest.slice(7)} ${image.manifestDigest} amd64`);
      const loaded = await podman('load', '-q', '-i', join(outDir, 'image.oci.tar'));
      assert.match(loaded.stdout, /Loaded image: localhost\/contract:latest/, 'loaded under its name, not as localhost/latest:latest');
    } finally {
      await podman('rmi', '-a', '-f').catch(() => undefined);
      await rm(store, { recursive: true, force: true }).catch(() => undefined);
    }
  });
});
