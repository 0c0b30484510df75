/**
 * jeos test --container loads the OCI layout into podman's store under the image's own name
 * (it was localhost/latest:latest, or the path of a temporary link).
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { CONTRACT_IMAGE, contractTree, EPOCH } from '../outputs/contract.case.test.js';
import { writeOutputs } from '../outputs/index.js';
import { loadLayout } from './container.js';

const run = promisify(execFile);
const podmanImages = async () => (await run('podman', ['images', '--format', '{{.Repository}}:{{.Tag}}'])).stdout.trim().split('\n').filter(Boolean);

describe('loading the layout into podman', { timeout: 120_000 }, () => {
  let work: string;
  const loaded: string[] = [];

  before(async () => {
    // An upper-case path: podman refuses it in a name, jeos pulls through a lower-case link.
    work = await mkdtemp(join(tmpdir(), 'jeos-Container-'));
    await writeOutputs(contractTree(), { ...CONTRACT_IMAGE, name: `jeos-test/naming-${process.pid}`, tags: ['1.0', 'stable'] }, ['oci'], { outDir: join(work, 'out'), sourceDateEpoch: EPOCH });
  });
  after(async () => {
    for (const image of loaded) await run('podman', ['rmi', '-f', image]).catch(() => undefined);
    await rm(work, { recursive: true, force: true });
  });

  test('podman images shows NAME:TAG (the first tag, or the one asked for), and no temporary path', async () => {
    const first = await loadLayout(join(work, 'out', 'oci'));
    loaded.push(first.image);
    assert.equal(first.name, `jeos-test/naming-${process.pid}:1.0`);
    let names = await podmanImages();
    assert.ok(names.includes(`localhost/jeos-test/naming-${process.pid}:1.0`), names.join('\n'));
    assert.ok(!names.some((n) => n.includes('jeos-test-')), 'the link it was pulled through leaves no name');

    const second = await loadLayout(join(work, 'out', 'oci'), `jeos-test/naming-${process.pid}:stable`);
    assert.equal(second.image, first.image, 'the same image');
    names = await podmanImages();
    assert.ok(names.includes(`localhost/jeos-test/naming-${process.pid}:stable`), names.join('\n'));
  });
});
